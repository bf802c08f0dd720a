//! Stage 4, render: run every template of the stack through minijinja.
//!
//! The environment is strict (undefined values are errors), never escapes (the output is
//! YAML, not HTML), trims block whitespace, and loads templates only from the in-memory
//! `templates/` of the stack, so an include cannot climb out of it or follow a symlink.
//! Reads of `values` are recorded so unused values can be reported.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use minijinja::value::{Enumerator, Object, ObjectRepr, Serde};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::foundation::diag::{Code, Diagnostic, Diagnostics, Location, Result};
use crate::foundation::yaml::manifest;
use crate::pipeline::stack::Stack;

/// Instructions one template may execute before it is stopped as runaway.
const FUEL: u64 = 50_000_000;
/// Nesting of includes, macro calls and blocks before a template is stopped as recursive.
const RECURSION_LIMIT: usize = 100;

/// The text one template rendered, or a run of its documents (see
/// [`Templates::render_in_parts`]).
#[derive(Debug, Clone)]
pub struct RenderedTemplate {
    /// Path relative to the stack root, e.g. `templates/redis/statefulset.yaml`.
    pub path: String,
    pub text: String,
    /// Where `text` starts in the template's output: its line (from 1), and how many
    /// documents come before it.
    pub first_line: usize,
    pub first_document: usize,
}

/// Everything the templates produced (by default their text; see [`Templates::render_in_parts`]),
/// plus the value paths they read.
#[derive(Debug, Clone)]
pub struct Output<T = RenderedTemplate> {
    pub templates: Vec<T>,
    /// JSON pointers of the values that templates read as scalars or lists.
    pub reads: BTreeSet<String>,
}

/// What the templates see: `values`, `mode` and `stack`.
pub struct Context<'a> {
    /// Shared, not copied: the templates' view of the values keeps a handle for the render.
    pub values: Arc<serde_json::Value>,
    pub mode: &'a str,
    pub stack: &'a Stack,
}

/// Render every template of the stack (helpers excluded), in parallel.
pub fn render(ctx: &Context<'_>) -> Result<Output> {
    Templates::new(ctx.stack)?.render(ctx)
}

/// The templates of one stack, ready to render in any mode: the environment (syntax,
/// filters, loader) that each render extends with its values and mode.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Templates compiled on first use, by the render that needs them.
    pub fn new(stack: &Stack) -> Result<Templates> {
        Ok(Templates {
            env: base_environment(stack)?,
        })
    }

    /// Every file of `templates/` compiled now, for renders of several modes: each render
    /// clones the environment, and clones share what is already compiled (compiling is a
    /// sixth of a small stack's render). A template that does not compile is left to the
    /// render that loads it, which reports it as it always does.
    pub fn compiled(stack: &Stack) -> Result<Templates> {
        let templates = Templates::new(stack)?;
        for (path, _) in stack.files_under("templates") {
            let _ = templates.env.get_template(&path["templates/".len()..]);
        }
        Ok(templates)
    }

    /// Render every template of the stack (helpers excluded), in parallel.
    pub fn render(&self, ctx: &Context<'_>) -> Result<Output> {
        self.render_templates(ctx, None, |template| template)
    }

    /// [`Templates::render`], with each template's output handed to `then` in parts of whole
    /// documents, about [`PART_BYTES`] each, while it is still rendering: the next stage
    /// runs beside a long template instead of after it, and each part's text can be freed
    /// as soon as it is used. `Output::templates` holds what `then` made of the parts, in
    /// output order.
    pub fn render_in_parts<T: Send>(
        &self,
        ctx: &Context<'_>,
        then: impl Fn(RenderedTemplate) -> T + Sync,
    ) -> Result<Output<T>> {
        self.render_templates(ctx, Some(PART_BYTES), then)
    }

    fn render_templates<T: Send>(
        &self,
        ctx: &Context<'_>,
        part_bytes: Option<usize>,
        then: impl Fn(RenderedTemplate) -> T + Sync,
    ) -> Result<Output<T>> {
        let reads = Arc::new(Mutex::new(BTreeSet::new()));
        let env = self.for_mode(ctx, &reads);
        render_in(
            ctx,
            env,
            reads,
            "templates",
            |path| path["templates/".len()..].to_owned(),
            part_bytes,
            then,
        )
    }

    /// The environment of one render: the shared one plus its values and mode.
    fn for_mode(
        &self,
        ctx: &Context<'_>,
        reads: &Arc<Mutex<BTreeSet<String>>>,
    ) -> Environment<'static> {
        let mut env = self.env.clone();
        env.add_global(
            "values",
            Value::from_object(TrackedMap {
                root: Arc::clone(&ctx.values),
                pointer: String::new(),
                reads: Arc::clone(reads),
                lists: Arc::default(),
            }),
        );
        env.add_global("mode", ctx.mode.to_owned());
        env
    }
}

