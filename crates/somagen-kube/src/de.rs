//! A deserializer over a borrowed `serde_json::Value` that knows where it is.
//!
//! It behaves like serde_json's own `&Value` deserializer, and in addition
//! - remembers the path of the innermost failing value, so that a type error can name its field
//!   (`spec.replicas`) — the way `serde_path_to_error` does, without a wrapper around every
//!   visitor and without allocating on the happy path;
//! - on request, notes for every mapping read as a struct the keys that are not among the field
//!   names the struct declares. k8s-openapi passes its complete field list to `deserialize_struct`, so
//!   these notes let an unknown-field report suggest the field that was meant. Whether a key is
//!   unknown is still decided by the round trip; the notes only supply the suggestions.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::{Map, Value};

use crate::path::{OwnedPath, PathNode, Seg};

/// The error of a failed deserialization: serde's message only; the path is kept by [`Tracker`].
///
/// Boxed so that it is one pointer wide, like serde_json's error: every `Result` on the way
/// through the object carries it.
#[derive(Debug)]
pub(crate) struct DeError(pub(crate) Box<str>);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string().into_boxed_str())
    }
}

/// A key that a struct does not declare, with the fields it does declare.
pub(crate) struct Stray {
    pub(crate) path: OwnedPath,
    pub(crate) fields: &'static [&'static str],
}

/// What one deserialization learned besides its result.
#[derive(Default)]
pub(crate) struct Tracker {
    /// Whether to note keys a struct does not declare. Off on the first pass: the scan of the
    /// field list costs time, and is only needed once the round trip has found an unknown
    /// field.
    pub(crate) collect_strays: bool,
    /// Path of the innermost value whose deserialization failed.
    pub(crate) error_path: RefCell<Option<OwnedPath>>,
    /// Keys read into a struct that does not declare them.
    pub(crate) strays: RefCell<Vec<Stray>>,
    /// Whether the round trip could tell the object from its typed reading: a key went
    /// unread (k8s-openapi skips the keys it does not declare with `IgnoredAny`, and nothing
    /// else), or a timestamp was read, which comes back rounded to its type's precision.
    /// Every other value a reading accepts comes back as it was, numbers up to equality.
    pub(crate) round_trip_differs: Cell<bool>,
}

impl Tracker {
    /// Records `path` as the place of the failure unless a deeper one was recorded already:
    /// errors travel outwards, so the first to be recorded is the innermost.
    fn failed_at(&self, path: &PathNode<'_, '_>) {
        let mut slot = self.error_path.borrow_mut();
        if slot.is_none() {
            *slot = Some(path.detach());
        }
    }
}

/// Deserializes `value` (borrowed) at `path`.
pub(crate) struct ValueDe<'de, 'p> {
    pub(crate) value: &'de Value,
    pub(crate) path: &'p PathNode<'de, 'p>,
    pub(crate) tracker: &'p Tracker,
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Unexpected::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Unexpected::Signed(i)
            } else {
                Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de, 'p> ValueDe<'de, 'p> {
    fn visit_map<V: Visitor<'de>>(
        self,
        map: &'de Map<String, Value>,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut access = MapDe {
            iter: map.iter(),
            pending: None,
            fields,
            path: self.path,
            tracker: self.tracker,
        };
        let out = visitor.visit_map(&mut access)?;
        if access.iter.len() == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(
                map.len(),
                &"fewer elements in map",
            ))
        }
    }

    fn visit_seq<V: Visitor<'de>>(
        self,
        list: &'de [Value],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let mut access = SeqDe {
            iter: list.iter().enumerate(),
            path: self.path,
            tracker: self.tracker,
        };
        let out = visitor.visit_seq(&mut access)?;
        if access.iter.len() == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(
                list.len(),
                &"fewer elements in array",
            ))
        }
    }
}

impl<'de, 'p> Deserializer<'de> for ValueDe<'de, 'p> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(list) => self.visit_seq(list, visitor),
            Value::Object(map) => self.visit_map(map, None, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Kubernetes treats `null` as unset.
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if matches!(name, "Time" | "MicroTime") {
            self.tracker.round_trip_differs.set(true);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::Object(map) => self.visit_map(map, Some(fields), visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        // k8s-openapi models enumerations as strings; only unit variants are needed here.
        match self.value {
            Value::String(s) => {
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(s.as_str()))
            }
            other => Err(de::Error::invalid_type(unexpected(other), &"string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Unknown keys land here; the round trip reports them, so there is nothing to walk.
        self.tracker.round_trip_differs.set(true);
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf seq tuple tuple_struct map identifier
    }
}

/// The entries of a mapping, each value deserialized at its own path.
struct MapDe<'de, 'p> {
    iter: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    fields: Option<&'static [&'static str]>,
    path: &'p PathNode<'de, 'p>,
    tracker: &'p Tracker,
}

impl<'de> MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        if let Some(fields) = self.fields
            && self.tracker.collect_strays
            && !fields.contains(&key.as_str())
        {
            self.tracker.strays.borrow_mut().push(Stray {
                path: self.path.child(Seg::Key(key)).detach(),
                fields,
            });
        }
        self.pending = Some((key, value));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("value requested before its key"));
        };
        let path = self.path.child(Seg::Key(key));
        seed.deserialize(ValueDe {
            value,
            path: &path,
            tracker: self.tracker,
        })
        .inspect_err(|_| self.tracker.failed_at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The elements of a list, each deserialized at its own index.
struct SeqDe<'de, 'p> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'p PathNode<'de, 'p>,
    tracker: &'p Tracker,
}

impl<'de> SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DeError> {
        let Some((index, value)) = self.iter.next() else {
            return Ok(None);
        };
        let path = self.path.child(Seg::Index(index));
        seed.deserialize(ValueDe {
            value,
            path: &path,
            tracker: self.tracker,
        })
        .map(Some)
        .inspect_err(|_| self.tracker.failed_at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}
