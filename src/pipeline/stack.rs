//! Stage 1, load: find the stack, read its files into memory, parse `stack.yaml`.
//!
//! A stack is read once, whole, into a [`Stack`]: every later stage works on memory, so a
//! render is a pure function of these bytes, and the template loader cannot reach a file
//! that is not part of the stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::foundation::diag::{Code, Diagnostic, Location, Result};

pub use crate::foundation::io::MAX_FILE_BYTES;

/// The directories (besides `stack.yaml`) that make up a stack.
/// `smoke/` holds the smoke-test Job templates (`somagen smoke`), rendered apart from `templates/`.
pub const STACK_DIRS: [&str; 5] = ["overlays", "schema", "templates", "files", "smoke"];

static EMBEDDED_OVERLAYS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/overlays");
static EMBEDDED_SCHEMA: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/schema");
static EMBEDDED_TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static EMBEDDED_FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/files");
static EMBEDDED_SMOKE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/smoke");
static EMBEDDED_STACK_YAML: &str = include_str!("../../stack.yaml");

/// `stack.yaml`: the marker of a stack and its metadata.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackMeta {
    pub name: String,
    pub version: String,
    pub kube_version: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The modes, in order; each has `overlays/<mode>.yaml`.
    pub modes: Vec<String>,
    /// Modes whose output must carry no plaintext Secret.
    #[serde(default)]
    pub production_modes: Vec<String>,
    /// Whether the stack has an `images.lock` (not a key of stack.yaml): its images are
    /// pinned to digests, and lint requires digests in production modes.
    #[serde(skip)]
    pub images_locked: bool,
}

/// The stack's image lock: image reference -> sha256 digest (see `pipeline::pin`).
pub const IMAGES_LOCK: &str = "images.lock";

/// Where a stack was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Dir(PathBuf),
    Embedded,
    /// The stack of a directory as of a git revision (`somagen diff --against-rev`).
    Revision {
        dir: PathBuf,
        rev: String,
    },
}

/// A stack, read whole into memory: file contents keyed by their path relative to the root.
#[derive(Debug, Clone)]
pub struct Stack {
    pub origin: Origin,
    pub meta: StackMeta,
    /// Shared, not copied: the template loader keeps a handle for the life of a render.
    files: Arc<BTreeMap<String, String>>,
}

impl Stack {
    /// Resolve the stack as DESIGN §1 says: `--stack DIR`, else the nearest ancestor of
    /// `cwd` holding `stack.yaml`, else the stack embedded in the binary.
    pub fn resolve(explicit: Option<&Path>, cwd: &Path) -> Result<Stack> {
        match explicit {
            Some(dir) => Stack::from_dir(dir),
            None => match cwd.ancestors().find(|dir| dir.join("stack.yaml").is_file()) {
                Some(dir) => Stack::from_dir(dir),
                None => Stack::embedded(),
            },
        }
    }

    /// The soma-infra stack compiled into this binary.
    pub fn embedded() -> Result<Stack> {
        let mut files = BTreeMap::new();
        files.insert("stack.yaml".to_owned(), EMBEDDED_STACK_YAML.to_owned());
        let embedded = [
            ("overlays", &EMBEDDED_OVERLAYS),
            ("schema", &EMBEDDED_SCHEMA),
            ("templates", &EMBEDDED_TEMPLATES),
            ("files", &EMBEDDED_FILES),
            ("smoke", &EMBEDDED_SMOKE),
        ];
        for (name, dir) in embedded {
            collect_embedded(name, dir, &mut files);
        }
        Stack::from_files(Origin::Embedded, files)
    }

