//! Foundations: what every stage and tool shares, importing nothing else of ours.
//!
//! - [`diag`]: diagnostics (codes, locations, collecting) and [`suggest`]: "did you mean".
//! - [`located`]: a values tree with the origin of every node.
//! - [`yaml`]: the two readers (1.2 for values, 1.1 like kubectl for rendered output) and
//!   the YAML-1.1-safe writer.
//! - [`object`]: a Kubernetes object, its identity, pod templates, references, install order.
//! - [`io`]: bounded reads of user files.
//! - [`json_schema`]: draft 2020-12 validators, with patterns that compile fast.

pub mod diag;
pub mod io;
pub mod json_schema;
pub mod located;
pub mod object;
pub mod suggest;
pub mod yaml;
