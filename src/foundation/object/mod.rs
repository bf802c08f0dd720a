//! The object model shared by every stage and tool: a Kubernetes object with the template
//! it came from, its identity, and the checks that make a document an object at all.
//!
//! - [`pods`]: where a workload keeps its pod template, its containers, and what it references.
//! - [`order`]: the install order.

pub mod names;
pub mod order;
pub mod pods;
pub mod refs;

use std::collections::HashMap;

use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Location, describe};

/// A checked Kubernetes object and the template it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The template path, e.g. `templates/redis/statefulset.yaml`.
    pub source: String,
    pub value: Value,
}

/// What makes an object unique in a cluster: API group, kind, namespace and name. An
/// `apps` Deployment `web` and an `example.com` Deployment `web` are two objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Identity {
    /// Whether this is a built-in Kubernetes kind in its own group.
    pub fn is_builtin(&self) -> bool {
        somagen_kube::is_builtin_group_kind(&self.group, &self.kind)
    }
}

impl std::fmt::Display for Identity {
    /// `Kind/namespace/name` for a built-in kind; `Kind.group/namespace/name` (kubectl's
    /// form) for any other, so two identities never print alike. No namespace part for
    /// cluster-scoped objects.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kind)?;
        if !self.group.is_empty() && !self.is_builtin() {
            write!(f, ".{}", self.group)?;
        }
        if !self.namespace.is_empty() {
            write!(f, "/{}", self.namespace)?;
        }
        write!(f, "/{}", self.name)
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
            group: group(self.api_version()).to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().to_owned(),
            name: self.name().to_owned(),
        }
    }
}

/// The API group of an `apiVersion` (`""` for the core group).
pub fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// Why a document is not a Kubernetes object, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeProblem {
    pub message: String,
    pub hint: String,
}

/// Why a document is not a Kubernetes object (a mapping with `apiVersion` and `kind`
/// strings and a `metadata.name` string), if it is not. Every reader of manifests (the
/// render, `diff --against`) applies this one rule.
pub fn shape_problem(value: &Value) -> Option<ShapeProblem> {
    let problem = |message: String, hint: &str| {
        Some(ShapeProblem {
            message,
            hint: hint.to_owned(),
        })
    };
    let Some(map) = value.as_object() else {
        return problem(
            format!("a document must be a mapping, found {}", describe(value)),
            "each YAML document is one object: `apiVersion`, `kind`, `metadata`, ...",
        );
    };
    for key in ["apiVersion", "kind"] {
        match map.get(key) {
            Some(Value::String(text)) if !text.is_empty() => {}
            _ => {
                return problem(
                    format!("it has no `{key}` string"),
                    "every object names its `apiVersion` and `kind`",
                );
            }
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("List") {
        return problem(
            "a `List` is a client-side wrapper, not an object the API server stores".into(),
            "render each item as its own document (`---` between them) instead of a List",
        );
    }
    match value.pointer("/metadata/name") {
        Some(Value::String(_)) => None,
        _ if value.pointer("/metadata/generateName").is_some() => problem(
            "it has only `metadata.generateName`: `kubectl apply` needs a name to find the object again, so every apply would create a new one".into(),
            "give it a fixed `metadata.name` (e.g. the generateName prefix plus a suffix from values)",
        ),
        _ => problem("it has no `metadata.name` string".into(), "every object needs `metadata.name`"),
    }
}

/// A diagnostic for every object whose identity an earlier object already has.
pub fn duplicates(objects: &[Object]) -> Vec<Diagnostic> {
    // The identities are borrowed from the objects: an owned `Identity` per object would
    // be four allocations each, on a path that runs once for every object of a render.
    duplicates_among(objects.iter().map(|object| {
        let identity = (
            group(object.api_version()),
            object.kind(),
            object.namespace(),
            object.name(),
        );
        (identity, object.source.as_str())
    }))
}

/// [`duplicates`] over (group, kind, namespace, name) and source of each object, in order.
pub fn duplicates_among<'a>(
    objects: impl IntoIterator<Item = ((&'a str, &'a str, &'a str, &'a str), &'a str)>,
) -> Vec<Diagnostic> {
    let objects = objects.into_iter();
    let mut seen: HashMap<(&str, &str, &str, &str), &str> =
        HashMap::with_capacity(objects.size_hint().0);
    let mut diagnostics = Vec::new();
    for (identity, source) in objects {
        if let Some(first) = seen.get(&identity) {
            let (group, kind, namespace, name) = identity;
            let identity = Identity {
                group: group.to_owned(),
                kind: kind.to_owned(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            };
            diagnostics.push(
                Diagnostic::error(
                    Code::Manifest,
                    format!("duplicate object: {first} has it too"),
                )
                .at(Location::Path(source.to_owned()))
                .path(identity.to_string())
                .hint("rename one of them; kind, namespace and name must be unique"),
            );
        } else {
            seen.insert(identity, source);
        }
    }
    diagnostics
}
