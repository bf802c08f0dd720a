//! A values tree that remembers where every node came from.
//!
//! Every layer of values (a file, a `--set` flag) and their merge is a [`Located`]: a JSON
//! tree plus the origin of each node, keyed by JSON pointer, so that a later stage can say
//! *where* a bad value was written. The pointer helpers turn pointers into the paths users
//! write (`postgres.replicas`, `a[0].b`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::foundation::diag::Location;

/// Deepest nesting of collections a values tree may have, in files and in `--set` keys alike.
/// Real values files nest a handful of levels; anything deeper is a mistake or an attack.
pub const MAX_DEPTH: usize = 64;

/// A values tree and where every node in it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The values; with serde_json's `preserve_order`, keys keep the order they were written in.
    pub value: Value,
    /// Origin of every node (mappings, lists and leaves), keyed by JSON pointer:
    /// `""` is the root, `"/postgres/replicas"` a key, `"/a/0/b"` a key inside a list item.
    pub origins: BTreeMap<String, Location>,
    /// The lists a `--set` flag addresses by index (`a[1].b=c`): as in Helm, they patch the
    /// list below them item by item instead of replacing it.
    pub indexed_lists: BTreeSet<String>,
}

impl Located {
    /// An empty mapping with no origins: the neutral layer of a merge.
    pub fn empty() -> Located {
        Located {
            value: Value::Object(serde_json::Map::new()),
            origins: BTreeMap::new(),
            indexed_lists: BTreeSet::new(),
        }
    }

    /// Origin of the node at `pointer`, or of its nearest ancestor that has one.
    ///
    /// Falling back to the ancestor lets callers ask about a node that does not exist (a
    /// missing required key): the best answer is where its parent was written.
    pub fn origin_of(&self, pointer: &str) -> Option<&Location> {
        let mut pointer = pointer;
        loop {
            if let Some(location) = self.origins.get(pointer) {
                return Some(location);
            }
            if pointer.is_empty() {
                return None;
            }
            pointer = pointer.rfind('/').map_or("", |slash| &pointer[..slash]);
        }
    }
}

/// Visit every leaf of `value` (a scalar, an empty mapping or list, or a mapping that
/// `descend` declines) with its JSON pointer. Lists are leaves: values paths stop at them.
pub fn for_each_leaf(
    value: &Value,
    descend: &impl Fn(&serde_json::Map<String, Value>) -> bool,
    visit: &mut impl FnMut(String, &Value),
) {
    fn walk(
        value: &Value,
        pointer: String,
        descend: &impl Fn(&serde_json::Map<String, Value>) -> bool,
        visit: &mut impl FnMut(String, &Value),
    ) {
        match value {
            Value::Object(map) if !map.is_empty() && descend(map) => {
                for (key, child) in map {
                    walk(child, child_pointer(&pointer, key), descend, visit);
                }
            }
            leaf => visit(pointer, leaf),
        }
    }
    walk(value, String::new(), descend, visit);
}

/// The JSON pointer of the child `key` (a map key or a list index) of the node at `parent`,
/// escaping `~` and `/` as RFC 6901 requires.
pub fn child_pointer(parent: &str, key: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + key.len() + 1);
    pointer.push_str(parent);
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    pointer
}

/// Turn a JSON pointer into the path users write: `"/postgres/replicas"` → `postgres.replicas`,
/// `"/a/0/b"` → `a[0].b`. Keys that would read ambiguously (containing `.`, `[`, `]`, `"`, or
/// empty) are quoted: `a["x.y"]`.
///
/// A pointer does not say whether a segment is a list index or a map key, so a segment
/// that is a canonical index (`0`, `17`, not `007`) is shown as an index.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if is_index(&segment) {
            path.push('[');
            path.push_str(&segment);
            path.push(']');
        } else if segment.is_empty() || segment.contains(['.', '[', ']', '"']) {
            path.push_str("[\"");
            for c in segment.chars() {
                if matches!(c, '"' | '\\') {
                    path.push('\\');
                }
                path.push(c);
            }
            path.push_str("\"]");
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    path
}

/// Whether a pointer segment is a canonical list index (RFC 6901: no leading zeros).
fn is_index(segment: &str) -> bool {
    match segment.as_bytes() {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        bytes => bytes.iter().all(u8::is_ascii_digit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize) -> Location {
        Location::File {
            file: "f.yaml".into(),
            line,
            col: 1,
        }
    }

    #[test]
    fn pointer_to_path_writes_keys_indices_and_quoted_keys() {
        let cases = [
            ("", ""),
            ("/postgres/replicas", "postgres.replicas"),
            ("/a/0/b", "a[0].b"),
            ("/a/10/0", "a[10][0]"),
            ("/a/007", "a.007"),
            (
                "/labels/app.kubernetes.io~1name",
                "labels[\"app.kubernetes.io/name\"]",
            ),
            ("/x~0y", "x~y"),
            ("/a//b", "a[\"\"].b"),
            ("/q/say \"hi\"", "q[\"say \\\"hi\\\"\"]"),
            ("/0/a", "[0].a"),
        ];
        for (pointer, path) in cases {
            assert_eq!(pointer_to_path(pointer), path, "pointer {pointer:?}");
        }
    }

    #[test]
    fn child_pointer_escapes_tilde_and_slash() {
        assert_eq!(child_pointer("", "a"), "/a");
        assert_eq!(child_pointer("/a", "b/c~d"), "/a/b~1c~0d");
        assert_eq!(pointer_to_path(&child_pointer("/a", "b/c~d")), "a.b/c~d");
    }

    #[test]
    fn origin_of_falls_back_to_the_nearest_ancestor() {
        let mut located = Located::empty();
        located.origins.insert(String::new(), at(1));
        located.origins.insert("/a".into(), at(2));
        located.origins.insert("/a/b".into(), at(3));
        assert_eq!(located.origin_of("/a/b"), Some(&at(3)));
        assert_eq!(located.origin_of("/a/b/c/d"), Some(&at(3)));
        assert_eq!(located.origin_of("/a/x"), Some(&at(2)));
        assert_eq!(located.origin_of("/z"), Some(&at(1)));
        assert_eq!(located.origin_of(""), Some(&at(1)));
        assert_eq!(Located::empty().origin_of("/a"), None);
    }

    #[test]
    fn empty_is_an_empty_mapping_without_origins() {
        let empty = Located::empty();
        assert_eq!(empty.value, serde_json::json!({}));
        assert!(empty.origins.is_empty());
    }
}
