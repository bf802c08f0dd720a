//! Rendered text → JSON values, fast and bounded.
//!
//! Template output is read the way Kubernetes reads a manifest, that is as YAML 1.1 as
//! kubectl's go-yaml v2 does: `yes`/`no`/`on`/`off` are booleans and `0440` is the octal 288
//! (so `defaultMode: 0440` means what Helm users expect). The output of a template is split
//! into documents at `---` lines first, so that documents are parsed in parallel.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use super::tree::{Budget, Collection, TagKind, tag_kind, tag_name};
use serde_json::{Number, Value};

/// Deepest nesting a rendered document may have.
const MAX_DEPTH: usize = 256;

/// One document of a template's output: its text and its first line in that output.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub text: &'a str,
    /// 1-based line of `text`'s first line within the template's output.
    pub first_line: usize,
}

/// Split a template's output at document markers (`---` at the start of a line, which YAML
/// forbids inside any scalar, so the split is exact).
pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut first_line = 1;
    let mut offset = 0;
    for (line_no, line) in (1..).zip(text.split_inclusive('\n')) {
        if is_marker(line) {
            // Nothing but blank lines and comments before the first marker is not a
            // document of its own: documents are numbered as a reader counts them.
            let before = &text[start..offset];
            if !(chunks.is_empty() && is_blank_or_comments(before)) {
                chunks.push(Chunk {
                    text: &text[start..offset],
                    first_line,
                });
            }
            // The marker line may carry content after `--- `; keep it with its document.
            start = offset + 3;
            first_line = line_no;
        }
        offset += line.len();
    }
    chunks.push(Chunk {
        text: &text[start..],
        first_line,
    });
    chunks
}

/// The offset of the last document marker line among whole `lines`: where a text that is
/// still growing may be cut so that each side splits into the documents the whole would.
pub fn last_marker(lines: &str) -> Option<usize> {
    let mut offset = 0;
    let mut last = None;
    for line in lines.split_inclusive('\n') {
        if is_marker(line) {
            last = Some(offset);
        }
        offset += line.len();
    }
    last
}

/// A document marker line: `---` at the start of a line, alone or before content.
fn is_marker(line: &str) -> bool {
    let bare = line.trim_end_matches(['\n', '\r']);
    bare == "---" || bare.starts_with("--- ")
}

/// Nothing but blank lines and comments.
pub fn is_blank_or_comments(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .all(|line| line.is_empty() || line.starts_with('#'))
}

/// A parse error: a 1-based line within the chunk and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parse one chunk into its value (`Null` for an empty document): by the fast block reader
/// when the text is in its subset, else by the full reader.
pub fn parse_document(text: &str) -> Result<Value, ParseError> {
    match super::block::parse(text) {
        Some(value) => Ok(value),
        None => parse_full(text),
    }
}

/// Parse one chunk with the full YAML reader.
pub fn parse_full(text: &str) -> Result<Value, ParseError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|err| ParseError {
            line: err.marker().line(),
            message: err.info().to_owned(),
        })?;
        let line = span.start.line();
        builder
            .event(event)
            .map_err(|message| ParseError { line, message })?;
    }
    Ok(builder.root.unwrap_or(Value::Null))
}

/// A collection being read, and its anchor (0 for none).
struct Frame {
    collection: Collection,
    anchor: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    /// `budget.total()` when each open collection started.
    starts: Vec<usize>,
    anchors: HashMap<usize, (Value, usize)>,
    root: Option<Value>,
    budget: Budget,
    documents: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>) -> Result<(), String> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err("a second document inside one chunk (a `...` end marker?)".into());
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve(&text, style, tag.as_deref())?;
                self.budget.write();
                if let Some(frame) = self.stack.last_mut().filter(|f| f.collection.expects_key()) {
                    let key = match value {
                        Value::String(text) => text,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    return frame
                        .collection
                        .set_key(key)
                        .map_err(|key| format!("duplicate key `{key}`"));
                }
                self.place(value, anchor, self.budget.total() - 1)
            }
            Event::SequenceStart(anchor, _) => self.open(Collection::list(), anchor),
            Event::MappingStart(anchor, _) => self.open(Collection::map(), anchor),
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().ok_or("unbalanced collection end")?;
                let first = self.starts.pop().unwrap_or_default();
                self.place(frame.collection.into_value(), frame.anchor, first)
            }
            Event::Alias(id) => {
                let (value, nodes) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or("an alias to an unknown anchor")?;
                self.budget.copy(nodes)?;
                if self.expects_key() {
                    return Err("a mapping key must be a scalar".into());
                }
                self.place(value, 0, 0)
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }

    fn expects_key(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|f| f.collection.expects_key())
    }

    fn open(&mut self, collection: Collection, anchor: usize) -> Result<(), String> {
        if self.expects_key() {
            return Err("a mapping key must be a scalar".into());
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.budget.write();
        self.starts.push(self.budget.total() - 1);
        self.stack.push(Frame { collection, anchor });
        Ok(())
    }

    /// Put a finished node where it belongs: into its collection, or as the root. An
    /// anchored node is kept with its size (nodes counted since `first`) for its aliases.
    fn place(&mut self, value: Value, anchor: usize, first: usize) -> Result<(), String> {
        if anchor != 0 {
            let nodes = self.budget.total() - first;
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        match self.stack.last_mut() {
            Some(frame) => frame.collection.add(value),
            None => self.root = Some(value),
        }
        Ok(())
    }
}

fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    match tag_kind(tag) {
        TagKind::Core("str") | TagKind::NonSpecific => Ok(Value::String(text.to_owned())),
        TagKind::Core(_) => Ok(plain(text)),
        TagKind::Other => Err(format!(
            "unsupported tag `{}`",
            tag.map(tag_name).unwrap_or_default()
        )),
        TagKind::None if style == ScalarStyle::Plain => Ok(plain(text)),
        TagKind::None => Ok(Value::String(text.to_owned())),
    }
}

