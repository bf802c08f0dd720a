//! Benchmarks of the whole pipeline, in process and per stage, on the synthetic stack, and
//! of the real soma-infra stack. Run with `cargo bench --bench pipeline`.

mod synthetic;

use divan::Bencher;
use somagen::UserValues;
use somagen::pipeline::stack::{Origin, Stack};
use somagen::pipeline::{emit, manifest, template};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [100, 1_000, 10_000];

fn synthetic_stack(components: usize) -> Stack {
    Stack::from_files(Origin::Embedded, synthetic::stack_files(components))
        .expect("the synthetic stack loads")
}

/// Everything from values to YAML text, in process.
#[divan::bench(args = SIZES, sample_count = 10)]
fn whole_pipeline(bencher: Bencher, components: usize) {
    let stack = synthetic_stack(components);
    bencher.bench(|| {
        let rendered = somagen::render(&stack, "prod", &UserValues::default()).expect("renders");
        emit::yaml_stream(&rendered.objects)
    });
}

/// Merge and schema validation.
#[divan::bench(args = SIZES, sample_count = 10)]
fn stage_values(bencher: Bencher, components: usize) {
    let stack = synthetic_stack(components);
    bencher.bench(|| somagen::values(&stack, "prod", &UserValues::default()).expect("valid"));
}

/// Template rendering alone.
#[divan::bench(args = SIZES, sample_count = 10)]
fn stage_template(bencher: Bencher, components: usize) {
    let stack = synthetic_stack(components);
    let values = somagen::values(&stack, "prod", &UserValues::default()).expect("valid");
    bencher.bench(|| {
        template::render(&template::Context {
            values: &values.value,
            mode: "prod",
            stack: &stack,
        })
        .expect("renders")
    });
}

/// Parse, typed check, checksum and order of the rendered text.
#[divan::bench(args = SIZES, sample_count = 10)]
fn stage_manifest(bencher: Bencher, components: usize) {
    let stack = synthetic_stack(components);
    let values = somagen::values(&stack, "prod", &UserValues::default()).expect("valid");
    let output = template::render(&template::Context {
        values: &values.value,
        mode: "prod",
        stack: &stack,
    })
    .expect("renders");
    bencher.bench(|| manifest::build(&stack, &output.templates).expect("valid objects"));
}

/// YAML emission of the ordered objects.
#[divan::bench(args = SIZES, sample_count = 10)]
fn stage_emit(bencher: Bencher, components: usize) {
    let stack = synthetic_stack(components);
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
#[divan::bench(args = SIZES, sample_count = 5)]
fn process_render(bencher: Bencher, components: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic::write_stack(dir.path(), components);
    let stack = dir.path().to_str().expect("utf-8 temp path").to_owned();
    bencher.bench(|| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_somagen"))
            .args(["render", "--mode", "prod", "--stack", &stack])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("somagen runs");
        assert!(status.success());
    });
}
