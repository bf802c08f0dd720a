//! Stage 5, check: rendered text → Kubernetes objects, validated strictly.
//!
//! Every document must be a mapping with `apiVersion`, `kind` and a valid `metadata.name`.
//! Built-in kinds round-trip through their k8s-openapi type (unknown fields and type errors
//! are reported with their field path); custom kinds are checked against their
//! definitions ([`custom`]). Identities must be unique. Pod templates then get their
//! `checksum/config`, images their digests ([`pin`]), and the objects their install order.
//!
//! Each document is parsed, checked and pinned on its own, in parallel. When the caller
//! wants text, a built-in object is written out right there and its tree freed, so a render
//! never holds all its objects as trees: a pod template is written with a placeholder for
//! its checksum, which is filled in once every ConfigMap and Secret of the render is known.

mod checksum;
mod custom;
pub mod pin;

use rayon::prelude::*;
use somagen_kube::Scope;

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::object::names::name_problem;
use crate::foundation::object::order::Key;
use crate::foundation::object::{self, Object};
use crate::foundation::yaml::manifest as parse;
use crate::foundation::yaml::write::write_line_string;
use crate::pipeline::stack::Stack;
use crate::pipeline::template::RenderedTemplate;
use checksum::{ConfigKey, Contents, PodConfig};
use custom::{CustomKinds, RenderKinds};
use pin::Lock;

/// The checked objects of a render, in install order, and notes about the check.
pub struct Built {
    pub objects: Vec<Object>,
    /// What the check could not do (CEL rules of custom kinds), said once per kind.
    pub notes: Vec<Diagnostic>,
}

/// The checked objects of a render written out, in install order, and notes about the check.
pub struct Written {
    pub documents: Vec<String>,
    pub notes: Vec<Diagnostic>,
}

/// How an object is written out (its document and anything around it), appended to a text.
pub type Writer = dyn Fn(&Object, &mut String) + Sync;

/// Parse, check, checksum and order the rendered templates; images stay as rendered.
pub fn build(stack: &Stack, rendered: &[RenderedTemplate]) -> Result<Built> {
    let check = Check::new(stack, false);
    let documents = rendered
        .iter()
        .map(|template| check.read(template, None))
        .collect();
    check.objects(documents)
}

/// The check of a stack's renders, with what it reads from the stack compiled once: the
/// definitions of custom kinds and the image lock. Their errors are reported where the
/// check uses them, after the errors of the rendered documents.
pub struct Check {
    custom: Result<CustomKinds>,
    lock: Result<Option<Lock>>,
}

/// The value a pod template's `checksum/config` has until the digest is known, and the
/// line the writer makes of it.
const PENDING: &str = "somagen-checksum-pending";
const PENDING_LINE: &str = "checksum/config: somagen-checksum-pending\n";

impl Check {
    /// The check of `stack`'s renders; `pin` pins images to its `images.lock`.
    pub fn new(stack: &Stack, pin: bool) -> Check {
        let (custom, lock) = rayon::join(
            || CustomKinds::of_stack(stack),
            || if pin { pin::read_lock(stack) } else { Ok(None) },
        );
        Check { custom, lock }
    }

    /// The first half of a check, for one template's output (or a part of it) as soon as it
    /// is rendered: its documents read, each checked on its own and pinned, in parallel, and
    /// with a writer, written out.
    pub fn read(&self, template: &RenderedTemplate, write: Option<&Writer>) -> Documents {
        let chunks = parse::split_documents(&template.text);
        let reads = chunks
            .par_iter()
            .enumerate()
            .map(|(index, chunk)| {
                self.entry(template, template.first_document + index, chunk, write)
            })
            .collect();
        Documents { reads }
    }

    /// The rest of the check of one render's templates, read without a writer: checksums
    /// and install order.
    pub fn objects(&self, documents: Vec<Documents>) -> Result<Built> {
        Ok(self.finish(documents, None)?.into_objects())
    }