/// YAML 1.1 resolution of a plain scalar, as go-yaml v2 (kubectl) does it.
pub(super) fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    integer(text)
        .or_else(|| float(text))
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

fn integer(text: &str) -> Option<Value> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (digits, radix) = if let Some(hex) = body.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(octal) = body.strip_prefix("0o") {
        (octal, 8)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from(u64::from_str_radix(digits, radix).ok()?);
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value)
        .map(Value::from)
        .or_else(|_| u64::try_from(value).map(Value::from))
        .ok()
}

fn float(text: &str) -> Option<Value> {
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_split_at_markers_with_their_first_line() {
        let chunks = split_documents("a: 1\n---\nb: 2\n--- \nc: |\n  x\n");
        let texts: Vec<_> = chunks.iter().map(|c| (c.text, c.first_line)).collect();
        assert_eq!(
            texts,
            [("a: 1\n", 1), ("\nb: 2\n", 2), (" \nc: |\n  x\n", 4)]
        );
    }

    #[test]
    fn leading_comments_do_not_make_a_document() {
        let chunks = split_documents("# generated\n# by hand\n---\na: 1\n---\nb: 2\n");
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].first_line, 3);
        let chunks = split_documents("a: 0\n---\na: 1\n");
        assert_eq!(
            chunks.len(),
            2,
            "content before the first marker is a document"
        );
    }

    #[test]
    fn a_leading_marker_does_not_make_an_empty_first_document() {
        let chunks = split_documents("\n---\na: 1\n");
        assert_eq!(chunks.len(), 1);
        assert_eq!((chunks[0].text, chunks[0].first_line), ("\na: 1\n", 2));
    }

    #[test]
    fn scalars_resolve_as_kubectl_reads_them() {
        let value = parse_document(
            "a: 0440\nb: yes\nc: off\nd: 1e3\ne: '0440'\nf: 0x1F\ng: -12\nh: 1Gi\ni: ~\nj: 12:30\n",
        )
        .unwrap();
        assert_eq!(
            value,
            json!({"a": 288, "b": true, "c": false, "d": 1000.0, "e": "0440", "f": 31, "g": -12, "h": "1Gi", "i": null, "j": "12:30"})
        );
    }

    #[test]
    fn verbatim_core_tags_mean_the_short_ones() {
        assert_eq!(
            parse_document("a: !<tag:yaml.org,2002:str> 5\nb: !<tag:yaml.org,2002:int> 0440\n")
                .unwrap(),
            json!({"a": "5", "b": 288})
        );
        assert!(
            parse_document("a: !<tag:example.com,2000:x> 5\n")
                .unwrap_err()
                .message
                .contains("unsupported tag")
        );
    }

    #[test]
    fn aliases_copy_and_bombs_stop() {
        assert_eq!(
            parse_document("a: &x [1, 2]\nb: *x\n").unwrap(),
            json!({"a": [1, 2], "b": [1, 2]})
        );
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10u8 {
            let (prev, this) = ((b'a' + i - 1) as char, (b'a' + i) as char);
            bomb.push_str(&format!("{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(
            parse_document(&bomb)
                .unwrap_err()
                .message
                .contains("alias bomb")
        );
    }

    #[test]
    fn duplicate_keys_and_deep_nesting_are_errors_with_a_line() {
        let err = parse_document("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (3, "duplicate key `a`"));
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(parse_document(&deep).is_err());
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(parse_document("# only a comment\n").unwrap(), Value::Null);
    }
}
