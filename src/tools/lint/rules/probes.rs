//! `probes`: long-running containers have a livenessProbe and a readinessProbe.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain probes` prints.

use serde_json::Value;

use super::{Context, Hit, Rule};
use crate::foundation::object::pods::ContainerList;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every container of a long-running pod (not a Job, CronJob or run-to-completion
Pod; init containers only when they are sidecars, `restartPolicy: Always`) has a
`livenessProbe` and a `readinessProbe`.

Why: without a readiness probe a Service sends traffic to a pod that is still starting;
without a liveness probe a hung process is never restarted.

Example:
    containers:
      - name: api
        image: api:1.2.3        # no probes

Fix:
    readinessProbe: {httpGet: {path: /ready, port: 8080}}
    livenessProbe: {httpGet: {path: /health, port: 8080}}
";

/// The `probes` rule.
pub struct Probes;

impl Rule for Probes {
    fn id(&self) -> &'static str {
        "probes"
    }

    fn summary(&self) -> &'static str {
        "long-running containers have a livenessProbe and a readinessProbe"
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
    for pod in ctx.pods.iter().filter(|pod| pod.long_running) {
        let containers =
            pod.containers(&[ContainerList::Containers, ContainerList::InitContainers]);
        for c in containers
            .iter()
            .filter(|c| c.list == ContainerList::Containers || c.is_sidecar())
        {
            let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                .into_iter()
                .filter(|key| c.value.get(*key).is_none_or(Value::is_null))
                .collect();
            if !missing.is_empty() {
                hits.push(Hit::new(
                    pod.index,
                    c.path.clone(),
                    format!("container `{}` has no {}", c.name, missing.join(" or ")),
                    "add a readinessProbe (gates traffic) and a livenessProbe (restarts a hung process)",
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
    use serde_json::json;

    #[test]
    fn fires_on_its_violation_and_not_on_the_clean_pod() {
        for (bad, count) in violations("probes") {
            assert_eq!(hits(&Probes, bad.clone(), true).len(), count, "on {bad:?}");
        }
        assert!(hits(&Probes, clean(), true).is_empty());
    }

    #[test]
    fn probes_skip_jobs_init_containers_and_finished_pods_but_not_sidecars() {
        let no_probes = container(json!({"livenessProbe": null, "readinessProbe": null}));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "spec": {"template": {"spec": no_probes.clone()}}});
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": no_probes.clone()}}}}});
        let mut finished = no_probes.clone();
        finished["restartPolicy"] = json!("Never");
        let pod =
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": finished});
        assert!(hits(&Probes, vec![job, cron, pod], false).is_empty());
        let mut spec = pod_spec(json!({}));
        spec["initContainers"] = json!([{"name": "init", "image": "busybox:1"}, {"name": "side", "image": "busybox:1", "restartPolicy": "Always"}]);
        let found = hits(&Probes, vec![deployment("x", 1, spec)], false);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "spec.template.spec.initContainers[1]");
    }
}
