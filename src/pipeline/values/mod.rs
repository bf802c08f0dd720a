//! Values: the merge stage of the pipeline.
//!
//! A stack's values come in layers — `overlays/base.yaml`, the mode overlay, each `-f FILE`,
//! then every `--set`-style flag — and are coalesced into one tree exactly as Helm does.
//! Every layer is a [`Located`]: a JSON tree plus the origin of each of its nodes, so that a
//! later stage (the schema check, `somagen values --show-origin`) can say *where* a bad value
//! was written, after any number of overlays replaced each other.
//!
//! - [`parse_yaml`] reads one values file (YAML 1.2 core schema, bounded against hostile input).
//! - [`parse_set`] / [`parse_set_file`] read one `--set`-style flag (Helm's strvals syntax).
//! - [`coalesce`] merges layers in order.

mod merge;
mod set;

pub use crate::foundation::located::{Located, MAX_DEPTH, child_pointer, pointer_to_path};
pub use crate::foundation::yaml::values::{parse_values_only, parse_yaml};
pub use merge::{ListMerge, coalesce, coalesce_with};
pub use set::{SetKind, parse_set, parse_set_file};
