//! Benchmarks of the whole pipeline, in process and per stage, on the synthetic stack (and
//! on any stack directory named by `SOMAGEN_BENCH_STACK`), and of the real soma-infra stack.
//! Run with `cargo bench --bench pipeline`.

mod synthetic;

use std::path::PathBuf;
use std::sync::Arc;

use divan::Bencher;
use somagen::UserValues;
use somagen::pipeline::stack::{Origin, Stack};
use somagen::pipeline::{emit, manifest, template};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// The environment variable naming an extra stack directory to measure, e.g. the shared
/// side-by-side workload (`gen.py N DIR` writes it at `DIR/somagen`):
/// `SOMAGEN_BENCH_STACK=DIR/somagen cargo bench --bench pipeline`.
const STACK_VAR: &str = "SOMAGEN_BENCH_STACK";
/// The argument that stands for that directory.
const DIR_WORKLOAD: &str = "workload";

/// What every pipeline bench runs on: `synthetic-N` for each size, then [`DIR_WORKLOAD`]
/// when [`STACK_VAR`] is set.
fn workloads() -> Vec<String> {
    let synthetic = SIZES.iter().map(|n| format!("synthetic-{n}"));
    let dir = std::env::var_os(STACK_VAR).map(|_| DIR_WORKLOAD.to_owned());
    synthetic.chain(dir).collect()
}

fn stack_dir() -> PathBuf {
    std::env::var_os(STACK_VAR)
        .map(PathBuf::from)
        .expect("the workload directory is set")
}

fn components(workload: &str) -> usize {
    workload
        .strip_prefix("synthetic-")
        .and_then(|n| n.parse().ok())
        .expect("a synthetic workload names its size")
}

fn load(workload: &str) -> Stack {
    if workload == DIR_WORKLOAD {
        return Stack::from_dir(&stack_dir()).expect("the workload stack loads");
    }
    Stack::from_files(
        Origin::Embedded,
        synthetic::stack_files(components(workload)),
    )
    .expect("the synthetic stack loads")
}

/// Everything from values to YAML text, in process.
#[divan::bench(args = workloads(), sample_count = 10)]
fn whole_pipeline(bencher: Bencher, workload: &str) {
    let stack = load(workload);
    bencher.bench(|| {
        let rendered = somagen::render(&stack, "prod", &UserValues::default()).expect("renders");
        emit::yaml_stream(&rendered.objects)
    });
}

/// Merge and schema validation.
#[divan::bench(args = workloads(), sample_count = 10)]
fn stage_values(bencher: Bencher, workload: &str) {
    let stack = load(workload);
    bencher.bench(|| somagen::values(&stack, "prod", &UserValues::default()).expect("valid"));
}

/// Template rendering alone.
#[divan::bench(args = workloads(), sample_count = 10)]
fn stage_template(bencher: Bencher, workload: &str) {
    let stack = load(workload);
    let values = Arc::new(
        somagen::values(&stack, "prod", &UserValues::default())
            .expect("valid")
            .value,
    );
    bencher.bench(|| {
        template::render(&template::Context {
            values: Arc::clone(&values),
            mode: "prod",
            stack: &stack,
        })
        .expect("renders")
    });
}

/// Parse, typed check, checksum and order of the rendered text.
#[divan::bench(args = workloads(), sample_count = 10)]
fn stage_manifest(bencher: Bencher, workload: &str) {
    let stack = load(workload);
    let values = somagen::values(&stack, "prod", &UserValues::default()).expect("valid");
    let output = template::render(&template::Context {
        values: Arc::new(values.value),
        mode: "prod",
        stack: &stack,
    })
    .expect("renders");
    bencher.bench(|| manifest::build(&stack, &output.templates).expect("valid objects"));
}

/// YAML emission of the ordered objects.
#[divan::bench(args = workloads(), sample_count = 10)]
fn stage_emit(bencher: Bencher, workload: &str) {
    let stack = load(workload);
    let rendered = somagen::render(&stack, "prod", &UserValues::default()).expect("renders");
    bencher.bench(|| emit::yaml_stream(&rendered.objects));
}

/// The real stack, `render --mode prod`, in process.
#[divan::bench(sample_count = 20)]
fn real_stack_prod(bencher: Bencher) {
    let stack = Stack::embedded().expect("the embedded stack loads");
    bencher.bench(|| {
        emit::yaml_stream(
            &somagen::render(&stack, "prod", &UserValues::default())
                .expect("renders")
                .objects,
        )
    });
}

/// The whole process (`somagen render --mode prod --stack DIR > /dev/null`), as users run it.
#[divan::bench(args = workloads(), sample_count = 5)]
fn process_render(bencher: Bencher, workload: &str) {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = if workload == DIR_WORKLOAD {
        stack_dir()
    } else {
        synthetic::write_stack(temp.path(), components(workload));
        temp.path().to_path_buf()
    };
    bencher.bench(|| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_somagen"))
            .args(["render", "--mode", "prod", "--stack"])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("somagen runs");
        assert!(status.success());
    });
}
