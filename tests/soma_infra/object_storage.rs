//! Object storage as a second backup target (`backups.objectStorage`, docs/recovery.md), read
//! from the objects the real binary renders: off by default; when on, every backup CronJob
//! uploads after its backup (the backup an init container, rclone the main container), the
//! WAL archiver gets its upload sidecar, the keys come from a Secret (dev), an ExternalSecret
//! (staging on) or an existing Secret, and bad values fail the render with exit 2. The scripts
//! run against `rclone serve s3` and the real servers in `.ci/validate-backups-s3.sh`.

use serde_json::Value;

use crate::common::{assert_error, repo, somagen, stderr, stdout};

const ON: &str = "backups.objectStorage.enabled=true,backups.objectStorage.bucket=soma-backups,\
backups.objectStorage.prefix=ci/sharedinfra,backups.objectStorage.endpoint=https://s3.example:9000";

fn render(mode: &str, set: &[&str]) -> Vec<Value> {
    let mut args = vec!["render", "--mode", mode, "-o", "json"];
    for s in set {
        args.extend_from_slice(&["--set", s]);
    }
    let output = somagen(&repo(), &args);
    assert!(
        output.status.success(),
        "render {args:?}: {}",
        stderr(&output)
    );
    let list: Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    list["items"].as_array().expect("items").clone()
}

fn get<'a>(items: &'a [Value], kind: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind}/{name} is not rendered"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The pod's volume of the object storage keys.
fn keys_volume(pod: &Value) -> &Value {
    pod["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "object-storage-keys")
        .expect("the keys volume")
}

fn env<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("env {name} missing in {}", container["name"]))
}

fn value(container: &Value, name: &str) -> String {
    env(container, name)["value"]
        .as_str()
        .unwrap_or_else(|| panic!("env {name} has no literal value"))
        .to_owned()
}

const CRONS: [(&str, &[&str], &str); 4] = [
    ("postgres", &["base-backup"], "14"),
    ("etcd", &["snapshot", "rotate"], "14"),
    ("vault", &["snapshot"], "14"),
    ("redis", &["rdb"], "3"),
];

#[test]
fn object_storage_is_off_by_default() {
    for mode in ["dev", "test", "staging", "prod-lite", "prod"] {
        let items = render(mode, &[]);
        for o in &items {
            let text = o.to_string();
            assert!(
                !text.contains("rclone") && !text.contains("backup-object-storage"),
                "{mode}: {}/{} mentions object storage",
                o["kind"],
                o["metadata"]["name"]
            );
        }
    }
}

#[test]
fn every_backup_is_uploaded_after_it_is_on_its_volume() {
    let items = render("prod", &[ON]);
    for (component, backup, retention) in CRONS {
        let cron = get(
            &items,
            "CronJob",
            &format!("sharedinfra-{component}-backup"),
        );
        let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(names(&pod["initContainers"]), backup, "{component}");
        assert_eq!(names(&pod["containers"]), ["upload"], "{component}");
        let up = &pod["containers"][0];
        assert_eq!(up["image"], "rclone/rclone:1.76.0");
        assert_eq!(
            value(up, "REMOTE"),
            format!("objectstore:soma-backups/ci/sharedinfra/{component}")
        );
        assert_eq!(value(up, "BACKUP_DIR"), "/backup");
        assert_eq!(value(up, "RETENTION_DAYS"), retention, "{component}");
        assert_eq!(value(up, "RCLONE_CONFIG_OBJECTSTORE_TYPE"), "s3");
        assert_eq!(
            value(up, "RCLONE_CONFIG_OBJECTSTORE_ENDPOINT"),
            "https://s3.example:9000"
        );
        // The keys are files of a Secret volume, never env (checkov CKV_K8S_35).
        assert_eq!(
            value(up, "OBJECT_STORAGE_KEYS"),
            "/run/secrets/object-storage"
        );
        assert!(
            up["env"]
                .as_array()
                .expect("env")
                .iter()
                .all(|e| e.get("valueFrom").is_none()),
            "{component}: a Secret in env"
        );
        let keys = keys_volume(pod);
        assert_eq!(
            keys["secret"]["secretName"],
            "sharedinfra-backup-object-storage"
        );
        assert_eq!(
            keys["secret"]["items"],
            serde_json::json!([
                {"key": "access-key-id", "path": "access-key-id"},
                {"key": "secret-access-key", "path": "secret-access-key"}
            ])
        );
        let sc = &up["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"][0], "ALL");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
        assert_eq!(
            sc["runAsUser"], pod["initContainers"][0]["securityContext"]["runAsUser"],
            "{component}: the upload reads the backup as the uid that wrote it"
        );
        let mounts = &up["volumeMounts"];
        assert_eq!(mounts[0]["mountPath"], "/backup");
        assert_eq!(mounts[0]["readOnly"], true, "{component}");
        assert_eq!(mounts[1]["mountPath"], "/tmp");
        assert!(
            names(&pod["volumes"]).contains(&"upload-tmp".to_owned()),
            "{component}"
        );
        let script = up["command"][2].as_str().expect("script");
        if component == "postgres" {
            assert!(script.contains("rclone purge"), "pitr prunes base backups");
            assert!(script.contains("$REMOTE/wal"), "and the WAL before them");
        } else {
            assert!(script.contains("--min-age \"${RETENTION_DAYS}d\""));
            let glob = value(up, "BACKUP_GLOB");
            assert!(glob.starts_with(component), "{glob}");
        }
    }
    // The keys come from Vault from staging on.
    let es = get(
        &items,
        "ExternalSecret",
        "sharedinfra-backup-object-storage",
    );
    assert_eq!(
        es["spec"]["data"][0]["remoteRef"]["key"],
        "sharedinfra/prod/backup-object-storage"
    );
    // The WAL archiver copies its segments on an interval: the object storage RPO.
    let archiver = get(&items, "Deployment", "sharedinfra-postgres-wal-archiver");
    let pod = &archiver["spec"]["template"]["spec"];
    assert_eq!(names(&pod["containers"]), ["wal-archiver", "wal-upload"]);
    let side = &pod["containers"][1];
    assert_eq!(value(side, "UPLOAD_INTERVAL"), "60");
    assert_eq!(
        value(side, "REMOTE"),
        "objectstore:soma-backups/ci/sharedinfra/postgres"
    );
    assert!(
        side["readinessProbe"]["exec"]["command"][2]
            .as_str()
            .unwrap_or_default()
            .contains("/tmp/wal-upload.ok")
    );
    assert!(side["livenessProbe"].is_object());
}

