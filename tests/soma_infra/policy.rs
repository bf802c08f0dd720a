//! Policy bundle v1 (STACK.md §6) evaluated by a real Rego engine (regorus).
//!
//! The policy and data are read from `files/opa/`, the same files the render ships in the
//! ConfigMap `sharedinfra-opa-policy`; `rendered_configmap_carries_the_tested_bytes` proves
//! the rendered bytes are these bytes. Every vector runs twice: parsed as Rego v0 with
//! `future.keywords` (what OPA 0.57 runs) and parsed as Rego v1 (what the file claims to be
//! compatible with). The same vectors are Rego tests beside the policy
//! (`files/opa/authz_test.rego`), which CI runs with the real OPA.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Map, Value, json};

const QUERY: &str = "data.soma.authz.v1.decision";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn rego() -> String {
    read("files/opa/authz.rego")
}

fn data() -> String {
    read("files/opa/data.json")
}

fn engine(rego_v0: bool) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(rego_v0);
    engine
        .add_policy("authz.rego".to_string(), rego())
        .expect("authz.rego parses");
    engine
        .add_data(regorus::Value::from_json_str(&data()).expect("data.json parses"))
        .expect("data.json loads");
    engine
}

/// Evaluates the decision for one input (None = no input document at all).
fn decide(engine: &mut regorus::Engine, input: Option<&Value>) -> Value {
    match input {
        Some(input) => engine
            .set_input_json(&input.to_string())
            .expect("input is JSON"),
        None => engine.set_input(regorus::Value::Undefined),
    }
    let out = engine
        .eval_rule(QUERY.to_string())
        .unwrap_or_else(|e| panic!("evaluating {QUERY} for {input:?}: {e}"));
    serde_json::from_str(&out.to_json_str().expect("result serializes")).expect("result is JSON")
}

// ---------------------------------------------------------------------------------------
// The STACK.md §6 shorthand, expanded exactly as the spec says.
// ---------------------------------------------------------------------------------------

/// `kind:name@tenant[roles]{scopes}`; `@—` omits the tenant.
fn subject(s: &str) -> Value {
    let (kind, rest) = s.split_once(':').expect("kind:");
    let (name, rest) = rest.split_once('@').expect("@tenant");
    let (tenant, rest) = rest.split_once('[').expect("[roles]");
    let (roles, rest) = rest.split_once(']').expect("]");
    let scopes = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .expect("{scopes}");
    let list = |l: &str| -> Vec<Value> {
        l.split(',')
            .filter(|x| !x.is_empty())
            .map(|x| Value::from(x.trim()))
            .collect()
    };
    let mut m = Map::new();
    m.insert("kind".into(), kind.into());
    m.insert("id".into(), format!("{kind}:{name}").into());
    if tenant != "—" {
        m.insert("tenant".into(), tenant.into());
    }
    m.insert("roles".into(), Value::Array(list(roles)));
    m.insert("scopes".into(), Value::Array(list(scopes)));
    Value::Object(m)
}

/// `svc+` / `svc-`.
fn caller(s: &str) -> Value {
    let (svc, auth) = s.split_at(s.len() - 1);
    json!({"service": svc, "authenticated": auth == "+"})
}

/// `type@tenant`.
fn resource(s: &str) -> Value {
    let (t, tenant) = s.split_once('@').expect("type@tenant");
    json!({"type": t, "tenant": tenant})
}

/// `used+req/limit`.
fn budget(s: &str) -> Value {
    let (used, rest) = s.split_once('+').expect("used+");
    let (req, limit) = rest.split_once('/').expect("/limit");
    let n = |x: &str| -> i64 { x.parse().expect("number") };
    json!({"tokens_used": n(used), "tokens_requested": n(req), "limit": n(limit)})
}