/// Render every template under another root of the stack (e.g. `smoke/`, whose objects are
/// not part of the normal render) with the same environment, values and filters. Imports and
/// includes still resolve against `templates/`, so the stack's helper macros are shared.
pub fn render_root(ctx: &Context<'_>, root: &str) -> Result<Output> {
    let reads = Arc::new(Mutex::new(BTreeSet::new()));
    let mut env = Templates::new(ctx.stack)?.for_mode(ctx, &reads);
    for (path, text) in ctx
        .stack
        .files_under(root)
        .filter(|(path, _)| is_rendered(path))
    {
        // A leading `/` keeps these names apart from loader names, which may not start with it.
        env.add_template_owned(format!("/{path}"), text.to_owned())
            .map_err(|err| diagnose(ctx.stack, &err))?;
    }
    render_in(
        ctx,
        env,
        reads,
        root,
        |path| format!("/{path}"),
        None,
        |t| t,
    )
}

fn render_in<T: Send>(
    ctx: &Context<'_>,
    env: Environment<'static>,
    reads: Arc<Mutex<BTreeSet<String>>>,
    root: &str,
    name_of: impl Fn(&str) -> String + Sync,
    part_bytes: Option<usize>,
    then: impl Fn(RenderedTemplate) -> T + Sync,
) -> Result<Output<T>> {
    let names: Vec<&str> = ctx
        .stack
        .files_under(root)
        .map(|(path, _)| path)
        .filter(|path| is_rendered(path))
        .collect();
    // What `then` made of each part, with the numbers of its template and part.
    let handed_on: Mutex<Vec<(usize, usize, T)>> = Mutex::default();
    // Boxed: a Diagnostic is large, and most results are Ok.
    let results: Vec<std::result::Result<(), Box<Diagnostic>>> = rayon::scope(|scope| {
        names
            .par_iter()
            .enumerate()
            .map(|(number, path)| {
                let template = env
                    .get_template(&name_of(path))
                    .map_err(|err| Box::new(diagnose(ctx.stack, &err)))?;
                let (then, handed_on) = (&then, &handed_on);
                let hand_on = |part: RenderedTemplate, part_number: usize| {
                    // The rest of the render goes on while `then` runs on another core.
                    scope.spawn(move |_| {
                        let result = then(part);
                        lock(handed_on).push((number, part_number, result));
                    });
                };
                render_bounded(ctx.stack, path, template, part_bytes, &hand_on)
            })
            .collect()
    });
    let diagnostics: Vec<Diagnostic> = results
        .into_iter()
        .filter_map(|result| result.err().map(|diagnostic| *diagnostic))
        .collect();
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let mut handed_on = handed_on
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    handed_on.sort_unstable_by_key(|(template, part, _)| (*template, *part));
    drop(env);
    let reads = match Arc::try_unwrap(reads) {
        Ok(mutex) => mutex
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
        Err(shared) => lock(&shared).clone(),
    };
    Ok(Output {
        templates: handed_on.into_iter().map(|(.., result)| result).collect(),
        reads,
    })
}

