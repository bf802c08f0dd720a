//! The annotations that steer lint on an object: waivers and external references.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::rules::RULES;
use super::{EXTERNAL_REFS_ANNOTATION, WAIVE_ANNOTATION};
use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::object::Object;
use crate::foundation::suggest;

/// The parsed steering annotations of every object.
pub struct Annotations {
    /// Object index → rule id → reason.
    pub waivers: BTreeMap<usize, BTreeMap<String, String>>,
    pub external: BTreeMap<usize, BTreeSet<(String, String)>>,
}

pub fn read_annotations(objects: &[Object]) -> Result<Annotations> {
    let mut waivers = BTreeMap::new();
    let mut external = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let annotation = |key: &str| -> Option<&str> {
            object
                .value
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
        };
        let error = |key: &str, message: String, hint: &str| {
            Diagnostic::error(Code::Lint, message)
                .at(Location::Path(object.source.clone()))
                .path(format!(
                    "{}: metadata.annotations[\"{key}\"]",
                    object.identity()
                ))
                .hint(hint.to_owned())
        };
        if let Some(text) = annotation(WAIVE_ANNOTATION) {
            match parse_waivers(text) {
                Ok(parsed) => {
                    waivers.insert(index, parsed);
                }
                Err(problems) => errors.extend(
                    problems
                        .into_iter()
                        .map(|(message, hint)| error(WAIVE_ANNOTATION, message, &hint)),
                ),
            }
        }
        if let Some(text) = annotation(EXTERNAL_REFS_ANNOTATION) {
            match parse_external_refs(text) {
                Ok(parsed) => {
                    external.insert(index, parsed);
                }
                Err(problems) => errors.extend(
                    problems
                        .into_iter()
                        .map(|(message, hint)| error(EXTERNAL_REFS_ANNOTATION, message, &hint)),
                ),
            }
        }
    }
    if errors.is_empty() {
        Ok(Annotations { waivers, external })
    } else {
        Err(Diagnostics(errors))
    }
}

/// What is wrong with an annotation: (message, hint) per problem.
pub type Problems = Vec<(String, String)>;

/// `rule -- reason; rule2 -- reason2` → rule → reason.
pub fn parse_waivers(text: &str) -> std::result::Result<BTreeMap<String, String>, Problems> {
    let mut waivers = BTreeMap::new();
    let mut problems = Vec::new();
    for part in text
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (id, reason) = match part.split_once("--") {
            Some((id, reason)) => (id.trim(), reason.trim()),
            None => (part, ""),
        };
        if super::rule(id).is_none() {
            let hint = match suggest::nearest(id, RULES.iter().map(|rule| rule.id())) {
                Some(near) => format!("did you mean `{near}`? rules: {}", rule_ids()),
                None => format!("rules: {}", rule_ids()),
            };
            problems.push((format!("waiver names an unknown rule `{id}`"), hint));
        } else if reason.is_empty() {
            problems.push((
                format!("waiver of `{id}` has no reason"),
                format!("write `{id} -- <why this is acceptable>`; the reason is printed with every waived finding"),
            ));
        } else {
            waivers
                .entry(id.to_owned())
                .or_insert_with(|| reason.to_owned());
        }
    }
    if problems.is_empty() {
        Ok(waivers)
    } else {
        Err(problems)
    }
}

/// The kinds `soma.sh/external-refs` may declare.
const EXTERNAL_KINDS: [&str; 4] = [
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "ServiceAccount",
];

/// `Kind/name, Kind/name` → (kind, name) pairs.
pub fn parse_external_refs(
    text: &str,
) -> std::result::Result<BTreeSet<(String, String)>, Problems> {
    let mut refs = BTreeSet::new();
    let mut problems = Vec::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        match part.split_once('/') {
            Some((kind, name))
                if EXTERNAL_KINDS.contains(&kind) && !name.is_empty() && !name.contains('/') =>
            {
                refs.insert((kind.to_owned(), name.to_owned()));
            }
            _ => problems.push((
                format!("`{part}` is not a `Kind/name` external reference"),
                format!(
                    "write `Secret/name, ConfigMap/name`; kinds: {}",
                    EXTERNAL_KINDS.join(", ")
                ),
            )),
        }
    }
    if problems.is_empty() {
        Ok(refs)
    } else {
        Err(problems)
    }
}

fn rule_ids() -> String {
    RULES
        .iter()
        .map(|rule| rule.id())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waivers_need_a_known_rule_and_a_reason() {
        let parsed = parse_waivers("pdb -- single node; resources -- measured by hand ; ").unwrap();
        assert_eq!(parsed.get("pdb").map(String::as_str), Some("single node"));
        assert_eq!(
            parsed.get("resources").map(String::as_str),
            Some("measured by hand")
        );
        let problems = parse_waivers("pdb").unwrap_err();
        assert!(problems[0].0.contains("has no reason"), "{problems:?}");
        let problems = parse_waivers("pdb --   ").unwrap_err();
        assert!(problems[0].0.contains("has no reason"), "{problems:?}");
        let problems = parse_waivers("probe -- x").unwrap_err();
        assert!(
            problems[0].0.contains("unknown rule `probe`"),
            "{problems:?}"
        );
        assert!(
            problems[0].1.contains("did you mean `probes`?"),
            "{problems:?}"
        );
    }

    #[test]
    fn external_refs_are_kind_slash_name() {
        let parsed = parse_external_refs("Secret/a, ConfigMap/b").unwrap();
        assert!(parsed.contains(&("Secret".to_owned(), "a".to_owned())));
        assert!(parsed.contains(&("ConfigMap".to_owned(), "b".to_owned())));
        assert_eq!(parse_external_refs("Secret").unwrap_err().len(), 1);
        assert_eq!(
            parse_external_refs("Deployment/x, Secret/")
                .unwrap_err()
                .len(),
            2
        );
    }
}
