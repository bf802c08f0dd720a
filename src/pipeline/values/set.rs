//! `--set`, `--set-string`, `--set-json` and `--set-file`: Helm's strvals syntax.
//!
//! One flag holds assignments separated by commas: `a.b=1,list[0].name=x,tags={a,b}`.
//!
//! - A key is a dotted path; `[N]` indexes a list, which grows with nulls up to index `N`
//!   (at most [`MAX_INDEX`], as in Helm). `\` makes the next character literal in keys and
//!   values alike (`\,`, `\.`, `\=`, `\[`, `\\`).
//! - A value runs to the next unescaped comma. `name=` is the empty string, not null.
//!   `{x,y}` is a list of such values.
//! - `--set` infers types exactly as Helm does and no further: `true`/`false` and `null` in
//!   any letter case, and base-10 64-bit integers that do not start with `0` (except `0`
//!   itself), so `0755` and `1.5` stay strings. `--set-string` never infers. `--set-json`
//!   reads each value as JSON; an empty one is null.
//!
//! Where Helm's parser silently does something odd, we report an error instead: `=x`
//! (empty key; Helm ignores it), `noval[0]` without `=` (Helm sets an empty list), a
//! trailing lone `\` (Helm drops it), text after a `{list}` or a JSON value, and a key that
//! reaches *through* a value set earlier in the same flag (`a=1,a.b=2`; Helm panics or
//! replaces, depending on where). One more difference: `{}` is an empty list (Helm: `[""]`).
//! Elements of `{a, b}` keep their spaces (`" b"`), as in Helm.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::foundation::diag::{self, Code, Diagnostic, Location};
use crate::foundation::located::{Located, MAX_DEPTH, child_pointer};

/// Largest list index a key may use; Helm refuses larger ones too.
pub(crate) const MAX_INDEX: usize = 65_536;

/// Which flag an argument came from, which decides how its values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: `true`/`false`, `null` and integers are inferred, the rest is text.
    Infer,
    /// `--set-string`: every value is text.
    String,
    /// `--set-json`: every value is JSON.
    Json,
}

impl SetKind {
    fn flag(self) -> &'static str {
        match self {
            SetKind::Infer => "--set",
            SetKind::String => "--set-string",
            SetKind::Json => "--set-json",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            SetKind::Json => {
                "the syntax is key=JSON[,key=JSON...], e.g. `a.b={\"c\":1},list=[1,2]`; escape , . = [ in keys with a backslash"
            }
            _ => {
                "the syntax is key=value[,key=value...]: nest with `a.b=v`, index lists with `a[0]=v`, write lists as `a={x,y}`, escape , . = [ with a backslash"
            }
        }
    }
}

