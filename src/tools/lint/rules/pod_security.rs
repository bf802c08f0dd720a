//! `pod-security`: containers meet the restricted Pod Security Standard (non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault).
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain pod-security` prints.

use serde_json::Value;

use super::{Context, Hit, Rule};
use crate::foundation::object::pods::{ALL_CONTAINERS, Container, PodTemplate};

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks every container (init and ephemeral included) against the restricted Pod Security
Standard, and the pod against its baseline controls: no host namespaces, no hostPath volumes,
no root user, no privileged container, `allowPrivilegeEscalation: false`, all capabilities
dropped (only `NET_BIND_SERVICE` may be added back), `runAsNonRoot: true` and a
`RuntimeDefault` or `Localhost` seccomp profile, each set on the container or inherited from
the pod.

Why: the stack's namespaces enforce `restricted`; a pod that breaks it is refused by the API
server's admission, so the workload never starts (a `FailedCreate` event on the controller,
not an error at apply time).

Example:
    containers:
      - name: app
        securityContext: {}     # privilege escalation allowed, no capability dropped

Fix:
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    # and on the pod: runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}
";

/// The `pod-security` rule.
pub struct PodSecurity;

impl Rule for PodSecurity {
    fn id(&self) -> &'static str {
        "pod-security"
    }

    fn summary(&self) -> &'static str {
        "containers meet the restricted Pod Security Standard (non-root, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault)"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

/// Restricted Pod Security (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
/// per container including init containers, plus the baseline pod-level controls.
fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let at =
            |field: String, message: String, hint: &str| Hit::new(pod.index, field, message, hint);
        let pod_sc = pod.spec.get("securityContext");
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if pod.spec.get(key).and_then(Value::as_bool) == Some(true) {
                hits.push(at(
                    format!("{}.{key}", pod.spec_path),
                    format!("the pod uses the host's namespace ({key}: true)"),
                    "remove it; restricted Pod Security forbids host namespaces",
                ));
            }
        }
        for (i, volume) in pod
            .spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if volume.get("hostPath").is_some() {
                let name = volume
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                hits.push(at(
                    format!("{}.volumes[{i}].hostPath", pod.spec_path),
                    format!("volume `{name}` is a hostPath"),
                    "use an emptyDir, a PVC or a ConfigMap; restricted Pod Security forbids hostPath volumes",
                ));
            }
        }
        if let Some(user) = pod_sc
            .and_then(|sc| sc.get("runAsUser"))
            .and_then(Value::as_i64)
            && user == 0
        {
            hits.push(at(
                format!("{}.securityContext.runAsUser", pod.spec_path),
                "the pod runs as root (runAsUser: 0)".to_owned(),
                "set a non-zero runAsUser",
            ));
        }
        for container in pod.containers(&ALL_CONTAINERS) {
            hits.extend(container_security(pod, &container, pod_sc));
        }
    }
    hits
}

fn container_security(
    pod: &PodTemplate<'_>,
    c: &Container<'_>,
    pod_sc: Option<&Value>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let sc = c.value.get("securityContext");
    let field = |key: &str| format!("{}.securityContext.{key}", c.path);
    let own = |pointer: &str| sc.and_then(|sc| sc.pointer(pointer));
    let inherited =
        |pointer: &str| own(pointer).or_else(|| pod_sc.and_then(|sc| sc.pointer(pointer)));
    let name = c.name;
    let mut hit = |key: &str, message: String, hint: &str| {
        hits.push(Hit::new(pod.index, field(key), message, hint))
    };

    if own("/privileged").and_then(Value::as_bool) == Some(true) {
        hit(
            "privileged",
            format!("container `{name}` is privileged"),
            "remove `privileged: true`",
        );
    }
    if own("/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false) {
        hit(
            "allowPrivilegeEscalation",
            format!("container `{name}` does not set allowPrivilegeEscalation: false"),
            "set securityContext.allowPrivilegeEscalation: false on the container",
        );
    }
    let drops_all = own("/capabilities/drop")
        .and_then(Value::as_array)
        .is_some_and(|drop| drop.iter().any(|cap| cap.as_str() == Some("ALL")));
    if !drops_all {
        hit(
            "capabilities.drop",
            format!("container `{name}` does not drop all capabilities"),
            "set securityContext.capabilities.drop: [ALL] on the container",
        );
    }
    for cap in own("/capabilities/add")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let cap = cap.as_str().unwrap_or_default();
        if cap != "NET_BIND_SERVICE" {
            hit(
                "capabilities.add",
                format!("container `{name}` adds capability `{cap}`"),
                "remove it; restricted Pod Security allows adding only NET_BIND_SERVICE",
            );
        }
    }
    if inherited("/runAsNonRoot").and_then(Value::as_bool) != Some(true) {
        hit(
            "runAsNonRoot",
            format!("container `{name}` does not set runAsNonRoot: true"),
            "set securityContext.runAsNonRoot: true on the container or the pod",
        );
    }
    if own("/runAsUser").and_then(Value::as_i64) == Some(0) {
        hit(
            "runAsUser",
            format!("container `{name}` runs as root (runAsUser: 0)"),
            "set a non-zero runAsUser",
        );
    }
    match inherited("/seccompProfile/type").and_then(Value::as_str) {
        Some("RuntimeDefault" | "Localhost") => {}
        other => hit(
            "seccompProfile",
            match other {
                Some(kind) => format!("container `{name}` has seccomp profile `{kind}`"),
                None => format!("container `{name}` has no seccomp profile"),
            },
            "set securityContext.seccompProfile.type: RuntimeDefault on the container or the pod",
        ),
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
        for (bad, count) in violations("pod-security") {
            assert_eq!(
                hits(&PodSecurity, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&PodSecurity, clean(), true).is_empty());
    }

    #[test]
    fn pod_level_security_context_is_inherited_and_containers_override_it() {
        let inherited = deployment("x", 1, pod_spec(json!({})));
        assert!(hits(&PodSecurity, vec![inherited], false).is_empty());
        let overridden = deployment(
            "x",
            1,
            container(
                json!({"securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false, "seccompProfile": {"type": "Unconfined"}}}),
            ),
        );
        let found = hits(&PodSecurity, vec![overridden], false);
        let messages: Vec<&str> = found.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "container `c` does not set runAsNonRoot: true",
                "container `c` has seccomp profile `Unconfined`"
            ]
        );
        let root = deployment(
            "x",
            1,
            container(
                json!({"securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "NET_BIND_SERVICE"]}, "runAsUser": 0, "privileged": true}}),
            ),
        );
        let fields: Vec<String> = hits(&PodSecurity, vec![root], false)
            .into_iter()
            .map(|h| h.field)
            .collect();
        for field in ["privileged", "capabilities.add", "runAsUser"] {
            assert!(
                fields.iter().any(|f| f.ends_with(field)),
                "{field}: {fields:?}"
            );
        }
        assert_eq!(
            fields
                .iter()
                .filter(|f| f.ends_with("capabilities.add"))
                .count(),
            1,
            "NET_BIND_SERVICE is allowed"
        );
    }
}
