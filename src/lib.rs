//! somagen: compile a Kubernetes stack into validated, ordered, deterministic manifests.
//!
//! The pipeline runs one way, one module per stage:
//! `stack` (load) → `values` (merge) → `schema` (validate) → `template` (render)
//! → `manifest` (check, order) → `emit`.

pub mod diag;
pub mod values;
