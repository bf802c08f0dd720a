//! `pdb`: workloads with more than one replica have a PodDisruptionBudget.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain pdb` prints.

use serde_json::Value;

use super::{Context, Hit, Rule, of_kind};
use crate::foundation::object::Object;
use crate::foundation::object::group;
use crate::foundation::object::pods;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every Deployment, StatefulSet, ReplicaSet or ReplicationController running more
than one replica (its `replicas`, or the `minReplicas` of a HorizontalPodAutoscaler that
targets it) is selected by a PodDisruptionBudget of its namespace.

Why: without a budget a node drain may evict every replica at once, and the redundancy the
replicas were meant to buy is gone during every cluster upgrade.

Example:
    a Deployment with replicas: 3 and no PodDisruptionBudget

Fix:
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    spec: {maxUnavailable: 1, selector: {matchLabels: <the pod labels>}}
";

/// The `pdb` rule.
pub struct Pdb;

impl Rule for Pdb {
    fn id(&self) -> &'static str {
        "pdb"
    }

    fn summary(&self) -> &'static str {
        "workloads with more than one replica have a PodDisruptionBudget"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let budgets: Vec<&Object> = of_kind(ctx, "policy", "PodDisruptionBudget");
    let autoscalers: Vec<&Object> = of_kind(ctx, "autoscaling", "HorizontalPodAutoscaler");
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let object = pod.object;
        let scalable = matches!(
            (group(object.api_version()), object.kind()),
            ("apps", "Deployment" | "StatefulSet" | "ReplicaSet") | ("", "ReplicationController")
        );
        if !scalable {
            continue;
        }
        let replicas = object
            .value
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let autoscaled = autoscalers
            .iter()
            .filter(|hpa| {
                hpa.namespace() == object.namespace()
                    && hpa.str_field("/spec/scaleTargetRef/kind") == object.kind()
                    && hpa.str_field("/spec/scaleTargetRef/name") == object.name()
            })
            .filter_map(|hpa| {
                hpa.value
                    .pointer("/spec/minReplicas")
                    .and_then(Value::as_u64)
            })
            .max()
            .unwrap_or(0);
        let replicas = replicas.max(autoscaled);
        if replicas <= 1 {
            continue;
        }
        let covered = budgets.iter().any(|budget| {
            budget.namespace() == object.namespace()
                && budget
                    .value
                    .pointer("/spec/selector")
                    .is_some_and(|selector| pods::selector_matches(selector, pod.labels))
        });
        if !covered {
            hits.push(Hit::new(
                pod.index,
                "spec.replicas",
                format!("{replicas} replicas but no PodDisruptionBudget selects these pods"),
                "add a PodDisruptionBudget (e.g. maxUnavailable: 1) whose selector matches the pod labels",
            ));
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::lint::rules::fixtures::*;
    use serde_json::json;

    #[test]
    fn fires_on_its_violation_and_not_on_the_clean_pod() {
        for (bad, count) in violations("pdb") {
            assert_eq!(hits(&Pdb, bad.clone(), true).len(), count, "on {bad:?}");
        }
        assert!(hits(&Pdb, clean(), true).is_empty());
    }

    #[test]
    fn pdb_counts_autoscaler_minimum_replicas() {
        let mut scaled = deployment("x", 1, pod_spec(json!({})));
        scaled["spec"].as_object_mut().unwrap().remove("replicas");
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x", "namespace": "n"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "minReplicas": 3, "maxReplicas": 6}});
        assert_eq!(
            hits(&Pdb, vec![scaled.clone(), hpa.clone()], false)[0].message,
            "3 replicas but no PodDisruptionBudget selects these pods"
        );
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": "x"}}}});
        assert!(hits(&Pdb, vec![scaled.clone(), hpa.clone(), pdb.clone()], false).is_empty());
        let mut elsewhere = pdb;
        elsewhere["metadata"]["namespace"] = json!("other");
        assert_eq!(
            hits(&Pdb, vec![scaled, hpa, elsewhere], false).len(),
            1,
            "a PDB of another namespace does not count"
        );
    }
}
