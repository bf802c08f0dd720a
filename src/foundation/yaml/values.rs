//! Reading one values file into a [`Located`] tree.
//!
//! Values files are YAML 1.2 read with the *core schema*, resolved here rather than by a
//! library so that every case is a decision we made and tested:
//!
//! | plain scalar                                  | value                               |
//! |-----------------------------------------------|-------------------------------------|
//! | `null` `Null` `NULL` `~` or nothing           | null                                |
//! | `true` `True` `TRUE` `false` `False` `FALSE`  | boolean                             |
//! | `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`   | integer (i64, or u64 if it fits)    |
//! | core-schema floats (`1.5`, `1e3`, `.5`)       | float                               |
//! | `.inf`, `-.inf`, `.nan`                       | error: JSON cannot represent them   |
//! | anything else (`yes`, `on`, `1_000`, `12:30`) | string                              |
//!
//! One deliberate exception: a decimal integer written with a leading zero (`0755`, `-007`)
//! stays a **string**. YAML 1.1 (go-yaml v2, and so Helm and kubectl) reads `0755` as
//! the octal 493, YAML 1.2 as 755; a value whose meaning depends on the reader is kept as the
//! text the user wrote, and the schema decides whether a string is acceptable there. Write
//! `0o755` or `493` for a number. Quoted and block scalars are always strings; the core tags
//! `!!str`, `!!int`, `!!float`, `!!bool` and `!!null` force a type.
//!
//! The reader is bounded: at most [`MAX_DEPTH`] nested collections, and aliases may copy only
//! so many nodes relative to what the file holds ([`super::tree::Budget`]), so alias bombs
//! and 10,000-deep nesting fail fast while large honest files read in full.
//! The tree is built from saphyr-parser's events with an explicit stack, never by recursion.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};
use serde_json::{Map, Number, Value};

use super::pieces;
use super::surrogates::{self, Columns};
use super::tree::{Budget, Collection, TagKind, tag_kind, tag_name};
use crate::foundation::diag::{self, Code, Diagnostic, Location};
use crate::foundation::located::{Located, MAX_DEPTH, child_pointer, pointer_to_path};

/// Parse one values file (YAML 1.2 core schema). `file` is the display name (path relative to
/// the stack root) used in locations. The top level must be a mapping; an empty file is an
/// empty mapping.
pub fn parse_yaml(file: &str, text: &str) -> diag::Result<Located> {
    if text.len() >= pieces::MIN_BYTES
        && let Some(located) = parse_in_pieces(file, text, pieces::PIECE_BYTES)
    {
        return Ok(located);
    }
    let pairs = surrogates::pairs(text);
    if pairs.is_empty() {
        return parse_text(file, text, &[], Columns::default()).map(|(located, _)| located);
    }
    // JSON's surrogate-pair escapes become YAML's `\U` escapes. Only double-quoted scalars
    // read escapes: a pair written in any other scalar is put back as it was.
    let (located, literal) = parse_rewritten(file, text, &pairs)?;
    if literal.is_empty() {
        return Ok(located);
    }
    let escapes: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .filter(|(k, _)| !literal.contains(k))
        .map(|(_, pair)| pair)
        .collect();
    parse_rewritten(file, text, &escapes).map(|(located, _)| located)
}

/// Parse `text` with `pairs` rewritten; also says which pairs sat in a scalar that does not
/// read escapes.
fn parse_rewritten(
    file: &str,
    text: &str,
    pairs: &[surrogates::Pair],
) -> diag::Result<(Located, Vec<usize>)> {
    let rewritten = surrogates::rewrite(text, pairs);
    let sites = surrogates::rewritten_indices(pairs);
    parse_text(file, &rewritten, &sites, Columns::new(pairs))
}

/// Parse a values text; `sites` are character indices to watch for in scalars that are not
/// double-quoted (their positions in the result), `columns` maps columns to the original.
fn parse_text(
    file: &str,
    text: &str,
    sites: &[usize],
    columns: Columns,
) -> diag::Result<(Located, Vec<usize>)> {
    let mut builder = Builder::new(file, columns, Track::Origins);
    let mut parser = Parser::new_from_str(text);
    let mut literal = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| builder.scan_error(&error, text))?;
        if !sites.is_empty()
            && let Event::Scalar(_, style, ..) = &event
            && *style != ScalarStyle::DoubleQuoted
        {
            let range = span.start.index()..span.end.index();
            literal.extend((0..sites.len()).filter(|k| range.contains(&sites[*k])));
        }
        builder.event(event, span.start)?;
    }
    Ok((builder.finish(), literal))
}

/// A file read in pieces of about `piece_bytes`, in parallel, as [`parse_yaml`] reads a
/// large one; `None` when it must be read whole. Public for the fuzz target that holds it
/// to reading exactly what the whole-file reader does.
#[doc(hidden)]
pub fn parse_in_pieces(file: &str, text: &str, piece_bytes: usize) -> Option<Located> {
    // Escaped surrogate pairs are rewritten before reading, which the pieces do not do.
    if !surrogates::pairs(text).is_empty() {
        return None;
    }
    pieces::read(text, piece_bytes, |piece| {
        read_piece(file, piece, Track::Origins)
    })
}

/// [`parse_yaml`] without origins, for a render that uses the values only once they are
/// valid: no pointer is built for any node. A file with an error is read once more with
/// origins, which gives the error its place; one with escaped surrogate pairs is read with
/// them.
pub fn parse_values_only(file: &str, text: &str) -> diag::Result<Located> {
    if surrogates::pairs(text).is_empty() {
        let in_pieces = (text.len() >= pieces::MIN_BYTES)
            .then(|| {
                pieces::read(text, pieces::PIECE_BYTES, |piece| {
                    read_piece(file, piece, Track::ValuesOnly)
                })
            })
            .flatten();
        let read = in_pieces.or_else(|| {
            read_events(
                Builder::new(file, Columns::default(), Track::ValuesOnly),
                text,
                false,
            )
        });
        if let Some(located) = read {
            return Ok(located);
        }
    }
    parse_yaml(file, text)
}

/// What a reading keeps besides the values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Track {
    /// The origin of every node.
    Origins,
    /// Nothing: no pointer is built for any node.
    ValuesOnly,
}

/// One piece of a large file ([`pieces`]), or `None` when it must be read whole: on any
/// error, and for anchors and aliases, whose bounds the whole file decides.
fn read_piece(file: &str, text: &str, track: Track) -> Option<Located> {
    read_events(Builder::new(file, Columns::default(), track), text, true)
}

