//! Custom resources, checked against their definitions: the `CustomResourceDefinition`
//! manifests in `schema/crds/*.yaml` (several per file allowed) and those the stack renders
//! itself, or a JSON schema `schema/crds/<kind>.json`.
//!
//! A CRD's `openAPIV3Schema` is read with the API server's structural-schema semantics and
//! turned into a JSON Schema: unknown fields are errors unless
//! `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string`,
//! `x-kubernetes-embedded-resource`, `nullable`, enums, patterns, formats and bounds hold; a
//! version that is not served is refused with the served list. CEL rules
//! (`x-kubernetes-validations`) need Kubernetes' CEL libraries, which no maintained Rust
//! implementation provides: they are counted and reported once per kind, not evaluated.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::foundation::diag::{self, Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::json_schema;
use crate::foundation::located::pointer_to_path;
use crate::foundation::object::{Object, group};
use crate::foundation::yaml::manifest as parse;
use crate::pipeline::stack::Stack;

/// The definitions of every custom kind a render may hold.
pub struct CustomKinds {
    /// `<kind>.json` schemas, by lowercased kind (any group).
    json: BTreeMap<String, jsonschema::Validator>,
    /// CRDs, by (group, kind).
    crds: BTreeMap<(String, String), Definition>,
}

/// One CRD: where it was read, and its versions.
struct Definition {
    source: String,
    versions: Vec<Version>,
}

struct Version {
    name: String,
    served: bool,
    /// `None` when the version has no schema (nothing to check).
    schema: Option<jsonschema::Validator>,
    /// CEL rules in the schema, which are not evaluated.
    cel_rules: usize,
}

impl CustomKinds {
    /// Compile the stack's own definitions: the schemas and CRDs of `schema/crds/`.
    pub fn of_stack(stack: &Stack) -> Result<CustomKinds> {
        let mut kinds = CustomKinds {
            json: BTreeMap::new(),
            crds: BTreeMap::new(),
        };
        let mut diagnostics = Vec::new();
        for (path, text) in stack.files_under("schema/crds") {
            if path.ends_with(".json") {
                match compile_json(text) {
                    Ok(validator) => {
                        let kind = path.rsplit('/').next().unwrap_or(path);
                        let kind = kind.trim_end_matches(".json").to_ascii_lowercase();
                        kinds.json.insert(kind, validator);
                    }
                    Err(err) => diagnostics.push(
                        Diagnostic::error(Code::Schema, format!("invalid CRD schema: {err}"))
                            .at(Location::Path(path.to_owned())),
                    ),
                }
            } else if path.ends_with(".yaml") || path.ends_with(".yml") {
                for (index, document) in documents(path, text, &mut diagnostics) {
                    add(&mut kinds.crds, path, index, &document, &mut diagnostics);
                }
            }
        }
        diag::finish(kinds, diagnostics)
    }
}

/// The definitions one render's custom objects are checked against: the stack's, and the
/// CRDs the render holds itself, which win for the same group and kind.
pub struct RenderKinds<'a> {
    stack: &'a CustomKinds,
    rendered: BTreeMap<(String, String), Definition>,
}

