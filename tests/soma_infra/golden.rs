//! The repository's own stack: every golden file is what the tool renders today, byte for
//! byte, and the merged values of each mode are a reviewed snapshot.

use crate::common::{repo, somagen, stderr, stdout};

const MODES: [&str; 5] = ["dev", "test", "staging", "prod-lite", "prod"];

#[test]
fn every_golden_file_equals_a_fresh_render() {
    for mode in MODES {
        let output = somagen(&repo(), &["render", "--mode", mode]);
        assert_eq!(output.status.code(), Some(0), "{mode}: {}", stderr(&output));
        let golden = std::fs::read_to_string(repo().join(format!("golden/{mode}.yaml")))
            .unwrap_or_else(|err| panic!("golden/{mode}.yaml: {err}"));
        assert!(
            stdout(&output) == golden,
            "golden/{mode}.yaml is stale: regenerate it with `somagen golden` and review the diff"
        );
    }
}

#[test]
fn merged_values_per_mode() {
    for mode in MODES {
        let output = somagen(&repo(), &["values", "--mode", mode]);
        assert_eq!(output.status.code(), Some(0), "{mode}: {}", stderr(&output));
        insta::assert_snapshot!(format!("values-{mode}"), stdout(&output));
    }
}

#[test]
fn modes_match_the_stack_contract() {
    let output = somagen(&repo(), &["modes"]);
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), MODES);
}

/// The typed check takes its round trip only when the reading shows it could find
/// something; on every object of every mode it says what the round trip says.
#[test]
fn the_typed_check_of_every_object_agrees_with_its_round_trip() {
    for mode in MODES {
        let mut valid = 0;
        for object in crate::matrix::render_with(mode, &[]) {
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let kind = object["kind"].as_str().unwrap_or_default();
            let checked = somagen_kube::check(api_version, kind, &object);
            assert_eq!(
                checked,
                somagen_kube::check_by_round_trip(api_version, kind, &object),
                "{mode}: {kind} {}",
                object["metadata"]["name"]
            );
            valid += usize::from(checked == somagen_kube::Check::Valid);
        }
        assert!(valid > 50, "{mode}: only {valid} built-in objects");
    }
}
