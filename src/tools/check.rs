//! `somagen check`: the pre-commit and CI gate. For every mode, in parallel: render,
//! validate, lint, report unused values, and compare with `golden/<mode>.yaml`.

use rayon::prelude::*;

use crate::UserValues;
use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::pipeline::emit;
use crate::pipeline::stack::Stack;
use crate::tools::golden::{self, golden_path};
use crate::tools::lint::{self, Finding};
use crate::tools::{modes, text_diff};

/// How a mode's golden file compares with its render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Golden {
    Fresh,
    Missing,
    /// The unified diff from the golden file to the render (plain text), and its line counts.
    Stale {
        diff: String,
        added: usize,
        removed: usize,
    },
}

/// The outcome of one mode.
#[derive(Debug, Clone)]
pub struct ModeCheck {
    pub mode: String,
    pub findings: Vec<Finding>,
    pub golden: Golden,
}

impl ModeCheck {
    pub fn passed(&self) -> bool {
        !lint::fails(&self.findings) && self.golden == Golden::Fresh
    }
}

/// The outcome of `check`: one entry per mode, in the stack's order, and golden files that
/// belong to no mode.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub modes: Vec<ModeCheck>,
    pub orphans: Vec<String>,
}

/// Check every mode of a stack directory. Errors (a mode that does not render, a malformed
/// waiver) fail the whole check; findings and stale golden files are in the report.
pub fn check(stack: &Stack) -> Result<CheckReport> {
    let root = stack.root_dir("check")?;
    let modes = &stack.meta.modes;
    let render = crate::mode_renderer(stack);
    let results: Vec<(String, Result<ModeCheck>)> = modes
        .par_iter()
        .map(|mode| {
            let result = (|| {
                let rendered = render(mode, &UserValues::default())?;
                let findings = lint::lint_rendered(&rendered, mode, &stack.meta)?;
                let text = emit::yaml_stream(&rendered.objects);
                let golden = match golden::read(root, mode)? {
                    None => Golden::Missing,
                    Some(old) if old == text => Golden::Fresh,
                    Some(old) => stale(&old, &text, mode),
                };
                Ok(ModeCheck {
                    mode: mode.clone(),
                    findings,
                    golden,
                })
            })();
            (mode.clone(), result)
        })
        .collect();
    let mut checks = Vec::new();
    let mut errors = Vec::new();
    for (mode, result) in results {
        match result {
            Ok(check) => checks.push(check),
            Err(Diagnostics(list)) => errors.push((mode, list)),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(modes::tag_modes(errors, modes.len())));
    }
    Ok(CheckReport {
        modes: checks,
        orphans: golden::orphans(root, modes)?,
    })
}

fn stale(old: &str, new: &str, mode: &str) -> Golden {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let text = text_diff::unified(
        old,
        new,
        &golden_path(mode),
        &format!("somagen render --mode {mode}"),
        false,
    );
    Golden::Stale {
        diff: text,
        added,
        removed,
    }
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.orphans.is_empty() && self.modes.iter().all(ModeCheck::passed)
    }

    /// The report for stdout: one line per mode, then the diff of every stale golden file.
    pub fn summary(&self, color: bool) -> String {
        let width = self.modes.iter().map(|m| m.mode.len()).max().unwrap_or(0);
        let mut out = String::new();
        for check in &self.modes {
            let failing = check.findings.iter().filter(|f| f.waived.is_none()).count();
            let waived = check.findings.len() - failing;
            let mut parts = Vec::new();
            if failing > 0 {
                parts.push(format!("{failing} finding{}", plural(failing)));
            }
            match &check.golden {
                Golden::Fresh => {}
                Golden::Missing => parts.push(format!("{} is missing", golden_path(&check.mode))),
                Golden::Stale { added, removed, .. } => {
                    parts.push(format!(
                        "{} is stale (+{added} -{removed} lines)",
                        golden_path(&check.mode)
                    ));
                }
            }
            if parts.is_empty() {
                parts.push("ok".to_owned());
            }
            if waived > 0 {
                parts.push(format!("{waived} waived"));
            }
            out.push_str(&format!("{:width$}  {}\n", check.mode, parts.join(", ")));
        }
        for orphan in &self.orphans {
            out.push_str(&format!("{orphan} belongs to no mode\n"));
        }
        let failed = self.modes.iter().filter(|m| !m.passed()).count();
        if self.passed() {
            out.push_str(&format!("check passed: {} modes\n", self.modes.len()));
        } else {
            out.push_str(&format!(
                "check failed: {failed} of {} modes\n",
                self.modes.len()
            ));
        }
        for check in &self.modes {
            if let Golden::Stale { diff, .. } = &check.golden {
                out.push('\n');
                if color {
                    out.push_str(&text_diff::colorize(diff));
                } else {
                    out.push_str(diff);
                }
            }
        }
        out
    }

    /// The findings for stderr: lint findings and unused values (each once, tagged with the
    /// modes it occurs in), waived findings as notes, and stale or missing golden files.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let per_mode = self
            .modes
            .iter()
            .map(|check| {
                (
                    check.mode.clone(),
                    check.findings.iter().map(Finding::diagnostic).collect(),
                )
            })
            .collect();
        let mut diagnostics = modes::tag_modes(per_mode, self.modes.len());
        for check in &self.modes {
            let rel = golden_path(&check.mode);
            let (message, hint) = match &check.golden {
                Golden::Fresh => continue,
                Golden::Missing => (
                    "the golden file is missing".to_owned(),
                    "run `somagen golden` and commit the file",
                ),
                Golden::Stale { .. } => (
                    format!(
                        "the golden file differs from `somagen render --mode {}`",
                        check.mode
                    ),
                    "review the diff on stdout, then run `somagen golden` and commit the result",
                ),
            };
            diagnostics.push(
                Diagnostic::warning(Code::Golden, message)
                    .at(Location::Path(rel))
                    .hint(hint),
            );
        }
        for orphan in &self.orphans {
            diagnostics.push(
                Diagnostic::warning(
                    Code::Golden,
                    "the golden file of a mode the stack does not have",
                )
                .at(Location::Path(orphan.clone()))
                .hint("`somagen golden` removes it"),
            );
        }
        diagnostics
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
