//! What both YAML readers build with: the collection being read, the tags they accept, and
//! the budget that stops alias bombs. The readers differ on purpose in how they resolve
//! plain scalars (YAML 1.2 for values, 1.1 for rendered output) and in what they record
//! (values remember the origin of every node); the scaffolding is the same.

use saphyr_parser::Tag;
use serde_json::{Map, Value};

/// A mapping or list being read.
#[derive(Debug)]
pub enum Collection {
    List(Vec<Value>),
    Map {
        map: Map<String, Value>,
        /// The key waiting for its value.
        key: Option<String>,
    },
}

impl Collection {
    pub fn list() -> Collection {
        Collection::List(Vec::new())
    }

    pub fn map() -> Collection {
        Collection::Map {
            map: Map::new(),
            key: None,
        }
    }

    /// Whether the next node read into this collection is a mapping key.
    pub fn expects_key(&self) -> bool {
        matches!(self, Collection::Map { key: None, .. })
    }

    /// Take `text` as the pending key. `Err` when the mapping already has it.
    pub fn set_key(&mut self, text: String) -> Result<(), String> {
        if let Collection::Map { map, key } = self {
            if map.contains_key(&text) {
                return Err(text);
            }
            *key = Some(text);
        }
        Ok(())
    }

    /// Add a finished node: a list item, or the value of the pending key.
    pub fn add(&mut self, value: Value) {
        match self {
            Collection::List(items) => items.push(value),
            Collection::Map { map, key } => {
                if let Some(key) = key.take() {
                    map.insert(key, value);
                }
            }
        }
    }

    /// The pending key, or the index the next list item will have.
    pub fn next_child(&self) -> String {
        match self {
            Collection::List(items) => items.len().to_string(),
            Collection::Map { key, .. } => key.clone().unwrap_or_default(),
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Collection::List(items) => Value::Array(items),
            Collection::Map { map, .. } => Value::Object(map),
        }
    }
}

/// What a tag asks of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind<'t> {
    /// No tag.
    None,
    /// `!` alone: "no particular type", which makes a scalar a string.
    NonSpecific,
    /// A core-schema type (`str`, `int`, `float`, `bool`, `null`, `map`, `seq`), written
    /// `!!str` or in full, `!<tag:yaml.org,2002:str>`.
    Core(&'t str),
    /// Any other tag: a local `!thing` or another URI.
    Other,
}

const CORE_PREFIX: &str = "tag:yaml.org,2002:";

pub fn tag_kind(tag: Option<&Tag>) -> TagKind<'_> {
    let Some(tag) = tag else {
        return TagKind::None;
    };
    if tag.is_yaml_core_schema() {
        return TagKind::Core(&tag.suffix);
    }
    if tag.handle.is_empty() {
        if tag.suffix == "!" {
            return TagKind::NonSpecific;
        }
        // A verbatim tag: `!<tag:yaml.org,2002:str>` is `!!str`.
        if let Some(core) = tag.suffix.strip_prefix(CORE_PREFIX) {
            return TagKind::Core(core);
        }
    }
    TagKind::Other
}

/// A tag as it is usually written (`!!int`, `!local`), not in its expanded form.
pub fn tag_name(tag: &Tag) -> String {
    match tag_kind(Some(tag)) {
        TagKind::Core(core) => format!("!!{core}"),
        _ => format!("{}{}", tag.handle, tag.suffix),
    }
}

/// Nodes an alias may copy without any written node to account for them.
const COPY_FLOOR: usize = 100_000;
/// Nodes aliases may copy per node the text itself holds.
const COPY_FACTOR: usize = 10;

/// Counts the nodes a document holds and those its aliases copy. What the text holds is
/// already bounded by the byte limit of the file; only aliases can grow a tree beyond its
/// text (nine nested aliases of ten make a billion nodes from a few hundred bytes), so only
/// copies are bounded: at most [`COPY_FLOOR`] plus [`COPY_FACTOR`] times the nodes written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Budget {
    written: usize,
    copied: usize,
}

impl Budget {
    /// A node the text holds.
    pub fn write(&mut self) {
        self.written += 1;
    }

    /// An alias copies `nodes`: counted before the copy is made, which stops a bomb early.
    pub fn copy(&mut self, nodes: usize) -> Result<(), String> {
        self.copied = self.copied.saturating_add(nodes);
        let limit = COPY_FLOOR.saturating_add(self.written.saturating_mul(COPY_FACTOR));
        if self.copied > limit {
            return Err(format!(
                "aliases copy more than {limit} nodes, {COPY_FACTOR} times what the document holds (alias bomb?)"
            ));
        }
        Ok(())
    }

    /// Every node so far, copies included: the size of a subtree is the difference between
    /// this count at its end and at its start.
    pub fn total(&self) -> usize {
        self.written + self.copied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_bounded_relative_to_what_is_written() {
        let mut budget = Budget::default();
        assert!(budget.copy(COPY_FLOOR).is_ok());
        assert!(budget.copy(1).is_err());
        let mut honest = Budget::default();
        for _ in 0..1_000_000 {
            honest.write();
        }
        assert!(
            honest.copy(5_000_000).is_ok(),
            "big honest files may alias freely"
        );
        assert_eq!(honest.total(), 6_000_000);
    }

    #[test]
    fn keys_are_unique_and_items_land_in_order() {
        let mut map = Collection::map();
        assert!(map.expects_key());
        map.set_key("a".into()).unwrap();
        assert_eq!(map.next_child(), "a");
        map.add(Value::from(1));
        assert_eq!(map.set_key("a".into()), Err("a".into()));
        let mut list = Collection::list();
        list.add(Value::from(1));
        assert_eq!(list.next_child(), "1");
        assert_eq!(list.into_value(), serde_json::json!([1]));
    }
}
