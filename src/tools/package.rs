//! `somagen package`: a reproducible archive of the rendered manifests plus `provenance.json`.
//!
//! The same inputs give the same bytes, so consumers can pin the archive by digest: entries
//! are sorted, every header has mtime 0, uid/gid 0, no user or group names and mode 0644; the
//! gzip header has mtime 0, no file name and a fixed OS byte. The provenance names the stack,
//! its version, the modes, the user's values layers, and the sha256 of every stack input file
//! and of every output file.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::pipeline::emit;
use crate::pipeline::stack::Stack;
use crate::{SetFlag, UserValues};

/// How the tar stream is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

impl Compression {
    /// From the output file name: `.tar`, or `.tar.gz`/`.tgz`.
    pub fn for_path(path: &Path) -> Result<Compression> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Ok(Compression::Gzip)
        } else if name.ends_with(".tar") {
            Ok(Compression::None)
        } else {
            Err(Diagnostic::error(
                Code::Usage,
                "the archive name must end in .tar, .tar.gz or .tgz",
            )
            .at(Location::Path(path.display().to_string()))
            .hint("e.g. --output soma-infra-prod.tar.gz")
            .into())
        }
    }
}

/// The default archive name: `<stack>-<version>-<mode|all>.tar.gz`.
pub fn default_name(stack: &Stack, modes: &[String]) -> String {
    let which = match modes {
        [one] => one.clone(),
        _ => "all".to_owned(),
    };
    format!("{}-{}-{which}.tar.gz", stack.meta.name, stack.meta.version)
}

