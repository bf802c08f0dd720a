//! `somagen graph`: a picture of a rendered mode, derived from the objects themselves.
//!
//! - Nodes: every long-running workload (Deployment, StatefulSet, DaemonSet) by namespace,
//!   the Services that select its pods, and the traffic sources NetworkPolicies name that are
//!   not workloads of the render (labelled application namespaces, infra-admin pods, CIDRs).
//! - Edges: Service → workload (its selector matches the pod template labels), and
//!   source → workload with the ports an ingress rule of a NetworkPolicy allows (policy
//!   `podSelector` matched against pod template labels, `from` peers likewise).
//!
//! Everything is sorted: the same objects always give the same text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::foundation::object::Object;
use crate::foundation::object::pods::{self, PodTemplate};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
    /// A Markdown page holding the Mermaid chart (`docs/architecture.md`).
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Workload,
    Service,
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    /// Namespace for workloads and Services; "" for sources outside any one namespace.
    namespace: String,
    label: String,
    shape: Shape,
}

/// The graph of one render: nodes by id, edges (from, to) → allowed ports (empty for a
/// Service edge).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: BTreeMap<String, Node>,
    services: BTreeSet<(String, String)>,
    traffic: BTreeMap<(String, String), BTreeSet<String>>,
}

/// Build the graph of `objects`.
pub fn build(objects: &[Object]) -> Graph {
    let mut graph = Graph::default();
    let workloads: Vec<PodTemplate<'_>> = pods::pod_templates(objects)
        .into_iter()
        .filter(|pod| pod.long_running)
        .collect();
    for pod in &workloads {
        graph.nodes.insert(
            workload_id(pod),
            Node {
                namespace: pod.namespace().to_owned(),
                label: format!("{} {}", pod.object.kind(), pod.object.name()),
                shape: Shape::Workload,
            },
        );
    }
    for service in objects.iter().filter(|o| o.kind() == "Service") {
        let Some(selector) = service.map_field("/spec/selector") else {
            continue;
        };
        let id = format!(
            "svc_{}_{}",
            sanitize(service.namespace()),
            sanitize(service.name())
        );
        let mut matched = false;
        for pod in workloads
            .iter()
            .filter(|pod| pod.namespace() == service.namespace())
        {
            if pods::map_selector_matches(selector, pod.labels) {
                graph.services.insert((id.clone(), workload_id(pod)));
                matched = true;
            }
        }
        if matched {
            let headless = service.str_field("/spec/clusterIP") == "None";
            graph.nodes.insert(
                id,
                Node {
                    namespace: service.namespace().to_owned(),
                    label: format!(
                        "Service {}{}",
                        service.name(),
                        if headless { " (headless)" } else { "" }
                    ),
                    shape: Shape::Service,
                },
            );
        }
    }
    for policy in objects.iter().filter(|o| o.kind() == "NetworkPolicy") {
        add_policy(&mut graph, policy, &workloads);
    }
    graph
}

fn add_policy(graph: &mut Graph, policy: &Object, workloads: &[PodTemplate<'_>]) {
    let namespace = policy.namespace();
    let selector = policy
        .value
        .pointer("/spec/podSelector")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let targets: Vec<String> = workloads
        .iter()
        .filter(|pod| pod.namespace() == namespace && pods::selector_matches(&selector, pod.labels))
        .map(workload_id)
        .collect();
    let rules = policy
        .value
        .pointer("/spec/ingress")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for rule in rules {
        let ports = rule_ports(rule);
        let peers = rule
            .get("from")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let sources: Vec<String> = if peers.is_empty() {
            vec![graph.source("any", "any source")]
        } else {
            peers
                .iter()
                .flat_map(|peer| peer_sources(graph, peer, namespace, workloads))
                .collect()
        };
        for source in &sources {
            for target in &targets {
                graph
                    .traffic
                    .entry((source.clone(), target.clone()))
                    .or_default()
                    .extend(ports.iter().cloned());
            }
        }
    }
}

/// The ports of an ingress rule as `port` or `port/PROTOCOL` (TCP is implied); `all ports`
/// when the rule names none.
fn rule_ports(rule: &Value) -> BTreeSet<String> {
    let ports = rule
        .get("ports")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if ports.is_empty() {
        return BTreeSet::from(["all ports".to_owned()]);
    }
    ports
        .iter()
        .map(|port| {
            let number = match port.get("port") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(name)) => name.clone(),
                _ => "all".to_owned(),
            };
            let number = match port.get("endPort").and_then(Value::as_u64) {
                Some(end) => format!("{number}-{end}"),
                None => number,
            };
            match port.get("protocol").and_then(Value::as_str) {
                Some(protocol) if protocol != "TCP" => format!("{number}/{protocol}"),
                _ => number,
            }
        })
        .collect()
}

