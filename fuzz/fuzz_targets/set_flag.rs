//! The `--set`, `--set-string` and `--set-json` parser on arbitrary arguments: it never
//! panics, hangs or exhausts memory (list indexes and depth are bounded), and what it
//! accepts is a mapping. The first byte picks the flag.
#![no_main]

use libfuzzer_sys::fuzz_target;
use somagen::pipeline::values::{SetKind, parse_set};

fuzz_target!(|data: &[u8]| {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    let Ok(arg) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = match flag % 3 {
        0 => SetKind::Infer,
        1 => SetKind::String,
        _ => SetKind::Json,
    };
    if let Ok(located) = parse_set(kind, arg) {
        assert!(located.value.is_object(), "a flag sets keys of a mapping");
        assert!(located.origins.contains_key(""), "the root has an origin");
    }
});