/// The data behind a lock, even if a thread panicked while holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Most text one template may render: a runaway template fails with an error long before
/// it could exhaust memory.
const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;

/// About how much of a template's output [`Templates::render_in_parts`] hands on at once:
/// small enough that a large template's documents are checked while it renders, large
/// enough that each part is a few dozen documents.
pub const PART_BYTES: usize = 64 * 1024;

/// Render a template into a buffer that refuses to grow past [`MAX_OUTPUT_BYTES`], handing
/// its output to `hand_on` in parts of about `part_bytes` (the whole output at once with
/// `None`).
fn render_bounded(
    stack: &Stack,
    path: &str,
    template: minijinja::Template<'_, '_>,
    part_bytes: Option<usize>,
    hand_on: &(dyn Fn(RenderedTemplate, usize) + Sync),
) -> std::result::Result<(), Box<Diagnostic>> {
    let mut out = Parts {
        path,
        pending: Vec::new(),
        written: 0,
        overflowed: false,
        not_utf8: false,
        part_bytes,
        next_cut: part_bytes.unwrap_or(usize::MAX),
        looked: 0,
        scanned: 0,
        first_line: 1,
        first_document: 0,
        handed_on: 0,
        hand_on,
    };
    let rendered = template.render_captured_to((), &mut out);
    if out.overflowed {
        let mib = MAX_OUTPUT_BYTES / (1024 * 1024);
        return Err(Box::new(
            Diagnostic::error(
                Code::Template,
                format!("the template renders more than {mib} MiB"),
            )
            .at(Location::Path(path.to_owned()))
            .hint("a loop or a string repetition runs away"),
        ));
    }
    let not_utf8 = || {
        Box::new(
            Diagnostic::error(Code::Template, "the output is not UTF-8")
                .at(Location::Path(path.to_owned())),
        )
    };
    if out.not_utf8 {
        return Err(not_utf8());
    }
    rendered.map_err(|err| Box::new(diagnose(stack, &err)))?;
    let rest = String::from_utf8(std::mem::take(&mut out.pending)).map_err(|_| not_utf8())?;
    out.hand_on_text(rest);
    Ok(())
}

/// A template's output as it renders, handed on in parts of whole documents.
struct Parts<'a> {
    path: &'a str,
    /// The output not handed on yet.
    pending: Vec<u8>,
    written: usize,
    overflowed: bool,
    not_utf8: bool,
    part_bytes: Option<usize>,
    /// The length of `pending` at which to look for the end of a part again.
    next_cut: usize,
    /// How much of `pending` has been searched for line breaks, and where the first line
    /// not yet searched for a marker starts.
    looked: usize,
    scanned: usize,
    /// Where `pending` starts in the output.
    first_line: usize,
    first_document: usize,
    handed_on: usize,
    hand_on: &'a (dyn Fn(RenderedTemplate, usize) + Sync),
}

impl Parts<'_> {
    /// Hand on what is pending up to its last document marker line, if the part before it
    /// holds documents. Each byte is looked at a bounded number of times, however long a
    /// document grows.
    fn cut(&mut self, part_bytes: usize) -> std::io::Result<()> {
        self.next_cut = self.pending.len() + part_bytes;
        // The lines completed since the last look, from the start of the first of them.
        let new = self.looked;
        self.looked = self.pending.len();
        let Some(last_break) = self.pending[new..].iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let (from, end) = (self.scanned, new + last_break + 1);
        self.scanned = end;
        let Ok(lines) = std::str::from_utf8(&self.pending[from..end]) else {
            return self.not_utf8();
        };
        let Some(at) = manifest::last_marker(lines).map(|offset| from + offset) else {
            return Ok(());
        };
        let Ok(part) = std::str::from_utf8(&self.pending[..at]) else {
            return self.not_utf8();
        };
        // Text before a template's first marker is a document only if it holds something.
        if at == 0 || (self.handed_on == 0 && manifest::is_blank_or_comments(part)) {
            return Ok(());
        }
        let documents = manifest::split_documents(part).len();
        let lines = part.bytes().filter(|&b| b == b'\n').count();
        let mut rest = Vec::with_capacity(self.pending.len() - at + part_bytes);
        rest.extend_from_slice(&self.pending[at..]);
        self.pending.truncate(at);
        let part = std::mem::replace(&mut self.pending, rest);
        self.scanned -= at;
        self.looked -= at;
        // Checked just above.
        self.hand_on_text(String::from_utf8(part).unwrap_or_default());
        self.first_line += lines;
        self.first_document += documents;
        Ok(())
    }

    /// Stop the render: whole lines of its output are not UTF-8.
    fn not_utf8(&mut self) -> std::io::Result<()> {
        self.not_utf8 = true;
        Err(std::io::Error::other("not UTF-8"))
    }

    fn hand_on_text(&mut self, text: String) {
        let part = RenderedTemplate {
            path: self.path.to_owned(),
            text,
            first_line: self.first_line,
            first_document: self.first_document,
        };
        (self.hand_on)(part, self.handed_on);
        self.handed_on += 1;
    }
}

