//! Resource-level diffs of two sets of objects, by identity (kind, namespace, name).
//!
//! Objects are compared parsed, so document order, key order, quoting and indentation are
//! not differences. Fields the API server sets (`status`, `metadata.uid`,
//! `resourceVersion`, `managedFields`, ...) are ignored, so a cluster dump compares too.
//! Changed objects are shown as a unified diff of their YAML, the old side's keys put in the
//! new side's order. The `data` and `stringData` of Secrets are redacted unless asked:
//! key names stay, and a changed value shows a short sha256 of each side instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::foundation::diag;
use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::object::{self, Identity, Object, order};
use crate::tools::text_diff;

/// What changed between two sets of objects.
#[derive(Debug, Clone, Default)]
pub struct ObjectDiff {
    pub added: Vec<Identity>,
    pub removed: Vec<Identity>,
    pub changed: Vec<Changed>,
}

/// One object present on both sides with different contents, as YAML (already redacted).
#[derive(Debug, Clone)]
pub struct Changed {
    pub identity: Identity,
    pub old: String,
    pub new: String,
}

/// How to print a diff.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the list of objects and the counts.
    pub stat: bool,
    /// ANSI colours (the CLI decides: a terminal, and NO_COLOR unset).
    pub color: bool,
    /// What the old and new sides are, e.g. `revision origin/main` and `mode prod`.
    pub old_label: String,
    pub new_label: String,
}

impl ObjectDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// `1 added, 0 removed, 2 changed`.
    pub fn counts(&self) -> String {
        format!(
            "{} added, {} removed, {} changed",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )
    }

    /// The report: one line per differing object in install order, the counts, then (unless
    /// `stat`) a unified diff per changed object. Empty when there is no difference.
    pub fn render(&self, options: &Options) -> String {
        if self.is_empty() {
            return String::new();
        }
        let paint = |style: Style, text: &str| {
            if options.color {
                format!("{style}{text}{style:#}")
            } else {
                text.to_owned()
            }
        };
        let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
        let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
        let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
        let mut lines: Vec<(&Identity, String)> = Vec::new();
        lines.extend(
            self.added
                .iter()
                .map(|id| (id, paint(green, &format!("+ added    {id}")))),
        );
        lines.extend(
            self.removed
                .iter()
                .map(|id| (id, paint(red, &format!("- removed  {id}")))),
        );
        lines.extend(self.changed.iter().map(|c| {
            (
                &c.identity,
                paint(yellow, &format!("~ changed  {}", c.identity)),
            )
        }));
        lines.sort_by(|a, b| install_key(a.0).cmp(&install_key(b.0)));
        let mut out = String::new();
        for (_, line) in lines {
            out.push_str(&line);
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} -> {}: {}",
            options.old_label,
            options.new_label,
            self.counts()
        );
        if !options.stat {
            for changed in &self.changed {
                out.push('\n');
                let old = format!("{} ({})", changed.identity, options.old_label);
                let new = format!("{} ({})", changed.identity, options.new_label);
                out.push_str(&text_diff::unified(
                    &changed.old,
                    &changed.new,
                    &old,
                    &new,
                    options.color,
                ));
            }
        }
        out
    }
}

fn install_key(id: &Identity) -> (usize, &str, &str, &str, &str) {
    (
        order::rank(&id.group, &id.kind),
        &id.kind,
        &id.group,
        &id.namespace,
        &id.name,
    )
}

