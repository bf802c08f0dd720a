//! Coalescing value layers the way Helm does (`pkg/chart/common/util/coalesce.go` of Helm 4,
//! and Helm 3.21+), with provenance.
//!
//! The rules users rely on: mappings merge key by key, at any depth; everything else — a
//! scalar, a list, or a mapping meeting a non-mapping — is replaced whole by the upper layer.
//! `null` is Helm's: in the defaults (the first layer, `overlays/base.yaml`) it means "no
//! default"; in a later layer it deletes a key the defaults set, and otherwise stays, so a
//! template sees `none` rather than an undefined value. Origins follow the values that win:
//! a replaced or deleted subtree takes its origins with it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::foundation::diag::Location;
use crate::foundation::located::{Located, child_pointer};

type Origins = BTreeMap<String, Location>;

/// Merge layers in order, later layers winning. The first layer holds the defaults (Helm's
/// `values.yaml`): its null-valued keys are dropped. A null in a later layer deletes the key
/// when the defaults set it, and is kept as null otherwise.
///
/// A merged mapping keeps the origin of the lowest layer that defined it: that is where the
/// mapping was introduced, upper layers only adjust its keys. A layer whose root is null
/// contributes nothing (an empty YAML file is an empty layer).
pub fn coalesce(layers: impl IntoIterator<Item = Located>) -> Located {
    coalesce_with(layers, &ListMerge::default())
}

/// [`coalesce`], with lists of maps that declare a merge key merged element by element.
pub fn coalesce_with(layers: impl IntoIterator<Item = Located>, lists: &ListMerge) -> Located {
    let mut layers = layers.into_iter().filter(|layer| !layer.value.is_null());
    let Some(first) = layers.next() else {
        return Located::empty();
    };
    let mut merged = defaults(first);
    let rest: Vec<Located> = layers.collect();
    // Which keys the defaults set matters only to a null; keep what the nulls ask about.
    let defaults = rest
        .iter()
        .any(|layer| has_null_in_maps(&layer.value))
        .then(|| null_targets(&merged.value, &rest));
    for layer in rest {
        let rules = Rules {
            lists,
            indexed: &layer.indexed_lists,
        };
        merge_node(
            &mut merged.value,
            &mut merged.origins,
            "",
            layer.value,
            &layer.origins,
            defaults.as_ref(),
            &rules,
        );
    }
    merged
}

/// Lists of maps merged element by element, matched on a key the values schema names
/// (`x-somagen-merge-key`), in the spirit of Kubernetes' `x-kubernetes-list-map-keys`.
#[derive(Debug, Clone, Default)]
pub struct ListMerge {
    /// (path pattern, merge key); a `None` segment matches any key or index.
    keys: Vec<(Vec<Option<String>>, String)>,
}

/// The element an upper layer removes from a keyed list: `{<key>: x, $patch: delete}`, the
/// Kubernetes strategic-merge convention.
const DELETE_MARKER: (&str, &str) = ("$patch", "delete");

impl ListMerge {
    pub fn new(keys: Vec<(Vec<Option<String>>, String)>) -> ListMerge {
        ListMerge { keys }
    }

    /// The merge key of the list at `pointer`, if its schema declares one.
    fn key_at(&self, pointer: &str) -> Option<&str> {
        if self.keys.is_empty() {
            return None;
        }
        let segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        self.keys
            .iter()
            .find(|(pattern, _)| {
                pattern.len() == segments.len()
                    && pattern
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p.as_ref().is_none_or(|p| p == s))
            })
            .map(|(_, key)| key.as_str())
    }
}

/// The part of the defaults that the nulls of the upper layers ask about: the mappings on
/// their paths, and a stand-in for each non-null value a null would delete. A whole copy
/// of the defaults (most of the values) would double the memory of the merge.
fn null_targets(defaults: &Value, layers: &[Located]) -> Value {
    fn mark(defaults: &Value, upper: &Value, out: &mut Value) {
        let (Value::Object(defaults), Value::Object(upper), Value::Object(out)) =
            (defaults, upper, out)
        else {
            return;
        };
        for (key, value) in upper {
            match defaults.get(key) {
                Some(default @ Value::Object(_)) if value.is_null() || value.is_object() => {
                    let slot = out
                        .entry(key.clone())
                        .or_insert_with(|| Value::Object(Default::default()));
                    mark(default, value, slot);
                }
                Some(default) if value.is_null() && !default.is_null() => {
                    out.insert(key.clone(), Value::Bool(true));
                }
                _ => {}
            }
        }
    }
    let mut targets = Value::Object(Default::default());
    for layer in layers {
        mark(defaults, &layer.value, &mut targets);
    }
    targets
}

