//! Stage 5, check: rendered text → Kubernetes objects, validated strictly.
//!
//! Every document must be a mapping with `apiVersion`, `kind` and a valid `metadata.name`.
//! Built-in kinds round-trip through their k8s-openapi type (unknown fields and type errors
//! are reported with their field path); custom kinds are checked against their
//! definitions ([`custom`]).
//! Identities must be unique. Pod templates then get their `checksum/config`.

mod checksum;
mod custom;

use rayon::prelude::*;
use somagen_kube::{Check, Scope};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::object::names::name_problem;
use crate::foundation::object::{self, Object, order};
use crate::foundation::yaml::manifest as parse;
use crate::pipeline::stack::Stack;
use crate::pipeline::template::RenderedTemplate;
use custom::CustomKinds;

/// The checked objects of a render, in install order, and notes about the check.
pub struct Built {
    pub objects: Vec<Object>,
    /// What the check could not do (CEL rules of custom kinds), said once per kind.
    pub notes: Vec<Diagnostic>,
}

/// Parse, check, and checksum the rendered templates; the result is in install order.
pub fn build(stack: &Stack, rendered: &[RenderedTemplate]) -> Result<Built> {
    check(stack, parse(rendered)?)
}

/// The objects of the rendered templates, in template order; empty documents are skipped.
pub fn parse(rendered: &[RenderedTemplate]) -> Result<Vec<Object>> {
    let mut parsed = Parsed::default();
    parsed.add(rendered);
    parsed.finish()
}

/// Rendered text is parsed in batches of templates holding at least this many bytes.
const BATCH_BYTES: usize = 1 << 20;

/// [`parse`], freeing the rendered text as it goes: the templates are parsed in batches of
/// about [`BATCH_BYTES`], each in parallel, and a batch's text is freed before the next one
/// is parsed, so a large render never holds all its text beside all its objects.
pub fn parse_owned(mut rendered: Vec<RenderedTemplate>) -> Result<Vec<Object>> {
    let mut parsed = Parsed::default();
    let mut start = 0;
    while start < rendered.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < rendered.len() && bytes < BATCH_BYTES {
            bytes += rendered[end].text.len();
            end += 1;
        }
        parsed.add(&rendered[start..end]);
        for template in &mut rendered[start..end] {
            template.text = String::new();
        }
        start = end;
    }
    parsed.finish()
}

/// The objects and parse errors of the templates parsed so far, in template order.
#[derive(Default)]
struct Parsed {
    objects: Vec<Object>,
    diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Parse the documents of `templates`. Parsing is the largest cost of a render: every
    /// template's output is split into documents first, so that all documents of all these
    /// templates parse in parallel.
    fn add(&mut self, templates: &[RenderedTemplate]) {
        let chunks: Vec<(&RenderedTemplate, usize, parse::Chunk<'_>)> = templates
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
        self.objects.reserve(parsed.len());
        for result in parsed {
            match result {
                Ok(Some(object)) => self.objects.push(object),
                Ok(None) => {}
                Err(Diagnostics(mut list)) => self.diagnostics.append(&mut list),
            }
        }
    }

    fn finish(self) -> Result<Vec<Object>> {
        if self.diagnostics.is_empty() {
            Ok(self.objects)
        } else {
            Err(Diagnostics(self.diagnostics))
        }
    }
}

/// Check and checksum parsed objects; the result is in install order.
pub fn check(stack: &Stack, mut objects: Vec<Object>) -> Result<Built> {
    let custom = CustomKinds::compile(stack, &objects)?;
    let mut diagnostics: Vec<Diagnostic> = objects
        .par_iter()
        .flat_map_iter(|object| check_object(object, &custom))
        .collect();
    diagnostics.extend(object::duplicates(&objects));
    if !diagnostics.is_empty() {
        diagnostics.sort();
        return Err(Diagnostics(diagnostics));
    }
    let notes = custom.unevaluated_rules(&objects);
    checksum::annotate(&mut objects);
    order::sort(&mut objects);
    Ok(Built { objects, notes })
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
    let object = Object {
        source: template.path.clone(),
        value,
    };
    check_shape(&object, index)?;
    Ok(Some(object))
}

/// A document must be a Kubernetes object named as the API server requires for its kind.
fn check_shape(object: &Object, index: usize) -> Result<()> {
    let fail = |message: String| {
        Diagnostic::error(Code::Manifest, message)
            .at(Location::Path(object.source.clone()))
            .path(format!("document {index}"))
    };
    if let Some(problem) = object::shape_problem(&object.value) {
        return Err(
            fail(format!("not a Kubernetes object: {}", problem.message))
                .hint(problem.hint)
                .into(),
        );
    }
    if let Some((rule, problem)) = name_problem(object) {
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
fn check_object(object: &Object, custom: &CustomKinds) -> Vec<Diagnostic> {
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
        Check::NotBuiltin => custom.check(object),
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
