//! The GitOps commands on fixture stacks: lint, check, golden, diff, images and
//! `render --all-modes`, every exit code. The `lint` fixture renders clean in both modes;
//! `--set violations={rule}` adds one object that violates that rule.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{Scratch, assert_error, fixture, repo, somagen, stderr, stdout};
use serde_json::Value;

/// Every rule id, in table order (lint --help lists them too).
const RULES: [&str; 9] = [
    "pod-security",
    "resources",
    "probes",
    "image-tag",
    "network-policy",
    "service-selector",
    "references",
    "pdb",
    "no-plaintext-secret",
];

fn lint_fixture(args: &[&str]) -> Output {
    let stack = fixture("lint");
    let mut all = args.to_vec();
    all.extend(["--stack", stack.to_str().unwrap()]);
    somagen(&repo(), &all)
}

/// The codes of the `level[code]` lines on stderr.
fn codes(output: &Output, level: &str) -> BTreeSet<String> {
    stderr(output)
        .lines()
        .filter_map(|line| line.strip_prefix(&format!("{level}[")))
        .filter_map(|rest| rest.split_once(']').map(|(code, _)| code.to_owned()))
        .collect()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

// ---------------------------------------------------------------------------------------
// lint

#[test]
fn clean_fixture_lints_clean_in_every_mode() {
    // The fixture has what the rules must not flag: a Job and a run-to-completion Pod
    // without probes, an init container without probes, a digest-pinned image on a registry
    // with a port, an ExternalSecret target, a StatefulSet claim referenced by name, an
    // optional Secret reference, a PDB with matchExpressions and a `podSelector: {}` policy.
    for mode in ["dev", "prod"] {
        let output = lint_fixture(&["lint", "--mode", mode]);
        assert_exit(&output, 0);
        assert!(
            output.stdout.is_empty() && output.stderr.is_empty(),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn each_rule_fires_on_its_violation_and_no_other() {
    let expected = [
        (
            "pod-security",
            "Deployment/lint/bad-security: spec.template.spec.containers[0].securityContext.runAsNonRoot",
        ),
        (
            "resources",
            "Deployment/lint/bad-resources: spec.template.spec.containers[0].resources",
        ),
        (
            "probes",
            "Deployment/lint/bad-probes: spec.template.spec.containers[0]: container `main` has no livenessProbe or readinessProbe",
        ),
        (
            "image-tag",
            "Deployment/lint/bad-image: spec.template.spec.containers[0].image: container `main` image `nginx:latest` uses the `latest` tag",
        ),
        (
            "network-policy",
            "Deployment/open/bad-netpol: spec.template.metadata.labels: no NetworkPolicy in namespace `open`",
        ),
        (
            "service-selector",
            "Service/lint/bad-service: spec.selector: selector {app=nothing} matches no pod template",
        ),
        (
            "references",
            "Deployment/lint/bad-refs: spec.template.spec.containers[0].envFrom[0].configMapRef.name: ConfigMap `missing-config`",
        ),
        (
            "pdb",
            "Deployment/lint/bad-pdb: spec.replicas: 3 replicas but no PodDisruptionBudget",
        ),
        (
            "no-plaintext-secret",
            "Secret/lint/plain: plaintext Secret in production mode `prod`",
        ),
    ];
    assert_eq!(
        expected.map(|(rule, _)| rule),
        RULES,
        "every rule has a case"
    );
    for (rule, needle) in expected {
        let output = lint_fixture(&[
            "lint",
            "--mode",
            "prod",
            "--set",
            &format!("violations={{{rule}}}"),
        ]);
        assert_exit(&output, 1);
        assert_eq!(
            codes(&output, "warning"),
            BTreeSet::from([rule.to_owned()]),
            "{}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "warning[{rule}]: templates/violations.yaml: {needle}"
            )),
            "{rule}:\n{err}"
        );
        assert!(err.contains("= hint: "), "{rule} has no hint:\n{err}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn pod_security_checks_every_control() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "dev",
        "--set",
        "violations={pod-security}",
    ]);
    let err = stderr(&output);
    for field in [
        "allowPrivilegeEscalation",
        "capabilities.drop",
        "runAsNonRoot",
        "seccompProfile",
    ] {
        assert!(
            err.contains(&format!(
                "containers[0].securityContext.{field}: container `main`"
            )),
            "{field}:\n{err}"
        );
    }
}

#[test]
fn references_report_every_kind_and_dangling_mounts() {
    let output = lint_fixture(&["lint", "--mode", "dev", "--set", "violations={references}"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    for needle in [
        "PersistentVolumeClaim `missing-claim` is referenced but not rendered",
        "Secret `missing-pull-secret`",
        "ServiceAccount `missing-account`",
        "ConfigMap `missing-config`",
        "volumeMounts[1].name: container `main` mounts volume `nowhere`",
        "soma.sh/external-refs\"]: \"ConfigMap/missing-config\"",
    ] {
        assert!(err.contains(needle), "{needle}:\n{err}");
    }
}

#[test]
fn external_refs_annotation_declares_objects_outside_the_render() {
    let refs = "externalRefs=Secret/missing-pull-secret\\,ConfigMap/missing-config\\,PersistentVolumeClaim/missing-claim\\,ServiceAccount/missing-account";
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "dev",
        "--set",
        "violations={references}",
        "--set-string",
        refs,
    ]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert_eq!(
        err.matches("warning[references]").count(),
        1,
        "only the dangling mount is left:\n{err}"
    );
    assert!(err.contains("mounts volume `nowhere`"), "{err}");
}

#[test]
fn malformed_external_refs_are_errors() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "dev",
        "--set",
        "violations={references}",
        "--set-string",
        "externalRefs=Deployment/x",
    ]);
    assert_error(
        &output,
        &[
            "error[lint]: templates/violations.yaml: Deployment/lint/bad-refs: metadata.annotations[\"soma.sh/external-refs\"]",
            "`Deployment/x`",
        ],
    );
}

