//! Every kind of bad input: exit 2, one clear diagnostic with a location, empty stdout.

use crate::common::{Scratch, assert_error, somagen};

#[test]
fn unknown_mode_lists_the_valid_ones() {
    let s = Scratch::of("basic");
    assert_error(
        &s.run(&["render", "--mode", "prd"]),
        &["unknown mode `prd`", "did you mean `prod`?", "dev, prod"],
    );
}

#[test]
fn no_stack_found() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    assert_error(
        &somagen(empty.path(), &["render", "--mode", "dev", "--stack", dir]),
        &["no stack found", "stack.yaml"],
    );
}

#[test]
fn missing_overlay() {
    let s = Scratch::of("basic");
    s.remove("overlays/prod.yaml");
    assert_error(
        &s.run(&["render", "--mode", "prod"]),
        &["overlays/prod.yaml", "missing overlay"],
    );
}

#[test]
fn missing_schema() {
    let s = Scratch::of("basic");
    s.remove("schema/values.schema.json");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["schema/values.schema.json", "missing values schema"],
    );
}

#[test]
fn broken_schema_is_an_error_not_a_pass() {
    let s = Scratch::of("basic");
    s.write("schema/values.schema.json", r#"{"type": "objekt"}"#);
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[schema]: schema/values.schema.json", "draft 2020-12"],
    );
}

#[test]
fn a_broken_schema_names_the_place_of_its_mistake() {
    let s = Scratch::of("basic");
    s.write(
        "schema/values.schema.json",
        r#"{"type": "object", "properties": {"app": {"type": "object", "minProperties": "two"}}}"#,
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            r#"error[schema]: schema/values.schema.json: /properties/app/minProperties: not a valid draft 2020-12 schema: "two" is not of type "integer""#,
        ],
    );
}

#[test]
fn a_broken_id_is_named_as_any_other_mistake() {
    let s = Scratch::of("basic");
    s.write(
        "schema/values.schema.json",
        r##"{"$id": "https://example.com/values.json#part", "type": "object", "properties": {"app": {"$ref": "#/$defs/app"}}, "$defs": {"app": {"type": "object"}}}"##,
    );
    let out = s.run(&["render", "--mode", "dev"]);
    assert_error(
        &out,
        &[
            r#"error[schema]: schema/values.schema.json: /$id: not a valid draft 2020-12 schema: "https://example.com/values.json#part" does not match"#,
        ],
    );
}

#[test]
fn a_pattern_that_is_no_regular_expression_is_an_error() {
    let s = Scratch::of("basic");
    s.write(
        "schema/values.schema.json",
        r#"{"type": "object", "properties": {"app": {"type": "object", "properties": {"greeting": {"type": "string", "pattern": "^[a-z"}}}}}"#,
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[schema]: schema/values.schema.json", "^[a-z"],
    );
}

/// A schema whose `greeting` must be lower-case words, and whose `apiKey` must look like
/// one: the values that break them, and where.
fn with_patterns(s: &Scratch) {
    s.write(
        "schema/values.schema.json",
        r#"{"type": "object", "properties": {"app": {"type": "object", "properties": {
            "greeting": {"type": "string", "pattern": "^[a-z]+(\\s[a-z]+)*$"},
            "apiKey": {"type": "string", "pattern": "^[A-Za-z0-9]{8}$"}
        }}}}"#,
    );
}

#[test]
fn a_value_that_does_not_match_its_pattern_is_reported_at_its_line() {
    let s = Scratch::of("basic");
    with_patterns(&s);
    s.write("overlays/dev.yaml", "app:\n  greeting: Hello there\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            r#"error[schema]: overlays/dev.yaml:2:13: app.greeting: "Hello there" does not match "^[a-z]+(\s[a-z]+)*$""#,
        ],
    );
}

#[test]
fn a_credential_that_does_not_match_its_pattern_is_not_printed() {
    let s = Scratch::of("basic");
    with_patterns(&s);
    s.write("overlays/dev.yaml", "app:\n  apiKey: hunter2!\n");
    let err = assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            r#"error[schema]: overlays/dev.yaml:2:11: app.apiKey: value does not match "^[A-Za-z0-9]{8}$""#,
        ],
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let s = Scratch::of("basic");
    s.write(
        "overlays/dev.yaml",
        "app:\n  greeting: [one, two\n  replicas: 1\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[yaml]: overlays/dev.yaml:"],
    );
}