    /// Read the stack rooted at `root`.
    pub fn from_dir(root: &Path) -> Result<Stack> {
        let marker = root.join("stack.yaml");
        if !marker.is_file() {
            return Err(Diagnostic::error(
                Code::Stack,
                format!("no stack found: `{}` has no stack.yaml", root.display()),
            )
            .hint("pass --stack DIR pointing at a directory with stack.yaml, overlays/, schema/ and templates/")
            .into());
        }
        // Files are read as the walk finds them, on all cores; what was found is put back in
        // walking order, and the first problem in that order is the one reported.
        let found = Mutex::new(vec![(vec![0], read_found("stack.yaml".to_owned(), marker))]);
        let walk = Walk {
            root,
            found: &found,
        };
        rayon::scope(|scope| {
            for (index, dir) in STACK_DIRS.iter().enumerate() {
                walk.dir(scope, PathBuf::from(dir), vec![index + 1]);
            }
        });
        let mut found = found.into_inner().unwrap_or_else(PoisonError::into_inner);
        let lock = root.join(IMAGES_LOCK);
        if lock.is_file() {
            let last = vec![STACK_DIRS.len() + 1];
            found.push((last, read_found(IMAGES_LOCK.to_owned(), lock)));
        }
        found.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let files = found
            .into_iter()
            .map(|(_, file)| file)
            .collect::<Result<BTreeMap<_, _>>>()?;
        Stack::from_files(Origin::Dir(root.to_path_buf()), files)
    }

    /// Build a stack from in-memory files (tests and benchmarks use this directly).
    pub fn from_files(origin: Origin, files: BTreeMap<String, String>) -> Result<Stack> {
        let text = files.get("stack.yaml").ok_or_else(|| {
            Diagnostic::error(Code::Stack, "the stack has no stack.yaml")
                .at(Location::Path("stack.yaml".into()))
        })?;
        let parsed = crate::foundation::yaml::values::parse_yaml("stack.yaml", text)?;
        let mut meta: StackMeta = serde_json::from_value(parsed.value).map_err(|err| {
            Diagnostic::error(Code::Stack, format!("invalid stack.yaml: {err}"))
                .at(Location::Path("stack.yaml".into()))
                .hint("stack.yaml holds name, version, kubeVersion, modes, and optionally description and productionModes")
        })?;
        meta.images_locked = files.contains_key(IMAGES_LOCK);
        if meta.modes.is_empty() {
            return Err(Diagnostic::error(Code::Stack, "stack.yaml lists no modes")
                .at(Location::Path("stack.yaml".into()))
                .hint("add `modes: [dev, prod]`")
                .into());
        }
        Ok(Stack {
            origin,
            meta,
            files: Arc::new(files),
        })
    }

    /// The contents of a stack file, by path relative to the root.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// All files, shared.
    pub fn files(&self) -> Arc<BTreeMap<String, String>> {
        Arc::clone(&self.files)
    }

    /// The files under `dir/`, in path order.
    pub fn files_under<'a>(
        &'a self,
        dir: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let prefix = format!("{dir}/");
        self.files
            .range(prefix.clone()..)
            .take_while(move |(path, _)| path.starts_with(&prefix))
            .map(|(path, text)| (path.as_str(), text.as_str()))
    }

    /// A file the stack must have, or an error naming it.
    pub fn required_file(&self, path: &str, what: &str) -> Result<&str> {
        self.file(path).ok_or_else(|| {
            Diagnostic::error(Code::Stack, format!("missing {what} `{path}`"))
                .at(Location::Path(path.to_owned()))
                .into()
        })
    }

    /// Check that `mode` is one of the stack's modes.
    pub fn check_mode(&self, mode: &str) -> Result<()> {
        if self.meta.modes.iter().any(|m| m == mode) {
            return Ok(());
        }
        let valid = self.meta.modes.join(", ");
        let hint = match crate::foundation::suggest::nearest(
            mode,
            self.meta.modes.iter().map(String::as_str),
        ) {
            Some(near) => format!("did you mean `{near}`? valid modes: {valid}"),
            None => format!("valid modes: {valid}"),
        };
        Err(
            Diagnostic::error(Code::Usage, format!("unknown mode `{mode}`"))
                .hint(hint)
                .into(),
        )
    }

    /// A short description of where the stack came from, for messages.
    /// The directory of a stack read from disk, which `command` needs (golden files live
    /// there; git reads it).
    pub fn root_dir(&self, command: &str) -> Result<&Path> {
        match &self.origin {
            Origin::Dir(dir) => Ok(dir),
            _ => Err(Diagnostic::error(
                Code::Usage,
                format!(
                    "`somagen {command}` needs a stack directory, but the stack is {}",
                    self.describe()
                ),
            )
            .hint("run it inside a stack directory (one holding stack.yaml), or pass --stack DIR")
            .into()),
        }
    }

    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::Dir(dir) => dir.display().to_string(),
            Origin::Embedded => format!("{} (embedded)", self.meta.name),
            Origin::Revision { dir, rev } => format!("{} at revision {rev}", dir.display()),
        }
    }
}

