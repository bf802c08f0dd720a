//! The happy paths of `render`, `values` and `modes` on the fixture stack and the real one.

use crate::common::{Scratch, fixture, repo, somagen, stderr, stdout};

fn render_basic(args: &[&str]) -> String {
    let stack = fixture("basic");
    let mut all = vec!["render", "--stack", stack.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = somagen(&repo(), &all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn yaml_stream_is_ordered_and_sourced() {
    let out = render_basic(&["--mode", "dev"]);
    let kinds: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(kinds, ["Namespace", "ConfigMap", "Service", "Deployment"]);
    assert_eq!(out.matches("---\n# Source: templates/").count(), 4);
    assert!(out.contains("# Source: templates/app/config.yaml\napiVersion: v1\nkind: ConfigMap\n"));
}

/// The YAML stream is written object by object as the check goes, pod templates with a
/// placeholder for their checksum; `--output-dir` writes the checked objects at the end.
/// Both must say the same, also for a workload rendered before the ConfigMap it hashes and
/// for one whose values spell out the placeholder's line.
#[test]
fn the_stream_says_what_the_checked_objects_say() {
    let s = Scratch::of("basic");
    s.write(
        "templates/a-first/worker.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: demo
spec:
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: busybox:1.36
          env:
            - name: NOTE
              value: |
                checksum/config: somagen-checksum-pending
          envFrom:
            - configMapRef:
                name: late
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: demo
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: once
          image: busybox:1.36
          envFrom:
            - configMapRef:
                name: late
",
    );
    s.write(
        "templates/z-last/late.yaml",
        "apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  namespace: demo
data:
  key: value
",
    );
    let stream = s.run(&["render", "--mode", "dev"]);
    assert_eq!(stream.status.code(), Some(0), "{}", stderr(&stream));
    let dir = s.path().join("out");
    let files = s.run(&["render", "--mode", "dev", "--output-dir", "out"]);
    assert_eq!(files.status.code(), Some(0), "{}", stderr(&files));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    let joined: String = names
        .iter()
        .map(|path| format!("---\n{}", std::fs::read_to_string(path).unwrap()))
        .collect();
    let stream = stdout(&stream);
    assert_eq!(stream, joined);
    // The value keeps its text; every workload got a digest.
    assert_eq!(stream.matches("somagen-checksum-pending").count(), 1);
    let digests = stream
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("checksum/config: "))
        .filter(|digest| digest.trim_matches('"').len() == 64)
        .count();
    assert_eq!(digests, 3, "{stream}");
}

/// The binary hands freed pages back after 1 ms (`main.rs`): the option is set by its
/// number, which this holds to mimalloc's own name for it.
#[cfg(target_os = "linux")]
#[test]
fn the_allocator_purges_freed_pages_after_1_ms() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_somagen"))
        .arg("--version")
        .env("MIMALLOC_VERBOSE", "1")
        .output()
        .expect("somagen runs");
    let verbose = String::from_utf8_lossy(&output.stderr);
    assert!(
        verbose.contains("option 'purge_delay': 1\n")
            || verbose.contains("option 'purge_delay': 1 "),
        "{verbose}"
    );
}

#[test]
fn multi_line_strings_are_literal_blocks() {
    let out = render_basic(&["--mode", "dev"]);
    assert!(
        out.contains("  nginx.conf: |\n    server {\n      listen 8080;\n    }\n"),
        "{out}"
    );
}

#[test]
fn pod_templates_carry_the_config_checksum_and_it_follows_the_config() {
    let checksum = |out: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix("checksum/config: "))
            .map(str::to_owned)
            .expect("checksum")
    };
    let dev = render_basic(&["--mode", "dev"]);
    let changed = render_basic(&["--mode", "dev", "--set", "app.greeting=bonjour"]);
    assert_eq!(checksum(&dev).trim_matches('"').len(), 64);
    assert_ne!(checksum(&dev), checksum(&changed));
}

#[test]
fn merge_order_is_base_overlay_files_then_flags() {
    let s = Scratch::of("basic");
    s.write("extra.yaml", "app:\n  replicas: 4\n  greeting: from file\n");
    let output = s.run(&[
        "values",
        "--mode",
        "prod",
        "-f",
        "extra.yaml",
        "--set",
        "app.replicas=5",
        "-o",
        "json",
    ]);
    let values: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(values["app"]["replicas"], 5);
    assert_eq!(values["app"]["greeting"], "from file");
    assert_eq!(values["app"]["image"]["tag"], "1.27");
}

