//! Environments beside the cluster, generated from the same merged values as the manifests,
//! so they cannot drift from them (STACK.md §3.4-§3.6):
//!
//! - [`compose`]: the Docker Compose file of local development (dev only);
//! - [`env`]: the env contract (`.env.shared.example` keys) for compose or for the cluster; the
//!   cluster target is read from the rendered ConfigMap `sharedinfra-endpoints` itself;
//! - [`kind_config`]: the Kind cluster config.
//!
//! Every output is a pure function of the values: no clock, host or environment.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Result};
use crate::foundation::object::Object;
use crate::pipeline::values::Located;

/// The only mode with a Docker Compose environment (STACK.md §3.5).
pub const COMPOSE_MODE: &str = "dev";
/// The ConfigMap of the consumer contract (STACK.md §3.1).
pub const ENDPOINTS_CONFIGMAP: &str = "sharedinfra-endpoints";
/// The namespace of the stack.
pub const NAMESPACE: &str = "soma-infra";

/// Where `somagen env` points the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Local Docker Compose (and `kubectl port-forward` for OPA and Vault).
    Compose,
    /// In-cluster DNS names: the values of the ConfigMap sharedinfra-endpoints.
    Cluster,
}

/// The keys of the env contract, in output order: every key of the ConfigMap
/// sharedinfra-endpoints (§3.1) plus the `.env.shared.example` keys of §3.4.
pub const ENV_KEYS: &[&str] = &[
    "SHAREDINFRA_MODE",
    "POSTGRES_URL",
    "POSTGRES_DSN",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "REDIS_SENTINEL_ADDRS",
    "REDIS_SENTINEL_MASTER",
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_CA_FILE",
    "QDRANT_HOST",
    "QDRANT_PORT",
    "OPA_URL",
    "OPA_DECISION_PATH",
    "VAULT_ADDR",
    "VAULT_CACERT",
    "VAULT_ROLE",
    "PROMETHEUS_URL",
    "GRAFANA_URL",
    "ETCD_ENDPOINTS",
    "ETCD_CA_FILE",
    "ETCD_CERT_FILE",
    "ETCD_KEY_FILE",
    "OPENFGA_API_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Refuse modes other than dev for compose output.
pub fn check_compose_mode(mode: &str) -> Result<()> {
    if mode == COMPOSE_MODE {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::Usage,
        format!("there is no Docker Compose environment for mode `{mode}`"),
    )
    .hint(format!(
        "compose is the single-node local environment of mode `{COMPOSE_MODE}` (docs/STACK.md §3.5); \
             use --mode {COMPOSE_MODE}; `somagen env --mode {mode}` prints the in-cluster contract of `{mode}`"
    ))
    .into())
}

/// The Docker Compose file (STACK.md §3.5) from the merged values of mode dev.
pub fn compose(values: &Located) -> Result<Value> {
    let v = Values::new(values);
    // Every published port needs the host address: report it missing once, here.
    v.str("compose.hostAddress");
    let services = json!({
        "postgres": compose_postgres(&v),
        "redis": compose_redis(&v),
        "qdrant": compose_qdrant(&v),
        "kafka": compose_kafka(&v),
    });
    // Explicit names: otherwise compose prefixes the project and `docker volume rm postgres_data`
    // removes nothing (STACK.md §3.5).
    let volumes: Map<String, Value> = [
        "postgres_data",
        "redis_data",
        "qdrant_storage",
        "kafka_data",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), json!({"name": name})))
    .collect();
    let file = json!({"name": v.str("compose.project"), "services": services, "volumes": volumes});
    v.finish(file)
}

fn compose_postgres(v: &Values) -> Value {
    let db = v.str("compose.postgres.database");
    let user = v.str("compose.postgres.user");
    json!({
        "image": v.image("compose.postgres.image"),
        "restart": "unless-stopped",
        "environment": {
            "POSTGRES_DB": db,
            "POSTGRES_USER": user,
            "POSTGRES_PASSWORD": v.str("compose.postgres.password"),
        },
        "ports": [v.publish("compose.postgres.hostPort", 5432)],
        "volumes": ["postgres_data:/var/lib/postgresql/data"],
        "healthcheck": healthcheck(json!(["CMD", "pg_isready", "-U", user, "-d", db])),
    })
}

