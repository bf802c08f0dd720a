//! The stack of a directory as of a git revision, read into memory with `git ls-tree` and
//! `git cat-file --batch`: the working tree, the index and HEAD are never touched, and no
//! temporary checkout is made.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::pipeline::stack::{MAX_FILE_BYTES, Origin, STACK_DIRS, Stack};

/// The stack rooted at `dir` (a directory inside a git work tree), as of `rev`.
pub fn stack_at(dir: &Path, rev: &str) -> Result<Stack> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(error(format!("`{rev}` is not a revision"))
            .hint("give a commit, branch or tag, e.g. origin/main")
            .into());
    }
    let prefix = git_text(dir, &["rev-parse", "--show-prefix"]).map_err(|err| {
        Diagnostics::from(
            error(format!(
                "`{}` is not inside a git repository: {err}",
                dir.display()
            ))
            .hint("--against-rev reads the stack from git; run it in a repository"),
        )
    })?;
    let prefix = prefix.trim_end_matches('\n').to_owned();
    let spec = format!("{rev}^{{commit}}");
    let commit = git_text(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )
    .map_err(|_| {
        Diagnostics::from(
            error(format!("unknown revision `{rev}`"))
                .hint("check the name; `git log --oneline` lists commits"),
        )
    })?;
    let commit = commit.trim().to_owned();
    let mut args = vec![
        "ls-tree",
        "-r",
        "-l",
        "-z",
        "--full-name",
        commit.as_str(),
        "--",
        "stack.yaml",
        crate::pipeline::stack::IMAGES_LOCK,
    ];
    args.extend(STACK_DIRS);
    let listing = git(dir, &args, None)
        .map_err(|err| Diagnostics::from(error(format!("git ls-tree failed: {err}"))))?;
    let entries = parse_ls_tree(&listing, &prefix, rev)?;
    if !entries.iter().any(|entry| entry.path == "stack.yaml") {
        return Err(error(format!(
            "revision `{rev}` has no stack.yaml in `{}`",
            display_prefix(&prefix)
        ))
        .hint("the stack did not exist at that revision; pick a later one")
        .into());
    }
    let files = read_blobs(dir, &entries, rev)?;
    Stack::from_files(
        Origin::Revision {
            dir: dir.to_path_buf(),
            rev: rev.to_owned(),
        },
        files,
    )
    .map_err(|err| at_revision(err, rev))
}

/// Mark diagnostics about files of a revision as such: their paths are not the working tree's.
pub fn at_revision(Diagnostics(list): Diagnostics, rev: &str) -> Diagnostics {
    Diagnostics(
        list.into_iter()
            .map(|mut d| {
                d.message = format!("{} (at revision {rev})", d.message);
                d
            })
            .collect(),
    )
}

fn display_prefix(prefix: &str) -> &str {
    if prefix.is_empty() {
        "the repository root"
    } else {
        prefix.trim_end_matches('/')
    }
}

fn error(message: String) -> Diagnostic {
    Diagnostic::error(Code::Git, message)
}

#[derive(Debug)]
struct Entry {
    /// Path relative to the stack root.
    path: String,
    object: String,
}

/// Entries of `ls-tree -r -l -z --full-name`: `<mode> <type> <object> <size>\t<path>\0`.
fn parse_ls_tree(listing: &[u8], prefix: &str, rev: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, full_path)) = record.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, _kind, object, size] = fields[..] else {
            continue;
        };
        let path = full_path
            .strip_prefix(prefix)
            .unwrap_or(full_path)
            .to_owned();
        let fail = |message: String| error(message).at(Location::Path(path.clone()));
        match mode {
            "100644" | "100755" => {
                let size: u64 = size.parse().unwrap_or(u64::MAX);
                if size > MAX_FILE_BYTES {
                    errors.push(fail(format!("file is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit (at revision {rev})")));
                } else {
                    entries.push(Entry {
                        path,
                        object: object.to_owned(),
                    });
                }
            }
            "120000" => errors.push(fail(format!(
                "symbolic links are not allowed in a stack (at revision {rev})"
            ))),
            _ => errors.push(fail(format!(
                "not a regular file (git mode {mode}) (at revision {rev})"
            ))),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Read every blob with one `git cat-file --batch`.
fn read_blobs(dir: &Path, entries: &[Entry], rev: &str) -> Result<BTreeMap<String, String>> {
    let input: String = entries
        .iter()
        .map(|entry| format!("{}\n", entry.object))
        .collect();
    let output = git(dir, &["cat-file", "--batch"], Some(input.as_bytes()))
        .map_err(|err| Diagnostics::from(error(format!("git cat-file failed: {err}"))))?;
    let mut files = BTreeMap::new();
    let mut rest = output.as_slice();
    for entry in entries {
        let bad = || {
            Diagnostics::from(error(format!(
                "unexpected `git cat-file` output for {}",
                entry.path
            )))
        };
        let newline = rest.iter().position(|b| *b == b'\n').ok_or_else(bad)?;
        let header = String::from_utf8_lossy(&rest[..newline]).into_owned();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        let body = rest.get(newline + 1..newline + 1 + size).ok_or_else(bad)?;
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            Diagnostics::from(
                error(format!("file is not UTF-8 text (at revision {rev})"))
                    .at(Location::Path(entry.path.clone())),
            )
        })?;
        files.insert(entry.path.clone(), text);
        rest = rest.get(newline + 2 + size..).unwrap_or_default();
    }
    Ok(files)
}

fn git_text(dir: &Path, args: &[&str]) -> std::result::Result<String, String> {
    git(dir, args, None).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// Run git in `dir`, feeding `input` on stdin (from a thread, so large outputs cannot
/// deadlock), and return stdout; a failure returns git's first stderr line.
fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> std::result::Result<Vec<u8>, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run git: {err}"))?;
    let stdin = child.stdin.take();
    let output = std::thread::scope(|scope| {
        if let (Some(mut stdin), Some(input)) = (stdin, input) {
            scope.spawn(move || {
                let _ = stdin.write_all(input);
            });
        }
        child.wait_with_output()
    })
    .map_err(|err| format!("cannot run git: {err}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_tree_records() {
        let listing = b"100644 blob abc      12\tsub/stack.yaml\x00100644 blob def 3\tsub/templates/a.yaml\x00";
        let entries = parse_ls_tree(listing, "sub/", "HEAD").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].path, "stack.yaml");
        assert_eq!(entries[1].object, "def");
        let err = parse_ls_tree(b"120000 blob abc 3\tsub/templates/l.yaml\0", "sub/", "HEAD")
            .unwrap_err();
        assert!(err.to_string().contains("symbolic links"), "{err}");
        let err =
            parse_ls_tree(b"160000 commit abc -\tsub/files/mod\0", "sub/", "HEAD").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let big = format!("100644 blob abc {}\tstack.yaml\0", MAX_FILE_BYTES + 1);
        assert!(parse_ls_tree(big.as_bytes(), "", "HEAD").is_err());
    }
}
