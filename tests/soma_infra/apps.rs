//! Application wire-up (`apps:` in values, templates/apps/): what one entry renders per mode,
//! the defaults, the strict schema, the Job names that follow their pod templates, pgpool's
//! users and OPA's s2s_allow. The Jobs' scripts themselves run against the real PostgreSQL,
//! Kafka and Vault in `.ci/validate-apps.sh`.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{repo, somagen, stderr, stdout};

fn render(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["render", "-o", "json"];
    all.extend_from_slice(args);
    let output = somagen(&repo(), &all);
    assert_eq!(
        output.status.code(),
        Some(0),
        "somagen {all:?}: {}",
        stderr(&output)
    );
    let list: Value = serde_json::from_str(&stdout(&output)).expect("json");
    list["items"].as_array().expect("items").clone()
}

fn find<'a>(items: &'a [Value], kind: &str, namespace: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["name"] == name
                && o["metadata"]["namespace"].as_str().unwrap_or("") == namespace
        })
        .unwrap_or_else(|| panic!("{kind} {namespace}/{name} is not rendered"))
}

fn jobs<'a>(items: &'a [Value], app: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|o| o["kind"] == "Job" && o["metadata"]["labels"]["soma.sh/app"] == app)
        .collect()
}

fn job<'a>(items: &'a [Value], app: &str, step: &str) -> &'a Value {
    let found: Vec<&Value> = jobs(items, app)
        .into_iter()
        .filter(|o| o["metadata"]["labels"]["soma.sh/wire-up"] == step)
        .collect();
    assert_eq!(found.len(), 1, "one {step} Job of {app}");
    found[0]
}

fn script(job: &Value) -> String {
    job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .expect("[shell, -ec, script]")
        .to_owned()
}

fn decoded(secret: &Value, key: &str) -> String {
    let raw = secret["data"][key].as_str().expect("key");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .expect("base64"),
    )
    .expect("utf-8")
}

#[test]
fn sa01_is_wired_up_in_dev_and_test_only() {
    for mode in ["dev", "test"] {
        let items = render(&["--mode", mode]);
        let ns = find(&items, "Namespace", "", "sa01");
        assert_eq!(
            ns["metadata"]["labels"]["soma.sh/allow-shared-infra"],
            "true"
        );
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );
        find(&items, "ServiceAccount", "sa01", "sa01-sa");
        let settings = &find(&items, "ConfigMap", "sa01", "sa01-settings")["data"];
        assert_eq!(
            settings["POSTGRES_HOST"],
            "sharedinfra-postgres-pgpool.soma-infra.svc.cluster.local"
        );
        assert_eq!(settings["POSTGRES_DB"], "sa01");
        assert_eq!(settings["POSTGRES_USER"], "sa01");
        assert_eq!(settings["VAULT_ROLE"], "sa01");
        assert_eq!(settings["KAFKA_TOPICS"], "sa01.events");
        for key in [
            "REDIS_URL",
            "KAFKA_BOOTSTRAP_SERVERS",
            "OPA_URL",
            "VAULT_ADDR",
        ] {
            assert!(
                settings[key].as_str().is_some_and(|v| !v.is_empty()),
                "{mode}: {key}"
            );
        }
        let runtime = find(&items, "Secret", "sa01", "sa01-runtime");
        let password = decoded(runtime, "POSTGRES_PASSWORD");
        assert_eq!(password, format!("dev-only-{mode}-sa01"));
        assert_eq!(
            decoded(runtime, "POSTGRES_DSN"),
            format!(
                "postgresql://sa01:{password}@sharedinfra-postgres-pgpool.soma-infra.svc.cluster.local:5432/sa01"
            )
        );
        let redis = find(&items, "Secret", "soma-infra", "sharedinfra-redis");
        assert_eq!(
            decoded(runtime, "REDIS_PASSWORD"),
            decoded(redis, "redis-password")
        );
        // The database Job's Secret and pgpool's user list carry the same password.
        let app = find(&items, "Secret", "soma-infra", "sharedinfra-app-sa01");
        assert_eq!(decoded(app, "postgres-password"), password);
        let pgpool = find(&items, "Secret", "soma-infra", "sharedinfra-pgpool");
        let users: Vec<String> = decoded(pgpool, "usernames")
            .lines()
            .map(str::to_owned)
            .collect();
        let passwords: Vec<String> = decoded(pgpool, "passwords")
            .lines()
            .map(str::to_owned)
            .collect();
        let at = users
            .iter()
            .position(|u| u == "sa01")
            .expect("pgpool admits sa01");
        assert_eq!(passwords[at], password);
        // The pods admit exactly the Secret's users.
        assert_eq!(pgpool_users(&items), decoded(pgpool, "usernames"));
        // Three Jobs in soma-infra, admitted by the client NetworkPolicies.
        let all = jobs(&items, "sa01");
        assert_eq!(all.len(), 3, "{mode}: db, topics and vault Jobs");
        for j in all {
            assert_eq!(j["metadata"]["namespace"], "soma-infra");
            assert_eq!(
                j["spec"]["template"]["metadata"]["labels"]["soma.sh/infra-admin"],
                "true"
            );
        }
        let topics = script(job(&items, "sa01", "topics"));
        assert!(
            topics.contains("ensure sa01.events 6 1 259200000"),
            "{topics}"
        );
        let vault = script(job(&items, "sa01", "vault"));
        assert!(
            vault.contains(
                "bound_service_account_names=sa01-sa bound_service_account_namespaces=sa01"
            )
        );
        assert!(vault.contains("policies=app-sa01 ttl=24h"));
        assert!(vault.contains(&format!(
            "path \"secret/data/sharedinfra/{mode}/apps/sa01\""
        )));
    }
    for mode in ["staging", "prod-lite", "prod"] {
        let items = render(&["--mode", mode]);
        assert!(jobs(&items, "sa01").is_empty(), "{mode} wires up no app");
        assert!(
            !items.iter().any(|o| o["metadata"]["namespace"] == "sa01"),
            "{mode}"
        );
    }
}