/// `text` read by `builder`; `None` on any error, and with `refuse_anchors`, for anchors
/// and aliases.
fn read_events(mut builder: Builder, text: &str, refuse_anchors: bool) -> Option<Located> {
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        match event {
            Event::Alias(_) if refuse_anchors => return None,
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if refuse_anchors && anchor != 0 =>
            {
                return None;
            }
            event => builder.event(event, span.start).ok()?,
        }
    }
    Some(builder.finish())
}

/// Builds the tree from parser events, keeping the open collections on a stack.
struct Builder {
    /// The file's name, shared by every location.
    file: Arc<str>,
    /// Maps columns of a text with rewritten escapes back to the file's.
    columns: Columns,
    /// Origins in the order nodes are read, so a collection's descendants follow its own
    /// entry; sorted into the map once at the end (inserting each into a map keyed by
    /// pointers with long common prefixes was a third of reading a values file).
    origins: Vec<(String, Location)>,
    track: Track,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    budget: Budget,
    documents: usize,
    root: Option<Value>,
}

/// A collection being read.
struct Frame {
    pointer: String,
    /// saphyr's anchor id, 0 when the collection has no anchor.
    anchor: usize,
    collection: Collection,
    /// Where each key of a mapping was written, in the map's order (for duplicate-key errors).
    key_marks: Vec<Marker>,
    /// Collections nested under this one, at the deepest point so far.
    height: usize,
    /// The index of this collection's own entry in `Builder::origins`.
    first_origin: usize,
    /// `Budget::total` once this collection was counted: its size is the difference.
    first_node: usize,
}

/// A finished anchored node, ready to be copied by an alias.
struct Anchored {
    value: Value,
    /// Origins of the node's descendants, as pointer suffixes relative to the node.
    origins: Vec<(String, Location)>,
    nodes: usize,
    height: usize,
}

impl Builder {
    fn new(file: &str, columns: Columns, track: Track) -> Self {
        Builder {
            file: file.into(),
            columns,
            origins: Vec::new(),
            track,
            stack: Vec::new(),
            anchors: HashMap::new(),
            budget: Budget::default(),
            documents: 0,
            root: None,
        }
    }

