//! `checksum/config` on every pod template: the sha256 of every ConfigMap and Secret the
//! pod references in the same render, so a configuration change rolls the pods.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::foundation::object::Object;
use crate::foundation::object::pods::pod_template;
use crate::foundation::object::refs::{provides, references};

/// The annotation somagen owns on pod templates.
pub const ANNOTATION: &str = "checksum/config";

/// (kind, namespace, name) of a ConfigMap or Secret.
pub type ConfigKey = (&'static str, String, String);

/// Each ConfigMap and Secret of a render → the canonical bytes a pod would see.
pub type Contents = BTreeMap<ConfigKey, String>;

/// The config data one object decides, for each ConfigMap or Secret it provides. An
/// ExternalSecret stands for the Secret it creates: its spec is what decides that Secret's
/// data. When two objects provide the same one, the later in template order counts.
pub fn contents_of(object: &Object) -> Vec<(ConfigKey, String)> {
    let keys: &[&str] = match object.kind() {
        "ConfigMap" => &["data", "binaryData"],
        "Secret" => &["data", "stringData"],
        "ExternalSecret" => &["spec"],
        _ => return Vec::new(),
    };
    let text = keys
        .iter()
        .filter_map(|key| object.value.get(*key))
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    provides(object)
        .into_iter()
        .map(|(kind, name)| ((kind, object.namespace().to_owned(), name), text.clone()))
        .collect()
}

/// What the checksum of one workload's pod template covers: the ConfigMaps and Secrets it
/// references, by (kind, name), sorted, in its namespace.
#[derive(Debug, Clone)]
pub struct PodConfig {
    /// JSON pointer of the pod template inside the workload.
    template: &'static str,
    namespace: String,
    references: BTreeSet<(&'static str, String)>,
}

impl PodConfig {
    /// The pod template's configuration references; `None` for objects without a pod
    /// template (and for bare Pods, which are not rolled).
    pub fn of(object: &Object) -> Option<PodConfig> {
        let pod = pod_template(object, 0)?;
        Some(PodConfig {
            template: pod.template_pointer?,
            namespace: pod.namespace().to_owned(),
            references: references(&pod)
                .into_iter()
                .filter(|r| matches!(r.kind, "ConfigMap" | "Secret"))
                .map(|r| (r.kind, r.name))
                .collect(),
        })
    }

    /// The sha256 of every referenced config's contents, as the annotation carries it.
    pub fn digest(&self, contents: &Contents) -> String {
        let mut hasher = Sha256::new();
        for (kind, name) in &self.references {
            // References to objects outside the render (created by operators) hash by name only.
            let data = contents
                .get(&(*kind, self.namespace.clone(), name.clone()))
                .map(String::as_str)
                .unwrap_or("");
            hasher.update(format!("{kind}/{name}\n{data}\n").as_bytes());
        }
        format!("{:x}", hasher.finalize())
    }

    /// Set the annotation on the pod template of `object` (the workload this was read from).
    pub fn annotate(&self, object: &mut Object, digest: String) {
        if let Some(template) = object.value.pointer_mut(self.template) {
            set_annotation(template, digest);
        }
    }
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

    /// Annotate every workload of `objects`, as a build does.
    fn annotate(objects: &mut [Object]) {
        let mut contents = Contents::new();
        for object in objects.iter() {
            contents.extend(contents_of(object));
        }
        for object in objects.iter_mut() {
            if let Some(pod) = PodConfig::of(object) {
                pod.annotate(object, pod.digest(&contents));
            }
        }
    }

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
        let pod = PodConfig::of(&object(template)).expect("a pod template");
        let names: Vec<String> = pod.references.into_iter().map(|(_, name)| name).collect();
        assert_eq!(names, ["a", "c", "b", "d", "e", "f"]);
    }
}
