//! Draft 2020-12 validators whose `pattern` keyword compiles in a fraction of the time.
//!
//! jsonschema compiles each use of a `pattern` into a whole `regex`: forward and reverse
//! automata, literal prefilters, a one-pass DFA. On a small stack that compile is a tenth of
//! a render. Here each pattern is compiled once, by a compiler each thread keeps (a fresh
//! compiler allocates and fills a large UTF-8 cache before its first pattern), to one
//! Thompson NFA, matched by a lazy DFA built from it as values are matched, or by its
//! PikeVM where the lazy DFA gives up.
//!
//! The patterns mean what they mean to jsonschema: they are translated from ECMA-262 by the
//! same translator, and compiled with the same syntax and the same engine family as its
//! `regex`. A value that does not match gets jsonschema's own error, from jsonschema's own
//! validator of the pattern. A pattern the NFA does not take (look-around, back-references,
//! one too large) is handed to jsonschema whole.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::{Arc, OnceLock};

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError, Validator};
use regex_automata::Input;
use regex_automata::hybrid;
use regex_automata::nfa::thompson::{self, WhichCaptures, pikevm};
use regex_automata::util::pool::Pool;
use serde_json::{Map, Value, json};

/// Compile a draft 2020-12 schema (checked against the meta-schema first, as jsonschema
/// always does).
pub fn compile(schema: &Value) -> Result<Validator, ValidationError<'static>> {
    jsonschema::draft202012::options()
        .with_keyword("pattern", pattern)
        .build(schema)
}

/// [`compile`], for a schema document the caller owns, faster where its root has an `$id`
/// that none of its references can use.
///
/// jsonschema resolves every `$ref` against the base URI of its resource, and an absolute
/// `$id` makes each resolution markedly dearer: the built-in stack's values schema, 87
/// references, compiles in 0.80 ms without its `$id` and in 1.35 ms with it. Where every
/// reference is a fragment of the document (`#...`) and the root is its only resource, the
/// `$id` cannot change what a reference points to: it is set aside while the rest compiles,
/// checked against the meta-schema on its own, and put back. Anything that fails is
/// compiled again as written, so errors are the ones jsonschema gives for the document.
pub fn compile_document(schema: &mut Value) -> Result<Validator, ValidationError<'static>> {
    let Some((index, id)) = take_unused_root_id(schema) else {
        return compile(schema);
    };
    let id_is_valid = jsonschema::draft202012::meta::is_valid(&json!({ "$id": &id }));
    let compiled = id_is_valid.then(|| compile(schema).ok()).flatten();
    if let Some(root) = schema.as_object_mut() {
        root.shift_insert(index, "$id".to_owned(), id);
    }
    compiled.map_or_else(|| compile(schema), Ok)
}

/// The root's `$id` and its place, taken out, if no reference can resolve against it.
fn take_unused_root_id(schema: &mut Value) -> Option<(usize, Value)> {
    let root = schema.as_object()?;
    let index = root.keys().position(|key| key == "$id")?;
    let nested = root
        .iter()
        .filter(|(key, _)| *key != "$id")
        .any(|(_, value)| names_a_resource(value));
    if nested {
        return None;
    }
    let id = schema.as_object_mut()?.shift_remove("$id")?;
    Some((index, id))
}

/// Whether a part of a schema declares a resource of its own (an `$id`) or refers to
/// anything but a fragment of the document. Keys are matched wherever they are, in data
/// (`const`, `default`) too: a false match only keeps the `$id`.
fn names_a_resource(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, value)| match key.as_str() {
            "$id" => true,
            "$ref" | "$dynamicRef" => !value.as_str().is_some_and(|r| r.starts_with('#')),
            _ => names_a_resource(value),
        }),
        Value::Array(items) => items.iter().any(names_a_resource),
        _ => false,
    }
}

/// Patterns whose NFA would be larger than this are left to jsonschema, which applies its
/// own size limit to them.
const NFA_SIZE_LIMIT: usize = 1 << 20;

thread_local! {
    /// Each pattern's matcher, or `None` where jsonschema has the pattern: a schema's
    /// `$ref`s compile the schemas they point to once per use, patterns and all.
    static NFAS: RefCell<Nfas> = RefCell::new(Nfas::new());
}

struct Nfas {
    compiler: thompson::Compiler,
    compiled: HashMap<String, Option<Arc<Matcher>>>,
}