/// Render `modes` and build the archive bytes; nothing is written.
pub fn build(
    stack: &Stack,
    modes: &[String],
    user: &UserValues,
    compression: Compression,
) -> Result<Vec<u8>> {
    let prefix = format!("{}-{}", stack.meta.name, stack.meta.version);
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut diagnostics = Vec::new();
    for mode in modes {
        match crate::render(stack, mode, user) {
            Ok(rendered) => {
                outputs.push((format!("{mode}.yaml"), emit::yaml_stream(&rendered.objects)))
            }
            Err(Diagnostics(mut list)) => {
                for diagnostic in &mut list {
                    diagnostic.message = format!("mode {mode}: {}", diagnostic.message);
                }
                diagnostics.append(&mut list);
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let provenance = provenance(stack, modes, user, &outputs);
    let mut entries: Vec<(String, Vec<u8>)> = outputs
        .into_iter()
        .map(|(name, text)| (format!("{prefix}/{name}"), text.into_bytes()))
        .collect();
    entries.push((format!("{prefix}/provenance.json"), provenance.into_bytes()));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let io = |err: std::io::Error| {
        Diagnostics::from(Diagnostic::error(
            Code::Io,
            format!("cannot build the archive: {err}"),
        ))
    };
    let tar = tar_bytes(&entries).map_err(io)?;
    match compression {
        Compression::None => Ok(tar),
        Compression::Gzip => gzip(&tar).map_err(io),
    }
}

/// `provenance.json`: what went in and what came out, with sha256 digests.
fn provenance(
    stack: &Stack,
    modes: &[String],
    user: &UserValues,
    outputs: &[(String, String)],
) -> String {
    let inputs: Vec<Value> = stack
        .files()
        .iter()
        .map(|(path, text)| json!({"path": path, "sha256": sha256(text.as_bytes())}))
        .collect();
    let files: Vec<Value> = user
        .files
        .iter()
        .map(|(name, text)| json!({"path": name, "sha256": sha256(text.as_bytes())}))
        .collect();
    let sets: Vec<String> = user
        .sets
        .iter()
        .map(|flag| match flag {
            SetFlag::Set(arg) => format!("--set {arg}"),
            SetFlag::String(arg) => format!("--set-string {arg}"),
            SetFlag::Json(arg) => format!("--set-json {arg}"),
            SetFlag::File(arg) => format!("--set-file {arg}"),
        })
        .collect();
    let outputs: Vec<Value> = outputs
        .iter()
        .map(|(name, text)| json!({"path": name, "sha256": sha256(text.as_bytes())}))
        .collect();
    let doc = json!({
        "stack": {
            "name": stack.meta.name,
            "version": stack.meta.version,
            "kubeVersion": stack.meta.kube_version,
        },
        "generator": format!("somagen {}", env!("CARGO_PKG_VERSION")),
        "modes": modes,
        "values": {"files": files, "flags": sets},
        "inputs": inputs,
        "outputs": outputs,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Lowercase hex sha256.
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn tar_bytes(entries: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (path, data) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(path)?;
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("")?;
        header.set_groupname("")?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, data.as_slice())?;
    }
    builder.into_inner()
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // GzBuilder writes mtime 0 and no file name unless told otherwise; the OS byte is fixed.
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// The in-toto Statement (v1) of an archive with a SLSA Provenance (v1) predicate: the
/// subject is the archive (its file name and sha256), the resolved dependencies every input
/// (each stack file and `-f` values file, by path and sha256), the external parameters the
/// stack, modes and `--set` flags (their values as sha256, so credentials never leave in an
/// attestation). No clock, host or randomness: the same inputs give the same bytes.
///
/// `cosign attest-blob --predicate <predicate> --type slsaprovenance1 <archive>` signs the
/// predicate ([`provenance_statement`]`["predicate"]`).
pub fn provenance_statement(
    stack: &Stack,
    modes: &[String],
    user: &UserValues,
    archive_name: &str,
    archive: &[u8],
) -> Value {
    let mut dependencies: Vec<Value> = stack
        .files()
        .iter()
        .map(|(path, text)| json!({"name": path, "digest": {"sha256": sha256(text.as_bytes())}}))
        .collect();
    dependencies.extend(
        user.files.iter().map(
            |(name, text)| json!({"name": name, "digest": {"sha256": sha256(text.as_bytes())}}),
        ),
    );
    let flags: Vec<String> = user
        .sets
        .iter()
        .map(|flag| {
            let (name, arg) = match flag {
                SetFlag::Set(arg) => ("--set", arg),
                SetFlag::String(arg) => ("--set-string", arg),
                SetFlag::Json(arg) => ("--set-json", arg),
                SetFlag::File(arg) => ("--set-file", arg),
            };
            match arg.split_once('=') {
                Some((key, value)) => format!("{name} {key}=sha256:{}", sha256(value.as_bytes())),
                None => format!("{name} {arg}"),
            }
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": archive_name, "digest": {"sha256": sha256(archive)}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://somagen.dev/package/v1",
                "externalParameters": {
                    "stack": {"name": stack.meta.name, "version": stack.meta.version},
                    "modes": modes,
                    "values": {
                        "files": user.files.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                        "flags": flags,
                    },
                },
                "internalParameters": {"kubeVersion": stack.meta.kube_version},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": "https://somagen.dev/builder/somagen",
                    "version": {"somagen": version},
                },
                "metadata": {},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_format_follows_the_file_name() {
        assert_eq!(
            Compression::for_path(Path::new("a.tar")).ok(),
            Some(Compression::None)
        );
        assert_eq!(
            Compression::for_path(Path::new("a.tar.gz")).ok(),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::for_path(Path::new("x/a.tgz")).ok(),
            Some(Compression::Gzip)
        );
        assert!(Compression::for_path(Path::new("a.zip")).is_err());
    }

    #[test]
    fn gzip_header_has_no_time_and_no_name() {
        let bytes = gzip(b"hello").unwrap();
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(bytes[9], 255, "fixed OS byte");
    }

    #[test]
    fn tar_headers_are_fixed() {
        let bytes = tar_bytes(&[("p/a.yaml".into(), b"x".to_vec())]).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        let header = entry.header();
        assert_eq!(header.mtime().unwrap(), 0);
        assert_eq!(header.uid().unwrap(), 0);
        assert_eq!(header.mode().unwrap(), 0o644);
        assert_eq!(entry.path().unwrap().to_string_lossy(), "p/a.yaml");
    }
}
