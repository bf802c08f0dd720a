//! The cluster commands' error paths, which need no cluster: exit 2, a diagnostic with a
//! location, nothing on stdout. Their behaviour against a real API server is tested by
//! `.ci/cluster/commands` (CI starts the control plane; see the README's CI section).

use crate::common::{Scratch, assert_error, fixture, somagen};

#[test]
fn objects_without_ownership_labels_are_refused_before_kubectl_runs() {
    // The basic fixture's objects lack the labels; kubectl is never started (it does not
    // exist), so the labels are checked first.
    let s = Scratch::of("basic");
    for command in ["plan", "apply", "drift"] {
        assert_error(
            &s.run(&[
                command,
                "--mode",
                "dev",
                "--kubectl",
                "/nonexistent/kubectl",
            ]),
            &[
                "error[cluster]: templates/namespace.yaml: Namespace/demo:",
                "app.kubernetes.io/managed-by: somagen",
                "app.kubernetes.io/part-of: basic",
                "hint: prune and drift find the stack's objects by these labels",
            ],
        );
    }
}

#[test]
fn a_missing_kubectl_is_named() {
    let dir = fixture("cluster");
    assert_error(
        &somagen(
            &dir,
            &["plan", "--mode", "dev", "--kubectl", "/nonexistent/kubectl"],
        ),
        &[
            "error[cluster]: cannot run `/nonexistent/kubectl`",
            "--kubectl PATH",
        ],
    );
}

#[test]
fn an_unreachable_cluster_is_kubectls_message() {
    // A kubeconfig pointing at a closed port: whatever kubectl is on PATH (if any) fails.
    let s = Scratch::of("cluster");
    s.write(
        "kubeconfig",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user: {token: x}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n\
         current-context: c\n",
    );
    let kubeconfig = s.path().join("kubeconfig");
    let output = s.run(&[
        "drift",
        "--mode",
        "dev",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("error[cluster]:"));
}

#[test]
fn a_bad_timeout_is_a_usage_error() {
    let dir = fixture("cluster");
    let output = somagen(
        &dir,
        &["apply", "--mode", "dev", "--wait", "--timeout", "soon"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("90s, 5m or 1h"));
}
