//! Shared pieces of the fuzz targets: the round-trip property of the YAML writer and the
//! generator of JSON-like values it is checked on.
//!
//! The property (DESIGN §3, "YAML-1.1 safe output"): whatever the writer emits, both of our
//! readers read back as the value that was written, and writing that again gives the same
//! bytes.
//!
//! - The rendered-document reader (YAML 1.1, as kubectl reads manifests) reads any value.
//! - The values reader (YAML 1.2 core schema) reads only a mapping at the top level: a value
//!   that is not a mapping is checked under a key.

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value};
use somagen::foundation::yaml::{manifest, values, write};

/// Nesting the generator stays within: far below both readers' limits (64 for values files,
/// 256 for rendered documents), deep enough for every layout rule of the writer.
pub const MAX_DEPTH: usize = 10;
/// Nodes per generated value: small values run fast, and libFuzzer finds the short ones.
pub const MAX_NODES: usize = 256;

/// Check the round trip of `value` through the writer and both readers; panics, with the
/// value and the text, on any difference.
pub fn assert_round_trip(value: &Value) {
    assert_manifest_round_trip(value);
    let mapping = match value {
        Value::Object(_) => value.clone(),
        other => Value::Object(Map::from_iter([("k".to_owned(), other.clone())])),
    };
    assert_values_round_trip(&mapping);
}

/// The writer's text for `value`, read back by the rendered-document reader (split at `---`
/// lines first, as a render does): one document, the same value, the same bytes again.
pub fn assert_manifest_round_trip(value: &Value) {
    let text = write::yaml(value);
    let chunks = manifest::split_documents(&text);
    assert_eq!(
        chunks.len(),
        1,
        "one value became {} documents\nvalue: {value:?}\ntext:\n{text}",
        chunks.len()
    );
    let read = match manifest::parse_document(chunks[0].text) {
        Ok(read) => read,
        Err(error) => panic!(
            "the manifest reader refused the writer's output: {error:?}\nvalue: {value:?}\ntext:\n{text}"
        ),
    };
    assert_same(value, &read, &text, "manifest");
}

/// The writer's text for the mapping `value`, read back by the values reader.
pub fn assert_values_round_trip(value: &Value) {
    let text = write::yaml(value);
    let read = match values::parse_yaml("round-trip.yaml", &text) {
        Ok(located) => located.value,
        Err(error) => panic!(
            "the values reader refused the writer's output: {error}\nvalue: {value:?}\ntext:\n{text}"
        ),
    };
    assert_same(value, &read, &text, "values");
}

/// `read` equals `written`, key order included (serde_json's maps compare without order),
/// and emitting it again is byte-identical to `text`.
fn assert_same(written: &Value, read: &Value, text: &str, reader: &str) {
    let (expected, actual) = (
        serde_json::to_string(written).unwrap_or_default(),
        serde_json::to_string(read).unwrap_or_default(),
    );
    assert!(
        written == read && expected == actual,
        "the {reader} reader changed the value\nwritten: {expected}\nread:    {actual}\ntext:\n{text}"
    );
    let again = write::yaml(read);
    assert_eq!(
        text, again,
        "a second emit differs after the {reader} reader"
    );
}

/// Fragments that steer generated strings towards what YAML readers treat specially: YAML 1.1
/// and 1.2 words and numbers, indicators, document markers, comments, line breaks, tabs,
/// leading and trailing spaces, and characters YAML reads as breaks or escapes.
const FRAGMENTS: &[&str] = &[
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "~",
    "NULL",
    "0755",
    "-007",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1e3",
    "1E-3",
    ".5",
    "5.",
    "-.inf",
    ".NaN",
    "12:30",
    "2024-01-01",
    "+1",
    "-",
    "- ",
    ": ",
    ":",
    "#",
    " #",
    "---",
    "...",
    "--- ",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "  ",
    "? ",
    "<<",
    "=",
    "&a",
    "*a",
    "!",
    "!!str",
    "|",
    "|-",
    ">",
    "'",
    "\"",
    "\\",
    "%YAML",
    "@",
    "`",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "\u{0}",
    "\u{1b}",
    "é",
    "\u{1F680}",
    "500m",
    "1Gi",
    "a",
    "key",
    "-Xmx1g",
    "--flag=x",
    "http://x:80/",
    "/etc",
    "\\u00e9",
    "\\uD83D\\uDE80",
];

/// Builds a bounded JSON-like value from fuzz input.
pub struct Generator<'a, 'u> {
    u: &'u mut Unstructured<'a>,
    nodes: usize,
}

impl<'a, 'u> Generator<'a, 'u> {
    pub fn new(u: &'u mut Unstructured<'a>) -> Self {
        Generator { u, nodes: 0 }
    }

    /// A value at most [`MAX_DEPTH`] deep and [`MAX_NODES`] large.
    pub fn value(&mut self, depth: usize) -> Result<Value> {
        self.nodes += 1;
        let leaf = depth >= MAX_DEPTH || self.nodes >= MAX_NODES;
        Ok(match self.u.int_in_range(0..=if leaf { 4 } else { 6 })? {
            0 => Value::Null,
            1 => Value::Bool(self.u.arbitrary()?),
            2 => self.integer()?,
            3 => self.float()?,
            4 => Value::String(self.string()?),
            5 => {
                let len = self.u.int_in_range(0..=6)?;
                let mut list = Vec::with_capacity(len);
                for _ in 0..len {
                    list.push(self.value(depth + 1)?);
                }
                Value::Array(list)
            }
            _ => {
                let len = self.u.int_in_range(0..=6)?;
                let mut map = Map::new();
                for _ in 0..len {
                    let key = self.string()?;
                    let value = self.value(depth + 1)?;
                    map.insert(key, value);
                }
                Value::Object(map)
            }
        })
    }

    fn integer(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=2)? {
            0 => Value::from(self.u.int_in_range(-1000i64..=1000)?),
            1 => Value::from(self.u.arbitrary::<i64>()?),
            _ => Value::from(self.u.arbitrary::<u64>()?),
        })
    }

    /// A finite float (serde_json has no others), from simple ones to arbitrary bits.
    fn float(&mut self) -> Result<Value> {
        let float = match self.u.int_in_range(0..=2)? {
            0 => f64::from(self.u.int_in_range(-1000i32..=1000)?),
            1 => f64::from(self.u.int_in_range(-1000i32..=1000)?) / 8.0,
            _ => self.u.arbitrary::<f64>()?,
        };
        Ok(Number::from_f64(float).map_or(Value::Null, Value::Number))
    }

    /// A string of fragments, single characters, arbitrary text and, now and then, a run
    /// of one character past the 1024 characters readers allow a simple key.
    fn string(&mut self) -> Result<String> {
        let mut text = String::new();
        for _ in 0..self.u.int_in_range(0..=6)? {
            match self.u.int_in_range(0..=15)? {
                0..=4 => text.push_str(self.u.choose(FRAGMENTS)?),
                5..=9 => text.push(self.u.arbitrary()?),
                10 => {
                    let run = self.u.int_in_range(1000..=1100)?;
                    let c: char = self.u.arbitrary()?;
                    text.extend(std::iter::repeat_n(c, run));
                }
                _ => {
                    let len = self.u.int_in_range(0..=16)?;
                    let bytes = self.u.bytes(len)?;
                    text.push_str(&String::from_utf8_lossy(bytes));
                }
            }
        }
        Ok(text)
    }
}
