//! `somagen check` on the real soma-infra stack (every mode: render, lint, unused values,
//! golden comparison), in process and as the pre-commit hook runs it, plus its parts.
//! Run with `cargo bench --bench check`. Target: under 100 ms for the process.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use divan::Bencher;
use somagen::UserValues;
use somagen::pipeline::stack::Stack;
use somagen::tools::{check, lint};

fn main() {
    divan::main();
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn real_stack() -> Stack {
    Stack::from_dir(&repo()).expect("the real stack loads")
}

/// The whole check, stack already in memory.
#[divan::bench(sample_count = 20)]
fn check_in_process(bencher: Bencher) {
    let stack = real_stack();
    bencher.bench(|| check::check(&stack).expect("every mode renders"));
}

/// Reading the stack from disk, then the whole check: what the CLI does after start-up.
#[divan::bench(sample_count = 20)]
fn load_and_check(bencher: Bencher) {
    bencher.bench(|| check::check(&real_stack()).expect("every mode renders"));
}

/// `somagen check --stack <repo>` as a process, as a pre-commit hook runs it. The exit code
/// is not asserted: findings (exit 1) cost the same as a pass.
#[divan::bench(sample_count = 20)]
fn check_process(bencher: Bencher) {
    let stack = repo();
    bencher.bench(|| {
        let status = Command::new(env!("CARGO_BIN_EXE_somagen"))
            .arg("check")
            .arg("--stack")
            .arg(&stack)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("somagen runs");
        assert_ne!(status.code(), Some(2), "somagen check failed with errors");
    });
}

const MODES: [&str; 5] = ["dev", "test", "staging", "prod-lite", "prod"];

/// Lint and unused values of one rendered mode.
#[divan::bench(args = MODES, sample_count = 50)]
fn lint_only(bencher: Bencher, mode: &str) {
    let stack = real_stack();
    let rendered = somagen::render(&stack, mode, &UserValues::default()).expect("renders");
    bencher.bench(|| {
        lint::lint_rendered(&rendered, mode, &stack.meta).expect("annotations are valid")
    });
}

/// One mode's render, for comparison with the whole check.
#[divan::bench(args = MODES, sample_count = 20)]
fn render_only(bencher: Bencher, mode: &str) {
    let stack = real_stack();
    bencher.bench(|| somagen::render(&stack, mode, &UserValues::default()).expect("renders"));
}
