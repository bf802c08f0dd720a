//! Digest pinning: images.lock, `images --lock`, and the `image-digest` rule.

use crate::common::{Scratch, assert_error, somagen, stderr, stdout};

const DIGEST: &str = "sha256:4d2ee9e9bd6ba6a6e6e1e2c3b5a0f0a4c3d1e8b7a6f5e4d3c2b1a09f8e7d6c5b";

#[test]
fn the_render_pins_locked_images_and_images_lock_lists_the_rest() {
    let s = Scratch::of("basic");
    assert_eq!(
        stdout(&s.run(&["images", "--mode", "dev", "--lock"])),
        "nginx:1.27\n"
    );
    s.write(
        "images.lock",
        &format!("# image: digest\nnginx:1.27: {DIGEST}\n"),
    );
    let render = s.run(&["render", "--mode", "dev"]);
    assert_eq!(render.status.code(), Some(0), "{}", stderr(&render));
    assert!(stdout(&render).contains(&format!("image: nginx:1.27@{DIGEST}\n")));
    assert_eq!(stdout(&s.run(&["images", "--mode", "dev", "--lock"])), "");
    assert_eq!(
        stdout(&s.run(&["images", "--mode", "dev"])),
        format!("nginx:1.27@{DIGEST}\n")
    );
}

#[test]
fn a_bad_lock_entry_is_an_error_with_its_line() {
    let s = Scratch::of("basic");
    s.write(
        "images.lock",
        "redis:7: sha256:abc\nnginx@sha256:x: sha256:abc\n",
    );
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &[
            "error[stack]: images.lock:1:",
            "the digest of `redis:7` is not `sha256:` and 64 hex digits",
            "crane digest",
            "images.lock:2:",
            "`nginx@sha256:x` is not an image reference without a digest",
        ],
    );
    s.write("images.lock", "- not a map\n");
    assert_error(
        &s.run(&["render", "--mode", "dev"]),
        &["images.lock:1:1: the top level must be a mapping"],
    );
}

#[test]
fn production_modes_of_a_locked_stack_require_digests() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(
        somagen(tmp.path(), &["init", "app", "--modes", "dev,prod"])
            .status
            .code(),
        Some(0)
    );
    let dir = tmp.path().join("app");
    // Without a lock the rule is off; with one, prod needs every image in it.
    assert_eq!(
        somagen(&dir, &["lint", "--mode", "prod"]).status.code(),
        Some(0)
    );
    std::fs::write(dir.join("images.lock"), "{}\n").unwrap();
    let lint = somagen(&dir, &["lint", "--mode", "prod"]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(
        stderr(&lint).contains("warning[image-digest]"),
        "{}",
        stderr(&lint)
    );
    assert!(stderr(&lint).contains("has no digest in production mode `prod`"));
    assert_eq!(
        somagen(&dir, &["lint", "--mode", "dev"]).status.code(),
        Some(0)
    );
    let image = stdout(&somagen(&dir, &["images", "--mode", "prod", "--lock"]));
    std::fs::write(
        dir.join("images.lock"),
        format!("{}: {DIGEST}\n", image.trim()),
    )
    .unwrap();
    let lint = somagen(&dir, &["lint", "--mode", "prod"]);
    assert_eq!(lint.status.code(), Some(0), "{}", stderr(&lint));
}
