//! Install order: Helm's order of kinds, then namespace, then name. Kinds Helm does not
//! know (custom resources) come last, by kind name, so their definitions exist first.

use super::Object;

/// Helm v3's install order of kinds (`releaseutil.InstallOrder`).
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Position of a kind in the install order; unknown kinds sort after every known one.
pub fn rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Sort objects into install order. The key is total, so output is deterministic; it is
/// computed once per object because reading it walks the object's maps.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by_cached_key(|object| {
        (
            rank(object.kind()),
            object.kind().to_owned(),
            object.namespace().to_owned(),
            object.name().to_owned(),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, namespace: &str, name: &str) -> Object {
        Object {
            source: String::new(),
            value: json!({"kind": kind, "metadata": {"name": name, "namespace": namespace}}),
        }
    }

    #[test]
    fn kinds_follow_helm_then_namespace_then_name() {
        let mut objects = vec![
            object("ExternalSecret", "a", "x"),
            object("Deployment", "b", "a"),
            object("Deployment", "a", "z"),
            object("Service", "a", "s"),
            object("Namespace", "", "a"),
            object("Certificate", "a", "c"),
        ];
        sort(&mut objects);
        let got: Vec<_> = objects
            .iter()
            .map(|o| format!("{}/{}/{}", o.kind(), o.namespace(), o.name()))
            .collect();
        assert_eq!(
            got,
            [
                "Namespace//a",
                "Service/a/s",
                "Deployment/a/z",
                "Deployment/b/a",
                "Certificate/a/c",
                "ExternalSecret/a/x"
            ]
        );
    }
}
