//! Stage 3, validate: the merged values against `schema/values.schema.json` (draft 2020-12).
//!
//! Every violation becomes a diagnostic at the origin of the offending value (for a missing
//! key, where its parent map was set), and all of them are reported at once.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::{json_schema, suggest};
use crate::pipeline::values::{ListMerge, Located, pointer_to_path};

/// Path of the values schema inside a stack.
pub const SCHEMA_PATH: &str = "schema/values.schema.json";

/// A compiled values schema and the raw document (needed for key suggestions).
pub struct ValuesSchema {
    validator: jsonschema::Validator,
    document: Value,
}

impl ValuesSchema {
    /// Parse and compile a schema; it is first checked against the draft 2020-12
    /// meta-schema, so a broken schema is an error and never a silent pass.
    pub fn compile(file: &str, text: &str) -> Result<ValuesSchema> {
        let mut document = parse_json(file, text)?;
        check_draft(file, &document)?;
        // Compiling checks the schema against the meta-schema first; only a schema that does
        // not compile is checked again, for the meta-schema's error and its place.
        let validator = json_schema::compile_document(&mut document).map_err(|err| {
            let diagnostic = match jsonschema::draft202012::meta::validate(&document) {
                Err(err) => {
                    let pointer = err.instance_path().as_str();
                    Diagnostic::error(
                        Code::Schema,
                        format!("not a valid draft 2020-12 schema: {err}"),
                    )
                    .path(if pointer.is_empty() { "/" } else { pointer })
                }
                Ok(()) => {
                    Diagnostic::error(Code::Schema, format!("cannot compile the schema: {err}"))
                }
            };
            diagnostic.at(Location::Path(file.to_owned()))
        })?;
        Ok(ValuesSchema {
            validator,
            document,
        })
    }

    /// The lists whose items merge by key (`"x-somagen-merge-key": "name"` on an array
    /// schema), found by walking `properties`, `additionalProperties`, `items` and local
    /// `$ref`s.
    pub fn list_merge(&self) -> ListMerge {
        let mut keys = Vec::new();
        merge_keys(
            &self.document,
            &self.document,
            &mut Vec::new(),
            &mut keys,
            0,
        );
        ListMerge::new(keys)
    }

    /// Whether merged values are valid, without saying why: all a render that goes on
    /// needs to know.
    pub fn is_valid(&self, values: &serde_json::Value) -> bool {
        self.validator.is_valid(values)
    }

    /// Validate merged values; every violation is reported, in value-path order.
    pub fn validate(&self, values: &Located) -> Result<()> {
        let mut diagnostics: Vec<Diagnostic> = self
            .validator
            .iter_errors(&values.value)
            .flat_map(|err| self.diagnose(values, &err))
            .collect();
        if diagnostics.is_empty() {
            return Ok(());
        }
        diagnostics.sort();
        diagnostics.dedup();
        Err(Diagnostics(diagnostics))
    }

