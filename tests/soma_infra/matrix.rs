//! The soma-infra stack against STACK.md: the per-mode matrix of §2 (replicas, persistence,
//! storage class, TLS, Vault mode, secrets, Kafka and etcd settings), the workload standard of
//! §0/§1.4/§1.5, the endpoints contract of §3.1 and the NetworkPolicy model of §3.3, all read
//! from the objects the real binary renders (`render --mode M -o json`).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output};

const MODES: [&str; 5] = ["dev", "test", "staging", "prod-lite", "prod"];
const NS: &str = "soma-infra";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(mode: &str, extra: &[&str]) -> Output {
    let stack = repo();
    let mut args = vec![
        "render",
        "--stack",
        stack.to_str().expect("utf-8 path"),
        "--mode",
        mode,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_somagen"))
        .args(&args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .output()
        .expect("the somagen binary runs")
}

/// The rendered objects of one mode (with extra flags such as `--set`).
pub(crate) fn render_with(mode: &str, extra: &[&str]) -> Vec<Value> {
    let out = run(mode, extra);
    assert!(
        out.status.success(),
        "render --mode {mode} {extra:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).expect("render -o json prints JSON");
    assert_eq!(list["kind"], "List");
    list["items"].as_array().expect("List.items").clone()
}

fn render(mode: &str) -> Vec<Value> {
    render_with(mode, &[])
}

/// A render that must fail (exit 2) with `needle` in its diagnostics.
fn render_fails(mode: &str, extra: &[&str], needle: &str) {
    let out = run(mode, extra);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "render --mode {mode} {extra:?} should fail; stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "a failed render prints nothing on stdout"
    );
    assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
}

pub(crate) fn find<'a>(items: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    items
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

pub(crate) fn get<'a>(items: &'a [Value], kind: &str, name: &str) -> &'a Value {
    find(items, kind, name).unwrap_or_else(|| panic!("{kind}/{name} is not rendered"))
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
}

fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    arr(&workload["spec"]["template"]["spec"]["containers"])
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "container {name} missing in {}",
                workload["metadata"]["name"]
            )
        })
}

fn env(c: &Value, name: &str) -> Option<String> {
    c["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(String::from))
}

fn env_req(c: &Value, name: &str) -> String {
    env(c, name).unwrap_or_else(|| panic!("env {name} missing in container {}", c["name"]))
}

fn replicas(w: &Value) -> u64 {
    w["spec"]["replicas"].as_u64().unwrap_or(1)
}

fn cm_data<'a>(items: &'a [Value], name: &str, key: &str) -> &'a str {
    s(&get(items, "ConfigMap", name)["data"][key])
}

