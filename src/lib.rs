//! somagen: compile a Kubernetes stack into validated, ordered, deterministic manifests.
//!
//! Three layers, each a folder, each importing only the ones before it:
//!
//! - [`foundation`]: diagnostics, YAML readers and writer, the object model;
//! - [`pipeline`]: `stack` → `values` → `schema` → `template` → `manifest` → `emit`;
//! - [`tools`]: `check`, `golden`, `diff`, `lint`, `graph`, `package`, `smoke`, the soma-infra
//!   environments.
//!
//! The CLI (`src/cli/`, in the binary) sits on top and is the only part that prints or exits.
//! The functions below are the whole pipeline; tests and benchmarks call them directly.

pub mod foundation;
pub mod pipeline;
pub mod tools;

use std::collections::BTreeSet;
use std::sync::Arc;

use rayon::prelude::*;

use foundation::diag::{self, Code, Diagnostic, Result};
use foundation::object::Object;
use pipeline::stack::Stack;
use pipeline::values::{Located, SetKind};
use pipeline::{emit, manifest, schema, template, values};

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

/// The result of a render: the values it used, the objects in install order, the value
/// paths the templates read, and notes on what the check could not do.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub values: Located,
    pub objects: Vec<Object>,
    pub reads: BTreeSet<String>,
    pub notes: Vec<Diagnostic>,
}

/// Run the whole pipeline for one mode.
pub fn render(stack: &Stack, mode: &str, user: &UserValues) -> Result<Rendered> {
    stack.check_mode(mode)?;
    let (compiled, layers) = rayon::join(
        || Compiled::new(stack),
        || layers(stack, mode, user, Origins::Keep),
    );
    compiled.rendered(stack, mode, layers)
}

/// [`render`] for many modes of one stack: the values schema, the templates and the
/// check's definitions are compiled once and shared (on a small stack, compiling them is
/// half of a render).
pub fn mode_renderer(stack: &Stack) -> impl Fn(&str, &UserValues) -> Result<Rendered> + Sync {
    let compiled = Compiled::new(stack);
    move |mode, user| {
        stack.check_mode(mode)?;
        compiled.rendered(stack, mode, layers(stack, mode, user, Origins::Keep))
    }
}

/// The objects of one mode and nothing else, for output.
pub fn render_objects(stack: &Stack, mode: &str, user: &UserValues) -> Result<manifest::Built> {
    let (compiled, documents) = documents(stack, mode, user, None)?;
    compiled.check.objects(documents)
}

/// The YAML stream of one mode, as `render` prints it, and the notes of its check. Each
/// object is written out as soon as it is checked, so the render never holds all its
/// objects as trees at once.
pub fn render_yaml(
    stack: &Stack,
    mode: &str,
    user: &UserValues,
) -> Result<(String, Vec<Diagnostic>)> {
    let (compiled, documents) = documents(stack, mode, user, Some(&emit::document))?;
    let written = compiled.check.written(documents, &emit::document)?;
    rayon::spawn(move || drop(compiled));
    Ok((emit::join(written.documents), written.notes))
}

/// The documents of one mode, template by template: each template's documents are read and
/// checked on their own (and with a writer, written out) in parts as it renders, while
/// other templates still render. Returned with the compiled stack, to finish the check with.
/// The values are read without origins and rendered while they are validated: only invalid
/// values need their origins, read once more for the errors, and the render of invalid
/// values is discarded. The values themselves (moved to the templates, not copied) are freed
/// once the templates have rendered.
fn documents(
    stack: &Stack,
    mode: &str,
    user: &UserValues,
    write: Option<&manifest::Writer>,
) -> Result<(Compiled, Vec<manifest::Documents>)> {
    stack.check_mode(mode)?;
    let (compiled, read) = rayon::join(
        || Compiled::new(stack),
        || layers(stack, mode, user, Origins::Skip),
    );
    let schema = shared(&compiled.schema)?;
    let values = values::coalesce_with(read?, &schema.list_merge()).value;
    let ctx = template::Context {
        values: Arc::new(values),
        mode,
        stack,
    };
    let (valid, output) = rayon::join(
        || schema.is_valid(&ctx.values),
        || compiled.templates(&ctx, |template| compiled.check.read(&template, write)),
    );
    if !valid {
        compiled.values(layers(stack, mode, user, Origins::Keep))?;
    }
    let output = output?;
    // Freeing the values visits every node of them; the rest of the check need not wait.
    let values = ctx.values;
    rayon::spawn(move || drop(values));
    Ok((compiled, output.templates))
}

