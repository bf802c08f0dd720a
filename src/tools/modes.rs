//! Every mode of a stack at once: the one multi-mode renderer of `check`, `golden`,
//! `package` and `render --all-modes`, with one way of reporting a failure.

use indexmap::IndexMap;
use rayon::prelude::*;

#[cfg(test)]
use crate::foundation::diag::Code;
use crate::foundation::diag::{Diagnostic, Diagnostics, Result};
use crate::pipeline::emit;
use crate::pipeline::stack::Stack;
use crate::{Rendered, UserValues};

/// Render `modes` in parallel, all or nothing.
pub fn render_modes(
    stack: &Stack,
    modes: &[String],
    user: &UserValues,
) -> Result<Vec<(String, Rendered)>> {
    let render = crate::mode_renderer(stack);
    for_each_mode(modes, |mode| render(mode, user))
}

/// Run `work` on every mode, in parallel. All or nothing: if any mode fails, the result is
/// the errors of every failed mode, each tagged with its modes (identical errors are
/// reported once).
pub fn for_each_mode<T: Send>(
    modes: &[String],
    work: impl Fn(&str) -> Result<T> + Sync,
) -> Result<Vec<(String, T)>> {
    let results: Vec<(String, Result<T>)> = modes
        .par_iter()
        .map(|mode| (mode.clone(), work(mode)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_diagnostics_merge_with_their_modes() {
        let a = Diagnostic::error(Code::Stack, "same");
        let b = Diagnostic::error(Code::Stack, "only prod");
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
