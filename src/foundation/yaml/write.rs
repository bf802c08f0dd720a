//! The YAML writer, our own, small and strict: a string is written plain only when every
//! YAML reader (1.1 and 1.2: kubectl's go-yaml v2, PyYAML, go-yaml v3) must read it back as
//! that same string; anything else is double-quoted. Multi-line strings become literal block
//! scalars (`|`) so configuration files stay readable.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// One value as a YAML document (no `---`).
pub fn yaml(value: &Value) -> String {
    let mut out = String::new();
    write_document(&mut out, value);
    out
}

/// Any serializable value (e.g. a template value) as YAML.
pub fn yaml_value<T: serde::Serialize>(value: &T) -> std::result::Result<String, String> {
    serde_json::to_value(value)
        .map(|value| yaml(&value))
        .map_err(|err| err.to_string())
}

/// Append `value` as a YAML document (no `---`) to `out`.
pub fn write_document(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0, false),
        Value::Array(list) if !list.is_empty() => write_list(out, list, 0, false),
        // A multi-line string at the top level is a block indented like any other: at
        // column 0 its lines could read as `---` or `...` markers, and its `|2` indicator
        // counts from the top level's indentation, not from column 0.
        scalar => {
            write_inline(out, scalar, 2);
            out.push('\n');
        }
    }
}

/// A string without line breaks as the writer puts it after a key (`key: <here>`): plain
/// or double-quoted. A caller that wrote a placeholder can put the real value in its place.
pub fn write_line_string(out: &mut String, text: &str) {
    debug_assert!(!text.contains('\n'));
    write_string(out, text, 0, false);
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A block mapping at `indent`; `continued` means the cursor already sits at that column
/// (after a list dash), so the first key is not indented again.
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, continued: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !continued {
            pad(out, indent);
        }
        let start = out.len();
        write_string(out, key, indent, false);
        // Readers look for a simple key's `:` within 1024 characters of its start: a longer
        // key is written as an explicit one, `? key` with `: value` on the next line.
        if out.len() - start > MAX_SIMPLE_KEY {
            out.insert_str(start, "? ");
            out.push('\n');
            pad(out, indent);
        }
        out.push(':');
        write_after_key(out, value, indent);
    }
}

/// The longest key, in bytes as written, that YAML readers accept as a simple `key: value`
/// (they count characters, which are never more than bytes).
const MAX_SIMPLE_KEY: usize = 1024;

fn write_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2, false);
        }
        // Lists under a key sit at the key's column, as kubectl writes them.
        Value::Array(list) if !list.is_empty() => {
            out.push('\n');
            write_list(out, list, indent, false);
        }
        scalar => {
            out.push(' ');
            write_inline(out, scalar, indent + 2);
            out.push('\n');
        }
    }
}

