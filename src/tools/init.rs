//! `somagen init DIR`: a new, working stack that passes `somagen check` at once.
//!
//! One web workload done to the lint rules (Pod Security `restricted`, requests and limits,
//! probes, a pinned image, a NetworkPolicy, a PodDisruptionBudget when it runs more than one
//! replica), its Service and ConfigMap, the ownership labels the cluster commands need, a
//! strict values schema with a description on every key, a base overlay and one overlay per
//! mode (each opening with the `yaml-language-server` schema comment editors read), and the
//! golden files, rendered here by the same pipeline as `somagen golden`.

use std::collections::BTreeMap;

use crate::UserValues;
use crate::foundation::diag::{Code, Diagnostic, Result};
use crate::pipeline::emit;
use crate::pipeline::stack::{Origin, Stack};
use crate::tools::{golden, modes};

/// The comment that points editors (the YAML language server: VS Code, Neovim, Helix,
/// JetBrains) at the values schema.
pub const SCHEMA_COMMENT: &str = "# yaml-language-server: $schema=../schema/values.schema.json";

/// Whether `name` can name a stack (and its namespace): DNS-1123 label.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Every file of a new stack named `name` with `modes` (the last one, and any named
/// `prod*`, are production modes), golden files included.
pub fn new_stack(name: &str, modes: &[String]) -> Result<Vec<(String, String)>> {
    if !valid_name(name) {
        return Err(Diagnostic::error(
            Code::Usage,
            format!("`{name}` cannot name a stack: it must be a DNS label (lowercase letters, digits, `-`, at most 63)"),
        )
        .hint("pass --name NAME, e.g. --name my-app")
        .into());
    }
    if modes.is_empty() || modes.iter().any(|m| !valid_name(m)) {
        return Err(Diagnostic::error(
            Code::Usage,
            format!(
                "--modes `{}`: every mode must be a DNS label, and there must be one",
                modes.join(",")
            ),
        )
        .hint("e.g. --modes dev,staging,prod")
        .into());
    }
    let production: Vec<&String> = modes
        .iter()
        .enumerate()
        .filter(|(i, m)| m.starts_with("prod") || (*i == modes.len() - 1 && modes.len() > 1))
        .map(|(_, m)| m)
        .collect();
    let mut files = BTreeMap::new();
    files.insert(
        "stack.yaml".to_owned(),
        format!(
            "# A stack compiled by somagen: `somagen check` renders, lints and compares every mode.\n\
             name: {name}\nversion: 0.1.0\nkubeVersion: \"1.33\"\n\
             description: {name}, rendered by somagen\n\
             modes: [{}]\n\
             # Modes whose output must never carry a plaintext Secret (lint: no-plaintext-secret).\n\
             productionModes: [{}]\n",
            modes.join(", "),
            production.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
        ),
    );
    files.insert("overlays/base.yaml".to_owned(), base_values(name));
    for mode in modes {
        let replicas = if production.contains(&mode) { 2 } else { 1 };
        files.insert(
            format!("overlays/{mode}.yaml"),
            format!(
                "{SCHEMA_COMMENT}\n# Values of mode {mode}, merged over base.yaml.\nweb:\n  replicas: {replicas}\n"
            ),
        );
    }
    files.insert("schema/values.schema.json".to_owned(), SCHEMA.to_owned());
    files.insert("templates/_helpers.j2".to_owned(), HELPERS.to_owned());
    files.insert("templates/namespace.yaml".to_owned(), NAMESPACE.to_owned());
    files.insert(
        "templates/web/configmap.yaml".to_owned(),
        CONFIGMAP.to_owned(),
    );
    files.insert(
        "templates/web/deployment.yaml".to_owned(),
        DEPLOYMENT.to_owned(),
    );
    files.insert("templates/web/service.yaml".to_owned(), SERVICE.to_owned());
    files.insert(
        "templates/web/networkpolicy.yaml".to_owned(),
        NETWORK_POLICY.to_owned(),
    );
    files.insert("templates/web/pdb.yaml".to_owned(), PDB.to_owned());

    let stack = Stack::from_files(Origin::Embedded, files.clone())?;
    let rendered = modes::render_modes(&stack, &stack.meta.modes, &UserValues::default())?;
    for (mode, output) in rendered {
        files.insert(
            golden::golden_path(&mode),
            emit::yaml_stream(&output.objects),
        );
    }
    Ok(files.into_iter().collect())
}

fn base_values(name: &str) -> String {
    format!(
        "{SCHEMA_COMMENT}\n# Base values of every mode; overlays/<mode>.yaml override them.\n\
namespace: {name}\n\
web:\n\
\x20 replicas: 1\n\
\x20 image:\n\
\x20   repository: nginxinc/nginx-unprivileged\n\
\x20   tag: \"1.27\"\n\
\x20 port: 8080\n\
\x20 resources:\n\
\x20   requests: {{cpu: 50m, memory: 64Mi}}\n\
\x20   limits: {{cpu: 500m, memory: 128Mi}}\n\
\x20 greeting: hello\n"
    )
}