    fn event(&mut self, event: Event<'_>, at: Marker) -> diag::Result<()> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return fail(
                        self.error(
                            Code::Yaml,
                            at,
                            "a values file holds one YAML document, found a second one",
                        )
                        .hint("remove the `---` separator, or split the documents into files"),
                    );
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(&text, style, anchor, tag.as_deref(), at)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(Collection::list(), anchor, tag.as_deref(), at)
            }
            Event::MappingStart(anchor, tag) => {
                self.open(Collection::map(), anchor, tag.as_deref(), at)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(at),
            Event::Alias(id) => self.alias(id, at),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        at: Marker,
    ) -> diag::Result<()> {
        if self.expects_key() {
            return self.key(text, style, anchor, tag, at);
        }
        let value = resolve(text, style, tag).map_err(|message| {
            self.error(Code::Yaml, at, message)
                .path(pointer_to_path(&self.child_pointer()))
        })?;
        self.budget.write();
        if anchor != 0 {
            let anchored = Anchored {
                value: value.clone(),
                origins: Vec::new(),
                nodes: 1,
                height: 0,
            };
            self.anchors.insert(anchor, anchored);
        }
        self.add_origin(at);
        self.place(value, 0, at)
    }

    /// A scalar in key position. Keys are text whatever they look like (`1`, `true`), as
    /// in JSON; only the tags values may carry are accepted on them.
    fn key(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        at: Marker,
    ) -> diag::Result<()> {
        if let Some(tag) = tag {
            match tag_kind(Some(tag)) {
                TagKind::None | TagKind::NonSpecific => {}
                TagKind::Core(core) if SCALAR_TAGS.contains(&core) => {}
                _ => return fail(self.error(Code::Yaml, at, unsupported_tag(tag))),
            }
        }
        if text == "<<" && style == ScalarStyle::Plain && tag.is_none() {
            return fail(self
                .error(Code::Values, at, "merge keys (`<<`) are YAML 1.1 and not supported in values files")
                .hint("write the keys out, or put the shared values in a lower layer such as overlays/base.yaml"));
        }
        if let Some(duplicate) = self.duplicate_key(text, at) {
            return fail(duplicate);
        }
        if anchor != 0 {
            let anchored = Anchored {
                value: Value::String(text.to_owned()),
                origins: Vec::new(),
                nodes: 1,
                height: 0,
            };
            self.anchors.insert(anchor, anchored);
        }
        if let Some(frame) = self.stack.last_mut() {
            // Duplicates were refused just above, with both lines.
            let _ = frame.collection.set_key(text.to_owned());
            frame.key_marks.push(at);
        }
        Ok(())
    }

    fn open(
        &mut self,
        collection: Collection,
        anchor: usize,
        tag: Option<&Tag>,
        at: Marker,
    ) -> diag::Result<()> {
        let (kind, expected_tag) = match collection {
            Collection::List(_) => ("a list", "seq"),
            Collection::Map { .. } => ("a mapping", "map"),
        };
        if self.expects_key() {
            return fail(self.error(
                Code::Values,
                at,
                format!("a mapping key must be a scalar, found {kind}"),
            ));
        }
        if let Some(tag) = tag
            && !matches!(tag_kind(Some(tag)), TagKind::NonSpecific)
            && tag_kind(Some(tag)) != TagKind::Core(expected_tag)
        {
            return fail(self.error(Code::Yaml, at, unsupported_tag(tag)));
        }
        if self.stack.len() >= MAX_DEPTH {
            return fail(self.depth_error(at));
        }
        if self.stack.is_empty() && expected_tag == "seq" {
            return fail(self.top_level_error(at, kind));
        }
        self.budget.write();
        let first_origin = self.origins.len();
        // A collection's pointer is the prefix of its children's; none without origins.
        let pointer = match self.track {
            Track::Origins => {
                let pointer = self.child_pointer();
                self.origins.push((pointer.clone(), self.location(at)));
                pointer
            }
            Track::ValuesOnly => String::new(),
        };
        self.stack.push(Frame {
            pointer,
            anchor,
            collection,
            key_marks: Vec::new(),
            height: 0,
            first_origin,
            first_node: self.budget.total(),
        });
        Ok(())
    }

    fn close(&mut self, at: Marker) -> diag::Result<()> {
        let Some(frame) = self.stack.pop() else {
            return Ok(()); // the parser balances starts and ends; nothing is open
        };
        let value = frame.collection.into_value();
        let height = frame.height + 1;
        if frame.anchor != 0 {
            let nodes = self.budget.total() - frame.first_node + 1;
            let own = (frame.pointer.len(), frame.first_origin);
            self.remember(frame.anchor, own, &value, nodes, height);
        }
        self.place(value, height, at)
    }

    /// An alias copies its anchored node. The copy counts against the node budget *before*
    /// it is made, which is what stops an alias bomb early.
    fn alias(&mut self, id: usize, at: Marker) -> diag::Result<()> {
        if self.expects_key() {
            return fail(self.error(Code::Values, at, "an alias cannot be used as a mapping key"));
        }
        let Some((nodes, height)) = self.anchors.get(&id).map(|a| (a.nodes, a.height)) else {
            return fail(self.error(
                Code::Yaml,
                at,
                "this alias refers to a node that contains it",
            ));
        };
        self.budget.copy(nodes).map_err(|message| {
            self.error(Code::Yaml, at, message)
                .hint("every alias copies its anchored node; aliases of aliases grow exponentially")
        })?;
        if self.stack.len() + height > MAX_DEPTH {
            return fail(self.depth_error(at));
        }
        let Some(anchored) = self.anchors.get(&id) else {
            return Ok(()); // looked up just above
        };
        let value = anchored.value.clone();
        if self.track == Track::Origins {
            let pointer = self.child_pointer();
            let location = self.location(at);
            // The alias itself is located where it is written; what it copies keeps the
            // location of the text it was copied from, which is where a fix would go.
            for (suffix, origin) in &anchored.origins {
                self.origins
                    .push((format!("{pointer}{suffix}"), origin.clone()));
            }
            self.origins.push((pointer, location));
        }
        self.place(value, height, at)
    }

    /// Keep a finished anchored node (and its descendants' origins) for later aliases.
    /// `own` is the node's pointer length and the index of its own origin: its
    /// descendants' origins are the ones read after it.
    fn remember(
        &mut self,
        anchor: usize,
        own: (usize, usize),
        value: &Value,
        nodes: usize,
        height: usize,
    ) {
        let (prefix, first_origin) = own;
        let origins = match self.track {
            Track::Origins => self.origins[first_origin + 1..]
                .iter()
                .map(|(key, location)| (key[prefix..].to_owned(), location.clone()))
                .collect(),
            Track::ValuesOnly => Vec::new(),
        };
        let anchored = Anchored {
            value: value.clone(),
            origins,
            nodes,
            height,
        };
        self.anchors.insert(anchor, anchored);
    }

    /// Put a finished node into its parent, or make it the document's root.
    fn place(&mut self, value: Value, height: usize, at: Marker) -> diag::Result<()> {
        let Some(parent) = self.stack.last_mut() else {
            return self.set_root(value, at);
        };
        parent.height = parent.height.max(height);
        parent.collection.add(value);
        Ok(())
    }

    fn set_root(&mut self, value: Value, at: Marker) -> diag::Result<()> {
        match value {
            Value::Object(_) => self.root = Some(value),
            Value::Null => self.root = Some(Value::Object(Map::new())),
            Value::Array(_) => return fail(self.top_level_error(at, "a list")),
            Value::String(_) => return fail(self.top_level_error(at, "a string")),
            Value::Number(_) => return fail(self.top_level_error(at, "a number")),
            Value::Bool(_) => return fail(self.top_level_error(at, "a boolean")),
        }
        Ok(())
    }

    fn finish(mut self) -> Located {
        // The root, when there is one, is the first node read.
        if self.track == Track::Origins
            && !self
                .origins
                .first()
                .is_some_and(|(pointer, _)| pointer.is_empty())
        {
            let start = Location::File {
                file: Arc::clone(&self.file),
                line: 1,
                col: 1,
            };
            self.origins.push((String::new(), start));
        }
        Located {
            value: self.root.unwrap_or_else(|| Value::Object(Map::new())),
            origins: self.origins.into_iter().collect(),
            indexed_lists: Default::default(),
        }
    }

    /// Whether the next node is a mapping key.
    fn expects_key(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|f| f.collection.expects_key())
    }

    /// Note where the next node is, when origins are kept.
    fn add_origin(&mut self, at: Marker) {
        if self.track == Track::Origins {
            let pointer = self.child_pointer();
            let location = self.location(at);
            self.origins.push((pointer, location));
        }
    }

    /// The pointer of the next node: a new list item, or the value of the pending key.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(frame) => child_pointer(&frame.pointer, &frame.collection.next_child()),
        }
    }

    /// The error for `text` if the open mapping already has that key.
    fn duplicate_key(&self, text: &str, at: Marker) -> Option<Diagnostic> {
        let Some(Frame {
            pointer,
            collection: Collection::Map { map, .. },
            key_marks,
            ..
        }) = self.stack.last()
        else {
            return None;
        };
        if !map.contains_key(text) {
            return None;
        }
        // Only on this error path is the first key's position worth a linear search.
        let first = map
            .keys()
            .position(|key| key == text)
            .and_then(|index| key_marks.get(index));
        let message = format!(
            "duplicate key `{text}` on lines {} and {}",
            first.map_or(0, Marker::line),
            at.line()
        );
        let diagnostic = self
            .error(Code::Yaml, at, message)
            .path(pointer_to_path(&child_pointer(pointer, text)))
            .hint("a key may appear once per mapping; remove one of them");
        Some(diagnostic)
    }

    fn scan_error(&self, error: &ScanError, text: &str) -> Diagnostic {
        // The scanner gives up on flow collections nested past 255 levels, sometimes before
        // it has produced the events our own limit counts: it is the same problem.
        if error.info() == "recursion limit exceeded" {
            return self.depth_error(*error.marker());
        }
        // The scanner reports a tab where the scalar it was reading began, often the line
        // before: point at the line the tab indents.
        if error.info().contains("tab")
            && let Some((line, col)) = tab_indent(text, error.marker().line())
        {
            return Diagnostic::error(Code::Yaml, "a tab indents this line")
                .at(Location::File {
                    file: Arc::clone(&self.file),
                    line,
                    col,
                })
                .hint("YAML indents with spaces only; replace the tab with spaces");
        }
        let diagnostic = self.error(Code::Yaml, *error.marker(), error.info());
        if error
            .info()
            .contains("invalid Unicode character escape code")
        {
            return diagnostic.hint(
                "a UTF-16 surrogate escape (\\uD800-\\uDFFF) must be half of a pair, high then low, \
                 as JSON writes characters outside the Basic Multilingual Plane; \
                 write the character itself, or a \\U0001F680-style escape",
            );
        }
        diagnostic
    }

    fn depth_error(&self, at: Marker) -> Diagnostic {
        self.error(
            Code::Yaml,
            at,
            format!("nesting deeper than {MAX_DEPTH} levels"),
        )
        .hint("values are a configuration, not a data structure: flatten them")
    }

    fn top_level_error(&self, at: Marker, found: &str) -> Diagnostic {
        self.error(
            Code::Values,
            at,
            format!("the top level must be a mapping of values, found {found}"),
        )
        .hint("write `key: value` pairs at the top level")
    }

    fn error(&self, code: Code, at: Marker, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(code, message).at(self.location(at))
    }

    /// saphyr's lines are 1-based and its columns 0-based; ours are both 1-based.
    fn location(&self, at: Marker) -> Location {
        Location::File {
            file: Arc::clone(&self.file),
            line: at.line(),
            col: self.columns.original(at.line(), at.col()) + 1,
        }
    }
}

