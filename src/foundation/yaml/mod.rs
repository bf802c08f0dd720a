//! YAML in and out. Values and rendered manifests are read with different semantics on
//! purpose: values files as YAML 1.2 (what users write), rendered documents as YAML 1.1 (what
//! kubectl reads). Output is written so that both read it back unchanged.

pub mod block;
pub mod manifest;
mod pieces;
pub mod surrogates;
pub mod tree;
pub mod values;
pub mod write;
