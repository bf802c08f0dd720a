//! `somagen init` and `somagen schema`.

use crate::common::{assert_error, somagen, stdout};

#[test]
fn a_new_stack_passes_check_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = somagen(tmp.path(), &["init", "shop", "--modes", "dev,prod"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    assert!(stdout(&out).contains("created stack `shop`"));
    let dir = tmp.path().join("shop");
    let check = somagen(&dir, &["check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        crate::common::stderr(&check)
    );
    for overlay in ["base", "dev", "prod"] {
        let text = std::fs::read_to_string(dir.join(format!("overlays/{overlay}.yaml"))).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/values.schema.json\n"),
            "{overlay}: {text}"
        );
    }
    // Every object carries the ownership labels: the cluster commands get as far as kubectl.
    assert_error(
        &somagen(
            &dir,
            &[
                "plan",
                "--mode",
                "prod",
                "--kubectl",
                "/nonexistent/kubectl",
            ],
        ),
        &["cannot run `/nonexistent/kubectl`"],
    );
    // The schema is strict and describes every property.
    let schema: serde_json::Value =
        serde_json::from_str(&stdout(&somagen(&dir, &["schema"]))).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["properties"]["web"]["properties"]["replicas"]["description"].is_string());
    let typo = somagen(&dir, &["render", "--mode", "dev", "--set", "web.replica=2"]);
    assert_eq!(typo.status.code(), Some(2));
}

#[test]
fn init_refuses_a_directory_that_is_not_empty() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
    let dir = tmp.path().to_str().unwrap();
    assert_error(
        &somagen(tmp.path(), &["init", dir]),
        &["error[usage]:", dir, "not empty"],
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn init_refuses_bad_names_and_modes() {
    let tmp = tempfile::tempdir().unwrap();
    assert_error(
        &somagen(tmp.path(), &["init", "My_App"]),
        &["`My_App` cannot name a stack", "--name"],
    );
    assert_error(
        &somagen(tmp.path(), &["init", "ok", "--modes", "dev,Prod"]),
        &["every mode must be a DNS label"],
    );
    assert!(!tmp.path().join("ok").exists());
}

#[test]
fn schema_of_the_built_in_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let out = somagen(tmp.path(), &["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}