/// Compare two sets of objects by identity. `show_secrets: false` redacts Secret data.
pub fn compare(old: &[Object], new: &[Object], show_secrets: bool) -> ObjectDiff {
    let index = |objects: &[Object]| -> BTreeMap<Identity, Value> {
        objects
            .iter()
            .map(|object| (object.identity(), normalize(&object.value)))
            .collect()
    };
    let old = index(old);
    let mut new = index(new);
    let mut diff = ObjectDiff::default();
    for (identity, old_value) in old {
        match new.remove(&identity) {
            None => diff.removed.push(identity),
            Some(new_value) if new_value == old_value => {}
            Some(new_value) => {
                let (mut old_value, mut new_value) = (align(&old_value, &new_value), new_value);
                if !show_secrets && identity.kind == "Secret" {
                    redact_pair(&mut old_value, &mut new_value);
                }
                diff.changed.push(Changed {
                    old: crate::pipeline::emit::yaml(&old_value),
                    new: crate::pipeline::emit::yaml(&new_value),
                    identity,
                });
            }
        }
    }
    diff.added = new.into_keys().collect();
    diff.removed
        .sort_by(|a, b| install_key(a).cmp(&install_key(b)));
    diff.added
        .sort_by(|a, b| install_key(a).cmp(&install_key(b)));
    diff.changed
        .sort_by(|a, b| install_key(&a.identity).cmp(&install_key(&b.identity)));
    diff
}

/// Metadata fields the API server sets; they are never part of a difference.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];
const SERVER_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// The object without server-set fields.
pub fn normalize(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in SERVER_METADATA {
                metadata.remove(key);
            }
            if let Some(annotations) = metadata
                .get_mut("annotations")
                .and_then(Value::as_object_mut)
            {
                let had = annotations.len();
                for key in SERVER_ANNOTATIONS {
                    annotations.remove(key);
                }
                if had > 0 && annotations.is_empty() {
                    metadata.remove("annotations");
                }
            }
        }
    }
    value
}

/// `old` with its mapping keys in `new`'s order (keys only in `old` last), so the YAML diff
/// shows changes, not reordering.
fn align(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(old_map), Value::Object(new_map)) => {
            let mut out = Map::new();
            for (key, new_child) in new_map {
                if let Some(old_child) = old_map.get(key) {
                    out.insert(key.clone(), align(old_child, new_child));
                }
            }
            for (key, old_child) in old_map {
                if !new_map.contains_key(key) {
                    out.insert(key.clone(), old_child.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(old_list), Value::Array(new_list)) => Value::Array(
            old_list
                .iter()
                .enumerate()
                .map(|(i, item)| match new_list.get(i) {
                    Some(new_item) => align(item, new_item),
                    None => item.clone(),
                })
                .collect(),
        ),
        _ => old.clone(),
    }
}

/// Replace every Secret value by a placeholder; a value that differs between the sides (or
/// exists on one side only) carries the first 8 hex digits of its sha256.
fn redact_pair(old: &mut Value, new: &mut Value) {
    for field in ["data", "stringData"] {
        let old_map = old
            .get(field)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let new_map = new
            .get(field)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        redact_side(old, field, &new_map);
        redact_side(new, field, &old_map);
    }
}

fn redact_side(side: &mut Value, field: &str, other: &Map<String, Value>) {
    let Some(map) = side.get_mut(field).and_then(Value::as_object_mut) else {
        return;
    };
    for (key, value) in map.iter_mut() {
        let placeholder = if other.get(key) == Some(value) {
            "<redacted>".to_owned()
        } else {
            let text = match value.as_str() {
                Some(text) => text.to_owned(),
                None => value.to_string(),
            };
            let digest = Sha256::digest(text.as_bytes());
            let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
            format!("<redacted sha256:{short}>")
        };
        *value = Value::String(placeholder);
    }
}

// ---------------------------------------------------------------------------------------
// The two sides.

/// What to compare the working tree's mode with.
#[derive(Debug, Clone)]
pub enum Against {
    /// Another mode of the same stack (with the same user values).
    Mode(String),
    /// Manifests read from a file, a directory or stdin; `name` describes them.
    Manifests { name: String, objects: Vec<Object> },
    /// The same stack directory at a git revision (with the same user values).
    Revision(String),
}

/// Render `mode` and the other side, compare them (old: the other side, new: `mode`), and
/// return the difference with labels for both sides.
pub fn diff_against(
    stack: &crate::pipeline::stack::Stack,
    mode: &str,
    user: &crate::UserValues,
    against: Against,
    show_secrets: bool,
) -> Result<(ObjectDiff, String, String)> {
    let new_label = format!("mode {mode}");
    let render = |stack: &crate::pipeline::stack::Stack, mode: &str| {
        crate::render(stack, mode, user).map(|r| r.objects)
    };
    let (old, old_label, new) = match against {
        Against::Mode(other) => {
            let (old, new) = rayon::join(|| render(stack, &other), || render(stack, mode));
            (old, format!("mode {other}"), new)
        }
        Against::Manifests { name, objects } => (Ok(objects), name, render(stack, mode)),
        Against::Revision(rev) => {
            let dir = stack.root_dir("diff --against-rev")?;
            let (old, new) = rayon::join(
                || {
                    crate::tools::git::stack_at(dir, &rev).and_then(|old_stack| {
                        render(&old_stack, mode)
                            .map_err(|err| crate::tools::git::at_revision(err, &rev))
                    })
                },
                || render(stack, mode),
            );
            (old, format!("revision {rev}"), new)
        }
    };
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(Diagnostics(mut a)), Err(Diagnostics(b))) => {
            for diagnostic in b {
                if !a.contains(&diagnostic) {
                    a.push(diagnostic);
                }
            }
            return Err(Diagnostics(a));
        }
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    Ok((compare(&old, &new, show_secrets), old_label, new_label))
}

