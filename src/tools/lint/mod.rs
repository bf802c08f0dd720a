//! Lint: built-in policy rules over the rendered objects of one mode.
//!
//! Every rule is one file in [`rules`]: a [`Rule`] with its id, summary, documentation and
//! check. A finding names the rule, the template, the object, the field path, what is wrong
//! and how to fix it. Findings exit 1.
//!
//! Two annotations steer lint, on the object a finding concerns:
//!
//! - `soma.sh/waive: "<rule-id> -- <reason>"` (several separated by `;`) waives that rule for
//!   the object. The reason is required and printed with the waived finding. A waiver without
//!   a reason, or naming no rule, is an error (exit 2).
//! - `soma.sh/external-refs: "Secret/name,ConfigMap/other"` on a workload declares objects
//!   its pods reference that are created outside the render, for the `references` rule.
//!   Kinds: `ConfigMap`, `Secret`, `PersistentVolumeClaim`, `ServiceAccount`.

mod annotations;
mod rules;
mod unused;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::Rendered;
use crate::foundation::diag::{Code, Diagnostic, Location, Result, Severity};
use crate::foundation::object::Object;
use crate::foundation::object::pods::{self, PodTemplate};
use crate::pipeline::stack::StackMeta;
use annotations::read_annotations;
pub use annotations::{parse_external_refs, parse_waivers};
pub use rules::RULES;
pub use unused::unused_values as unused_value_diagnostics;

/// The annotation that waives rules on an object.
pub const WAIVE_ANNOTATION: &str = "soma.sh/waive";
/// The annotation that declares references to objects created outside the render.
pub const EXTERNAL_REFS_ANNOTATION: &str = "soma.sh/external-refs";
/// The rule id of unused values (reported by `lint` and `check`, not waivable by annotation).
pub const UNUSED_VALUE: &str = "unused-value";

/// One lint rule: an id users write in waivers, a one-line summary for `lint --help`, the
/// documentation `lint --explain` prints, and the check itself.
pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// What the rule requires, in one line.
    fn summary(&self) -> &'static str;
    /// What the rule checks, why it matters, an example, and how to fix it.
    fn documentation(&self) -> &'static str;
    fn check(&self, ctx: &Context<'_>) -> Vec<Hit>;
}

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
    pub fn new(
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
    /// Whether the stack pins images with an `images.lock`.
    pub images_locked: bool,
    /// `soma.sh/external-refs` of each object that has one: `(kind, name)` pairs.
    pub external: BTreeMap<usize, BTreeSet<(String, String)>>,
}

/// A lint finding (or an unused value), ready to print as a diagnostic or as JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    pub rule: &'static str,
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
        let mut diagnostic = Diagnostic::warning(Code::Rule(self.rule), self.message.clone())
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
        images_locked: meta.images_locked,
        external: annotations.external,
    };
    let mut findings = Vec::new();
    let mut hits: Vec<(usize, usize, Hit)> = Vec::new();
    for (rule_index, rule) in RULES.iter().enumerate() {
        hits.extend(
            rule.check(&context)
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
            .and_then(|waivers| waivers.get(rule.id()))
            .cloned();
        findings.push(Finding {
            rule: rule.id(),
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

/// Unused values as findings.
pub fn unused_values(rendered: &Rendered) -> Vec<Finding> {
    unused::unused_values(rendered)
        .into_iter()
        .map(|diagnostic| Finding {
            rule: UNUSED_VALUE,
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

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|rule| rule.id() == id)
}

/// `id  summary` per rule, for `lint --help`.
pub fn rule_list() -> String {
    let width = RULES.iter().map(|rule| rule.id().len()).max().unwrap_or(0);
    RULES
        .iter()
        .map(|rule| format!("  {:width$}  {}\n", rule.id(), rule.summary()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_documentation_with_why_and_fix() {
        for each in RULES {
            let doc = each.documentation();
            assert!(
                doc.contains("Why:") && doc.contains("Fix:"),
                "{}",
                each.id()
            );
            assert_eq!(rule(each.id()).map(|r| r.id()), Some(each.id()));
        }
        assert!(rule_list().contains("  pdb "));
    }

    #[test]
    fn rule_ids_are_unique_kebab_case() {
        let ids: BTreeSet<_> = RULES.iter().map(|rule| rule.id()).collect();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            ids.iter()
                .all(|id| id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }
}