/// The first line, from `from_line` on, whose indentation holds a tab, with the tab's column
/// (both 1-based).
fn tab_indent(text: &str, from_line: usize) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find_map(|(i, line)| {
            let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
            indent.find('\t').map(|col| (i + 1, col + 1))
        })
}

/// Fail with one diagnostic. Builder errors travel as [`diag::Diagnostics`], whose `Vec`
/// keeps the `Result`s of the hot event path small.
fn fail<T>(diagnostic: Diagnostic) -> diag::Result<T> {
    Err(diagnostic.into())
}

/// The core-schema tags a scalar may carry.
const SCALAR_TAGS: [&str; 5] = ["str", "int", "float", "bool", "null"];

/// Resolve a scalar to a value, or say why it cannot be one.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let string = || Value::String(text.to_owned());
    let core = match (tag_kind(tag), tag) {
        (TagKind::Core(core), Some(tag)) => (core, tag),
        (TagKind::Other, Some(tag)) => return Err(unsupported_tag(tag)),
        // Untagged quoted and block scalars, and `! x`, are strings by definition.
        (TagKind::None, _) if style == ScalarStyle::Plain => return plain(text),
        _ => return Ok(string()),
    };
    let (core, tag) = core;
    let mismatch = || format!("`{text}` is not a valid {}", tag_name(tag));
    match core {
        "str" => Ok(string()),
        "null" if is_null(text) => Ok(Value::Null),
        "bool" => boolean(text).map(Value::Bool).ok_or_else(mismatch),
        "int" => match (decimal_digits(text), radix_integer(text)) {
            (Some(_), _) => decimal_integer(text),
            (None, Some(value)) => value,
            (None, None) => Err(mismatch()),
        },
        "float" if decimal_digits(text).is_some() || is_core_float(text) => float(text),
        "float" if is_inf_or_nan(text) => Err(not_representable(text)),
        "null" | "float" => Err(mismatch()),
        _ => Err(unsupported_tag(tag)),
    }
}

