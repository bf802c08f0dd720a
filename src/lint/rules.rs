//! The lint rules: each a function from the rendered objects to its hits.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Context, Hit};
use crate::manifest::Object;
use crate::pods::{self, ALL_CONTAINERS, Container, ContainerList, PodTemplate};

fn is(object: &Object, group: &str, kind: &str) -> bool {
    pods::group(object.api_version()) == group && object.kind() == kind
}

// ---------------------------------------------------------------------------------------
// pod-security

/// Restricted Pod Security (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
/// per container including init containers, plus the baseline pod-level controls.
pub fn pod_security(ctx: &Context<'_>) -> Vec<Hit> {
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

// ---------------------------------------------------------------------------------------
// resources

pub fn resources(ctx: &Context<'_>) -> Vec<Hit> {
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

// ---------------------------------------------------------------------------------------
// probes

pub fn probes(ctx: &Context<'_>) -> Vec<Hit> {
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

// ---------------------------------------------------------------------------------------
// image-tag

/// Why an image reference is not pinned, if it is not.
pub fn image_problem(image: &str) -> Option<&'static str> {
    if image.trim().is_empty() {
        return Some("has no image");
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, digest),
        None => (image, ""),
    };
    if !digest.is_empty() {
        return None;
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some((_, "")) | None => Some("has no tag"),
        Some(_) => None,
    }
}

/// The objects of one kind (by API group and kind) in the render.
fn of_kind<'a>(ctx: &Context<'a>, group: &str, kind: &str) -> Vec<&'a Object> {
    ctx.objects.iter().filter(|o| is(o, group, kind)).collect()
}

pub fn image_tag(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        for c in pod.containers(&ALL_CONTAINERS) {
            let image = c.str("image");
            if let Some(problem) = image_problem(image) {
                hits.push(Hit::new(
                    pod.index,
                    format!("{}.image", c.path),
                    format!("container `{}` image `{image}` {problem}", c.name),
                    "pin a version tag (repository:1.2.3) or a digest (repository@sha256:...)",
                ));
            }
        }
    }
    hits
}

// ---------------------------------------------------------------------------------------
// network-policy

pub fn network_policy(ctx: &Context<'_>) -> Vec<Hit> {
    let policies: Vec<&Object> = of_kind(ctx, "networking.k8s.io", "NetworkPolicy");
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let selected = policies.iter().any(|policy| {
            policy.namespace() == pod.namespace() && {
                let selector = policy
                    .value
                    .pointer("/spec/podSelector")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                pods::selector_matches(&selector, pod.labels)
            }
        });
        if !selected {
            hits.push(Hit::new(
                pod.index,
                pod.labels_path,
                format!("no NetworkPolicy in namespace `{}` selects these pods", pod.namespace()),
                "add a NetworkPolicy whose podSelector matches the pod labels (a default deny with `podSelector: {}` counts)",
            ));
        }
    }
    hits
}

// ---------------------------------------------------------------------------------------
// service-selector

pub fn service_selector(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (index, service) in ctx
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| is(o, "", "Service"))
    {
        if service.str_field("/spec/type") == "ExternalName" {
            continue;
        }
        let Some(selector) = service.map_field("/spec/selector") else {
            continue;
        };
        if selector.is_empty() {
            continue;
        }
        let matched = ctx.pods.iter().any(|pod| {
            pod.namespace() == service.namespace()
                && pods::map_selector_matches(selector, pod.labels)
        });
        if !matched {
            let wanted = selector
                .iter()
                .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ");
            hits.push(Hit::new(
                index,
                "spec.selector",
                format!("selector {{{wanted}}} matches no pod template in namespace `{}`", service.namespace()),
                "fix the selector or the pod template labels; a Service that selects no pods has no endpoints",
            ));
        }
    }
    hits
}

// ---------------------------------------------------------------------------------------
// references

