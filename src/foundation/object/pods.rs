//! Pod templates of rendered workloads: where each one sits in its object (by API group and
//! kind), its labels, its containers, and label-selector matching.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Object, group};

/// The pod template of one workload object (or a bare Pod).
#[derive(Debug, Clone, Copy)]
pub struct PodTemplate<'a> {
    pub object: &'a Object,
    /// Index of the object in the rendered list.
    pub index: usize,
    /// JSON pointer of the pod template inside a workload (`None` for a bare Pod).
    pub template_pointer: Option<&'static str>,
    /// Dotted field path of the pod spec, e.g. `spec.template.spec`.
    pub spec_path: &'static str,
    /// Dotted field path of the pod labels, e.g. `spec.template.metadata.labels`.
    pub labels_path: &'static str,
    pub spec: &'a Map<String, Value>,
    pub labels: Option<&'a Map<String, Value>>,
    /// Pods that are expected to keep running (not Jobs, CronJobs or run-to-completion Pods).
    pub long_running: bool,
}

/// Where a workload kind keeps its pod template.
struct Layout {
    /// JSON pointer of the pod template (metadata and spec) of a workload; `None` for a
    /// bare Pod, which is its own template.
    template: Option<&'static str>,
    spec: &'static str,
    spec_path: &'static str,
    labels: &'static str,
    labels_path: &'static str,
    long_running: bool,
}

const TEMPLATE: Layout = Layout {
    template: Some("/spec/template"),
    spec: "/spec/template/spec",
    spec_path: "spec.template.spec",
    labels: "/spec/template/metadata/labels",
    labels_path: "spec.template.metadata.labels",
    long_running: true,
};
const JOB: Layout = Layout {
    long_running: false,
    ..TEMPLATE
};
const CRON_JOB: Layout = Layout {
    template: Some("/spec/jobTemplate/spec/template"),
    spec: "/spec/jobTemplate/spec/template/spec",
    spec_path: "spec.jobTemplate.spec.template.spec",
    labels: "/spec/jobTemplate/spec/template/metadata/labels",
    labels_path: "spec.jobTemplate.spec.template.metadata.labels",
    long_running: false,
};

fn layout(object: &Object) -> Option<Layout> {
    match (group(object.api_version()), object.kind()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController") => Some(TEMPLATE),
        ("batch", "Job") => Some(JOB),
        ("batch", "CronJob") => Some(CRON_JOB),
        ("", "Pod") => {
            let restart = object.str_field("/spec/restartPolicy");
            Some(Layout {
                template: None,
                spec: "/spec",
                spec_path: "spec",
                labels: "/metadata/labels",
                labels_path: "metadata.labels",
                long_running: restart.is_empty() || restart == "Always",
            })
        }
        _ => None,
    }
}

/// Every pod template of the rendered objects, in object order.
pub fn pod_templates(objects: &[Object]) -> Vec<PodTemplate<'_>> {
    objects
        .iter()
        .enumerate()
        .filter_map(|(index, object)| pod_template(object, index))
        .collect()
}

/// The pod template of one object (at `index` in its list), if it is a workload or a Pod.
pub fn pod_template(object: &Object, index: usize) -> Option<PodTemplate<'_>> {
    let layout = layout(object)?;
    let spec = object.value.pointer(layout.spec)?.as_object()?;
    let labels = object
        .value
        .pointer(layout.labels)
        .and_then(Value::as_object);
    Some(PodTemplate {
        object,
        index,
        template_pointer: layout.template,
        spec_path: layout.spec_path,
        labels_path: layout.labels_path,
        spec,
        labels,
        long_running: layout.long_running,
    })
}

/// Which list of a pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerList {
    Containers,
    InitContainers,
    EphemeralContainers,
}

impl ContainerList {
    pub fn key(self) -> &'static str {
        match self {
            ContainerList::Containers => "containers",
            ContainerList::InitContainers => "initContainers",
            ContainerList::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// One container of a pod template.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    pub list: ContainerList,
    pub index: usize,
    pub name: &'a str,
    pub value: &'a Map<String, Value>,
    /// Dotted field path, e.g. `spec.template.spec.initContainers[0]`.
    pub path: String,
}

impl Container<'_> {
    /// A string field of the container (`""` when absent).
    pub fn str(&self, key: &str) -> &str {
        self.value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// An init container with `restartPolicy: Always` is a sidecar that keeps running.
    pub fn is_sidecar(&self) -> bool {
        self.list == ContainerList::InitContainers && self.str("restartPolicy") == "Always"
    }
}

impl<'a> PodTemplate<'a> {
    /// The containers of the given lists, in list order.
    pub fn containers(&self, lists: &[ContainerList]) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for &list in lists {
            let Some(items) = self.spec.get(list.key()).and_then(Value::as_array) else {
                continue;
            };
            for (index, item) in items.iter().enumerate() {
                if let Some(value) = item.as_object() {
                    let name = value
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let path = format!("{}.{}[{index}]", self.spec_path, list.key());
                    out.push(Container {
                        list,
                        index,
                        name,
                        value,
                        path,
                    });
                }
            }
        }
        out
    }