/// Resolve an untagged plain scalar by the core schema (see the module documentation).
fn plain(text: &str) -> Result<Value, String> {
    if is_null(text) {
        return Ok(Value::Null);
    }
    if let Some(value) = boolean(text) {
        return Ok(Value::Bool(value));
    }
    if let Some(digits) = decimal_digits(text) {
        // `0755`: YAML 1.1 says octal 493, YAML 1.2 says 755. Keep the text.
        if digits.len() > 1 && digits.starts_with('0') {
            return Ok(Value::String(text.to_owned()));
        }
        return decimal_integer(text);
    }
    if let Some(value) = radix_integer(text) {
        return value;
    }
    if is_inf_or_nan(text) {
        return Err(not_representable(text));
    }
    if is_core_float(text) {
        return float(text);
    }
    Ok(Value::String(text.to_owned()))
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The digits of `[-+]?[0-9]+`, or `None` if `text` is not a decimal integer.
fn decimal_digits(text: &str) -> Option<&str> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A decimal integer as i64, or as u64 when it is positive and too large for i64.
fn decimal_integer(text: &str) -> Result<Value, String> {
    if let Ok(value) = text.parse::<i64>() {
        return Ok(Value::from(value));
    }
    text.parse::<u64>()
        .map(Value::from)
        .map_err(|_| format!("the integer {text} does not fit in 64 bits"))
}

/// `0o[0-7]+` and `0x[0-9a-fA-F]+`, or `None` if `text` is neither.
fn radix_integer(text: &str) -> Option<Result<Value, String>> {
    let (digits, radix) = match text.get(..2) {
        Some("0o") => (&text[2..], 8),
        Some("0x") => (&text[2..], 16),
        _ => return None,
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(
        u64::from_str_radix(digits, radix)
            .map(Value::from)
            .map_err(|_| format!("the integer {text} does not fit in 64 bits")),
    )
}

/// The core schema's float: `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`.
fn is_core_float(text: &str) -> bool {
    fn digits(bytes: &[u8]) -> usize {
        bytes.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let bytes = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let whole = digits(bytes);
    let mut rest = &bytes[whole..];
    if let [b'.', fraction @ ..] = rest {
        let len = digits(fraction);
        if whole == 0 && len == 0 {
            return false;
        }
        rest = &fraction[len..];
    } else if whole == 0 {
        return false;
    }
    match rest {
        [] => true,
        [b'e' | b'E', exponent @ ..] => {
            let exponent = match exponent {
                [b'-' | b'+', tail @ ..] => tail,
                _ => exponent,
            };
            !exponent.is_empty() && digits(exponent) == exponent.len()
        }
        _ => false,
    }
}

fn is_inf_or_nan(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN")
}

fn float(text: &str) -> Result<Value, String> {
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| not_representable(text))
}

fn not_representable(text: &str) -> String {
    format!("`{text}` is not representable in JSON (values are JSON: no infinities, no NaN)")
}

fn unsupported_tag(tag: &Tag) -> String {
    format!(
        "unsupported tag `{}`: values files accept only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq",
        tag_name(tag)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Located {
        match parse_yaml("values.yaml", text) {
            Ok(located) => located,
            Err(error) => panic!("unexpected error for {text:?}: {error}"),
        }
    }

    fn error(text: &str) -> Diagnostic {
        match parse_yaml("overlays/x.yaml", text) {
            Ok(located) => panic!("expected an error for {text:?}, got {:?}", located.value),
            Err(diag::Diagnostics(mut all)) => {
                assert_eq!(all.len(), 1, "one diagnostic per failure: {all:?}");
                all.remove(0)
            }
        }
    }

    fn file_at(line: usize, col: usize) -> Location {
        Location::File {
            file: "values.yaml".into(),
            line,
            col,
        }
    }

    fn x_at(line: usize, col: usize) -> Option<Location> {
        Some(Location::File {
            file: "overlays/x.yaml".into(),
            line,
            col,
        })
    }

    /// The value of `v: <scalar>`.
    fn scalar(text: &str) -> Value {
        parse(&format!("v: {text}\n")).value["v"].clone()
    }

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        let cases = [
            ("~", json!(null)),
            ("null", json!(null)),
            ("Null", json!(null)),
            ("NULL", json!(null)),
            ("", json!(null)),
            ("nULL", json!("nULL")),
            ("true", json!(true)),
            ("True", json!(true)),
            ("FALSE", json!(false)),
            ("tRUE", json!("tRUE")),
            ("yes", json!("yes")),
            ("no", json!("no")),
            ("on", json!("on")),
            ("off", json!("off")),
            ("y", json!("y")),
            ("n", json!("n")),
            ("42", json!(42)),
            ("-17", json!(-17)),
            ("+3", json!(3)),
            ("0", json!(0)),
            ("-0", json!(0)),
            ("9223372036854775807", json!(i64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("18446744073709551615", json!(u64::MAX)),
            ("0x1F", json!(31)),
            ("0xff", json!(255)),
            ("0o17", json!(15)),
            ("0b101", json!("0b101")),
            ("0x", json!("0x")),
            ("0o8", json!("0o8")),
            ("-0x1F", json!("-0x1F")),
            ("1.5", json!(1.5)),
            ("-2.0", json!(-2.0)),
            (".5", json!(0.5)),
            ("1.", json!(1.0)),
            ("1e3", json!(1000.0)),
            ("1E-2", json!(0.01)),
            ("+1.5e+2", json!(150.0)),
            ("1e", json!("1e")),
            (".", json!(".")),
            ("1_000", json!("1_000")),
            ("12:30", json!("12:30")),
            ("2024-01-01", json!("2024-01-01")),
            ("1.2.3", json!("1.2.3")),
            ("v1", json!("v1")),
        ];
        for (text, expected) in cases {
            assert_eq!(scalar(text), expected, "plain scalar {text:?}");
        }
    }

    #[test]
    fn a_decimal_integer_with_a_leading_zero_stays_a_string() {
        // YAML 1.1 reads 0755 as octal 493, YAML 1.2 as 755: ambiguous, so the text is kept.
        assert_eq!(scalar("0755"), json!("0755"));
        assert_eq!(scalar("-007"), json!("-007"));
        assert_eq!(scalar("00"), json!("00"));
        assert_eq!(
            scalar("0o755"),
            json!(493),
            "the unambiguous spelling is a number"
        );
        assert_eq!(scalar("!!int 0755"), json!(755), "an explicit tag decides");
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        let values = parse("a: \"true\"\nb: '42'\nc: |\n  0755\nd: >-\n  null\ne: \"\"\n").value;
        assert_eq!(
            values,
            json!({"a": "true", "b": "42", "c": "0755\n", "d": "null", "e": ""})
        );
    }

    #[test]
    fn core_tags_force_a_type_and_reject_mismatches() {
        assert_eq!(scalar("!!str 42"), json!("42"));
        assert_eq!(scalar("!!str"), json!(""));
        assert_eq!(scalar("!!int \"12\""), json!(12));
        assert_eq!(scalar("!!float 1"), json!(1.0));
        assert_eq!(scalar("!!bool 'true'"), json!(true));
        assert_eq!(scalar("!!null ''"), json!(null));
        assert_eq!(
            scalar("! 42"),
            json!("42"),
            "the non-specific tag makes a string"
        );
        assert_eq!(
            parse("m: !!map {a: 1}\nl: !!seq [1]\n").value,
            json!({"m": {"a": 1}, "l": [1]})
        );
        let mismatches = [
            ("v: !!int abc", "`abc` is not a valid !!int"),
            ("v: !!bool yes", "`yes` is not a valid !!bool"),
            ("v: !!null 0", "`0` is not a valid !!null"),
            ("v: !!float x", "`x` is not a valid !!float"),
            ("v: !!float .inf", "`.inf` is not representable in JSON"),
        ];
        for (text, message) in mismatches {
            let diagnostic = error(text);
            assert_eq!(diagnostic.code, "yaml", "{text}");
            assert!(
                diagnostic.message.starts_with(message),
                "{text}: {}",
                diagnostic.message
            );
            assert_eq!(diagnostic.path.as_deref(), Some("v"));
            assert_eq!(diagnostic.location, x_at(1, 4), "{text}");
        }
    }

    #[test]
    fn other_tags_are_refused() {
        for text in [
            "v: !!binary aGVsbG8=",
            "v: !local x",
            "v: !!timestamp 2024-01-01",
            "v: !!map x",
            "v: !!str [1]",
            "!!set {a}",
        ] {
            let diagnostic = error(text);
            assert_eq!(diagnostic.code, "yaml", "{text}");
            assert!(
                diagnostic.message.starts_with("unsupported tag `!"),
                "{text}: {}",
                diagnostic.message
            );
        }
    }

    #[test]
    fn infinities_nans_and_huge_numbers_are_errors_with_a_location() {
        for text in [".inf", "-.inf", "+.Inf", ".nan", ".NaN"] {
            let diagnostic = error(&format!("a:\n  b: {text}\n"));
            assert_eq!(
                diagnostic.message,
                format!(
                    "`{text}` is not representable in JSON (values are JSON: no infinities, no NaN)"
                )
            );
            assert_eq!(diagnostic.location, x_at(2, 6));
            assert_eq!(diagnostic.path.as_deref(), Some("a.b"));
        }
        assert!(
            error("v: 1e999")
                .message
                .starts_with("`1e999` is not representable in JSON")
        );
        let huge = error("v: 18446744073709551616");
        assert_eq!(
            huge.message,
            "the integer 18446744073709551616 does not fit in 64 bits"
        );
        assert_eq!(huge.location, x_at(1, 4));
        assert_eq!(
            error("v: -9223372036854775809").message,
            "the integer -9223372036854775809 does not fit in 64 bits"
        );
        assert_eq!(
            error("v: 0x10000000000000000").message,
            "the integer 0x10000000000000000 does not fit in 64 bits"
        );
    }

    #[test]
    fn every_node_is_located_at_its_value() {
        let text = "\
pg:
  replicas: 3
  tags: [a, {b: c}]
list:
- one
-   two
empty: {}
quoted: \"x\"
";
        let located = parse(text);
        let expected = [
            ("", file_at(1, 1)),
            ("/pg", file_at(2, 3)),
            ("/pg/replicas", file_at(2, 13)),
            ("/pg/tags", file_at(3, 9)),
            ("/pg/tags/0", file_at(3, 10)),
            ("/pg/tags/1", file_at(3, 13)),
            ("/pg/tags/1/b", file_at(3, 17)),
            ("/list", file_at(5, 3)), // an indentless list starts at its first item
            ("/list/0", file_at(5, 3)),
            ("/list/1", file_at(6, 5)),
            ("/empty", file_at(7, 8)),
            ("/quoted", file_at(8, 9)),
        ];
        assert_eq!(
            located.origins,
            expected
                .into_iter()
                .map(|(p, l)| (p.to_owned(), l))
                .collect()
        );
    }

    #[test]
    fn keys_keep_file_order_and_non_string_keys_become_their_text() {
        let located = parse("z: 1\n1: one\ntrue: t\n~: n\n0755: o\na: 2\n");
        let keys: Vec<&str> = located
            .value
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["z", "1", "true", "~", "0755", "a"]);
        assert_eq!(located.value["true"], json!("t"));
    }

    #[test]
    fn keys_with_slashes_and_tildes_have_escaped_pointers() {
        let located = parse("labels:\n  app.kubernetes.io/name: x\n  a~b: y\n");
        assert_eq!(
            located.origins.get("/labels/app.kubernetes.io~1name"),
            Some(&file_at(2, 27))
        );
        assert_eq!(located.origins.get("/labels/a~0b"), Some(&file_at(3, 8)));
    }

    #[test]
    fn byte_order_marks_and_crlf_line_ends_are_read() {
        let located = parse("\u{feff}a: 1\r\nb:\r\n  c: x\r\n");
        assert_eq!(located.value, json!({"a": 1, "b": {"c": "x"}}));
        assert_eq!(located.origins.get("/b/c"), Some(&file_at(3, 6)));
    }

    #[test]
    fn empty_documents_are_empty_mappings() {
        for text in ["", "# only a comment\n", "---\n", "~\n", "--- null\n...\n"] {
            let located = parse(text);
            assert_eq!(located.value, json!({}), "{text:?}");
            assert!(
                located.origins.contains_key(""),
                "{text:?} root has an origin"
            );
        }
    }

    #[test]
    fn the_top_level_must_be_a_mapping() {
        let cases = [
            ("- a\n- b\n", "a list", (1, 1)),
            ("\n[1, 2]\n", "a list", (2, 1)),
            ("just text\n", "a string", (1, 1)),
            ("42\n", "a number", (1, 1)),
            ("true\n", "a boolean", (1, 1)),
            ("--- |\n  block\n", "a string", (2, 3)),
        ];
        for (text, found, (line, col)) in cases {
            let diagnostic = error(text);
            assert_eq!(diagnostic.code, "values", "{text:?}");
            assert_eq!(
                diagnostic.message,
                format!("the top level must be a mapping of values, found {found}")
            );
            assert_eq!(diagnostic.location, x_at(line, col), "{text:?}");
        }
        assert_eq!(
            error("- a\n").to_string().lines().next(),
            Some(
                "error[values]: overlays/x.yaml:1:1: the top level must be a mapping of values, found a list"
            )
        );
    }

    #[test]
    fn a_huge_top_level_list_fails_at_its_start() {
        let text = "- x\n".repeat(200_000);
        let diagnostic = error(&text);
        assert_eq!(
            diagnostic.message,
            "the top level must be a mapping of values, found a list"
        );
    }

    #[test]
    fn duplicate_keys_name_both_lines() {
        let diagnostic = error("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n");
        assert_eq!(diagnostic.code, "yaml");
        assert_eq!(diagnostic.message, "duplicate key `c` on lines 3 and 5");
        assert_eq!(diagnostic.location, x_at(5, 3));
        assert_eq!(diagnostic.path.as_deref(), Some("b.c"));
        assert_eq!(
            error("{a: 1, a: 2}").message,
            "duplicate key `a` on lines 1 and 1"
        );
        assert_eq!(
            error("a: 1\n'a': 2\n").message,
            "duplicate key `a` on lines 1 and 2",
            "quoting does not make a new key"
        );
    }

    #[test]
    fn a_wide_mapping_keeps_every_key() {
        // Also a guard: a duplicate-key check that scans the mapping per key would make this
        // test (1.25e9 comparisons) hang rather than pass.
        let text: String = (0..50_000).map(|i| format!("k{i}: {i}\n")).collect();
        let values = parse(&text).value;
        assert_eq!(values.as_object().map(|m| m.len()), Some(50_000));
        assert_eq!(values["k49999"], json!(49_999));
    }

    #[test]
    fn multiple_documents_are_refused() {
        let diagnostic = error("a: 1\n---\nb: 2\n");
        assert_eq!(diagnostic.code, "yaml");
        assert_eq!(
            diagnostic.message,
            "a values file holds one YAML document, found a second one"
        );
        assert_eq!(diagnostic.location, x_at(2, 1));
        assert_eq!(
            parse("---\na: 1\n...\n").value,
            json!({"a": 1}),
            "one explicit document is fine"
        );
    }

    #[test]
    fn keys_must_be_scalars_and_merge_keys_are_refused() {
        assert_eq!(
            error("? [a]\n: 1\n").message,
            "a mapping key must be a scalar, found a list"
        );
        assert_eq!(
            error("? {a: 1}\n: 1\n").message,
            "a mapping key must be a scalar, found a mapping"
        );
        assert_eq!(
            error("a: &k x\n*k : 1\n").message,
            "an alias cannot be used as a mapping key"
        );
        let merge = error("base: &b {x: 1}\nother:\n  <<: *b\n");
        assert_eq!(merge.code, "values");
        assert_eq!(
            merge.message,
            "merge keys (`<<`) are YAML 1.1 and not supported in values files"
        );
        assert_eq!(merge.location, x_at(3, 3));
        assert_eq!(
            parse("'<<': 1\n").value,
            json!({"<<": 1}),
            "a quoted `<<` is an ordinary key"
        );
    }

    #[test]
    fn malformed_yaml_reports_the_scanner_position() {
        let diagnostic = error("a: [1, 2\n");
        assert_eq!(diagnostic.code, "yaml");
        assert_eq!(
            diagnostic.message,
            "while parsing a flow sequence, expected ',' or ']'"
        );
        assert_eq!(diagnostic.location, x_at(2, 1));
        let diagnostic = error("a: b: c\n");
        assert_eq!(
            diagnostic.message,
            "mapping values are not allowed in this context"
        );
        assert_eq!(diagnostic.location, x_at(1, 5));
    }

    #[test]
    fn aliases_copy_the_anchored_subtree_and_its_origins() {
        let located = parse("defaults: &d\n  cpu: 1\n  mem: 2Gi\na: *d\nname: &n web\nb: [*n]\n");
        assert_eq!(
            located.value,
            json!({"defaults": {"cpu": 1, "mem": "2Gi"}, "a": {"cpu": 1, "mem": "2Gi"}, "name": "web", "b": ["web"]})
        );
        assert_eq!(
            located.origins.get("/a"),
            Some(&file_at(4, 4)),
            "the alias is where it is written"
        );
        assert_eq!(
            located.origins.get("/a/cpu"),
            Some(&file_at(2, 8)),
            "copied values keep their text's origin"
        );
        assert_eq!(located.origins.get("/b/0"), Some(&file_at(6, 5)));
        assert_eq!(
            error("a: &a [1, *a]\n").message,
            "this alias refers to a node that contains it"
        );
    }

    #[test]
    fn alias_bomb_fails_fast_with_the_node_limit() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let items = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("{}: &{} [{items}]\n", pair[1], pair[1]));
        }
        // Expanded, this document would have ~4.3e8 nodes: getting the error at all, at the
        // first alias of `f`, shows that the copies are counted before they are made.
        let diagnostic = error(&text);
        assert_eq!(diagnostic.code, "yaml");
        assert!(
            diagnostic.message.starts_with("aliases copy more than ")
                && diagnostic.message.ends_with("(alias bomb?)"),
            "{}",
            diagnostic.message
        );
        assert_eq!(
            diagnostic
                .location
                .as_ref()
                .map(|l| matches!(l, Location::File { line: 6, .. })),
            Some(true)
        );
    }

    #[test]
    fn verbatim_core_tags_mean_the_short_ones() {
        let text = "a: !<tag:yaml.org,2002:str> 5\nb: !<tag:yaml.org,2002:int> \"7\"\n\
c: !<tag:yaml.org,2002:float> 1\nd: !<tag:yaml.org,2002:bool> true\n\
e: !<tag:yaml.org,2002:null> ~\nf: !<tag:yaml.org,2002:seq> [1]\ng: !<tag:yaml.org,2002:map> {x: 1}\n";
        assert_eq!(
            parse(text).value,
            serde_json::json!({"a": "5", "b": 7, "c": 1.0, "d": true, "e": null, "f": [1], "g": {"x": 1}})
        );
        assert!(
            error("a: !<tag:example.com,2000:thing> 5\n")
                .message
                .contains("unsupported tag `tag:example.com,2000:thing`")
        );
        assert!(
            error("a: !<tag:yaml.org,2002:int> x\n")
                .message
                .contains("not a valid !!int")
        );
    }

    #[test]
    fn json_surrogate_pairs_read_as_their_character() {
        let json = "{\"a\": \"\\ud83d\\ude80 go\", \"b\": {\"c\": \"x\\uD83D\\uDE00\"}, \"d\": 1}";
        let located = parse(json);
        assert_eq!(
            located.value,
            serde_json::json!({"a": "🚀 go", "b": {"c": "x😀"}, "d": 1})
        );
        // Columns after a rewritten pair are those of the file.
        let at = located.origins.get("/d").map(ToString::to_string);
        assert_eq!(at.as_deref(), Some("values.yaml:1:60"));
        // Scalars that read no escapes keep the text as written.
        let literal = parse("a: '\\ud83d\\ude80'\nb: \"\\ud83d\\ude80\"\n");
        assert_eq!(
            literal.value,
            serde_json::json!({"a": "\\ud83d\\ude80", "b": "🚀"})
        );
    }

    #[test]
    fn a_lone_surrogate_is_an_error_with_its_location() {
        let diagnostic = error("{\"a\": \"\\ud83d x\"}");
        assert_eq!(diagnostic.code, "yaml");
        assert_eq!(
            diagnostic
                .location
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("overlays/x.yaml:1:7")
        );
        assert!(
            diagnostic
                .hint
                .unwrap_or_default()
                .contains("half of a pair")
        );
    }

    #[test]
    fn a_tab_is_reported_on_the_line_it_indents() {
        let diagnostic = error("app:\n  replicas: 2\n\tgreeting: hi\n");
        assert_eq!(
            diagnostic
                .location
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("overlays/x.yaml:3:1")
        );
        assert_eq!(diagnostic.message, "a tab indents this line");
        assert!(diagnostic.hint.unwrap_or_default().contains("spaces"));
        let diagnostic = error("a:\n  b:\n  \t c: 1\n");
        assert_eq!(
            diagnostic
                .location
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("overlays/x.yaml:3:3")
        );
    }

    #[test]
    fn honest_data_is_not_bounded_by_a_node_count() {
        // 400,000 nodes and no alias: only the byte limit of the file bounds honest data.
        let text = format!("l: [{}]\n", vec!["1"; 400_000].join(","));
        assert_eq!(
            parse(&text).value["l"].as_array().map(Vec::len),
            Some(400_000)
        );
        // Aliases may copy freely what a large file holds.
        let text = format!("a: &a [{}]\nb: [*a, *a, *a]\n", vec!["1"; 50_000].join(","));
        assert_eq!(
            parse(&text).value["b"][2].as_array().map(Vec::len),
            Some(50_000)
        );
    }

    #[test]
    fn deep_nesting_fails_fast_with_the_depth_error() {
        let flow_lists = format!("a: {}", "[".repeat(10_000));
        let flow_top = "[".repeat(10_000);
        let flow_maps = "a: {".repeat(10_000);
        let block_maps: String = (0..10_000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        let block_lists: String = "a:\n".to_owned()
            + &(1..=10_000)
                .map(|i| format!("{}- \n", " ".repeat(i)))
                .collect::<String>();
        for text in [
            &flow_lists,
            &flow_top,
            &flow_maps,
            &block_maps,
            &block_lists,
        ] {
            // Stopped at our limit (or the scanner's, 255 brackets deep), never at 10,000.
            let diagnostic = error(text);
            assert_eq!(
                diagnostic.message,
                "nesting deeper than 64 levels",
                "{}",
                &text[..20]
            );
        }
    }

    #[test]
    fn sixty_four_levels_are_accepted_and_sixty_five_are_not() {
        let nested = |levels: usize| format!("{}1{}", "{a: ".repeat(levels), "}".repeat(levels));
        assert!(parse_yaml("f", &nested(64)).is_ok());
        assert_eq!(error(&nested(65)).message, "nesting deeper than 64 levels");
        assert_eq!(error(&nested(65)).location, x_at(1, 257));
    }

    #[test]
    fn aliases_cannot_nest_past_the_depth_limit() {
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(30), "]".repeat(30));
        assert_eq!(error(&text).message, "nesting deeper than 64 levels");
        let text = format!("a: &d {deep}\nb: {}*d{}\n", "[".repeat(20), "]".repeat(20));
        assert!(parse_yaml("f", &text).is_ok());
    }
}