/// How a flag's argument appears in locations: as written, unless it names a credential
/// (`password`, `token`, ...), in which case every value is hidden: locations are printed
/// in diagnostics, which end up in CI logs.
fn shown(arg: &str) -> String {
    let lower = arg.to_ascii_lowercase();
    if !["password", "secret", "token", "credential", "key"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return arg.to_owned();
    }
    arg.split(',')
        .map(|part| match part.split_once('=') {
            Some((key, _)) => format!("{key}=***"),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parse one `--set`/`--set-string`/`--set-json` argument (Helm strvals syntax) into a layer
/// whose origins are all `Location::Flag("--set a.b=c")`, the flag as the user wrote it.
pub fn parse_set(kind: SetKind, arg: &str) -> diag::Result<Located> {
    let flag = format!("{} {}", kind.flag(), shown(arg));
    let fail = |message: String| {
        Diagnostic::error(Code::Set, message)
            .at(Location::Flag(flag.clone()))
            .hint(kind.hint())
    };
    let mut reader = Reader::new(arg, kind);
    let mut root = Value::Object(Map::new());
    let mut indexed = BTreeSet::new();
    while !reader.at_end() {
        let path = reader.key().map_err(fail)?;
        let value = reader.value().map_err(fail)?;
        indexed.extend(indexed_lists(&path));
        assign(&mut root, &path, value).map_err(fail)?;
    }
    let mut layer = located(root, Location::Flag(flag));
    layer.indexed_lists = indexed;
    Ok(layer)
}

/// `--set-file key=path`: `read` returns the file's contents, which become a string value.
///
/// One assignment per flag (repeat the flag for more files): the path runs to the end of the
/// argument, and may contain `\,` like any value.
pub fn parse_set_file(
    arg: &str,
    read: impl FnOnce(&str) -> std::io::Result<String>,
) -> diag::Result<Located> {
    let flag = format!("--set-file {}", shown(arg));
    let fail = |message: String| {
        Diagnostic::error(Code::Set, message)
            .at(Location::Flag(flag.clone()))
            .hint("the syntax is key=path, one file per --set-file flag")
    };
    let mut reader = Reader::new(arg, SetKind::String);
    let path = reader.key().map_err(fail)?;
    let file = reader.text(&[',']).map_err(fail)?;
    if !reader.at_end() {
        return Err(fail(format!(
            "`{}` sets more than one key; use one --set-file per file",
            arg
        ))
        .into());
    }
    if file.is_empty() {
        return Err(fail(format!("missing file path after `{}`", reader.consumed())).into());
    }
    let contents = read(&file).map_err(|error| fail(format!("cannot read `{file}`: {error}")))?;
    let mut root = Value::Object(Map::new());
    assign(&mut root, &path, Value::String(contents)).map_err(fail)?;
    let mut layer = located(root, Location::Flag(flag));
    layer.indexed_lists = indexed_lists(&path).collect();
    Ok(layer)
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A cursor over one flag argument.
struct Reader<'a> {
    source: &'a str,
    /// Byte offset of the next character.
    at: usize,
    kind: SetKind,
    /// Where the current assignment started, to quote it in errors.
    start: usize,
}

impl<'a> Reader<'a> {
    fn new(source: &'a str, kind: SetKind) -> Self {
        Reader {
            source,
            at: 0,
            kind,
            start: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.at >= self.source.len()
    }

    fn peek(&self) -> Option<char> {
        self.source[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    /// The current assignment as written so far, for messages.
    fn consumed(&self) -> &'a str {
        &self.source[self.start..self.at]
    }

    /// Read text up to (not including) an unescaped `stop` character or the end.
    fn text(&mut self, stops: &[char]) -> Result<String, String> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if stops.contains(&c) {
                break;
            }
            self.bump();
            if c == '\\' {
                match self.bump() {
                    Some(escaped) => text.push(escaped),
                    None => {
                        return Err(format!("dangling `\\` at the end of `{}`", self.consumed()));
                    }
                }
            } else {
                text.push(c);
            }
        }
        Ok(text)
    }

    /// Read a key path up to and including its `=`.
    fn key(&mut self) -> Result<Vec<Segment>, String> {
        self.start = self.at;
        let mut path = Vec::new();
        loop {
            let name = self.text(&['=', '[', ',', '.'])?;
            if name.is_empty() {
                let next = self.peek().map(String::from).unwrap_or_default();
                return Err(format!("empty key name in `{}{next}`", self.consumed()));
            }
            path.push(Segment::Key(name));
            self.check_depth(&path)?;
            let mut next = self.bump();
            while next == Some('[') {
                path.push(Segment::Index(self.index()?));
                self.check_depth(&path)?;
                next = self.bump();
                if !matches!(next, Some('[' | '.' | '=') | None) {
                    let shown = self.consumed();
                    return Err(format!("unexpected text after the list index in `{shown}`"));
                }
            }
            match next {
                Some('=') => return Ok(path),
                Some('.') => continue,
                Some(',') => {
                    self.at -= 1;
                    let key = self.consumed().to_owned();
                    return Err(format!("missing '=' after key `{key}`"));
                }
                _ => return Err(format!("missing '=' after key `{}`", self.consumed())),
            }
        }
    }

    fn check_depth(&self, path: &[Segment]) -> Result<(), String> {
        if path.len() > MAX_DEPTH {
            return Err(format!(
                "key `{}` is nested deeper than {MAX_DEPTH} levels",
                self.consumed()
            ));
        }
        Ok(())
    }

    /// Read a list index after its `[`, up to and including the `]`.
    fn index(&mut self) -> Result<usize, String> {
        let Some(length) = self.source[self.at..].find(']') else {
            self.at = self.source.len();
            return Err(format!("unclosed list index in `{}`", self.consumed()));
        };
        let digits = &self.source[self.at..self.at + length];
        self.at += length + 1;
        let shown = self.consumed();
        if digits.is_empty() {
            return Err(format!("empty list index in `{shown}`"));
        }
        if digits.starts_with('-') {
            return Err(format!("negative list index {digits} in `{shown}`"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "list index `{digits}` is not a number in `{shown}`"
            ));
        }
        match digits.parse::<usize>() {
            Ok(index) if index <= MAX_INDEX => Ok(index),
            _ => Err(format!(
                "list index {digits} is too large (max {MAX_INDEX}) in `{shown}`"
            )),
        }
    }

    /// Read the value after `=`, and the comma that ends it.
    fn value(&mut self) -> Result<Value, String> {
        let value = match self.kind {
            SetKind::Json => self.json()?,
            _ if self.peek() == Some('{') => self.list()?,
            _ => {
                let text = self.text(&[','])?;
                self.scalar(text)
            }
        };
        match self.bump() {
            None | Some(',') => Ok(value),
            Some(_) => Err(format!(
                "unexpected text after the value in `{}`",
                self.consumed()
            )),
        }
    }

    /// `{a,b,c}`: a list of values, no nesting.
    fn list(&mut self) -> Result<Value, String> {
        self.bump(); // the `{`
        let mut items = Vec::new();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            let item = self.text(&[',', '}'])?;
            items.push(self.scalar(item));
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(Value::Array(items)),
                _ => {
                    return Err(format!(
                        "the list in `{}` is missing its closing '}}'",
                        self.consumed()
                    ));
                }
            }
        }
    }

    /// One JSON value (`null` when empty), leaving the reader on the comma after it.
    fn json(&mut self) -> Result<Value, String> {
        let rest = &self.source[self.at..];
        let blank = rest.len() - rest.trim_start().len();
        if matches!(rest.trim_start().chars().next(), None | Some(',')) {
            self.at += blank;
            return Ok(Value::Null);
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.at += stream.byte_offset();
                let after = &self.source[self.at..];
                self.at += after.len() - after.trim_start().len();
                Ok(value)
            }
            Some(Err(error)) => Err(format!("invalid JSON in `{}`: {error}", self.consumed())),
            None => Ok(Value::Null),
        }
    }

    fn scalar(&self, text: String) -> Value {
        match self.kind {
            SetKind::Infer => infer(text),
            _ => Value::String(text),
        }
    }
}

