//! The rendered-document reader on arbitrary text, as a render reads template output: split
//! at `---` lines, then each document parsed. It never panics, hangs or exhausts memory,
//! and what it accepts the writer writes and the reader reads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use somagen::foundation::yaml::manifest::{parse_document, split_documents};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut line = 0;
    for chunk in split_documents(text) {
        assert!(
            chunk.first_line > line,
            "documents are in order, from line 1"
        );
        line = chunk.first_line;
        if let Ok(value) = parse_document(chunk.text) {
            somagen_fuzz::assert_manifest_round_trip(&value);
        }
    }
});
