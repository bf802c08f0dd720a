//! Embedding the repository's own stack needs cargo to notice added or deleted files,
//! which `include_dir!` alone does not: rerun when any stack directory changes.
fn main() {
    for path in [
        "stack.yaml",
        "overlays",
        "schema",
        "templates",
        "files",
        "smoke",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
}