#[test]
fn plaintext_secrets_are_fine_outside_production_modes() {
    // dev renders two Secrets (dev-credentials and plain); dev is not a production mode.
    assert_exit(
        &lint_fixture(&[
            "lint",
            "--mode",
            "dev",
            "--set",
            "violations={no-plaintext-secret}",
        ]),
        0,
    );
}

#[test]
fn a_waiver_with_a_reason_waives_and_prints_the_reason() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "prod",
        "--set",
        "violations={pdb}",
        "--set",
        "waiver=pdb -- one zone only",
    ]);
    assert_exit(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains(
            "note[pdb]: templates/violations.yaml: Deployment/lint/bad-pdb: spec.replicas: "
        ),
        "{err}"
    );
    assert!(err.contains("(waived: one zone only)"), "{err}");
}

#[test]
fn a_waiver_covers_its_rule_only() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "prod",
        "--set",
        "violations={pdb,resources}",
        "--set",
        "waiver=pdb -- one zone only; image-tag -- upstream publishes no tags",
    ]);
    assert_exit(&output, 1);
    assert_eq!(
        codes(&output, "warning"),
        BTreeSet::from(["resources".to_owned()])
    );
    assert_eq!(codes(&output, "note"), BTreeSet::from(["pdb".to_owned()]));
}

#[test]
fn a_waiver_without_a_reason_is_an_error() {
    for waiver in ["pdb", "pdb --", "pdb --   "] {
        let output = lint_fixture(&[
            "lint",
            "--mode",
            "prod",
            "--set",
            "violations={pdb}",
            "--set-string",
            &format!("waiver={waiver}"),
        ]);
        assert_error(
            &output,
            &[
                "error[lint]: templates/violations.yaml: Deployment/lint/bad-pdb",
                "waiver of `pdb` has no reason",
            ],
        );
    }
}

#[test]
fn a_waiver_of_an_unknown_rule_is_an_error_with_a_suggestion() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "prod",
        "--set",
        "violations={probes}",
        "--set",
        "waiver=probe -- x",
    ]);
    assert_error(&output, &["unknown rule `probe`", "did you mean `probes`?"]);
}

#[test]
fn json_format_lists_findings_on_stdout() {
    let output = lint_fixture(&[
        "lint",
        "--mode",
        "prod",
        "--format",
        "json",
        "--set",
        "violations={pdb,image-tag}",
        "--set",
        "waiver=pdb -- ok",
    ]);
    assert_exit(&output, 1);
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    let image = findings
        .iter()
        .find(|f| f["rule"] == "image-tag")
        .expect("image-tag finding");
    assert_eq!(image["object"], "Deployment/lint/bad-image");
    assert_eq!(image["field"], "spec.template.spec.containers[0].image");
    assert_eq!(image["location"], "templates/violations.yaml");
    assert!(
        image["hint"]
            .as_str()
            .unwrap()
            .contains("pin a version tag")
    );
    assert_eq!(image["waived"], Value::Null);
    let pdb = findings
        .iter()
        .find(|f| f["rule"] == "pdb" && f["object"] == "Deployment/lint/bad-pdb")
        .expect("pdb finding");
    assert_eq!(pdb["waived"], "ok");

    let clean = lint_fixture(&["lint", "--mode", "prod", "--format", "json"]);
    assert_exit(&clean, 0);
    assert_eq!(stdout(&clean), "[]\n");
}

