//! `checksum/config` on every pod template: the sha256 of every ConfigMap and Secret the
//! pod references in the same render, so a configuration change rolls the pods.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::foundation::object::Object;
use crate::foundation::object::pods::{PodTemplate, pod_templates};
use crate::foundation::object::refs::{provides, references};

/// The annotation somagen owns on pod templates.
pub const ANNOTATION: &str = "checksum/config";

/// (kind, namespace, name) of a ConfigMap or Secret → the canonical bytes a pod would see.
type Contents = BTreeMap<(&'static str, String, String), String>;

/// Annotate the pod template of every workload in `objects`. The digests are computed in
/// parallel (they are independent once the config contents are known), then written.
pub fn annotate(objects: &mut [Object]) {
    let config = config_contents(objects);
    let digests: Vec<(usize, &'static str, String)> = pod_templates(objects)
        .par_iter()
        .filter_map(|pod| {
            let pointer = pod.template_pointer?;
            Some((pod.index, pointer, digest_of(pod, &config)))
        })
        .collect();
    for (index, pointer, digest) in digests {
        if let Some(template) = objects[index].value.pointer_mut(pointer) {
            set_annotation(template, digest);
        }
    }
}

/// The data of every ConfigMap and Secret of the render. An ExternalSecret stands for the
/// Secret it creates: its spec is what decides that Secret's data.
fn config_contents(objects: &[Object]) -> Contents {
    let mut contents = Contents::new();
    for object in objects {
        let keys: &[&str] = match object.kind() {
            "ConfigMap" => &["data", "binaryData"],
            "Secret" => &["data", "stringData"],
            "ExternalSecret" => &["spec"],
            _ => continue,
        };
        let text = keys
            .iter()
            .filter_map(|key| object.value.get(*key))
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        for (kind, name) in provides(object) {
            contents.insert((kind, object.namespace().to_owned(), name), text.clone());
        }
    }
    contents
}

/// The ConfigMaps and Secrets a pod template references, by (kind, name), sorted.
fn config_references(pod: &PodTemplate<'_>) -> BTreeSet<(&'static str, String)> {
    references(pod)
        .into_iter()
        .filter(|r| matches!(r.kind, "ConfigMap" | "Secret"))
        .map(|r| (r.kind, r.name))
        .collect()
}

fn digest_of(pod: &PodTemplate<'_>, config: &Contents) -> String {
    let namespace = pod.namespace();
    let mut hasher = Sha256::new();
    for (kind, name) in config_references(pod) {
        // References to objects outside the render (created by operators) hash by name only.
        let data = config
            .get(&(kind, namespace.to_owned(), name.clone()))
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
        let template = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
            "spec": {"template": {"spec": {
            "volumes": [{"configMap": {"name": "a"}}, {"secret": {"secretName": "b"}},
                {"projected": {"sources": [{"configMap": {"name": "c"}}, {"secret": {"name": "d"}}]}}],
            "initContainers": [{"env": [{"valueFrom": {"secretKeyRef": {"name": "e", "key": "k"}}}]}],
            "containers": [{"envFrom": [{"secretRef": {"name": "f"}}]}]}}}});
        let objects = [object(template)];
        let pod = &pod_templates(&objects)[0];
        let names: Vec<String> = config_references(pod)
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        assert_eq!(names, ["a", "c", "b", "d", "e", "f"]);
    }
}