#[test]
fn alias_bomb_fails_fast() {
    let s = Scratch::of("basic");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = (b'a' + i - 1) as char;
        let this = (b'a' + i) as char;
        bomb.push_str(&format!("{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    s.write("overlays/dev.yaml", &bomb);
    let started = std::time::Instant::now();
    let output = s.run(&["render", "--mode", "dev"]);
    assert_error(&output, &["overlays/dev.yaml", "(alias bomb?)"]);
    // A generous bound: the point is that expansion stops early rather than running away.
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn deep_nesting_fails_fast() {
    let s = Scratch::of("basic");
    let deep = format!("app: {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    s.write("overlays/dev.yaml", &deep);
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["overlays/dev.yaml", "deeper than"],
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    let s = Scratch::of("basic");
    s.write("overlays/dev.yaml", "- a\n- b\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["overlays/dev.yaml:1:1", "must be a mapping"],
    );
}

#[test]
fn schema_violations_are_all_reported_at_their_origin() {
    let s = Scratch::of("basic");
    s.write("overlays/dev.yaml", "app:\n  replicas: 0\n  greeting: 5\n");
    let err = assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[schema]: overlays/dev.yaml:2:13: app.replicas: 0 is less than the minimum of 1",
            "overlays/dev.yaml:3:13: app.greeting:",
        ],
    );
    assert_eq!(err.matches("error[schema]").count(), 2, "{err}");
}

/// A render reads its values without origins and reads them once more for the errors:
/// the place is the same in a large file.
#[test]
fn a_schema_violation_deep_in_a_large_overlay_is_reported_at_its_line() {
    let s = Scratch::of("basic");
    let padding = "# a comment line to make the file large\n".repeat(4000);
    s.write(
        "overlays/dev.yaml",
        &format!("{padding}app:\n  replicas: 0\n"),
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[schema]: overlays/dev.yaml:4002:13: app.replicas: 0 is less than the minimum of 1",
        ],
    );
}

#[test]
fn typo_in_overlay_suggests_the_nearest_key() {
    let s = Scratch::of("basic");
    s.write("overlays/dev.yaml", "app:\n  replcas: 2\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "overlays/dev.yaml:2:12: app.replcas: unknown key `replcas`",
            "did you mean `replicas`?",
            "`greeting`",
        ],
    );
}

#[test]
fn yes_where_a_boolean_is_expected_hints_at_true() {
    let s = Scratch::of("basic");
    s.write("overlays/dev.yaml", "app:\n  enabled: yes\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["app.enabled", "write `true` instead of `yes`"],
    );
}

#[test]
fn set_that_does_not_parse() {
    let s = Scratch::of("basic");
    assert_error(
        &s.run(&["render", "--mode", "dev", "--set", "app.replicas"]),
        &["error[set]: --set app.replicas"],
    );
}

#[test]
fn set_value_is_validated_with_its_flag_as_origin() {
    let s = Scratch::of("basic");
    assert_error(
        &s.run(&["render", "--mode", "dev", "--set", "app.replicas=0"]),
        &["--set app.replicas=0: app.replicas: 0 is less than the minimum of 1"],
    );
}

#[test]
fn template_syntax_error() {
    let s = Scratch::of("basic");
    s.write("templates/broken.yaml", "kind: x\n{% if %}\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[template]: templates/broken.yaml:2", "syntax error"],
    );
}

#[test]
fn undefined_variable() {
    let s = Scratch::of("basic");
    s.write("templates/undefined.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ values.app.nope }}\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[template]: templates/undefined.yaml:6",
            "undefined",
            "values.app.nope",
        ],
    );
}

#[test]
fn include_cannot_climb_out_of_templates() {
    let s = Scratch::of("basic");
    s.write(
        "templates/escape.yaml",
        "{% include \"../overlays/base.yaml\" %}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/escape.yaml", "outside templates/"],
    );
}

#[test]
fn template_rendering_invalid_yaml() {
    let s = Scratch::of("basic");
    s.write(
        "templates/invalid.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[manifest]: templates/invalid.yaml", "not valid YAML"],
    );
}

/// A large template is checked in parts while it renders: an error deep in it still names
/// the template's own line and document, and shows the line.
#[test]
fn invalid_yaml_deep_in_a_large_template_names_its_line_and_document() {
    let s = Scratch::of("basic");
    s.write(
        "templates/many.yaml",
        "{% for i in range(3000) %}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{{ i }}\ndata:\n  k: {{ '[broken' if i == 2500 else 'v' }}\n{% endfor %}",
    );
    // Document 2500 is lines 17501..=17507; the unclosed list is found where the next
    // document starts.
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[manifest]: templates/many.yaml: document 2500:",
            "not valid YAML at its line 17508: while parsing a flow sequence",
            "rendered line 17508 | ---",
        ],
    );
}