/// What decides how one layer merges.
struct Rules<'a> {
    lists: &'a ListMerge,
    /// The lists a `--set` flag addresses by index: their items patch the lower list.
    indexed: &'a std::collections::BTreeSet<String>,
}

/// The first layer as the merge starts from it: taken whole (it is most of the values)
/// unless it holds nulls, which mean "no default" and are dropped with their origins.
fn defaults(first: Located) -> Located {
    if !first.value.is_object() {
        let mut merged = Located::empty();
        replace(
            &mut merged.value,
            &mut merged.origins,
            "",
            first.value,
            &first.origins,
        );
        return merged;
    }
    if !has_null_in_maps(&first.value) {
        return first;
    }
    let value = strip_nulls(first.value);
    let mut origins = Origins::new();
    copy_origins(&value, "", &first.origins, &mut origins);
    Located {
        value,
        origins,
        indexed_lists: Default::default(),
    }
}

/// Merge `upper` (with origins `from`) into the node `lower` at `pointer`; `defaults` is the
/// node of the defaults at the same place, when a null needs it.
fn merge_node(
    lower: &mut Value,
    origins: &mut Origins,
    pointer: &str,
    upper: Value,
    from: &Origins,
    defaults: Option<&Value>,
    rules: &Rules<'_>,
) {
    match (lower, upper) {
        (Value::Object(lower_map), Value::Object(upper_map)) => {
            if !origins.contains_key(pointer)
                && let Some(location) = from.get(pointer)
            {
                origins.insert(pointer.to_owned(), location.clone());
            }
            for (key, value) in upper_map {
                let child = child_pointer(pointer, &key);
                let default = defaults.and_then(|d| d.get(&key));
                if value.is_null() && default.is_some_and(|d| !d.is_null()) {
                    if lower_map.shift_remove(&key).is_some() {
                        drop_subtree(origins, &child);
                    }
                } else if let Some(existing) = lower_map.get_mut(&key) {
                    merge_node(existing, origins, &child, value, from, default, rules);
                } else {
                    let mut slot = Value::Null;
                    replace(&mut slot, origins, &child, value, from);
                    lower_map.insert(key, slot);
                }
            }
        }
        (Value::Array(lower_list), Value::Array(upper_list)) => {
            // `--set list[1].x=y` addresses items by index, even in a keyed list.
            if rules.indexed.contains(pointer) {
                merge_by_index(lower_list, origins, pointer, upper_list, from, rules);
            } else if let Some(key) = rules.lists.key_at(pointer) {
                merge_keyed(lower_list, origins, pointer, upper_list, from, key, rules);
            } else {
                replace_list(lower_list, origins, pointer, Value::Array(upper_list), from);
            }
        }
        (lower, upper) => replace(lower, origins, pointer, upper, from),
    }
}

fn replace_list(
    lower: &mut Vec<Value>,
    origins: &mut Origins,
    pointer: &str,
    upper: Value,
    from: &Origins,
) {
    let mut slot = Value::Array(std::mem::take(lower));
    replace(&mut slot, origins, pointer, upper, from);
    if let Value::Array(items) = slot {
        *lower = items;
    }
}

/// Items of a `--set` list patch the lower list at their index; a null item (an index the
/// flag skipped) leaves the lower item as it is.
fn merge_by_index(
    lower: &mut Vec<Value>,
    origins: &mut Origins,
    pointer: &str,
    upper: Vec<Value>,
    from: &Origins,
    rules: &Rules<'_>,
) {
    for (index, item) in upper.into_iter().enumerate() {
        let child = child_pointer(pointer, &index.to_string());
        match lower.get_mut(index) {
            Some(_) if item.is_null() => {}
            Some(existing) => merge_node(existing, origins, &child, item, from, None, rules),
            None => {
                let mut slot = Value::Null;
                replace(&mut slot, origins, &child, item, from);
                lower.push(slot);
            }
        }
    }
    if !origins.contains_key(pointer)
        && let Some(location) = from.get(pointer)
    {
        origins.insert(pointer.to_owned(), location.clone());
    }
}

