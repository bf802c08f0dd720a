//! A fast reader for the block-style YAML that templates write: indented mappings and lists,
//! plain, quoted and literal-block scalars, and one-line flow collections. It reads what it
//! recognises exactly as the full reader does (YAML 1.1 scalars, as kubectl) and declines
//! everything else — anchors, tags, folded or multi-line flow scalars, complex keys,
//! duplicate keys, tabs — by returning `None`, so the caller falls back to the full reader,
//! which also gives the error. Reading rendered documents is most of a render's work; this
//! path does it without a token stream.

use serde_json::{Map, Value};

use super::manifest::plain;

/// Deepest nesting this reader takes on; deeper documents go to the full reader.
const MAX_DEPTH: usize = 128;

/// The document's value, or `None` when the text is outside the subset (or invalid).
pub fn parse(text: &str) -> Option<Value> {
    let lines: Vec<Line<'_>> = text.split('\n').map(Line::new).collect::<Option<_>>()?;
    let mut reader = Reader {
        lines,
        at: 0,
        entries: Vec::new(),
    };
    reader.skip_blank();
    if reader.at == reader.lines.len() {
        return Some(Value::Null);
    }
    let first = &reader.lines[reader.at];
    if first.indent != 0 || first.body.starts_with("---") || first.body.starts_with("...") {
        return None;
    }
    let value = reader.node(0, 0)?;
    reader.skip_blank();
    (reader.at == reader.lines.len()).then_some(value)
}

/// One line: its indentation and what follows it.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    body: &'a str,
    raw: &'a str,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Option<Line<'a>> {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let body = raw.trim_start_matches(' ');
        if body.starts_with('\t') {
            return None;
        }
        Some(Line {
            indent: raw.len() - body.len(),
            body,
            raw,
        })
    }

    /// Blank or a comment: not part of the structure (outside block scalars).
    fn is_blank(&self) -> bool {
        self.body.trim_end().is_empty() || self.body.starts_with('#')
    }
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    /// The entries of the mappings being read, innermost last: a mapping is built only once
    /// its entries are known, so its storage is allocated once at its exact size (objects
    /// are the largest data a render holds) and each key is hashed once.
    entries: Vec<(String, Value)>,
}

impl<'a> Reader<'a> {
    fn skip_blank(&mut self) {
        while self.lines.get(self.at).is_some_and(Line::is_blank) {
            self.at += 1;
        }
    }

