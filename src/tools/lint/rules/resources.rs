//! `resources`: containers set requests and limits for cpu and memory.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain resources` prints.

use serde_json::Value;

use super::{Context, Hit, Rule};
use crate::foundation::object::pods::ContainerList;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every container sets `resources.requests` and `resources.limits` for both
`cpu` and `memory`.

Why: without requests the scheduler packs pods blindly and they are the first evicted;
without limits one runaway process can starve a node shared with the rest of the stack.

Example:
    resources: {requests: {cpu: 100m}}     # no memory request, no limits

Fix:
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: 500m, memory: 256Mi}
";

/// The `resources` rule.
pub struct Resources;

impl Rule for Resources {
    fn id(&self) -> &'static str {
        "resources"
    }

    fn summary(&self) -> &'static str {
        "containers set requests and limits for cpu and memory"
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
    for pod in &ctx.pods {
        for c in pod.containers(&[ContainerList::Containers, ContainerList::InitContainers]) {
            let missing: Vec<&str> = [
                "requests/cpu",
                "requests/memory",
                "limits/cpu",
                "limits/memory",
            ]
            .into_iter()
            .filter(|key| {
                c.value
                    .get("resources")
                    .and_then(|r| r.pointer(&format!("/{key}")))
                    .is_none_or(Value::is_null)
            })
            .collect();
            if !missing.is_empty() {
                let missing = missing
                    .iter()
                    .map(|key| key.replace('/', "."))
                    .collect::<Vec<_>>()
                    .join(", ");
                hits.push(Hit::new(
                    pod.index,
                    format!("{}.resources", c.path),
                    format!("container `{}` has no {missing}", c.name),
                    "set resources.requests and resources.limits for both cpu and memory",
                ));
            }
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
        for (bad, count) in violations("resources") {
            assert_eq!(
                hits(&Resources, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&Resources, clean(), true).is_empty());
    }
}
