//! Lint: built-in policy rules over the rendered objects of one mode.
//!
//! Every rule is a small function in [`rules`] listed in [`RULES`] with an id and a one-line
//! summary; a finding names the rule, the template, the object, the field path, what is
//! wrong and how to fix it. Findings exit 1.
//!
//! Two annotations steer lint, on the object a finding concerns:
//!
//! - `soma.sh/waive: "<rule-id> -- <reason>"` (several separated by `;`) waives that rule for
//!   the object. The reason is required and printed with the waived finding. A waiver without
//!   a reason, or naming no rule, is an error (exit 2).
//! - `soma.sh/external-refs: "Secret/name,ConfigMap/other"` on a workload declares objects
//!   its pods reference that are created outside the render, for the `references` rule.
//!   Kinds: `ConfigMap`, `Secret`, `PersistentVolumeClaim`, `ServiceAccount`.

mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::Rendered;
use crate::diag::{Diagnostic, Diagnostics, Location, Result, Severity};
use crate::manifest::Object;
use crate::pods::{self, PodTemplate};
use crate::stack::StackMeta;

/// The annotation that waives rules on an object.
pub const WAIVE_ANNOTATION: &str = "soma.sh/waive";
/// The annotation that declares references to objects created outside the render.
pub const EXTERNAL_REFS_ANNOTATION: &str = "soma.sh/external-refs";
/// The rule id of unused values (reported by `lint` and `check`, not waivable by annotation).
pub const UNUSED_VALUE: &str = "unused-value";