impl Nfas {
    fn new() -> Nfas {
        let mut compiler = thompson::Compiler::new();
        compiler.configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
        );
        Nfas {
            compiler,
            compiled: HashMap::new(),
        }
    }

    /// The matcher of a pattern, if an NFA takes it. Inline flags and look-around (any `(?`
    /// but a plain group's `(?:`) are left to jsonschema, whose engine reads them its own
    /// way and refuses some the NFA's syntax takes, such as `(?-u)`.
    fn of(&mut self, source: &str) -> Option<Arc<Matcher>> {
        if let Some(compiled) = self.compiled.get(source) {
            return compiled.clone();
        }
        let plain = source
            .match_indices("(?")
            .all(|(at, _)| source[at..].starts_with("(?:"));
        let compiled = plain
            .then(|| jsonschema_regex::to_rust_regex(source).ok())
            .flatten()
            .and_then(|translated| self.compiler.build(&translated).ok())
            .and_then(|nfa| Matcher::new(source, nfa).ok())
            .map(Arc::new);
        self.compiled.insert(source.to_owned(), compiled.clone());
        compiled
    }
}

/// One pattern, shared by all its uses: a lazy DFA for speed, built from the NFA as values
/// are matched (a pattern is matched against every app's values of a large stack), and the
/// NFA's PikeVM where the lazy DFA gives up (a Unicode word boundary met in non-ASCII text).
struct Matcher {
    dfa: hybrid::dfa::DFA,
    vm: pikevm::PikeVM,
    caches: Pool<Caches, NewCaches>,
    /// The pattern as the schema wrote it, for jsonschema's error.
    source: String,
    /// Only a value that does not match needs jsonschema's validator, for its error.
    jsonschema: OnceLock<Result<Validator, ValidationError<'static>>>,
}

struct Caches {
    dfa: hybrid::dfa::Cache,
    vm: pikevm::Cache,
}

type NewCaches = Box<dyn Fn() -> Caches + Send + Sync + UnwindSafe + RefUnwindSafe>;

impl Matcher {
    fn new(source: &str, nfa: thompson::NFA) -> Result<Matcher, Box<dyn std::error::Error>> {
        let dfa = hybrid::dfa::DFA::builder().build_from_nfa(nfa.clone())?;
        let vm = pikevm::PikeVM::new_from_nfa(nfa)?;
        let (for_dfa, for_vm) = (dfa.clone(), vm.clone());
        Ok(Matcher {
            dfa,
            vm,
            caches: Pool::new(Box::new(move || Caches {
                dfa: for_dfa.create_cache(),
                vm: for_vm.create_cache(),
            })),
            source: source.to_owned(),
            jsonschema: OnceLock::new(),
        })
    }

    fn is_match(&self, text: &str) -> bool {
        let caches = &mut self.caches.get();
        let input = Input::new(text).earliest(true);
        match self.dfa.try_search_fwd(&mut caches.dfa, &input) {
            Ok(found) => found.is_some(),
            Err(_) => self.vm.is_match(&mut caches.vm, input),
        }
    }

    /// jsonschema's error for a value that does not match.
    fn mismatch<'i>(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        let source = &self.source;
        match self
            .jsonschema
            .get_or_init(|| jsonschema_pattern(&Value::String(source.clone())))
        {
            Ok(validator) => validator.validate(instance),
            // A pattern only the NFA takes: the same words, the value never quoted.
            Err(_) => Err(ValidationError::custom(format!(
                r#"value does not match "{source}""#
            ))),
        }
    }
}

enum Pattern {
    Nfa(Arc<Matcher>),
    Jsonschema(Validator),
}

/// The factory of the `pattern` keyword.
fn pattern<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _location: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let matcher = value
        .as_str()
        .and_then(|source| NFAS.with(|nfas| nfas.borrow_mut().of(source)));
    Ok(Box::new(match matcher {
        Some(matcher) => Pattern::Nfa(matcher),
        None => Pattern::Jsonschema(jsonschema_pattern(value)?),
    }))
}

/// jsonschema's own validator of one pattern.
fn jsonschema_pattern(pattern: &Value) -> Result<Validator, ValidationError<'static>> {
    jsonschema::draft202012::new(&json!({ "pattern": pattern }))
}

