//! The last step of a check: pin images to the digests of the stack's `images.lock`.
//!
//! `images.lock` maps each image reference, exactly as the render writes it, to its sha256
//! digest:
//!
//! ```yaml
//! postgres:16.4: sha256:5c0f...
//! ghcr.io/example/api:1.2.3: sha256:9a1b...
//! ```
//!
//! Every container image (init and ephemeral containers too) found in the lock becomes
//! `repository:tag@sha256:...`: the tag stays for people, the digest is what the runtime
//! pulls. References that already carry a digest are left alone. somagen never resolves a
//! digest itself (no network): `somagen images --mode M --lock` lists what to resolve, and
//! a registry tool fills the lock (README, "Pinned images").

use std::collections::BTreeMap;

use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Location, Result, finish};
use crate::foundation::object::{Object, group};
use crate::pipeline::stack::{IMAGES_LOCK, Stack};

/// The image lock of a stack: reference -> `sha256:<64 hex>`.
pub type Lock = BTreeMap<String, String>;

/// The stack's lock, checked: every key an image reference without a digest, every value a
/// sha256 digest. Errors carry the line of the entry.
pub fn read_lock(stack: &Stack) -> Result<Option<Lock>> {
    let Some(text) = stack.file(IMAGES_LOCK) else {
        return Ok(None);
    };
    let parsed = crate::foundation::yaml::values::parse_yaml(IMAGES_LOCK, text)?;
    let at = |pointer: &str| {
        parsed
            .origin_of(pointer)
            .cloned()
            .unwrap_or(Location::Path(IMAGES_LOCK.into()))
    };
    let map = match &parsed.value {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        _ => {
            return Err(Diagnostic::error(
                Code::Stack,
                "images.lock must map image references to digests",
            )
            .at(at(""))
            .hint("one line per image: `postgres:16.4: sha256:<64 hex digits>`")
            .into());
        }
    };
    let mut lock = Lock::new();
    let mut problems = Vec::new();
    for (image, digest) in map {
        let pointer = crate::foundation::located::child_pointer("", &image);
        let digest = digest.as_str().unwrap_or_default();
        if image.contains('@') || image.trim().is_empty() {
            problems.push(
                Diagnostic::error(
                    Code::Stack,
                    format!("`{image}` is not an image reference without a digest"),
                )
                .at(at(&pointer))
                .hint("the key is the image as the render writes it, e.g. `postgres:16.4`"),
            );
        } else if !is_digest(digest) {
            problems.push(
                Diagnostic::error(Code::Stack, format!("the digest of `{image}` is not `sha256:` and 64 hex digits"))
                    .at(at(&pointer))
                    .hint("resolve it with `crane digest IMAGE` or `skopeo inspect --format '{{.Digest}}' docker://IMAGE`"),
            );
        } else {
            lock.insert(image, digest.to_owned());
        }
    }
    finish(Some(lock), problems)
}

/// Whether `text` is `sha256:` and 64 lowercase hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Pin every locked image of `object` in place.
pub fn pin(object: &mut Object, lock: &Lock) {
    let spec = match (group(object.api_version()), object.kind()) {
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        ("", "Pod") => "/spec",
        _ => return,
    };
    let Some(spec) = object.value.pointer_mut(spec) else {
        return;
    };
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers {
            let Some(image) = container.get_mut("image") else {
                continue;
            };
            if let Some(digest) = image.as_str().and_then(|i| lock.get(i)) {
                let pinned = format!("{}@{digest}", image.as_str().unwrap_or_default());
                *image = Value::String(pinned);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn locked_images_get_their_digest_and_others_stay() {
        let mut object = Object {
            source: "t".into(),
            value: json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                    "initContainers": [{"name": "i", "image": "busybox:1.36"}],
                    "containers": [{"name": "a", "image": "nginx:1.27"}, {"name": "b", "image": "redis:7"}]}}}}}}),
        };
        let lock = Lock::from([
            ("nginx:1.27".to_owned(), DIGEST.to_owned()),
            ("busybox:1.36".to_owned(), DIGEST.to_owned()),
        ]);
        pin(&mut object, &lock);
        let spec = &object.value["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"][0]["image"],
            format!("nginx:1.27@{DIGEST}")
        );
        assert_eq!(spec["containers"][1]["image"], "redis:7");
        assert_eq!(
            spec["initContainers"][0]["image"],
            format!("busybox:1.36@{DIGEST}")
        );
    }

    #[test]
    fn digests_are_sha256_hex() {
        assert!(is_digest(DIGEST));
        assert!(!is_digest("sha256:abc"));
        assert!(!is_digest(&DIGEST.to_uppercase()));
        assert!(!is_digest("md5:0123"));
    }
}