#[test]
fn dev_dumps_go_under_dump_and_an_existing_secret_is_used_as_named() {
    let items = render("dev", &[ON]);
    let secret = get(&items, "Secret", "sharedinfra-backup-object-storage");
    assert!(secret["data"]["access-key-id"].is_string());
    let cron = get(&items, "CronJob", "sharedinfra-postgres-backup");
    let up = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(value(up, "BACKUP_DIR"), "/backup/dump");
    assert_eq!(
        value(up, "REMOTE"),
        "objectstore:soma-backups/ci/sharedinfra/postgres/dump"
    );
    assert_eq!(value(up, "BACKUP_GLOB"), "dump-*.sql.gz");

    let items = render(
        "staging",
        &[
            ON,
            "backups.objectStorage.credentials.existingSecret=s3-keys,\
backups.objectStorage.credentials.accessKeyIdKey=AWS_ACCESS_KEY_ID,\
backups.objectStorage.credentials.secretAccessKeyKey=AWS_SECRET_ACCESS_KEY,\
backups.objectStorage.prefix=,backups.objectStorage.walUploadIntervalSeconds=15",
        ],
    );
    assert!(
        !items
            .iter()
            .any(|o| o["metadata"]["name"] == "sharedinfra-backup-object-storage"),
        "no Secret of the stack when an existing one is named"
    );
    let cron = get(&items, "CronJob", "sharedinfra-redis-backup");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let keys = keys_volume(pod);
    assert_eq!(keys["secret"]["secretName"], "s3-keys");
    assert_eq!(
        keys["secret"]["items"][1],
        serde_json::json!({"key": "AWS_SECRET_ACCESS_KEY", "path": "secret-access-key"})
    );
    assert_eq!(
        value(&pod["containers"][0], "REMOTE"),
        "objectstore:soma-backups/redis"
    );
    let archiver = get(&items, "Deployment", "sharedinfra-postgres-wal-archiver");
    assert_eq!(
        value(
            &archiver["spec"]["template"]["spec"]["containers"][1],
            "UPLOAD_INTERVAL"
        ),
        "15"
    );
}

/// The stack's NetworkPolicies restrict ingress only (STACK.md §3.3): the upload pods reach
/// the endpoint without a new policy, and none is added.
#[test]
fn uploads_need_no_network_policy_of_their_own() {
    let policies = |items: &[Value]| -> Vec<Value> {
        items
            .iter()
            .filter(|o| o["kind"] == "NetworkPolicy")
            .cloned()
            .collect()
    };
    let off = policies(&render("prod", &[]));
    let on = policies(&render("prod", &[ON]));
    assert_eq!(off, on);
    for np in &on {
        assert_eq!(
            np["spec"]["policyTypes"],
            serde_json::json!(["Ingress"]),
            "{}",
            np["metadata"]["name"]
        );
    }
}

#[test]
fn bad_object_storage_values_fail_the_render() {
    for (mode, set, needles) in [
        (
            "dev",
            "backups.objectStorage.enabled=true",
            &[
                "templates/backups/object-storage.yaml",
                "backups.objectStorage.bucket is empty",
            ][..],
        ),
        (
            "staging",
            "backups.objectStorage.enabled=true,backups.objectStorage.bucket=soma-backups,backups.objectStorage.credentials.secretAccessKey=x",
            &[
                "backups.objectStorage.credentials.secretAccessKey is set",
                "Vault",
            ][..],
        ),
        (
            "dev",
            "backups.objectStorage.enabled=true,backups.objectStorage.bucket=soma-backups,backups.objectStorage.credentials.existingSecret=s3-keys,backups.objectStorage.credentials.accessKeyId=x",
            &["existingSecret is set", "s3-keys"][..],
        ),
        ("dev", "backups.objectStorage.bukket=x", &["bukket"][..]),
        (
            "dev",
            "backups.objectStorage.bucket=Not_A_Bucket",
            &["backups.objectStorage.bucket"][..],
        ),
        (
            "dev",
            "backups.objectStorage.walUploadIntervalSeconds=1",
            &["backups.objectStorage.walUploadIntervalSeconds"][..],
        ),
    ] {
        let output = somagen(&repo(), &["render", "--mode", mode, "--set", set]);
        assert_error(&output, needles);
    }
}
