//! Golden files and multi-mode renders.
//!
//! `golden/<mode>.yaml` is the committed, byte-exact output of `somagen render --mode <mode>`
//! for every mode of a stack directory. [`update`] rewrites them (all modes render first; if
//! any mode fails, nothing is written); `check` compares them.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rayon::prelude::*;

use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::stack::{Origin, Stack};
use crate::{Rendered, UserValues, emit};

/// The directory of golden files, relative to the stack root.
pub const GOLDEN_DIR: &str = "golden";

/// `golden/<mode>.yaml`.
pub fn golden_path(mode: &str) -> String {
    format!("{GOLDEN_DIR}/{mode}.yaml")
}

/// Render `modes` in parallel. All or nothing: if any mode fails, the result is the errors of
/// every failed mode, each tagged with its modes (identical errors are reported once).
pub fn render_modes(
    stack: &Stack,
    modes: &[String],
    user: &UserValues,
) -> Result<Vec<(String, Rendered)>> {
    let results: Vec<(String, Result<Rendered>)> = modes
        .par_iter()
        .map(|mode| (mode.clone(), crate::render(stack, mode, user)))
        .collect();
    let mut rendered = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for (mode, result) in results {
        match result {
            Ok(output) => rendered.push((mode, output)),
            Err(Diagnostics(list)) => errors.push((mode, list)),
        }
    }
    if errors.is_empty() {
        Ok(rendered)
    } else {
        Err(Diagnostics(tag_modes(errors, modes.len())))
    }
}

/// Every mode rendered into one-file-per-object directories: `(<mode>/<file>, text)`, ready
/// for [`emit::write_dir`] (the rendered-manifests layout GitOps repositories commit).
pub fn all_modes_files(stack: &Stack, user: &UserValues) -> Result<Vec<(String, String)>> {
    let rendered = render_modes(stack, &stack.meta.modes, user)?;
    Ok(rendered
        .iter()
        .flat_map(|(mode, output)| {
            emit::files(&output.objects)
                .into_iter()
                .map(move |(name, text)| (format!("{mode}/{name}"), text))
        })
        .collect())
}

/// Merge the diagnostics of several modes: a diagnostic found in several modes is reported
/// once, its message suffixed with the modes it concerns (`[modes: dev, prod]`, or
/// `[all modes]`). With a single mode in the stack, nothing is added.
pub fn tag_modes(per_mode: Vec<(String, Vec<Diagnostic>)>, total_modes: usize) -> Vec<Diagnostic> {
    let mut merged: IndexMap<Diagnostic, Vec<String>> = IndexMap::new();
    for (mode, diagnostics) in per_mode {
        for diagnostic in diagnostics {
            let modes = merged.entry(diagnostic).or_default();
            if !modes.contains(&mode) {
                modes.push(mode.clone());
            }
        }
    }
    merged
        .into_iter()
        .map(|(mut diagnostic, modes)| {
            if total_modes > 1 {
                let tag = match modes.len() {
                    n if n == total_modes => "[all modes]".to_owned(),
                    1 => format!("[mode: {}]", modes[0]),
                    _ => format!("[modes: {}]", modes.join(", ")),
                };
                diagnostic.message = format!("{} {tag}", diagnostic.message);
            }
            diagnostic
        })
        .collect()
}

/// The directory of a stack read from disk; golden files live there.
pub fn stack_root<'a>(stack: &'a Stack, command: &str) -> Result<&'a Path> {
    match &stack.origin {
        Origin::Dir(dir) => Ok(dir),
        _ => Err(Diagnostic::error(
            "usage",
            format!(
                "`somagen {command}` needs a stack directory, but the stack is {}",
                stack.describe()
            ),
        )
        .hint("run it inside a stack directory (one holding stack.yaml), or pass --stack DIR")
        .into()),
    }
}

/// The current contents of `golden/<mode>.yaml`, or None when it does not exist.
pub fn read(root: &Path, mode: &str) -> Result<Option<String>> {
    let rel = golden_path(mode);
    match std::fs::read_to_string(root.join(&rel)) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(
            Diagnostic::error("io", format!("cannot read the golden file: {err}"))
                .at(Location::Path(rel))
                .into(),
        ),
    }
}

