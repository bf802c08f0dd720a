//! What pods reference, and what the objects of a render provide to them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::pods::{ALL_CONTAINERS, PodTemplate};
use super::{Object, group};

/// A reference from a pod to another object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `ConfigMap`, `Secret`, `PersistentVolumeClaim` or `ServiceAccount`.
    pub kind: &'static str,
    pub name: String,
    /// Dotted field path of the reference inside the object.
    pub field: String,
    /// `optional: true`: the pod starts without the object.
    pub optional: bool,
}

/// The objects a render provides to pods: (kind, namespace, name).
pub fn provided(objects: &[Object]) -> BTreeSet<(&'static str, String, String)> {
    let mut provided = BTreeSet::new();
    for object in objects {
        let ns = object.namespace();
        for (kind, name) in provides(object) {
            provided.insert((kind, ns.to_owned(), name));
        }
    }
    provided
}

/// What one object provides to the pods of its namespace, as (kind, name): itself for a
/// ConfigMap, Secret, PVC or ServiceAccount, and the objects an operator or controller
/// creates from it.
pub fn provides(object: &Object) -> Vec<(&'static str, String)> {
    let mut provided = Vec::new();
    let mut add = |kind: &'static str, name: &str| {
        if !name.is_empty() {
            provided.push((kind, name.to_owned()));
        }
    };
    match (group(object.api_version()), object.kind()) {
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
        ("cert-manager.io", "Certificate") => add("Secret", object.str_field("/spec/secretName")),
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

fn is_optional(value: &Value) -> bool {
    value.get("optional").and_then(Value::as_bool) == Some(true)
}

/// Every reference of a pod template to a ConfigMap, Secret, PVC or ServiceAccount: the one
/// walk over volumes, env, envFrom, image pull secrets and the service account that the
/// `checksum/config` annotation, lint and the graph share.
pub fn references(pod: &PodTemplate<'_>) -> Vec<Reference> {
    let mut refs = Vec::new();
    let mut add = |kind: &'static str, source: Option<&Value>, key: &str, field: String| {
        if let Some(source) = source
            && let Some(name) = source.get(key).and_then(Value::as_str)
        {
            refs.push(Reference {
                kind,
                name: name.to_owned(),
                field: format!("{field}.{key}"),
                optional: is_optional(source),
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
            optional: false,
        });
    }
    refs
}