// ---------------------------------------------------------------------------------------
// Reading manifests.

/// The objects of a YAML stream (or JSON; a `v1` `List` is expanded). `name` is used in
/// errors. Empty documents are skipped; the same identity twice is an error.
pub fn parse_manifests(name: &str, text: &str) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    let errors = parse_into(name, text, &mut objects);
    if errors.is_empty() {
        check_unique(objects)
    } else {
        Err(Diagnostics(errors))
    }
}

fn parse_into(name: &str, text: &str, objects: &mut Vec<Object>) -> Vec<Diagnostic> {
    let mut documents = Vec::new();
    for chunk in crate::foundation::yaml::manifest::split_documents(text) {
        match crate::foundation::yaml::manifest::parse_document(chunk.text) {
            Ok(document) => documents.push(document),
            Err(err) => {
                let line = chunk.first_line + err.line.saturating_sub(1);
                return vec![Diagnostic::error(Code::Yaml, err.message).at(
                    crate::foundation::diag::Location::File {
                        file: name.into(),
                        line,
                        col: 1,
                    },
                )];
            }
        }
    }
    let mut errors = Vec::new();
    for (index, document) in documents.into_iter().enumerate() {
        let items = match document {
            Value::Null => continue,
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                map.get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            }
            other => vec![other],
        };
        for item in items {
            match object::shape_problem(&item) {
                None => objects.push(Object {
                    source: name.to_owned(),
                    value: item,
                }),
                Some(problem) => errors.push(
                    Diagnostic::error(
                        Code::Manifest,
                        format!("not a Kubernetes object: {}", problem.message),
                    )
                    .at(Location::Path(name.to_owned()))
                    .path(format!("document {index}"))
                    .hint(problem.hint),
                ),
            }
        }
    }
    errors
}

/// The objects, unless two have the same identity.
fn check_unique(objects: Vec<Object>) -> Result<Vec<Object>> {
    let duplicates = object::duplicates(&objects);
    diag::finish(objects, duplicates)
}