fn compose_redis(v: &Values) -> Value {
    json!({
        "image": v.image_or("compose.redis.image", "redis.image"),
        "restart": "unless-stopped",
        "command": ["redis-server", "--appendonly", "yes"],
        "ports": [v.publish("compose.redis.hostPort", 6379)],
        "volumes": ["redis_data:/data"],
        "healthcheck": healthcheck(json!(["CMD", "redis-cli", "ping"])),
    })
}

fn compose_qdrant(v: &Values) -> Value {
    json!({
        "image": v.image("compose.qdrant.image"),
        "restart": "unless-stopped",
        "ports": [v.publish("compose.qdrant.hostPort", 6333)],
        "volumes": ["qdrant_storage:/qdrant/storage"],
        // The image has no HTTP client; bash's /dev/tcp checks the API port.
        "healthcheck": healthcheck(json!(["CMD", "bash", "-c", ":> /dev/tcp/127.0.0.1/6333"])),
    })
}

/// One KRaft broker and controller: STACK.md §1.3 with the compose exceptions of §3.5.
fn compose_kafka(v: &Values) -> Value {
    let rf = "1";
    let host_port = v.u64("compose.kafka.hostPort");
    let environment = json!({
        "CLUSTER_ID": v.str("kafka.clusterId"),
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093,PLAINTEXT_HOST://:19092",
        "KAFKA_ADVERTISED_LISTENERS": host_port.map(|port| format!("PLAINTEXT://kafka:9092,PLAINTEXT_HOST://localhost:{port}")),
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka:9093",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
        "KAFKA_NUM_PARTITIONS": v.scalar("kafka.numPartitions"),
        "KAFKA_LOG_RETENTION_MS": v.scalar("kafka.retentionMs"),
        "KAFKA_DEFAULT_REPLICATION_FACTOR": rf,
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": rf,
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": rf,
        "KAFKA_MIN_INSYNC_REPLICAS": rf,
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": rf,
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": v.scalar("kafka.autoCreateTopics"),
        "KAFKA_HEAP_OPTS": v.str("kafka.heap").map(|h| format!("-Xms{h} -Xmx{h}")),
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": v.scalar("kafka.groupInitialRebalanceDelayMs"),
    });
    json!({
        "image": v.image_or("compose.kafka.image", "kafka.image"),
        "restart": "unless-stopped",
        "environment": environment,
        "ports": [v.publish("compose.kafka.hostPort", 19092)],
        "volumes": ["kafka_data:/var/lib/kafka/data"],
        "healthcheck": healthcheck(json!([
            "CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh", "--bootstrap-server", "localhost:9092"
        ])),
    })
}

fn healthcheck(test: Value) -> Value {
    json!({"test": test, "interval": "5s", "timeout": "5s", "retries": 24, "start_period": "10s"})
}

/// The env contract as `(key, value)` pairs in [`ENV_KEYS`] order.
///
/// Cluster: every key the ConfigMap sharedinfra-endpoints has is copied from it, so the two
/// agree by construction; the others are derived from it (`POSTGRES_URL`) or empty
/// (credentials live in each app's `<app>-runtime` Secret, and there is no Qdrant on
/// Kubernetes). Compose: the localhost ports of the compose file, and the Kind port-forwards
/// for OPA and Vault.
pub fn env(
    values: &Located,
    objects: &[Object],
    mode: &str,
    target: Target,
) -> Result<Vec<(String, String)>> {
    let configmap = endpoints_configmap(objects)?;
    let env = match target {
        Target::Cluster => cluster_env(configmap),
        Target::Compose => {
            check_compose_mode(mode)?;
            compose_env(values, configmap, mode)?
        }
    };
    Ok(ENV_KEYS
        .iter()
        .map(|key| {
            let value = env.get(*key).cloned().unwrap_or_default();
            ((*key).to_owned(), value)
        })
        .collect())
}

/// The ConfigMap's keys, plus the Postgres URL it implies (no password: that is per app).
fn cluster_env(configmap: &Map<String, Value>) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = configmap
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect();
    let get = |key: &str| env.get(key).cloned().unwrap_or_default();
    let url = match get("POSTGRES_HOST") {
        host if host.is_empty() => String::new(),
        host => format!(
            "postgresql://{}@{host}:{}/{}",
            get("POSTGRES_USER"),
            get("POSTGRES_PORT"),
            get("POSTGRES_DB")
        ),
    };
    env.insert("POSTGRES_URL".into(), url.clone());
    env.insert("POSTGRES_DSN".into(), url);
    env
}

