//! Install order: Helm's order of kinds, then namespace, then name. Kinds Helm does not
//! know (custom resources) come last, by kind name, so their definitions exist first.

use super::{Identity, Object};

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

/// An object's place in the install order: Helm's rank of its kind, then kind, group,
/// namespace and name, so the order is total and output deterministic. It is owned: a
/// render keeps it after the object itself has been written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    rank: usize,
    pub identity: Identity,
}

impl Key {
    pub fn of(object: &Object) -> Key {
        let identity = object.identity();
        Key {
            rank: rank(&identity.group, &identity.kind),
            identity,
        }
    }

    fn sort_fields(&self) -> (usize, &str, &str, &str, &str) {
        let id = &self.identity;
        (self.rank, &id.kind, &id.group, &id.namespace, &id.name)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_fields().cmp(&other.sort_fields())
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
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
        let mut objects = [
            object("external-secrets.io/v1", "ExternalSecret", "a", "x"),
            object("apps/v1", "Deployment", "b", "a"),
            object("example.com/v1", "Deployment", "a", "a"),
            object("apps/v1", "Deployment", "a", "z"),
            object("v1", "Service", "a", "s"),
            object("v1", "Namespace", "", "a"),
            object("cert-manager.io/v1", "Certificate", "a", "c"),
        ];
        objects.sort_by_cached_key(Key::of);
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
