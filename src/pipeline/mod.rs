//! The pipeline, one stage per module, each importing only earlier stages and the
//! foundations:
//!
//! ```text
//! stack (load) → values (merge) → schema (validate) → template (render)
//!       → manifest (check, checksum, images.lock digests, order) → emit
//! ```

pub mod emit;
pub mod manifest;
pub mod schema;
pub mod stack;
pub mod template;
pub mod values;
