//! The built-in lint rules, one per file, each opening with its documentation.
//!
//! To add a rule: write `<rule>.rs` with a [`Rule`] implementation, its `DOCUMENTATION` and its
//! tests, and list it in [`RULES`]; `lint --help`, `lint --explain` and the waiver check read
//! the list, so nothing else changes.

mod image_digest;
mod image_tag;
mod network_policy;
mod no_plaintext_secret;
mod pdb;
mod pod_security;
mod probes;
mod references;
mod resources;
mod service_selector;

pub use super::{Context, Hit, Rule};
use crate::foundation::object::{Object, group};

/// Every built-in rule, in the order findings are reported for an object.
pub const RULES: &[&dyn Rule] = &[
    &pod_security::PodSecurity,
    &resources::Resources,
    &probes::Probes,
    &image_tag::ImageTag,
    &image_digest::ImageDigest,
    &network_policy::NetworkPolicy,
    &service_selector::ServiceSelector,
    &references::References,
    &pdb::Pdb,
    &no_plaintext_secret::NoPlaintextSecret,
];

/// Is `object` of this API group and kind?
fn is(object: &Object, group_name: &str, kind: &str) -> bool {
    group(object.api_version()) == group_name && object.kind() == kind
}

/// The objects of one kind (by API group and kind) in the render.
fn of_kind<'a>(ctx: &Context<'a>, group: &str, kind: &str) -> Vec<&'a Object> {
    ctx.objects.iter().filter(|o| is(o, group, kind)).collect()
}

/// Objects and pod specs the rules' tests share: a clean pod that passes every rule, and
/// for each rule the violations it must find.
#[cfg(test)]
pub mod fixtures {
    use serde_json::{Value, json};

    use super::{Context, Hit, Rule};
    use crate::foundation::object::Object;
    use crate::foundation::object::pods::pod_templates;

    pub fn objects(values: Vec<Value>) -> Vec<Object> {
        values
            .into_iter()
            .map(|value| Object {
                source: "templates/t.yaml".into(),
                value,
            })
            .collect()
    }

    /// A pod spec that passes every rule; `patch` is merged over it at the top level.
    pub fn pod_spec(patch: Value) -> Value {
        let mut spec = json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "c", "image": "nginx:1.27",
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"cpu": "1m", "memory": "1Mi"}},
                "livenessProbe": {"tcpSocket": {"port": 1}}, "readinessProbe": {"tcpSocket": {"port": 1}}
            }]
        });
        if let (Some(spec), Some(patch)) = (spec.as_object_mut(), patch.as_object()) {
            for (key, value) in patch {
                spec.insert(key.clone(), value.clone());
            }
        }
        spec
    }

    pub fn deployment(name: &str, replicas: u64, spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "n"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
    }

    pub fn deny_all() -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "n"},
            "spec": {"podSelector": {}}})
    }

    pub fn hits(rule: &dyn Rule, values: Vec<Value>, production: bool) -> Vec<Hit> {
        let objects = objects(values);
        let ctx = Context {
            objects: &objects,
            pods: pod_templates(&objects),
            mode: "prod",
            production,
            images_locked: false,
            external: Default::default(),
        };
        rule.check(&ctx)
    }

    pub fn container(patch: Value) -> Value {
        let mut spec = pod_spec(json!({}));
        let c = spec["containers"][0].as_object_mut().unwrap();
        for (key, value) in patch.as_object().unwrap() {
            if value.is_null() {
                c.remove(key);
            } else {
                c.insert(key.clone(), value.clone());
            }
        }
        spec
    }

    /// A namespace that passes every rule.
    pub fn clean() -> Vec<Value> {
        vec![deny_all(), deployment("ok", 1, pod_spec(json!({})))]
    }

    /// The violations of `rule`, each with the number of hits it must give.
    pub fn violations(rule: &str) -> Vec<(Vec<Value>, usize)> {
        let cases: Vec<(&str, Vec<Value>, usize)> = vec![
            (
                "pod-security",
                vec![
                    deny_all(),
                    deployment("x", 1, container(json!({"securityContext": null}))),
                ],
                2,
            ),
            (
                "pod-security",
                vec![deployment(
                    "x",
                    1,
                    pod_spec(json!({"hostNetwork": true, "securityContext": {}})),
                )],
                3,
            ),
            (
                "resources",
                vec![deployment(
                    "x",
                    1,
                    container(json!({"resources": {"requests": {"cpu": "1m"}}})),
                )],
                1,
            ),
            (
                "probes",
                vec![deployment(
                    "x",
                    1,
                    container(json!({"livenessProbe": null})),
                )],
                1,
            ),
            (
                "image-tag",
                vec![deployment("x", 1, container(json!({"image": "nginx"})))],
                1,
            ),
            (
                "network-policy",
                vec![deployment("x", 1, pod_spec(json!({})))],
                1,
            ),
            (
                "service-selector",
                vec![
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
            "spec": {"selector": {"app": "none"}}}),
                ],
                1,
            ),
            (
                "references",
                vec![deployment(
                    "x",
                    1,
                    pod_spec(json!({"serviceAccountName": "sa"})),
                )],
                1,
            ),
            ("pdb", vec![deployment("x", 2, pod_spec(json!({})))], 1),
            (
                "no-plaintext-secret",
                vec![json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})],
                1,
            ),
        ];
        let found: Vec<(Vec<Value>, usize)> = cases
            .into_iter()
            .filter(|(id, _, _)| *id == rule)
            .map(|(_, bad, count)| (bad, count))
            .collect();
        assert!(!found.is_empty(), "no violation case for `{rule}`");
        found
    }
}