/// A reference from a pod to another object.
struct Reference {
    kind: &'static str,
    name: String,
    field: String,
}

/// The objects a render provides to pods: (kind, namespace, name).
fn provided(objects: &[Object]) -> BTreeSet<(&'static str, String, String)> {
    let mut provided = BTreeSet::new();
    for object in objects {
        let ns = object.namespace().to_owned();
        let mut add = |kind: &'static str, name: &str| {
            if !name.is_empty() {
                provided.insert((kind, ns.clone(), name.to_owned()));
            }
        };
        match (pods::group(object.api_version()), object.kind()) {
            ("", kind @ ("ConfigMap" | "Secret" | "PersistentVolumeClaim" | "ServiceAccount")) => {
                add(static_kind(kind), object.name());
            }
            // External Secrets Operator creates the target Secret (default: the same name).
            ("external-secrets.io", "ExternalSecret") => {
                let target = object.str_field("/spec/target/name");
                add(
                    "Secret",
                    if target.is_empty() {
                        object.name()
                    } else {
                        target
                    },
                );
            }
            // cert-manager writes the certificate into spec.secretName.
            ("cert-manager.io", "Certificate") => {
                add("Secret", object.str_field("/spec/secretName"))
            }
            // Sealed Secrets unseals into a Secret of the same name.
            ("bitnami.com", "SealedSecret") => add("Secret", object.name()),
            // A StatefulSet creates `<template>-<statefulset>-<ordinal>` per replica.
            ("apps", "StatefulSet") => {
                let replicas = object
                    .value
                    .pointer("/spec/replicas")
                    .and_then(Value::as_u64)
                    .unwrap_or(1);
                let templates = object
                    .value
                    .pointer("/spec/volumeClaimTemplates")
                    .and_then(Value::as_array);
                for template in templates.into_iter().flatten() {
                    let claim = template
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    for ordinal in 0..replicas.min(1_000) {
                        add(
                            "PersistentVolumeClaim",
                            &format!("{claim}-{}-{ordinal}", object.name()),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    provided
}

fn static_kind(kind: &str) -> &'static str {
    match kind {
        "ConfigMap" => "ConfigMap",
        "Secret" => "Secret",
        "PersistentVolumeClaim" => "PersistentVolumeClaim",
        _ => "ServiceAccount",
    }
}

fn optional(value: &Value) -> bool {
    value.get("optional").and_then(Value::as_bool) == Some(true)
}

/// Every non-optional reference of a pod template.
fn references_of(pod: &PodTemplate<'_>) -> Vec<Reference> {
    let mut refs = Vec::new();
    let mut add = |kind: &'static str, source: Option<&Value>, key: &str, field: String| {
        if let Some(source) = source
            && !optional(source)
            && let Some(name) = source.get(key).and_then(Value::as_str)
        {
            refs.push(Reference {
                kind,
                name: name.to_owned(),
                field: format!("{field}.{key}"),
            });
        }
    };
    let spec = pod.spec_path;
    for (i, volume) in pod
        .spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = |what: &str| format!("{spec}.volumes[{i}].{what}");
        add(
            "ConfigMap",
            volume.get("configMap"),
            "name",
            at("configMap"),
        );
        add("Secret", volume.get("secret"), "secretName", at("secret"));
        add(
            "PersistentVolumeClaim",
            volume.get("persistentVolumeClaim"),
            "claimName",
            at("persistentVolumeClaim"),
        );
        let sources = volume
            .pointer("/projected/sources")
            .and_then(Value::as_array);
        for (j, source) in sources.into_iter().flatten().enumerate() {
            add(
                "ConfigMap",
                source.get("configMap"),
                "name",
                at(&format!("projected.sources[{j}].configMap")),
            );
            add(
                "Secret",
                source.get("secret"),
                "name",
                at(&format!("projected.sources[{j}].secret")),
            );
        }
    }
    for c in pod.containers(&ALL_CONTAINERS) {
        for (i, env) in c
            .value
            .get("env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = |what: &str| format!("{}.env[{i}].valueFrom.{what}", c.path);
            add(
                "ConfigMap",
                env.pointer("/valueFrom/configMapKeyRef"),
                "name",
                at("configMapKeyRef"),
            );
            add(
                "Secret",
                env.pointer("/valueFrom/secretKeyRef"),
                "name",
                at("secretKeyRef"),
            );
        }
        for (i, env_from) in c
            .value
            .get("envFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = |what: &str| format!("{}.envFrom[{i}].{what}", c.path);
            add(
                "ConfigMap",
                env_from.get("configMapRef"),
                "name",
                at("configMapRef"),
            );
            add("Secret", env_from.get("secretRef"), "name", at("secretRef"));
        }
    }
    for (i, secret) in pod
        .spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        add(
            "Secret",
            Some(secret),
            "name",
            format!("{spec}.imagePullSecrets[{i}]"),
        );
    }
    let account = ["serviceAccountName", "serviceAccount"]
        .into_iter()
        .find_map(|key| {
            pod.spec
                .get(key)
                .and_then(Value::as_str)
                .map(|name| (key, name))
        });
    if let Some((key, name)) = account
        && name != "default"
    {
        refs.push(Reference {
            kind: "ServiceAccount",
            name: name.to_owned(),
            field: format!("{spec}.{key}"),
        });
    }
    refs
}

pub fn references(ctx: &Context<'_>) -> Vec<Hit> {
    let provided = provided(ctx.objects);
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let ns = pod.namespace();
        let external = ctx.external.get(&pod.index);
        for r in references_of(pod) {
            let exists = provided.contains(&(r.kind, ns.to_owned(), r.name.clone()))
                || external.is_some_and(|ext| ext.contains(&(r.kind.to_owned(), r.name.clone())));
            if !exists {
                hits.push(Hit::new(
                    pod.index,
                    r.field,
                    format!("{} `{}` is referenced but not rendered in namespace `{ns}`", r.kind, r.name),
                    format!(
                        "render it, fix the name, or declare it external on the workload: metadata.annotations[\"{}\"]: \"{}/{}\"",
                        super::EXTERNAL_REFS_ANNOTATION,
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

// ---------------------------------------------------------------------------------------
// pdb

pub fn pdb(ctx: &Context<'_>) -> Vec<Hit> {
    let budgets: Vec<&Object> = of_kind(ctx, "policy", "PodDisruptionBudget");
    let autoscalers: Vec<&Object> = of_kind(ctx, "autoscaling", "HorizontalPodAutoscaler");
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        let object = pod.object;
        let scalable = matches!(
            (pods::group(object.api_version()), object.kind()),
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

// ---------------------------------------------------------------------------------------
// no-plaintext-secret

pub fn no_plaintext_secret(ctx: &Context<'_>) -> Vec<Hit> {
    if !ctx.production {
        return Vec::new();
    }
    ctx.objects
        .iter()
        .enumerate()
        .filter(|(_, o)| is(o, "", "Secret"))
        .map(|(index, _)| {
            Hit::new(
                index,
                "",
                format!("plaintext Secret in production mode `{}`", ctx.mode),
                "render an ExternalSecret (or another secret operator's resource) instead; production values carry no secrets",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::RULES;
    use serde_json::json;

    fn objects(values: Vec<Value>) -> Vec<Object> {
        values
            .into_iter()
            .map(|value| Object {
                source: "templates/t.yaml".into(),
                value,
            })
            .collect()
    }

    /// A pod spec that passes every rule; `patch` is merged over it at the top level.
    fn pod_spec(patch: Value) -> Value {
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

    fn deployment(name: &str, replicas: u64, spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "n"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
    }

    fn deny_all() -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "n"},
            "spec": {"podSelector": {}}})
    }

    fn hits(rule: &str, values: Vec<Value>, production: bool) -> Vec<Hit> {
        let objects = objects(values);
        let ctx = Context {
            objects: &objects,
            pods: crate::pods::pod_templates(&objects),
            mode: "prod",
            production,
            external: Default::default(),
        };
        let rule = RULES.iter().find(|r| r.id == rule).unwrap();
        (rule.check)(&ctx)
    }

    fn container(patch: Value) -> Value {
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

    #[test]
    fn every_rule_fires_on_its_violation_and_not_on_the_clean_pod() {
        let clean = || vec![deny_all(), deployment("ok", 1, pod_spec(json!({})))];
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
        for (rule, bad, count) in cases {
            assert_eq!(
                hits(rule, bad.clone(), true).len(),
                count,
                "{rule} on {bad:?}"
            );
            assert!(
                hits(rule, clean(), true).is_empty(),
                "{rule} fires on the clean pod"
            );
        }
    }

    #[test]
    fn pod_level_security_context_is_inherited_and_containers_override_it() {
        let inherited = deployment("x", 1, pod_spec(json!({})));
        assert!(hits("pod-security", vec![inherited], false).is_empty());
        let overridden = deployment(
            "x",
            1,
            container(
                json!({"securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false, "seccompProfile": {"type": "Unconfined"}}}),
            ),
        );
        let found = hits("pod-security", vec![overridden], false);
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
        let fields: Vec<String> = hits("pod-security", vec![root], false)
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
        assert!(hits("probes", vec![job, cron, pod], false).is_empty());
        let mut spec = pod_spec(json!({}));
        spec["initContainers"] = json!([{"name": "init", "image": "busybox:1"}, {"name": "side", "image": "busybox:1", "restartPolicy": "Always"}]);
        let found = hits("probes", vec![deployment("x", 1, spec)], false);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "spec.template.spec.initContainers[1]");
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
            "references",
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

    #[test]
    fn pdb_counts_autoscaler_minimum_replicas() {
        let mut scaled = deployment("x", 1, pod_spec(json!({})));
        scaled["spec"].as_object_mut().unwrap().remove("replicas");
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x", "namespace": "n"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "minReplicas": 3, "maxReplicas": 6}});
        assert_eq!(
            hits("pdb", vec![scaled.clone(), hpa.clone()], false)[0].message,
            "3 replicas but no PodDisruptionBudget selects these pods"
        );
        let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x", "namespace": "n"},
            "spec": {"selector": {"matchLabels": {"app": "x"}}}});
        assert!(hits("pdb", vec![scaled.clone(), hpa.clone(), pdb.clone()], false).is_empty());
        let mut elsewhere = pdb;
        elsewhere["metadata"]["namespace"] = json!("other");
        assert_eq!(
            hits("pdb", vec![scaled, hpa, elsewhere], false).len(),
            1,
            "a PDB of another namespace does not count"
        );
    }

    #[test]
    fn plaintext_secrets_only_matter_in_production() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        assert!(hits("no-plaintext-secret", vec![secret.clone()], false).is_empty());
        assert_eq!(hits("no-plaintext-secret", vec![secret], true).len(), 1);
    }

    #[test]
    fn image_pinning() {
        assert_eq!(image_problem("nginx"), Some("has no tag"));
        assert_eq!(image_problem("nginx:"), Some("has no tag"));
        assert_eq!(image_problem("nginx:latest"), Some("uses the `latest` tag"));
        assert_eq!(
            image_problem("registry:5000/team/nginx"),
            Some("has no tag")
        );
        assert_eq!(image_problem(""), Some("has no image"));
        assert_eq!(image_problem("registry:5000/team/nginx:1.27"), None);
        assert_eq!(image_problem("nginx@sha256:abc"), None);
        assert_eq!(image_problem("nginx:latest@sha256:abc"), None);
        assert_eq!(image_problem("quay.io/coreos/etcd:v3.5.15"), None);
    }
}