#[test]
fn lint_reports_unused_values_with_their_origin() {
    let output = lint_fixture(&["lint", "--mode", "dev", "--set", "unusedKnob=typo"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains(
        "warning[unused-value]: --set unusedKnob=typo: unusedKnob: no template reads this value"
    ));
}

#[test]
fn lint_errors_exit_2() {
    assert_error(
        &lint_fixture(&["lint", "--mode", "qa"]),
        &["unknown mode `qa`"],
    );
    assert_error(
        &lint_fixture(&["lint", "--mode", "dev", "--format", "xml"]),
        &["xml"],
    );
}

// ---------------------------------------------------------------------------------------
// golden and check

#[test]
fn check_fails_on_stale_golden_files_and_passes_after_golden() {
    let s = Scratch::of("lint");
    let missing = s.run(&["check"]);
    assert_exit(&missing, 1);
    assert!(
        stdout(&missing).contains("dev   golden/dev.yaml is missing"),
        "{}",
        stdout(&missing)
    );
    assert!(
        stderr(&missing).contains("warning[golden]: golden/dev.yaml: the golden file is missing")
    );

    let created = s.run(&["golden"]);
    assert_exit(&created, 0);
    assert_eq!(
        stdout(&created),
        "created golden/dev.yaml\ncreated golden/prod.yaml\n"
    );
    let rendered = s.run(&["render", "--mode", "prod"]);
    assert_eq!(
        std::fs::read(s.path().join("golden/prod.yaml")).unwrap(),
        rendered.stdout,
        "golden = render bytes"
    );

    let passed = s.run(&["check"]);
    assert_exit(&passed, 0);
    assert_eq!(
        stdout(&passed),
        "dev   ok\nprod  ok\ncheck passed: 2 modes\n"
    );
    assert!(passed.stderr.is_empty());

    s.write("overlays/prod.yaml", "replicas: 4\n");
    let stale = s.run(&["check"]);
    assert_exit(&stale, 1);
    let out = stdout(&stale);
    assert!(
        out.contains("prod  golden/prod.yaml is stale (+1 -1 lines)"),
        "{out}"
    );
    assert!(
        out.contains("--- golden/prod.yaml\n+++ somagen render --mode prod\n@@ "),
        "{out}"
    );
    assert!(out.contains("\n-  replicas: 3\n+  replicas: 4\n"), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour when piped");
    assert!(stderr(&stale).contains("warning[golden]: golden/prod.yaml: the golden file differs"));

    let updated = s.run(&["golden"]);
    assert_eq!(
        stdout(&updated),
        "unchanged golden/dev.yaml\nupdated golden/prod.yaml\n"
    );
    assert_exit(&s.run(&["check"]), 0);
}

#[test]
fn golden_writes_nothing_when_a_mode_fails() {
    let s = Scratch::of("lint");
    assert_exit(&s.run(&["golden"]), 0);
    let before = std::fs::read_to_string(s.path().join("golden/dev.yaml")).unwrap();
    s.write("overlays/dev.yaml", "replicas: 7\n");
    s.write("overlays/prod.yaml", "replicas: 0\n");
    let output = s.run(&["golden"]);
    assert_error(
        &output,
        &["error[schema]: overlays/prod.yaml:1:11", "[mode: prod]"],
    );
    assert_eq!(
        std::fs::read_to_string(s.path().join("golden/dev.yaml")).unwrap(),
        before,
        "dev was not rewritten"
    );
    let leftovers: Vec<_> = std::fs::read_dir(s.path().join("golden"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files: {leftovers:?}");
}

#[test]
fn check_reports_lint_findings_and_unused_values_per_mode() {
    let s = Scratch::of("lint");
    assert_exit(&s.run(&["golden"]), 0);
    s.write(
        "overlays/prod.yaml",
        "replicas: 3\nviolations: [pdb]\nwaiver: \"\"\nunusedKnob: typo\n",
    );
    assert_exit(&s.run(&["golden"]), 0);
    let output = s.run(&["check"]);
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains("prod  2 findings\n"),
        "{}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert!(
        err.contains("warning[pdb]: templates/violations.yaml: Deployment/lint/bad-pdb"),
        "{err}"
    );
    assert!(err.contains("[mode: prod]"), "{err}");
    assert!(
        err.contains("warning[unused-value]: overlays/prod.yaml:4:13: unusedKnob"),
        "{err}"
    );
}

#[test]
fn check_passes_with_waived_findings_and_shows_them() {
    let s = Scratch::of("lint");
    s.write(
        "overlays/prod.yaml",
        "replicas: 3\nviolations: [pdb]\nwaiver: pdb -- single node\n",
    );
    assert_exit(&s.run(&["golden"]), 0);
    let output = s.run(&["check"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("prod  ok, 1 waived"),
        "{}",
        stdout(&output)
    );
    assert!(stderr(&output).contains("note[pdb]"), "{}", stderr(&output));
}

#[test]
fn identical_findings_of_several_modes_are_reported_once() {
    let s = Scratch::of("lint");
    s.write(
        "overlays/base.yaml",
        &std::fs::read_to_string(fixture("lint/overlays/base.yaml"))
            .unwrap()
            .replace("violations: []", "violations: [probes]"),
    );
    assert_exit(&s.run(&["golden"]), 0);
    let output = s.run(&["check"]);
    assert_exit(&output, 1);
    let err = stderr(&output);
    assert_eq!(err.matches("warning[probes]").count(), 1, "{err}");
    assert!(err.contains("[all modes]"), "{err}");
}

#[test]
fn check_errors_exit_2() {
    let s = Scratch::of("lint");
    s.write("overlays/prod.yaml", "violations: [pdb]\nwaiver: pdb\n");
    assert_error(
        &s.run(&["check"]),
        &["waiver of `pdb` has no reason", "[mode: prod]"],
    );
    s.write("overlays/prod.yaml", "replicas: x\n");
    assert_error(
        &s.run(&["check"]),
        &["error[schema]: overlays/prod.yaml", "[mode: prod]"],
    );
}

#[test]
fn golden_files_of_unknown_modes_fail_check_and_golden_removes_them() {
    let s = Scratch::of("lint");
    assert_exit(&s.run(&["golden"]), 0);
    s.write("golden/qa.yaml", "old\n");
    let output = s.run(&["check"]);
    assert_exit(&output, 1);
    assert!(stdout(&output).contains("golden/qa.yaml belongs to no mode"));
    assert!(stderr(&output).contains(
        "warning[golden]: golden/qa.yaml: the golden file of a mode the stack does not have"
    ));
    let golden = s.run(&["golden"]);
    assert!(stdout(&golden).contains("removed golden/qa.yaml"));
    assert!(!s.path().join("golden/qa.yaml").exists());
    assert_exit(&s.run(&["check"]), 0);
}

#[test]
fn check_and_golden_need_a_stack_directory() {
    let empty = tempfile::tempdir().unwrap();
    for command in ["check", "golden"] {
        assert_error(
            &somagen(empty.path(), &[command]),
            &["needs a stack directory", "(embedded)"],
        );
    }
}

// ---------------------------------------------------------------------------------------
// render --all-modes and images

#[test]
fn render_all_modes_writes_one_directory_per_mode() {
    let s = Scratch::of("lint");
    let out = s.path().join("rendered");
    assert_exit(
        &s.run(&[
            "render",
            "--all-modes",
            "--output-dir",
            out.to_str().unwrap(),
        ]),
        0,
    );
    for mode in ["dev", "prod"] {
        let single = s.path().join(format!("single-{mode}"));
        assert_exit(
            &s.run(&[
                "render",
                "--mode",
                mode,
                "--output-dir",
                single.to_str().unwrap(),
            ]),
            0,
        );
        assert_eq!(read_tree(&out.join(mode)), read_tree(&single), "{mode}");
    }
    let modes: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(modes.len(), 2, "{modes:?}");
}

fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn render_all_modes_is_all_or_nothing() {
    let s = Scratch::of("lint");
    let out = s.path().join("rendered");
    s.write("rendered/keep.txt", "previous\n");
    s.write("overlays/prod.yaml", "replicas: -1\n");
    assert_error(
        &s.run(&[
            "render",
            "--all-modes",
            "--output-dir",
            out.to_str().unwrap(),
        ]),
        &["[mode: prod]"],
    );
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "previous\n"
    );
    assert!(!out.join("dev").exists());
}

#[test]
fn render_all_modes_usage_errors() {
    let s = Scratch::of("lint");
    assert_error(&s.run(&["render", "--all-modes"]), &["--output-dir"]);
    assert_error(
        &s.run(&[
            "render",
            "--all-modes",
            "--mode",
            "dev",
            "--output-dir",
            "x",
        ]),
        &["cannot be used with"],
    );
    assert_error(&s.run(&["render"]), &["--mode"]);
}

#[test]
fn images_are_sorted_and_unique() {
    let output = lint_fixture(&["images", "--mode", "dev", "--set", "violations={image-tag}"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        "busybox:1.36\nnginx:1.27\nnginx:latest\npostgres:16.4\nregistry.example.com:5000/team/web@sha256:0123456789abcdef\n"
    );
    assert_error(
        &lint_fixture(&["images", "--mode", "qa"]),
        &["unknown mode `qa`"],
    );
}

// ---------------------------------------------------------------------------------------
// diff

#[test]
fn diff_against_another_mode() {
    let output = lint_fixture(&["diff", "--mode", "prod", "--against-mode", "dev"]);
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(
        out.starts_with(
            "- removed  Secret/lint/dev-credentials\n~ changed  Deployment/lint/good\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("mode dev -> mode prod: 0 added, 1 removed, 1 changed\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "--- Deployment/lint/good (mode dev)\n+++ Deployment/lint/good (mode prod)\n@@"
        ),
        "{out}"
    );
    assert!(out.contains("\n-  replicas: 2\n+  replicas: 3\n"), "{out}");
    assert!(!out.contains('\u{1b}'));
    assert!(stderr(&output).contains("warning[diff]: mode prod differs from mode dev"));

    let stat = lint_fixture(&["diff", "--mode", "prod", "--against-mode", "dev", "--stat"]);
    assert_exit(&stat, 1);
    assert_eq!(
        stdout(&stat),
        "- removed  Secret/lint/dev-credentials\n~ changed  Deployment/lint/good\nmode dev -> mode prod: 0 added, 1 removed, 1 changed\n"
    );

    let added = lint_fixture(&["diff", "--mode", "dev", "--against-mode", "prod", "--stat"]);
    assert!(
        stdout(&added).starts_with("+ added    Secret/lint/dev-credentials\n"),
        "{}",
        stdout(&added)
    );
}

#[test]
fn no_difference_exits_0_silently() {
    let output = lint_fixture(&["diff", "--mode", "prod", "--against-mode", "prod"]);
    assert_exit(&output, 0);
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}

/// Reverse every mapping's keys and the order of items, recursively.
fn scramble(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), scramble(v)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(scramble).collect()),
        other => other.clone(),
    }
}

#[test]
fn ordering_and_formatting_are_not_differences() {
    let s = Scratch::of("lint");
    let json = s.run(&["render", "--mode", "dev", "-o", "json"]);
    let list: Value = serde_json::from_slice(&json.stdout).unwrap();
    let mut items: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(scramble)
        .collect();
    items.reverse();
    // A YAML stream of JSON documents (flow style), in reverse order, keys reversed.
    let stream: String = items
        .iter()
        .map(|item| format!("---\n{}\n", serde_json::to_string(item).unwrap()))
        .collect();
    s.write("scrambled.yaml", &stream);
    s.write("list.json", &String::from_utf8(json.stdout).unwrap());
    for against in ["scrambled.yaml", "list.json"] {
        let output = s.run(&["diff", "--mode", "dev", "--against", against]);
        assert_exit(&output, 0);
        assert!(output.stdout.is_empty(), "{against}: {}", stdout(&output));
    }
    assert_exit(
        &s.run(&["render", "--mode", "dev", "--output-dir", "out"]),
        0,
    );
    assert_exit(&s.run(&["diff", "--mode", "dev", "--against", "out"]), 0);
    assert_exit(&s.run(&["diff", "--mode", "prod", "--against", "out"]), 1);
}

#[test]
fn server_fields_are_not_differences() {
    let s = Scratch::of("lint");
    let json = s.run(&["render", "--mode", "prod", "-o", "json"]);
    let mut list: Value = serde_json::from_slice(&json.stdout).unwrap();
    for item in list["items"].as_array_mut().unwrap() {
        item["status"] = serde_json::json!({"phase": "Active"});
        item["metadata"]["uid"] = "0000".into();
        item["metadata"]["resourceVersion"] = "42".into();
        item["metadata"]["managedFields"] = serde_json::json!([{"manager": "kubectl"}]);
    }
    s.write("cluster.json", &list.to_string());
    assert_exit(
        &s.run(&["diff", "--mode", "prod", "--against", "cluster.json"]),
        0,
    );
}

#[test]
fn diff_reads_manifests_from_stdin() {
    let s = Scratch::of("lint");
    let rendered = s.run(&["render", "--mode", "prod"]);
    let same = piped(
        s.path(),
        &["diff", "--mode", "prod", "--against", "-"],
        &rendered.stdout,
        &[],
    );
    assert_exit(&same, 0);
    let other = piped(
        s.path(),
        &["diff", "--mode", "dev", "--against", "-", "--stat"],
        &rendered.stdout,
        &[],
    );
    assert_exit(&other, 1);
    assert!(
        stdout(&other).contains("stdin -> mode dev"),
        "{}",
        stdout(&other)
    );
}

fn piped(cwd: &Path, args: &[&str], input: &[u8], env: &[(&str, &str)]) -> Output {
    use std::io::Write as _;
    let mut command = Command::new(env!("CARGO_BIN_EXE_somagen"));
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn secret_data_is_redacted_unless_asked() {
    let s = Scratch::of("lint");
    let rendered = stdout(&s.run(&["render", "--mode", "dev"]));
    assert!(rendered.contains("dev-only-hunter2"));
    s.write(
        "old.yaml",
        &rendered.replace("dev-only-hunter2", "previous-password"),
    );
    let output = s.run(&["diff", "--mode", "dev", "--against", "old.yaml"]);
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(
        !out.contains("dev-only-hunter2") && !out.contains("previous-password"),
        "secret leaked:\n{out}"
    );
    assert!(!stderr(&output).contains("hunter2"));
    assert!(out.contains("-  password: \"<redacted sha256:"), "{out}");
    assert!(out.contains("+  password: \"<redacted sha256:"), "{out}");
    assert!(
        out.contains("   username: \"<redacted>\""),
        "unchanged values show no hash:\n{out}"
    );

    let shown = s.run(&[
        "diff",
        "--mode",
        "dev",
        "--against",
        "old.yaml",
        "--show-secrets",
    ]);
    let out = stdout(&shown);
    assert!(
        out.contains("-  password: previous-password\n+  password: dev-only-hunter2"),
        "{out}"
    );
}

#[test]
fn colour_only_when_forced_and_never_with_no_color() {
    let s = Scratch::of("lint");
    let args = ["diff", "--mode", "prod", "--against-mode", "dev"];
    let forced = piped(s.path(), &args, b"", &[("CLICOLOR_FORCE", "1")]);
    assert!(
        stdout(&forced).contains("\u{1b}["),
        "CLICOLOR_FORCE colours:\n{}",
        stdout(&forced)
    );
    let no_color = piped(
        s.path(),
        &args,
        b"",
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!stdout(&no_color).contains('\u{1b}'), "NO_COLOR wins");
    let piped_plain = piped(s.path(), &args, b"", &[]);
    assert!(!stdout(&piped_plain).contains('\u{1b}'), "plain when piped");
}

#[test]
fn bad_manifests_are_errors() {
    let s = Scratch::of("lint");
    assert_error(
        &s.run(&["diff", "--mode", "dev", "--against", "nope.yaml"]),
        &["error[io]: nope.yaml"],
    );
    s.write("broken.yaml", "kind: [\n");
    assert_error(
        &s.run(&["diff", "--mode", "dev", "--against", "broken.yaml"]),
        &["error[yaml]: broken.yaml:"],
    );
    s.write("shape.yaml", "---\nfoo: bar\n");
    assert_error(
        &s.run(&["diff", "--mode", "dev", "--against", "shape.yaml"]),
        &["shape.yaml: document 0: not a Kubernetes object"],
    );
}

#[test]
fn duplicate_objects_in_manifests_are_errors() {
    let s = Scratch::of("lint");
    let doc = "---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: lint}}\n";
    s.write("dir/a.yaml", doc);
    s.write("dir/b.yml", doc);
    assert_error(
        &s.run(&["diff", "--mode", "dev", "--against", "dir"]),
        &["dir/b.yml: ConfigMap/lint/a: duplicate object"],
    );
}

#[test]
fn diff_needs_exactly_one_other_side() {
    let s = Scratch::of("lint");
    assert_error(&s.run(&["diff", "--mode", "dev"]), &["--against"]);
    assert_error(
        &s.run(&[
            "diff",
            "--mode",
            "dev",
            "--against-mode",
            "prod",
            "--against-rev",
            "HEAD",
        ]),
        &["cannot be used with"],
    );
    assert_error(
        &s.run(&["diff", "--mode", "dev", "--against-mode", "qa"]),
        &["unknown mode `qa`"],
    );
}

// ---------------------------------------------------------------------------------------
// diff --against-rev

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=somagen-test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
}

/// A repository with the lint fixture in `deploy/stack/`: commit 1 has no stack, commit 2
/// has it.
fn repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    std::fs::write(repo.path().join("README"), "x\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "empty"]);
    crate::common::copy_tree(&fixture("lint"), &repo.path().join("deploy/stack"));
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "stack"]);
    repo
}