impl<'a> RenderKinds<'a> {
    /// The stack's definitions (or the errors they had) with the CRDs among the rendered
    /// `objects` (each with its position in the render); the errors of both are reported
    /// together, the stack's first.
    pub fn new<'o>(
        stack: &'a Result<CustomKinds>,
        objects: impl IntoIterator<Item = (usize, &'o Object)>,
    ) -> Result<RenderKinds<'a>> {
        let mut rendered = BTreeMap::new();
        let mut diagnostics = Vec::new();
        for (index, object) in objects {
            if is_crd(object) {
                add(
                    &mut rendered,
                    &object.source,
                    index,
                    &object.value,
                    &mut diagnostics,
                );
            }
        }
        match stack {
            Ok(stack) => diag::finish(RenderKinds { stack, rendered }, diagnostics),
            Err(Diagnostics(errors)) => Err(Diagnostics(
                errors.iter().cloned().chain(diagnostics).collect(),
            )),
        }
    }

    fn definition(&self, group: &str, kind: &str) -> Option<&Definition> {
        let key = (group.to_owned(), kind.to_owned());
        self.rendered
            .get(&key)
            .or_else(|| self.stack.crds.get(&key))
    }

    /// Check one object that is not a built-in kind.
    pub fn check(&self, object: &Object) -> Vec<Diagnostic> {
        let identity = object.identity();
        let fail = |message: String| {
            Diagnostic::error(Code::Manifest, message)
                .at(Location::Path(object.source.clone()))
                .path(identity.to_string())
        };
        let validator = if let Some(definition) = self.definition(&identity.group, &identity.kind) {
            let version = object.api_version().rsplit_once('/').map_or("", |(_, v)| v);
            let served: Vec<&str> = definition
                .versions
                .iter()
                .filter(|v| v.served)
                .map(|v| v.name.as_str())
                .collect();
            match definition
                .versions
                .iter()
                .find(|v| v.name == version && v.served)
            {
                Some(found) => found.schema.as_ref(),
                None => {
                    return vec![
                        fail(format!(
                            "version `{version}` of {} is not served by its CRD ({})",
                            identity.kind, definition.source
                        ))
                        .hint(format!(
                            "served versions: {}",
                            served
                                .iter()
                                .map(|v| format!("{}/{v}", identity.group))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ];
                }
            }
        } else if let Some(validator) = self.stack.json.get(&identity.kind.to_ascii_lowercase()) {
            Some(validator)
        } else {
            return vec![fail(format!(
                "`{}` `{}` is not a built-in Kubernetes kind and has no definition",
                object.api_version(),
                object.kind()
            ))
            .hint(format!(
                "add its operator's CustomResourceDefinition YAML to schema/crds/ (or a JSON schema schema/crds/{}.json), or fix a typo in apiVersion/kind",
                object.kind().to_ascii_lowercase()
            ))];
        };
        let Some(validator) = validator else {
            return Vec::new();
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

    /// One note per custom kind in `objects` whose CRD has CEL rules, which were not evaluated.
    pub fn unevaluated_rules<'o>(
        &self,
        objects: impl IntoIterator<Item = &'o Object>,
    ) -> Vec<Diagnostic> {
        if self.rendered.is_empty() && self.stack.crds.is_empty() {
            return Vec::new();
        }
        let mut seen = BTreeMap::new();
        for object in objects {
            let kind = object.kind();
            let Some(definition) = self.definition(group(object.api_version()), kind) else {
                continue;
            };
            let version = object.api_version().rsplit_once('/').map_or("", |(_, v)| v);
            if let Some(v) = definition
                .versions
                .iter()
                .find(|v| v.name == version && v.cel_rules > 0)
            {
                seen.entry(format!("{}/{kind}", object.api_version()))
                    .or_insert((v.cel_rules, definition.source.clone()));
            }
        }
        seen.into_iter()
            .map(|(kind, (rules, source))| {
                Diagnostic::note(
                    Code::Manifest,
                    format!("{rules} CEL rule(s) of {kind} were not evaluated; the API server checks them on apply"),
                )
                .at(Location::Path(source))
            })
            .collect()
    }
}

/// Add one CRD document to `crds` (anything but a CRD is refused).
fn add(
    crds: &mut BTreeMap<(String, String), Definition>,
    source: &str,
    index: usize,
    crd: &Value,
    out: &mut Vec<Diagnostic>,
) {
    let fail = |message: String| {
        Diagnostic::error(Code::Schema, message)
            .at(Location::Path(source.to_owned()))
            .path(format!("document {index}"))
    };
    let kind_of = |v: &Value| {
        v.get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if kind_of(crd) != "CustomResourceDefinition" {
        out.push(
            fail(format!(
                "`{}` is not a CustomResourceDefinition",
                kind_of(crd)
            ))
            .hint("schema/crds/ holds CustomResourceDefinition YAML files and <kind>.json schemas"),
        );
        return;
    }
    let text = |pointer: &str| {
        crd.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let (crd_group, kind) = (text("/spec/group"), text("/spec/names/kind"));
    if crd_group.is_empty() || kind.is_empty() {
        out.push(fail("the CRD has no spec.group or spec.names.kind".into()));
        return;
    }
    let mut versions = Vec::new();
    for version in crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = version
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let schema = version.pointer("/schema/openAPIV3Schema");
        let compiled = match schema {
            None => None,
            Some(schema) => match compile_json_value(&structural(schema, true)) {
                Ok(validator) => Some(validator),
                Err(err) => {
                    out.push(fail(format!(
                        "{kind} {name}: invalid openAPIV3Schema: {err}"
                    )));
                    continue;
                }
            },
        };
        versions.push(Version {
            name: name.to_owned(),
            served: version
                .get("served")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            schema: compiled,
            cel_rules: schema.map_or(0, count_cel_rules),
        });
    }
    crds.insert(
        (crd_group.to_owned(), kind.to_owned()),
        Definition {
            source: source.to_owned(),
            versions,
        },
    );
}

pub fn is_crd(object: &Object) -> bool {
    group(object.api_version()) == "apiextensions.k8s.io"
        && object.kind() == "CustomResourceDefinition"
}

/// The documents of a YAML file, numbered; parse errors are collected.
fn documents(path: &str, text: &str, out: &mut Vec<Diagnostic>) -> Vec<(usize, Value)> {
    let mut found = Vec::new();
    for (index, chunk) in parse::split_documents(text).into_iter().enumerate() {
        match parse::parse_document(chunk.text) {
            Ok(Value::Null) => {}
            Ok(value) => found.push((index, value)),
            Err(err) => out.push(
                Diagnostic::error(Code::Schema, err.message).at(Location::File {
                    file: path.into(),
                    line: chunk.first_line + err.line.saturating_sub(1),
                    col: 1,
                }),
            ),
        }
    }
    found
}

fn compile_json(text: &str) -> std::result::Result<jsonschema::Validator, String> {
    let doc: Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    compile_json_value(&doc)
}

fn compile_json_value(doc: &Value) -> std::result::Result<jsonschema::Validator, String> {
    json_schema::compile(doc).map_err(|err| err.to_string())
}

/// The JSON Schema that checks what the API server's structural schema accepts, strictly:
/// where the API server would prune an unknown field, somagen reports it.
fn structural(schema: &Value, root: bool) -> Value {
    let Some(node) = schema.as_object() else {
        return Value::Bool(true);
    };
    let mut out: Map<String, Value> = node
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), keyword(key, value, node)?)))
        .collect();
    kubernetes_extensions(&mut out, node, root);
    let converted = Value::Object(out);
    if flag(node, "nullable") {
        json!({"anyOf": [{"type": "null"}, converted]})
    } else {
        converted
    }
}

