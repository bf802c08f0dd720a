//! `image-digest`: in production modes of a stack with an `images.lock`, every image is
//! pinned to a digest.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain image-digest` prints.

use super::{Context, Hit, Rule};
use crate::foundation::object::pods::ALL_CONTAINERS;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks, in the stack's production modes (`productionModes` in stack.yaml) and once the stack
has an `images.lock`, that every container image (init and ephemeral containers too) carries
a sha256 digest: `repository:tag@sha256:<64 hex>`. The render adds the digest of every image
listed in images.lock, so a finding means an image the lock does not list yet.

Why: a tag can be moved or overwritten in the registry; a digest cannot. Production should
run exactly the bytes that were scanned and tested (checkov CKV_K8S_43), and a rollback
should bring back exactly the old image.

Example:
    image: postgres:16.4                    # in prod, and not in images.lock

Fix:
    somagen images --mode prod --lock       # lists the images to resolve
    echo \"postgres:16.4: $(crane digest postgres:16.4)\" >> images.lock
";

/// The `image-digest` rule.
pub struct ImageDigest;

impl Rule for ImageDigest {
    fn id(&self) -> &'static str {
        "image-digest"
    }

    fn summary(&self) -> &'static str {
        "production images are pinned to a digest (stacks with an images.lock)"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        if !ctx.production || !ctx.images_locked {
            return vec![];
        }
        let mut hits = Vec::new();
        for pod in &ctx.pods {
            for c in pod.containers(&ALL_CONTAINERS) {
                let image = c.str("image");
                let pinned = image
                    .split_once('@')
                    .is_some_and(|(_, digest)| crate::pipeline::manifest::pin::is_digest(digest));
                if !pinned {
                    hits.push(Hit::new(
                        pod.index,
                        format!("{}.image", c.path),
                        format!(
                            "container `{}` image `{image}` has no digest in production mode `{}`",
                            c.name, ctx.mode
                        ),
                        "add it to images.lock: `somagen images --mode <mode> --lock` lists what to resolve",
                    ));
                }
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::foundation::object::pods::pod_templates;
    use crate::tools::lint::rules::fixtures::*;
    use serde_json::json;

    fn run(image: &str, production: bool, locked: bool) -> usize {
        let objects = objects(vec![deployment("x", 1, container(json!({"image": image})))]);
        let ctx = Context {
            objects: &objects,
            pods: pod_templates(&objects),
            mode: "prod",
            production,
            images_locked: locked,
            external: Default::default(),
        };
        ImageDigest.check(&ctx).len()
    }

    #[test]
    fn production_images_need_a_digest_once_the_stack_has_a_lock() {
        let digest = format!("nginx:1.27@sha256:{}", "a".repeat(64));
        assert_eq!(run("nginx:1.27", true, true), 1);
        assert_eq!(run(&digest, true, true), 0);
        assert_eq!(run("nginx:1.27@sha256:short", true, true), 1);
        assert_eq!(run("nginx:1.27", false, true), 0, "not a production mode");
        assert_eq!(run("nginx:1.27", true, false), 0, "no images.lock");
    }
}