#[test]
fn from_staging_on_credentials_come_from_vault_and_topics_replicate_three_times() {
    let items = render(&["--mode", "staging", "--set", "apps.sa01.enabled=true"]);
    let runtime = find(&items, "ExternalSecret", "sa01", "sa01-runtime");
    assert_eq!(
        runtime["spec"]["data"],
        json!([
            {"secretKey": "POSTGRES_PASSWORD", "remoteRef": {"key": "sharedinfra/staging/apps/sa01", "property": "postgres-password"}},
            {"secretKey": "REDIS_PASSWORD", "remoteRef": {"key": "sharedinfra/staging/redis", "property": "redis-password"}}
        ])
    );
    assert!(
        runtime["spec"]["target"]["template"]["data"]["POSTGRES_DSN"]
            .as_str()
            .is_some_and(
                |dsn| dsn.contains("{{ .POSTGRES_PASSWORD }}") && dsn.ends_with("?sslmode=require")
            )
    );
    find(
        &items,
        "ExternalSecret",
        "soma-infra",
        "sharedinfra-app-sa01",
    );
    find(
        &items,
        "ExternalSecret",
        "soma-infra",
        "sharedinfra-vault-provisioner",
    );
    assert!(script(job(&items, "sa01", "topics")).contains("ensure sa01.events 6 3 259200000"));
    let vault = job(&items, "sa01", "vault");
    assert!(
        !script(vault).contains("auth enable"),
        "Kubernetes auth is bootstrapped once, not by the Job"
    );
    let env = &vault["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .expect("env")
            .iter()
            .any(|e| e["name"] == "VAULT_ADDR"
                && e["value"] == "https://sharedinfra-vault.soma-infra.svc.cluster.local:8200")
    );
    assert_eq!(
        find(&items, "ConfigMap", "sa01", "sa01-settings")["data"]["VAULT_CACERT"],
        "/etc/soma-infra/ca/ca.crt"
    );
    // A credential in values is refused from staging on.
    let output = somagen(
        &repo(),
        &[
            "render",
            "--mode",
            "staging",
            "--set",
            "apps.sa01.enabled=true",
            "--set",
            "apps.sa01.auth.postgresPassword=x",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("apps.sa01.auth.postgresPassword is set"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_existing_namespace_is_not_rendered_and_defaults_follow_the_entry() {
    let items = render(&[
        "--mode",
        "dev",
        "--set",
        "apps.sa02.enabled=true,apps.sa02.namespace.create=false,apps.sa02.database.name=orders,apps.sa02.vault.ttl=1h",
    ]);
    assert!(
        !items
            .iter()
            .any(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == "sa02")
    );
    find(&items, "ServiceAccount", "sa02", "sa02-sa");
    let settings = &find(&items, "ConfigMap", "sa02", "sa02-settings")["data"];
    assert_eq!(settings["POSTGRES_DB"], "orders");
    assert_eq!(settings["POSTGRES_USER"], "sa02");
    assert!(script(job(&items, "sa02", "vault")).contains("policies=app-sa02 ttl=1h"));
    assert!(script(job(&items, "sa02", "topics")).contains("ensure sa02.events 6 1 259200000"));
}

#[test]
fn the_schema_refuses_unknown_keys_and_bad_names() {
    for (set, needle) in [
        ("apps.sa01.databse.name=x", "databse"),
        ("apps.Bad_Name.enabled=true", "Bad_Name"),
        ("apps.soma-infra.enabled=true", "soma-infra"),
    ] {
        let output = somagen(&repo(), &["render", "--mode", "dev", "--set", set]);
        assert_eq!(output.status.code(), Some(2), "{set}");
        assert!(
            stderr(&output).contains(needle),
            "{set}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "");
    }
}

/// A Job's pod template is immutable: whatever changes it (its checksum/config included)
/// changes its name, and the same name always means the same template.
#[test]
fn job_names_follow_their_pod_templates() {
    let variants = [
        vec!["--mode", "dev"],
        vec![
            "--mode",
            "dev",
            "--set",
            "postgres.auth.adminPassword=dev-only-other",
        ],
        vec![
            "--mode",
            "dev",
            "--set",
            "apps.sa01.topics[0].name=events,apps.sa01.topics[0].partitions=8",
        ],
        vec![
            "--mode",
            "dev",
            "--set",
            "vault.auth.devRootToken=dev-only-other",
        ],
        vec!["--mode", "test"],
    ];
    let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
    let mut names = std::collections::BTreeSet::new();
    for args in &variants {
        let items = render(args);
        for j in jobs(&items, "sa01") {
            let name = j["metadata"]["name"].as_str().expect("name").to_owned();
            let template = j["spec"]["template"].clone();
            if let Some(before) = seen.insert(name.clone(), template.clone()) {
                assert_eq!(before, template, "{name} names two different pod templates");
            }
            names.insert(name);
        }
    }
    // dev: 3; admin password: new db; partitions: new topics; root token: new vault; test: new
    // db and vault Jobs (other credentials), and dev's topics Job (same pod template).
    assert_eq!(names.len(), 8, "{names:?}");
}

#[test]
fn s2s_allow_comes_from_the_entries() {
    let data = |items: &[Value]| -> Value {
        let cm = find(items, "ConfigMap", "soma-infra", "sharedinfra-opa-policy");
        serde_json::from_str(cm["data"]["data.json"].as_str().expect("data.json")).expect("JSON")
    };
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("files/opa/data.json")).expect("data.json"),
    )
    .expect("JSON");
    // sa01's entry equals the spec's: dev ships the file as is.
    assert_eq!(data(&render(&["--mode", "dev"])), file);
    let items = render(&[
        "--mode",
        "dev",
        "--set",
        "apps.sa01.s2sAllow={memory:read},apps.sa02.enabled=true,apps.sa02.s2sAllow={agent:invoke}",
    ]);
    let mut want = file.clone();
    let allow = &mut want["sharedinfra"]["authz"]["s2s_allow"];
    allow["sa01"] = json!(["memory:read"]);
    allow["sa02"] = json!(["agent:invoke"]);
    assert_eq!(data(&items), want);
}

/// The pgpool pods' list of the users they admit (SHAREDINFRA_PGPOOL_USERS).
fn pgpool_users(items: &[Value]) -> String {
    let deployment = find(
        items,
        "Deployment",
        "soma-infra",
        "sharedinfra-postgres-pgpool",
    );
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "SHAREDINFRA_PGPOOL_USERS")
        .and_then(|e| e["value"].as_str())
        .expect("SHAREDINFRA_PGPOOL_USERS")
        .to_owned()
}

#[test]
fn from_staging_on_pgpool_admits_a_wired_up_app_from_its_own_vault_key() {
    let items = render(&["--mode", "staging", "--set", "apps.sa01.enabled=true"]);
    let es = find(&items, "ExternalSecret", "soma-infra", "sharedinfra-pgpool");
    let template = &es["spec"]["target"]["template"];
    assert_eq!(template["engineVersion"], "v2");
    assert_eq!(template["data"]["usernames"], "soma\nadmin\nsa01");
    assert_eq!(
        template["data"]["passwords"],
        "{{ .password_0 }}\n{{ .password_1 }}\n{{ .password_2 }}"
    );
    let sources: Vec<(String, String, String)> = es["spec"]["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| {
            let text = |v: &Value| v.as_str().expect("string").to_owned();
            (
                text(&d["secretKey"]),
                text(&d["remoteRef"]["key"]),
                text(&d["remoteRef"]["property"]),
            )
        })
        .collect();
    let source = |key: &str, path: &str, property: &str| {
        (key.to_owned(), path.to_owned(), property.to_owned())
    };
    assert_eq!(
        sources,
        [
            source(
                "admin_password",
                "sharedinfra/staging/pgpool",
                "admin-password"
            ),
            source("password_0", "sharedinfra/staging/postgres", "password"),
            source(
                "password_1",
                "sharedinfra/staging/postgres-admin",
                "password"
            ),
            // The very key sa01-runtime and the database Job read.
            source(
                "password_2",
                "sharedinfra/staging/apps/sa01",
                "postgres-password"
            ),
        ]
    );
    // The pods wait for that list; without the app, both lose it.
    assert_eq!(pgpool_users(&items), "soma\nadmin\nsa01");
    let without = render(&["--mode", "staging"]);
    assert_eq!(pgpool_users(&without), "soma\nadmin");
    let es = find(
        &without,
        "ExternalSecret",
        "soma-infra",
        "sharedinfra-pgpool",
    );
    assert_eq!(
        es["spec"]["target"]["template"]["data"]["usernames"],
        "soma\nadmin"
    );
}
