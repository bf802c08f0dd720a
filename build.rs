//! Embedding the repository's own stack needs cargo to notice added or deleted files,
//! which `include_dir!` alone does not: rerun when any stack directory changes.
//!
//! On Linux the binary is linked at a fixed address. A position-independent somagen has
//! about 16,000 relocations, pointers in static tables (to strings and to code),
//! which the dynamic loader applies at every start: 3 to 5 % of a small render.
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
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
