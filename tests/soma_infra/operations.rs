//! Backups (docs/recovery.md) and telemetry (docs/slos.md) of the soma-infra stack, read from
//! the objects the real binary renders (`render --mode M -o json`): which backups each mode
//! renders and where they land, the flows their NetworkPolicies admit, and the OTLP endpoint of
//! the contract with the collector on and off. The backup scripts themselves run against the
//! real servers in `.ci/validate-backups.sh`; the collector configuration in
//! `.ci/validate-otelcol.sh`.

use serde_json::Value;
use std::process::Command;

use crate::common::repo;
use crate::matrix::{find, get, render_with};

fn cron_pod(cron: &Value) -> &Value {
    &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

fn env_of(container: &Value, name: &str) -> String {
    container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == name))
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("env {name} missing"))
        .to_owned()
}

/// The pod selectors (name/component labels) a NetworkPolicy admits, and its ports.
fn admits(np: &Value) -> (Vec<String>, Vec<u64>) {
    let rule = &np["spec"]["ingress"][0];
    let from = rule["from"]
        .as_array()
        .expect("from")
        .iter()
        .map(|p| {
            let l = &p["podSelector"]["matchLabels"];
            format!(
                "{}/{}",
                l["app.kubernetes.io/name"].as_str().unwrap_or(""),
                l["app.kubernetes.io/component"].as_str().unwrap_or("")
            )
        })
        .collect();
    let ports = rule["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| p["port"].as_u64().expect("port"))
        .collect();
    (from, ports)
}

#[test]
fn postgres_dumps_in_dev_and_test_and_archives_wal_from_staging_on() {
    for mode in ["dev", "test", "staging", "prod-lite", "prod"] {
        let items = render_with(mode, &[]);
        let pitr = !matches!(mode, "dev" | "test");
        let cron = get(&items, "CronJob", "sharedinfra-postgres-backup");
        let pod = cron_pod(cron);
        let c = &pod["containers"][0];
        assert_eq!(
            c["name"],
            if pitr { "base-backup" } else { "dump" },
            "{mode}"
        );
        let script = c["command"][2].as_str().expect("script");
        assert!(
            script.contains(if pitr { "pg_basebackup" } else { "pg_dumpall" }),
            "{mode}"
        );
        assert!(script.contains("prune "), "{mode}: backups are pruned");
        assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
        assert_eq!(
            pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "sharedinfra-postgres-backup"
        );
        get(
            &items,
            "PersistentVolumeClaim",
            "sharedinfra-postgres-backup",
        );
        let conninfo = env_of(c, "PG_CONNINFO");
        let archiver = find(&items, "Deployment", "sharedinfra-postgres-wal-archiver");
        assert_eq!(
            archiver.is_some(),
            pitr,
            "{mode}: the WAL archiver runs exactly with pitr"
        );
        let np = get(
            &items,
            "NetworkPolicy",
            "sharedinfra-allow-backup-to-postgres",
        );
        let (from, ports) = admits(np);
        assert_eq!(ports, [5432]);
        if pitr {
            assert!(
                conninfo.contains("user=repmgr target_session_attrs=read-write"),
                "{mode}: {conninfo}"
            );
            assert_eq!(from, ["postgres/backup", "postgres/wal-archiver"], "{mode}");
            let hosts = conninfo
                .split_whitespace()
                .next()
                .expect("host=")
                .matches("sharedinfra-postgres-postgresql-headless")
                .count();
            let replicas = if mode == "staging" { 1 } else { 3 };
            assert_eq!(hosts, replicas, "{mode}: every node is a candidate primary");
            // The CronJob joins the archiver on its node (ReadWriteOnce volume).
            assert!(pod["affinity"]["podAffinity"].is_object(), "{mode}");
        } else {
            assert!(conninfo.contains("user=postgres"), "{mode}");
            assert_eq!(from, ["postgres/backup"], "{mode}");
        }
    }
}

#[test]
fn etcd_vault_and_redis_backups_follow_the_mode() {
    for mode in ["dev", "test", "staging", "prod-lite", "prod"] {
        let items = render_with(mode, &[]);
        let raft = !matches!(mode, "dev" | "test");
        for (component, server) in [
            ("etcd", "etcd/server"),
            (
                "redis",
                if raft {
                    "redis/haproxy"
                } else {
                    "redis/master"
                },
            ),
        ] {
            let cron = get(
                &items,
                "CronJob",
                &format!("sharedinfra-{component}-backup"),
            );
            get(
                &items,
                "PersistentVolumeClaim",
                &format!("sharedinfra-{component}-backup"),
            );
            let np = get(
                &items,
                "NetworkPolicy",
                &format!("sharedinfra-allow-backup-to-{component}"),
            );
            let target = &np["spec"]["podSelector"]["matchLabels"];
            assert_eq!(
                format!(
                    "{}/{}",
                    s(&target["app.kubernetes.io/name"]),
                    s(&target["app.kubernetes.io/component"])
                ),
                server,
                "{mode}"
            );
            assert_eq!(admits(np).0, [format!("{component}/backup")]);
            assert_eq!(cron["spec"]["timeZone"], "Etc/UTC");
        }
        // Vault: raft snapshots exist only where Vault keeps data.
        assert_eq!(
            find(&items, "CronJob", "sharedinfra-vault-backup").is_some(),
            raft,
            "{mode}"
        );
        if raft {
            let pod = cron_pod(get(&items, "CronJob", "sharedinfra-vault-backup"));
            assert_eq!(pod["serviceAccountName"], "sharedinfra-vault-backup");
            assert_eq!(
                pod["automountServiceAccountToken"], false,
                "only a projected, short-lived token"
            );
            assert_eq!(
                env_of(&pod["containers"][0], "VAULT_ADDR"),
                "https://sharedinfra-vault.soma-infra.svc.cluster.local:8200"
            );
        }
        // etcd's image has no shell: the snapshot runs as plain args, the rotation in the tools image.
        let pod = cron_pod(get(&items, "CronJob", "sharedinfra-etcd-backup"));
        assert_eq!(
            pod["initContainers"][0]["args"],
            serde_json::json!(["snapshot", "save", "/backup/incoming.db"])
        );
        assert_eq!(pod["containers"][0]["image"], "busybox:1.36.1");
    }
}

#[test]
fn backups_switch_off_and_retention_comes_from_values() {
    let items = render_with("prod", &["--set", "backups.enabled=false"]);
    assert!(
        !items.iter().any(|o| o["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .ends_with("-backup")),
        "no backup object when off"
    );
    assert!(find(&items, "Deployment", "sharedinfra-postgres-wal-archiver").is_none());
    let items = render_with(
        "prod",
        &[
            "--set",
            "backups.redis.retentionDays=2",
            "--set",
            "backups.postgres.schedule=0 3 * * *",
        ],
    );
    let redis = cron_pod(get(&items, "CronJob", "sharedinfra-redis-backup"));
    assert_eq!(env_of(&redis["containers"][0], "RETENTION_DAYS"), "2");
    assert_eq!(
        get(&items, "CronJob", "sharedinfra-postgres-backup")["spec"]["schedule"],
        "0 3 * * *"
    );
}

/// The collector's rendered configuration.
fn collector_config(items: &[Value]) -> String {
    s(&get(items, "ConfigMap", "sharedinfra-otel-collector")["data"]["config.yaml"]).to_owned()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
fn the_otlp_endpoint_follows_the_collector() {
    let endpoint = |items: &[Value]| {
        s(&get(items, "ConfigMap", "sharedinfra-endpoints")["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
            .to_owned()
    };
    let collector = "http://sharedinfra-otel-collector.soma-infra.svc.cluster.local:4318";
    for mode in ["dev", "test", "staging", "prod-lite", "prod"] {
        let items = render_with(mode, &[]);
        let on = !matches!(mode, "dev" | "test");
        assert_eq!(
            find(&items, "Deployment", "sharedinfra-otel-collector").is_some(),
            on,
            "{mode}"
        );
        assert_eq!(endpoint(&items), if on { collector } else { "" }, "{mode}");
        assert!(
            find(&items, "Deployment", "sharedinfra-jaeger").is_none(),
            "{mode}: Jaeger is off by default"
        );
        assert!(
            find(&items, "StatefulSet", "sharedinfra-loki").is_none(),
            "{mode}: Loki is off by default"
        );
    }
    let items = render_with(
        "dev",
        &["--set", "telemetry.otlpEndpoint=http://otel.example:4318"],
    );
    assert_eq!(endpoint(&items), "http://otel.example:4318");
    // With Jaeger on, traces go to it and its flows are admitted.
    let items = render_with("staging", &["--set", "telemetry.jaeger.enabled=true"]);
    let config = collector_config(&items);
    assert!(
        config.contains("sharedinfra-jaeger.soma-infra.svc.cluster.local:4317"),
        "{config}"
    );
    let np = get(
        &items,
        "NetworkPolicy",
        "sharedinfra-allow-otel-collector-to-jaeger",
    );
    assert_eq!(
        admits(np),
        (vec!["otel-collector/server".to_owned()], vec![4317])
    );
    get(&items, "NetworkPolicy", "sharedinfra-allow-scrape-jaeger");
    let rules = s(
        &get(&items, "ConfigMap", "sharedinfra-prometheus-rules")["data"]["sharedinfra.rules.yaml"],
    )
    .to_owned();
    assert!(
        rules.contains("OtelCollectorExportFailing") && rules.contains("OtelCollectorRefusingData")
    );
}

#[test]
fn loki_receives_the_collectors_logs_when_enabled() {
    let items = render_with(
        "staging",
        &[
            "--set",
            "telemetry.loki.enabled=true,telemetry.loki.retention=30d",
        ],
    );
    let collector = collector_config(&items);
    assert!(
        collector
            .contains("endpoint: http://sharedinfra-loki.soma-infra.svc.cluster.local:3100/otlp"),
        "{collector}"
    );
    let loki = s(&get(&items, "ConfigMap", "sharedinfra-loki")["data"]["config.yaml"]).to_owned();
    assert!(loki.contains("retention_period: 30d"), "{loki}");
    assert!(loki.contains("retention_enabled: true"), "{loki}");
    let pod = &get(&items, "StatefulSet", "sharedinfra-loki")["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["readinessProbe"]["httpGet"]["path"],
        "/ready"
    );
    assert_eq!(
        admits(get(
            &items,
            "NetworkPolicy",
            "sharedinfra-allow-telemetry-to-loki"
        )),
        (
            vec![
                "otel-collector/server".to_owned(),
                "grafana/server".to_owned(),
                "prometheus/server".to_owned()
            ],
            vec![3100]
        )
    );
    let datasources =
        s(&get(&items, "ConfigMap", "sharedinfra-grafana-datasources")["data"]["ds.yaml"])
            .to_owned();
    assert!(datasources.contains("uid: loki"), "{datasources}");
    let rules = s(
        &get(&items, "ConfigMap", "sharedinfra-prometheus-rules")["data"]["sharedinfra.rules.yaml"],
    )
    .to_owned();
    assert!(rules.contains("LokiIngestErrors") && rules.contains("LokiDiscardingLogs"));
    // An explicit log backend wins over Loki.
    let items = render_with(
        "staging",
        &[
            "--set",
            "telemetry.loki.enabled=true,telemetry.collector.logs.endpoint=https://logs.example/otlp",
        ],
    );
    let collector = collector_config(&items);
    assert!(
        collector.contains("https://logs.example/otlp") && !collector.contains("sharedinfra-loki"),
        "{collector}"
    );
}

#[test]
fn a_loki_retention_without_a_unit_is_refused_at_its_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_somagen"))
        .args(["render", "--stack"])
        .arg(repo())
        .args(["--mode", "dev", "--set", "telemetry.loki.retention=7days"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the somagen binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("telemetry.loki.retention") && stderr.contains("--set"),
        "{stderr}"
    );
}