/// Helm's type inference for `--set`, and nothing more.
fn infer(text: String) -> Value {
    if text.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if text.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if text.eq_ignore_ascii_case("null") {
        Value::Null
    } else if text == "0" {
        Value::from(0)
    } else if let Some(number) = (!text.starts_with('0'))
        .then(|| text.parse::<i64>().ok())
        .flatten()
    {
        Value::from(number)
    } else {
        Value::String(text)
    }
}

/// The pointers of the lists `path` indexes (`a[1].b[0]`: `/a` and `/a/1/b`).
fn indexed_lists(path: &[Segment]) -> impl Iterator<Item = String> + '_ {
    let mut pointer = String::new();
    path.iter().filter_map(move |segment| match segment {
        Segment::Key(key) => {
            pointer = child_pointer(&pointer, key);
            None
        }
        Segment::Index(index) => {
            let list = pointer.clone();
            pointer = child_pointer(&pointer, &index.to_string());
            Some(list)
        }
    })
}

/// Set `value` at `path` in `root`, creating mappings and growing lists on the way.
fn assign(root: &mut Value, path: &[Segment], value: Value) -> Result<(), String> {
    let mut node = root;
    for (depth, segment) in path.iter().enumerate() {
        let slot = slot(node, segment)?;
        let Some(next) = path.get(depth + 1) else {
            *slot = value;
            return Ok(());
        };
        let fits = match (&*slot, next) {
            (Value::Null, Segment::Key(_)) => {
                *slot = Value::Object(Map::new());
                true
            }
            (Value::Null, Segment::Index(_)) => {
                *slot = Value::Array(Vec::new());
                true
            }
            (Value::Object(_), Segment::Key(_)) | (Value::Array(_), Segment::Index(_)) => true,
            _ => false,
        };
        if !fits {
            return Err(format!(
                "`{}` was set to {} earlier in this flag, so `{}` cannot be set inside it",
                display_path(&path[..=depth]),
                crate::foundation::diag::describe(slot),
                display_path(path)
            ));
        }
        node = slot;
    }
    Ok(())
}

