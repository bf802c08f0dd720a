//! `network-policy`: every pod template is selected by a NetworkPolicy of its namespace.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain network-policy` prints.

use serde_json::{Map, Value};

use super::{Context, Hit, Rule, of_kind};
use crate::foundation::object::Object;
use crate::foundation::object::pods;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every pod template is selected by at least one NetworkPolicy of its
namespace.

Why: a pod that no NetworkPolicy selects accepts traffic from anywhere in the cluster; the
stack is built on default-deny plus explicit allows, and a pod outside that model is a hole.

Example:
    a Deployment in a namespace whose only NetworkPolicy selects `app: other`

Fix:
    render a default-deny policy (`podSelector: {}`) in the namespace, and an allow policy
    for the pod's real peers.
";

/// The `network-policy` rule.
pub struct NetworkPolicy;

impl Rule for NetworkPolicy {
    fn id(&self) -> &'static str {
        "network-policy"
    }

    fn summary(&self) -> &'static str {
        "every pod template is selected by a NetworkPolicy of its namespace"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let policies: Vec<&Object> = of_kind(ctx, "networking.k8s.io", "NetworkPolicy");
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let selected = policies.iter().any(|policy| {
            policy.namespace() == pod.namespace() && {
                let selector = policy
                    .value
                    .pointer("/spec/podSelector")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                pods::selector_matches(&selector, pod.labels)
            }
        });
        if !selected {
            hits.push(Hit::new(
                pod.index,
                pod.labels_path,
                format!("no NetworkPolicy in namespace `{}` selects these pods", pod.namespace()),
                "add a NetworkPolicy whose podSelector matches the pod labels (a default deny with `podSelector: {}` counts)",
            ));
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::lint::rules::fixtures::*;

    #[test]
    fn fires_on_its_violation_and_not_on_the_clean_pod() {
        for (bad, count) in violations("network-policy") {
            assert_eq!(
                hits(&NetworkPolicy, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&NetworkPolicy, clean(), true).is_empty());
    }
}
