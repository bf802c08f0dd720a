//! Unused values: what an overlay, a `-f` file or a flag sets that no template reads.

use serde_json::{Map, Value};

use super::UNUSED_VALUE;
use crate::Rendered;
use crate::foundation::diag::{Code, Diagnostic, Location};
use crate::foundation::located::{child_pointer, for_each_leaf, pointer_to_path};

/// The value leaves set by an overlay, a `-f` file or a flag that no template read.
/// Base values are defaults and are not reported; neither are the settings of a switched-off
/// component (a map whose `enabled` is `false`), which are read once it is switched on.
pub fn unused_values(rendered: &Rendered) -> Vec<Diagnostic> {
    // Read if the template read the value itself or a list or mapping holding it: one set
    // lookup per ancestor, not a scan of every read for every leaf.
    let is_read = |pointer: &str| {
        let ancestors = pointer
            .match_indices('/')
            .map(|(slash, _)| &pointer[..slash]);
        std::iter::once(pointer)
            .chain(ancestors)
            .any(|candidate| rendered.reads.contains(candidate))
    };
    let mut unused = Vec::new();
    // A switched-off component counts as one leaf, its `enabled` switch.
    let switched_on = |map: &Map<String, Value>| map.get("enabled") != Some(&Value::Bool(false));
    for_each_leaf(
        &rendered.values.value,
        &switched_on,
        &mut |pointer, value| {
            let pointer = match value {
                Value::Object(map) if !map.is_empty() => child_pointer(&pointer, "enabled"),
                _ => pointer,
            };
            if is_read(&pointer) {
                return;
            }
            let origin = rendered.values.origin_of(&pointer).cloned();
            let from_base = matches!(&origin, Some(Location::File { file, .. }) if &**file == "overlays/base.yaml");
            if !from_base {
                unused.push(
                    Diagnostic::warning(
                        Code::Rule(UNUSED_VALUE),
                        "no template reads this value in this mode",
                    )
                    .at_opt(origin)
                    .path(pointer_to_path(&pointer))
                    .hint("remove it, or check the key for a typo"),
                );
            }
        },
    );
    unused
}
