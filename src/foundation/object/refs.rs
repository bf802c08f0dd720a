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

/// Where a reference sits in one item of a list: the kind it names, the JSON pointer of its
/// source inside the item (`""`: the item itself), and the key that holds the name.
type Site = (&'static str, &'static str, &'static str);

const VOLUME: &[Site] = &[
    ("ConfigMap", "/configMap", "name"),
    ("Secret", "/secret", "secretName"),
    (
        "PersistentVolumeClaim",
        "/persistentVolumeClaim",
        "claimName",
    ),
];
const PROJECTED_SOURCE: &[Site] = &[
    ("ConfigMap", "/configMap", "name"),
    ("Secret", "/secret", "name"),
];
const ENV: &[Site] = &[
    ("ConfigMap", "/valueFrom/configMapKeyRef", "name"),
    ("Secret", "/valueFrom/secretKeyRef", "name"),
];
const ENV_FROM: &[Site] = &[
    ("ConfigMap", "/configMapRef", "name"),
    ("Secret", "/secretRef", "name"),
];
const PULL_SECRET: &[Site] = &[("Secret", "", "name")];

/// Every reference of a pod template to a ConfigMap, Secret, PVC or ServiceAccount: the one
/// walk over volumes, env, envFrom, image pull secrets and the service account that the
/// `checksum/config` annotation, lint and the graph share.
pub fn references(pod: &PodTemplate<'_>) -> Vec<Reference> {
    let mut refs = Vec::new();
    let spec = pod.spec_path;
    for (i, volume) in items(pod.spec.get("volumes")) {
        let path = format!("{spec}.volumes[{i}]");
        refs.extend(at_sites(volume, &path, VOLUME));
        for (j, source) in items(volume.pointer("/projected/sources")) {
            refs.extend(at_sites(
                source,
                &format!("{path}.projected.sources[{j}]"),
                PROJECTED_SOURCE,
            ));
        }
    }
    for c in pod.containers(&ALL_CONTAINERS) {
        for (i, env) in items(c.value.get("env")) {
            refs.extend(at_sites(env, &format!("{}.env[{i}]", c.path), ENV));
        }
        for (i, source) in items(c.value.get("envFrom")) {
            refs.extend(at_sites(
                source,
                &format!("{}.envFrom[{i}]", c.path),
                ENV_FROM,
            ));
        }
    }
    for (i, secret) in items(pod.spec.get("imagePullSecrets")) {
        refs.extend(at_sites(
            secret,
            &format!("{spec}.imagePullSecrets[{i}]"),
            PULL_SECRET,
        ));
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

/// The items of a list (none when the value is not one), with their indices.
fn items(list: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The references one list item (at dotted `path`) makes at the given sites.
fn at_sites(item: &Value, path: &str, sites: &[Site]) -> Vec<Reference> {
    sites
        .iter()
        .filter_map(|(kind, pointer, key)| {
            let source = if pointer.is_empty() {
                Some(item)
            } else {
                item.pointer(pointer)
            }?;
            let name = source.get(*key).and_then(Value::as_str)?;
            Some(Reference {
                kind,
                name: name.to_owned(),
                field: format!("{path}{}.{key}", pointer.replace('/', ".")),
                optional: is_optional(source),
            })
        })
        .collect()
}