const SCHEMA: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Values of the stack",
  "type": "object",
  "additionalProperties": false,
  "required": ["namespace", "web"],
  "properties": {
    "namespace": {
      "description": "The namespace every object lives in.",
      "type": "string",
      "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
    },
    "web": {
      "description": "The web workload: a Deployment, its Service, ConfigMap, NetworkPolicy and PodDisruptionBudget.",
      "type": "object",
      "additionalProperties": false,
      "required": ["replicas", "image", "port", "resources", "greeting"],
      "properties": {
        "replicas": {
          "description": "Pods; with more than one, a PodDisruptionBudget keeps one up during drains.",
          "type": "integer",
          "minimum": 1,
          "maximum": 50
        },
        "image": {
          "description": "The container image.",
          "type": "object",
          "additionalProperties": false,
          "required": ["repository", "tag"],
          "properties": {
            "repository": {"description": "Image repository, with its registry if not Docker Hub.", "type": "string", "minLength": 1},
            "tag": {"description": "A pinned tag (never `latest`).", "type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", "not": {"const": "latest"}}
          }
        },
        "port": {"description": "The port the container listens on.", "type": "integer", "minimum": 1024, "maximum": 65535},
        "resources": {
          "description": "Container requests and limits (Kubernetes quantities).",
          "type": "object",
          "additionalProperties": false,
          "required": ["requests", "limits"],
          "properties": {
            "requests": {"$ref": "#/$defs/quantities", "description": "What the scheduler reserves."},
            "limits": {"$ref": "#/$defs/quantities", "description": "What the container may use at most."}
          }
        },
        "greeting": {"description": "An example setting, passed to the pods through the ConfigMap.", "type": "string"}
      }
    }
  },
  "$defs": {
    "quantities": {
      "type": "object",
      "additionalProperties": false,
      "required": ["cpu", "memory"],
      "properties": {
        "cpu": {"description": "CPU, e.g. 100m.", "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?m?$"},
        "memory": {"description": "Memory, e.g. 128Mi.", "type": "string", "pattern": "^[0-9]+(Ki|Mi|Gi)?$"}
      }
    }
  }
}
"##;

const HELPERS: &str = r#"{#- Labels of every object: the recommended ones, and the ownership labels that
    `somagen plan`, `apply --prune` and `drift` find the stack's objects by. -#}
{% macro labels(component) -%}
{{ {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": stack.name, "app.kubernetes.io/part-of": stack.name, "app.kubernetes.io/managed-by": "somagen", "app.kubernetes.io/version": stack.version} | tojson }}
{%- endmacro %}

{#- Selectors use labels that never change after creation. -#}
{% macro selector(component) -%}
{{ {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": stack.name} | tojson }}
{%- endmacro %}
"#;

const NAMESPACE: &str = r#"{% import "_helpers.j2" as h %}
apiVersion: v1
kind: Namespace
metadata:
  name: {{ values.namespace }}
  labels: {{ h.labels("namespace") }}
"#;

const CONFIGMAP: &str = r#"{% import "_helpers.j2" as h %}
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  namespace: {{ values.namespace }}
  labels: {{ h.labels("web") }}
data:
  GREETING: {{ values.web.greeting | quote }}
  MODE: {{ mode | quote }}
"#;

const DEPLOYMENT: &str = r#"{% import "_helpers.j2" as h %}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {{ values.namespace }}
  labels: {{ h.labels("web") }}
spec:
  replicas: {{ values.web.replicas }}
  revisionHistoryLimit: 3
  selector:
    matchLabels: {{ h.selector("web") }}
  template:
    metadata:
      labels: {{ h.labels("web") }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        runAsGroup: 101
        fsGroup: 101
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: web
          image: {{ values.web.image.repository }}:{{ values.web.image.tag }}
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: {{ values.web.port }}
          envFrom:
            - configMapRef:
                name: web
          readinessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: /, port: http}
            periodSeconds: 20
          resources: {{ values.web.resources | tojson }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
"#;

const SERVICE: &str = r#"{% import "_helpers.j2" as h %}
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {{ values.namespace }}
  labels: {{ h.labels("web") }}
spec:
  selector: {{ h.selector("web") }}
  ports:
    - name: http
      port: 80
      targetPort: http
"#;

const NETWORK_POLICY: &str = r#"{% import "_helpers.j2" as h %}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: {{ values.namespace }}
  labels: {{ h.labels("web") }}
spec:
  podSelector:
    matchLabels: {{ h.selector("web") }}
  policyTypes: [Ingress]
  ingress:
    - ports:
        - port: http
"#;

const PDB: &str = r#"{% import "_helpers.j2" as h %}
{% if values.web.replicas > 1 %}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: {{ values.namespace }}
  labels: {{ h.labels("web") }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{ h.selector("web") }}
{% endif %}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert!(valid_name("my-app"));
        assert!(!valid_name("My_App"));
        assert!(!valid_name("-x"));
        assert!(!valid_name(""));
    }

    #[test]
    fn every_mode_gets_an_overlay_and_a_golden_file() {
        let modes: Vec<String> = ["dev", "prod"].map(String::from).to_vec();
        let files: BTreeMap<String, String> =
            new_stack("demo", &modes).unwrap().into_iter().collect();
        for path in [
            "overlays/dev.yaml",
            "overlays/prod.yaml",
            "golden/dev.yaml",
            "golden/prod.yaml",
        ] {
            assert!(files.contains_key(path), "{path}");
        }
        assert!(files["overlays/prod.yaml"].starts_with(SCHEMA_COMMENT));
        assert!(files["stack.yaml"].contains("productionModes: [prod]"));
        assert!(files["golden/prod.yaml"].contains("kind: PodDisruptionBudget"));
        assert!(!files["golden/dev.yaml"].contains("kind: PodDisruptionBudget"));
    }
}
