//! Acceptance tests of the soma-infra stack this repository ships: the environment matrix
//! and NetworkPolicy model, the OPA policy, the environments beside the cluster, and the
//! golden files. The tool's own behaviour is tested in `tests/tool/`.

#[path = "../common/mod.rs"]
mod common;

mod apps;
mod environments;
mod golden;
mod matrix;
mod object_storage;
mod operations;
mod policy;
