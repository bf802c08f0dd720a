//! `image-tag`: images are pinned: a tag other than `latest`, or a digest.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain image-tag` prints.

use super::{Context, Hit, Rule};
use crate::foundation::object::pods::ALL_CONTAINERS;

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that every container image names a tag other than `latest`, or a digest.

Why: an untagged or `latest` image changes under the same manifest, so two applies of the
same render can run different code, and a rollback cannot go back.

Example:
    image: nginx                # no tag: means latest

Fix:
    image: nginx:1.27.3         # or nginx@sha256:<digest>
";

/// The `image-tag` rule.
pub struct ImageTag;

impl Rule for ImageTag {
    fn id(&self) -> &'static str {
        "image-tag"
    }

    fn summary(&self) -> &'static str {
        "images are pinned: a tag other than `latest`, or a digest"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

/// Why an image reference is not pinned, if it is not.
pub fn image_problem(image: &str) -> Option<&'static str> {
    if image.trim().is_empty() {
        return Some("has no image");
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, digest),
        None => (image, ""),
    };
    if !digest.is_empty() {
        return None;
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some((_, "")) | None => Some("has no tag"),
        Some(_) => None,
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for pod in &ctx.pods {
        for c in pod.containers(&ALL_CONTAINERS) {
            let image = c.str("image");
            if let Some(problem) = image_problem(image) {
                hits.push(Hit::new(
                    pod.index,
                    format!("{}.image", c.path),
                    format!("container `{}` image `{image}` {problem}", c.name),
                    "pin a version tag (repository:1.2.3) or a digest (repository@sha256:...)",
                ));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::lint::rules::fixtures::*;

    #[test]
    fn fires_on_its_violation_and_not_on_the_clean_pod() {
        for (bad, count) in violations("image-tag") {
            assert_eq!(
                hits(&ImageTag, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&ImageTag, clean(), true).is_empty());
    }

    #[test]
    fn image_pinning() {
        assert_eq!(image_problem("nginx"), Some("has no tag"));
        assert_eq!(image_problem("nginx:"), Some("has no tag"));
        assert_eq!(image_problem("nginx:latest"), Some("uses the `latest` tag"));
        assert_eq!(
            image_problem("registry:5000/team/nginx"),
            Some("has no tag")
        );
        assert_eq!(image_problem(""), Some("has no image"));
        assert_eq!(image_problem("registry:5000/team/nginx:1.27"), None);
        assert_eq!(image_problem("nginx@sha256:abc"), None);
        assert_eq!(image_problem("nginx:latest@sha256:abc"), None);
        assert_eq!(image_problem("quay.io/coreos/etcd:v3.5.15"), None);
    }
}