    /// The rest of the check of one render's templates, read with `write`, which writes
    /// what the end of the check completes: checksums, then the documents in install order.
    pub fn written(&self, documents: Vec<Documents>, write: &Writer) -> Result<Written> {
        let finished = self.finish(documents, Some(write))?;
        Ok(Written {
            documents: finished.items.into_iter().map(Body::into_text).collect(),
            notes: finished.notes,
        })
    }
}

/// The documents of one template's output or a part of it, read by [`Check::read`].
pub struct Documents {
    reads: Vec<Read>,
}

/// One rendered object on its way out, in template order.
struct Entry {
    key: Key,
    source: String,
    /// Not a built-in kind: checked once every CRD of the render is known.
    custom: bool,
    /// The ConfigMap and Secret data it decides, for the checksums.
    contents: Vec<(ConfigKey, String)>,
    body: Body,
}

enum Body {
    /// Still a tree: every object when the caller wants objects; otherwise the custom
    /// kinds and CRDs, which the end of the check needs.
    Object(Object),
    /// Written out. A pod template's text holds [`PENDING`] at `.0` until its digest is known.
    Text(String, Option<(usize, PodConfig)>),
}

/// The result of a check: objects or texts, in install order.
struct Finished {
    items: Vec<Body>,
    notes: Vec<Diagnostic>,
}

impl Finished {
    fn into_objects(self) -> Built {
        Built {
            objects: self.items.into_iter().map(Body::into_object).collect(),
            notes: self.notes,
        }
    }
}

/// A document's entry, the problems its own check found, or why it could not be read.
type Read = Result<Option<(Entry, Vec<Diagnostic>)>>;

impl Check {
    fn entry(
        &self,
        template: &RenderedTemplate,
        index: usize,
        chunk: &parse::Chunk<'_>,
        write: Option<&Writer>,
    ) -> Read {
        let Some(mut object) = parse_chunk(template, index, chunk)? else {
            return Ok(None);
        };
        let problems = builtin_problems(&object);
        let custom = problems.is_none();
        if let Ok(Some(lock)) = &self.lock {
            pin::pin(&mut object, lock);
        }
        let entry = Entry {
            key: Key::of(&object),
            source: object.source.clone(),
            custom,
            contents: checksum::contents_of(&object),
            body: match write {
                Some(write) if !custom && !custom::is_crd(&object) => {
                    write_out(object, write, chunk.text.len())
                }
                _ => Body::Object(object),
            },
        };
        Ok(Some((entry, problems.unwrap_or_default())))
    }

    /// The end of the check, once every object is read: custom kinds, duplicates, then
    /// checksums and the install order. Errors are reported by stage, as a reader would fix
    /// them: unreadable documents, then definitions, then objects, then the image lock.
    fn finish(&self, documents: Vec<Documents>, write: Option<&Writer>) -> Result<Finished> {
        let (mut entries, mut problems) = gather(documents)?;
        let trees = entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| Some((index, entry.tree()?)));
        let custom = RenderKinds::new(&self.custom, trees)?;
        let customs: Vec<&Object> = entries
            .iter()
            .filter(|entry| entry.custom)
            .filter_map(Entry::tree)
            .collect();
        let custom_problems: Vec<Diagnostic> = customs
            .par_iter()
            .flat_map_iter(|object| custom.check(object))
            .collect();
        problems.extend(custom_problems);
        problems.extend(object::duplicates_among(entries.iter().map(|entry| {
            let id = &entry.key.identity;
            let identity = (&*id.group, &*id.kind, &*id.namespace, &*id.name);
            (identity, entry.source.as_str())
        })));
        if !problems.is_empty() {
            problems.sort();
            return Err(Diagnostics(problems));
        }
        let notes = custom.unevaluated_rules(customs);
        if let Err(errors) = &self.lock {
            return Err(errors.clone());
        }
        let mut contents = Contents::new();
        for entry in &mut entries {
            contents.extend(std::mem::take(&mut entry.contents));
        }
        entries
            .par_iter_mut()
            .for_each(|entry| entry.body.complete(&contents, write));
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Finished {
            items: entries.into_iter().map(|entry| entry.body).collect(),
            notes,
        })
    }
}

