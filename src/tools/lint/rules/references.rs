//! `references`: every ConfigMap, Secret, PVC, ServiceAccount and volume a pod references exists in the render or is declared external.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain references` prints.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Context, Hit, Rule, is};
use crate::foundation::object::pods::{ALL_CONTAINERS, PodTemplate};
use crate::foundation::object::refs::{provided, references};
use crate::tools::lint::EXTERNAL_REFS_ANNOTATION;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every ConfigMap, Secret, PersistentVolumeClaim and ServiceAccount a pod
template references (volumes, projected sources, env, envFrom, imagePullSecrets, the service
account) exists in the render in the pod's namespace, or is made from an object of the render
(an ExternalSecret's target, a cert-manager Certificate's secret, a SealedSecret, a
StatefulSet's claims), or is declared external; and that every volume mount names a volume
of the pod. References marked `optional: true` are skipped.

Why: a missing reference leaves the pod stuck in `ContainerCreating` with an event few people
read; the render is where the typo in the name can be seen.

Example:
    envFrom: [{secretRef: {name: app-runtme}}]      # the Secret is app-runtime

Fix:
    fix the name, render the object, or declare it on the workload:
    metadata.annotations[\"soma.sh/external-refs\"]: \"Secret/app-runtime\"
";

/// The `references` rule.
pub struct References;

impl Rule for References {
    fn id(&self) -> &'static str {
        "references"
    }

    fn summary(&self) -> &'static str {
        "every ConfigMap, Secret, PVC, ServiceAccount and volume a pod references exists in the render or is declared external"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let provided = provided(ctx.objects);
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let ns = pod.namespace();
        let external = ctx.external.get(&pod.index);
        for r in references(pod).into_iter().filter(|r| !r.optional) {
            let exists = provided.contains(&(r.kind, ns.to_owned(), r.name.clone()))
                || external.is_some_and(|ext| ext.contains(&(r.kind.to_owned(), r.name.clone())));
            if !exists {
                hits.push(Hit::new(
                    pod.index,
                    r.field,
                    format!("{} `{}` is referenced but not rendered in namespace `{ns}`", r.kind, r.name),
                    format!(
                        "render it, fix the name, or declare it external on the workload: metadata.annotations[\"{}\"]: \"{}/{}\"",
                        EXTERNAL_REFS_ANNOTATION,
                        r.kind,
                        r.name
                    ),
                ));
            }
        }
        hits.extend(dangling_mounts(pod));
    }
    hits
}

/// Volume mounts must name a volume of the pod (or a StatefulSet volumeClaimTemplate).
fn dangling_mounts(pod: &PodTemplate<'_>) -> Vec<Hit> {
    let mut volumes: BTreeSet<&str> = pod
        .spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    if is(pod.object, "apps", "StatefulSet") {
        let templates = pod
            .object
            .value
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array);
        volumes.extend(
            templates
                .into_iter()
                .flatten()
                .filter_map(|t| t.pointer("/metadata/name").and_then(Value::as_str)),
        );
    }
    let mut hits = Vec::new();
    for c in pod.containers(&ALL_CONTAINERS) {
        for (i, mount) in c
            .value
            .get("volumeMounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = mount
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !volumes.contains(name) {
                hits.push(Hit::new(
                    pod.index,
                    format!("{}.volumeMounts[{i}].name", c.path),
                    format!("container `{}` mounts volume `{name}`, which the pod does not define", c.name),
                    "add the volume to the pod's volumes (or a volumeClaimTemplate), or fix the name",
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
        for (bad, count) in violations("references") {
            assert_eq!(
                hits(&References, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&References, clean(), true).is_empty());
    }

    #[test]
    fn references_count_operators_and_statefulset_claims() {
        let mut spec = pod_spec(json!({"volumes": [
            {"name": "a", "secret": {"secretName": "from-eso"}},
            {"name": "b", "secret": {"secretName": "from-cert"}},
            {"name": "c", "persistentVolumeClaim": {"claimName": "data-db-1"}},
            {"name": "d", "configMap": {"name": "gone", "optional": true}},
            {"name": "e", "projected": {"sources": [{"secret": {"name": "sealed"}}, {"configMap": {"name": "missing"}}]}}
        ]}));
        spec["containers"][0]["volumeMounts"] = json!([{"name": "a", "mountPath": "/a"}]);
        let found = hits(
            &References,
            vec![
                deployment("x", 1, spec),
                json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "eso", "namespace": "n"},
                    "spec": {"target": {"name": "from-eso"}}}),
                json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "cert", "namespace": "n"},
                    "spec": {"secretName": "from-cert"}}),
                json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "sealed", "namespace": "n"}}),
                json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "n"},
                    "spec": {"replicas": 2, "template": {"spec": {"containers": []}},
                        "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}),
            ],
            false,
        );
        let messages: Vec<&str> = found.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(
            messages,
            ["ConfigMap `missing` is referenced but not rendered in namespace `n`"]
        );
        assert_eq!(
            found[0].field,
            "spec.template.spec.volumes[4].projected.sources[1].configMap.name"
        );
    }
}