/// One table row: subject, caller, resource, action, budget ("" = absent).
fn row(subj: &str, call: &str, res: &str, action: &str, bud: &str) -> Value {
    let mut m = Map::new();
    m.insert("subject".into(), subject(subj));
    if !call.is_empty() {
        m.insert("caller".into(), caller(call));
    }
    m.insert("resource".into(), resource(res));
    m.insert("action".into(), action.into());
    if !bud.is_empty() {
        m.insert("budget".into(), budget(bud));
    }
    Value::Object(m)
}

fn expected(allow: bool, reasons: &[&str], route: &str) -> Value {
    json!({"allow": allow, "reasons": reasons, "route": route})
}

struct Vector {
    id: &'static str,
    input: Value,
    want: Value,
}

fn v(id: &'static str, input: Value, allow: bool, reasons: &[&str], route: &str) -> Vector {
    Vector {
        id,
        input,
        want: expected(allow, reasons, route),
    }
}

const ALICE: &str = "user:alice@acme[tenant_member]{memory:read}";
const ALICE_INVOKE: &str = "user:alice@acme[tenant_member]{agent:invoke}";
const CAROL: &str = "user:carol@acme[tenant_admin]{memory:*}";

/// The 16 acceptance vectors of STACK.md §6, row by row.
fn stack_vectors() -> Vec<Vector> {
    vec![
        v(
            "V01",
            row(ALICE, "", "memory@acme", "read", ""),
            true,
            &[],
            "standard",
        ),
        v(
            "V02",
            row(ALICE, "", "memory@globex", "read", ""),
            false,
            &["tenant_mismatch"],
            "none",
        ),
        v(
            "V03",
            row(
                "user:bob@acme[tenant_viewer]{memory:write}",
                "",
                "memory@acme",
                "write",
                "",
            ),
            false,
            &["role_denied"],
            "none",
        ),
        v(
            "V04",
            row(ALICE, "", "memory@acme", "write", ""),
            false,
            &["scope_missing"],
            "none",
        ),
        v(
            "V05",
            row(CAROL, "", "memory@acme", "delete", ""),
            true,
            &[],
            "standard",
        ),
        v(
            "V06",
            row(
                "user:root@platform[platform_admin]{tenant:admin}",
                "",
                "tenant@globex",
                "admin",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "V07",
            row(
                "service:sa01@acme[service]{memory:write}",
                "sa01+",
                "memory@acme",
                "write",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "V08",
            row(
                "service:sbr@acme[service]{memory:write}",
                "sbr+",
                "memory@acme",
                "write",
                "",
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "V09",
            row(
                "service:sa01@acme[service]{memory:read}",
                "sa01-",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "V10",
            row(
                "service:sa01@acme[service]{memory:read}",
                "sfm+",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "V11",
            row(
                ALICE_INVOKE,
                "",
                "agent@acme",
                "invoke",
                "99000+2000/100000",
            ),
            false,
            &["budget_exceeded"],
            "none",
        ),
        v(
            "V12",
            row(
                ALICE_INVOKE,
                "",
                "agent@acme",
                "invoke",
                "90000+1000/100000",
            ),
            true,
            &[],
            "economy",
        ),
        v(
            "V13",
            row(ALICE_INVOKE, "", "agent@acme", "invoke", "1000+1000/100000"),
            true,
            &[],
            "standard",
        ),
        v(
            "V14",
            row(CAROL, "", "memory@acme", "purge", ""),
            false,
            &["unknown_permission"],
            "none",
        ),
        v(
            "V15",
            row(
                "user:eve@—[tenant_member]{memory:read}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["subject_invalid", "tenant_mismatch"],
            "none",
        ),
        v(
            "V16",
            json!({}),
            false,
            &[
                "role_denied",
                "scope_missing",
                "subject_invalid",
                "tenant_mismatch",
                "unknown_permission",
            ],
            "none",
        ),
    ]
}

/// Per-rule vectors of this project: each rule's edges, fail-closed handling of malformed
/// input, and the wildcard choices (`*` counts for roles only, not for scopes).
fn own_vectors() -> Vec<Vector> {
    let alice_read = || row(ALICE, "", "memory@acme", "read", "");
    let with = |mut base: Value, path: &[&str], val: Value| -> Value {
        let mut cur = &mut base;
        for key in &path[..path.len() - 1] {
            cur = cur.get_mut(*key).expect("path exists");
        }
        let obj = cur.as_object_mut().expect("object");
        if val.is_null() && path.last() != Some(&"budget") {
            obj.remove(*path.last().expect("non-empty"));
        } else {
            obj.insert(path.last().expect("non-empty").to_string(), val);
        }
        base
    };
    vec![
        // subject_invalid
        v(
            "P01 kind neither user nor service",
            row(
                "robot:r2@acme[tenant_member]{memory:read}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["subject_invalid"],
            "none",
        ),
        v(
            "P02 empty id",
            with(alice_read(), &["subject", "id"], json!("")),
            false,
            &["subject_invalid"],
            "none",
        ),
        v(
            "P03 id missing",
            with(alice_read(), &["subject", "id"], Value::Null),
            false,
            &["subject_invalid"],
            "none",
        ),
        v(
            "P04 kind missing",
            with(alice_read(), &["subject", "kind"], Value::Null),
            false,
            &["subject_invalid"],
            "none",
        ),
        v(
            "P05 empty tenants never match",
            with(
                with(alice_read(), &["subject", "tenant"], json!("")),
                &["resource", "tenant"],
                json!(""),
            ),
            false,
            &["subject_invalid", "tenant_mismatch"],
            "none",
        ),
        // unknown_permission
        v(
            "P06 wildcards do not make a permission known",
            row(
                "user:root@platform[platform_admin]{memory:*}",
                "",
                "memory@acme",
                "purge",
                "",
            ),
            false,
            &["unknown_permission"],
            "none",
        ),
        v(
            "P07 resource type missing",
            with(alice_read(), &["resource", "type"], Value::Null),
            false,
            &["role_denied", "scope_missing", "unknown_permission"],
            "none",
        ),
        v(
            "P08 action not a string",
            with(alice_read(), &["action"], json!(1)),
            false,
            &["role_denied", "scope_missing", "unknown_permission"],
            "none",
        ),
        // tenant_mismatch
        v(
            "P09 tenant_admin cannot cross tenants",
            row(CAROL, "", "memory@globex", "delete", ""),
            false,
            &["tenant_mismatch"],
            "none",
        ),
        v(
            "P10 resource without tenant",
            with(alice_read(), &["resource", "tenant"], Value::Null),
            false,
            &["tenant_mismatch"],
            "none",
        ),
        v(
            "P11 platform_admin reads across tenants",
            row(
                "user:root@platform[platform_admin]{memory:read}",
                "",
                "memory@globex",
                "read",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        // role_denied
        v(
            "P12 unknown role",
            row(
                "user:mallory@acme[superuser]{memory:read}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["role_denied"],
            "none",
        ),
        v(
            "P13 roles not a list",
            with(alice_read(), &["subject", "roles"], json!("tenant_member")),
            false,
            &["role_denied"],
            "none",
        ),
        v(
            "P14 role * grants every known permission",
            row(
                "user:root@acme[platform_admin]{agent:invoke}",
                "",
                "agent@acme",
                "invoke",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "P15 role memory:* does not grant agent:invoke",
            row(
                "user:dan@acme[tenant_viewer]{agent:invoke}",
                "",
                "agent@acme",
                "invoke",
                "",
            ),
            false,
            &["role_denied"],
            "none",
        ),
        v(
            "P16 any one role suffices",
            row(
                "user:bob@acme[tenant_viewer,tenant_member]{memory:write}",
                "",
                "memory@acme",
                "write",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        // scope_missing
        v(
            "P17 scope * is not a wildcard",
            row(
                "user:alice@acme[tenant_member]{*}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["scope_missing"],
            "none",
        ),
        v(
            "P18 scope of another type",
            row(
                "user:alice@acme[tenant_member]{agent:*}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["scope_missing"],
            "none",
        ),
        v(
            "P19 scopes missing",
            with(alice_read(), &["subject", "scopes"], Value::Null),
            false,
            &["scope_missing"],
            "none",
        ),
        v(
            "P20 type:* scope grants",
            row(
                "user:alice@acme[tenant_member]{memory:*}",
                "",
                "memory@acme",
                "write",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        // s2s_denied
        v(
            "P21 service without caller",
            row(
                "service:sa01@acme[service]{memory:read}",
                "",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "P22 authenticated must be the boolean true",
            with(
                row(
                    "service:sa01@acme[service]{memory:read}",
                    "sa01+",
                    "memory@acme",
                    "read",
                    "",
                ),
                &["caller", "authenticated"],
                json!("true"),
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "P23 caller not on the allowlist",
            row(
                "service:sfm@acme[service]{memory:read}",
                "sfm+",
                "memory@acme",
                "read",
                "",
            ),
            false,
            &["s2s_denied"],
            "none",
        ),
        v(
            "P24 sbr may read",
            row(
                "service:sbr@acme[service]{memory:read}",
                "sbr+",
                "memory@acme",
                "read",
                "",
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "P25 the caller check applies to services only",
            row(ALICE, "sfm-", "memory@acme", "read", ""),
            true,
            &[],
            "standard",
        ),
        v(
            "P26 an allowlisted caller still needs a granting role",
            row(
                "service:sa01@acme[tenant_viewer]{memory:write}",
                "sa01+",
                "memory@acme",
                "write",
                "",
            ),
            false,
            &["role_denied"],
            "none",
        ),
        // budget_exceeded and route
        v(
            "P27 used + requested == limit is allowed (economy)",
            row(
                ALICE_INVOKE,
                "",
                "agent@acme",
                "invoke",
                "99000+1000/100000",
            ),
            true,
            &[],
            "economy",
        ),
        v(
            "P28 exactly at the economy threshold stays standard",
            row(
                ALICE_INVOKE,
                "",
                "agent@acme",
                "invoke",
                "89000+1000/100000",
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "P29 budget with a field missing fails closed",
            with(
                row(ALICE_INVOKE, "", "agent@acme", "invoke", "1+1/100"),
                &["budget", "limit"],
                Value::Null,
            ),
            false,
            &["budget_exceeded"],
            "none",
        ),
        v(
            "P30 negative request fails closed",
            row(ALICE_INVOKE, "", "agent@acme", "invoke", "10+-5/100"),
            false,
            &["budget_exceeded"],
            "none",
        ),
        v(
            "P31 budget of the wrong type fails closed",
            with(
                row(ALICE_INVOKE, "", "agent@acme", "invoke", ""),
                &["budget"],
                json!("lots"),
            ),
            false,
            &["budget_exceeded"],
            "none",
        ),
        v(
            "P32 budget null counts as absent",
            with(
                row(ALICE_INVOKE, "", "agent@acme", "invoke", ""),
                &["budget"],
                Value::Null,
            ),
            true,
            &[],
            "standard",
        ),
        v(
            "P33 several reasons come sorted",
            row(
                ALICE_INVOKE,
                "",
                "agent@globex",
                "invoke",
                "99000+2000/100000",
            ),
            false,
            &["budget_exceeded", "tenant_mismatch"],
            "none",
        ),
        v(
            "P34 zero budget",
            row(ALICE_INVOKE, "", "agent@acme", "invoke", "0+0/0"),
            true,
            &[],
            "standard",
        ),
        v(
            "P35 denied requests never route, even under the threshold",
            row(ALICE, "", "memory@acme", "write", "1+1/100"),
            false,
            &["scope_missing"],
            "none",
        ),
    ]
}

fn run_all(vectors: &[Vector], rego_v0: bool) {
    let mut engine = engine(rego_v0);
    let mut failures = Vec::new();
    for vec in vectors {
        let got = decide(&mut engine, Some(&vec.input));
        if got != vec.want {
            failures.push(format!(
                "{}: input {}\n    want {}\n    got  {}",
                vec.id, vec.input, vec.want, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed (rego {}):\n{}",
        failures.len(),
        vectors.len(),
        if rego_v0 {
            "v0 + future.keywords"
        } else {
            "v1"
        },
        failures.join("\n")
    );
}

#[test]
fn stack_md_vectors_rego_v0() {
    let vectors = stack_vectors();
    assert_eq!(vectors.len(), 16);
    run_all(&vectors, true);
}

#[test]
fn stack_md_vectors_rego_v1() {
    run_all(&stack_vectors(), false);
}

#[test]
fn per_rule_vectors_rego_v0() {
    run_all(&own_vectors(), true);
}

#[test]
fn per_rule_vectors_rego_v1() {
    run_all(&own_vectors(), false);
}

#[test]
fn shorthand_expands_as_stack_md_says() {
    assert_eq!(
        subject("user:eve@—[tenant_member]{memory:read}"),
        json!({"kind": "user", "id": "user:eve", "roles": ["tenant_member"], "scopes": ["memory:read"]})
    );
    assert_eq!(
        caller("sa01-"),
        json!({"service": "sa01", "authenticated": false})
    );
    assert_eq!(
        budget("90000+1000/100000"),
        json!({"tokens_used": 90000, "tokens_requested": 1000, "limit": 100000})
    );
}

#[test]
fn every_deny_reason_is_exercised_alone() {
    let reasons = [
        "subject_invalid",
        "unknown_permission",
        "tenant_mismatch",
        "role_denied",
        "scope_missing",
        "s2s_denied",
        "budget_exceeded",
        "token_invalid",
    ];
    let all: Vec<Vector> = stack_vectors().into_iter().chain(own_vectors()).collect();
    // token_invalid needs io.jwt.decode_verify and http.send, which regorus lacks: the real
    // OPA runs its vectors (.ci/token-vectors.py, .ci/validate-opa.sh), and
    // a_token_replaces_the_input_subject below covers what regorus can evaluate.
    for reason in reasons.iter().filter(|r| **r != "token_invalid") {
        assert!(
            all.iter().any(|v| v.want["reasons"] == json!([*reason])),
            "no vector denies with {reason} alone"
        );
    }
    // Every reason the policy can emit is one of the table's.
    let rego = rego();
    for line in rego.lines().filter(|l| l.starts_with("deny contains ")) {
        let reason = line.split('"').nth(1).expect("quoted reason");
        assert!(
            reasons.contains(&reason),
            "reason {reason} is not in STACK.md §6"
        );
    }
}

/// A token that is not a string is invalid before any key is needed, and it replaces the
/// input's subject: a subject that alone would be allowed (V01) is not looked at.
#[test]
fn a_token_replaces_the_input_subject() {
    let allowed = stack_vectors()
        .into_iter()
        .find(|v| v.id == "V01")
        .expect("V01");
    assert_eq!(allowed.want["allow"], json!(true));
    for bad in [json!(42), json!(false), json!(["a.b.c"])] {
        let mut input = allowed.input.clone();
        input["token"] = bad.clone();
        for v0 in [true, false] {
            let got = decide(&mut engine(v0), Some(&input));
            assert_eq!(
                got,
                json!({"allow": false, "reasons": ["role_denied", "scope_missing", "subject_invalid", "tenant_mismatch", "token_invalid"], "route": "none"}),
                "token {bad}"
            );
        }
    }
    // token: null counts as absent, like a null budget.
    let mut input = allowed.input.clone();
    input["token"] = Value::Null;
    assert_eq!(decide(&mut engine(true), Some(&input)), allowed.want);
}

#[test]
fn no_input_document_denies_everything() {
    for v0 in [true, false] {
        let got = decide(&mut engine(v0), None);
        assert_eq!(got["allow"], json!(false));
        assert_eq!(got["route"], json!("none"));
        assert_eq!(got["reasons"].as_array().map(Vec::len), Some(5), "{got}");
    }
}

#[test]
fn data_json_matches_stack_md() {
    let d: Value = serde_json::from_str(&data()).expect("data.json is JSON");
    let a = &d["sharedinfra"]["authz"];
    assert_eq!(
        a["permissions"],
        json!([
            "memory:read",
            "memory:write",
            "memory:delete",
            "agent:invoke",
            "tenant:admin"
        ])
    );
    assert_eq!(a["role_permissions"]["platform_admin"], json!(["*"]));
    assert_eq!(a["s2s_allow"]["sbr"], json!(["memory:read"]));
    assert_eq!(a["economy_threshold"], json!(0.9));
    assert_eq!(
        d.as_object().map(Map::len),
        Some(1),
        "data.json loads at the data root"
    );
}

/// `files/opa/authz_test.rego`, which the real OPA runs in CI (`opa test`, and over HTTP in
/// .ci/validate-opa.sh), carries exactly the vectors of this file: same ids, inputs, results.
#[test]
fn rego_test_file_carries_these_vectors() {
    let mut engine = engine(true);
    engine
        .add_policy(
            "authz_test.rego".to_string(),
            read("files/opa/authz_test.rego"),
        )
        .expect("authz_test.rego parses");
    let out = engine
        .eval_rule("data.soma.authz.v1_test.vectors".to_string())
        .expect("the vectors evaluate");
    let got: Value =
        serde_json::from_str(&out.to_json_str().expect("vectors serialize")).expect("JSON");
    let want: Map<String, Value> = stack_vectors()
        .into_iter()
        .chain(own_vectors())
        .map(|v| {
            (
                v.id.to_string(),
                json!({"id": v.id, "input": v.input, "want": v.want}),
            )
        })
        .collect();
    assert_eq!(got, Value::Object(want));
}

/// The render ships exactly the files the vectors above ran against, in every mode.
#[test]
fn rendered_configmap_carries_the_tested_bytes() {
    let modes = ["dev", "test", "staging", "prod-lite", "prod"];
    for mode in modes {
        let out = Command::new(env!("CARGO_BIN_EXE_somagen"))
            .current_dir(repo())
            .args(["render", "--mode", mode, "-o", "json"])
            .output()
            .expect("somagen runs");
        assert!(
            out.status.success(),
            "somagen render --mode {mode} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("render -o json is JSON");
        let items = doc
            .get("items")
            .and_then(Value::as_array)
            .or_else(|| doc.as_array())
            .expect("a List with items");
        let cms: Vec<&Value> = items
            .iter()
            .filter(|o| {
                o["kind"] == "ConfigMap" && o["metadata"]["name"] == "sharedinfra-opa-policy"
            })
            .collect();
        assert_eq!(
            cms.len(),
            1,
            "mode {mode}: one ConfigMap sharedinfra-opa-policy"
        );
        let cm = cms[0];
        assert_eq!(cm["metadata"]["namespace"], "soma-infra");
        assert_eq!(
            cm["data"]["authz.rego"].as_str(),
            Some(rego().as_str()),
            "mode {mode}: authz.rego"
        );
        assert_eq!(
            cm["data"]["data.json"].as_str(),
            Some(data().as_str()),
            "mode {mode}: data.json"
        );
        assert_eq!(
            cm["data"]["system_authz.rego"].as_str(),
            Some(read("files/opa/system_authz.rego").as_str()),
            "mode {mode}: system_authz.rego"
        );
        let keys: Vec<&String> = cm["data"].as_object().expect("data").keys().collect();
        assert_eq!(
            keys.len(),
            3,
            "mode {mode}: only the policy, its data and the API authorization (no tests): {keys:?}"
        );
    }
}