/// The child of `node` at `segment`, created as null (lists grow with nulls up to it).
fn slot<'v>(node: &'v mut Value, segment: &Segment) -> Result<&'v mut Value, String> {
    match (node, segment) {
        (Value::Object(map), Segment::Key(key)) => {
            Ok(map.entry(key.clone()).or_insert(Value::Null))
        }
        (Value::Array(items), Segment::Index(index)) => {
            if items.len() <= *index {
                items.resize(index + 1, Value::Null);
            }
            items
                .get_mut(*index)
                .ok_or_else(|| format!("list index {index} is out of range"))
        }
        // `assign` only descends into a mapping for a key and a list for an index.
        (other, _) => Err(format!(
            "cannot index into {}",
            crate::foundation::diag::describe(other)
        )),
    }
}

/// A key path as `--set` spells it: `a.b[0].c`, with `.` `[` `,` `=` `\` escaped.
fn display_path(path: &[Segment]) -> String {
    let mut shown = String::new();
    for segment in path {
        match segment {
            Segment::Index(index) => shown.push_str(&format!("[{index}]")),
            Segment::Key(key) => {
                if !shown.is_empty() {
                    shown.push('.');
                }
                for c in key.chars() {
                    if matches!(c, '.' | '[' | ',' | '=' | '\\') {
                        shown.push('\\');
                    }
                    shown.push(c);
                }
            }
        }
    }
    shown
}

