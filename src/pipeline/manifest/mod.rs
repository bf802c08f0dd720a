//! Stage 5, check: rendered text → Kubernetes objects, validated strictly.
//!
//! Every document must be a mapping with `apiVersion`, `kind` and a valid `metadata.name`.
//! Built-in kinds round-trip through their k8s-openapi type (unknown fields and type errors
//! are reported with their field path); other kinds need a JSON schema in `schema/crds/`.
//! Identities must be unique. Pod templates then get their `checksum/config`.

mod checksum;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde_json::Value;
use somagen_kube::{Check, Scope};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::located::pointer_to_path;
use crate::foundation::object::names::name_problem;
use crate::foundation::object::{self, Object, order};
use crate::foundation::yaml::manifest as parse;
use crate::pipeline::stack::Stack;
use crate::pipeline::template::RenderedTemplate;

/// Parse, check, and checksum the rendered templates; the result is in install order.
pub fn build(stack: &Stack, rendered: &[RenderedTemplate]) -> Result<Vec<Object>> {
    let crds = CrdSchemas::compile(stack)?;
    // Parsing is the largest cost of a render: split every template's output into
    // documents first, so that all documents of all templates parse in parallel.
    let chunks: Vec<(&RenderedTemplate, usize, parse::Chunk<'_>)> = rendered
        .iter()
        .flat_map(|template| {
            parse::split_documents(&template.text)
                .into_iter()
                .enumerate()
                .map(move |(i, c)| (template, i, c))
        })
        .collect();
    let parsed: Vec<Result<Option<Object>>> = chunks
        .par_iter()
        .map(|(template, index, chunk)| parse_chunk(template, *index, chunk))
        .collect();
    let mut objects = Vec::with_capacity(parsed.len());
    let mut diagnostics = Vec::new();
    for result in parsed {
        match result {
            Ok(Some(object)) => objects.push(object),
            Ok(None) => {}
            Err(Diagnostics(mut list)) => diagnostics.append(&mut list),
        }
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let mut diagnostics: Vec<Diagnostic> = objects
        .par_iter()
        .flat_map_iter(|object| check_object(object, &crds))
        .collect();
    diagnostics.extend(object::duplicates(&objects));
    if !diagnostics.is_empty() {
        diagnostics.sort();
        return Err(Diagnostics(diagnostics));
    }
    checksum::annotate(&mut objects);
    order::sort(&mut objects);
    Ok(objects)
}

/// One document of a template's output as an [`Object`]; empty documents are skipped.
fn parse_chunk(
    template: &RenderedTemplate,
    index: usize,
    chunk: &parse::Chunk<'_>,
) -> Result<Option<Object>> {
    let value = parse::parse_document(chunk.text).map_err(|err| {
        let line = chunk.first_line + err.line.saturating_sub(1);
        let mut diagnostic = Diagnostic::error(
            Code::Manifest,
            format!(
                "the rendered output is not valid YAML at its line {line}: {}",
                err.message
            ),
        )
        .at(Location::Path(template.path.clone()))
        .path(format!("document {index}"));
        // The offending line helps, unless it may carry a credential.
        let secret = chunk.text.contains("kind: Secret");
        if let Some(text) = template
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .filter(|_| !secret)
        {
            let advice = if err.message.contains("tab") {
                " (YAML indents with spaces only)"
            } else {
                ""
            };
            diagnostic = diagnostic.hint(format!(
                "rendered line {line} | {}{advice}",
                text.trim_end()
            ));
        }
        Diagnostics::one(diagnostic)
    })?;
    if value.is_null() {
        return Ok(None);
    }
    check_shape(&template.path, index, &value)?;
    Ok(Some(Object {
        source: template.path.clone(),
        value,
    }))
}

/// A document must be a Kubernetes object named as the API server requires for its kind.
fn check_shape(source: &str, index: usize, value: &Value) -> Result<()> {
    let fail = |message: String| {
        Diagnostic::error(Code::Manifest, message)
            .at(Location::Path(source.to_owned()))
            .path(format!("document {index}"))
    };
    if let Some(problem) = object::shape_problem(value) {
        return Err(
            fail(format!("not a Kubernetes object: {}", problem.message))
                .hint(problem.hint)
                .into(),
        );
    }
    let object = Object {
        source: source.to_owned(),
        value: value.clone(),
    };
    if let Some((rule, problem)) = name_problem(&object) {
        let name = object.name();
        let kind = object.kind();
        return Err(fail(format!(
            "invalid metadata.name `{name}` for a {kind}: {problem}"
        ))
        .hint(format!("a {kind} name must be {}", rule.describe()))
        .into());
    }
    Ok(())
}

/// Typed, strict validation of one object.
fn check_object(object: &Object, crds: &CrdSchemas) -> Vec<Diagnostic> {
    match somagen_kube::check(object.api_version(), object.kind(), &object.value) {
        Check::Valid => scope_problems(object).into_iter().collect(),
        Check::Invalid(issues) => issues
            .into_iter()
            .map(|issue| {
                let identity = object.identity();
                let path = if issue.path.is_empty() {
                    identity.to_string()
                } else {
                    format!("{identity}: {}", issue.path)
                };
                let message = if object.kind() == "Secret" {
                    hide_quoted(&issue.message)
                } else {
                    issue.message
                };
                Diagnostic::error(Code::Manifest, message)
                    .at(Location::Path(object.source.clone()))
                    .path(path)
            })
            .collect(),
        Check::NotBuiltin => crds.check(object),
    }
}

/// A message with every `quoted` value replaced by `…`: type errors quote the value they
/// met, which in a Secret is a credential.
fn hide_quoted(message: &str) -> String {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { "…" } else { part })
        .collect::<Vec<_>>()
        .join("`")
}

/// Cluster-scoped kinds cannot carry a namespace: kubectl would reject or ignore it.
fn scope_problems(object: &Object) -> Option<Diagnostic> {
    let scope = somagen_kube::builtin_scope(object.api_version(), object.kind())?;
    if scope == Scope::Cluster && !object.namespace().is_empty() {
        return Some(
            Diagnostic::error(
                Code::Manifest,
                format!(
                    "{} is cluster-scoped but sets metadata.namespace",
                    object.kind()
                ),
            )
            .at(Location::Path(object.source.clone()))
            .path(object.identity().to_string())
            .hint("remove metadata.namespace"),
        );
    }
    None
}

/// JSON schemas for the non-built-in kinds a stack emits, by lowercased kind.
struct CrdSchemas {
    by_kind: BTreeMap<String, (String, jsonschema::Validator)>,
}

impl CrdSchemas {
    fn compile(stack: &Stack) -> Result<CrdSchemas> {
        let mut by_kind = BTreeMap::new();
        let mut diagnostics = Vec::new();
        for (path, text) in stack
            .files_under("schema/crds")
            .filter(|(path, _)| path.ends_with(".json"))
        {
            let kind = path
                .rsplit('/')
                .next()
                .unwrap_or(path)
                .trim_end_matches(".json")
                .to_owned();
            let compiled = serde_json::from_str::<Value>(text)
                .map_err(|err| err.to_string())
                .and_then(|doc| jsonschema::draft202012::new(&doc).map_err(|err| err.to_string()));
            match compiled {
                Ok(validator) => {
                    by_kind.insert(kind, (path.to_owned(), validator));
                }
                Err(err) => diagnostics.push(
                    Diagnostic::error(Code::Schema, format!("invalid CRD schema: {err}"))
                        .at(Location::Path(path.to_owned())),
                ),
            }
        }
        if diagnostics.is_empty() {
            Ok(CrdSchemas { by_kind })
        } else {
            Err(Diagnostics(diagnostics))
        }
    }

    fn check(&self, object: &Object) -> Vec<Diagnostic> {
        let identity = object.identity();
        let Some((_, validator)) = self.by_kind.get(&object.kind().to_ascii_lowercase()) else {
            return vec![
                Diagnostic::error(
                    Code::Manifest,
                    format!(
                        "`{}` `{}` is not a built-in Kubernetes kind and has no schema",
                        object.api_version(),
                        object.kind()
                    ),
                )
                .at(Location::Path(object.source.clone()))
                .path(identity.to_string())
                .hint(format!(
                    "add schema/crds/{}.json, or fix a typo in apiVersion/kind",
                    object.kind().to_ascii_lowercase()
                )),
            ];
        };
        validator
            .iter_errors(&object.value)
            .map(|err| {
                let field = pointer_to_path(err.instance_path().as_str());
                Diagnostic::error(Code::Manifest, err.to_string())
                    .at(Location::Path(object.source.clone()))
                    .path(format!("{identity}: {field}"))
            })
            .collect()
    }
}