    fn diagnose(&self, values: &Located, err: &jsonschema::ValidationError<'_>) -> Vec<Diagnostic> {
        let pointer = err.instance_path().as_str();
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
                .iter()
                .map(|key| self.unknown_key(values, pointer, key, err.schema_path().as_str()))
                .collect(),
            ValidationErrorKind::Required { property } => {
                let key = property.as_str().unwrap_or_default();
                vec![
                    Diagnostic::error(Code::Schema, format!("missing required key `{key}`"))
                        .at_opt(values.origin_of(pointer).cloned())
                        .path(display_path(pointer)),
                ]
            }
            _ => {
                // A message quotes the offending value: hide it under credential-like keys
                // and for whole maps and lists, which can be any size.
                let message = if is_sensitive(pointer)
                    || err.instance().is_object()
                    || err.instance().is_array()
                {
                    err.masked().to_string()
                } else {
                    err.to_string()
                };
                let mut diagnostic = Diagnostic::error(Code::Schema, message)
                    .at_opt(values.origin_of(pointer).cloned())
                    .path(display_path(pointer));
                if let Some(hint) = boolean_hint(err) {
                    diagnostic = diagnostic.hint(hint);
                }
                vec![diagnostic]
            }
        }
    }

    /// An unknown key: point at where it was set and suggest the nearest valid key.
    fn unknown_key(
        &self,
        values: &Located,
        parent: &str,
        key: &str,
        schema_path: &str,
    ) -> Diagnostic {
        let pointer = crate::pipeline::values::child_pointer(parent, key);
        let valid = self.valid_keys(schema_path);
        let listed = valid
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match suggest::nearest(key, valid.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`? valid keys: {listed}"),
            None if valid.is_empty() => "this map accepts no keys".to_owned(),
            None => format!("valid keys: {listed}"),
        };
        Diagnostic::error(Code::Schema, format!("unknown key `{key}`"))
            .at_opt(values.origin_of(&pointer).cloned())
            .path(display_path(&pointer))
            .hint(hint)
    }

    /// The `properties` declared beside the `additionalProperties` that rejected a key.
    fn valid_keys(&self, schema_path: &str) -> Vec<String> {
        let parent = schema_path
            .strip_suffix("/additionalProperties")
            .unwrap_or(schema_path);
        self.document
            .pointer(&format!("{parent}/properties"))
            .and_then(Value::as_object)
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn parse_json(file: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|err| {
        Diagnostic::error(Code::Schema, format!("invalid JSON: {err}"))
            .at(Location::File {
                file: file.into(),
                line: err.line(),
                col: err.column(),
            })
            .into()
    })
}

/// somagen validates with draft 2020-12 only; a schema naming another draft is refused
/// rather than silently validated under different rules.
fn check_draft(file: &str, document: &Value) -> Result<()> {
    match document.get("$schema").and_then(Value::as_str) {
        None | Some("https://json-schema.org/draft/2020-12/schema") => Ok(()),
        Some(other) => Err(Diagnostic::error(
            Code::Schema,
            format!("unsupported `$schema` {other}"),
        )
        .at(Location::Path(file.to_owned()))
        .hint("use \"$schema\": \"https://json-schema.org/draft/2020-12/schema\"")
        .into()),
    }
}

fn display_path(pointer: &str) -> String {
    if pointer.is_empty() {
        "(root)".to_owned()
    } else {
        pointer_to_path(pointer)
    }
}

/// Values whose path names a credential are reported without their value.
fn is_sensitive(pointer: &str) -> bool {
    let lower = pointer.to_ascii_lowercase();
    ["password", "secret", "token", "credential", "key"]
        .iter()
        .any(|word| lower.contains(word))
}

/// YAML 1.2 reads `yes`/`no`/`on`/`off` as strings; say so when a boolean was expected.
fn boolean_hint(err: &jsonschema::ValidationError<'_>) -> Option<String> {
    let ValidationErrorKind::Type { .. } = err.kind() else {
        return None;
    };
    let text = err.instance().as_str()?;
    let wants_bool = err.to_string().contains("boolean");
    let truthy = [
        "yes", "on", "y", "true", "True", "Yes", "On", "Y", "YES", "ON",
    ];
    let falsy = [
        "no", "off", "n", "false", "False", "No", "Off", "N", "NO", "OFF",
    ];
    if !wants_bool {
        return None;
    }
    if truthy.contains(&text) {
        Some(format!(
            "write `true` instead of `{text}`: values files are YAML 1.2, where `{text}` is a string"
        ))
    } else if falsy.contains(&text) {
        Some(format!(
            "write `false` instead of `{text}`: values files are YAML 1.2, where `{text}` is a string"
        ))
    } else {
        None
    }
}

/// Collect (path pattern, merge key) pairs under `node`; `depth` stops recursive `$ref`s.
fn merge_keys(
    root: &Value,
    node: &Value,
    path: &mut Vec<Option<String>>,
    out: &mut Vec<(Vec<Option<String>>, String)>,
    depth: usize,
) {
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => match reference.strip_prefix('#').map(|p| root.pointer(p)) {
            Some(Some(target)) => target,
            _ => return,
        },
        None => node,
    };
    if let Some(key) = node.get("x-somagen-merge-key").and_then(Value::as_str) {
        out.push((path.clone(), key.to_owned()));
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            path.push(Some(name.clone()));
            merge_keys(root, child, path, out, depth + 1);
            path.pop();
        }
    }
    for any in ["additionalProperties", "items"] {
        if let Some(child) = node.get(any).filter(|c| c.is_object()) {
            path.push(None);
            merge_keys(root, child, path, out, depth + 1);
            path.pop();
        }
    }
}

/// Nesting beyond which the merge-key walk stops (a schema referring to itself).
const MAX_SCHEMA_DEPTH: usize = 64;