/// The PVC template "data" of a StatefulSet: Some((size, storageClassName or "")) or None when
/// the StatefulSet uses an emptyDir "data" volume instead.
fn data_claim(sts: &Value) -> Option<(String, String)> {
    let claims = sts["spec"]["volumeClaimTemplates"].as_array();
    let claim = claims.and_then(|c| c.iter().find(|t| t["metadata"]["name"] == "data"));
    match claim {
        Some(t) => {
            assert_eq!(
                t["spec"]["accessModes"],
                serde_json::json!(["ReadWriteOnce"])
            );
            Some((
                s(&t["spec"]["resources"]["requests"]["storage"]).to_string(),
                t["spec"]["storageClassName"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ))
        }
        None => {
            let vols = arr(&sts["spec"]["template"]["spec"]["volumes"]);
            let data = vols.iter().find(|v| v["name"] == "data");
            assert!(
                data.is_some_and(|v| v.get("emptyDir").is_some()),
                "{}: no PVC template data, and no emptyDir data volume",
                sts["metadata"]["name"]
            );
            None
        }
    }
}

/// What STACK.md §2 says about one mode.
struct Mode {
    name: &'static str,
    pg: (u64, u64),
    pg_pvc: Option<&'static str>,
    sentinel: bool,
    redis_pvc: Option<&'static str>,
    kafka: (u64, u64, u64),
    kafka_pvc: Option<&'static str>,
    auto_create: bool,
    vault_raft: Option<(u64, &'static str)>,
    etcd: (u64, Option<&'static str>),
    storage_class: &'static str,
    tls_pg: bool,
    tls_pgpool: bool,
    external: bool,
    anti_affinity: &'static str,
    grafana: bool,
}

fn matrix() -> Vec<Mode> {
    vec![
        Mode {
            name: "dev",
            pg: (1, 1),
            pg_pvc: Some("8Gi"),
            sentinel: false,
            redis_pvc: Some("2Gi"),
            kafka: (1, 1, 1),
            kafka_pvc: Some("8Gi"),
            auto_create: true,
            vault_raft: None,
            etcd: (1, Some("1Gi")),
            storage_class: "standard",
            tls_pg: false,
            tls_pgpool: false,
            external: false,
            anti_affinity: "none",
            grafana: true,
        },
        Mode {
            name: "test",
            pg: (1, 1),
            pg_pvc: None,
            sentinel: false,
            redis_pvc: None,
            kafka: (1, 1, 1),
            kafka_pvc: None,
            auto_create: true,
            vault_raft: None,
            etcd: (1, None),
            storage_class: "",
            tls_pg: false,
            tls_pgpool: false,
            external: false,
            anti_affinity: "none",
            grafana: false,
        },
        Mode {
            name: "staging",
            pg: (1, 1),
            pg_pvc: Some("20Gi"),
            sentinel: true,
            redis_pvc: Some("4Gi"),
            kafka: (3, 3, 2),
            kafka_pvc: Some("20Gi"),
            auto_create: false,
            vault_raft: Some((1, "5Gi")),
            etcd: (3, Some("2Gi")),
            storage_class: "standard",
            tls_pg: false,
            tls_pgpool: true,
            external: true,
            anti_affinity: "soft",
            grafana: true,
        },
        Mode {
            name: "prod-lite",
            pg: (3, 1),
            pg_pvc: Some("50Gi"),
            sentinel: true,
            redis_pvc: Some("8Gi"),
            kafka: (3, 3, 2),
            kafka_pvc: Some("50Gi"),
            auto_create: false,
            vault_raft: Some((3, "10Gi")),
            etcd: (3, Some("4Gi")),
            storage_class: "premium",
            tls_pg: true,
            tls_pgpool: true,
            external: true,
            anti_affinity: "soft",
            grafana: true,
        },
        Mode {
            name: "prod",
            pg: (3, 2),
            pg_pvc: Some("100Gi"),
            sentinel: true,
            redis_pvc: Some("16Gi"),
            kafka: (3, 3, 2),
            kafka_pvc: Some("100Gi"),
            auto_create: false,
            vault_raft: Some((3, "10Gi")),
            etcd: (3, Some("8Gi")),
            storage_class: "premium",
            tls_pg: true,
            tls_pgpool: true,
            external: true,
            anti_affinity: "hard",
            grafana: true,
        },
    ]
}

fn assert_claim(sts: &Value, want: Option<&str>, class: &str) {
    let got = data_claim(sts);
    match want {
        Some(size) => assert_eq!(
            got,
            Some((size.to_string(), class.to_string())),
            "{}: PVC data",
            sts["metadata"]["name"]
        ),
        None => assert_eq!(
            got, None,
            "{}: persistence must be off (emptyDir)",
            sts["metadata"]["name"]
        ),
    }
}

#[test]
fn postgres_and_pgpool_follow_the_matrix() {
    for m in matrix() {
        let items = render(m.name);
        let sts = get(&items, "StatefulSet", "sharedinfra-postgres-postgresql");
        let (nodes, pools) = m.pg;
        assert_eq!(replicas(sts), nodes, "{}: PG nodes", m.name);
        assert_claim(sts, m.pg_pvc, m.storage_class);
        let pg = container(sts, "postgresql");
        let partners = env_req(pg, "REPMGR_PARTNER_NODES");
        assert_eq!(
            partners.split(',').count() as u64,
            nodes,
            "{}: REPMGR_PARTNER_NODES",
            m.name
        );
        for (i, p) in partners.split(',').enumerate() {
            assert!(
                p.starts_with(&format!(
                    "sharedinfra-postgres-postgresql-{i}.sharedinfra-postgres-postgresql-headless."
                )),
                "{}: partner {p}",
                m.name
            );
        }
        assert_eq!(
            env_req(pg, "POSTGRESQL_ENABLE_TLS"),
            if m.tls_pg { "yes" } else { "no" },
            "{}",
            m.name
        );
        assert_eq!(env_req(pg, "POSTGRESQL_DATABASE"), "somaagent01");
        assert_eq!(env_req(pg, "POSTGRESQL_USERNAME"), "soma");
        assert!(
            env(pg, "POSTGRESQL_PASSWORD").is_none(),
            "passwords come from *_FILE, never env"
        );
        container(sts, "metrics");

        let pgpool = get(&items, "Deployment", "sharedinfra-postgres-pgpool");
        assert_eq!(replicas(pgpool), pools, "{}: pgpool replicas", m.name);
        let pp = container(pgpool, "pgpool");
        assert_eq!(
            env_req(pp, "PGPOOL_BACKEND_NODES").split(',').count() as u64,
            nodes
        );
        assert_eq!(
            env_req(pp, "PGPOOL_ENABLE_LOAD_BALANCING"),
            if nodes > 1 { "yes" } else { "no" }
        );
        assert_eq!(
            env_req(pp, "PGPOOL_ENABLE_TLS"),
            if m.tls_pgpool { "yes" } else { "no" },
            "{}",
            m.name
        );
        assert_eq!(
            pgpool["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"],
            "postgres"
        );

        let initdb = cm_data(&items, "sharedinfra-postgres-initdb", "10-admin.sh");
        assert!(initdb.contains("CREATE ROLE admin WITH LOGIN CREATEDB CREATEROLE"));
        assert!(initdb.contains("GRANT soma TO admin;"));
        for svc in [
            "sharedinfra-postgres-pgpool",
            "sharedinfra-postgres-postgresql-headless",
            "sharedinfra-postgres-metrics",
        ] {
            get(&items, "Service", svc);
        }
    }
}

#[test]
fn redis_is_standalone_in_dev_and_test_and_sentinel_elsewhere() {
    for m in matrix() {
        let items = render(m.name);
        let master_svc = get(&items, "Service", "sharedinfra-redis-master");
        let conf = cm_data(&items, "sharedinfra-redis-config", "redis.conf");
        let appendonly = if m.name == "test" {
            "appendonly no"
        } else {
            "appendonly yes"
        };
        assert!(
            conf.lines().any(|l| l == appendonly),
            "{}: {appendonly}",
            m.name
        );
        assert!(conf.lines().any(|l| l == "include /run/redis/runtime.conf"));
        if m.sentinel {
            assert!(find(&items, "StatefulSet", "sharedinfra-redis-master").is_none());
            let sts = get(&items, "StatefulSet", "sharedinfra-redis-node");
            assert_eq!(replicas(sts), 3, "{}", m.name);
            assert_claim(sts, m.redis_pvc, m.storage_class);
            for c in ["redis", "sentinel", "metrics"] {
                container(sts, c);
            }
            let haproxy = get(&items, "Deployment", "sharedinfra-redis-master");
            assert_eq!(replicas(haproxy), 2);
            assert_eq!(
                master_svc["spec"]["selector"]["app.kubernetes.io/component"],
                "haproxy"
            );
            get(&items, "Service", "sharedinfra-redis-sentinel");
            let cfg = cm_data(&items, "sharedinfra-redis-haproxy", "haproxy.cfg");
            let servers = cfg
                .lines()
                .filter(|l| l.trim_start().starts_with("server n"))
                .count();
            assert_eq!(servers, 3, "{}: one HAProxy server per node", m.name);
            assert!(cfg.contains("tcp-check expect string role:master"));
            let init = cm_data(&items, "sharedinfra-redis-config", "init.sh");
            assert!(init.contains("SENTINEL get-master-addr-by-name sharedinfra"));
            assert!(init.contains("sentinel monitor sharedinfra ${master} 6379 2"));
        } else {
            assert!(find(&items, "StatefulSet", "sharedinfra-redis-node").is_none());
            assert!(find(&items, "Service", "sharedinfra-redis-sentinel").is_none());
            let sts = get(&items, "StatefulSet", "sharedinfra-redis-master");
            assert_eq!(replicas(sts), 1);
            assert_claim(sts, m.redis_pvc, m.storage_class);
            assert_eq!(
                master_svc["spec"]["selector"]["app.kubernetes.io/component"],
                "master"
            );
        }
    }
}

#[test]
fn redis_maxmemory_is_three_quarters_of_the_limit() {
    let items = render("prod");
    let conf = cm_data(&items, "sharedinfra-redis-config", "redis.conf");
    // Tier L: limit 2Gi.
    assert!(
        conf.lines()
            .any(|l| l == format!("maxmemory {}", 2u64 * 1024 * 1024 * 1024 * 3 / 4)),
        "{conf}"
    );
}

#[test]
fn kafka_follows_the_matrix() {
    let mut cluster_ids = BTreeSet::new();
    for m in matrix() {
        let items = render(m.name);
        let sts = get(&items, "StatefulSet", "sharedinfra-kafka");
        let (brokers, rf, min_isr) = m.kafka;
        assert_eq!(replicas(sts), brokers, "{}: brokers", m.name);
        assert_claim(sts, m.kafka_pvc, m.storage_class);
        let k = container(sts, "kafka");
        for key in [
            "KAFKA_DEFAULT_REPLICATION_FACTOR",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        ] {
            assert_eq!(env_req(k, key), rf.to_string(), "{}: {key}", m.name);
        }
        for key in [
            "KAFKA_MIN_INSYNC_REPLICAS",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        ] {
            assert_eq!(env_req(k, key), min_isr.to_string(), "{}: {key}", m.name);
        }
        assert_eq!(
            env_req(k, "KAFKA_AUTO_CREATE_TOPICS_ENABLE"),
            m.auto_create.to_string(),
            "{}",
            m.name
        );
        assert_eq!(env_req(k, "KAFKA_LOG_RETENTION_MS"), "259200000");
        assert_eq!(env_req(k, "KAFKA_LOG_DIRS"), "/var/lib/kafka/data/logs");
        let voters = env_req(k, "KAFKA_CONTROLLER_QUORUM_VOTERS");
        let want: Vec<String> = (0..brokers)
            .map(|i| format!("{i}@sharedinfra-kafka-{i}.sharedinfra-kafka-headless.soma-infra.svc.cluster.local:9093"))
            .collect();
        assert_eq!(voters, want.join(","), "{}", m.name);
        let id = env_req(k, "CLUSTER_ID");
        assert_eq!(id.len(), 22, "CLUSTER_ID is 22 base64url characters");
        assert_ne!(
            id, "5L6g3nShT-eMCtK--X86sw",
            "never the image's built-in cluster id"
        );
        cluster_ids.insert(id);
        let cmd = arr(&k["command"]);
        let secured = matches!(m.name, "staging" | "prod-lite" | "prod");
        let script = s(&cmd[2]).replace('"', "");
        assert!(script.contains("KAFKA_NODE_ID=${HOSTNAME##*-}"));
        let endpoints = &get(&items, "ConfigMap", "sharedinfra-endpoints")["data"];
        if secured {
            // SASL_SSL + SCRAM-SHA-512 from staging on: clients, exporter and replication.
            assert_eq!(
                env_req(k, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"),
                "CONTROLLER:PLAINTEXT,CLIENT:SASL_SSL",
                "{}",
                m.name
            );
            assert_eq!(env_req(k, "KAFKA_SASL_ENABLED_MECHANISMS"), "SCRAM-SHA-512");
            assert!(script.contains("--add-scram"), "{}", m.name);
            assert_eq!(endpoints["KAFKA_SECURITY_PROTOCOL"], "SASL_SSL");
            assert_eq!(endpoints["KAFKA_SASL_MECHANISM"], "SCRAM-SHA-512");
        } else {
            assert_eq!(
                env_req(k, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"),
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
            );
            assert_eq!(endpoints["KAFKA_SECURITY_PROTOCOL"], "PLAINTEXT");
        }
        get(&items, "Deployment", "sharedinfra-kafka-exporter");
    }
    assert_eq!(
        cluster_ids.len(),
        MODES.len(),
        "CLUSTER_ID is fixed per environment"
    );
}

#[test]
fn vault_is_dev_in_dev_and_test_and_raft_with_tls_elsewhere() {
    for m in matrix() {
        let items = render(m.name);
        let sts = get(&items, "StatefulSet", "sharedinfra-vault");
        let v = container(sts, "vault");
        let endpoints = &get(&items, "ConfigMap", "sharedinfra-endpoints")["data"];
        let pod = &sts["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "sharedinfra-vault");
        assert_eq!(
            pod["automountServiceAccountToken"], true,
            "TokenReview needs the token"
        );
        match m.vault_raft {
            None => {
                assert_eq!(
                    v["args"],
                    serde_json::json!(["server", "-dev"]),
                    "{}",
                    m.name
                );
                assert_eq!(replicas(sts), 1);
                assert_eq!(env_req(v, "VAULT_ADDR"), "http://127.0.0.1:8200");
                assert!(
                    sts["spec"]["volumeClaimTemplates"].is_null(),
                    "dev Vault is in memory"
                );
                assert!(find(&items, "ConfigMap", "sharedinfra-vault-config").is_none());
                assert!(s(&endpoints["VAULT_ADDR"]).starts_with("http://"));
                assert!(find(&items, "Certificate", "sharedinfra-vault-tls").is_none());
            }
            Some((n, size)) => {
                assert_eq!(v["args"], serde_json::json!(["server"]), "{}", m.name);
                assert_eq!(replicas(sts), n, "{}: raft members", m.name);
                assert_claim(sts, Some(size), m.storage_class);
                assert_eq!(env_req(v, "VAULT_ADDR"), "https://127.0.0.1:8200");
                assert_eq!(env_req(v, "VAULT_CACERT"), "/vault/tls/ca.crt");
                assert!(s(&endpoints["VAULT_ADDR"]).starts_with("https://"));
                let hcl = cm_data(&items, "sharedinfra-vault-config", "vault.hcl");
                assert_eq!(
                    hcl.matches("retry_join {").count() as u64,
                    n,
                    "{}: one retry_join per replica",
                    m.name
                );
                for i in 0..n {
                    assert!(hcl.contains(&format!(
                        "\"https://sharedinfra-vault-{i}.sharedinfra-vault-internal.soma-infra.svc.cluster.local:8200\""
                    )));
                }
                assert!(hcl.contains("tls_cert_file   = \"/vault/tls/tls.crt\""));
                assert!(hcl.contains("disable_mlock = true"));
                let cert = get(&items, "Certificate", "sharedinfra-vault-tls");
                let dns: Vec<&str> = arr(&cert["spec"]["dnsNames"]).iter().map(s).collect();
                for name in [
                    "sharedinfra-vault",
                    "sharedinfra-vault.soma-infra",
                    "sharedinfra-vault.soma-infra.svc",
                    "sharedinfra-vault.soma-infra.svc.cluster.local",
                    "*.sharedinfra-vault-internal",
                    "*.sharedinfra-vault-internal.soma-infra.svc.cluster.local",
                ] {
                    assert!(dns.contains(&name), "{}: SAN {name}", m.name);
                }
                assert_eq!(
                    cert["spec"]["ipAddresses"],
                    serde_json::json!(["127.0.0.1"])
                );
            }
        }
        let crb = get(
            &items,
            "ClusterRoleBinding",
            "sharedinfra-vault-auth-delegator",
        );
        assert_eq!(crb["roleRef"]["name"], "system:auth-delegator");
        // TLS certificates exist exactly where the matrix puts TLS.
        assert_eq!(
            find(&items, "Certificate", "sharedinfra-pgpool-tls").is_some(),
            m.tls_pgpool,
            "{}",
            m.name
        );
        assert_eq!(
            find(&items, "Certificate", "sharedinfra-postgres-tls").is_some(),
            m.tls_pg,
            "{}",
            m.name
        );
    }
}

#[test]
fn etcd_members_and_initial_cluster_follow_the_matrix() {
    for m in matrix() {
        let items = render(m.name);
        let sts = get(&items, "StatefulSet", "sharedinfra-etcd");
        let (n, pvc) = m.etcd;
        assert_eq!(replicas(sts), n, "{}: etcd members", m.name);
        assert_claim(sts, pvc, m.storage_class);
        let args: Vec<&str> = arr(&container(sts, "etcd")["args"]).iter().map(s).collect();
        let want: Vec<String> = (0..n)
            .map(|i| format!("sharedinfra-etcd-{i}=http://sharedinfra-etcd-{i}.sharedinfra-etcd-headless.soma-infra.svc.cluster.local:2380"))
            .collect();
        assert!(
            args.contains(&format!("--initial-cluster={}", want.join(",")).as_str()),
            "{}: {args:?}",
            m.name
        );
        for flag in [
            "--name=$(POD_NAME)",
            "--initial-cluster-state=new",
            "--initial-cluster-token=sharedinfra-etcd-soma-infra",
            "--listen-metrics-urls=http://0.0.0.0:2381",
            "--data-dir=/var/run/etcd/data",
        ] {
            assert!(args.contains(&flag), "{}: {flag}", m.name);
        }
    }
}

#[test]
fn storage_class_and_anti_affinity_follow_the_mode() {
    for m in matrix() {
        let items = render(m.name);
        for sts in items.iter().filter(|o| o["kind"] == "StatefulSet") {
            for claim in sts["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let class = claim["spec"]["storageClassName"].as_str().unwrap_or("");
                assert_eq!(
                    class, m.storage_class,
                    "{}: {}",
                    m.name, sts["metadata"]["name"]
                );
            }
        }
        let affinity =
            &get(&items, "StatefulSet", "sharedinfra-etcd")["spec"]["template"]["spec"]["affinity"];
        let anti = &affinity["podAntiAffinity"];
        match m.anti_affinity {
            "none" => assert!(anti.is_null(), "{}", m.name),
            "soft" => assert!(
                anti["preferredDuringSchedulingIgnoredDuringExecution"].is_array(),
                "{}",
                m.name
            ),
            _ => assert!(
                anti["requiredDuringSchedulingIgnoredDuringExecution"].is_array(),
                "{}",
                m.name
            ),
        }
    }
}

#[test]
fn secrets_are_dev_only_in_dev_and_test_and_external_elsewhere() {
    let names = [
        "sharedinfra-postgres",
        "sharedinfra-postgres-admin",
        "sharedinfra-pgpool",
        "sharedinfra-redis",
    ];
    for m in matrix() {
        let items = render(m.name);
        if m.external {
            assert!(
                !items.iter().any(|o| o["kind"] == "Secret"),
                "{}: no plaintext Secret from staging on",
                m.name
            );
            for name in names {
                let es = get(&items, "ExternalSecret", name);
                assert_eq!(es["apiVersion"], "external-secrets.io/v1");
                assert_eq!(es["spec"]["secretStoreRef"]["kind"], "ClusterSecretStore");
                assert_eq!(es["spec"]["target"]["name"], name);
                let key = format!(
                    "sharedinfra/{}/{}",
                    m.name,
                    name.trim_start_matches("sharedinfra-")
                );
                if name == "sharedinfra-pgpool" {
                    // Joined from each user's own key by a template (apps.rs tests the sources).
                    let first = &arr(&es["spec"]["data"])[0]["remoteRef"];
                    assert_eq!(s(&first["key"]), key);
                    assert_eq!(first["property"], "admin-password");
                    continue;
                }
                for d in arr(&es["spec"]["data"]) {
                    assert_eq!(s(&d["remoteRef"]["key"]), key);
                    assert_eq!(d["remoteRef"]["property"], d["secretKey"]);
                }
            }
            let store = get(&items, "ClusterSecretStore", "sharedinfra-vault");
            assert!(
                store["metadata"]["namespace"].is_null(),
                "ClusterSecretStore is cluster-scoped"
            );
            let vault = &store["spec"]["provider"]["vault"];
            assert_eq!(
                vault["server"],
                "https://sharedinfra-vault.soma-infra.svc.cluster.local:8200"
            );
            assert_eq!(vault["caProvider"]["name"], "sharedinfra-vault-tls");
            assert!(find(&items, "Secret", "sharedinfra-vault-dev").is_none());
        } else {
            assert!(
                !items
                    .iter()
                    .any(|o| o["kind"] == "ExternalSecret" || o["kind"] == "ClusterSecretStore")
            );
            for name in names.iter().chain(["sharedinfra-vault-dev"].iter()) {
                let secret = get(&items, "Secret", name);
                assert!(
                    secret["data"].as_object().is_some_and(|d| !d.is_empty()),
                    "{}: {name}",
                    m.name
                );
            }
        }
    }
}

#[test]
fn dev_secrets_are_deterministic_and_marked_dev_only() {
    let a = render("dev");
    let b = render("dev");
    for o in a.iter().filter(|o| o["kind"] == "Secret") {
        let name = s(&o["metadata"]["name"]);
        assert_eq!(
            o["data"],
            get(&b, "Secret", name)["data"],
            "{name} differs between two renders"
        );
    }
    // A credential left empty is derived, still deterministic and visibly dev-only.
    let c = render_with("dev", &["--set", "redis.auth.password="]);
    let d = render_with("dev", &["--set", "redis.auth.password="]);
    let pw_c = &get(&c, "Secret", "sharedinfra-redis")["data"]["redis-password"];
    assert_eq!(
        pw_c,
        &get(&d, "Secret", "sharedinfra-redis")["data"]["redis-password"]
    );
    assert_ne!(
        pw_c,
        &get(&a, "Secret", "sharedinfra-redis")["data"]["redis-password"]
    );
}

#[test]
fn a_production_mode_refuses_secrets_in_values() {
    for mode in ["staging", "prod-lite", "prod"] {
        render_fails(
            mode,
            &["--set", "redis.auth.password=hunter2"],
            "global.secrets: external",
        );
        render_fails(
            mode,
            &["--set", "postgres.auth.adminPassword=x"],
            "global.secrets: external",
        );
    }
    render_fails(
        "prod",
        &["--set", "vault.mode=dev", "--set", "vault.replicas=1"],
        "vault.mode dev needs global.secrets dev",
    );
}

#[test]
fn inconsistent_topology_is_refused() {
    render_fails(
        "dev",
        &["--set", "kafka.replicationFactor=3"],
        "exceeds kafka.replicas",
    );
    render_fails(
        "prod",
        &[
            "--set",
            "kafka.minInsyncReplicas=3",
            "--set",
            "kafka.replicationFactor=2",
        ],
        "exceeds kafka.replicationFactor",
    );
    render_fails(
        "dev",
        &["--set", "vault.replicas=3"],
        "vault.mode dev runs exactly one",
    );
    render_fails(
        "prod",
        &["--set", "redis.sentinel.quorum=4"],
        "exceeds redis.replicas",
    );
}

#[test]
fn the_endpoints_contract_has_every_key_in_every_mode() {
    let keys = [
        "SHAREDINFRA_MODE",
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_DB",
        "POSTGRES_USER",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_URL",
        "REDIS_SENTINEL_ADDRS",
        "REDIS_SENTINEL_MASTER",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_SECURITY_PROTOCOL",
        "KAFKA_SASL_MECHANISM",
        "KAFKA_SASL_USERNAME",
        "KAFKA_CA_FILE",
        "OPA_URL",
        "OPA_DECISION_PATH",
        "VAULT_ADDR",
        "VAULT_CACERT",
        "PROMETHEUS_URL",
        "GRAFANA_URL",
        "ETCD_ENDPOINTS",
        "ETCD_CA_FILE",
        "ETCD_CERT_FILE",
        "ETCD_KEY_FILE",
        "OPENFGA_API_URL",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ];
    for m in matrix() {
        let items = render(m.name);
        let cm = get(&items, "ConfigMap", "sharedinfra-endpoints");
        let data = cm["data"].as_object().expect("data");
        let got: BTreeSet<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(
            got,
            keys.iter().copied().collect::<BTreeSet<_>>(),
            "{}",
            m.name
        );
        assert_eq!(data["SHAREDINFRA_MODE"], m.name);
        // etcd: https and client certificates from staging on, plain http in dev and test.
        let etcd_scheme = if matches!(m.name, "staging" | "prod-lite" | "prod") {
            "https://"
        } else {
            "http://"
        };
        assert!(
            data["ETCD_ENDPOINTS"]
                .as_str()
                .is_some_and(|e| e.starts_with(etcd_scheme)),
            "{}: ETCD_ENDPOINTS {}",
            m.name,
            data["ETCD_ENDPOINTS"]
        );
        assert_eq!(
            data["POSTGRES_HOST"],
            "sharedinfra-postgres-pgpool.soma-infra.svc.cluster.local"
        );
        assert_eq!(data["POSTGRES_PORT"], "5432");
        assert_eq!(
            data["REDIS_URL"],
            "redis://sharedinfra-redis-master.soma-infra.svc.cluster.local:6379/0"
        );
        assert_eq!(
            data["KAFKA_BOOTSTRAP_SERVERS"],
            "sharedinfra-kafka.soma-infra.svc.cluster.local:9092"
        );
        assert_eq!(
            data["OPA_URL"],
            "http://sharedinfra-opa.soma-infra.svc.cluster.local:8181/v1/data"
        );
        let sentinel = if m.sentinel {
            "sharedinfra-redis-sentinel.soma-infra.svc.cluster.local:26379"
        } else {
            ""
        };
        assert_eq!(data["REDIS_SENTINEL_ADDRS"], sentinel, "{}", m.name);
        assert_eq!(
            data["REDIS_SENTINEL_MASTER"],
            if m.sentinel { "sharedinfra" } else { "" }
        );
        let grafana = if m.grafana {
            "http://sharedinfra-grafana.soma-infra.svc.cluster.local:3000"
        } else {
            ""
        };
        assert_eq!(data["GRAFANA_URL"], grafana, "{}", m.name);
        assert_eq!(data["OPENFGA_API_URL"], "", "OpenFGA is opt-in");
        assert_eq!(cm["metadata"]["namespace"], NS);
    }
    // A disabled component leaves its keys empty, never absent.
    let items = render_with(
        "dev",
        &[
            "--set",
            "kafka.enabled=false",
            "--set",
            "redis.enabled=false",
        ],
    );
    let data = &get(&items, "ConfigMap", "sharedinfra-endpoints")["data"];
    for key in [
        "KAFKA_BOOTSTRAP_SERVERS",
        "REDIS_HOST",
        "REDIS_PORT",
        "REDIS_URL",
    ] {
        assert_eq!(data[key], "", "{key}");
    }
    let reader = get(&items, "Role", "sharedinfra-endpoints-reader");
    assert_eq!(
        reader["rules"][0]["resourceNames"],
        serde_json::json!(["sharedinfra-endpoints"])
    );
    assert_eq!(reader["rules"][0]["verbs"], serde_json::json!(["get"]));
}

/// Deployments, StatefulSets, DaemonSets and Jobs with their pod templates.
fn workloads(items: &[Value]) -> Vec<&Value> {
    items
        .iter()
        .filter(|o| ["Deployment", "StatefulSet", "DaemonSet", "Job"].contains(&s(&o["kind"])))
        .collect()
}

#[test]
fn every_workload_meets_the_standard() {
    for mode in MODES {
        let items = render(mode);
        for w in workloads(&items) {
            let id = format!("{mode}: {}/{}", w["kind"], w["metadata"]["name"]);
            assert_eq!(w["metadata"]["namespace"], NS, "{id}");
            let pod = &w["spec"]["template"]["spec"];
            assert_eq!(pod["enableServiceLinks"], false, "{id}");
            let name = s(&w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]);
            let token = ["vault", "prometheus"].contains(&name);
            assert_eq!(
                pod["automountServiceAccountToken"], token,
                "{id}: automountServiceAccountToken"
            );
            if pod["securityContext"].get("fsGroup").is_some() {
                assert_eq!(
                    pod["securityContext"]["fsGroupChangePolicy"], "OnRootMismatch",
                    "{id}"
                );
            }
            for label in ["name", "component", "instance", "part-of", "managed-by"] {
                assert!(
                    w["metadata"]["labels"][format!("app.kubernetes.io/{label}")].is_string(),
                    "{id}: label {label}"
                );
            }
            if w["kind"] == "StatefulSet" {
                assert_eq!(w["spec"]["podManagementPolicy"], "Parallel", "{id}");
            }
            let containers: Vec<&Value> = arr(&pod["containers"]).iter().collect();
            let inits = pod["initContainers"]
                .as_array()
                .map(|v| v.iter().collect())
                .unwrap_or_else(Vec::new);
            for c in containers.iter().chain(inits.iter()) {
                let cid = format!("{id} container {}", c["name"]);
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], false, "{cid}");
                assert_eq!(
                    sc["capabilities"]["drop"],
                    serde_json::json!(["ALL"]),
                    "{cid}"
                );
                assert_eq!(sc["runAsNonRoot"], true, "{cid}");
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{cid}");
                assert!(
                    sc["runAsUser"].as_u64().is_some_and(|u| u > 0),
                    "{cid}: numeric non-zero runAsUser"
                );
                for side in ["requests", "limits"] {
                    for res in ["cpu", "memory"] {
                        assert!(
                            c["resources"][side][res].is_string(),
                            "{cid}: resources.{side}.{res}"
                        );
                    }
                }
                let image = s(&c["image"]);
                let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
                assert!(
                    !tag.is_empty() && !tag.contains('/') && tag != "latest",
                    "{cid}: pinned tag in {image}"
                );
            }
            // Jobs (the application wire-up) run to completion and serve nothing: no probes.
            for c in containers.iter().filter(|_| w["kind"] != "Job") {
                let cid = format!("{id} container {}", c["name"]);
                assert!(c["readinessProbe"].is_object(), "{cid}: readinessProbe");
                assert!(c["livenessProbe"].is_object(), "{cid}: livenessProbe");
            }
            if replicas(w) > 1 {
                let selector = &w["spec"]["selector"]["matchLabels"];
                let pdb = items.iter().find(|o| {
                    o["kind"] == "PodDisruptionBudget"
                        && &o["spec"]["selector"]["matchLabels"] == selector
                });
                let pdb =
                    pdb.unwrap_or_else(|| panic!("{id}: replicas > 1 needs a PodDisruptionBudget"));
                assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{id}");
            }
        }
        for o in &items {
            let cluster_scoped = [
                "Namespace",
                "ClusterRole",
                "ClusterRoleBinding",
                "ClusterSecretStore",
                "ClusterIssuer",
                "Bundle",
            ];
            // A wired-up app's own objects live in its namespace (templates/apps/).
            let app = &o["metadata"]["labels"]["soma.sh/app"];
            let in_app_namespace = app.is_string() && &o["metadata"]["namespace"] == app;
            if !cluster_scoped.contains(&s(&o["kind"])) && !in_app_namespace {
                assert_eq!(
                    o["metadata"]["namespace"], NS,
                    "{mode}: {}/{}",
                    o["kind"], o["metadata"]["name"]
                );
            }
        }
    }
}

#[test]
fn no_container_takes_a_secret_from_env_in_production_modes() {
    for mode in ["staging", "prod-lite", "prod"] {
        let items = render(mode);
        for w in workloads(&items) {
            let pod = &w["spec"]["template"]["spec"];
            let name = s(&w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]);
            if !["postgres", "redis", "kafka", "vault", "etcd"].contains(&name) {
                continue; // the data layer; the other components have their own tests
            }
            for c in arr(&pod["containers"])
                .iter()
                .chain(pod["initContainers"].as_array().into_iter().flatten())
            {
                for e in c["env"].as_array().into_iter().flatten() {
                    assert!(
                        e["valueFrom"]["secretKeyRef"].is_null(),
                        "{mode}: {} {} env {}",
                        w["metadata"]["name"],
                        c["name"],
                        e["name"]
                    );
                }
                assert!(
                    c["envFrom"].is_null(),
                    "{mode}: {} envFrom",
                    w["metadata"]["name"]
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy model (STACK.md §3.3)
// ---------------------------------------------------------------------------------------------

/// One pod template: workload id, labels, and declared container ports.
struct Pod {
    id: String,
    labels: BTreeMap<String, String>,
    ports: BTreeSet<u64>,
}

fn pods(items: &[Value]) -> Vec<Pod> {
    workloads(items)
        .into_iter()
        .map(|w| {
            let tpl = &w["spec"]["template"];
            let labels = tpl["metadata"]["labels"]
                .as_object()
                .expect("pod labels")
                .iter()
                .map(|(k, v)| (k.clone(), s(v).to_string()))
                .collect();
            let ports = arr(&tpl["spec"]["containers"])
                .iter()
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .map(|p| p["containerPort"].as_u64().expect("containerPort"))
                .collect();
            Pod {
                id: format!("{}/{}", s(&w["kind"]), s(&w["metadata"]["name"])),
                labels,
                ports,
            }
        })
        .collect()
}

fn matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    assert!(
        selector.get("matchExpressions").is_none(),
        "policies select by matchLabels only"
    );
    selector["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        })
        .unwrap_or(true)
}

/// A peer, in words: "clients", "ns:<name>" or "pod:<name>/<component>".
fn peer(p: &Value) -> String {
    if let Some(ns) = p.get("namespaceSelector") {
        assert!(
            p.get("podSelector").is_none(),
            "no combined namespace+pod peers: {p}"
        );
        let labels = ns["matchLabels"]
            .as_object()
            .expect("namespaceSelector.matchLabels");
        assert_eq!(labels.len(), 1, "{p}");
        if labels
            .get("soma.sh/allow-shared-infra")
            .and_then(Value::as_str)
            == Some("true")
        {
            return "clients-ns".into();
        }
        return format!("ns:{}", s(&labels["kubernetes.io/metadata.name"]));
    }
    let labels = p["podSelector"]["matchLabels"]
        .as_object()
        .expect("podSelector.matchLabels");
    if labels.get("soma.sh/infra-admin").and_then(Value::as_str) == Some("true") {
        assert_eq!(labels.len(), 1);
        return "infra-admin".into();
    }
    assert_eq!(labels["app.kubernetes.io/instance"], "sharedinfra", "{p}");
    format!(
        "pod:{}/{}",
        s(&labels["app.kubernetes.io/name"]),
        s(&labels["app.kubernetes.io/component"])
    )
}

/// Every flow the rendered policies allow: (target name/component, port, source).
fn flows(items: &[Value]) -> BTreeSet<(String, u64, String)> {
    let mut out = BTreeSet::new();
    for np in items.iter().filter(|o| o["kind"] == "NetworkPolicy") {
        let name = s(&np["metadata"]["name"]);
        if name == "sharedinfra-default-deny-ingress" {
            continue;
        }
        let sel = &np["spec"]["podSelector"]["matchLabels"];
        let target = format!(
            "{}/{}",
            s(&sel["app.kubernetes.io/name"]),
            s(&sel["app.kubernetes.io/component"])
        );
        assert_eq!(
            np["spec"]["policyTypes"],
            serde_json::json!(["Ingress"]),
            "{name}"
        );
        for rule in arr(&np["spec"]["ingress"]) {
            let from = arr(&rule["from"]);
            let ports = arr(&rule["ports"]);
            assert!(
                !from.is_empty() && !ports.is_empty(),
                "{name}: every rule names sources and ports"
            );
            let mut sources: Vec<String> = from.iter().map(peer).collect();
            // The two client peers of §3.3.2 always come together.
            if sources.contains(&"clients-ns".to_string()) {
                assert!(
                    sources.contains(&"infra-admin".to_string()),
                    "{name}: clients include infra-admin pods"
                );
                sources.retain(|p| p != "clients-ns" && p != "infra-admin");
                sources.push("clients".into());
            }
            for port in ports {
                assert_eq!(port["protocol"], "TCP", "{name}");
                let number = port["port"].as_u64().expect("numeric port");
                for src in &sources {
                    assert!(
                        out.insert((target.clone(), number, src.clone())),
                        "{name}: duplicate flow {target}:{number} from {src}"
                    );
                }
            }
        }
    }
    out
}

struct Switches {
    sentinel: bool,
    raft: bool,
    external: bool,
    grafana: bool,
    openfga: bool,
    ingress_ns: Option<&'static str>,
}

/// The flows STACK.md §3.3 allows, for one configuration.
fn expected_flows(sw: &Switches) -> BTreeSet<(String, u64, String)> {
    let mut f = BTreeSet::new();
    let mut add = |target: &str, port: u64, src: &str| {
        f.insert((target.to_string(), port, src.to_string()));
    };
    let redis_pods = if sw.sentinel {
        "redis/node"
    } else {
        "redis/master"
    };
    // §3.3.2 client ports.
    add("postgres/pgpool", 5432, "clients");
    add(
        if sw.sentinel {
            "redis/haproxy"
        } else {
            "redis/master"
        },
        6379,
        "clients",
    );
    if sw.sentinel {
        add("redis/node", 6379, "clients");
        add("redis/node", 26379, "clients");
    }
    add("kafka/broker", 9092, "clients");
    add("opa/server", 8181, "clients");
    // Dex, the dev/test token issuer (docs/policy.md, "Tokens"): applications get tokens, OPA
    // fetches the signing keys. Rendered exactly where credentials are not external.
    if !sw.external {
        add("dex/server", 5556, "clients");
        add("dex/server", 5556, "pod:opa/server");
    }
    add("vault/server", 8200, "clients");
    add("prometheus/server", 9090, "clients");
    add("etcd/server", 2379, "clients");
    if sw.grafana {
        add("grafana/server", 3000, "clients");
        if let Some(ns) = sw.ingress_ns {
            add("grafana/server", 3000, &format!("ns:{ns}"));
        }
    }
    if sw.openfga {
        add("openfga/server", 8080, "clients");
        add("openfga/server", 8081, "clients");
    }
    // §3.3.3 intra-namespace flows.
    add("postgres/postgresql", 5432, "pod:postgres/postgresql");
    add("postgres/postgresql", 5432, "pod:postgres/pgpool");
    if sw.openfga {
        add("postgres/pgpool", 5432, "pod:openfga/server");
    }
    if sw.sentinel {
        add("redis/node", 6379, "pod:redis/node");
        add("redis/node", 6379, "pod:redis/haproxy");
        add("redis/node", 26379, "pod:redis/node");
    }
    add("kafka/broker", 9092, "pod:kafka/broker");
    add("kafka/broker", 9092, "pod:kafka/exporter");
    add("kafka/broker", 9093, "pod:kafka/broker");
    if sw.raft {
        add("vault/server", 8200, "pod:vault/server");
        add("vault/server", 8201, "pod:vault/server");
    }
    add("etcd/server", 2379, "pod:etcd/server");
    add("etcd/server", 2380, "pod:etcd/server");
    let prom = "pod:prometheus/server";
    add("postgres/postgresql", 9187, prom);
    add(redis_pods, 9121, prom);
    add("kafka/exporter", 9308, prom);
    add("opa/server", 8282, prom);
    add("vault/server", 8200, prom);
    add("etcd/server", 2381, prom);
    add("prometheus/server", 9090, prom);
    if sw.grafana {
        add("grafana/server", 3000, prom);
        add("prometheus/server", 9090, "pod:grafana/server");
    }
    if sw.openfga {
        add("openfga/server", 2112, prom);
    }
    if sw.external {
        add("vault/server", 8200, "ns:external-secrets");
    }
    // docs/recovery.md: each backup pod reaches the one server it copies. The overlays archive
    // Postgres WAL (pitr) exactly where Vault runs raft (staging and later).
    add("postgres/postgresql", 5432, "pod:postgres/backup");
    if sw.raft {
        add("postgres/postgresql", 5432, "pod:postgres/wal-archiver");
        add("vault/server", 8200, "pod:vault/backup");
    }
    add("etcd/server", 2379, "pod:etcd/backup");
    add(
        if sw.sentinel {
            "redis/haproxy"
        } else {
            "redis/master"
        },
        6379,
        "pod:redis/backup",
    );
    // docs/slos.md: the OpenTelemetry Collector runs from staging on (external secrets too).
    if sw.external {
        add("otel-collector/server", 4317, "clients");
        add("otel-collector/server", 4318, "clients");
        add("otel-collector/server", 8888, prom);
    }
    f
}

fn check_network_model(label: &str, items: &[Value], sw: &Switches) {
    let deny = get(items, "NetworkPolicy", "sharedinfra-default-deny-ingress");
    assert_eq!(
        deny["spec"]["podSelector"],
        serde_json::json!({}),
        "{label}"
    );
    assert_eq!(
        deny["spec"]["policyTypes"],
        serde_json::json!(["Ingress"]),
        "{label}"
    );
    assert!(
        deny["spec"]["ingress"].is_null(),
        "{label}: default deny has no ingress rule"
    );

    let pods = pods(items);
    let policies: Vec<&Value> = items
        .iter()
        .filter(|o| {
            o["kind"] == "NetworkPolicy"
                && o["metadata"]["name"] != "sharedinfra-default-deny-ingress"
        })
        .collect();
    // Every pod that serves is selected by some allow policy. Two only connect out, so the
    // default deny alone is right for them: Postgres' WAL archiver, and a Job's pod (the
    // application wire-up).
    for p in pods.iter().filter(|p| {
        !p.id.starts_with("Job/")
            && p.labels
                .get("app.kubernetes.io/component")
                .map(String::as_str)
                != Some("wal-archiver")
    }) {
        assert!(
            policies
                .iter()
                .any(|np| matches(&np["spec"]["podSelector"], &p.labels)),
            "{label}: {} is selected by no NetworkPolicy",
            p.id
        );
    }
    // Every policy selects pods, and every port it opens is a containerPort of each of them, and
    // (for client ports) a port of a Service that selects them.
    for np in &policies {
        let name = s(&np["metadata"]["name"]);
        let selected: Vec<&Pod> = pods
            .iter()
            .filter(|p| matches(&np["spec"]["podSelector"], &p.labels))
            .collect();
        assert!(!selected.is_empty(), "{label}: {name} selects no pod");
        for rule in arr(&np["spec"]["ingress"]) {
            for port in arr(&rule["ports"]) {
                let number = port["port"].as_u64().expect("numeric port");
                for p in &selected {
                    assert!(
                        p.ports.contains(&number),
                        "{label}: {name} opens {number}, which {} does not serve",
                        p.id
                    );
                }
                let served = items.iter().filter(|o| o["kind"] == "Service").any(|svc| {
                    let sel = &svc["spec"]["selector"];
                    selected.iter().all(|p| {
                        sel.as_object().is_some_and(|m| {
                            m.iter()
                                .all(|(k, v)| p.labels.get(k).map(String::as_str) == v.as_str())
                        })
                    }) && arr(&svc["spec"]["ports"]).iter().any(|sp| {
                        sp["port"].as_u64() == Some(number)
                            || sp["targetPort"].as_u64() == Some(number)
                    })
                });
                assert!(
                    served,
                    "{label}: {name} opens {number}, which no Service of the selected pods exposes"
                );
            }
        }
    }
    // Only the §3.3 flows exist.
    let got = flows(items);
    let want = expected_flows(sw);
    let extra: Vec<_> = got.difference(&want).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{label}: flows not in §3.3: {extra:?}\nflows missing: {missing:?}"
    );
}

#[test]
fn network_policies_follow_the_model_in_every_mode() {
    for m in matrix() {
        let items = render(m.name);
        let sw = Switches {
            sentinel: m.sentinel,
            raft: m.vault_raft.is_some(),
            external: m.external,
            grafana: m.grafana,
            openfga: false,
            ingress_ns: None,
        };
        check_network_model(m.name, &items, &sw);
    }
}

#[test]
fn network_policies_follow_optional_components() {
    let items = render_with(
        "prod",
        &[
            "--set",
            "openfga.enabled=true",
            "--set",
            "networkPolicy.ingressControllerNamespace=ingress-nginx",
        ],
    );
    let sw = Switches {
        sentinel: true,
        raft: true,
        external: true,
        grafana: true,
        openfga: true,
        ingress_ns: Some("ingress-nginx"),
    };
    check_network_model("prod+openfga", &items, &sw);

    let off = render_with("dev", &["--set", "networkPolicy.enabled=false"]);
    assert!(!off.iter().any(|o| o["kind"] == "NetworkPolicy"));
}

#[test]
fn openfga_joins_pgpool_and_initdb_when_enabled() {
    let items = render_with("dev", &["--set", "openfga.enabled=true"]);
    let initdb = cm_data(&items, "sharedinfra-postgres-initdb", "10-admin.sh");
    assert!(initdb.contains("CREATE DATABASE openfga OWNER openfga;"));
    let pgpool = get(&items, "Secret", "sharedinfra-pgpool");
    let users = s(&pgpool["data"]["usernames"]);
    // base64 of "soma\nadmin\nopenfga\nsa01": one entry per line (STACK.md §4); sa01 is the
    // role of the app dev wires up (templates/apps/).
    assert_eq!(users, "c29tYQphZG1pbgpvcGVuZmdhCnNhMDE=");
    let pp = container(
        get(&items, "Deployment", "sharedinfra-postgres-pgpool"),
        "pgpool",
    );
    assert_eq!(
        env_req(pp, "PGPOOL_USER_CONF_FILE"),
        "/opt/bitnami/pgpool/user-conf/pgpool.conf"
    );
    assert!(
        cm_data(&items, "sharedinfra-pgpool-config", "pgpool.conf")
            .contains("app_name_redirect_preference_list = 'openfga:primary'")
    );
}

// ------------------------------------------------------------------------------------------
// Hardening (issue 12): each test fails on the stack as it was before its fix.

fn pod_spec(w: &Value) -> &Value {
    &w["spec"]["template"]["spec"]
}

fn all_containers(w: &Value) -> Vec<&Value> {
    let spec = pod_spec(w);
    let mut out: Vec<&Value> = Vec::new();
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec[list].as_array() {
            out.extend(cs.iter());
        }
    }
    out
}

/// Whether the container's user can read every file of its Secret/ConfigMap/projected mounts as
/// the kubelet lays them out: owner root, group = fsGroup (else root), the item's or volume's
/// mode (default 0644), plus 0440 with an fsGroup. Returns the unreadable mounts.
fn unreadable_mounts(w: &Value) -> Vec<String> {
    let spec = pod_spec(w);
    let psc = &spec["securityContext"];
    let fs_group = psc["fsGroup"].as_u64();
    let mut problems = Vec::new();
    for c in all_containers(w) {
        let csc = &c["securityContext"];
        let uid = csc["runAsUser"].as_u64().or(psc["runAsUser"].as_u64());
        let gid = csc["runAsGroup"].as_u64().or(psc["runAsGroup"].as_u64());
        let mut groups: Vec<u64> = psc["supplementalGroups"]
            .as_array()
            .map(|g| g.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        groups.extend(gid);
        groups.extend(fs_group);
        for mount in c["volumeMounts"].as_array().into_iter().flatten() {
            let Some(volume) = spec["volumes"]
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["name"] == mount["name"]))
            else {
                continue;
            };
            let (default_mode, item_lists): (u64, Vec<&Value>) = if !volume["secret"].is_null() {
                (
                    volume["secret"]["defaultMode"].as_u64().unwrap_or(0o644),
                    vec![&volume["secret"]["items"]],
                )
            } else if !volume["configMap"].is_null() {
                (
                    volume["configMap"]["defaultMode"].as_u64().unwrap_or(0o644),
                    vec![&volume["configMap"]["items"]],
                )
            } else if !volume["projected"].is_null() {
                let sources = arr(&volume["projected"]["sources"]);
                (
                    volume["projected"]["defaultMode"].as_u64().unwrap_or(0o644),
                    sources
                        .iter()
                        .map(|s| {
                            if s["secret"].is_null() {
                                &s["configMap"]["items"]
                            } else {
                                &s["secret"]["items"]
                            }
                        })
                        .collect(),
                )
            } else {
                continue;
            };
            let mut modes = vec![default_mode];
            for items in item_lists {
                for item in items.as_array().into_iter().flatten() {
                    modes.extend(item["mode"].as_u64());
                }
            }
            for mut mode in modes {
                let group = fs_group.unwrap_or(0);
                if fs_group.is_some() {
                    mode |= 0o440;
                }
                let readable = uid == Some(0)
                    || mode & 0o004 != 0
                    || (mode & 0o040 != 0 && groups.contains(&group));
                if !readable {
                    problems.push(format!(
                        "{}/{}: {} (mode {mode:o}, root:{group}) is unreadable for uid {uid:?} groups {groups:?}",
                        w["metadata"]["name"], c["name"], mount["mountPath"]
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_container_can_read_its_mounted_secrets_and_configmaps() {
    for mode in MODES {
        let items = render(mode);
        let problems: Vec<String> = workloads(&items)
            .into_iter()
            .flat_map(unreadable_mounts)
            .collect();
        assert!(problems.is_empty(), "{mode}:\n{}", problems.join("\n"));
    }
    // The smoke Jobs' bug, reproduced on a Job: 0440 Secret, no fsGroup, a non-root user.
    let job = serde_json::json!({"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {
        "securityContext": {"runAsUser": 1001, "runAsGroup": 1001},
        "containers": [{"name": "c", "volumeMounts": [{"name": "s", "mountPath": "/run/secrets/s"}]}],
        "volumes": [{"name": "s", "secret": {"secretName": "x", "defaultMode": 288}}]}}}});
    assert_eq!(
        unreadable_mounts(&job).len(),
        1,
        "the check sees a root:root 0440 Secret"
    );
    let mut fixed = job.clone();
    fixed["spec"]["template"]["spec"]["securityContext"]["fsGroup"] = serde_json::json!(1001);
    assert!(
        unreadable_mounts(&fixed).is_empty(),
        "with fsGroup the file is root:1001 0440"
    );
}

#[test]
fn prometheus_has_no_lifecycle_or_admin_api() {
    for mode in MODES {
        let items = render(mode);
        let prom = container(
            get(&items, "StatefulSet", "sharedinfra-prometheus"),
            "prometheus",
        );
        for arg in arr(&prom["args"]) {
            assert!(
                !s(arg).starts_with("--web.enable-lifecycle")
                    && !s(arg).starts_with("--web.enable-admin-api"),
                "{mode}: Prometheus, open to every client namespace on 9090, runs with {arg}"
            );
        }
    }
}

#[test]
fn only_headless_services_publish_not_ready_addresses() {
    for mode in MODES {
        let items = render(mode);
        for svc in items.iter().filter(|o| o["kind"] == "Service") {
            if svc["spec"]["publishNotReadyAddresses"] == true {
                assert_eq!(
                    svc["spec"]["clusterIP"], "None",
                    "{mode}: {} routes clients to not-ready (sealed, unsynced) pods",
                    svc["metadata"]["name"]
                );
            }
        }
        let vault = get(&items, "Service", "sharedinfra-vault");
        assert_ne!(vault["spec"]["publishNotReadyAddresses"], true, "{mode}");
    }
}

#[test]
fn postgres_startup_budget_covers_cloning_the_volume() {
    for mode in MODES {
        let items = render(mode);
        let sts = get(&items, "StatefulSet", "sharedinfra-postgres-postgresql");
        let probe = &container(sts, "postgresql")["startupProbe"];
        let budget =
            probe["periodSeconds"].as_u64().unwrap() * probe["failureThreshold"].as_u64().unwrap();
        let Some((size, _)) = data_claim(sts) else {
            continue;
        };
        let gib: u64 = size.trim_end_matches("Gi").parse().expect("a size in Gi");
        // A clone at 50 MiB/s of the whole volume, plus 300 s of ordinary start-up.
        let needed = 300 + gib * 1024 / 50;
        assert!(
            budget >= needed,
            "{mode}: startup budget {budget}s < {needed}s to clone {size}"
        );
    }
    let prod = render("prod");
    let probe = &container(
        get(&prod, "StatefulSet", "sharedinfra-postgres-postgresql"),
        "postgresql",
    )["startupProbe"];
    assert!(
        probe["failureThreshold"].as_u64().unwrap() * probe["periodSeconds"].as_u64().unwrap()
            > 2000
    );
}

#[test]
fn kafka_exporter_waits_for_a_broker_instead_of_crash_looping() {
    for mode in MODES {
        let items = render(mode);
        let Some(exporter) = find(&items, "Deployment", "sharedinfra-kafka-exporter") else {
            continue;
        };
        let init = arr(&pod_spec(exporter)["initContainers"]);
        assert_eq!(init.len(), 1, "{mode}");
        let script = s(&arr(&init[0]["command"])[2]);
        assert!(
            script.contains("/dev/tcp/sharedinfra-kafka/9092"),
            "{mode}: {script}"
        );
        assert_eq!(
            init[0]["image"],
            container(get(&items, "StatefulSet", "sharedinfra-kafka"), "kafka")["image"]
        );
    }
}

#[test]
fn ckv_k8s_38_is_skipped_per_workload_only_where_the_token_is_mounted() {
    let skips =
        std::fs::read_to_string(repo().join(".ci/checkov-skips.txt")).expect("checkov-skips.txt");
    assert!(
        !skips
            .lines()
            .any(|l| l.trim_start().starts_with("CKV_K8S_38")),
        "CKV_K8S_38 must not be skipped globally"
    );
    for mode in MODES {
        let items = render(mode);
        for w in workloads(&items) {
            let token = pod_spec(w)["automountServiceAccountToken"] == true;
            let skip = w["metadata"]["annotations"]["checkov.io/skip1"]
                .as_str()
                .unwrap_or_default();
            let name = s(&w["metadata"]["name"]);
            if token {
                let reason = skip.strip_prefix("CKV_K8S_38=").unwrap_or_default();
                assert!(
                    reason.len() > 20,
                    "{mode}: {name} mounts its token without a CKV_K8S_38 skip and reason: {skip:?}"
                );
            } else {
                assert!(
                    !skip.contains("CKV_K8S_38"),
                    "{mode}: {name} skips CKV_K8S_38 but mounts no token"
                );
            }
        }
        for name in ["sharedinfra-prometheus", "sharedinfra-vault"] {
            assert_eq!(
                pod_spec(get(&items, "StatefulSet", name))["automountServiceAccountToken"],
                true,
                "{mode}: {name}"
            );
        }
    }
}

#[test]
fn renewed_certificates_reach_vault_postgres_and_pgpool_without_a_restart() {
    // (workload kind, name, server container, process, signal, tls mount)
    let servers = [
        (
            "StatefulSet",
            "sharedinfra-vault",
            "vault",
            "vault",
            "HUP",
            "/vault/tls",
        ),
        (
            "StatefulSet",
            "sharedinfra-postgres-postgresql",
            "postgresql",
            "postgres",
            "HUP",
            "/opt/bitnami/postgresql/certs",
        ),
        (
            "Deployment",
            "sharedinfra-postgres-pgpool",
            "pgpool",
            "pgpool",
            "INT",
            "/opt/bitnami/pgpool/certs",
        ),
    ];
    let mut seen = 0;
    for mode in MODES {
        let items = render(mode);
        for (kind, name, server, process, signal, mount) in servers {
            let w = get(&items, kind, name);
            let spec = pod_spec(w);
            let tls = arr(&container(w, server)["volumeMounts"])
                .iter()
                .any(|m| m["name"] == "tls");
            let reloader = arr(&spec["containers"])
                .iter()
                .find(|c| c["name"] == "cert-reloader");
            if !tls {
                assert!(
                    reloader.is_none(),
                    "{mode}: {name} has a reloader but no TLS"
                );
                continue;
            }
            seen += 1;
            let reloader = reloader
                .unwrap_or_else(|| panic!("{mode}: {name} serves TLS without a cert-reloader"));
            assert_eq!(spec["shareProcessNamespace"], true, "{mode}: {name}");
            let cmd: Vec<&str> = arr(&reloader["command"]).iter().map(s).collect();
            assert_eq!(
                &cmd[..4],
                ["sh", "/opt/cert-reloader/reload.sh", process, signal],
                "{mode}: {name}"
            );
            assert_eq!(cmd[4], format!("{mount}/tls.crt"), "{mode}: {name}");
            assert_eq!(
                reloader["image"],
                container(w, server)["image"],
                "{mode}: {name}: the server's own image"
            );
            assert_eq!(
                reloader["securityContext"]["runAsUser"],
                container(w, server)["securityContext"]["runAsUser"],
                "{mode}: {name}: the server's uid, to be allowed to signal it"
            );
            assert!(
                cm_data(&items, "sharedinfra-cert-reloader", "reload.sh")
                    .contains("kill -s \"$signal\"")
            );
        }
    }
    assert!(
        seen >= 7,
        "TLS is on for Vault and pgpool from staging on, Postgres in prod-lite and prod"
    );
}

#[test]
fn vaults_ca_is_published_to_app_namespaces_when_vault_speaks_https() {
    for mode in MODES {
        let items = render(mode);
        let endpoints = &get(&items, "ConfigMap", "sharedinfra-endpoints")["data"];
        let https = s(&endpoints["VAULT_ADDR"]).starts_with("https://");
        let bundle = find(&items, "Bundle", "sharedinfra-ca");
        if https {
            assert_eq!(
                endpoints["VAULT_CACERT"], "/etc/soma-infra/ca/ca.crt",
                "{mode}"
            );
            let bundle = bundle
                .unwrap_or_else(|| panic!("{mode}: https Vault but no Bundle sharedinfra-ca"));
            assert_eq!(
                bundle["spec"]["sources"][0]["secret"]["name"], "sharedinfra-vault-tls",
                "{mode}"
            );
            assert_eq!(
                bundle["spec"]["sources"][0]["secret"]["key"], "ca.crt",
                "{mode}"
            );
            assert_eq!(
                bundle["spec"]["target"]["configMap"]["key"], "ca.crt",
                "{mode}"
            );
            assert_eq!(
                bundle["spec"]["target"]["namespaceSelector"]["matchLabels"]["soma.sh/allow-shared-infra"],
                "true",
                "{mode}: the app namespaces are the ones the NetworkPolicies admit"
            );
            assert!(
                bundle["metadata"]["namespace"].is_null(),
                "Bundle is cluster-scoped"
            );
            // Vault's listener certificate is the one whose CA is published.
            let cert = get(&items, "Certificate", "sharedinfra-vault-tls");
            assert_eq!(cert["spec"]["secretName"], "sharedinfra-vault-tls");
        } else {
            assert_eq!(endpoints["VAULT_CACERT"], "", "{mode}");
            assert!(bundle.is_none(), "{mode}");
        }
    }
    let off = render_with("prod", &["--set", "certManager.caBundle.enabled=false"]);
    assert!(find(&off, "Bundle", "sharedinfra-ca").is_none());
}