impl std::io::Write for Parts<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.written + bytes.len() > MAX_OUTPUT_BYTES {
            // minijinja reports a failed write generically; the flag keeps the reason.
            self.overflowed = true;
            return Err(std::io::Error::other("output limit"));
        }
        self.written += bytes.len();
        self.pending.extend_from_slice(bytes);
        if let Some(part_bytes) = self.part_bytes
            && self.pending.len() >= self.next_cut
        {
            self.cut(part_bytes)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Templates are `templates/**/*.yaml|yml`; files whose name starts with `_` are helpers.
fn is_rendered(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    !file.starts_with('_') && (file.ends_with(".yaml") || file.ends_with(".yml"))
}

/// What every render of `stack` shares: settings, loader, filters, functions and `stack`.
fn base_environment(stack: &Stack) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Templates are written for trim_blocks and lstrip_blocks: without them every block tag
    // leaves a blank line, so a failure to set them must stop the render, not pass silently.
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|err| Diagnostic::error(Code::Template, format!("template syntax: {err}")))?;
    env.set_syntax(syntax);

    let files = stack.files();
    let loader_files = Arc::clone(&files);
    env.set_loader(move |name| load_template(&loader_files, name));

    let meta = &stack.meta;
    env.add_global(
        "stack",
        Value::from(Serde(serde_json::json!({
            "name": meta.name, "version": meta.version, "kubeVersion": meta.kube_version,
        }))),
    );

    env.add_filter("toyaml", to_yaml);
    env.add_filter("indent", indent);
    env.add_filter("nindent", nindent);
    env.add_filter("b64encode", |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(text)
    });
    env.add_filter("sha256", |text: &str| hex(&Sha256::digest(text.as_bytes())));
    env.add_filter("quote", quote);
    env.add_filter("fromjson", from_json);
    env.add_filter("required", required);
    env.add_function(
        "fail",
        |message: &str| -> std::result::Result<Value, Error> {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("fail: {message}"),
            ))
        },
    );
    env.add_function(
        "file",
        move |path: &str| -> std::result::Result<String, Error> { read_static_file(&files, path) },
    );
    Ok(env)
}

/// Template names are relative to `templates/`; `..`, absolute paths and backslashes are
/// refused so that nothing outside `templates/` can be loaded.
fn load_template(
    files: &BTreeMap<String, String>,
    name: &str,
) -> std::result::Result<Option<String>, Error> {
    if !is_confined(name) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "template `{name}` is outside templates/: names are relative to templates/ and may not contain `..`"
            ),
        ));
    }
    Ok(files.get(&format!("templates/{name}")).cloned())
}

fn read_static_file(
    files: &BTreeMap<String, String>,
    path: &str,
) -> std::result::Result<String, Error> {
    if !is_confined(path) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "file(`{path}`) is outside files/: paths are relative to files/ and may not contain `..`"
            ),
        ));
    }
    files.get(&format!("files/{path}")).cloned().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("file(`{path}`): no such file files/{path} in the stack"),
        )
    })
}

