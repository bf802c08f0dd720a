//! The pipeline, one stage per module, each importing only earlier stages and the
//! foundations:
//!
//! ```text
//! stack (load) → values (merge) → schema (validate) → template (render)
//!       → manifest (check, checksum, order) → pin (images.lock digests) → emit
//! ```

pub mod emit;
pub mod manifest;
pub mod pin;
pub mod schema;
pub mod stack;
pub mod template;
pub mod values;
