//! `service-selector`: every Service selector matches some pod template of its namespace.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain service-selector` prints.

use super::{Context, Hit, Rule, is};
use crate::foundation::object::pods;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that the selector of every Service matches the labels of at least one pod
template of the Service's namespace.

Why: a Service that selects nothing has no endpoints; clients resolve its name and then time
out, which looks like a network fault rather than a typo in a label.

Example:
    selector: {app.kubernetes.io/name: postgress}    # the pods say postgres

Fix:
    make the selector equal to labels the pod template carries.
";

/// The `service-selector` rule.
pub struct ServiceSelector;

impl Rule for ServiceSelector {
    fn id(&self) -> &'static str {
        "service-selector"
    }

    fn summary(&self) -> &'static str {
        "every Service selector matches some pod template of its namespace"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, service) in ctx
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| is(o, "", "Service"))
    {
        if service.str_field("/spec/type") == "ExternalName" {
            continue;
        }
        let Some(selector) = service.map_field("/spec/selector") else {
            continue;
        };
        if selector.is_empty() {
            continue;
        }
        let matched = ctx.pods.iter().any(|pod| {
            pod.namespace() == service.namespace()
                && pods::map_selector_matches(selector, pod.labels)
        });
        if !matched {
            let wanted = selector
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ");
            hits.push(Hit::new(
                index,
                "spec.selector",
                format!("selector {{{wanted}}} matches no pod template in namespace `{}`", service.namespace()),
                "fix the selector or the pod template labels; a Service that selects no pods has no endpoints",
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
        for (bad, count) in violations("service-selector") {
            assert_eq!(
                hits(&ServiceSelector, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&ServiceSelector, clean(), true).is_empty());
    }
}