/// Collect an embedded directory; include_dir paths are relative to the embedded root, so
/// the root's own name is prepended to give stack-relative keys.
fn collect_embedded(name: &str, dir: &Dir<'_>, files: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            files.insert(to_key(&Path::new(name).join(file.path())), text.to_owned());
        }
    }
    for sub in dir.dirs() {
        collect_embedded(name, sub, files);
    }
}

fn to_key(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A file of a stack's tree, read (its key: path relative to the root, with `/`), or a
/// problem met where the walk found it; each with its place in walking order, the entry
/// indices from the root down.
type Found = (Vec<usize>, Result<(String, String)>);

fn read_found(key: String, path: PathBuf) -> Result<(String, String)> {
    read_file(&path, &key).map(|text| (key, text))
}

/// A walk of a stack's tree that reads each file as it finds it, and goes into each
/// directory, on the thread pool.
#[derive(Clone, Copy)]
struct Walk<'a> {
    root: &'a Path,
    found: &'a Mutex<Vec<Found>>,
}

impl<'a> Walk<'a> {
    fn put(&self, place: Vec<usize>, found: Result<(String, String)>) {
        let mut all = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        all.push((place, found));
    }

    /// Every regular file under `root/rel`. Symlinks are refused: they are the one way a
    /// template or static file could reach outside the stack.
    fn dir(self, scope: &rayon::Scope<'a>, rel: PathBuf, place: Vec<usize>) {
        let listed = std::fs::read_dir(self.root.join(&rel))
            .and_then(|entries| entries.collect::<std::io::Result<Vec<_>>>());
        let mut entries = match listed {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return,
            Err(err) => return self.put(place, Err(io_error(&to_key(&rel), &err).into())),
        };
        entries.sort_by_key(|entry| entry.file_name());
        for (index, entry) in entries.into_iter().enumerate() {
            let place = [place.as_slice(), &[index]].concat();
            let rel_path = rel.join(entry.file_name());
            let key = to_key(&rel_path);
            match entry.file_type() {
                Err(err) => self.put(place, Err(io_error(&key, &err).into())),
                Ok(kind) if kind.is_symlink() => self.put(
                    place,
                    Err(Diagnostic::error(
                        Code::Stack,
                        "symbolic links are not allowed in a stack",
                    )
                    .at(Location::Path(key))
                    .hint("copy the file into the stack instead of linking to it")
                    .into()),
                ),
                Ok(kind) if kind.is_dir() => {
                    scope.spawn(move |scope| self.dir(scope, rel_path, place));
                }
                Ok(kind) if kind.is_file() => {
                    let path = entry.path();
                    scope.spawn(move |_| self.put(place, read_found(key, path)));
                }
                Ok(_) => {}
            }
        }
    }
}

/// A stack file's text. The file is opened once and its size read from the open file:
/// a stack is a hundred files or more, and each lookup of a path is a walk of it.
fn read_file(path: &Path, key: &str) -> Result<String> {
    use std::io::Read as _;
    let io_error = |err: std::io::Error| io_error(key, &err);
    let file = std::fs::File::open(path).map_err(io_error)?;
    let len = file.metadata().map_err(io_error)?.len();
    let too_long = |len: u64| {
        Diagnostic::error(
            Code::Stack,
            format!("file is {len} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
        )
        .at(Location::Path(key.to_owned()))
    };
    if len > MAX_FILE_BYTES {
        return Err(too_long(len).into());
    }
    let mut text = String::with_capacity(len as usize);
    // Bounded again: the file may grow while it is read.
    (&file)
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io_error)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(too_long(text.len() as u64).into());
    }
    Ok(text)
}

fn io_error(key: &str, err: &std::io::Error) -> Diagnostic {
    Diagnostic::error(Code::Io, err.to_string()).at(Location::Path(key.to_owned()))
}
