//! `somagen package` writes an in-toto Statement v1 with a SLSA Provenance v1 predicate.
//! The structure is checked against the fields the specifications require
//! (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md,
//! https://slsa.dev/spec/v1.0/provenance): `_type`, `subject` (name and digest),
//! `predicateType`, `buildDefinition` (`buildType`, `externalParameters`), `runDetails`
//! (`builder.id`), and every ResourceDescriptor with a `uri`, `digest` or `content`.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{Scratch, stdout};

fn hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn is_descriptor(value: &Value) -> bool {
    let digest_ok = value["digest"].as_object().is_some_and(|d| {
        !d.is_empty()
            && d.values().all(|v| {
                v.as_str()
                    .is_some_and(|s| s.chars().all(|c| c.is_ascii_hexdigit()))
            })
    });
    digest_ok || value["uri"].is_string() || value["content"].is_string()
}

#[test]
fn the_statement_names_the_archive_and_every_input() {
    let s = Scratch::of("basic");
    s.write("extra.yaml", "app:\n  greeting: hi\n");
    let package = [
        "package",
        "--mode",
        "prod",
        "-o",
        "out.tar.gz",
        "-f",
        "extra.yaml",
        "--set",
        "app.greeting=secret-ish",
    ];
    let out = s.run(&package);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&out)
    );
    let archive = std::fs::read(s.path().join("out.tar.gz")).unwrap();
    let text = std::fs::read_to_string(s.path().join("out.tar.gz.intoto.json")).unwrap();
    let statement: Value = serde_json::from_str(&text).unwrap();
    assert!(stdout(&out).contains("out.tar.gz.intoto.json"));

    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let subject = statement["subject"].as_array().unwrap();
    assert_eq!(subject.len(), 1);
    assert_eq!(subject[0]["name"], "out.tar.gz");
    assert_eq!(subject[0]["digest"]["sha256"], hex(&archive));

    let predicate = &statement["predicate"];
    let build = &predicate["buildDefinition"];
    assert!(build["buildType"].as_str().unwrap().starts_with("https://"));
    assert!(build["externalParameters"].is_object());
    assert!(
        predicate["runDetails"]["builder"]["id"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let deps = build["resolvedDependencies"].as_array().unwrap();
    assert!(deps.iter().all(is_descriptor), "{deps:?}");
    let names: Vec<&str> = deps.iter().map(|d| d["name"].as_str().unwrap()).collect();
    for input in [
        "stack.yaml",
        "overlays/base.yaml",
        "overlays/prod.yaml",
        "schema/values.schema.json",
        "extra.yaml",
    ] {
        assert!(names.contains(&input), "{input} missing from {names:?}");
    }
    let base = std::fs::read(s.path().join("overlays/base.yaml")).unwrap();
    let entry = deps
        .iter()
        .find(|d| d["name"] == "overlays/base.yaml")
        .unwrap();
    assert_eq!(entry["digest"]["sha256"], hex(&base));
    // Flag values never leave in the attestation.
    assert!(!text.contains("secret-ish"));
    assert!(text.contains("--set app.greeting=sha256:"));

    // The predicate alone, for `cosign attest-blob --predicate`.
    let predicate_file: Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join("out.tar.gz.slsa.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(&predicate_file, predicate);

    // Same inputs, same bytes.
    let again = s.run(&package);
    assert_eq!(stdout(&again), stdout(&out));
}