/// A layer whose every node came from `origin`.
fn located(value: Value, origin: Location) -> Located {
    let mut origins = BTreeMap::new();
    let mut pending = vec![(String::new(), &value)];
    while let Some((pointer, node)) = pending.pop() {
        match node {
            Value::Object(map) => {
                pending.extend(
                    map.iter()
                        .map(|(key, child)| (child_pointer(&pointer, key), child)),
                );
            }
            Value::Array(items) => {
                let children = items.iter().enumerate();
                pending
                    .extend(children.map(|(index, child)| {
                        (child_pointer(&pointer, &index.to_string()), child)
                    }));
            }
            _ => {}
        }
        origins.insert(pointer, origin.clone());
    }
    Located {
        value,
        origins,
        indexed_lists: BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(kind: SetKind, arg: &str) -> Value {
        match parse_set(kind, arg) {
            Ok(located) => located.value,
            Err(error) => panic!("{arg:?} should parse: {error}"),
        }
    }

    fn set_error(kind: SetKind, arg: &str) -> Diagnostic {
        match parse_set(kind, arg) {
            Ok(located) => panic!("{arg:?} should fail, got {}", located.value),
            Err(diag::Diagnostics(mut all)) => {
                assert_eq!(all.len(), 1);
                all.remove(0)
            }
        }
    }

    #[test]
    fn helm_examples_parse_as_helm_parses_them() {
        let cases = [
            ("name1=value1", json!({"name1": "value1"})),
            (
                "name1=value1,name2=value2",
                json!({"name1": "value1", "name2": "value2"}),
            ),
            (
                "name1=value1,name2=value2,",
                json!({"name1": "value1", "name2": "value2"}),
            ),
            (
                "name1=,name2=value2",
                json!({"name1": "", "name2": "value2"}),
            ),
            (
                "name1=one\\,two,name2=three\\,four",
                json!({"name1": "one,two", "name2": "three,four"}),
            ),
            (
                "name1=one\\=two,name2=three\\=four",
                json!({"name1": "one=two", "name2": "three=four"}),
            ),
            ("name1=one two three", json!({"name1": "one two three"})),
            ("outer.inner=value", json!({"outer": {"inner": "value"}})),
            (
                "outer.middle.inner=value",
                json!({"outer": {"middle": {"inner": "value"}}}),
            ),
            (
                "outer.inner1=value,outer.inner2=value2",
                json!({"outer": {"inner1": "value", "inner2": "value2"}}),
            ),
            (
                "outer.inner1=value,outer.middle.inner=value",
                json!({"outer": {"inner1": "value", "middle": {"inner": "value"}}}),
            ),
            ("name1.name2=", json!({"name1": {"name2": ""}})),
            (
                "name1={value1,value2}",
                json!({"name1": ["value1", "value2"]}),
            ),
            (
                "name1={value1,value2},name2={value1,value2}",
                json!({"name1": ["value1", "value2"], "name2": ["value1", "value2"]}),
            ),
            ("name1={1021,902}", json!({"name1": [1021, 902]})),
            (
                "name1.name2={value1,value2}",
                json!({"name1": {"name2": ["value1", "value2"]}}),
            ),
            ("list[0]=foo", json!({"list": ["foo"]})),
            ("list[0].foo=bar", json!({"list": [{"foo": "bar"}]})),
            (
                "list[0].foo=bar,list[0].hello=world",
                json!({"list": [{"foo": "bar", "hello": "world"}]}),
            ),
            ("list[0]=foo,list[1]=bar", json!({"list": ["foo", "bar"]})),
            (
                "list[0]=foo,list[3]=bar",
                json!({"list": ["foo", null, null, "bar"]}),
            ),
            ("noval[0]=", json!({"noval": [""]})),
            ("nested[0][0]=1", json!({"nested": [[1]]})),
            ("nested[1][1]=1", json!({"nested": [null, [null, 1]]})),
            (
                "name1.name2[0].foo=bar,name1.name2[1].foo=bar",
                json!({"name1": {"name2": [{"foo": "bar"}, {"foo": "bar"}]}}),
            ),
            (
                "name1.name2[1].foo=bar,name1.name2[0].foo=bar",
                json!({"name1": {"name2": [{"foo": "bar"}, {"foo": "bar"}]}}),
            ),
            (
                "name1.name2[1].foo=bar",
                json!({"name1": {"name2": [null, {"foo": "bar"}]}}),
            ),
            (
                "listOuter[0][0].type=listValue,listOuter[0][0].status=alive",
                json!({"listOuter": [[{"type": "listValue", "status": "alive"}]]}),
            ),
            ("", json!({})),
        ];
        for (arg, expected) in cases {
            assert_eq!(set(SetKind::Infer, arg), expected, "--set {arg}");
        }
    }

    #[test]
    fn set_infers_only_bools_null_and_int64_like_helm() {
        let cases = [
            ("true", json!(true)),
            ("TRUE", json!(true)),
            ("False", json!(false)),
            ("null", json!(null)),
            ("NULL", json!(null)),
            ("0", json!(0)),
            ("1234567890", json!(1_234_567_890)),
            ("-5", json!(-5)),
            ("+5", json!(5)),
            ("9223372036854775807", json!(i64::MAX)),
            ("9223372036854775808", json!("9223372036854775808")),
            ("00009", json!("00009")),
            ("0755", json!("0755")),
            ("1.5", json!("1.5")),
            ("1e3", json!("1e3")),
            ("0x1F", json!("0x1F")),
            ("yes", json!("yes")),
            ("on", json!("on")),
            ("~", json!("~")),
            ("1_000", json!("1_000")),
            ("", json!("")),
            (" 1", json!(" 1")),
        ];
        for (text, expected) in cases {
            assert_eq!(
                set(SetKind::Infer, &format!("v={text}"))["v"],
                expected,
                "--set v={text}"
            );
        }
    }

    #[test]
    fn set_string_never_infers() {
        assert_eq!(
            set(SetKind::String, "a=1,b=true,c=null,d=0,e={1,false},f="),
            json!({"a": "1", "b": "true", "c": "null", "d": "0", "e": ["1", "false"], "f": ""})
        );
    }

    #[test]
    fn set_json_reads_json_values() {
        let cases = [
            ("a={\"b\":1}", json!({"a": {"b": 1}})),
            ("a=[1,2]", json!({"a": [1, 2]})),
            (
                "a=\"1\",b=3,c=true,d=\"true\"",
                json!({"a": "1", "b": 3, "c": true, "d": "true"}),
            ),
            ("a=", json!({"a": null})),
            ("a=,b=1", json!({"a": null, "b": 1})),
            ("a=null", json!({"a": null})),
            (
                "a.b[1]={\"x\": [1, {\"y\": null}]}",
                json!({"a": {"b": [null, {"x": [1, {"y": null}]}]}}),
            ),
            ("a= 1 ,b=2", json!({"a": 1, "b": 2})),
            ("a=\"x,y\"", json!({"a": "x,y"})),
            ("a=1.5", json!({"a": 1.5})),
        ];
        for (arg, expected) in cases {
            assert_eq!(set(SetKind::Json, arg), expected, "--set-json {arg}");
        }
        let invalid = set_error(SetKind::Json, "a={\"b\":1");
        assert!(
            invalid.message.starts_with("invalid JSON in `a=`: "),
            "{}",
            invalid.message
        );
        let trailing = set_error(SetKind::Json, "a=[1,2]]");
        assert_eq!(
            trailing.message,
            "unexpected text after the value in `a=[1,2]]`"
        );
        assert_eq!(
            trailing.location,
            Some(Location::Flag("--set-json a=[1,2]]".into()))
        );
        assert!(
            trailing
                .hint
                .as_deref()
                .is_some_and(|hint| hint.contains("key=JSON"))
        );
    }

    #[test]
    fn escapes_work_in_keys_and_values() {
        assert_eq!(
            set(SetKind::Infer, "nodeSelector.kubernetes\\.io/role=master"),
            json!({"nodeSelector": {"kubernetes.io/role": "master"}})
        );
        assert_eq!(set(SetKind::Infer, "a\\=b=c\\\\d"), json!({"a=b": "c\\d"}));
        assert_eq!(set(SetKind::Infer, "a\\[0\\]=x"), json!({"a[0]": "x"}));
        assert_eq!(
            set(SetKind::Infer, "a=b=c"),
            json!({"a": "b=c"}),
            "only the first = splits"
        );
        assert_eq!(
            set(SetKind::Infer, "a={x\\,y,z\\}}"),
            json!({"a": ["x,y", "z}"]})
        );
    }

    #[test]
    fn list_literals() {
        assert_eq!(set(SetKind::Infer, "a={}"), json!({"a": []}));
        assert_eq!(
            set(SetKind::Infer, "a={x},b=1"),
            json!({"a": ["x"], "b": 1})
        );
        assert_eq!(
            set(SetKind::Infer, "a={x, y}"),
            json!({"a": ["x", " y"]}),
            "spaces are kept, as in Helm"
        );
        assert_eq!(set(SetKind::Infer, "a={,}"), json!({"a": ["", ""]}));
        assert_eq!(
            set(SetKind::Infer, "a={1,null,true}"),
            json!({"a": [1, null, true]})
        );
        assert_eq!(
            set(SetKind::Infer, "l={a,b},l[2]=c"),
            json!({"l": ["a", "b", "c"]})
        );
    }

    #[test]
    fn later_assignments_in_a_flag_replace_earlier_ones() {
        assert_eq!(set(SetKind::Infer, "a.b=1,a=2"), json!({"a": 2}));
        assert_eq!(set(SetKind::Infer, "a=null,a.b=1"), json!({"a": {"b": 1}}));
        assert_eq!(set(SetKind::Infer, "a=1,a=2"), json!({"a": 2}));
    }

    #[test]
    fn malformed_arguments_are_errors_that_say_where() {
        let cases = [
            ("a.b", "missing '=' after key `a.b`"),
            ("name1,name2=value2", "missing '=' after key `name1`"),
            ("name1,name2", "missing '=' after key `name1`"),
            ("name1=value1,,,,name2=value2,", "empty key name in `,`"),
            ("name1.=name2", "empty key name in `name1.=`"),
            ("name1.,name2", "empty key name in `name1.,`"),
            ("=value", "empty key name in `=`"),
            ("a..b=1", "empty key name in `a..`"),
            (".a=1", "empty key name in `.`"),
            ("[0]=x", "empty key name in `[`"),
            ("a[0", "unclosed list index in `a[0`"),
            ("a[]=x", "empty list index in `a[]`"),
            ("a[x]=1", "list index `x` is not a number in `a[x]`"),
            (
                "list[0]=foo,list[-20]=bar",
                "negative list index -20 in `list[-20]`",
            ),
            (
                "a[99999]=1",
                "list index 99999 is too large (max 65536) in `a[99999]`",
            ),
            (
                "a[99999999999999999999999]=1",
                "list index 99999999999999999999999 is too large (max 65536) in `a[99999999999999999999999]`",
            ),
            (
                "illegal[0]name.foo=bar",
                "unexpected text after the list index in `illegal[0]n`",
            ),
            ("noval[0]", "missing '=' after key `noval[0]`"),
            (
                "name1={1021,902",
                "the list in `name1={1021,902` is missing its closing '}'",
            ),
            ("a={x}y=1", "unexpected text after the value in `a={x}y`"),
            ("]={}].", "unexpected text after the value in `]={}]`"),
            ("a=b\\", "dangling `\\` at the end of `a=b\\`"),
            (
                "a=1,a.b=2",
                "`a` was set to a number earlier in this flag, so `a.b` cannot be set inside it",
            ),
            (
                "a.b=1,a[0]=2",
                "`a` was set to a mapping earlier in this flag, so `a[0]` cannot be set inside it",
            ),
            (
                "l[0]=x,l[0].k=v",
                "`l[0]` was set to a string earlier in this flag, so `l[0].k` cannot be set inside it",
            ),
        ];
        for (arg, message) in cases {
            let diagnostic = set_error(SetKind::Infer, arg);
            assert_eq!(diagnostic.message, message, "--set {arg}");
            assert_eq!(diagnostic.code, "set");
            assert_eq!(
                diagnostic.location,
                Some(Location::Flag(format!("--set {arg}")))
            );
            assert!(
                diagnostic
                    .hint
                    .as_deref()
                    .is_some_and(|hint| hint.contains("key=value"))
            );
        }
    }

    #[test]
    fn the_index_limit_is_inclusive_like_helms() {
        let value = set(SetKind::Infer, "a[65536]=x");
        assert_eq!(value["a"].as_array().map(Vec::len), Some(65_537));
        assert_eq!(value["a"][65_536], json!("x"));
    }

    #[test]
    fn keys_nest_at_most_max_depth_levels() {
        let deep = |levels: usize| format!("{}=1", vec!["a"; levels].join("."));
        assert!(parse_set(SetKind::Infer, &deep(MAX_DEPTH)).is_ok());
        let diagnostic = set_error(SetKind::Infer, &deep(MAX_DEPTH + 1));
        assert!(
            diagnostic
                .message
                .ends_with("is nested deeper than 64 levels"),
            "{}",
            diagnostic.message
        );
        let lists = format!("a{}=1", "[0]".repeat(MAX_DEPTH));
        assert!(
            set_error(SetKind::Infer, &lists)
                .message
                .ends_with("is nested deeper than 64 levels")
        );
    }

    #[test]
    fn every_node_is_located_at_the_flag() {
        let located = match parse_set(SetKind::String, "a.b[1]=x,c={y}") {
            Ok(located) => located,
            Err(error) => panic!("{error}"),
        };
        let flag = Location::Flag("--set-string a.b[1]=x,c={y}".into());
        let pointers: Vec<&str> = located.origins.keys().map(String::as_str).collect();
        assert_eq!(
            pointers,
            ["", "/a", "/a/b", "/a/b/0", "/a/b/1", "/c", "/c/0"]
        );
        assert!(located.origins.values().all(|origin| *origin == flag));
    }

    #[test]
    fn set_file_reads_the_file_into_a_string() {
        let mut asked = String::new();
        let located = parse_set_file("config.toml=files/a\\,b.toml", |path| {
            asked = path.to_owned();
            Ok("x = 1\n".to_owned())
        });
        assert_eq!(asked, "files/a,b.toml");
        let Ok(located) = located else {
            panic!("{located:?}")
        };
        assert_eq!(
            located.value,
            json!({"config": {"toml": "x = 1\n"}}),
            "the key is a path, as in --set"
        );
        assert_eq!(
            located.origins.get("/config/toml"),
            Some(&Location::Flag(
                "--set-file config.toml=files/a\\,b.toml".into()
            ))
        );
        let read_fails = parse_set_file("a=missing.txt", |_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            ))
        });
        let Err(diag::Diagnostics(errors)) = read_fails else {
            panic!("reading must fail")
        };
        assert_eq!(errors[0].message, "cannot read `missing.txt`: no such file");
        assert_eq!(
            errors[0].location,
            Some(Location::Flag("--set-file a=missing.txt".into()))
        );
        let never = |_: &str| -> std::io::Result<String> { panic!("must not read") };
        let Err(diag::Diagnostics(errors)) = parse_set_file("a=x,b=y", never) else {
            panic!("two keys must fail")
        };
        assert_eq!(
            errors[0].message,
            "`a=x,b=y` sets more than one key; use one --set-file per file"
        );
        let Err(diag::Diagnostics(errors)) = parse_set_file("a=", never) else {
            panic!("no path must fail")
        };
        assert_eq!(errors[0].message, "missing file path after `a=`");
        let Err(diag::Diagnostics(errors)) = parse_set_file("a", never) else {
            panic!("no = must fail")
        };
        assert_eq!(errors[0].message, "missing '=' after key `a`");
    }
}
