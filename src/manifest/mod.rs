//! Stage 5, check: rendered text → Kubernetes objects, validated strictly.
//!
//! Every document must be a mapping with `apiVersion`, `kind` and a valid `metadata.name`.
//! Built-in kinds round-trip through their k8s-openapi type (unknown fields and type errors
//! are reported with their field path); other kinds need a JSON schema in `schema/crds/`.
//! Identities must be unique. Pod templates then get their `checksum/config`.

mod checksum;
pub mod order;
pub mod parse;

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde_json::Value;
use somagen_kube::{Check, Scope};

use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::stack::Stack;
use crate::template::RenderedTemplate;

/// A checked Kubernetes object and the template it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The template path, e.g. `templates/redis/statefulset.yaml`.
    pub source: String,
    pub value: Value,
}

/// What makes an object unique in a cluster (for somagen: kind, namespace, name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl Object {
    /// The value at a JSON pointer of plain segments (no `~` escapes). Segments are looked
    /// up directly: `Value::pointer` allocates per segment, and this runs for every object
    /// many times per render.
    pub fn field(&self, pointer: &str) -> Option<&Value> {
        pointer
            .split('/')
            .skip(1)
            .try_fold(&self.value, |node, key| node.get(key))
    }

    /// The string at a pointer, or "" when there is none.
    pub fn str_field(&self, pointer: &str) -> &str {
        self.field(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The mapping at a pointer (a selector, labels), if there is one.
    pub fn map_field(&self, pointer: &str) -> Option<&serde_json::Map<String, Value>> {
        self.field(pointer).and_then(Value::as_object)
    }

    pub fn api_version(&self) -> &str {
        self.str_field("/apiVersion")
    }

    pub fn kind(&self) -> &str {
        self.str_field("/kind")
    }

    pub fn name(&self) -> &str {
        self.str_field("/metadata/name")
    }

    pub fn namespace(&self) -> &str {
        self.str_field("/metadata/namespace")
    }

    pub fn identity(&self) -> Identity {
        Identity {
            kind: self.kind().to_owned(),
            namespace: self.namespace().to_owned(),
            name: self.name().to_owned(),
        }
    }
}

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
    diagnostics.extend(duplicates(&objects));
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
            "manifest",
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
            diagnostic = diagnostic.hint(format!("rendered line {line} | {}", text.trim_end()));
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

/// A document must be a Kubernetes object: a mapping with apiVersion, kind, metadata.name.
fn check_shape(source: &str, index: usize, value: &Value) -> Result<()> {
    let fail = |message: String| {
        Diagnostic::error("manifest", message)
            .at(Location::Path(source.to_owned()))
            .path(format!("document {index}"))
    };
    let Some(map) = value.as_object() else {
        return Err(fail(format!(
            "a document must be a Kubernetes object (a mapping), found {}",
            crate::diag::describe(value)
        ))
        .into());
    };
    for key in ["apiVersion", "kind"] {
        match map.get(key) {
            Some(Value::String(text)) if !text.is_empty() => {}
            _ => {
                return Err(fail(format!(
                    "the document has no `{key}` string; it is not a Kubernetes object"
                ))
                .into());
            }
        }
    }
    let Some(name) = value.pointer("/metadata/name").and_then(Value::as_str) else {
        return Err(fail("the document has no `metadata.name` string".to_owned()).into());
    };
    if let Some(problem) = dns_subdomain_problem(name) {
        return Err(fail(format!("invalid metadata.name `{name}`: {problem}"))
            .hint("names are lowercase letters, digits, '-' and '.', start and end alphanumeric, at most 253 characters")
            .into());
    }
    Ok(())
}

/// Why `name` is not an RFC 1123 subdomain, if it is not.
pub fn dns_subdomain_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Some("it may contain only lowercase letters, digits, '-' and '.'");
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(name.bytes().next()) || !alnum(name.bytes().last()) {
        return Some("it must start and end with a letter or digit");
    }
    None
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
                Diagnostic::error("manifest", message)
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
                "manifest",
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

fn duplicates(objects: &[Object]) -> Vec<Diagnostic> {
    let mut seen: HashMap<(&str, &str, &str), &str> = HashMap::with_capacity(objects.len());
    let mut diagnostics = Vec::new();
    for object in objects {
        let key = (object.kind(), object.namespace(), object.name());
        if let Some(first) = seen.insert(key, &object.source) {
            diagnostics.push(
                Diagnostic::error(
                    "manifest",
                    format!("duplicate object: {first} already renders it"),
                )
                .at(Location::Path(object.source.clone()))
                .path(object.identity().to_string())
                .hint("rename one of them; kind, namespace and name must be unique"),
            );
        }
    }
    diagnostics
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
                    Diagnostic::error("schema", format!("invalid CRD schema: {err}"))
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
                    "manifest",
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
                let field = crate::values::pointer_to_path(err.instance_path().as_str());
                Diagnostic::error("manifest", err.to_string())
                    .at(Location::Path(object.source.clone()))
                    .path(format!("{identity}: {field}"))
            })
            .collect()
    }
}
