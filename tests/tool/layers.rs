//! The architecture holds: a layer imports only the layers before it (foundation →
//! pipeline → tools → cli), a pipeline stage only earlier stages, and nothing below the CLI
//! prints or exits. A small scan of the sources, so the directions hold after us.

use std::path::Path;

use crate::common::repo;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).expect("source file");
            files.push((path.display().to_string(), text));
        }
    }
    files
}

/// The `crate::` paths a file names (imports and qualified calls alike).
fn crate_paths(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(at, _)| {
            text[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect()
        })
        .collect()
}

fn violations(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in sources(&repo().join("src").join(layer)) {
        for path in crate_paths(&text) {
            if forbidden.iter().any(|f| path.starts_with(f)) {
                found.push(format!("{file}: crate::{path}"));
            }
        }
    }
    found
}

#[test]
fn layers_import_only_the_layers_before_them() {
    assert_eq!(
        violations(
            "foundation",
            &["pipeline", "tools", "cli", "render", "values"]
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        violations("pipeline", &["tools", "cli"]),
        Vec::<String>::new()
    );
    assert_eq!(violations("tools", &["cli"]), Vec::<String>::new());
}

#[test]
fn pipeline_stages_import_only_earlier_stages() {
    let stages = ["stack", "values", "schema", "template", "manifest", "emit"];
    for (i, stage) in stages.iter().enumerate() {
        let later: Vec<String> = stages[i + 1..]
            .iter()
            .map(|s| format!("pipeline::{s}"))
            .collect();
        let later: Vec<&str> = later.iter().map(String::as_str).collect();
        let dir = repo().join("src/pipeline");
        let files = sources(&dir);
        let own = files.iter().filter(|(file, _)| {
            let rel = file
                .strip_prefix(&dir.display().to_string())
                .unwrap_or(file);
            rel.trim_start_matches('/').starts_with(stage)
        });
        for (file, text) in own {
            for path in crate_paths(text) {
                assert!(
                    !later.iter().any(|l| path.starts_with(l)),
                    "{file} (stage {stage}) reaches forward to crate::{path}"
                );
            }
        }
    }
}

#[test]
fn only_the_cli_prints_or_exits() {
    for layer in ["foundation", "pipeline", "tools"] {
        for (file, text) in sources(&repo().join("src").join(layer)) {
            for call in [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "process::exit",
            ] {
                assert!(!text.contains(call), "{file} uses {call}");
            }
        }
    }
}

#[test]
fn the_scan_sees_a_violation() {
    assert_eq!(
        crate_paths("use crate::tools::lint;\nlet x = crate::cli::run();"),
        ["tools::lint;", "cli::run"]
            .iter()
            .map(|p| p.trim_end_matches(';').to_owned())
            .collect::<Vec<_>>()
    );
}