/// What a stack compiles once for any number of renders, each part in parallel with the
/// others: the values schema, the templates, and the check (custom kinds, image lock). A
/// part that does not compile fails every render that needs it, at the stage that uses it.
struct Compiled {
    schema: Result<schema::ValuesSchema>,
    templates: Result<template::Templates>,
    check: manifest::Check,
}

impl Compiled {
    fn new(stack: &Stack) -> Compiled {
        let ((schema, check), templates) = rayon::join(
            || {
                rayon::join(
                    || values_schema(stack),
                    || manifest::Check::new(stack, true),
                )
            },
            || template::Templates::compiled(stack),
        );
        Compiled {
            schema,
            templates,
            check,
        }
    }

    fn values(&self, layers: Result<Vec<Located>>) -> Result<Located> {
        merged(shared(&self.schema)?, layers?)
    }

    /// Render the templates, each handed to `then` in parts as it renders.
    fn templates<T: Send>(
        &self,
        ctx: &template::Context<'_>,
        then: impl Fn(template::RenderedTemplate) -> T + Sync,
    ) -> Result<template::Output<T>> {
        shared(&self.templates)?.render_in_parts(ctx, then)
    }

    /// The rest of the pipeline once the layers of a mode are read.
    fn rendered(
        &self,
        stack: &Stack,
        mode: &str,
        layers: Result<Vec<Located>>,
    ) -> Result<Rendered> {
        let Located {
            value,
            origins,
            indexed_lists,
        } = self.values(layers)?;
        let ctx = template::Context {
            values: Arc::new(value),
            mode,
            stack,
        };
        let output = self.templates(&ctx, |template| self.check.read(&template, None))?;
        let built = self.check.objects(output.templates)?;
        // The templates have let go of the values: they are returned without a copy.
        let values = Located {
            value: Arc::unwrap_or_clone(ctx.values),
            origins,
            indexed_lists,
        };
        Ok(Rendered {
            values,
            objects: built.objects,
            reads: output.reads,
            notes: built.notes,
        })
    }
}

/// A compiled part, or the errors it had, for one more render.
fn shared<T>(compiled: &Result<T>) -> Result<&T> {
    compiled.as_ref().map_err(Clone::clone)
}

/// Merge base, mode overlay, `-f` files and flags, then validate against the schema.
pub fn values(stack: &Stack, mode: &str, user: &UserValues) -> Result<Located> {
    stack.check_mode(mode)?;
    // The schema compiles while the layers parse: only the merge needs both.
    let (schema, layers) = rayon::join(
        || values_schema(stack),
        || layers(stack, mode, user, Origins::Keep),
    );
    merged(&schema?, layers?)
}

/// The stack's values schema, compiled.
fn values_schema(stack: &Stack) -> Result<schema::ValuesSchema> {
    let schema_text = stack.required_file(schema::SCHEMA_PATH, "values schema")?;
    schema::ValuesSchema::compile(schema::SCHEMA_PATH, schema_text)
}

/// The layers merged in order, validated against the schema.
fn merged(schema: &schema::ValuesSchema, layers: Vec<Located>) -> Result<Located> {
    let merged = values::coalesce_with(layers, &schema.list_merge());
    schema.validate(&merged)?;
    Ok(merged)
}

/// Whether the values of a render keep the origin of every node.
#[derive(Clone, Copy)]
enum Origins {
    /// For what reports on the values, and for errors.
    Keep,
    /// For a render that needs the values alone (and their errors, read again with origins).
    Skip,
}

/// Every layer in merge order, parsed in parallel; all parse errors of all layers are
/// reported together.
fn layers(stack: &Stack, mode: &str, user: &UserValues, origins: Origins) -> Result<Vec<Located>> {
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
            Source::File(name, text) => text.clone().and_then(|text| match origins {
                Origins::Keep => values::parse_yaml(name, text),
                Origins::Skip => values::parse_values_only(name, text),
            }),
            Source::Flag(flag) => parse_flag(flag),
        })
        .collect();
    diag::collect(results)
}

fn parse_flag(flag: &SetFlag) -> Result<Located> {
    match flag {
        SetFlag::Set(arg) => values::parse_set(SetKind::Infer, arg),
        SetFlag::String(arg) => values::parse_set(SetKind::String, arg),
        SetFlag::Json(arg) => values::parse_set(SetKind::Json, arg),
        SetFlag::File(arg) => values::parse_set_file(arg, foundation::io::read_user_file),
    }
}

/// A usage error (exit 2) with a hint.
pub fn usage_error(message: impl Into<String>, hint: impl Into<String>) -> diag::Diagnostics {
    Diagnostic::error(Code::Usage, message).hint(hint).into()
}
