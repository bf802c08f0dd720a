//! The values-file reader on arbitrary text: it never panics, hangs or exhausts memory
//! (depth and alias budgets), and what it accepts is a mapping that the writer writes and
//! the reader reads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use somagen::foundation::yaml::values::parse_yaml;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(located) = parse_yaml("fuzz.yaml", text) {
        assert!(located.value.is_object(), "the top level is a mapping");
        somagen_fuzz::assert_values_round_trip(&located.value);
    }
});