/// The piece reader must read every file it accepts exactly as the whole-file reader does.
#[cfg(test)]
mod piece_tests {
    use super::*;

    fn whole(text: &str) -> Located {
        parse_text("v.yaml", text, &[], Columns::default())
            .expect("valid")
            .0
    }

    fn in_pieces(text: &str) -> Option<Located> {
        parse_in_pieces("v.yaml", text, pieces::PIECE_BYTES)
    }

    #[test]
    fn values_read_without_origins_are_the_same_and_errors_keep_their_place() {
        let large: String = (0..6000)
            .map(|i| format!("k{i}:\n  a: {i}\n  b: [x, 'y']\n"))
            .collect();
        assert!(large.len() > pieces::MIN_BYTES);
        let read = parse_values_only("v.yaml", &large).expect("valid");
        assert!(read.origins.is_empty(), "read in pieces, without origins");
        for text in [
            large.as_str(),
            "a: &x {b: 1}\nc: *x\n",
            "a: \"\\ud83d\\ude00\"\n",
            "",
        ] {
            let only = parse_values_only("v.yaml", text).expect("valid");
            assert_eq!(only.value, parse_yaml("v.yaml", text).expect("valid").value);
        }
        let broken = format!("{large}k1:\n  a: 1\n");
        for text in [broken.as_str(), "a: 1\na: 2\n", "a: [1\n"] {
            let only = parse_values_only("v.yaml", text).expect_err("invalid").0;
            assert_eq!(only, parse_yaml("v.yaml", text).expect_err("invalid").0);
            assert!(only[0].to_string().contains("v.yaml:"), "{}", only[0]);
        }
    }