#[test]
fn diff_against_a_git_revision() {
    let repo = repository();
    let stack = repo.path().join("deploy/stack");
    let clean = somagen(&stack, &["diff", "--mode", "prod", "--against-rev", "HEAD"]);
    assert_exit(&clean, 0);

    std::fs::write(stack.join("overlays/prod.yaml"), "replicas: 5\n").unwrap();
    std::fs::write(
        stack.join("templates/extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: lint}\n",
    )
    .unwrap();
    let status_before = git_out(repo.path(), &["status", "--porcelain"]);
    let head_before = git_out(repo.path(), &["rev-parse", "HEAD"]);

    // From a subdirectory of the stack, as a developer would run it.
    let output = somagen(
        &stack.join("templates"),
        &["diff", "--mode", "prod", "--against-rev", "HEAD"],
    );
    assert_exit(&output, 1);
    let out = stdout(&output);
    assert!(
        out.contains("+ added    ConfigMap/lint/extra\n~ changed  Deployment/lint/good\n"),
        "{out}"
    );
    assert!(
        out.contains("revision HEAD -> mode prod: 1 added, 0 removed, 1 changed"),
        "{out}"
    );
    assert!(
        out.contains(
            "--- Deployment/lint/good (revision HEAD)\n+++ Deployment/lint/good (mode prod)"
        ),
        "{out}"
    );
    assert!(out.contains("\n-  replicas: 3\n+  replicas: 5\n"), "{out}");

    assert_eq!(
        git_out(repo.path(), &["status", "--porcelain"]),
        status_before,
        "the working tree is untouched"
    );
    assert_eq!(git_out(repo.path(), &["rev-parse", "HEAD"]), head_before);
    assert_eq!(
        std::fs::read_to_string(stack.join("overlays/prod.yaml")).unwrap(),
        "replicas: 5\n"
    );

    // The stack given by --stack, from outside it.
    let stack_arg = stack.to_str().unwrap();
    assert_exit(
        &somagen(
            repo.path(),
            &[
                "diff",
                "--mode",
                "prod",
                "--against-rev",
                "HEAD",
                "--stack",
                stack_arg,
                "--stat",
            ],
        ),
        1,
    );
}

#[test]
fn against_rev_errors() {
    let repo = repository();
    let stack = repo.path().join("deploy/stack");
    assert_error(
        &somagen(
            &stack,
            &["diff", "--mode", "prod", "--against-rev", "no-such-branch"],
        ),
        &["error[git]: unknown revision `no-such-branch`"],
    );
    assert_error(
        &somagen(
            &stack,
            &["diff", "--mode", "prod", "--against-rev", "HEAD~1"],
        ),
        &["has no stack.yaml in `deploy/stack`"],
    );
    assert_error(
        &somagen(
            &stack,
            &["diff", "--mode", "prod", "--against-rev=--output=x"],
        ),
        &["is not a revision"],
    );

    // A revision whose stack does not render: the error says so.
    std::fs::write(stack.join("overlays/prod.yaml"), "replicas: 0\n").unwrap();
    git(repo.path(), &["commit", "-q", "-am", "broken"]);
    std::fs::write(stack.join("overlays/prod.yaml"), "replicas: 3\n").unwrap();
    assert_error(
        &somagen(&stack, &["diff", "--mode", "prod", "--against-rev", "HEAD"]),
        &["overlays/prod.yaml", "(at revision HEAD)"],
    );

    let plain = Scratch::of("lint");
    assert_error(
        &plain.run(&["diff", "--mode", "prod", "--against-rev", "HEAD"]),
        &["is not inside a git repository"],
    );

    let empty = tempfile::tempdir().unwrap();
    assert_error(
        &somagen(
            empty.path(),
            &["diff", "--mode", "prod", "--against-rev", "HEAD"],
        ),
        &["needs a stack directory"],
    );
}

#[test]
fn against_rev_refuses_symlinks_in_the_revision() {
    let repo = repository();
    let stack = repo.path().join("deploy/stack");
    std::fs::create_dir_all(stack.join("files")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", stack.join("files/passwd")).unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "link"]);
    std::fs::remove_file(stack.join("files/passwd")).unwrap();
    assert_error(
        &somagen(&stack, &["diff", "--mode", "prod", "--against-rev", "HEAD"]),
        &["files/passwd", "symbolic links are not allowed"],
    );
}

// ---------------------------------------------------------------------------------------
// The real stack

#[test]
fn real_stack_lints_clean_in_every_mode() {
    let root = repo();
    let modes = stdout(&somagen(
        &root,
        &["modes", "--stack", root.to_str().unwrap()],
    ));
    assert!(!modes.is_empty());
    let mut failures = String::new();
    for mode in modes.lines() {
        let output = somagen(
            &root,
            &["lint", "--mode", mode, "--stack", root.to_str().unwrap()],
        );
        if output.status.code() != Some(0) || !codes(&output, "warning").is_empty() {
            failures.push_str(&format!(
                "--- mode {mode} (exit {:?})\n{}\n",
                output.status.code(),
                stderr(&output)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the real stack has lint findings:\n{failures}"
    );
}

// ---------------------------------------------------------------------------------------
// Integrations

fn yaml_documents(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    somagen::tools::diff::parse_manifests(rel, &text)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .into_iter()
        .map(|object| object.value)
        .collect()
}

#[test]
fn argocd_plugin_generate_renders_the_mode_of_the_application() {
    let plugin = yaml_documents("deploy/argocd/cmp-plugin.yaml").remove(0);
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["spec"]["discover"]["fileName"], "./stack.yaml");
    let command = &plugin["spec"]["generate"];
    assert_eq!(command["command"], serde_json::json!(["sh", "-c"]));
    let script = command["args"][0].as_str().unwrap();

    // Run the generate script as the repo-server sidecar would: in the source directory,
    // with the Application's env prefixed by ARGOCD_ENV_ and somagen on PATH.
    let s = Scratch::of("lint");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_somagen")).parent().unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", script])
            .current_dir(s.path())
            .env_clear()
            .env("PATH", bin_dir);
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    let generated = run(&[("ARGOCD_ENV_SOMA_MODE", "prod")]);
    assert_exit(&generated, 0);
    assert_eq!(
        generated.stdout,
        s.run(&["render", "--mode", "prod"]).stdout
    );
    let unset = run(&[]);
    assert_ne!(unset.status.code(), Some(0));
    assert!(unset.stdout.is_empty());
    assert!(stderr(&unset).contains("SOMA_MODE"), "{}", stderr(&unset));
}

#[test]
fn argocd_has_one_application_per_mode_and_an_app_of_apps() {
    let plugin = yaml_documents("deploy/argocd/cmp-plugin.yaml").remove(0);
    let plugin_name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    let root = yaml_documents("deploy/argocd/apps/root.yaml").remove(0);
    assert_eq!(root["spec"]["source"]["path"], "deploy/argocd/apps");
    assert_eq!(root["spec"]["source"]["directory"]["exclude"], "root.yaml");
    let modes = stdout(&somagen(
        &repo(),
        &["modes", "--stack", repo().to_str().unwrap()],
    ));
    for mode in modes.lines() {
        let app = yaml_documents(&format!("deploy/argocd/apps/soma-infra-{mode}.yaml")).remove(0);
        assert_eq!(app["kind"], "Application");
        assert_eq!(
            app["spec"]["source"]["plugin"]["name"],
            plugin_name.as_str()
        );
        assert_eq!(
            app["spec"]["source"]["plugin"]["env"],
            serde_json::json!([{"name": "SOMA_MODE", "value": mode}])
        );
        assert_eq!(app["spec"]["destination"]["namespace"], "soma-infra");
    }
}

#[test]
fn pre_commit_hook_runs_somagen_check() {
    let text = std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(text.contains("- id: somagen-check\n"), "{text}");
    assert!(
        text.contains("  entry: somagen check\n  language: system\n  pass_filenames: false\n"),
        "{text}"
    );
    let workflow = std::fs::read_to_string(repo().join("examples/ci/somagen-diff.yml")).unwrap();
    assert!(
        workflow
            .contains("somagen diff --stack \"$STACK\" --mode \"$mode\" --against-rev \"$BASE\"")
    );
    assert!(workflow.contains("fetch-depth: 0"));
}

#[test]
fn lint_help_names_every_rule_and_the_waiver_syntax() {
    let help = stdout(&somagen(&repo(), &["lint", "--help"]));
    for rule in RULES {
        assert!(help.contains(rule), "{rule}:\n{help}");
    }
    assert!(help.contains("soma.sh/waive"), "{help}");
}

#[test]
fn golden_io_errors_exit_2() {
    let s = Scratch::of("lint");
    s.write("golden", "not a directory\n");
    assert_error(
        &s.run(&["check"]),
        &["error[io]: golden/dev.yaml: cannot read the golden file"],
    );
    assert_error(
        &s.run(&["golden"]),
        &["error[io]: golden: cannot write the golden file"],
    );
    assert_eq!(
        std::fs::read_to_string(s.path().join("golden")).unwrap(),
        "not a directory\n"
    );
}

#[test]
fn against_rev_refuses_binary_files_and_needs_git() {
    let repo = repository();
    let stack = repo.path().join("deploy/stack");
    std::fs::create_dir_all(stack.join("files")).unwrap();
    std::fs::write(stack.join("files/blob.bin"), [0xff, 0xfe, 0x00, 0x80]).unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "binary"]);
    std::fs::remove_file(stack.join("files/blob.bin")).unwrap();
    assert_error(
        &somagen(&stack, &["diff", "--mode", "prod", "--against-rev", "HEAD"]),
        &["error[git]: files/blob.bin: file is not UTF-8 text (at revision HEAD)"],
    );

    let no_git = Command::new(env!("CARGO_BIN_EXE_somagen"))
        .args(["diff", "--mode", "prod", "--against-rev", "HEAD"])
        .current_dir(&stack)
        .env_clear()
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_error(&no_git, &["cannot run git"]);
}
