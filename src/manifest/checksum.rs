//! `checksum/config` on every pod template: the sha256 of every ConfigMap and Secret the
//! pod references in the same render, so a configuration change rolls the pods.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Object;

/// The annotation somagen owns on pod templates.
pub const ANNOTATION: &str = "checksum/config";

/// Annotate the pod template of every workload in `objects` (in parallel: the digests are
/// independent once the config contents are known).
pub fn annotate(objects: &mut [Object]) {
    let config = config_contents(objects);
    objects.par_iter_mut().for_each(|object| {
        let Some(pointer) = pod_template_pointer(object.kind()) else {
            return;
        };
        let namespace = object.namespace().to_owned();
        let Some(template) = object.value.pointer_mut(pointer) else {
            return;
        };
        let digest = digest_of(&references(template), &namespace, &config);
        set_annotation(template, digest);
    });
}

/// Where a workload kind keeps its pod template.
fn pod_template_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some("/spec/template"),
        "CronJob" => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// (kind, namespace, name) → canonical bytes of the data a pod would see. An ExternalSecret
/// stands for the Secret it creates: its spec is what decides that Secret's data.
fn config_contents(objects: &[Object]) -> BTreeMap<(&'static str, String, String), String> {
    let mut contents = BTreeMap::new();
    for object in objects {
        let (kind, data): (&'static str, Vec<&Value>) = match object.kind() {
            "ConfigMap" => ("ConfigMap", fields(&object.value, &["data", "binaryData"])),
            "Secret" => ("Secret", fields(&object.value, &["data", "stringData"])),
            "ExternalSecret" => ("Secret", fields(&object.value, &["spec"])),
            _ => continue,
        };
        let name = match object.kind() {
            "ExternalSecret" => object
                .value
                .pointer("/spec/target/name")
                .and_then(Value::as_str)
                .unwrap_or(object.name())
                .to_owned(),
            _ => object.name().to_owned(),
        };
        let text = data
            .iter()
            .map(|value| value.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        contents.insert((kind, object.namespace().to_owned(), name), text);
    }
    contents
}

fn fields<'a>(value: &'a Value, keys: &[&str]) -> Vec<&'a Value> {
    keys.iter().filter_map(|key| value.get(*key)).collect()
}

/// The ConfigMaps and Secrets a pod template references, by (kind, name).
fn references(template: &Value) -> BTreeSet<(&'static str, String)> {
    let mut refs = BTreeSet::new();
    let Some(spec) = template.get("spec") else {
        return refs;
    };
    let mut add = |kind: &'static str, name: Option<&Value>| {
        if let Some(name) = name.and_then(Value::as_str) {
            refs.insert((kind, name.to_owned()));
        }
    };
    for volume in list(spec, "volumes") {
        add("ConfigMap", volume.pointer("/configMap/name"));
        add("Secret", volume.pointer("/secret/secretName"));
        for source in volume
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add("ConfigMap", source.pointer("/configMap/name"));
            add("Secret", source.pointer("/secret/name"));
        }
    }
    for container in list(spec, "containers").chain(list(spec, "initContainers")) {
        for env in list(container, "env") {
            add("ConfigMap", env.pointer("/valueFrom/configMapKeyRef/name"));
            add("Secret", env.pointer("/valueFrom/secretKeyRef/name"));
        }
        for source in list(container, "envFrom") {
            add("ConfigMap", source.pointer("/configMapRef/name"));
            add("Secret", source.pointer("/secretRef/name"));
        }
    }
    refs
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn digest_of(
    refs: &BTreeSet<(&'static str, String)>,
    namespace: &str,
    config: &BTreeMap<(&'static str, String, String), String>,
) -> String {
    let mut hasher = Sha256::new();
    for (kind, name) in refs {
        // References to objects outside the render (created by operators) hash by name only.
        let data = config
            .get(&(*kind, namespace.to_owned(), name.clone()))
            .map(String::as_str)
            .unwrap_or("");
        hasher.update(format!("{kind}/{name}\n{data}\n").as_bytes());
    }
    format!("{:x}", hasher.finalize())
}

fn set_annotation(template: &mut Value, digest: String) {
    let Some(template) = template.as_object_mut() else {
        return;
    };
    let metadata = template
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if metadata.is_null() {
        *metadata = Value::Object(Default::default());
    }
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let annotations = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if annotations.is_null() {
        *annotations = Value::Object(Default::default());
    }
    if let Some(annotations) = annotations.as_object_mut() {
        annotations.insert(ANNOTATION.to_owned(), Value::String(digest));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object {
            source: "templates/t.yaml".into(),
            value,
        }
    }

    fn deployment(config_name: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": "ns"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": config_name}}]}]}}}})
    }

    fn config_map(data: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"}, "data": {"k": data}})
    }

    fn checksum(objects: &[Object]) -> String {
        objects[1]
            .value
            .pointer("/spec/template/metadata/annotations/checksum~1config")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn a_config_change_changes_the_checksum() {
        let mut a = vec![object(config_map("one")), object(deployment("cfg"))];
        let mut b = vec![object(config_map("two")), object(deployment("cfg"))];
        annotate(&mut a);
        annotate(&mut b);
        assert_eq!(checksum(&a).len(), 64);
        assert_ne!(checksum(&a), checksum(&b));
    }

    #[test]
    fn unreferenced_config_does_not_change_the_checksum() {
        let mut a = vec![object(config_map("one")), object(deployment("other"))];
        let mut b = vec![object(config_map("two")), object(deployment("other"))];
        annotate(&mut a);
        annotate(&mut b);
        assert_eq!(checksum(&a), checksum(&b));
    }

    #[test]
    fn references_cover_volumes_env_and_projected_sources() {
        let template = json!({"spec": {
            "volumes": [{"configMap": {"name": "a"}}, {"secret": {"secretName": "b"}},
                {"projected": {"sources": [{"configMap": {"name": "c"}}, {"secret": {"name": "d"}}]}}],
            "initContainers": [{"env": [{"valueFrom": {"secretKeyRef": {"name": "e", "key": "k"}}}]}],
            "containers": [{"envFrom": [{"secretRef": {"name": "f"}}]}]}});
        let names: Vec<String> = references(&template)
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        assert_eq!(names, ["a", "c", "b", "d", "e", "f"]);
    }
}