impl<'i> Keyword<'i> for Pattern {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match self {
            Pattern::Nfa(_) if self.is_valid(instance) => Ok(()),
            Pattern::Nfa(matcher) => matcher.mismatch(instance),
            Pattern::Jsonschema(validator) => validator.validate(instance),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        match (self, instance) {
            (Pattern::Nfa(matcher), Value::String(text)) => matcher.is_match(text),
            (Pattern::Nfa(_), _) => true,
            (Pattern::Jsonschema(validator), _) => validator.is_valid(instance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pattern the built-in stack's schemas use, and some that exercise the edges:
    /// ECMA-262 classes, Unicode, anchors, and patterns only jsonschema takes.
    fn patterns() -> Vec<String> {
        let mut patterns = Vec::new();
        for file in embedded_schemas() {
            collect_patterns(&serde_json::from_str(&file).unwrap(), &mut patterns);
        }
        assert!(patterns.len() > 40, "the stack's patterns were found");
        patterns.extend(
            [
                r"\d+",
                r"^\w+$",
                r"^\s*$",
                r"\p{L}",
                r"[^\S\n]",
                r"^(?!admin)[a-z]+$",
                r"(a)\1",
                r"é+",
                r"^\cA$",
                r"",
                r"(?-u:\w)",
                r"(?i)abc",
                r"^(?:ab)+$",
                r"(?<=a)b",
                r"\bab\b",
                r"\Bb",
            ]
            .map(str::to_owned),
        );
        patterns.sort();
        patterns.dedup();
        patterns
    }

    fn collect_patterns(node: &Value, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(pattern)) = map.get("pattern") {
                    out.push(pattern.clone());
                }
                map.values().for_each(|child| collect_patterns(child, out));
            }
            Value::Array(items) => items.iter().for_each(|item| collect_patterns(item, out)),
            _ => {}
        }
    }

    fn embedded_schemas() -> Vec<String> {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = vec![format!("{root}/schema/values.schema.json")];
        for entry in std::fs::read_dir(format!("{root}/schema/crds")).unwrap() {
            files.push(entry.unwrap().path().display().to_string());
        }
        files
            .iter()
            .map(|file| std::fs::read_to_string(file).unwrap())
            .collect()
    }

    const TEXTS: &[&str] = &[
        "",
        "abc",
        "my-app",
        "My_App.1",
        "a b c d e",
        "* * * * *",
        "0 3 * * 1",
        "30s",
        "1h30m",
        "250m",
        "2Gi",
        "10.0.0.1",
        "::1",
        "https://example.com/x",
        "http://a b",
        "user@example.com",
        "no\u{a0}break",
        "line\u{2028}sep",
        "tab\there",
        "new\nline",
        "émoji 🎉",
        "\u{1}",
        "quote'",
        "aa",
        "admin",
        "$2b$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY.",
        "a.b-c_d/e",
        "léa",
        "ab",
        "éab",
        "ab é",
        "ébé",
    ];

