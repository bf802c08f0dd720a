//! Tools built on the pipeline: the GitOps commands (`check`, `golden`, `diff`, `lint`),
//! pictures and archives (`graph`, `package`), the smoke Jobs, the cluster commands (`plan`, `apply`, `drift`), and the soma-infra
//! environments (compose, env, kind). Tools never print or exit; the CLI does.

pub mod check;
pub mod cluster;
pub mod diff;
pub mod git;
pub mod golden;
pub mod graph;
pub mod init;
pub mod lint;
pub mod modes;
pub mod package;
pub mod smoke;
pub mod soma_infra;
pub mod text_diff;
