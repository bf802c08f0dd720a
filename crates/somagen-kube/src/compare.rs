//! Comparison of an object with its round trip through its k8s-openapi type.
//!
//! The round trip drops every key the type does not know; that is how unknown fields are found.
//! The comparison is loose where Kubernetes is loose: `null` is the same as an absent key,
//! numbers compare by value, a number given for a `Quantity` comes back as a string, and
//! timestamps come back in their canonical form.

use serde_json::{Number, Value};

use crate::de::Stray;
use crate::path::{OwnedPath, OwnedSeg, PathNode, Seg};

/// A difference found by [`compare`], with its path.
pub(crate) struct Finding {
    pub(crate) path: OwnedPath,
    pub(crate) problem: Problem,
}

/// What [`compare`] found at a path.
pub(crate) enum Problem {
    /// The last key of the path did not survive the round trip.
    UnknownField,
    /// The value came back as something else (kinds of value, as in [`describe`]).
    Changed {
        from: &'static str,
        to: &'static str,
    },
}

/// Appends to `out` every key of `original` that `round_trip` lacks and every value that
/// changed.
pub(crate) fn compare(
    original: &Value,
    round_trip: &Value,
    path: &PathNode<'_, '_>,
    out: &mut Vec<Finding>,
) {
    match (original, round_trip) {
        // Kubernetes treats null as unset, whatever the type made of it.
        (Value::Null, _) => {}
        (Value::Object(orig), Value::Object(rt)) => {
            for (key, value) in orig {
                if value.is_null() {
                    continue;
                }
                let child = path.child(Seg::Key(key));
                match rt.get(key) {
                    Some(rt_value) => compare(value, rt_value, &child, out),
                    None => out.push(Finding {
                        path: child.detach(),
                        problem: Problem::UnknownField,
                    }),
                }
            }
        }
        (Value::Array(orig), Value::Array(rt)) if orig.len() == rt.len() => {
            for (index, (a, b)) in orig.iter().zip(rt).enumerate() {
                compare(a, b, &path.child(Seg::Index(index)), out);
            }
        }
        (Value::Bool(a), Value::Bool(b)) if a == b => {}
        (Value::Number(a), Value::Number(b)) if numbers_equal(a, b) => {}
        // A number given for a Quantity (`cpu: 1`) comes back as its string.
        (Value::Number(a), Value::String(b))
            if b.parse::<f64>().ok() == a.as_f64() && a.as_f64().is_some() => {}
        (Value::String(a), Value::String(b)) if a == b || same_instant(a, b) => {}
        _ => out.push(Finding {
            path: path.detach(),
            problem: Problem::Changed {
                from: describe(original),
                to: describe(round_trip),
            },
        }),
    }
}

/// `1 == 1.0`; integers beyond f64 precision compare exactly.
fn numbers_equal(a: &Number, b: &Number) -> bool {
    a == b
        || match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
}

/// Whether two strings are timestamps within the same second: `Time` is stored with second
/// precision and re-serialized in UTC, so `2024-01-01T01:00:00.5+01:00` comes back as
/// `2024-01-01T00:00:00Z`. Only strings that changed on the round trip get here, and only
/// timestamp types change strings.
fn same_instant(a: &str, b: &str) -> bool {
    match (
        a.parse::<k8s_openapi::jiff::Timestamp>(),
        b.parse::<k8s_openapi::jiff::Timestamp>(),
    ) {
        (Ok(x), Ok(y)) => (x.as_nanosecond() - y.as_nanosecond()).abs() < 1_000_000_000,
        _ => false,
    }
}

/// The kind of a value, for messages. Values themselves are not shown: they may be secrets.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl Finding {
    /// The message for the user. `strays` are the keys the deserializer saw outside a
    /// struct's declared fields, with those fields; they supply "did you mean" suggestions.
    pub(crate) fn message(&self, strays: &[Stray]) -> String {
        match self.problem {
            Problem::Changed { from, to } => {
                format!("value changed on round trip: {from} became {to}")
            }
            Problem::UnknownField => {
                let Some(OwnedSeg::Key(key)) = self.path.0.last() else {
                    // Unknown fields are keys by construction.
                    return "unknown field".to_owned();
                };
                let suggestion = strays
                    .iter()
                    .find(|stray| stray.path == self.path)
                    .and_then(|stray| closest(key, stray.fields));
                match suggestion {
                    Some(field) => format!("unknown field `{key}`, did you mean `{field}`?"),
                    None => format!("unknown field `{key}`"),
                }
            }
        }
    }
}

/// The declared field closest to `key`, if it is close enough to be a likely typo.
fn closest(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    let budget = key.chars().count().max(3) / 3;
    fields
        .iter()
        .map(|field| {
            let distance = if field.eq_ignore_ascii_case(key) {
                0
            } else {
                levenshtein(key, field)
            };
            (distance, *field)
        })
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, field)| field)
}

/// Edit distance in characters, with one row of memory.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("contaners", "containers"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn closest_needs_a_near_miss() {
        let fields = &["containers", "initContainers", "volumes"];
        assert_eq!(closest("contaners", fields), Some("containers"));
        assert_eq!(closest("Volumes", fields), Some("volumes"));
        assert_eq!(closest("xyz", fields), None);
        assert_eq!(closest("foo", fields), None);
    }

    #[test]
    fn timestamps_compare_by_instant() {
        assert!(same_instant(
            "2024-01-01T01:00:00.5+01:00",
            "2024-01-01T00:00:00Z"
        ));
        assert!(!same_instant(
            "2024-01-01T00:00:02Z",
            "2024-01-01T00:00:00Z"
        ));
        assert!(!same_instant("a", "b"));
    }
}