#[test]
fn document_that_is_not_a_kubernetes_object() {
    let s = Scratch::of("basic");
    s.write("templates/list.yaml", "- a\n- b\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/list.yaml: document 0", "found a list"],
    );
}

#[test]
fn unknown_field_is_named_with_its_path() {
    let s = Scratch::of("basic");
    let text = std::fs::read_to_string(s.path().join("templates/app/deployment.yaml")).unwrap();
    s.write(
        "templates/app/deployment.yaml",
        &text.replace("containers:", "contaners:"),
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "templates/app/deployment.yaml",
            "Deployment/demo/demo: spec.template.spec.contaners",
            "unknown field",
        ],
    );
}

#[test]
fn type_error_is_named_with_its_path() {
    let s = Scratch::of("basic");
    let text = std::fs::read_to_string(s.path().join("templates/app/deployment.yaml")).unwrap();
    s.write(
        "templates/app/deployment.yaml",
        &text.replace("replicas: {{ values.app.replicas }}", "replicas: three"),
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["Deployment/demo/demo: spec.replicas", "three"],
    );
}

#[test]
fn invalid_name() {
    let s = Scratch::of("basic");
    s.write(
        "templates/name.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Demo_Config\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "templates/name.yaml: document 0",
            "invalid metadata.name `Demo_Config`",
        ],
    );
}

#[test]
fn duplicate_object() {
    let s = Scratch::of("basic");
    s.write(
        "templates/dup.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["Namespace/demo", "duplicate object"],
    );
}

#[test]
fn unknown_kind_without_schema_is_refused() {
    let s = Scratch::of("basic");
    s.write(
        "templates/crd.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "`Widget` is not a built-in Kubernetes kind",
            "schema/crds/widget.json",
        ],
    );
}

#[test]
fn unwritable_output_dir_leaves_nothing_behind() {
    let s = Scratch::of("basic");
    s.write("blocker", "a file, not a directory\n");
    let output = s.run(&["render", "--mode", "dev", "--output-dir", "blocker/out"]);
    assert_error(&output, &["blocker/out"]);
    assert_eq!(
        std::fs::read_to_string(s.path().join("blocker")).unwrap(),
        "a file, not a directory\n"
    );
}

#[test]
fn fail_function_aborts_with_its_message() {
    let s = Scratch::of("basic");
    s.write(
        "templates/fail.yaml",
        "{{ fail(\"secrets are not allowed in prod\") }}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/fail.yaml:1", "secrets are not allowed in prod"],
    );
}

#[test]
fn symlinks_are_refused() {
    let s = Scratch::of("basic");
    std::os::unix::fs::symlink("/etc/passwd", s.path().join("templates/passwd.yaml")).unwrap();
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/passwd.yaml", "symbolic links"],
    );
}

#[test]
fn of_several_problems_in_a_stack_the_first_in_walking_order_is_reported() {
    let s = Scratch::of("basic");
    let link = |rel: &str| {
        let path = s.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", path).unwrap();
    };
    // Walking order: overlays, schema, templates, files; in a directory, entries by name,
    // a directory's files before the entries after it (`a/` before `a.yaml`, which comes
    // first by path).
    link("files/zz.txt");
    link("templates/a.yaml");
    link("templates/a/nested.yaml");
    let err = assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/a/nested.yaml", "symbolic links"],
    );
    assert_eq!(err.matches("symbolic links").count(), 1, "{err}");
}

#[test]
fn usage_error_exits_2() {
    let s = Scratch::of("basic");
    let output = s.run(&["render"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn runaway_loops_run_out_of_fuel() {
    let s = Scratch::of("basic");
    s.write(
        "templates/loop.yaml",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[template]: templates/loop.yaml", "fuel"],
    );
}

#[test]
fn runaway_output_is_stopped_before_it_exhausts_memory() {
    let s = Scratch::of("basic");
    s.write(
        "templates/big.yaml",
        "{% set s = \"x\" * 10000 %}{% for i in range(100000) %}{{ s }}{% endfor %}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/big.yaml", "more than 64 MiB"],
    );
}

#[test]
fn recursion_is_stopped() {
    let s = Scratch::of("basic");
    s.write(
        "templates/rec.yaml",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["error[template]: templates/rec.yaml", "recursion"],
    );
}

#[test]
fn file_cannot_climb_out_of_files() {
    let s = Scratch::of("basic");
    s.write("templates/escape.yaml", "{{ file(\"../stack.yaml\") }}\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/escape.yaml", "outside files/"],
    );
}

#[test]
fn a_stack_file_over_the_size_limit_is_refused() {
    let s = Scratch::of("basic");
    s.write("templates/huge.yaml", "");
    let huge = std::fs::OpenOptions::new()
        .write(true)
        .open(s.path().join("templates/huge.yaml"))
        .unwrap();
    huge.set_len(16 * 1024 * 1024 + 1).unwrap();
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/huge.yaml: file is 16777217 bytes, more than the 16777216-byte limit"],
    );
}

