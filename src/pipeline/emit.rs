//! Stage 6, emit: objects → YAML stream, JSON `List`, or one file per object, written with
//! the YAML-1.1-safe writer of [`crate::foundation::yaml::write`].

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::object::Object;
use crate::foundation::yaml::write::write_document;
pub use crate::foundation::yaml::write::yaml;

/// The multi-document YAML stream, each document preceded by `# Source: <template>`.
/// Runs of documents are written in parallel, each run into one growing buffer (not a
/// string per document), then the runs are joined in order.
pub fn yaml_stream(objects: &[Object]) -> String {
    join(objects.par_iter().fold(String::new, write_source).collect())
}

/// Append one object as a document of the stream: `---`, its `# Source:` line, then the
/// object.
pub fn document(object: &Object, out: &mut String) {
    out.push_str("---\n# Source: ");
    out.push_str(&object.source);
    out.push('\n');
    write_document(out, &object.value);
}

/// [`document`] for a fold over runs of documents.
fn write_source(mut out: String, object: &Object) -> String {
    document(object, &mut out);
    out
}

/// Texts joined in order, each freed once copied.
pub fn join(runs: Vec<String>) -> String {
    let mut text = String::with_capacity(runs.iter().map(String::len).sum());
    for run in runs {
        text.push_str(&run);
    }
    text
}

/// All objects as one `v1` `List`, pretty-printed JSON.
pub fn json_list(objects: &[Object]) -> String {
    let items: Vec<&Value> = objects.iter().map(|object| &object.value).collect();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
    text.push('\n');
    text
}

/// File name of the object at `index` in a one-file-per-object directory: the install
/// position first, so `ls` and `kubectl apply -f DIR` follow the install order.
pub fn file_name(index: usize, width: usize, object: &Object) -> String {
    let namespace = match object.namespace() {
        "" => String::new(),
        ns => format!("{ns}-"),
    };
    format!(
        "{index:0width$}-{}-{namespace}{}.yaml",
        object.kind().to_ascii_lowercase(),
        object.name()
    )
}

/// The files of a one-file-per-object directory, in order.
pub fn files(objects: &[Object]) -> Vec<(String, String)> {
    let width = objects.len().to_string().len().max(3);
    objects
        .iter()
        .enumerate()
        .map(|(i, object)| {
            let mut text = format!("# Source: {}\n", object.source);
            write_document(&mut text, &object.value);
            (file_name(i, width, object), text)
        })
        .collect()
}

/// Replace `dir` with a directory holding exactly `files`, atomically: the files are written
/// to a temporary sibling that is renamed into place, so a failure leaves `dir` untouched.
pub fn write_dir(dir: &Path, files: &[(String, String)]) -> Result<()> {
    let io = |path: &Path, err: std::io::Error| -> Diagnostics {
        Diagnostic::error(
            Code::Io,
            format!("cannot write the output directory: {err}"),
        )
        .at(Location::Path(path.display().to_string()))
        .into()
    };
    if let Some(stranger) = foreign_entry(dir) {
        return Err(Diagnostic::error(
            Code::Io,
            format!("refusing to replace the output directory: it holds `{stranger}`, which somagen did not write"),
        )
        .at(Location::Path(dir.display().to_string()))
        .hint("name a new or empty directory, or one that only holds a previous somagen output")
        .into());
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = tempfile_dir(&parent, &base).map_err(|err| io(dir, err))?;
    let write_all = || -> std::io::Result<()> {
        for (name, text) in files {
            let path = staging.join(name);
            // Names may hold subdirectories (`render --all-modes`: `<mode>/<file>`).
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(())
    };
    if let Err(err) = write_all() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io(dir, err));
    }
    let old = parent.join(format!(".{base}.somagen-old"));
    let _ = std::fs::remove_dir_all(&old);
    let had_old = dir.exists();
    if had_old && let Err(err) = std::fs::rename(dir, &old) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io(dir, err));
    }
    if let Err(err) = std::fs::rename(&staging, dir) {
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io(dir, err));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The first entry of an existing `dir` that a previous somagen output would not have:
/// replacing a directory deletes it, so only our own output may be replaced. A path that
/// exists but is not a directory is foreign itself.
fn foreign_entry(dir: &Path) -> Option<String> {
    if dir.exists() && !dir.is_dir() {
        return Some(dir.display().to_string());
    }
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let ours = if is_dir {
            foreign_entry(&entry.path()).is_none()
        } else {
            is_object_file_name(&name)
        };
        if !ours {
            return Some(name);
        }
    }
    None
}

/// `NNN-kind-name.yaml`, as [`file_name`] writes it.
fn is_object_file_name(name: &str) -> bool {
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    digits >= 3 && name[digits..].starts_with('-') && name.ends_with(".yaml")
}

fn tempfile_dir(parent: &Path, base: &str) -> std::io::Result<PathBuf> {
    let path = parent.join(format!(".{base}.somagen-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path)?;
    Ok(path)
}

/// Replace one file atomically: write a temporary sibling, then rename it into place.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.somagen-tmp-{}", std::process::id()));
    std::fs::write(&tmp, contents).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
