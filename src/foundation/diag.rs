//! Diagnostics: every problem somagen reports is a [`Diagnostic`] carrying a stage code,
//! a location, the value or field path it concerns, a message and, where one helps, a hint.
//! Errors are values; only the CLI prints them.

use std::fmt;
use std::sync::Arc;

/// Where a problem was found: a file position, or a command-line flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A position in a file of the stack (path relative to the stack root), 1-based. The
    /// name is shared: a values file gives every one of its nodes a location.
    File {
        file: Arc<str>,
        line: usize,
        col: usize,
    },
    /// A file of the stack without a known position.
    Path(String),
    /// A command-line flag such as `--set postgres.replicas=3`.
    Flag(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { file, line, col } => write!(f, "{file}:{line}:{col}"),
            Location::Path(file) => f.write_str(file),
            Location::Flag(flag) => f.write_str(flag),
        }
    }
}

/// How serious a diagnostic is: errors exit 2, findings exit 1, notes (e.g. waived lint
/// findings) are printed but do not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// What reports a problem: a stage of the pipeline, a command, or a lint rule. Printed in
/// brackets (`error[schema]`) and in `--format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A command line that cannot work (missing stack directory, conflicting inputs).
    Usage,
    /// A file or directory that cannot be read or written.
    Io,
    /// `stack.yaml` or the stack's layout.
    Stack,
    /// A values file that is not valid YAML.
    Yaml,
    /// Values that cannot be merged or represented.
    Values,
    /// A `--set`-style flag.
    Set,
    /// The values schema, or a value it refuses.
    Schema,
    /// A template that fails to render.
    Template,
    /// A rendered document that is not a valid Kubernetes object.
    Manifest,
    /// The env contract (`somagen env`).
    Env,
    /// Reading a stack at a git revision.
    Git,
    /// A malformed lint annotation.
    Lint,
    /// A difference found by `diff`.
    Diff,
    /// A stale or missing golden file.
    Golden,
    /// Talking to a cluster (kubectl, ownership labels).
    Cluster,
    /// Changes `plan` found.
    Plan,
    /// Drift `drift` found.
    Drift,
    /// Objects not ready when `apply --wait` timed out.
    Wait,
    /// A finding of a lint rule (its id), or `unused-value`.
    Rule(&'static str),
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Usage => "usage",
            Code::Io => "io",
            Code::Stack => "stack",
            Code::Yaml => "yaml",
            Code::Values => "values",
            Code::Set => "set",
            Code::Schema => "schema",
            Code::Template => "template",
            Code::Manifest => "manifest",
            Code::Env => "env",
            Code::Git => "git",
            Code::Lint => "lint",
            Code::Diff => "diff",
            Code::Golden => "golden",
            Code::Cluster => "cluster",
            Code::Plan => "plan",
            Code::Drift => "drift",
            Code::Wait => "wait",
            Code::Rule(id) => id,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem, reported on one line (plus an optional hint line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub location: Option<Location>,
    /// The value path (`postgres.replicas`) or object/field path the problem concerns.
    pub path: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error of stage `code` with a message and nothing else yet.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            location: None,
            path: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A finding (exit 1) of rule `code`.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Information that does not fail a command (exit 0).
    pub fn note(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn at_opt(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl Diagnostic {
    /// The diagnostic as one JSON object, the shape of `--message-format json`:
    /// `{"severity", "code", "location", "path", "message", "hint"}`, where `location` is
    /// `{"file", "line", "column"}`, `{"file"}`, `{"flag"}` or null.
    pub fn to_json(&self) -> serde_json::Value {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let location = self.location.as_ref().map(|location| match location {
            Location::File { file, line, col } => {
                serde_json::json!({"file": &**file, "line": line, "column": col})
            }
            Location::Path(file) => serde_json::json!({"file": file}),
            Location::Flag(flag) => serde_json::json!({"flag": flag}),
        });
        serde_json::json!({
            "severity": severity,
            "code": self.code.as_str(),
            "location": location,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(f, "{level}[{}]: ", self.code)?;
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// All the problems of one stage: a failed stage reports every problem at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn one(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics::one(diagnostic)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The result type of every pipeline stage.
pub type Result<T, E = Diagnostics> = std::result::Result<T, E>;

/// Every value, or else every diagnostic of every failure: how a stage that works on many
/// independent pieces (layers, documents, modes) reports all of its problems at once.
pub fn collect<T>(results: impl IntoIterator<Item = Result<T>>) -> Result<Vec<T>> {
    let mut values = Vec::new();
    let mut diagnostics = Vec::new();
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(Diagnostics(mut list)) => diagnostics.append(&mut list),
        }
    }
    finish(values, diagnostics)
}

/// `value` when no diagnostic was collected, else all of them.
pub fn finish<T>(value: T, diagnostics: Vec<Diagnostic>) -> Result<T> {
    if diagnostics.is_empty() {
        Ok(value)
    } else {
        Err(Diagnostics(diagnostics))
    }
}

/// What kind of value this is ("a list", "a string"...), for messages that must not show
/// the value itself. One wording for the whole tool, shared with the typed checks.
pub use somagen_kube::describe;