fn write_list(out: &mut String, list: &[Value], indent: usize, continued: bool) {
    for (i, item) in list.iter().enumerate() {
        if i > 0 || !continued {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, indent + 2, true),
            Value::Array(items) if !items.is_empty() => write_list(out, items, indent + 2, true),
            scalar => {
                write_inline(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection, on the current line. `block_indent` is the indentation
/// of a literal block's content, should the value be a multi-line string.
fn write_inline(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, block_indent, true),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_string(out: &mut String, text: &str, block_indent: usize, block_allowed: bool) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else if block_allowed && is_block_safe(text) {
        write_block(out, text, block_indent);
    } else {
        write_double_quoted(out, text);
    }
}

/// A literal block scalar with the chomping indicator that keeps trailing newlines exact,
/// and an indentation indicator when the first line itself starts with a space.
fn write_block(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    out.push('|');
    if body.starts_with(' ') {
        out.push('2');
    }
    out.push_str(match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    });
    out.push('\n');
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        if lines.peek().is_some() {
            out.push('\n');
        }
    }
    // Keep-chomping: the newlines beyond the one the caller writes after every scalar.
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Multi-line text that a literal block represents exactly in every reader.
fn is_block_safe(text: &str) -> bool {
    text.contains('\n')
        && !text.trim().is_empty()
        // go-yaml v2 misreads a block whose first line starts with a TAB.
        && !text.starts_with('\t')
        && !text.starts_with('\n')
        && text.chars().all(|c| c == '\n' || c == '\t' || (!c.is_control() && !is_special_break(c)))
        // Trailing spaces on a line are kept by a literal block, but a line of only spaces
        // before the first content line would change the detected indentation.
        && !text.lines().next().is_some_and(|first| first.trim().is_empty())
}

fn is_special_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// YAML 1.1 spellings of booleans and null: PyYAML and go-yaml v2 read these as non-strings.
const RESERVED_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `text` can be written without quotes and read back as the same string by YAML 1.1
/// and 1.2 readers. Deliberately conservative: letters, digits, `._/-:@=+,` and inner spaces;
/// a leading digit only for quantity-like words (`500m`, `1Gi`); never a reserved word.
fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    let Some(&last) = bytes.last() else {
        return false;
    };
    // A leading `-` is plain only for flags (`--addr=…`, `-Xmx1g`): never a number or `- x`.
    let flag = first == b'-'
        && bytes.get(1).is_some_and(|b| {
            b.is_ascii_alphabetic()
                || (*b == b'-' && bytes.get(2).is_some_and(u8::is_ascii_alphabetic))
        });
    if !(first.is_ascii_alphanumeric() || first == b'/' || flag) || last == b' ' {
        return false;
    }
    if !bytes.iter().all(|&b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'.' | b'_' | b'/' | b'-' | b' ' | b':' | b'@' | b'=' | b'+' | b','
            )
    }) {
        return false;
    }
    // `: ` starts a mapping value and ` #` a comment; a trailing `:` makes a key. One pass
    // over byte pairs: `str::contains` builds a substring searcher per call, and this runs
    // for every string of every object.
    let starts_syntax = |pair: &[u8]| pair == b": " || pair == b" #";
    if text.ends_with(':') || bytes.windows(2).any(starts_syntax) {
        return false;
    }
    if RESERVED_WORDS
        .iter()
        .any(|word| word.eq_ignore_ascii_case(text))
    {
        return false;
    }
    if first.is_ascii_digit() {
        return is_quantity_like(text);
    }
    true
}

/// Digits, an optional fraction, then letters only: `500m`, `1Gi`, `2.5G`. Never a number,
/// a date, a time or an exponent (`1e3` has a digit after its letter).
fn is_quantity_like(text: &str) -> bool {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    !suffix.is_empty()
        && number.matches('.').count() <= 1
        && !number.ends_with('.')
        && suffix.bytes().all(|b| b.is_ascii_alphabetic())
        && !suffix.eq_ignore_ascii_case("e")
        // `0xff` is a hexadecimal integer to every reader (`0Xff` to go-yaml v2).
        && (number != "0" || !suffix.starts_with(['x', 'X']))
}

fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_special_break(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn risky_strings_are_quoted() {
        for risky in [
            "on",
            "off",
            "yes",
            "no",
            "y",
            "n",
            "Y",
            "NO",
            "True",
            "null",
            "~",
            "",
            "0755",
            "1e3",
            "1E3",
            "12:30",
            "1_000",
            "2024-01-01",
            "0x1F",
            "0o17",
            ".inf",
            "-.5",
            "+1",
            "1.",
            "-",
            "- a",
            "a: b",
            "#x",
            "a #b",
            "*alias",
            "&anchor",
            "!tag",
            "%x",
            "@x",
            "`x",
            "{a}",
            "[a]",
            "'a'",
            "\"a\"",
            " lead",
            "trail ",
            "=",
            "<<",
            "?",
            "|",
            ">",
            "1",
            "1.5",
            "0",
        ] {
            let out = yaml(&json!({ "k": risky }));
            assert!(out.starts_with("k: \""), "{risky:?} was written as {out:?}");
        }
    }

    #[test]
    fn ordinary_words_stay_plain() {
        for plain in [
            "redis",
            "500m",
            "1Gi",
            "2.5G",
            "app.kubernetes.io/name",
            "/etc/redis",
            "Always",
            "a b",
            "redis:7.2.4-alpine",
            "http://x.svc:8200",
            "--addr=0.0.0.0:8181",
        ] {
            assert_eq!(yaml(&json!({ "k": plain })), format!("k: {plain}\n"));
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_exact_chomping() {
        assert_eq!(yaml(&json!({"k": "a\nb\n"})), "k: |\n  a\n  b\n");
        assert_eq!(yaml(&json!({"k": "a\nb"})), "k: |-\n  a\n  b\n");
        assert_eq!(yaml(&json!({"k": "a\n\nb\n\n"})), "k: |+\n  a\n\n  b\n\n");
        assert_eq!(
            yaml(&json!({"k": "  indented\nx\n"})),
            "k: |2\n    indented\n  x\n"
        );
        assert_eq!(
            yaml(&json!({"k": "\tfirst\nx\n"})),
            "k: \"\\tfirst\\nx\\n\"\n"
        );
    }

    #[test]
    fn nested_collections_use_kubectl_layout() {
        let value = json!({"spec": {"containers": [{"name": "c", "args": ["a", "b"]}], "empty": {}, "none": []},
            "matrix": [[1, 2], []]});
        assert_eq!(
            yaml(&value),
            "spec:\n  containers:\n  - name: c\n    args:\n    - a\n    - b\n  empty: {}\n  none: []\nmatrix:\n- - 1\n  - 2\n- []\n"
        );
    }

    #[test]
    fn top_level_blocks_are_indented_and_read_back() {
        use crate::foundation::yaml::manifest::{parse_document, split_documents};
        // Found by fuzzing: at column 0, `|2` content lost its leading spaces and a `---`
        // line split the document in two.
        for (text, written) in [
            ("  |-*a\n\n", "|2+\n    |-*a\n\n"),
            ("a\n---\nb", "|-\n  a\n  ---\n  b\n"),
        ] {
            assert_eq!(yaml(&json!(text)), written);
            let chunks = split_documents(written);
            assert_eq!(chunks.len(), 1, "{written:?}");
            assert_eq!(parse_document(chunks[0].text).unwrap(), json!(text));
        }
    }

    #[test]
    fn hexadecimal_words_are_quoted() {
        use crate::foundation::yaml::{manifest::parse_document, values::parse_yaml};
        // Found by fuzzing: `0xeeee` looked like a quantity (digits, then letters) and was
        // written plain, which both readers read as the integer 61166.
        for hex in ["0xeeee", "0xff", "0XFF"] {
            let value = json!({ hex: hex });
            let text = yaml(&value);
            assert_eq!(text, format!("\"{hex}\": \"{hex}\"\n"));
            assert_eq!(parse_document(&text).unwrap(), value);
            assert_eq!(parse_yaml("v.yaml", &text).unwrap().value, value);
        }
        assert_eq!(yaml(&json!({"k": "0Gi"})), "k: 0Gi\n");
    }

    #[test]
    fn long_keys_are_explicit_and_read_back() {
        use crate::foundation::yaml::{manifest::parse_document, values::parse_yaml};
        // Found by fuzzing: a key longer than 1024 characters written as `key: value` is
        // refused by every reader ("simple key expect ':'").
        let long = "k".repeat(1025);
        let value = json!({"a": 1, long.clone(): {"b": [1]}, "l": [{long.clone(): 2}]});
        let text = yaml(&value);
        assert_eq!(
            text,
            format!("a: 1\n? {long}\n:\n  b:\n  - 1\nl:\n- ? {long}\n  : 2\n")
        );
        assert_eq!(parse_document(&text).unwrap(), value);
        assert_eq!(parse_yaml("v.yaml", &text).unwrap().value, value);
        let at_limit = "k".repeat(1024);
        let text = yaml(&json!({at_limit.clone(): 1}));
        assert_eq!(text, format!("{at_limit}: 1\n"));
        assert_eq!(parse_document(&text).unwrap(), json!({at_limit: 1}));
    }

    #[test]
    fn block_in_list_item_is_indented_under_it() {
        assert_eq!(yaml(&json!({"l": ["x\ny\n"]})), "l:\n- |\n  x\n  y\n");
    }
}
