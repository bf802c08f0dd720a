//! The cluster client: `kubectl`, run as a subprocess.
//!
//! kubectl reads the kubeconfig, picks the context, runs exec-based credential plugins,
//! refreshes tokens and talks to the API server exactly as the user's own kubectl does;
//! somagen only passes `--context` and `--kubeconfig` through and reads JSON back. Objects
//! go in on stdin as one `v1` `List`.

use std::ffi::OsString;
use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Result};
use crate::foundation::object::Object;
use crate::pipeline::emit;

/// Which kubectl to run, and against which cluster.
#[derive(Debug, Clone)]
pub struct Kubectl {
    /// The program (`kubectl` on `PATH` unless told otherwise).
    pub program: OsString,
    /// `--context`, passed through.
    pub context: Option<String>,
    /// `--kubeconfig`, passed through.
    pub kubeconfig: Option<OsString>,
}

/// What a kubectl run printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    /// Run kubectl with `args`, feeding `stdin` if given. An error only when kubectl cannot
    /// be started; a failing kubectl is an [`Output`] with `success: false`.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<Output> {
        let mut command = Command::new(&self.program);
        if let Some(kubeconfig) = &self.kubeconfig {
            command.arg("--kubeconfig").arg(kubeconfig);
        }
        if let Some(context) = &self.context {
            command.arg("--context").arg(context);
        }
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let program = self.program.to_string_lossy().into_owned();
        let mut child = command.spawn().map_err(|err| {
            Diagnostics::from(
                Diagnostic::error(Code::Cluster, format!("cannot run `{program}`: {err}"))
                    .hint("install kubectl (1.27 or later), or pass --kubectl PATH"),
            )
        })?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // kubectl reads all of stdin before it starts; a write error shows as its exit.
            let _ = pipe.write_all(text.as_bytes());
        }
        let output = child.wait_with_output().map_err(|err| {
            Diagnostics::from(Diagnostic::error(
                Code::Cluster,
                format!("`{program}` failed: {err}"),
            ))
        })?;
        Ok(Output {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Run kubectl and require success; the error names what was being done and quotes
    /// kubectl's own message.
    pub fn ok(&self, what: &str, args: &[&str], stdin: Option<&str>) -> Result<String> {
        let output = self.run(args, stdin)?;
        if output.success {
            Ok(output.stdout)
        } else {
            Err(failure(what, &output.stderr).into())
        }
    }

    /// Like [`Kubectl::ok`], also returning the `Warning:` lines the API server sent.
    pub fn ok_warned(
        &self,
        what: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<(String, Vec<String>)> {
        let output = self.run(args, stdin)?;
        if output.success {
            let warnings = output
                .stderr
                .lines()
                .filter_map(|line| line.strip_prefix("Warning: "))
                .map(str::to_owned)
                .collect();
            Ok((output.stdout, warnings))
        } else {
            Err(failure(what, &output.stderr).into())
        }
    }

    /// Run kubectl for JSON output and return the objects it printed: the items of a
    /// `List`, a single object, or none for empty output.
    pub fn objects(&self, what: &str, args: &[&str], stdin: Option<&str>) -> Result<Vec<Value>> {
        let stdout = self.ok(what, args, stdin)?;
        parse_objects(what, &stdout)
    }
}

/// The objects of kubectl's JSON output.
pub fn parse_objects(what: &str, stdout: &str) -> Result<Vec<Value>> {
    if stdout.trim().is_empty() {
        return Ok(vec![]);
    }
    let value: Value = serde_json::from_str(stdout).map_err(|err| {
        Diagnostics::from(Diagnostic::error(
            Code::Cluster,
            format!("{what}: kubectl printed something that is not JSON: {err}"),
        ))
    })?;
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"));
    Ok(match value {
        Value::Object(mut map) if is_list => match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => vec![],
        },
        other => vec![other],
    })
}

/// Objects as the stdin of `kubectl ... -f -`.
pub fn stdin_of(objects: &[&Object]) -> String {
    let owned: Vec<Object> = objects.iter().map(|object| (*object).clone()).collect();
    emit::json_list(&owned)
}

/// A kubectl failure as one diagnostic: what was being done, and kubectl's message (its
/// first lines; the server-side apply conflict help text is dropped).
pub fn failure(what: &str, stderr: &str) -> Diagnostic {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .filter(|line| {
            !(line.starts_with("Please review")
                || line.starts_with("are the ways")
                || line.starts_with("* ")
                || line.starts_with("  ")
                || line.starts_with(
                    "See https://kubernetes.io/docs/reference/using-api/server-side-apply",
                ))
        })
        .take(8)
        .collect();
    let message = if lines.is_empty() {
        "kubectl failed without a message".to_owned()
    } else {
        lines.join("; ")
    };
    let hint = if message.contains("no matches for kind")
        || message.contains("resource mapping not found")
    {
        "the cluster does not serve this kind: install its CustomResourceDefinition first"
    } else if message.contains("connection refused")
        || message.contains("no such host")
        || message.contains("i/o timeout")
    {
        "is the cluster reachable? check --context and --kubeconfig (`kubectl cluster-info`)"
    } else {
        "somagen talks to the cluster through kubectl; the message above is kubectl's"
    };
    Diagnostic::error(Code::Cluster, format!("{what}: {message}")).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_single_objects_and_nothing() {
        let list = r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"A"},{"kind":"B"}]}"#;
        assert_eq!(parse_objects("x", list).unwrap().len(), 2);
        assert_eq!(
            parse_objects("x", r#"{"kind":"ConfigMap"}"#).unwrap().len(),
            1
        );
        assert!(parse_objects("x", "  \n").unwrap().is_empty());
        assert!(parse_objects("x", "nope").is_err());
    }

    #[test]
    fn failures_keep_the_message_and_drop_the_conflict_help() {
        let stderr = "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas\n\
            Please review the fields above--they currently have other managers. Here\n\
            are the ways you can resolve this warning:\n\
            * If you intend to manage all of these fields, please re-run\n";
        let diagnostic = failure("apply", stderr);
        assert_eq!(
            diagnostic.message,
            "apply: Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        let missing = failure("get", "error: resource mapping not found for name: \"x\"");
        assert!(missing.hint.unwrap().contains("CustomResourceDefinition"));
    }

    #[test]
    fn a_missing_program_is_an_error_with_a_hint() {
        let kubectl = Kubectl {
            program: "/nonexistent/kubectl".into(),
            context: None,
            kubeconfig: None,
        };
        let err = kubectl.run(&["version"], None).unwrap_err();
        assert!(
            err.0[0]
                .message
                .contains("cannot run `/nonexistent/kubectl`")
        );
        assert!(err.0[0].hint.as_deref().unwrap().contains("--kubectl"));
    }
}
