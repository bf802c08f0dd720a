//! A synthetic stack of N components, each a Deployment, a Service, a ConfigMap with ten
//! keys and, in prod, a PodDisruptionBudget; the prod overlay changes replicas, images and
//! resources. Shared by the benchmarks so that speed claims are reproducible.

use std::collections::BTreeMap;
use std::path::Path;

/// The stack's files, keyed by path relative to its root.
pub fn stack_files(components: usize) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert(
        "stack.yaml".into(),
        "name: synthetic\nversion: 1.0.0\nkubeVersion: \"1.33\"\nmodes: [dev, prod]\n".into(),
    );
    let mut base = String::from("components:\n");
    let mut prod = String::from("components:\n");
    for i in 0..components {
        base.push_str(&format!(
            "  - name: svc-{i:05}\n    replicas: 1\n    image: registry.example/app-{i}:1.0.{i}\n    port: {}\n    cpu: 100m\n    memory: 128Mi\n",
            8000 + i % 1000
        ));
        prod.push_str(&format!(
            "  - name: svc-{i:05}\n    replicas: 3\n    image: registry.example/app-{i}:2.0.{i}\n    port: {}\n    cpu: 500m\n    memory: 512Mi\n",
            8000 + i % 1000
        ));
    }
    files.insert("overlays/base.yaml".into(), base);
    files.insert("overlays/dev.yaml".into(), "{}\n".into());
    files.insert("overlays/prod.yaml".into(), prod);
    files.insert("schema/values.schema.json".into(), SCHEMA.into());
    files.insert("templates/components.yaml".into(), TEMPLATE.into());
    files
}

/// Write the stack to `dir` (for benchmarks of the whole process).
pub fn write_stack(dir: &Path, components: usize) {
    for (path, text) in stack_files(components) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("stack files live in directories"))
            .expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "additionalProperties": false, "required": ["components"],
  "properties": {"components": {"description": "Components.", "type": "array", "items": {
    "type": "object", "additionalProperties": false,
    "required": ["name", "replicas", "image", "port", "cpu", "memory"],
    "properties": {
      "name": {"description": "Name.", "type": "string", "pattern": "^[a-z0-9-]+$"},
      "replicas": {"description": "Replicas.", "type": "integer", "minimum": 1},
      "image": {"description": "Image.", "type": "string"},
      "port": {"description": "Port.", "type": "integer", "minimum": 1, "maximum": 65535},
      "cpu": {"description": "CPU.", "type": "string"},
      "memory": {"description": "Memory.", "type": "string"}}}}}
}"#;

const TEMPLATE: &str = r#"{% for c in values.components %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ c.name }}-config
  namespace: synthetic
  labels: {app: {{ c.name }}}
data:
{% for k in range(10) %}
  KEY_{{ k }}: "value-{{ k }}-{{ c.name }}"
{% endfor %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ c.name }}
  namespace: synthetic
  labels: {app: {{ c.name }}}
spec:
  replicas: {{ c.replicas }}
  selector:
    matchLabels: {app: {{ c.name }}}
  template:
    metadata:
      labels: {app: {{ c.name }}}
    spec:
      containers:
        - name: app
          image: {{ c.image }}
          ports:
            - containerPort: {{ c.port }}
          envFrom:
            - configMapRef: {name: {{ c.name }}-config}
          resources:
            requests: {cpu: {{ c.cpu }}, memory: {{ c.memory }}}
            limits: {cpu: {{ c.cpu }}, memory: {{ c.memory }}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ c.name }}
  namespace: synthetic
spec:
  selector: {app: {{ c.name }}}
  ports:
    - port: 80
      targetPort: {{ c.port }}
{% if mode == "prod" %}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ c.name }}
  namespace: synthetic
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: {{ c.name }}}
{% endif %}
{% endfor %}
"#;