fn flag(node: &Map<String, Value>, key: &str) -> bool {
    node.get(key).and_then(Value::as_bool) == Some(true)
}

/// One keyword of an OpenAPI v3 schema node as JSON Schema (None: not a validation).
fn keyword(key: &str, value: &Value, node: &Map<String, Value>) -> Option<Value> {
    match key {
        "properties" | "patternProperties" => {
            let props = value.as_object().map(|props| {
                props
                    .iter()
                    .map(|(name, sub)| (name.clone(), structural(sub, false)))
                    .collect()
            });
            Some(Value::Object(props.unwrap_or_default()))
        }
        "items" | "not" => Some(structural(value, false)),
        "additionalProperties" => Some(match value {
            Value::Bool(b) => Value::Bool(*b),
            sub => structural(sub, false),
        }),
        // Value validations only: their members must not add fields of their own.
        "allOf" | "anyOf" | "oneOf" => Some(Value::Array(
            value
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| loose(structural(m, false)))
                .collect(),
        )),
        "type" | "enum" | "pattern" | "minimum" | "maximum" | "minLength" | "maxLength"
        | "minItems" | "maxItems" | "uniqueItems" | "minProperties" | "maxProperties"
        | "required" | "multipleOf" | "format" => Some(value.clone()),
        // OpenAPI 3.0's boolean exclusive bounds are JSON Schema's numeric ones.
        "exclusiveMinimum" if value.as_bool() == Some(true) => node.get("minimum").cloned(),
        "exclusiveMaximum" if value.as_bool() == Some(true) => node.get("maximum").cloned(),
        _ => None,
    }
}