/// localhost and the compose file's ports; OPA and Vault through Kind's port-forwards.
fn compose_env(
    values: &Located,
    configmap: &Map<String, Value>,
    mode: &str,
) -> Result<HashMap<String, String>> {
    let v = Values::new(values);
    let enabled = |key: &str| v.bool(&format!("{key}.enabled")).unwrap_or(false);
    let text = |path: &str| v.str(path).unwrap_or_default();
    let (pg_user, pg_pass, pg_db) = (
        text("compose.postgres.user"),
        text("compose.postgres.password"),
        text("compose.postgres.database"),
    );
    let pg_port = v.port("compose.postgres.hostPort");
    let redis_port = v.port("compose.redis.hostPort");
    let url = format!("postgresql://{pg_user}:{pg_pass}@localhost:{pg_port}/{pg_db}");
    let opa = enabled("opa").then(|| {
        format!(
            "http://localhost:{}/v1/data",
            v.port("compose.portForwards.opa")
        )
    });
    let vault = enabled("vault")
        .then(|| format!("http://localhost:{}", v.port("compose.portForwards.vault")));
    let pairs = [
        ("SHAREDINFRA_MODE", mode.to_owned()),
        ("POSTGRES_URL", url.clone()),
        ("POSTGRES_DSN", url),
        ("POSTGRES_HOST", "localhost".into()),
        ("POSTGRES_PORT", pg_port),
        ("POSTGRES_DB", pg_db),
        ("POSTGRES_USER", pg_user),
        ("POSTGRES_PASSWORD", pg_pass),
        ("REDIS_HOST", "localhost".into()),
        ("REDIS_URL", format!("redis://localhost:{redis_port}/0")),
        ("REDIS_PORT", redis_port),
        ("REDIS_PASSWORD", String::new()),
        (
            "KAFKA_BOOTSTRAP_SERVERS",
            format!("localhost:{}", v.port("compose.kafka.hostPort")),
        ),
        ("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT".into()),
        ("QDRANT_HOST", "localhost".into()),
        ("QDRANT_PORT", v.port("compose.qdrant.hostPort")),
        ("OPA_URL", opa.unwrap_or_default()),
        (
            "OPA_DECISION_PATH",
            configmap
                .get("OPA_DECISION_PATH")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        ("VAULT_ADDR", vault.unwrap_or_default()),
    ];
    v.finish(
        pairs
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// The data of the rendered ConfigMap sharedinfra-endpoints.
pub fn endpoints_configmap(objects: &[Object]) -> Result<&Map<String, Value>> {
    objects
        .iter()
        .find(|o| o.kind() == "ConfigMap" && o.name() == ENDPOINTS_CONFIGMAP && o.namespace() == NAMESPACE)
        .and_then(|o| o.value.pointer("/data"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            Diagnostic::error(Code::Env, format!("this render has no ConfigMap {NAMESPACE}/{ENDPOINTS_CONFIGMAP} with data"))
                .hint("the env contract is read from the consumer ConfigMap (docs/STACK.md §3.1); the stack must render it")
                .into()
        })
}

/// `KEY=value` lines with a header; values that a shell or dotenv reader could misread are
/// single-quoted.
pub fn env_text(header: &str, pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    for (key, value) in pairs {
        out.push_str(key);
        out.push('=');
        out.push_str(&shell_quote(value));
        out.push('\n');
    }
    out
}

fn shell_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@%+,=-".contains(c);
    if value.chars().all(safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The Kind cluster config (STACK.md §3.6).
/// The Kind cluster config: the control plane (which holds the port mappings) and `workers`
/// worker nodes. With workers, Kind keeps pods off the control plane, so hard pod
/// anti-affinity needs as many workers as a workload has replicas (3 in prod).
pub fn kind_config(values: &Located, workers: usize) -> Result<Value> {
    let v = Values::new(values);
    let mappings = v.get("kind.extraPortMappings").cloned();
    let mut nodes = vec![json!({"role": "control-plane", "extraPortMappings": mappings})];
    nodes.extend((0..workers).map(|_| json!({"role": "worker"})));
    let config = json!({
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": v.str("kind.name"),
        "nodes": nodes,
    });
    v.finish(config)
}

/// Reads of the merged values that collect every missing key, so one run reports them all.
struct Values<'a> {
    located: &'a Located,
    missing: std::cell::RefCell<Vec<Diagnostic>>,
}

impl<'a> Values<'a> {
    fn new(located: &'a Located) -> Self {
        Values {
            located,
            missing: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn lookup(&self, path: &str) -> Option<&'a Value> {
        path.split('.')
            .try_fold(&self.located.value, |node, key| node.get(key))
    }

    fn fail(&self, path: &str, what: &str) {
        let pointer = format!("/{}", path.replace('.', "/"));
        self.missing.borrow_mut().push(
            Diagnostic::error(Code::Values, format!("this command needs {what} here"))
                .at_opt(self.located.origin_of(&pointer).cloned())
                .path(path)
                .hint("set it in overlays/base.yaml (see the stack's schema for its meaning)"),
        );
    }

    fn get(&self, path: &str) -> Option<&'a Value> {
        let found = self.lookup(path).filter(|value| !value.is_null());
        if found.is_none() {
            self.fail(path, "a value");
        }
        found
    }

    fn str(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::String(text) => Some(text.clone()),
            _ => {
                self.fail(path, "a string");
                None
            }
        }
    }

    fn u64(&self, path: &str) -> Option<u64> {
        let value = self.get(path)?.as_u64();
        if value.is_none() {
            self.fail(path, "a whole number");
        }
        value
    }

    /// A port number as text, "" when missing (reported by [`Values::finish`]).
    fn port(&self, path: &str) -> String {
        self.u64(path).map(|p| p.to_string()).unwrap_or_default()
    }

    /// The published `address:port:container` of a compose service (the address is
    /// `compose.hostAddress`, checked once by [`compose`]).
    fn publish(&self, host_port: &str, container: u64) -> Option<String> {
        let address = self
            .lookup("compose.hostAddress")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.u64(host_port)
            .map(|port| format!("{address}:{port}:{container}"))
    }

    fn bool(&self, path: &str) -> Option<bool> {
        let value = self.get(path)?.as_bool();
        if value.is_none() {
            self.fail(path, "true or false");
        }
        value
    }

    /// A scalar as the string an environment variable holds.
    fn scalar(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.fail(path, "a string, number or boolean");
                None
            }
        }
    }

    /// `[registry/]repository:tag`, exactly as the templates' `m.image` macro renders it: the
    /// image's own registry, else `global.imageRegistry`.
    fn image(&self, path: &str) -> Option<String> {
        let repository = self.str(&format!("{path}.repository"))?;
        let tag = self.str(&format!("{path}.tag"))?;
        let own = self
            .lookup(&format!("{path}.registry"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let registry = if own.is_empty() {
            self.lookup("global.imageRegistry")
                .and_then(Value::as_str)
                .unwrap_or_default()
        } else {
            own
        };
        Some(if registry.is_empty() {
            format!("{repository}:{tag}")
        } else {
            format!("{registry}/{repository}:{tag}")
        })
    }

    /// The image at `path` when values set one, else the cluster's image at `fallback`.
    fn image_or(&self, path: &str, fallback: &str) -> Option<String> {
        match self.lookup(path) {
            Some(value) if !value.is_null() => self.image(path),
            _ => self.image(fallback),
        }
    }

    fn finish<T>(self, result: T) -> Result<T> {
        let missing = self.missing.into_inner();
        if missing.is_empty() {
            Ok(result)
        } else {
            Err(Diagnostics(missing))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_leaves_urls_plain_and_quotes_the_rest() {
        assert_eq!(
            shell_quote("postgresql://a:b@localhost:5433/db"),
            "postgresql://a:b@localhost:5433/db"
        );
        assert_eq!(shell_quote(""), "");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn compose_refuses_other_modes() {
        assert!(check_compose_mode("dev").is_ok());
        let err = check_compose_mode("prod").unwrap_err();
        assert!(
            err.to_string()
                .contains("no Docker Compose environment for mode `prod`"),
            "{err}"
        );
    }
}