    /// Same values (in the same key order) and the same origins.
    fn assert_same(text: &str) {
        let pieces = parse_in_pieces("v.yaml", text, 1).expect("read in pieces");
        let whole = whole(text);
        assert_eq!(
            serde_json::to_string(&pieces.value).unwrap(),
            serde_json::to_string(&whole.value).unwrap()
        );
        assert_eq!(pieces.origins, whole.origins);
    }

    fn components(from: usize, to: usize) -> String {
        (from..to)
            .map(|i| {
                format!(
                    "- name: svc-{i}\n  config:\n    app.conf: '[server]\n\n      port = {i}\n\n      '\n    greeting: \"hi: {i} # no\"\n  env:\n    - {{name: A, value: '{i}'}}\n  # a comment\n  ports: [80, 443]\n  script: |\n    echo {i}\n    exit 0\n"
                )
            })
            .collect()
    }

    #[test]
    fn a_long_list_at_column_0_reads_as_the_whole_file_does() {
        let text = format!(
            "# the workload\n\ncommonEnv:\n  LOG: debug\n  EMPTY: null\ncomponents:\n{}# between\nother:\n  list:\n  - a\n  - b\nmore:\n{}last: 1\n",
            components(0, 3000),
            components(0, 500),
        );
        assert!(text.len() > pieces::MIN_BYTES);
        assert_same(&text);
    }