/// The objects of a manifest file, or of every `*.yaml`, `*.yml` and `*.json` file under a
/// directory (recursively, in path order, hidden entries skipped).
pub fn read_manifests(path: &Path) -> Result<Vec<Object>> {
    let display = path.display().to_string();
    let io = |at: &str, err: std::io::Error| -> Diagnostics {
        Diagnostic::error(Code::Io, format!("cannot read manifests: {err}"))
            .at(Location::Path(at.to_owned()))
            .into()
    };
    let metadata = std::fs::metadata(path).map_err(|err| io(&display, err))?;
    let mut files = Vec::new();
    if metadata.is_dir() {
        collect_manifest_files(path, &mut files).map_err(|err| io(&display, err))?;
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let name = file.display().to_string();
        match crate::foundation::io::read_user_file(&name) {
            Ok(text) => errors.extend(parse_into(&name, &text, &mut objects)),
            Err(err) => errors.push(
                Diagnostic::error(Code::Io, format!("cannot read manifests: {err}"))
                    .at(Location::Path(name)),
            ),
        }
    }
    if errors.is_empty() {
        check_unique(objects)
    } else {
        Err(Diagnostics(errors))
    }
}

fn collect_manifest_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_manifest_files(&path, files)?;
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object {
            source: "t".into(),
            value,
        }
    }

    #[test]
    fn key_order_and_server_fields_are_not_differences() {
        let old = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "uid": "x",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}, "data": {"k": "v", "j": "w"}, "status": {}}),
        );
        let new = object(
            json!({"kind": "ConfigMap", "apiVersion": "v1", "data": {"j": "w", "k": "v"}, "metadata": {"name": "a"}}),
        );
        assert!(compare(&[old], &[new], false).is_empty());
    }

    #[test]
    fn added_removed_changed() {
        let a = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1"}}),
        );
        let a2 = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "2"}}),
        );
        let b = object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}));
        let c = object(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c", "namespace": "n"}}),
        );
        let diff = compare(&[a, b], &[a2, c], false);
        assert_eq!(diff.added.len(), 1);
        assert_eq!(diff.removed[0].kind, "Namespace");
        assert_eq!(diff.changed[0].identity.name, "a");
        let options = Options {
            old_label: "old".into(),
            new_label: "new".into(),
            ..Options::default()
        };
        let text = diff.render(&options);
        assert!(
            text.starts_with(
                "- removed  Namespace/b\n~ changed  ConfigMap/a\n+ added    Service/n/c\n"
            ),
            "{text}"
        );
        assert!(text.contains("-  k: \"1\"\n+  k: \"2\"\n"), "{text}");
    }

    #[test]
    fn secret_values_are_redacted_unless_asked() {
        let old = object(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"same": "hunter2", "changed": "old-password"}}),
        );
        let new = object(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"same": "hunter2", "changed": "new-password", "added": "fresh"}}),
        );
        let diff = compare(
            std::slice::from_ref(&old),
            std::slice::from_ref(&new),
            false,
        );
        let text = diff.render(&Options::default());
        for secret in ["hunter2", "old-password", "new-password", "fresh"] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        assert!(text.contains("   same: \"<redacted>\"\n"), "{text}");
        let short = |s: &str| {
            Sha256::digest(s.as_bytes())
                .iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert!(
            text.contains(&format!(
                "-  changed: \"<redacted sha256:{}>\"",
                short("old-password")
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "+  changed: \"<redacted sha256:{}>\"",
                short("new-password")
            )),
            "{text}"
        );
        let shown = compare(&[old], &[new], true).render(&Options::default());
        assert!(shown.contains("new-password"), "{shown}");
    }

    #[test]
    fn lists_expand_and_duplicates_are_refused() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\n---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n";
        assert_eq!(parse_manifests("x.yaml", text).unwrap().len(), 2);
        let dup = "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n";
        let err = parse_manifests("x.yaml", dup).unwrap_err();
        assert!(err.to_string().contains("duplicate object"), "{err}");
        let err = parse_manifests("x.yaml", "- 1\n").unwrap_err();
        assert!(err.to_string().contains("not a Kubernetes object"), "{err}");
        let err = parse_manifests("x.yaml", "a: [\n").unwrap_err();
        assert!(err.to_string().contains("error[yaml]: x.yaml:"), "{err}");
    }
}