fn is_confined(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// A template error as a diagnostic: template path, line, and the text of that line.
fn diagnose(stack: &Stack, err: &Error) -> Diagnostic {
    let message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    let Some(name) = err.name() else {
        return Diagnostic::error(Code::Template, message);
    };
    // Names of another root are registered as `/<stack path>`; loader names are under templates/.
    let file = match name.strip_prefix('/') {
        Some(path) => path.to_owned(),
        None => format!("templates/{name}"),
    };
    let line = err.line().unwrap_or(1);
    let mut diagnostic = Diagnostic::error(Code::Template, message).at(Location::File {
        file: file.as_str().into(),
        line,
        col: 1,
    });
    if let Some(text) = stack
        .file(&file)
        .and_then(|source| source.lines().nth(line.saturating_sub(1)))
    {
        diagnostic = diagnostic.hint(format!("{line} | {}", text.trim_end()));
    }
    diagnostic
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `toyaml`: a value as block YAML without the trailing newline, ready for `nindent`.
fn to_yaml(value: Value) -> std::result::Result<String, Error> {
    let text = crate::foundation::yaml::write::yaml_value(&value)
        .map_err(|err| Error::new(ErrorKind::InvalidOperation, format!("toyaml: {err}")))?;
    Ok(text.trim_end_matches('\n').to_owned())
}

/// `indent(n)`: Helm's indent, which indents every line including the first.
fn indent(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `nindent(n)`: a newline, then `indent(n)`.
fn nindent(text: &str, width: usize) -> String {
    format!("\n{}", indent(text, width))
}

/// `fromjson`: a JSON text (a static file, say) as a value; object keys keep their order.
fn from_json(text: &str) -> std::result::Result<Value, Error> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|value| Value::from(Serde(value)))
        .map_err(|err| Error::new(ErrorKind::InvalidOperation, format!("fromjson: {err}")))
}

/// `quote`: a double-quoted string, escaped so YAML reads it back unchanged.
fn quote(value: Value) -> String {
    let text = match value.as_str() {
        Some(text) => text.to_owned(),
        None => value.to_string(),
    };
    serde_json::Value::String(text).to_string()
}

/// `required(msg)`: the value, unless it is undefined, none or empty.
fn required(value: Value, message: &str) -> std::result::Result<Value, Error> {
    let missing = value.is_undefined() || value.is_none() || value.as_str() == Some("");
    if missing {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("required: {message}"),
        ))
    } else {
        Ok(value)
    }
}

/// `values` as seen by templates: a read-only view of the merged values that records which
/// scalars and lists are read, so values nobody reads can be reported as unused.
#[derive(Debug)]
struct TrackedMap {
    root: Arc<serde_json::Value>,
    pointer: String,
    reads: Arc<Mutex<BTreeSet<String>>>,
    lists: Arc<Mutex<HashMap<String, Value>>>,
}

impl TrackedMap {
    /// The mapping this view stands for. Its pointer only ever descends through mapping
    /// keys, so it is walked key by key: `Value::pointer` allocates two strings per
    /// segment, and templates read values hundreds of thousands of times per render.
    fn node(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.pointer
            .split('/')
            .skip(1)
            .try_fold(&*self.root, |node, segment| {
                if segment.contains('~') {
                    node.get(segment.replace("~1", "/").replace("~0", "~"))
                } else {
                    node.get(segment)
                }
            })
            .and_then(serde_json::Value::as_object)
    }

    fn child(&self, key: &str) -> Option<Value> {
        let child = self.node()?.get(key)?;
        let pointer = crate::pipeline::values::child_pointer(&self.pointer, key);
        if child.is_object() {
            return Some(Value::from_object(TrackedMap {
                root: Arc::clone(&self.root),
                pointer,
                reads: Arc::clone(&self.reads),
                lists: Arc::clone(&self.lists),
            }));
        }
        if let Ok(mut reads) = self.reads.lock() {
            reads.insert(pointer.clone());
        }
        if child.is_array() {
            return Some(self.list(pointer, child));
        }
        Some(Value::from(Serde(child)))
    }