    #[test]
    fn a_file_that_starts_with_its_list_and_one_of_entries_only() {
        assert_same(&format!("items:\n{}", components(0, 2000)));
        let entries: String = (0..5000)
            .map(|i| format!("key{i}:\n  value: {i}\n  list:\n  - x\n"))
            .collect();
        assert_same(&entries);
    }

    /// An empty block scalar is placed where the next token starts, in the next piece.
    #[test]
    fn what_ends_a_piece_is_placed_as_in_the_whole_file() {
        assert_same("a: |\n  \nb: >\n\nc: 1\nd:\ne: ''\n");
        assert_same("items:\n- |\n\n- x: |+\n\n- 1\nlast: |\n");
    }

    #[test]
    fn a_file_of_one_piece_or_none_is_read_whole() {
        for text in ["", "# only a comment\n", "a: 1\n"] {
            assert!(parse_in_pieces("v.yaml", text, 1).is_none(), "{text:?}");
        }
        assert_same("a: 1\nb:\nc: [1, 2]\n");
    }

    #[test]
    fn what_the_pieces_cannot_read_exactly_is_read_whole() {
        let big = components(0, 2000);
        for text in [
            // An alias to an anchor of another piece, and anchors at all.
            format!("base: &b {{x: 1}}\nitems:\n{big}copy: *b\n"),
            // A key twice, in different pieces.
            format!("items:\n{big}items:\n{big}"),
            // Lines the cut does not know: a quoted key, a document marker, a tab.
            format!("\"quoted\": 1\nitems:\n{big}"),
            format!("items:\n{big}---\nx: 1\n"),
            format!("items:\n{big}\tx: 1\n"),
            // Content under the key before the list at column 0.
            format!("items:\n  x: 1\n{big}"),
            // A carriage return alone breaks a line; content indented before the first key.
            format!("# c\r x: 1\nitems:\n{big}"),
            format!("  x: 1\nitems:\n{big}"),
            // A comment before the first key that the reader refuses.
            format!("# \u{0}\nitems:\n{big}"),
            // The key that ends a piece, in the file itself.
            format!("somagen-end-of-piece: 1\nitems:\n{big}"),
        ] {
            assert!(in_pieces(&text).is_none(), "{}", &text[..40]);
        }
    }
}
