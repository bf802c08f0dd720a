//! Integration tests of the somagen binary on fixture stacks: the command line and render
//! behaviour, bad input, and the GitOps commands. The shipped stack's own acceptance tests
//! are in `tests/soma_infra/`.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod cli;
mod cluster;
mod gitops;
mod images;
mod init;
mod layers;
mod provenance;