/// The entries of every document in template order, and the problems their own checks
/// found; the errors of the documents that could not be read, if any.
fn gather(documents: Vec<Documents>) -> Result<(Vec<Entry>, Vec<Diagnostic>)> {
    let mut unreadable = Vec::new();
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for read in documents.into_iter().flat_map(|documents| documents.reads) {
        match read {
            Ok(Some((entry, found))) => {
                entries.push(entry);
                problems.extend(found);
            }
            Ok(None) => {}
            Err(Diagnostics(mut list)) => unreadable.append(&mut list),
        }
    }
    if unreadable.is_empty() {
        Ok((entries, problems))
    } else {
        Err(Diagnostics(unreadable))
    }
}

/// A built-in object written out; a pod template with [`PENDING`] for its checksum. Should
/// the placeholder's line not be unique in the text (a value that spells it out), the
/// object stays a tree and is annotated at the end like any other.
fn write_out(mut object: Object, write: &Writer, rendered_bytes: usize) -> Body {
    // The object as written is about as long as it was rendered: sized once, the texts of
    // a render hold no slack.
    let mut text = String::with_capacity(rendered_bytes + object.source.len() + 64);
    let Some(pod) = PodConfig::of(&object) else {
        write(&object, &mut text);
        return Body::Text(text, None);
    };
    pod.annotate(&mut object, PENDING.to_owned());
    write(&object, &mut text);
    let mut lines = text.match_indices(PENDING_LINE);
    match (lines.next(), lines.next()) {
        (Some((at, _)), None) => {
            let value = at + PENDING_LINE.len() - PENDING.len() - 1;
            Body::Text(text, Some((value, pod)))
        }
        _ => Body::Object(object),
    }
}

impl Entry {
    fn tree(&self) -> Option<&Object> {
        match &self.body {
            Body::Object(object) => Some(object),
            Body::Text(..) => None,
        }
    }
}

impl Body {
    /// Annotate a pod template with its checksum, then write the object if text is wanted.
    fn complete(&mut self, contents: &Contents, write: Option<&Writer>) {
        match self {
            Body::Object(object) => {
                if let Some(pod) = PodConfig::of(object) {
                    pod.annotate(object, pod.digest(contents));
                }
                if let Some(write) = write {
                    let mut text = String::new();
                    write(object, &mut text);
                    *self = Body::Text(text, None);
                }
            }
            Body::Text(text, pending) => {
                if let Some((at, pod)) = pending.take() {
                    let mut digest = String::new();
                    write_line_string(&mut digest, &pod.digest(contents));
                    text.replace_range(at..at + PENDING.len(), &digest);
                }
            }
        }
    }

    fn into_object(self) -> Object {
        match self {
            Body::Object(object) => object,
            Body::Text(..) => unreachable!("a build without a writer keeps every object"),
        }
    }

    fn into_text(self) -> String {
        match self {
            Body::Text(text, _) => text,
            Body::Object(_) => unreachable!("a build with a writer writes every object"),
        }
    }
}

/// The problems of a built-in object (type errors, scope), or `None` for a custom kind.
fn builtin_problems(object: &Object) -> Option<Vec<Diagnostic>> {
    match somagen_kube::check(object.api_version(), object.kind(), &object.value) {
        somagen_kube::Check::Valid => Some(scope_problems(object).into_iter().collect()),
        somagen_kube::Check::Invalid(issues) => Some(
            issues
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
        ),
        somagen_kube::Check::NotBuiltin => None,
    }
}

/// One document of a template's output as an [`Object`]; empty documents are skipped.
fn parse_chunk(
    template: &RenderedTemplate,
    index: usize,
    chunk: &parse::Chunk<'_>,
) -> Result<Option<Object>> {
    let value = parse::parse_document(chunk.text).map_err(|err| {
        // The line in the part, and in the template's output.
        let line_in_part = chunk.first_line + err.line.saturating_sub(1);
        let line = template.first_line - 1 + line_in_part;
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
            .nth(line_in_part.saturating_sub(1))
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
