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
/// computed once per object, because reading it walks the object's maps, and borrowed from
/// the objects (owned keys were four allocations per object).
pub fn sort(objects: &mut [Object]) {
    let order: Vec<usize> = {
        let mut keyed: Vec<_> = objects
            .iter()
            .enumerate()
            .map(|(index, object)| {
                let group = super::group(object.api_version());
                let kind = object.kind();
                let key = (
                    rank(group, kind),
                    kind,
                    group,
                    object.namespace(),
                    object.name(),
                );
                (key, index)
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, index)| index).collect()
    };
    permute(objects, order);
}

/// Reorder `items` so that position `i` holds the item that was at `order[i]`, in place
/// (the cycle walk of the standard library's `sort_by_cached_key`): an item already moved
/// away from an earlier position is followed to where it went.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for i in 0..items.len() {
        let mut source = order[i];
        while source < i {
            source = order[source];
        }
        order[i] = source;
        items.swap(i, source);
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
