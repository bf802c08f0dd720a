//! somagen: compile a Kubernetes stack into validated, ordered, deterministic manifests.
//!
//! The pipeline runs one way, one module per stage:
//!
//! ```text
//! stack (load) → values (merge) → schema (validate) → template (render)
//!       → manifest (check, checksum, order) → emit
//! ```
//!
//! The functions here run the stages in order; the CLI is a thin shell around them, and
//! tests and benchmarks call them directly.

pub mod check;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod environments;
pub mod git;
pub mod golden;
pub mod graph;
pub mod lint;
pub mod manifest;
pub mod package;
pub mod pods;
pub mod schema;
pub mod smoke;
pub mod stack;
pub mod suggest;
pub mod template;
pub mod values;

use std::collections::BTreeSet;

use rayon::prelude::*;

use diag::{Diagnostic, Diagnostics, Location, Result};
use manifest::Object;
use stack::Stack;
use values::{Located, SetKind};

/// A value given on the command line, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetFlag {
    /// `--set a.b=c`: Helm strvals with type inference.
    Set(String),
    /// `--set-string a.b=c`: never infers a type.
    String(String),
    /// `--set-json a.b=JSON`.
    Json(String),
    /// `--set-file a.b=PATH`: the file's contents as a string.
    File(String),
}

/// The layers a user adds on top of the stack's own: `-f` files, then flags, in order.
#[derive(Debug, Clone, Default)]
pub struct UserValues {
    /// `(display name, contents)` of each `-f FILE`.
    pub files: Vec<(String, String)>,
    pub sets: Vec<SetFlag>,
}

/// The result of a render: the values it used, the objects in install order, and the value
/// paths the templates read.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub values: Located,
    pub objects: Vec<Object>,
    pub reads: BTreeSet<String>,
}

/// Merge base, mode overlay, `-f` files and flags, then validate against the schema.
pub fn values(stack: &Stack, mode: &str, user: &UserValues) -> Result<Located> {
    stack.check_mode(mode)?;
    let schema_text = stack.required_file(schema::SCHEMA_PATH, "values schema")?;
    let schema = schema::ValuesSchema::compile(schema::SCHEMA_PATH, schema_text)?;
    let merged = values::coalesce(layers(stack, mode, user)?);
    schema.validate(&merged)?;
    Ok(merged)
}

/// Every layer in merge order, parsed in parallel; all parse errors of all layers are
/// reported together.
fn layers(stack: &Stack, mode: &str, user: &UserValues) -> Result<Vec<Located>> {
    enum Source<'a> {
        File(String, Result<&'a str>),
        Flag(&'a SetFlag),
    }
    let base = "overlays/base.yaml".to_owned();
    let overlay = format!("overlays/{mode}.yaml");
    let mut sources = vec![
        Source::File(base.clone(), stack.required_file(&base, "base values file")),
        Source::File(
            overlay.clone(),
            stack.required_file(&overlay, "overlay for this mode"),
        ),
    ];
    sources.extend(
        user.files
            .iter()
            .map(|(name, text)| Source::File(name.clone(), Ok(text.as_str()))),
    );
    sources.extend(user.sets.iter().map(Source::Flag));
    let results: Vec<Result<Located>> = sources
        .par_iter()
        .map(|source| match source {
            Source::File(name, text) => {
                text.clone().and_then(|text| values::parse_yaml(name, text))
            }
            Source::Flag(flag) => parse_flag(flag),
        })
        .collect();
    let mut layers = Vec::with_capacity(results.len());
    let mut diagnostics = Vec::new();
    for result in results {
        match result {
            Ok(layer) => layers.push(layer),
            Err(Diagnostics(mut list)) => diagnostics.append(&mut list),
        }
    }
    if diagnostics.is_empty() {
        Ok(layers)
    } else {
        Err(Diagnostics(diagnostics))
    }
}

fn parse_flag(flag: &SetFlag) -> Result<Located> {
    match flag {
        SetFlag::Set(arg) => values::parse_set(SetKind::Infer, arg),
        SetFlag::String(arg) => values::parse_set(SetKind::String, arg),
        SetFlag::Json(arg) => values::parse_set(SetKind::Json, arg),
        SetFlag::File(arg) => values::parse_set_file(arg, read_user_file),
    }
}

/// Read a file named on the command line, refusing anything over the stack file limit.
pub fn read_user_file(path: &str) -> std::io::Result<String> {
    read_bounded(std::fs::File::open(path)?)
}

/// Read at most [`stack::MAX_FILE_BYTES`] from `reader`: a file that never ends (a device,
/// a pipe) is an error, not a hang.
pub fn read_bounded(reader: impl std::io::Read) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    reader
        .take(stack::MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > stack::MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "more than the {}-byte limit",
            stack::MAX_FILE_BYTES
        )));
    }
    Ok(text)
}

/// Run the whole pipeline for one mode.
pub fn render(stack: &Stack, mode: &str, user: &UserValues) -> Result<Rendered> {
    let values = values(stack, mode, user)?;
    let output = template::render(&template::Context {
        values: &values.value,
        mode,
        stack,
    })?;
    let objects = manifest::build(stack, &output.templates)?;
    Ok(Rendered {
        values,
        objects,
        reads: output.reads,
    })
}

/// The value leaves set by an overlay, a `-f` file or a flag that no template read.
/// Base values are defaults and are not reported; neither are the settings of a switched-off
/// component (a map whose `enabled` is `false`), which are read once it is switched on.
pub fn unused_values(rendered: &Rendered) -> Vec<Diagnostic> {
    let reads = &rendered.reads;
    let is_read = |pointer: &str| {
        reads
            .iter()
            .any(|r| pointer == r || pointer.starts_with(&format!("{r}/")))
    };
    let mut unused = Vec::new();
    collect_leaves(&rendered.values.value, String::new(), &mut |pointer| {
        if is_read(&pointer) {
            return;
        }
        let origin = rendered.values.origin_of(&pointer).cloned();
        let from_base =
            matches!(&origin, Some(Location::File { file, .. }) if file == "overlays/base.yaml");
        if !from_base {
            unused.push(
                Diagnostic::warning("unused-value", "no template reads this value in this mode")
                    .at_opt(origin)
                    .path(values::pointer_to_path(&pointer))
                    .hint("remove it, or check the key for a typo"),
            );
        }
    });
    unused
}

/// Visit every leaf, skipping the subtrees of switched-off components.
fn collect_leaves(value: &serde_json::Value, pointer: String, visit: &mut impl FnMut(String)) {
    match value {
        serde_json::Value::Object(map)
            if map.get("enabled") == Some(&serde_json::Value::Bool(false)) =>
        {
            visit(format!("{pointer}/enabled"));
        }
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                collect_leaves(child, values::child_pointer(&pointer, key), visit);
            }
        }
        _ => visit(pointer),
    }
}

/// A usage error (exit 2) with a hint.
pub fn usage_error(message: impl Into<String>, hint: impl Into<String>) -> Diagnostics {
    Diagnostic::error("usage", message).hint(hint).into()
}