fn peer_sources(
    graph: &mut Graph,
    peer: &Value,
    namespace: &str,
    workloads: &[PodTemplate<'_>],
) -> Vec<String> {
    if let Some(block) = peer.get("ipBlock") {
        let cidr = block
            .get("cidr")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return vec![graph.source(&format!("cidr_{cidr}"), &format!("ipBlock {cidr}"))];
    }
    let pod_selector = peer.get("podSelector");
    match (peer.get("namespaceSelector"), pod_selector) {
        (None, Some(selector)) => {
            let matched: Vec<String> = workloads
                .iter()
                .filter(|pod| {
                    pod.namespace() == namespace && pods::selector_matches(selector, pod.labels)
                })
                .map(workload_id)
                .collect();
            if matched.is_empty() {
                let text = describe_selector(selector);
                vec![graph.source(
                    &format!("pods_{namespace}_{text}"),
                    &format!("pods {text} in {namespace}"),
                )]
            } else {
                matched
            }
        }
        (Some(ns), None) => {
            let text = describe_selector(ns);
            vec![graph.source(&format!("ns_{text}"), &format!("namespaces {text}"))]
        }
        (Some(ns), Some(selector)) => {
            let (ns, pods) = (describe_selector(ns), describe_selector(selector));
            vec![graph.source(
                &format!("nspods_{ns}_{pods}"),
                &format!("pods {pods} in namespaces {ns}"),
            )]
        }
        (None, None) => Vec::new(),
    }
}

/// `k=v, k2 in (a,b)`; `all` for an empty selector.
fn describe_selector(selector: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            parts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
        }
    }
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let operator = expression
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(format!("{key} {operator} ({})", values.join(",")));
    }
    if parts.is_empty() {
        "all".to_owned()
    } else {
        parts.join(", ")
    }
}

impl Graph {
    fn source(&mut self, key: &str, label: &str) -> String {
        let id = format!("src_{}", sanitize(key));
        self.nodes.entry(id.clone()).or_insert_with(|| Node {
            namespace: String::new(),
            label: label.to_owned(),
            shape: Shape::Source,
        });
        id
    }

    /// The graph as text in `format`; `title` heads the Markdown page.
    pub fn render(&self, format: Format, title: &str) -> String {
        match format {
            Format::Mermaid => self.mermaid(),
            Format::Dot => self.dot(),
            Format::Markdown => format!(
                "# {title}\n\n\
                 <!-- Generated by `somagen graph --format markdown`; do not edit: a test fails when it is stale. -->\n\n\
                 Rectangles are workloads, stadiums the Services that select them (dashed), hexagons\n\
                 the traffic sources NetworkPolicies admit that are not workloads of the render.\n\
                 A solid arrow is traffic an ingress rule allows, labelled with its ports; everything\n\
                 else is denied by `sharedinfra-default-deny-ingress`.\n\n\
                 ```mermaid\n{}```\n",
                self.mermaid()
            ),
        }
    }

    fn namespaces(&self) -> BTreeMap<&str, Vec<(&String, &Node)>> {
        let mut by_namespace: BTreeMap<&str, Vec<(&String, &Node)>> = BTreeMap::new();
        for (id, node) in &self.nodes {
            by_namespace
                .entry(node.namespace.as_str())
                .or_default()
                .push((id, node));
        }
        by_namespace
    }

    fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (namespace, nodes) in self.namespaces() {
            let indent = if namespace.is_empty() { "  " } else { "    " };
            if !namespace.is_empty() {
                let _ = writeln!(
                    out,
                    "  subgraph ns_{}[\"namespace {}\"]",
                    sanitize(namespace),
                    escape_mermaid(namespace)
                );
            }
            for (id, node) in nodes {
                let label = escape_mermaid(&node.label);
                let _ = match node.shape {
                    Shape::Workload => writeln!(out, "{indent}{id}[\"{label}\"]"),
                    Shape::Service => writeln!(out, "{indent}{id}([\"{label}\"])"),
                    Shape::Source => writeln!(out, "{indent}{id}{{{{\"{label}\"}}}}"),
                };
            }
            if !namespace.is_empty() {
                out.push_str("  end\n");
            }
        }
        for (service, workload) in &self.services {
            let _ = writeln!(out, "  {service} -.-> {workload}");
        }
        for ((from, to), ports) in &self.traffic {
            let _ = writeln!(
                out,
                "  {from} -->|\"{}\"| {to}",
                escape_mermaid(&port_list(ports))
            );
        }
        out
    }

    fn dot(&self) -> String {
        let mut out =
            String::from("digraph stack {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for (namespace, nodes) in self.namespaces() {
            let indent = if namespace.is_empty() { "  " } else { "    " };
            if !namespace.is_empty() {
                let _ = writeln!(
                    out,
                    "  subgraph \"cluster_{namespace}\" {{\n    label=\"namespace {namespace}\";"
                );
            }
            for (id, node) in nodes {
                let shape = match node.shape {
                    Shape::Workload => "box",
                    Shape::Service => "ellipse",
                    Shape::Source => "hexagon",
                };
                let _ = writeln!(
                    out,
                    "{indent}\"{id}\" [label=\"{}\", shape={shape}];",
                    escape_dot(&node.label)
                );
            }
            if !namespace.is_empty() {
                out.push_str("  }\n");
            }
        }
        for (service, workload) in &self.services {
            let _ = writeln!(out, "  \"{service}\" -> \"{workload}\" [style=dashed];");
        }
        for ((from, to), ports) in &self.traffic {
            let _ = writeln!(
                out,
                "  \"{from}\" -> \"{to}\" [label=\"{}\"];",
                escape_dot(&port_list(ports))
            );
        }
        out.push_str("}\n");
        out
    }
}

/// Ports in numeric order (`6379, 26379`), names after numbers.
fn port_list(ports: &BTreeSet<String>) -> String {
    let mut sorted: Vec<&String> = ports.iter().collect();
    sorted.sort_by_key(|port| {
        let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
        (digits.parse::<u64>().unwrap_or(u64::MAX), port.as_str())
    });
    sorted
        .iter()
        .map(|port| port.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn workload_id(pod: &PodTemplate<'_>) -> String {
    format!(
        "{}_{}_{}",
        pod.object.kind().to_ascii_lowercase(),
        sanitize(pod.namespace()),
        sanitize(pod.object.name())
    )
}

/// An identifier both Mermaid and DOT accept: ASCII alphanumerics and `_`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn escape_mermaid(text: &str) -> String {
    text.replace('"', "#quot;")
}

fn escape_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        Object {
            source: "t.yaml".into(),
            value,
        }
    }

    fn deployment(name: &str, labels: Value) -> Object {
        object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": []}}}}),
        )
    }

    #[test]
    fn policies_become_edges_with_their_ports() {
        let objects = vec![
            deployment("api", json!({"app": "api"})),
            deployment("db", json!({"app": "db"})),
            object(
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "ns"},
                "spec": {"selector": {"app": "db"}}}),
            ),
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "db", "namespace": "ns"},
                "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "api"}}},
                              {"namespaceSelector": {"matchLabels": {"team": "x"}}}],
                     "ports": [{"port": 5432, "protocol": "TCP"}]}]}}),
            ),
        ];
        let text = build(&objects).render(Format::Mermaid, "t");
        assert!(
            text.contains("deployment_ns_api -->|\"5432\"| deployment_ns_db"),
            "{text}"
        );
        assert!(
            text.contains("src_ns_team_x -->|\"5432\"| deployment_ns_db"),
            "{text}"
        );
        assert!(text.contains("svc_ns_db -.-> deployment_ns_db"), "{text}");
        assert!(!text.contains("deployment_ns_db -->"), "{text}");
    }
}
