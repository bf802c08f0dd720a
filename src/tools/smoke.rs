//! Smoke-test Jobs (`somagen smoke`): the templates under the stack's `smoke/` root, rendered
//! with the same values and environment as the stack, then checked exactly like it.
//!
//! The Jobs are built *together with* the stack's own objects, so the typed strict validation,
//! the duplicate check and the `checksum/config` annotation see the ConfigMaps and Secrets the
//! Jobs read; lint runs on the union too (a Job must be admitted by a NetworkPolicy of the
//! stack, and the Secrets it mounts must exist in the render), and only the findings about the
//! Jobs are kept.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::UserValues;
use crate::foundation::diag::{Code, Diagnostic, Result};
use crate::foundation::object::Object;
use crate::pipeline::manifest;
use crate::pipeline::stack::Stack;
use crate::pipeline::template::{self, Context};
use crate::tools::lint::{self, Finding};

/// The stack directory holding the smoke-test templates.
pub const ROOT: &str = "smoke";

/// The smoke objects of one mode and the lint findings about them.
#[derive(Debug, Clone)]
pub struct Smoke {
    /// The smoke objects, in install order.
    pub objects: Vec<Object>,
    pub findings: Vec<Finding>,
}

/// Render, check and lint the smoke-test Jobs of `mode`.
pub fn render(stack: &Stack, mode: &str, user: &UserValues) -> Result<Smoke> {
    let merged = crate::values(stack, mode, user)?;
    let ctx = Context {
        values: Arc::new(merged.value),
        mode,
        stack,
    };
    let smoke = template::render_root(&ctx, ROOT)?;
    if smoke.templates.is_empty() {
        return Err(Diagnostic::error(
            Code::Stack,
            format!("the stack has no smoke-test templates under {ROOT}/"),
        )
        .hint(format!(
            "add {ROOT}/*.yaml templates that render the smoke-test Jobs"
        ))
        .into());
    }
    let mut templates = template::render(&ctx)?.templates;
    templates.extend(smoke.templates);
    let all = manifest::build(stack, &templates)?.objects;
    let findings = lint::lint(&all, mode, &stack.meta)?;
    let objects: Vec<Object> = all.into_iter().filter(is_smoke).collect();
    let identities: BTreeSet<String> = objects
        .iter()
        .map(|object| object.identity().to_string())
        .collect();
    let findings = findings
        .into_iter()
        .filter(|finding| {
            finding
                .object
                .as_ref()
                .is_some_and(|object| identities.contains(object))
        })
        .collect();
    Ok(Smoke { objects, findings })
}

fn is_smoke(object: &Object) -> bool {
    object.source.starts_with(&format!("{ROOT}/"))
}