#[test]
fn set_flags_apply_in_command_line_order_across_kinds() {
    let s = Scratch::of("basic");
    let args = [
        "values",
        "--mode",
        "dev",
        "--set-string",
        "app.greeting=first",
        "--set",
        "app.greeting=second",
        "-o",
        "json",
    ];
    let values: serde_json::Value = serde_json::from_slice(&s.run(&args).stdout).unwrap();
    assert_eq!(values["app"]["greeting"], "second");
    let args = [
        "values",
        "--mode",
        "dev",
        "--set",
        "app.greeting=first",
        "--set-string",
        "app.greeting=second",
        "-o",
        "json",
    ];
    let values: serde_json::Value = serde_json::from_slice(&s.run(&args).stdout).unwrap();
    assert_eq!(values["app"]["greeting"], "second");
}

#[test]
fn set_file_reads_a_file_into_a_string() {
    let s = Scratch::of("basic");
    s.write("greeting.txt", "line one\nline two\n");
    let output = s.run(&[
        "render",
        "--mode",
        "dev",
        "--set-file",
        "app.greeting=greeting.txt",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("  greeting: |\n    line one\n    line two\n"));
}

#[test]
fn json_output_is_one_v1_list() {
    let out = render_basic(&["--mode", "prod", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    assert_eq!(list["items"][3]["spec"]["replicas"], 3);
}

#[test]
fn output_dir_holds_one_file_per_object_in_install_order() {
    let s = Scratch::of("basic");
    s.write("out/007-configmap-demo-old.yaml", "a previous output\n");
    let output = s.run(&["render", "--mode", "dev", "--output-dir", "out"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
    let mut names: Vec<String> = std::fs::read_dir(s.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "000-namespace-demo.yaml",
            "001-configmap-demo-demo-config.yaml",
            "002-service-demo-demo.yaml",
            "003-deployment-demo-demo.yaml"
        ]
    );
    let leftovers: Vec<_> = std::fs::read_dir(s.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("somagen"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary directories left behind: {leftovers:?}"
    );
}

#[test]
fn output_dir_never_replaces_a_directory_somagen_did_not_write() {
    let s = Scratch::of("basic");
    s.write("docs/notes.md", "precious\n");
    let output = s.run(&["render", "--mode", "dev", "--output-dir", "docs"]);
    crate::common::assert_error(
        &output,
        &["refusing to replace the output directory", "notes.md"],
    );
    assert_eq!(
        std::fs::read_to_string(s.path().join("docs/notes.md")).unwrap(),
        "precious\n"
    );
    // The stack itself is the classic mistake: `--output-dir .`
    crate::common::assert_error(
        &s.run(&["render", "--mode", "dev", "--output-dir", "."]),
        &["refusing"],
    );
    assert!(s.path().join("stack.yaml").is_file());
}

#[test]
fn a_failed_render_leaves_the_output_dir_untouched() {
    let s = Scratch::of("basic");
    s.write("out/keep.yaml", "precious\n");
    let output = s.run(&[
        "render",
        "--mode",
        "dev",
        "--set",
        "app.replicas=0",
        "--output-dir",
        "out",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(s.path().join("out/keep.yaml")).unwrap(),
        "precious\n"
    );
}

#[test]
fn show_origin_names_file_line_or_flag_for_every_leaf() {
    let s = Scratch::of("basic");
    let output = s.run(&[
        "values",
        "--mode",
        "prod",
        "--show-origin",
        "--set",
        "app.greeting=hi",
    ]);
    let out = stdout(&output);
    assert!(out.contains("app.replicas = 3"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("app.replicas = 3") && l.ends_with("# overlays/prod.yaml:2:13")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("app.greeting = \"hi\"")
                && l.ends_with("# --set app.greeting=hi")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("app.image.tag = \"1.27\"")
                && l.ends_with("# overlays/base.yaml:5:10")),
        "{out}"
    );
}

#[test]
fn modes_are_listed_in_order() {
    assert_eq!(
        stdout(&somagen(&fixture("basic"), &["modes"])),
        "dev\nprod\n"
    );
}

#[test]
fn the_stack_is_found_in_an_ancestor_directory() {
    let output = somagen(&fixture("basic").join("templates/app"), &["modes"]);
    assert_eq!(stdout(&output), "dev\nprod\n");
}

#[test]
fn the_embedded_stack_is_used_outside_any_stack() {
    let outside = tempfile::tempdir().unwrap();
    let output = somagen(outside.path(), &["modes"]);
    assert_eq!(stdout(&output), "dev\ntest\nstaging\nprod-lite\nprod\n");
    let output = somagen(outside.path(), &["render", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("name: soma-infra"));
}

#[test]
fn rendering_is_deterministic_across_directories_and_environments() {
    let here = somagen(&repo(), &["render", "--mode", "prod"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = repo();
    let there = std::process::Command::new(env!("CARGO_BIN_EXE_somagen"))
        .args([
            "render",
            "--mode",
            "prod",
            "--stack",
            stack.to_str().unwrap(),
        ])
        .current_dir(elsewhere.path())
        .env("TZ", "Pacific/Kiritimati")
        .env("LANG", "tr_TR.UTF-8")
        .env("HOME", elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(here.status.code(), Some(0), "{}", stderr(&here));
    assert!(!here.stdout.is_empty());
    assert_eq!(here.stdout, there.stdout);
}

#[test]
fn completions_are_generated() {
    let output = somagen(&repo(), &["completions", "bash"]);
    assert!(stdout(&output).contains("somagen"));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn help_teaches_with_examples() {
    let output = somagen(&repo(), &["render", "--help"]);
    let out = stdout(&output);
    assert!(
        out.contains("Examples:") && out.contains("--set-json"),
        "{out}"
    );
}

/// Large honest values files render: only aliases are bounded by a node count, so a base
/// overlay of 10,000 components (about 130,000 nodes, no alias) reads in full.
#[test]
fn a_ten_thousand_component_values_file_renders() {
    let s = Scratch::of("basic");
    let mut base = String::from("components:\n");
    for i in 0..10_000 {
        base.push_str(&format!(
            "  c{i}:\n    enabled: true\n    replicas: 2\n    image: {{repository: app, tag: \"1.{i}\"}}\n    env: {{A: \"1\", B: \"yes\", C: \"0755\"}}\n    ports: [80, 443]\n"
        ));
    }
    s.write("overlays/base.yaml", &base)
        .write("overlays/dev.yaml", "")
        .write("overlays/prod.yaml", "")
        .write(
            "schema/values.schema.json",
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}"#,
        );
    for entry in std::fs::read_dir(s.path().join("templates/app")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    s.write(
        "templates/namespace.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: count\ndata:\n  components: \"{{ values.components | length }}\"\n  last: \"{{ values.components.c9999.image.tag }}\"\n",
    );
    let output = s.run(&["render", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("components: \"10000\""), "{out}");
    assert!(out.contains("last: \"1.9999\""), "{out}");
}

/// RBAC names are path segments (`system:kube-scheduler` is valid), and identity includes
/// the API group: an `apps` Deployment and an `example.com` Deployment of the same name
/// are two objects.
#[test]
fn rbac_colon_names_and_same_names_in_other_groups_render() {
    let s = Scratch::of("basic");
    s.write(
        "templates/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: custom:aggregate-to-edit:endpoints\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: system:kube-scheduler\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kube-scheduler}\nsubjects: [{kind: User, name: system:kube-scheduler, apiGroup: rbac.authorization.k8s.io}]\n",
    )
    .write(
        "templates/custom.yaml",
        "apiVersion: example.com/v1\nkind: Deployment\nmetadata:\n  name: demo\n  namespace: demo\nspec: {}\n",
    )
    .write("schema/crds/deployment.json", r#"{"type": "object"}"#);
    let output = s.run(&["render", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("name: custom:aggregate-to-edit:endpoints"),
        "{out}"
    );
    assert!(out.contains("name: system:kube-scheduler"), "{out}");
    assert!(out.contains("apiVersion: example.com/v1"), "{out}");
    // The custom resource sorts after every built-in kind.
    let apps = out
        .find("apiVersion: apps/v1")
        .expect("the apps Deployment");
    let custom = out
        .find("apiVersion: example.com/v1")
        .expect("the custom one");
    assert!(apps < custom, "{out}");
}

/// Helm's null rule: `null` deletes a key the defaults set, and is kept for a key they
/// lack, so a template sees `none` instead of an undefined value.
#[test]
fn a_null_for_a_key_without_default_reaches_templates_as_none() {
    let s = Scratch::of("basic");
    s.write(
        "schema/values.schema.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}"#,
    )
    .write(
        "templates/probe.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n  namespace: demo\ndata:\n  extra: \"{{ values.extra is none }}\"\n  greeting: \"{{ values.app.greeting is defined }}\"\n",
    );
    let output = s.run(&[
        "render",
        "--mode",
        "dev",
        "--set",
        "extra=null",
        "--set",
        "app.greeting=null",
    ]);
    let out = stdout(&output);
    assert!(out.contains("extra: \"True\""), "{}{out}", stderr(&output));
    assert!(out.contains("greeting: \"False\""), "{out}");
}

/// JSON is YAML: surrogate-pair escapes (what `json.dump` and `jq -a` write) read as the
/// character, in `-f` files, overlays and `--set-json`.
#[test]
fn json_surrogate_pairs_in_files_overlays_and_set_json() {
    let s = Scratch::of("basic");
    s.write(
        "values.json",
        "{\"app\": {\"greeting\": \"\\ud83d\\ude80\"}}\n",
    );
    let output = s.run(&["values", "--mode", "dev", "-f", "values.json"]);
    assert!(
        stdout(&output).contains("greeting: \"🚀\""),
        "{}",
        stderr(&output)
    );
    s.write(
        "overlays/dev.yaml",
        "app: {\"greeting\": \"\\uD83D\\uDE00\"}\n",
    );
    let output = s.run(&["values", "--mode", "dev"]);
    assert!(
        stdout(&output).contains("greeting: \"😀\""),
        "{}",
        stderr(&output)
    );
    let output = s.run(&[
        "values",
        "--mode",
        "dev",
        "--set-json",
        "app.greeting=\"\\ud83c\\udf89\"",
    ]);
    assert!(
        stdout(&output).contains("greeting: \"🎉\""),
        "{}",
        stderr(&output)
    );
}

const WIDGET_CRDS: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {color: {type: string}}}}}}}
";

/// Custom resources validate against CRD manifests in schema/crds/ (several per file) and
/// against CRDs the stack renders itself.
#[test]
fn custom_resources_validate_against_crd_manifests() {
    let s = Scratch::of("basic");
    s.write("schema/crds/example.yaml", WIDGET_CRDS)
        .write(
            "templates/custom.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: demo}\nspec: {size: 3}\n---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g, namespace: demo}\nspec: {color: red}\n---\napiVersion: example.com/v1\nkind: Doohickey\nmetadata: {name: d, namespace: demo}\nspec: {level: 2}\n",
        )
        .write(
            "templates/crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: doohickeys.example.com}\nspec:\n  group: example.com\n  names: {kind: Doohickey, plural: doohickeys}\n  scope: Namespaced\n  versions:\n  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {level: {type: integer}}}}}}}\n",
        );
    let output = s.run(&["render", "--mode", "dev"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    // The CRD installs before the resources it defines.
    let crd = out.find("kind: CustomResourceDefinition").expect("the CRD");
    let doohickey = out.find("kind: Doohickey").expect("the resource");
    assert!(crd < doohickey, "{out}");
}

/// `--message-format json`: every diagnostic of every command is one JSON object per line
/// on stderr, in one shape.
#[test]
fn diagnostics_as_json_lines() {
    let s = Scratch::of("basic");
    let output = s.run(&[
        "render",
        "--mode",
        "dev",
        "--set",
        "app.replicas=0",
        "--message-format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let line: serde_json::Value =
        serde_json::from_str(stderr(&output).trim()).expect("one JSON line");
    assert_eq!(line["severity"], "error");
    assert_eq!(line["code"], "schema");
    assert_eq!(line["location"]["flag"], "--set app.replicas=0");
    assert_eq!(line["path"], "app.replicas");
    s.write("overlays/dev.yaml", "app:\n  replcas: 2\n");
    let output = s.run(&["values", "--mode", "dev", "--message-format", "json"]);
    let line: serde_json::Value =
        serde_json::from_str(stderr(&output).lines().next().unwrap()).unwrap();
    assert_eq!(line["location"]["file"], "overlays/dev.yaml");
    assert_eq!(line["location"]["line"], 2);
    assert!(
        line["hint"].as_str().unwrap().contains("replicas"),
        "{line}"
    );
}

/// A list whose schema declares `x-somagen-merge-key` merges item by item across overlays
/// (`$patch: delete` removes one); `--set list[1].x=y` patches the lower list.
#[test]
fn lists_merge_by_key_and_set_patches_by_index() {
    let s = Scratch::of("basic");
    s.write(
        "schema/values.schema.json",
        r##"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"sidecars": {"type": "array", "x-somagen-merge-key": "name",
                "items": {"$ref": "#/$defs/sidecar"}}},
            "$defs": {"sidecar": {"type": "object", "additionalProperties": false,
                "properties": {"name": {"type": "string"}, "image": {"type": "string"}, "port": {"type": "integer"}}}}}"##,
    )
    .write(
        "overlays/base.yaml",
        "app: {replicas: 1, image: {repository: demo, tag: \"1\"}, enabled: true, greeting: hi}\nsidecars:\n  - {name: log, image: log:1, port: 1}\n  - {name: proxy, image: proxy:1}\n",
    )
    .write(
        "overlays/dev.yaml",
        "sidecars:\n  - {name: log, image: log:2}\n  - {name: proxy, $patch: delete}\n  - {name: trace, image: trace:1}\n",
    );
    let output = s.run(&[
        "values",
        "--mode",
        "dev",
        "-o",
        "json",
        "--set",
        "sidecars[1].port=9",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let values: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        values["sidecars"],
        serde_json::json!([
            {"name": "log", "image": "log:2", "port": 1},
            {"name": "trace", "image": "trace:1", "port": 9}
        ])
    );
}