    /// The namespace of the pods (the workload's namespace).
    pub fn namespace(&self) -> &'a str {
        self.object.namespace()
    }
}

/// Every container list, ephemeral containers included.
pub const ALL_CONTAINERS: [ContainerList; 3] = [
    ContainerList::Containers,
    ContainerList::InitContainers,
    ContainerList::EphemeralContainers,
];

/// Does a `metav1.LabelSelector` (`matchLabels` / `matchExpressions`) select `labels`?
/// An empty selector selects everything; a selector that is not a mapping selects nothing.
pub fn selector_matches(selector: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let Some(selector) = selector.as_object() else {
        return false;
    };
    let label = |key: &str| {
        labels
            .and_then(|labels| labels.get(key))
            .and_then(Value::as_str)
    };
    if let Some(match_labels) = selector.get("matchLabels").and_then(Value::as_object)
        && !match_labels
            .iter()
            .all(|(key, value)| label(key).is_some_and(|have| Some(have) == value.as_str()))
    {
        return false;
    }
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    expressions.iter().all(|expression| {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: BTreeSet<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" => label(key).is_some_and(|have| values.contains(have)),
            "NotIn" => label(key).is_none_or(|have| !values.contains(have)),
            "Exists" => label(key).is_some(),
            "DoesNotExist" => label(key).is_none(),
            _ => false,
        }
    })
}

/// Does a plain `key: value` selector (a Service's) select `labels`? Empty selects nothing.
pub fn map_selector_matches(
    selector: &Map<String, Value>,
    labels: Option<&Map<String, Value>>,
) -> bool {
    !selector.is_empty()
        && selector.iter().all(|(key, value)| {
            labels
                .and_then(|labels| labels.get(key))
                .is_some_and(|have| have.as_str().is_some() && have == value)
        })
}

/// The sorted, unique images of every container (init and ephemeral included) of every pod
/// template: what to preload into a Kind node or hand to a scanner.
pub fn images(objects: &[Object]) -> Vec<String> {
    let mut images = BTreeSet::new();
    for pod in pod_templates(objects) {
        for container in pod.containers(&ALL_CONTAINERS) {
            let image = container.str("image");
            if !image.is_empty() {
                images.insert(image.to_owned());
            }
        }
    }
    images.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn label_selectors_follow_kubernetes_semantics() {
        let pod = labels(json!({"app": "web", "tier": "front"}));
        assert!(selector_matches(&json!({}), Some(&pod)));
        assert!(selector_matches(&json!({}), None));
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            Some(&pod)
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "db"}}),
            Some(&pod)
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "web"}}),
            None
        ));
        let expr = |op: &str, values: Value| json!({"matchExpressions": [{"key": "tier", "operator": op, "values": values}]});
        assert!(selector_matches(
            &expr("In", json!(["front", "back"])),
            Some(&pod)
        ));
        assert!(!selector_matches(&expr("In", json!(["back"])), Some(&pod)));
        assert!(selector_matches(
            &expr("NotIn", json!(["back"])),
            Some(&pod)
        ));
        assert!(!selector_matches(
            &expr("NotIn", json!(["front"])),
            Some(&pod)
        ));
        assert!(selector_matches(&expr("Exists", json!(null)), Some(&pod)));
        assert!(!selector_matches(
            &expr("DoesNotExist", json!(null)),
            Some(&pod)
        ));
        assert!(!selector_matches(&expr("Bogus", json!(null)), Some(&pod)));
        assert!(!selector_matches(&json!(null), Some(&pod)));
    }

    #[test]
    fn service_selectors_need_every_label() {
        let pod = labels(json!({"app": "web", "tier": "front"}));
        assert!(map_selector_matches(
            &labels(json!({"app": "web"})),
            Some(&pod)
        ));
        assert!(!map_selector_matches(
            &labels(json!({"app": "web", "x": "y"})),
            Some(&pod)
        ));
        assert!(!map_selector_matches(&Map::new(), Some(&pod)));
    }

    #[test]
    fn images_are_sorted_unique_and_include_init_containers() {
        let objects = vec![
            Object {
                source: "t".into(),
                value: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
                    "spec": {"template": {"spec": {"initContainers": [{"name": "i", "image": "busybox:1.36"}],
                        "containers": [{"name": "c", "image": "nginx:1.27"}, {"name": "d", "image": "busybox:1.36"}]}}}}),
            },
            Object {
                source: "t".into(),
                value: json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "b"},
                    "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "alpine:3"}]}}}}}}),
            },
            Object {
                source: "t".into(),
                value: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            },
        ];
        assert_eq!(images(&objects), ["alpine:3", "busybox:1.36", "nginx:1.27"]);
    }
}