#[test]
fn values_files_that_never_end_are_refused() {
    let s = Scratch::of("basic");
    assert_error(
        &s.run(&["render", "--mode", "dev", "-f", "/dev/zero"]),
        &["/dev/zero", "limit"],
    );
    assert_error(
        &s.run(&[
            "render",
            "--mode",
            "dev",
            "--set-file",
            "app.greeting=/dev/zero",
        ]),
        &["limit"],
    );
}

#[test]
fn credentials_on_the_command_line_stay_out_of_diagnostics() {
    let s = Scratch::of("basic");
    let output = s.run(&[
        "render",
        "--mode",
        "dev",
        "--set",
        "app.replicas=0,app.token=hunter2",
    ]);
    let err = assert_error(&output, &["--set app.replicas=***,app.token=***"]);
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn secret_data_stays_out_of_manifest_diagnostics() {
    let s = Scratch::of("basic");
    s.write(
        "templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: 98765432\n",
    );
    let err = assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["Secret/s: stringData.password"],
    );
    assert!(!err.contains("98765432"), "{err}");
    s.write(
        "templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2: x\n",
    );
    let err = assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/secret.yaml", "not valid YAML"],
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn names_follow_the_rule_of_their_kind() {
    let s = Scratch::of("basic");
    s.write(
        "templates/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\n  namespace: demo\nspec:\n  ports: [{port: 80}]\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "templates/svc.yaml: document 0",
            "invalid metadata.name `1web` for a Service: it must start with a letter",
            "a Service name must be a DNS-1035 label",
        ],
    );
    s.write(
        "templates/svc.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: a/b\nrules: []\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "invalid metadata.name `a/b` for a ClusterRole: it contains `/`",
            "a path segment",
        ],
    );
}

#[test]
fn a_list_or_a_generate_name_says_why_and_what_to_do() {
    let s = Scratch::of("basic");
    s.write(
        "templates/list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "templates/list.yaml: document 0: not a Kubernetes object: a `List` is a client-side wrapper",
            "render each item as its own document",
        ],
    );
    s.write(
        "templates/list.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n  namespace: demo\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "only `metadata.generateName`: `kubectl apply` needs a name",
            "give it a fixed `metadata.name`",
        ],
    );
}

#[test]
fn a_lone_surrogate_escape_in_a_json_values_file() {
    let s = Scratch::of("basic");
    s.write("lone.json", "{\"app\": {\"greeting\": \"\\ud83d!\"}}\n");
    assert_error(
        &s.run(&["render", "--mode", "dev", "-f", "lone.json"]),
        &[
            "lone.json:1:22",
            "invalid Unicode character escape",
            "half of a pair",
        ],
    );
}

#[test]
fn documents_are_numbered_as_a_reader_counts_them_after_leading_comments() {
    let s = Scratch::of("basic");
    s.write(
        "templates/c.yaml",
        "# generated\n# twice\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: demo\n---\nkind: Broken\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["templates/c.yaml: document 1: not a Kubernetes object"],
    );
}

#[test]
fn a_tab_indented_values_line_is_reported_where_it_is() {
    let s = Scratch::of("basic");
    s.write("tabs.yaml", "app:\n  replicas: 2\n\tgreeting: hi\n");
    assert_error(
        &s.run(&["render", "--mode", "dev", "-f", "tabs.yaml"]),
        &[
            "tabs.yaml:3:1: a tab indents this line",
            "indents with spaces only",
        ],
    );
}

#[test]
fn a_custom_resource_with_a_misspelt_field_or_an_unserved_version() {
    let s = Scratch::of("basic");
    s.write(
        "schema/crds/widget.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - {name: v1beta1, served: false, storage: false}\n  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}}\n",
    )
    .write(
        "templates/w.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: demo}\nspec: {sise: 3}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[manifest]: templates/w.yaml: Widget.example.com/demo/w: spec",
            "'sise' was unexpected",
        ],
    );
    s.write(
        "templates/w.yaml",
        "apiVersion: example.com/v1beta1\nkind: Widget\nmetadata: {name: w, namespace: demo}\nspec: {size: 3}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "version `v1beta1` of Widget is not served",
            "served versions: example.com/v1",
        ],
    );
    s.write(
        "schema/crds/widget.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["schema/crds/widget.yaml: document 0: `ConfigMap` is not a CustomResourceDefinition"],
    );
}