/// Golden files (`golden/*.yaml`) that belong to no mode of the stack, sorted.
pub fn orphans(root: &Path, modes: &[String]) -> Result<Vec<String>> {
    let dir = root.join(GOLDEN_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(Diagnostic::error(
                "io",
                format!("cannot read the golden directory: {err}"),
            )
            .at(Location::Path(GOLDEN_DIR.to_owned()))
            .into());
        }
    };
    let mut orphans: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_owned))
        .filter(|mode| !modes.contains(mode))
        .map(|mode| golden_path(&mode))
        .collect();
    orphans.sort();
    Ok(orphans)
}

/// What [`update`] did to one golden file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
    /// The golden file of a mode the stack no longer has.
    Removed,
}

/// Re-render every mode into `golden/<mode>.yaml`. All modes render first; if any fails,
/// nothing is written. Changed files are staged as temporary siblings and then renamed into
/// place; golden files of modes the stack no longer has are removed.
pub fn update(stack: &Stack) -> Result<Vec<(String, Change)>> {
    let root = stack_root(stack, "golden")?;
    let rendered = render_modes(stack, &stack.meta.modes, &UserValues::default())?;
    let io = |rel: &str, err: std::io::Error| -> Diagnostics {
        Diagnostic::error("io", format!("cannot write the golden file: {err}"))
            .at(Location::Path(rel.to_owned()))
            .into()
    };
    std::fs::create_dir_all(root.join(GOLDEN_DIR)).map_err(|err| io(GOLDEN_DIR, err))?;
    let mut plan = Vec::new();
    for (mode, output) in &rendered {
        let text = emit::yaml_stream(&output.objects);
        let change = match read(root, mode)? {
            None => Change::Created,
            Some(old) if old == text => Change::Unchanged,
            Some(_) => Change::Updated,
        };
        plan.push((golden_path(mode), change, text));
    }
    let orphans = orphans(root, &stack.meta.modes)?;
    // Stage every changed file, then rename them all: a failure while staging writes nothing.
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (rel, change, text) in &plan {
        if *change == Change::Unchanged {
            continue;
        }
        let target = root.join(rel);
        let tmp = root.join(format!(
            "{GOLDEN_DIR}/.{}.somagen-tmp-{}",
            rel.trim_start_matches("golden/"),
            std::process::id()
        ));
        if let Err(err) = std::fs::write(&tmp, text) {
            let _ = std::fs::remove_file(&tmp);
            for (tmp, _) in &staged {
                let _ = std::fs::remove_file(tmp);
            }
            return Err(io(rel, err));
        }
        staged.push((tmp, target));
    }
    for (tmp, target) in &staged {
        std::fs::rename(tmp, target).map_err(|err| io(&target.display().to_string(), err))?;
    }
    for rel in &orphans {
        std::fs::remove_file(root.join(rel)).map_err(|err| io(rel, err))?;
    }
    let mut changes: Vec<(String, Change)> = plan
        .into_iter()
        .map(|(rel, change, _)| (rel, change))
        .collect();
    changes.extend(orphans.into_iter().map(|rel| (rel, Change::Removed)));
    Ok(changes)
}

/// One line per golden file: `updated golden/prod.yaml`.
pub fn describe(changes: &[(String, Change)]) -> String {
    changes
        .iter()
        .map(|(rel, change)| {
            let verb = match change {
                Change::Created => "created",
                Change::Updated => "updated",
                Change::Unchanged => "unchanged",
                Change::Removed => "removed",
            };
            format!("{verb} {rel}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_diagnostics_merge_with_their_modes() {
        let a = Diagnostic::error("x", "same");
        let b = Diagnostic::error("x", "only prod");
        let merged = tag_modes(
            vec![
                ("dev".into(), vec![a.clone()]),
                ("test".into(), vec![a.clone()]),
                ("prod".into(), vec![a.clone(), b]),
            ],
            3,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].message, "same [all modes]");
        assert_eq!(merged[1].message, "only prod [mode: prod]");
        let merged = tag_modes(
            vec![
                ("dev".into(), vec![a.clone()]),
                ("prod".into(), vec![a.clone()]),
            ],
            3,
        );
        assert_eq!(merged[0].message, "same [modes: dev, prod]");
        assert_eq!(
            tag_modes(vec![("dev".into(), vec![a])], 1)[0].message,
            "same"
        );
    }
}