/// Items matched on `key` merge; new ones are appended; `{key: x, $patch: delete}` removes
/// the item `x`. Items without the key are appended as they are.
fn merge_keyed(
    lower: &mut Vec<Value>,
    origins: &mut Origins,
    pointer: &str,
    upper: Vec<Value>,
    from: &Origins,
    key: &str,
    rules: &Rules<'_>,
) {
    let mut deleted = Vec::new();
    for (upper_index, item) in upper.into_iter().enumerate() {
        let id = item.get(key).filter(|id| !id.is_null()).cloned();
        let found = id
            .as_ref()
            .and_then(|id| lower.iter().position(|l| l.get(key) == Some(id)));
        let upper_pointer = child_pointer(pointer, &upper_index.to_string());
        let is_delete = item.get(DELETE_MARKER.0).and_then(Value::as_str) == Some(DELETE_MARKER.1);
        match found {
            Some(index) if is_delete => deleted.push(index),
            Some(index) => {
                let child = child_pointer(pointer, &index.to_string());
                let rebased = rebase(from, &upper_pointer, &child);
                merge_node(
                    &mut lower[index],
                    origins,
                    &child,
                    item,
                    &rebased,
                    None,
                    rules,
                );
            }
            None if is_delete => {}
            None => {
                let child = child_pointer(pointer, &lower.len().to_string());
                let rebased = rebase(from, &upper_pointer, &child);
                let mut slot = Value::Null;
                replace(&mut slot, origins, &child, item, &rebased);
                lower.push(slot);
            }
        }
    }
    if !deleted.is_empty() {
        remove_items(lower, origins, pointer, &deleted);
    }
}

/// The origins under `old` in `from`, moved under `new`.
fn rebase(from: &Origins, old: &str, new: &str) -> Origins {
    let mut moved = Origins::new();
    if let Some(location) = from.get(old) {
        moved.insert(new.to_owned(), location.clone());
    }
    for (pointer, location) in from.range(format!("{old}/")..format!("{old}0")) {
        moved.insert(format!("{new}{}", &pointer[old.len()..]), location.clone());
    }
    moved
}

/// Remove the items at `indices` from the list at `pointer`, renumbering the origins of the
/// items after them.
fn remove_items(lower: &mut Vec<Value>, origins: &mut Origins, pointer: &str, indices: &[usize]) {
    let items = std::mem::take(lower);
    let mut kept_origins = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let child = child_pointer(pointer, &index.to_string());
        let subtree = rebase(origins, &child, "");
        drop_subtree(origins, &child);
        if !indices.contains(&index) {
            kept_origins.push(subtree);
            lower.push(item);
        }
    }
    for (index, subtree) in kept_origins.into_iter().enumerate() {
        let child = child_pointer(pointer, &index.to_string());
        for (suffix, location) in subtree {
            origins.insert(format!("{child}{suffix}"), location);
        }
    }
}

/// Put `upper` in place of `lower`: the old subtree and its origins go, the new subtree and
/// its origins come.
fn replace(lower: &mut Value, origins: &mut Origins, pointer: &str, upper: Value, from: &Origins) {
    drop_subtree(origins, pointer);
    copy_origins(&upper, pointer, from, origins);
    *lower = upper;
}

/// Remove null-valued keys from mappings, at any depth: in the defaults a null means "no
/// default". Lists are values, not layers, so their items (and anything inside them) are
/// kept as written.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, strip_nulls(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Whether a mapping in `value` holds a null, outside lists (lists are values, kept as
/// written, so [`strip_nulls`] leaves their items alone).
fn has_null_in_maps(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().any(|v| v.is_null() || has_null_in_maps(v)),
        _ => false,
    }
}

/// Copy, from `from` into `to`, the origin of every node of `value` (which sits at `pointer`).
fn copy_origins(value: &Value, pointer: &str, from: &Origins, to: &mut Origins) {
    // Values read without origins have none to copy: no walk.
    if from.is_empty() {
        return;
    }
    if let Some(location) = from.get(pointer) {
        to.insert(pointer.to_owned(), location.clone());
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                copy_origins(child, &child_pointer(pointer, key), from, to);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                copy_origins(child, &child_pointer(pointer, &index.to_string()), from, to);
            }
        }
        _ => {}
    }
}

