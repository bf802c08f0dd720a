//! Field paths, differences between two objects, and who owns a field according to an
//! object's `managedFields` (the `FieldsV1` format of server-side apply: `f:<key>` for a
//! map key, `k:{...}` for a list item by its keys, `v:<json>` for a set item, `i:<n>` for an
//! item by index, `.` for the node itself, and `{}` for a leaf or an atomic value).

use serde_json::Value;

/// One step of a path into an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path as `spec.template.spec.containers[name=web].image`: list items that have a
/// `name` are shown by it, others by index. `value` is the object the path starts in.
pub fn display(value: &Value, path: &[Step]) -> String {
    let mut out = String::new();
    let mut node = Some(value);
    for step in path {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
                node = node.and_then(|n| n.get(key));
            }
            Step::Index(i) => {
                let item = node.and_then(|n| n.get(*i));
                match item
                    .and_then(|item| item.get("name"))
                    .and_then(Value::as_str)
                {
                    Some(name) => out.push_str(&format!("[name={name}]")),
                    None => out.push_str(&format!("[{i}]")),
                }
                node = item;
            }
        }
    }
    out
}

/// The paths where `old` and `new` differ, at the deepest level both have: a key only one
/// side has, a scalar that differs, a list whose length differs.
pub fn differences(old: &Value, new: &Value) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    walk(old, new, &mut Vec::new(), &mut out);
    out
}

fn walk(old: &Value, new: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
            for key in keys {
                path.push(Step::Key(key.clone()));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    _ => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(Step::Index(i));
                walk(x, y, path, out);
                path.pop();
            }
        }
        _ if old != new => out.push(path.clone()),
        _ => {}
    }
}

/// The value at a path, if there is one.
pub fn get<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key),
        Step::Index(i) => node.get(*i),
    })
}

/// The managers that own the field at `path` of the live object `live` (or a field inside
/// it, or an atomic value around it), as `name` or `name (subresource)`.
pub fn owners(live: &Value, path: &[Step]) -> Vec<String> {
    let Some(entries) = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return vec![];
    };
    let mut owners = Vec::new();
    for entry in entries {
        let Some(fields) = entry.get("fieldsV1") else {
            continue;
        };
        if owns(fields, live, path) {
            let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("?");
            let name = match entry.get("subresource").and_then(Value::as_str) {
                Some(sub) if !sub.is_empty() => format!("{manager} ({sub})"),
                _ => manager.to_owned(),
            };
            if !owners.contains(&name) {
                owners.push(name);
            }
        }
    }
    owners
}

/// Whether a `FieldsV1` tree claims the node at `path` of `value`.
fn owns(fields: &Value, value: &Value, path: &[Step]) -> bool {
    let Some((step, rest)) = path.split_first() else {
        // The node itself, or something inside it.
        return true;
    };
    let Some(map) = fields.as_object() else {
        return false;
    };
    if map.is_empty() {
        // A leaf: an atomic value owned whole.
        return true;
    }
    match step {
        Step::Key(key) => match (map.get(&format!("f:{key}")), value.get(key)) {
            (Some(child), Some(inner)) => owns(child, inner, rest),
            (Some(child), None) => {
                rest.is_empty() || child.as_object().is_some_and(|c| c.is_empty())
            }
            (None, _) => false,
        },
        Step::Index(i) => {
            let Some(item) = value.get(*i) else {
                return false;
            };
            map.iter().any(|(key, child)| {
                let matches = if let Some(keys) = key.strip_prefix("k:") {
                    serde_json::from_str::<serde_json::Map<String, Value>>(keys)
                        .is_ok_and(|keys| keys.iter().all(|(k, v)| item.get(k) == Some(v)))
                } else if let Some(set_item) = key.strip_prefix("v:") {
                    serde_json::from_str::<Value>(set_item).is_ok_and(|v| &v == item)
                } else if let Some(index) = key.strip_prefix("i:") {
                    index.parse::<usize>() == Ok(*i)
                } else {
                    false
                };
                matches && owns(child, item, rest)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn differences_are_the_deepest_paths() {
        let old = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "a"}]}}}});
        let new = json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "b"}]}}}});
        let paths = differences(&old, &new);
        assert_eq!(paths.len(), 2);
        assert_eq!(display(&new, &paths[0]), "spec.replicas");
        assert_eq!(
            display(&new, &paths[1]),
            "spec.template.spec.containers[name=web].image"
        );
    }

    #[test]
    fn owners_follow_keys_list_keys_and_subresources() {
        let live = json!({
            "metadata": {"managedFields": [
                {"manager": "somagen", "operation": "Apply", "fieldsV1": {"f:spec": {
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}},
                {"manager": "kubectl", "operation": "Update", "subresource": "scale",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}}
            ]},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "b"}]}}}
        });
        assert_eq!(
            owners(&live, &[key("spec"), key("replicas")]),
            ["kubectl (scale)"]
        );
        let image = [
            key("spec"),
            key("template"),
            key("spec"),
            key("containers"),
            Step::Index(0),
            key("image"),
        ];
        assert_eq!(owners(&live, &image), ["somagen"]);
        assert!(owners(&live, &[key("spec"), key("paused")]).is_empty());
    }
}