/// What the API server adds to a structural schema: exclusive bounds replace inclusive
/// ones, int-or-string, `apiVersion`/`kind`/`metadata` on the root and embedded resources,
/// and no unknown fields unless preserved.
fn kubernetes_extensions(out: &mut Map<String, Value>, node: &Map<String, Value>, root: bool) {
    if flag(node, "exclusiveMinimum") {
        out.remove("minimum");
    }
    if flag(node, "exclusiveMaximum") {
        out.remove("maximum");
    }
    if flag(node, "x-kubernetes-int-or-string") {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if root || flag(node, "x-kubernetes-embedded-resource") {
        // Every object, and an embedded one, carries its type and metadata; the API server
        // checks metadata as ObjectMeta whatever the schema says of it.
        let props = out.entry("properties").or_insert_with(|| json!({}));
        if let Some(props) = props.as_object_mut() {
            props
                .entry("apiVersion")
                .or_insert_with(|| json!({"type": "string"}));
            props
                .entry("kind")
                .or_insert_with(|| json!({"type": "string"}));
            props.insert("metadata".into(), json!({"type": "object"}));
        }
    }
    let is_object = node.get("type").and_then(Value::as_str) == Some("object") || root;
    if is_object
        && !flag(node, "x-kubernetes-preserve-unknown-fields")
        && !node.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
}

/// A member of `allOf`/`anyOf`/`oneOf` constrains values, never the set of fields.
fn loose(mut schema: Value) -> Value {
    if let Some(map) = schema.as_object_mut()
        && map.get("additionalProperties") == Some(&Value::Bool(false))
    {
        map.remove("additionalProperties");
    }
    schema
}

fn count_cel_rules(schema: &Value) -> usize {
    match schema {
        Value::Object(map) => {
            let own = map
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            own + map.values().map(count_cel_rules).sum::<usize>()
        }
        Value::Array(items) => items.iter().map(count_cel_rules).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: false
    storage: false
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: self.size > 0
            properties:
              size: {type: integer, minimum: 1, maximum: 10, exclusiveMaximum: true}
              port: {x-kubernetes-int-or-string: true}
              mode: {type: string, enum: [fast, slow]}
              name: {type: string, pattern: '^[a-z]+$', maxLength: 8}
              note: {type: string, nullable: true}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              labels: {type: object, additionalProperties: {type: string}}
              template: {type: object, x-kubernetes-embedded-resource: true, properties: {spec: {type: object}}}
"#;

    fn kinds() -> Result<CustomKinds> {
        let mut kinds = CustomKinds {
            json: BTreeMap::new(),
            crds: BTreeMap::new(),
        };
        let mut out = Vec::new();
        let crd = parse::parse_document(CRD).unwrap();
        add(
            &mut kinds.crds,
            "schema/crds/widgets.yaml",
            0,
            &crd,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        Ok(kinds)
    }

    fn problems(api_version: &str, spec: Value) -> Vec<String> {
        let object = Object {
            source: "templates/w.yaml".into(),
            value: json!({"apiVersion": api_version, "kind": "Widget",
                "metadata": {"name": "w", "namespace": "n", "labels": {"a": "b"}}, "spec": spec}),
        };
        let kinds = kinds();
        RenderKinds::new(&kinds, [])
            .expect("no rendered CRDs")
            .check(&object)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn structural_schema_semantics_hold() {
        let ok = json!({"size": 3, "port": "http", "mode": "fast", "name": "abc", "note": null,
            "extra": {"anything": [1]}, "labels": {"x": "y"},
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}});
        assert_eq!(problems("example.com/v1", ok), Vec::<String>::new());
        let port = problems("example.com/v1", json!({"size": 1, "port": 8080}));
        assert!(port.is_empty(), "int-or-string takes an integer: {port:?}");
        for (bad, needle) in [
            (json!({"size": 1, "sise": 2}), "'sise' was unexpected"),
            (json!({"size": 10}), "spec.size"),
            (json!({"size": 0}), "spec.size"),
            (json!({"size": 1, "port": true}), "spec.port"),
            (json!({"size": 1, "mode": "medium"}), "spec.mode"),
            (json!({"size": 1, "name": "ABC"}), "spec.name"),
            (json!({"size": 1, "labels": {"x": 1}}), "spec.labels.x"),
            (
                json!({"size": 1, "template": {"spec": {}, "oops": 1}}),
                "'oops' was unexpected",
            ),
            (json!({}), "\"size\" is a required property"),
        ] {
            let found = problems("example.com/v1", bad.clone());
            assert!(
                found.iter().any(|p| p.contains(needle)),
                "{bad} should fail with {needle:?}: {found:?}"
            );
        }
    }

    #[test]
    fn a_version_that_is_not_served_is_refused_with_the_served_list() {
        let found = problems("example.com/v1alpha1", json!({"size": 1}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("version `v1alpha1` of Widget is not served"),
            "{found:?}"
        );
        assert!(
            found[0].contains("served versions: example.com/v1"),
            "{found:?}"
        );
    }

    #[test]
    fn cel_rules_are_reported_once_per_kind() {
        let object = |name: &str| Object {
            source: "templates/w.yaml".into(),
            value: json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}}),
        };
        let kinds = kinds();
        let notes = RenderKinds::new(&kinds, [])
            .expect("no rendered CRDs")
            .unevaluated_rules(&[object("a"), object("b")]);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0]
                .message
                .contains("1 CEL rule(s) of example.com/v1/Widget were not evaluated")
        );
    }
}
