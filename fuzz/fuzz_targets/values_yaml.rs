//! The values-file reader on arbitrary text: it never panics, hangs or exhausts memory
//! (depth and alias budgets), and what it accepts is a mapping that the writer writes and
//! the reader reads back unchanged. Read in pieces (as large files are, here cut at every
//! line it can be), it reads exactly what it reads whole, or declines. Read without origins,
//! it reads the same values, or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use somagen::foundation::yaml::values::{parse_in_pieces, parse_values_only, parse_yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let whole = parse_yaml("fuzz.yaml", text);
    if let Ok(located) = &whole {
        assert!(located.value.is_object(), "the top level is a mapping");
        somagen_fuzz::assert_values_round_trip(&located.value);
    }
    match (&whole, parse_values_only("fuzz.yaml", text)) {
        (Ok(whole), Ok(only)) => {
            assert_eq!(
                serde_json::to_string(&only.value).unwrap(),
                serde_json::to_string(&whole.value).unwrap()
            );
        }
        (Err(whole), Err(only)) => assert_eq!(whole.0, only.0),
        (whole, only) => panic!("read with origins {whole:?}, without {only:?}"),
    }
    if let Some(pieces) = parse_in_pieces("fuzz.yaml", text, 1) {
        let whole = whole.expect("what the pieces read, the whole-file reader reads");
        assert_eq!(pieces.origins, whole.origins);
        assert_eq!(
            serde_json::to_string(&pieces.value).unwrap(),
            serde_json::to_string(&whole.value).unwrap()
        );
    }
});
