//! Golden files and multi-mode renders.
//!
//! `golden/<mode>.yaml` is the committed, byte-exact output of `somagen render --mode <mode>`
//! for every mode of a stack directory. [`update`] rewrites them (all modes render first; if
//! any mode fails, nothing is written); `check` compares them.

use std::path::{Path, PathBuf};

use crate::UserValues;
use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::pipeline::emit;
use crate::pipeline::stack::Stack;
use crate::tools::modes;

/// The directory of golden files, relative to the stack root.
pub const GOLDEN_DIR: &str = "golden";

/// `golden/<mode>.yaml`.
pub fn golden_path(mode: &str) -> String {
    format!("{GOLDEN_DIR}/{mode}.yaml")
}

/// The current contents of `golden/<mode>.yaml`, or None when it does not exist.
pub fn read(root: &Path, mode: &str) -> Result<Option<String>> {
    let rel = golden_path(mode);
    match std::fs::read_to_string(root.join(&rel)) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(
            Diagnostic::error(Code::Io, format!("cannot read the golden file: {err}"))
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
                Code::Io,
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
    let root = stack.root_dir("golden")?;
    let rendered = modes::render_modes(stack, &stack.meta.modes, &UserValues::default())?;
    let io = |rel: &str, err: std::io::Error| -> Diagnostics {
        Diagnostic::error(Code::Io, format!("cannot write the golden file: {err}"))
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