    #[test]
    fn patterns_match_exactly_what_jsonschema_matches_and_fail_with_its_errors() {
        for pattern in patterns() {
            let schema = json!({ "pattern": pattern });
            let (ours, theirs) = match (compile(&schema), jsonschema::draft202012::new(&schema)) {
                (Ok(ours), Ok(theirs)) => (ours, theirs),
                (Err(ours), Err(theirs)) => {
                    assert_eq!(ours.to_string(), theirs.to_string(), "{pattern:?}");
                    continue;
                }
                (ours, theirs) => panic!(
                    "{pattern:?}: compiled here {}, by jsonschema {}",
                    ours.is_ok(),
                    theirs.is_ok()
                ),
            };
            for text in TEXTS {
                let instance = json!(text);
                assert_eq!(
                    ours.is_valid(&instance),
                    theirs.is_valid(&instance),
                    "{pattern:?} on {text:?}"
                );
                let errors = |validator: &Validator| {
                    validator
                        .iter_errors(&instance)
                        .map(|err| {
                            (
                                err.to_string(),
                                err.masked().to_string(),
                                err.instance_path().to_string(),
                                err.schema_path().to_string(),
                            )
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(errors(&ours), errors(&theirs), "{pattern:?} on {text:?}");
            }
        }
    }

    #[test]
    fn patterns_an_nfa_does_not_take_are_left_to_jsonschema() {
        let schema = json!({ "pattern": "^(?!admin)[a-z]+$" });
        let validator = compile(&schema).unwrap();
        assert!(validator.is_valid(&json!("alice")));
        assert!(!validator.is_valid(&json!("admin")));
    }

    #[test]
    fn an_invalid_pattern_fails_the_compile_as_jsonschema_fails_it() {
        let schema = json!({ "pattern": "^[a-z" });
        let ours = compile(&schema).map(drop).unwrap_err().to_string();
        let theirs = jsonschema::draft202012::new(&schema)
            .map(drop)
            .unwrap_err()
            .to_string();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn errors_under_nested_keywords_keep_their_paths() {
        let schema = json!({
            "type": "object",
            "properties": {"apps": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}}
        });
        let instance = json!({"apps": ["ok", "Not OK"]});
        let ours = compile(&schema).unwrap();
        let theirs = jsonschema::draft202012::new(&schema).unwrap();
        let describe = |validator: &Validator| {
            validator
                .iter_errors(&instance)
                .map(|err| (err.to_string(), err.instance_path().to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(describe(&ours), describe(&theirs));
        assert_eq!(
            describe(&ours),
            [(
                r#""Not OK" does not match "^[a-z]+$""#.to_owned(),
                "/apps/1".to_owned()
            )]
        );
    }

    /// A schema with a root `$id` and references to its own `$defs`, as the values schema.
    fn identified() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.com/values.schema.json",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "web": {"$ref": "#/$defs/app"},
                "api": {"$ref": "#/$defs/app"},
                "name": {"type": "string", "pattern": "^[a-z]+$"}
            },
            "$defs": {
                "app": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["replicas"],
                    "properties": {"replicas": {"type": "integer", "minimum": 1}}
                }
            }
        })
    }

    /// Validity and every error, with its paths.
    fn outcome(validator: &Validator, instance: &Value) -> (bool, Vec<[String; 3]>) {
        let errors = validator
            .iter_errors(instance)
            .map(|err| {
                [
                    err.to_string(),
                    err.instance_path().to_string(),
                    err.schema_path().to_string(),
                ]
            })
            .collect();
        (validator.is_valid(instance), errors)
    }

    #[test]
    fn a_document_compiled_without_its_unused_id_validates_as_written_and_is_given_back_whole() {
        let written = identified();
        let mut document = written.clone();
        let ours = compile_document(&mut document).unwrap();
        assert_eq!(document, written);
        assert_eq!(
            serde_json::to_string(&document).unwrap(),
            serde_json::to_string(&written).unwrap(),
            "the `$id` is back in its place"
        );
        let theirs = jsonschema::draft202012::new(&written).unwrap();
        let instances = [
            json!({"web": {"replicas": 2}, "api": {"replicas": 1}, "name": "shop"}),
            json!({"web": {"replicas": 0}, "api": {}, "name": "Shop"}),
            json!({"web": {"replicas": "2", "extra": true}, "other": 1}),
            json!([]),
        ];
        for instance in &instances {
            assert_eq!(
                outcome(&ours, instance),
                outcome(&theirs, instance),
                "{instance}"
            );
        }
        assert!(!outcome(&ours, &instances[1]).1.is_empty());
    }

    #[test]
    fn an_id_a_reference_could_resolve_against_is_kept() {
        let uses = |reference: &str| {
            let mut schema = identified();
            schema["properties"]["web"]["$ref"] = json!(reference);
            take_unused_root_id(&mut schema).is_some()
        };
        assert!(!uses("https://example.com/values.schema.json#/$defs/app"));
        assert!(!uses("values.schema.json#/$defs/app"));
        assert!(uses("#/$defs/app"));
        let mut nested = identified();
        nested["$defs"]["app"]["$id"] = json!("app.json");
        assert!(take_unused_root_id(&mut nested).is_none());
        assert_eq!(nested, {
            let mut expected = identified();
            expected["$defs"]["app"]["$id"] = json!("app.json");
            expected
        });
    }

    #[test]
    fn a_document_that_fails_fails_with_the_error_of_the_document_as_written() {
        let broken_id = |mut schema: Value| {
            schema["$id"] = json!("https://example.com/values.schema.json#fragment");
            schema
        };
        let missing_target = |mut schema: Value| {
            schema["properties"]["web"]["$ref"] = json!("#/$defs/missing");
            schema
        };
        for written in [broken_id(identified()), missing_target(identified())] {
            let mut document = written.clone();
            let ours = compile_document(&mut document).map(drop).unwrap_err();
            let theirs = compile(&written).map(drop).unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string());
            assert_eq!(ours.instance_path(), theirs.instance_path());
            assert_eq!(document, written);
        }
    }
}
