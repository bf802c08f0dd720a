//! The YAML writer as a round trip: any JSON-like value (bounded in depth and size, built
//! from the fuzz input) is written, and both readers read it back unchanged; a second emit
//! is byte-identical.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use somagen_fuzz::Generator;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(value) = Generator::new(&mut u).value(0) else {
        return;
    };
    somagen_fuzz::assert_round_trip(&value);
});