    /// A list as a template value, converted once per render and then shared: templates
    /// read the same large lists again and again (every template of a stack loops over its
    /// components), and each conversion copies the whole list. Template values are
    /// immutable, so a shared conversion is the same value as a fresh one.
    fn list(&self, pointer: String, list: &serde_json::Value) -> Value {
        match self.lists.lock() {
            Ok(mut lists) => lists
                .entry(pointer)
                .or_insert_with(|| Value::from(Serde(list)))
                .clone(),
            Err(_) => Value::from(Serde(list)),
        }
    }
}

impl Object for TrackedMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.child(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<Value> = self
            .node()
            .map(|map| map.keys().map(|k| Value::from(k.as_str())).collect())
            .unwrap_or_default();
        Enumerator::Values(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// `text` written `write_bytes` at a time into parts of `part_bytes`.
    fn parts_of(text: &str, write_bytes: usize, part_bytes: usize) -> Vec<RenderedTemplate> {
        let parts = Mutex::new(Vec::new());
        let hand_on = |part: RenderedTemplate, number: usize| {
            let mut parts = lock(&parts);
            assert_eq!(parts.len(), number, "parts are numbered in order");
            parts.push(part);
        };
        let mut out = Parts {
            path: "templates/t.yaml",
            pending: Vec::new(),
            written: 0,
            overflowed: false,
            not_utf8: false,
            part_bytes: Some(part_bytes),
            next_cut: part_bytes,
            looked: 0,
            scanned: 0,
            first_line: 1,
            first_document: 0,
            handed_on: 0,
            hand_on: &hand_on,
        };
        for bytes in text.as_bytes().chunks(write_bytes) {
            out.write_all(bytes).expect("written");
        }
        let rest = String::from_utf8(std::mem::take(&mut out.pending)).expect("UTF-8");
        out.hand_on_text(rest);
        parts.into_inner().expect("parts")
    }

    #[test]
    fn parts_split_into_the_documents_of_the_whole_output() {
        let mut text = String::from("# a header of comments\n\n");
        for i in 0..400 {
            let marker = ["---\n", "--- # c\n", "---\r\n", "--- k: v\n"][i % 4];
            text.push_str(&format!(
                "{marker}kind: X\nname: n{i}\n# é\n---x: not a marker\n"
            ));
        }
        let whole: Vec<_> = manifest::split_documents(&text)
            .into_iter()
            .map(|chunk| (chunk.text.to_owned(), chunk.first_line))
            .collect();
        for (write_bytes, part_bytes) in [(1, 1), (7, 64), (100, 1024), (4096, 1)] {
            let parts = parts_of(&text, write_bytes, part_bytes);
            assert!(parts.len() > 3, "{} parts", parts.len());
            assert_eq!(
                parts.iter().map(|p| p.text.as_str()).collect::<String>(),
                text
            );
            let mut documents = Vec::new();
            for part in &parts {
                assert_eq!(part.first_document, documents.len());
                for chunk in manifest::split_documents(&part.text) {
                    documents.push((
                        chunk.text.to_owned(),
                        part.first_line - 1 + chunk.first_line,
                    ));
                }
            }
            assert_eq!(
                documents, whole,
                "writes of {write_bytes}, parts of {part_bytes}"
            );
        }
    }

    #[test]
    fn output_without_markers_is_one_part() {
        let text = "a: 1\n".repeat(10_000);
        let parts = parts_of(&text, 10, 64);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].text, text);
    }

    #[test]
    fn fromjson_keeps_key_order_and_refuses_bad_json() {
        let value = from_json(r#"{"b": [1, "x"], "a": {"z": true, "y": null}}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"b":[1,"x"],"a":{"z":true,"y":null}}"#
        );
        let err = from_json("{\"a\": ").unwrap_err();
        assert!(err.to_string().contains("fromjson"), "{err}");
    }
}