/// One lint rule.
pub struct Rule {
    pub id: &'static str,
    /// What the rule requires, in one line.
    pub summary: &'static str,
    check: fn(&Context<'_>) -> Vec<Hit>,
}

/// Every built-in rule, in the order findings are reported for an object.
pub const RULES: &[Rule] = &[
    Rule {
        id: "pod-security",
        summary: "containers meet the restricted Pod Security Standard (non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault)",
        check: rules::pod_security,
    },
    Rule {
        id: "resources",
        summary: "containers set requests and limits for cpu and memory",
        check: rules::resources,
    },
    Rule {
        id: "probes",
        summary: "long-running containers have a livenessProbe and a readinessProbe",
        check: rules::probes,
    },
    Rule {
        id: "image-tag",
        summary: "images are pinned: a tag other than `latest`, or a digest",
        check: rules::image_tag,
    },
    Rule {
        id: "network-policy",
        summary: "every pod template is selected by a NetworkPolicy of its namespace",
        check: rules::network_policy,
    },
    Rule {
        id: "service-selector",
        summary: "every Service selector matches some pod template of its namespace",
        check: rules::service_selector,
    },
    Rule {
        id: "references",
        summary: "every ConfigMap, Secret, PVC, ServiceAccount and volume a pod references exists in the render or is declared external",
        check: rules::references,
    },
    Rule {
        id: "pdb",
        summary: "workloads with more than one replica have a PodDisruptionBudget",
        check: rules::pdb,
    },
    Rule {
        id: "no-plaintext-secret",
        summary: "no kind Secret in the stack's production modes",
        check: rules::no_plaintext_secret,
    },
];

/// What a rule found: the object (by index), the field, the problem and its fix.
#[derive(Debug, Clone)]
pub struct Hit {
    pub object: usize,
    /// Dotted field path inside the object; empty for the object as a whole.
    pub field: String,
    pub message: String,
    pub hint: String,
}

impl Hit {
    fn new(
        object: usize,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Hit {
        Hit {
            object,
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// What the rules see.
pub struct Context<'a> {
    pub objects: &'a [Object],
    pub pods: Vec<PodTemplate<'a>>,
    pub mode: &'a str,
    /// Whether `mode` is one of the stack's `productionModes`.
    pub production: bool,
    /// `soma.sh/external-refs` of each object that has one: `(kind, name)` pairs.
    pub external: BTreeMap<usize, BTreeSet<(String, String)>>,
}

/// A lint finding (or an unused value), ready to print as a diagnostic or as JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    pub rule: String,
    /// The template the object came from, or the file:line of an unused value.
    pub location: Option<Location>,
    /// `Kind/namespace/name` of the object, when the finding concerns one.
    pub object: Option<String>,
    /// The field path inside the object, or the value path of an unused value.
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The reason given by a waiver; waived findings do not fail.
    pub waived: Option<String>,
}

impl Finding {
    /// As a diagnostic: a warning, or a note when waived.
    pub fn diagnostic(&self) -> Diagnostic {
        let path = match (&self.object, &self.field) {
            (Some(object), Some(field)) if !field.is_empty() => Some(format!("{object}: {field}")),
            (Some(object), _) => Some(object.clone()),
            (None, field) => field.clone(),
        };
        let mut diagnostic = Diagnostic::warning(self.rule.clone(), self.message.clone())
            .at_opt(self.location.clone());
        diagnostic.path = path;
        diagnostic.hint = self.hint.clone();
        if let Some(reason) = &self.waived {
            diagnostic.severity = Severity::Note;
            diagnostic.message = format!("{} (waived: {reason})", self.message);
            diagnostic.hint = None;
        }
        diagnostic
    }

    /// As JSON, for `--format json`.
    pub fn to_json(&self) -> Value {
        json!({
            "rule": self.rule,
            "location": self.location.as_ref().map(ToString::to_string),
            "object": self.object,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "waived": self.waived,
        })
    }
}

/// A JSON array of findings, pretty-printed, with a trailing newline.
pub fn to_json(findings: &[Finding]) -> String {
    let list: Vec<Value> = findings.iter().map(Finding::to_json).collect();
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
}

/// Run every rule on the objects of `mode`. Errors (exit 2) are malformed `soma.sh/waive`
/// or `soma.sh/external-refs` annotations; everything else is a finding.
pub fn lint(objects: &[Object], mode: &str, meta: &StackMeta) -> Result<Vec<Finding>> {
    let annotations = read_annotations(objects)?;
    let context = Context {
        objects,
        pods: pods::pod_templates(objects),
        mode,
        production: meta.production_modes.iter().any(|m| m == mode),
        external: annotations.external,
    };
    let mut findings = Vec::new();
    let mut hits: Vec<(usize, usize, Hit)> = Vec::new();
    for (rule_index, rule) in RULES.iter().enumerate() {
        hits.extend(
            (rule.check)(&context)
                .into_iter()
                .map(|hit| (hit.object, rule_index, hit)),
        );
    }
    // Object (install) order, then rule order; each rule's own hits keep their order.
    hits.sort_by_key(|(object, rule, _)| (*object, *rule));
    for (object_index, rule_index, hit) in hits {
        let (Some(rule), Some(object)) = (RULES.get(rule_index), objects.get(object_index)) else {
            continue;
        };
        let waived = annotations
            .waivers
            .get(&object_index)
            .and_then(|waivers| waivers.get(rule.id))
            .cloned();
        findings.push(Finding {
            rule: rule.id.to_owned(),
            location: Some(Location::Path(object.source.clone())),
            object: Some(object.identity().to_string()),
            field: Some(hit.field),
            message: hit.message,
            hint: Some(hit.hint),
            waived,
        });
    }
    Ok(findings)
}

/// Lint findings and unused values of a render.
pub fn lint_rendered(rendered: &Rendered, mode: &str, meta: &StackMeta) -> Result<Vec<Finding>> {
    let mut findings = lint(&rendered.objects, mode, meta)?;
    findings.extend(unused_values(rendered));
    Ok(findings)
}

/// [`crate::unused_values`] as findings.
pub fn unused_values(rendered: &Rendered) -> Vec<Finding> {
    crate::unused_values(rendered)
        .into_iter()
        .map(|diagnostic| Finding {
            rule: UNUSED_VALUE.to_owned(),
            location: diagnostic.location,
            object: None,
            field: diagnostic.path,
            message: diagnostic.message,
            hint: diagnostic.hint,
            waived: None,
        })
        .collect()
}

/// Do any findings fail (are not waived)?
pub fn fails(findings: &[Finding]) -> bool {
    findings.iter().any(|finding| finding.waived.is_none())
}

/// The parsed steering annotations of every object.
struct Annotations {
    /// Object index → rule id → reason.
    waivers: BTreeMap<usize, BTreeMap<String, String>>,
    external: BTreeMap<usize, BTreeSet<(String, String)>>,
}

fn read_annotations(objects: &[Object]) -> Result<Annotations> {
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
            Diagnostic::error("lint", message)
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
        if !RULES.iter().any(|rule| rule.id == id) {
            let hint = match crate::suggest::nearest(id, RULES.iter().map(|rule| rule.id)) {
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
        .map(|rule| rule.id)
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

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let ids: BTreeSet<_> = RULES.iter().map(|rule| rule.id).collect();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            ids.iter()
                .all(|id| id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }
}