    /// The next structural line, if it is indented exactly `indent`.
    fn next_at(&mut self, indent: usize) -> Option<Line<'a>> {
        self.skip_blank();
        self.lines
            .get(self.at)
            .copied()
            .filter(|l| l.indent == indent)
    }

    /// The block node whose first line is the next one, at `indent`.
    fn node(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = self.next_at(indent)?;
        if is_seq_entry(line.body) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, line.body, depth)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.next_at(indent) {
            if !is_seq_entry(line.body) {
                break;
            }
            let rest = line.body[1..].trim_start_matches(' ');
            let item_indent = indent + (line.body.len() - rest.len());
            self.at += 1;
            let item = if rest.is_empty() || rest.starts_with('#') {
                self.nested(indent, depth)?
            } else if is_seq_entry(rest) {
                return None;
            } else if let Some((key, value)) = split_key(rest) {
                // A compact mapping: its first key on the entry's line, the rest under it.
                self.mapping_from(item_indent, key, value, depth + 1)?
            } else {
                self.inline_value(indent, rest)?
            };
            items.push(item);
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize, first: &'a str, depth: usize) -> Option<Value> {
        let (key, value) = split_key(first)?;
        self.at += 1;
        self.mapping_from(indent, key, value, depth)
    }

    /// A mapping whose first key (already consumed) is `key` with the rest of its line.
    fn mapping_from(
        &mut self,
        indent: usize,
        key: &'a str,
        value: &'a str,
        depth: usize,
    ) -> Option<Value> {
        let first = self.entries.len();
        let mut entry = Some((key, value));
        while let Some((key, value)) = entry.take() {
            let key = resolve_key(key)?;
            let value = if value.is_empty() || value.starts_with('#') {
                // A block value: more indented, or a list at the key's own indentation.
                match self.next_at(indent) {
                    Some(line) if is_seq_entry(line.body) => self.sequence(indent, depth + 1)?,
                    _ => self.nested(indent, depth)?,
                }
            } else {
                self.inline_value(indent, value)?
            };
            self.entries.push((key, value));
            if let Some(line) = self.next_at(indent) {
                if is_seq_entry(line.body) {
                    break;
                }
                entry = Some(split_key(line.body)?);
                self.at += 1;
            }
        }
        let count = self.entries.len() - first;
        let map: Map<String, Value> = self.entries.drain(first..).collect();
        // A duplicate key collapsed into one entry: declined, like every other ambiguity.
        (map.len() == count).then_some(Value::Object(map))
    }

    /// The value of an empty `key:` or `-`: a more indented block node, or null.
    fn nested(&mut self, parent: usize, depth: usize) -> Option<Value> {
        self.skip_blank();
        match self.lines.get(self.at) {
            Some(line) if line.indent > parent => {
                let indent = line.indent;
                self.node(indent, depth + 1)
            }
            _ => Some(Value::Null),
        }
    }

    /// A value written on its key's (or entry's) line.
    fn inline_value(&mut self, parent: usize, text: &str) -> Option<Value> {
        let value = match text.as_bytes()[0] {
            b'|' => return self.literal(parent, text),
            b'"' => {
                let (value, rest) = double_quoted(text)?;
                end_of_line(rest)?;
                Value::String(value)
            }
            b'\'' => {
                let (value, rest) = single_quoted(text)?;
                end_of_line(rest)?;
                Value::String(value)
            }
            b'[' | b'{' => {
                let (value, rest) = flow(text, 0)?;
                end_of_line(rest)?;
                value
            }
            b'&' | b'*' | b'!' | b'>' | b'%' | b'@' | b'`' | b'?' | b',' | b']' | b'}' => {
                return None;
            }
            _ => plain(plain_text(text)?),
        };
        // A more indented line after a one-line value would continue it (a multi-line
        // scalar): the full reader decides.
        self.skip_blank();
        match self.lines.get(self.at) {
            Some(line) if line.indent > parent => None,
            _ => Some(value),
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`); its lines follow the key's line.
    fn literal(&mut self, parent: usize, header: &str) -> Option<Value> {
        // Indentation indicators (`|2`) and comments after the header: the full reader.
        let chomp = match header[1..].trim_end() {
            "" => Chomp::Clip,
            "-" => Chomp::Strip,
            "+" => Chomp::Keep,
            _ => return None,
        };
        // The content's indentation is that of its first non-blank line.
        let mut indent = None;
        let mut end = self.at;
        let mut leading_blank_max = 0;
        while end < self.lines.len() {
            let line = self.lines[end];
            if line.body.trim_end().is_empty() {
                if indent.is_none() {
                    leading_blank_max = leading_blank_max.max(line.raw.len());
                }
                end += 1;
                continue;
            }
            match indent {
                None if line.indent > parent => indent = Some(line.indent),
                None => break,
                Some(i) if line.indent < i => break,
                Some(_) => {}
            }
            end += 1;
        }
        let indent = indent?;
        if leading_blank_max > indent {
            return None;
        }
        // Trailing blank lines belong to the chomping, not to the next node.
        let mut last = end;
        while last > self.at && self.lines[last - 1].body.trim_end().is_empty() {
            last -= 1;
        }
        // A blank line holding more spaces than the indentation is content: the full reader.
        if self.lines[self.at..end]
            .iter()
            .any(|l| l.body.trim_end().is_empty() && l.raw.len() > indent)
        {
            return None;
        }
        let mut text = String::new();
        for line in &self.lines[self.at..last] {
            text.push_str(line.raw.get(indent..).unwrap_or(""));
            text.push('\n');
        }
        let trailing = end - last;
        match chomp {
            Chomp::Strip => {
                text.pop();
            }
            Chomp::Clip => {}
            Chomp::Keep => text.extend(std::iter::repeat_n('\n', trailing)),
        }
        if last == self.at {
            // Only blank lines: an empty scalar (keep chomping keeps them).
            text = match chomp {
                Chomp::Keep => "\n".repeat(trailing),
                _ => String::new(),
            };
        }
        // A document ending inside the block, before a final newline: the full reader.
        if end == self.lines.len() && chomp == Chomp::Keep {
            return None;
        }
        self.at = end;
        Some(Value::String(text))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

fn is_seq_entry(body: &str) -> bool {
    body == "-" || body.starts_with("- ") || body.trim_end() == "-"
}

/// `key: value` (or `key:`): the key and the rest after `: `. Quoted and complex keys decline.
fn split_key(body: &str) -> Option<(&str, &str)> {
    let first = *body.as_bytes().first()?;
    if matches!(
        first,
        b'"' | b'\''
            | b'?'
            | b'['
            | b'{'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'%'
            | b'@'
            | b'`'
            | b'#'
            | b','
    ) {
        return None;
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                let key = body[..i].trim_end();
                let rest = body[i + 1..].trim_start_matches(' ').trim_end();
                return (!key.is_empty()).then_some((key, rest));
            }
            b'#' if bytes[i - 1] == b' ' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// A plain key resolved as the full reader does: the scalar's text form.
fn resolve_key(key: &str) -> Option<String> {
    if key.contains(": ") || key.ends_with(':') {
        return None;
    }
    Some(match plain(key) {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// The text of a one-line plain scalar: up to a comment, trailing spaces trimmed.
fn plain_text(text: &str) -> Option<&str> {
    let text = match text.find(" #") {
        Some(at) => &text[..at],
        None => text,
    };
    let text = text.trim_end();
    // `: ` inside a plain scalar would make a mapping: the full reader decides.
    (!text.contains(": ") && !text.ends_with(':')).then_some(text)
}

/// Nothing but spaces or a comment.
fn end_of_line(rest: &str) -> Option<()> {
    let rest = rest.trim_start_matches(' ');
    (rest.is_empty() || rest.starts_with('#')).then_some(())
}

/// A one-line double-quoted scalar at the start of `text`, and what follows it.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut rest = &text[1..];
    loop {
        // Runs without a quote or an escape are copied whole: most strings are one run.
        let stop = rest.bytes().position(|b| b == b'"' || b == b'\\')?;
        out.push_str(&rest[..stop]);
        if rest.as_bytes()[stop] == b'"' {
            return Some((out, &rest[stop + 1..]));
        }
        let mut chars = rest[stop + 1..].chars();
        let escape = chars.next()?;
        let hex = |n: usize, chars: &mut std::str::Chars<'_>| -> Option<char> {
            let digits: String = chars.by_ref().take(n).collect();
            if digits.len() != n {
                return None;
            }
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        out.push(match escape {
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(2, &mut chars)?,
            'u' => hex(4, &mut chars)?,
            'U' => hex(8, &mut chars)?,
            _ => return None,
        });
        rest = chars.as_str();
    }
}

/// A one-line single-quoted scalar at the start of `text`, and what follows it.
fn single_quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut rest = &text[1..];
    loop {
        // Runs without a quote are copied whole; `''` is one quote.
        let stop = rest.find('\'')?;
        out.push_str(&rest[..stop]);
        rest = &rest[stop + 1..];
        match rest.strip_prefix('\'') {
            Some(after) => {
                out.push('\'');
                rest = after;
            }
            None => return Some((out, rest)),
        }
    }
}

/// A one-line flow collection (or scalar inside one) at the start of `text`, and the rest.
fn flow(text: &str, depth: usize) -> Option<(Value, &str)> {
    if depth > MAX_DEPTH {
        return None;
    }
    let text = text.trim_start_matches(' ');
    match text.as_bytes().first()? {
        b'[' => {
            let mut items = Vec::new();
            let mut rest = text[1..].trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix(']') {
                return Some((Value::Array(items), after));
            }
            loop {
                let (item, after) = flow(rest, depth + 1)?;
                items.push(item);
                let after = after.trim_start_matches(' ');
                if let Some(after) = after.strip_prefix(']') {
                    return Some((Value::Array(items), after));
                }
                rest = after.strip_prefix(',')?.trim_start_matches(' ');
                if rest.starts_with(']') {
                    return None;
                }
            }
        }
        b'{' => {
            let mut map = Map::new();
            let mut rest = text[1..].trim_start_matches(' ');
            if let Some(after) = rest.strip_prefix('}') {
                return Some((Value::Object(map), after));
            }
            loop {
                let (key, after) = flow_scalar(rest, true)?;
                let key = match key {
                    Value::String(text) => text,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                let after = after.trim_start_matches(' ').strip_prefix(':')?;
                if !after.starts_with(' ') {
                    return None;
                }
                let (value, after) = flow(after, depth + 1)?;
                if map.insert(key, value).is_some() {
                    return None;
                }
                let after = after.trim_start_matches(' ');
                if let Some(after) = after.strip_prefix('}') {
                    return Some((Value::Object(map), after));
                }
                rest = after.strip_prefix(',')?.trim_start_matches(' ');
                if rest.starts_with('}') {
                    return None;
                }
            }
        }
        _ => flow_scalar(text, false),
    }
}

/// A scalar inside a flow collection: quoted, or plain up to `,`, `]`, `}` or `: `.
fn flow_scalar(text: &str, key: bool) -> Option<(Value, &str)> {
    match text.as_bytes().first()? {
        b'"' => double_quoted(text).map(|(s, rest)| (Value::String(s), rest)),
        b'\'' => single_quoted(text).map(|(s, rest)| (Value::String(s), rest)),
        b'[' | b'{' | b']' | b'}' | b',' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
        | b'`' | b'#' | b'?' => None,
        b'-' if key => None,
        _ => {
            let bytes = text.as_bytes();
            let mut end = 0;
            while end < bytes.len() {
                match bytes[end] {
                    b',' | b']' | b'}' | b'[' | b'{' => break,
                    b':' if end + 1 == bytes.len()
                        || matches!(bytes[end + 1], b' ' | b',' | b']' | b'}') =>
                    {
                        break;
                    }
                    b'#' if end > 0 && bytes[end - 1] == b' ' => return None,
                    _ => end += 1,
                }
            }
            let scalar = text[..end].trim_end();
            if scalar.is_empty() {
                return None;
            }
            Some((plain(scalar), &text[end..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fast reader agrees with the full one, or declines.
    fn agrees(text: &str) -> bool {
        let full = super::super::manifest::parse_full(text).ok();
        match parse(text) {
            Some(fast) => {
                assert_eq!(Some(&fast), full.as_ref(), "on {text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn reads_what_templates_write() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b, \"c\": 'd'}\n  annotations:\n    checksum/config: abc # note\ndata:\n  on: yes\n  mode: 0440\n  empty:\n  list:\n  - 1\n  - - a\n  seq:\n    - name: a\n      port: 80\n    - {name: b}\n    - \"x\\ty\"\n  script: |\n    #!/bin/sh\n\n    echo hi\n  strip: |-\n    a\n    b\n\n  keep: |+\n    a\n\nend: true\n";
        assert!(!agrees(text), "`- - a` declines");
        let text = text.replace("  - - a\n", "");
        assert!(agrees(&text));
        assert_eq!(
            parse(&text).unwrap()["data"]["seq"],
            json!([{"name": "a", "port": 80}, {"name": "b"}, "x\ty"])
        );
    }

    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >\n  folded\n",
            "a: plain\n  continued\n",
            "a: 1\na: 2\n",
            "a:\n\tb: 1\n",
            "? complex\n: key\n",
            "a: [1,\n  2]\n",
            "\"quoted\": key\n",
            "a: |2\n   x\n",
            "a: x: y\n",
        ] {
            assert!(!agrees(text), "{text:?} should decline");
        }
    }

    #[test]
    fn agrees_on_the_documents_of_every_golden_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
        let mut read = 0;
        for entry in std::fs::read_dir(root).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for chunk in super::super::manifest::split_documents(&text) {
                if agrees(chunk.text) {
                    read += 1;
                }
            }
        }
        assert!(
            read > 300,
            "the fast path reads the golden documents ({read})"
        );
    }
}