/// Forget the origins of the node at `pointer` and of all its descendants.
///
/// Descendants are exactly the keys starting with `pointer + "/"`; in byte order they sort
/// before `pointer + "0"` (`'0'` follows `'/'`), so they form one range of the map.
fn drop_subtree(origins: &mut Origins, pointer: &str) {
    if origins.is_empty() {
        return;
    }
    origins.remove(pointer);
    let start = format!("{pointer}/");
    let end = format!("{pointer}0");
    let doomed: Vec<String> = origins
        .range(start..end)
        .map(|(key, _)| key.clone())
        .collect();
    for key in doomed {
        origins.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::values::parse_yaml;
    use serde_json::json;

    fn layer(file: &str, text: &str) -> Located {
        match parse_yaml(file, text) {
            Ok(located) => located,
            Err(error) => panic!("{file} does not parse: {error}"),
        }
    }

    fn line_of(located: &Located, pointer: &str) -> Option<(String, usize)> {
        match located.origins.get(pointer)? {
            Location::File { file, line, .. } => Some((file.to_string(), *line)),
            _ => None,
        }
    }

    /// Every node of the tree has an origin, and no origin points at a node that is gone.
    fn assert_origins_match_tree(located: &Located) {
        let mut expected = Origins::new();
        copy_origins(&located.value, "", &located.origins, &mut expected);
        assert_eq!(
            expected, located.origins,
            "origins must be exactly the tree's nodes"
        );
        let mut pointers = Vec::new();
        collect_pointers(&located.value, String::new(), &mut pointers);
        for pointer in pointers {
            assert!(
                located.origins.contains_key(&pointer),
                "no origin for {pointer:?}"
            );
        }
    }

    fn collect_pointers(value: &Value, pointer: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    collect_pointers(child, child_pointer(&pointer, key), out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    collect_pointers(child, child_pointer(&pointer, &index.to_string()), out);
                }
            }
            _ => {}
        }
        out.push(pointer);
    }

    #[test]
    fn maps_merge_deeply_and_keep_key_order() {
        let base = layer(
            "base.yaml",
            "pg:\n  replicas: 1\n  image: pg:16\nredis: {on: true}\n",
        );
        let prod = layer("prod.yaml", "pg:\n  replicas: 3\n  storage: 10Gi\n");
        let merged = coalesce([base, prod]);
        assert_eq!(
            merged.value,
            json!({"pg": {"replicas": 3, "image": "pg:16", "storage": "10Gi"}, "redis": {"on": true}})
        );
        let keys: Vec<&String> = merged.value["pg"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["replicas", "image", "storage"]);
        assert_eq!(
            line_of(&merged, "/pg/replicas"),
            Some(("prod.yaml".into(), 2))
        );
        assert_eq!(line_of(&merged, "/pg/image"), Some(("base.yaml".into(), 3)));
        assert_eq!(
            line_of(&merged, "/pg/storage"),
            Some(("prod.yaml".into(), 3))
        );
        assert_eq!(
            line_of(&merged, "/pg"),
            Some(("base.yaml".into(), 2)),
            "merged map keeps its first origin"
        );
        assert_eq!(line_of(&merged, ""), Some(("base.yaml".into(), 1)));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn lists_replace_whole_and_their_old_origins_go() {
        let base = layer("base.yaml", "hosts:\n  - a\n  - b\n  - c\n");
        let prod = layer("prod.yaml", "\nhosts: [z]\n");
        let merged = coalesce([base, prod]);
        assert_eq!(merged.value, json!({"hosts": ["z"]}));
        assert_eq!(line_of(&merged, "/hosts"), Some(("prod.yaml".into(), 2)));
        assert_eq!(line_of(&merged, "/hosts/0"), Some(("prod.yaml".into(), 2)));
        assert!(!merged.origins.contains_key("/hosts/1"));
        assert!(!merged.origins.contains_key("/hosts/2"));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn null_in_an_overlay_deletes_a_key_of_a_lower_layer_with_its_subtree() {
        let base = layer(
            "base.yaml",
            "pg:\n  resources:\n    cpu: 1\n  replicas: 1\n",
        );
        let prod = layer("prod.yaml", "pg:\n  resources: null\n");
        let merged = coalesce([base, prod]);
        assert_eq!(merged.value, json!({"pg": {"replicas": 1}}));
        assert!(!merged.origins.contains_key("/pg/resources"));
        assert!(!merged.origins.contains_key("/pg/resources/cpu"));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn null_in_the_defaults_means_absent_and_null_for_a_key_they_lack_is_kept() {
        let base = layer(
            "base.yaml",
            "a: null\nb: {c: ~, d: 1}\nl: [null, {x: null}]\n",
        );
        let prod = layer("prod.yaml", "e: null\nb: {f: null}\n");
        let merged = coalesce([base, prod]);
        assert_eq!(
            merged.value,
            json!({"b": {"d": 1, "f": null}, "l": [null, {"x": null}], "e": null}),
            "list items stay as written; Helm keeps a null no default defines"
        );
        assert!(!merged.origins.contains_key("/a"));
        assert_eq!(line_of(&merged, "/e"), Some(("prod.yaml".into(), 1)));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn helm_keeps_a_null_for_a_key_of_an_empty_default_map() {
        // Helm's TestCoalesceValuesEmptyMapWithNils.
        let base = layer("base.yaml", "data: {}\n");
        let user = layer("user.yaml", "data: {foo: bar, baz: null}\n");
        let merged = coalesce([base, user]);
        assert_eq!(merged.value, json!({"data": {"foo": "bar", "baz": null}}));
        // A null over a value only an upper layer set is kept too: the defaults decide.
        let base = layer("base.yaml", "keep: 1\n");
        let mid = layer("mid.yaml", "x: 5\n");
        let top = layer("top.yaml", "x: null\nkeep: null\n");
        let merged = coalesce([base, mid, top]);
        assert_eq!(merged.value, json!({"x": null}));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn a_key_deleted_by_one_layer_can_be_set_again_by_a_later_one() {
        let base = layer("base.yaml", "a: {x: 1, y: 2}\n");
        let mid = layer("mid.yaml", "a: null\n");
        let top = layer("top.yaml", "a: {z: 3}\n");
        let merged = coalesce([base, mid, top]);
        assert_eq!(merged.value, json!({"a": {"z": 3}}));
        assert_eq!(line_of(&merged, "/a"), Some(("top.yaml".into(), 1)));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn a_map_replaced_by_a_scalar_and_a_scalar_replaced_by_a_map() {
        let base = layer("base.yaml", "a:\n  x: 1\n  y: [1, 2]\nb: plain\n");
        let prod = layer("prod.yaml", "a: off\nb:\n  nested: {k: v, kept: null}\n");
        let merged = coalesce([base, prod]);
        assert_eq!(
            merged.value,
            json!({"a": "off", "b": {"nested": {"k": "v", "kept": null}}})
        );
        assert_eq!(line_of(&merged, "/a"), Some(("prod.yaml".into(), 1)));
        assert!(!merged.origins.keys().any(|p| p.starts_with("/a/")));
        assert_eq!(line_of(&merged, "/b"), Some(("prod.yaml".into(), 3)));
        assert_eq!(
            line_of(&merged, "/b/nested/k"),
            Some(("prod.yaml".into(), 3))
        );
        assert_eq!(
            line_of(&merged, "/b/nested/kept"),
            Some(("prod.yaml".into(), 3))
        );
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn deleting_a_key_does_not_touch_origins_of_siblings_sharing_its_prefix() {
        let base = layer("base.yaml", "a: 1\na0: 2\nab: {c: 3}\n");
        let prod = layer("prod.yaml", "a: null\n");
        let merged = coalesce([base, prod]);
        assert_eq!(merged.value, json!({"a0": 2, "ab": {"c": 3}}));
        assert_eq!(line_of(&merged, "/a0"), Some(("base.yaml".into(), 2)));
        assert_eq!(line_of(&merged, "/ab/c"), Some(("base.yaml".into(), 3)));
        assert_origins_match_tree(&merged);
    }

    #[test]
    fn no_layers_or_empty_layers_give_an_empty_mapping() {
        assert_eq!(coalesce([]), Located::empty());
        let merged = coalesce([Located::empty(), layer("empty.yaml", "# nothing\n")]);
        assert_eq!(merged.value, json!({}));
    }

    #[test]
    fn set_flags_coalesce_over_files() {
        let base = layer("base.yaml", "pg:\n  replicas: 1\n  tls: {enabled: true}\n");
        let set = crate::pipeline::values::parse_set(
            crate::pipeline::values::SetKind::Infer,
            "pg.replicas=5,pg.tls=null",
        );
        let Ok(set) = set else {
            panic!("--set does not parse: {set:?}")
        };
        let merged = coalesce([base, set]);
        assert_eq!(merged.value, json!({"pg": {"replicas": 5}}));
        assert_eq!(
            merged.origins.get("/pg/replicas"),
            Some(&Location::Flag("--set pg.replicas=5,pg.tls=null".into()))
        );
        assert_eq!(line_of(&merged, "/pg"), Some(("base.yaml".into(), 2)));
        assert_origins_match_tree(&merged);
    }

    fn keyed() -> ListMerge {
        ListMerge::new(vec![(
            vec![Some("app".into()), Some("containers".into())],
            "name".into(),
        )])
    }

    #[test]
    fn lists_with_a_merge_key_merge_item_by_item() {
        let base = layer(
            "base.yaml",
            "app:\n  containers:\n    - {name: web, image: web:1, port: 80}\n    - {name: side, image: side:1}\n    - {name: log, image: log:1}\n",
        );
        let prod = layer(
            "prod.yaml",
            "app:\n  containers:\n    - {name: web, image: web:2}\n    - {name: side, $patch: delete}\n    - {name: new, image: new:1}\n",
        );
        let merged = coalesce_with([base, prod], &keyed());
        assert_eq!(
            merged.value,
            json!({"app": {"containers": [
                {"name": "web", "image": "web:2", "port": 80},
                {"name": "log", "image": "log:1"},
                {"name": "new", "image": "new:1"}
            ]}})
        );
        assert_eq!(
            line_of(&merged, "/app/containers/0/image"),
            Some(("prod.yaml".into(), 3))
        );
        assert_eq!(
            line_of(&merged, "/app/containers/0/port"),
            Some(("base.yaml".into(), 3))
        );
        assert_eq!(
            line_of(&merged, "/app/containers/1/image"),
            Some(("base.yaml".into(), 5))
        );
        assert_eq!(
            line_of(&merged, "/app/containers/2/name"),
            Some(("prod.yaml".into(), 5))
        );
        assert_origins_match_tree(&merged);
        // Lists without a merge key keep Helm's replace semantics.
        let base = layer("base.yaml", "other: [{name: a}]\n");
        let prod = layer("prod.yaml", "other: [{name: b}]\n");
        assert_eq!(
            coalesce_with([base, prod], &keyed()).value,
            json!({"other": [{"name": "b"}]})
        );
    }

    #[test]
    fn set_indices_patch_the_lower_list_as_helm_does() {
        let base = layer(
            "base.yaml",
            "hosts:\n  - {name: a, port: 1}\n  - {name: b, port: 2}\n",
        );
        let set = crate::pipeline::values::parse_set(
            crate::pipeline::values::SetKind::Infer,
            "hosts[1].port=3,hosts[2].name=c",
        )
        .unwrap();
        let merged = coalesce([base, set]);
        assert_eq!(
            merged.value,
            json!({"hosts": [{"name": "a", "port": 1}, {"name": "b", "port": 3}, {"name": "c"}]})
        );
        assert_eq!(
            line_of(&merged, "/hosts/0/name"),
            Some(("base.yaml".into(), 2))
        );
        assert_eq!(
            merged.origins.get("/hosts/1/port"),
            Some(&Location::Flag(
                "--set hosts[1].port=3,hosts[2].name=c".into()
            ))
        );
        assert_origins_match_tree(&merged);
        // A list literal replaces, as Helm's `--set a={x}` does.
        let base = layer("base.yaml", "hosts: [a, b, c]\n");
        let set = crate::pipeline::values::parse_set(
            crate::pipeline::values::SetKind::Infer,
            "hosts={z}",
        )
        .unwrap();
        assert_eq!(coalesce([base, set]).value, json!({"hosts": ["z"]}));
    }
}
