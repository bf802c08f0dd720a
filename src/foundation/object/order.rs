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

/// Position of a kind in the install order; unknown kinds, and custom resources that share
/// a built-in kind's name in another API group, sort after every known one.
pub fn rank(group: &str, kind: &str) -> usize {
    let builtin = somagen_kube::is_builtin_group_kind(group, kind)
        // Helm's list still names kinds Kubernetes 1.33 no longer serves.
        || matches!(kind, "PodSecurityPolicy" | "SecretList" | "ClusterRoleList"
            | "ClusterRoleBindingList" | "RoleList" | "RoleBindingList");
    INSTALL_ORDER
        .iter()
        .position(|known| builtin && *known == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Sort objects into install order. The key is total, so output is deterministic; it is
/// computed once per object because reading it walks the object's maps.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by_cached_key(|object| {
        let identity = object.identity();
        (
            rank(&identity.group, &identity.kind),
            identity.kind,
            identity.group,
            identity.namespace,
            identity.name,
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(api_version: &str, kind: &str, namespace: &str, name: &str) -> Object {
        Object {
            source: String::new(),
            value: json!({"apiVersion": api_version, "kind": kind,
                "metadata": {"name": name, "namespace": namespace}}),
        }
    }

    #[test]
    fn kinds_follow_helm_then_namespace_then_name() {
        let mut objects = vec![
            object("external-secrets.io/v1", "ExternalSecret", "a", "x"),
            object("apps/v1", "Deployment", "b", "a"),
            object("example.com/v1", "Deployment", "a", "a"),
            object("apps/v1", "Deployment", "a", "z"),
            object("v1", "Service", "a", "s"),
            object("v1", "Namespace", "", "a"),
            object("cert-manager.io/v1", "Certificate", "a", "c"),
        ];
        sort(&mut objects);
        let got: Vec<_> = objects.iter().map(|o| o.identity().to_string()).collect();
        assert_eq!(
            got,
            [
                "Namespace/a",
                "Service/a/s",
                "Deployment/a/z",
                "Deployment/b/a",
                "Certificate.cert-manager.io/a/c",
                "Deployment.example.com/a/a",
                "ExternalSecret.external-secrets.io/a/x"
            ]
        );
    }
}
