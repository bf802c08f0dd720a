//! JSON's UTF-16 surrogate-pair escapes in YAML text. JSON writes a character outside the
//! Basic Multilingual Plane as two escapes (`"\ud83d\ude80"` for 🚀: what `json.dump` and
//! `jq -a` produce), and YAML 1.2 is a JSON superset, but the YAML scanner refuses each half
//! on its own. A pair is rewritten into YAML's own 32-bit escape (`\U0001f680`) before
//! parsing; since only double-quoted scalars read escapes, a pair found in any other scalar
//! is left as written (see `parse_yaml`), and columns are mapped back to the original text.

/// One surrogate pair escape, `\uD8xx\uDCxx`, as written in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// Byte offset of the first backslash.
    pub byte: usize,
    /// Character index of the first backslash.
    pub index: usize,
    /// 1-based line and 0-based column (in characters) of the first backslash.
    pub line: usize,
    pub col: usize,
    /// The character the pair encodes.
    pub ch: char,
}

/// Characters a pair loses when rewritten: 12 (`\uXXXX\uXXXX`) become 10 (`\UXXXXXXXX`).
const SHRINK: usize = 2;

/// Every surrogate pair escape in `text` (a backslash not itself escaped, a high surrogate,
/// a backslash and a low surrogate).
pub fn pairs(text: &str) -> Vec<Pair> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    if !text.contains("\\u") && !text.contains("\\U") {
        return found;
    }
    let (mut line, mut col, mut index, mut backslashes) = (1, 0, 0, 0);
    let mut chars = text.char_indices();
    while let Some((byte, c)) = chars.next() {
        if c == '\\'
            && backslashes % 2 == 0
            && let Some(ch) = pair_at(&bytes[byte..])
        {
            found.push(Pair {
                byte,
                index,
                line,
                col,
                ch,
            });
            for _ in 0..11 {
                chars.next();
            }
            col += 12;
            index += 12;
            backslashes = 0;
            continue;
        }
        index += 1;
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    found
}

/// The character a `\uHIGH\uLOW` escape at the start of `bytes` encodes.
fn pair_at(bytes: &[u8]) -> Option<char> {
    let unit = |at: usize| -> Option<u32> {
        let escape = bytes.get(at..at + 6)?;
        if escape[0] != b'\\' || !matches!(escape[1], b'u' | b'U') {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(&escape[2..]).ok()?, 16).ok()
    };
    let high = unit(0).filter(|u| (0xD800..0xDC00).contains(u))?;
    let low = unit(6).filter(|u| (0xDC00..0xE000).contains(u))?;
    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
}

/// Character index, in the rewritten text, of each pair's escape.
pub fn rewritten_indices(pairs: &[Pair]) -> Vec<usize> {
    pairs
        .iter()
        .enumerate()
        .map(|(k, pair)| pair.index - k * SHRINK)
        .collect()
}

/// `text` with the given pairs rewritten as `\UXXXXXXXX`.
pub fn rewrite(text: &str, pairs: &[Pair]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for pair in pairs {
        out.push_str(&text[from..pair.byte]);
        out.push_str(&format!("\\U{:08x}", u32::from(pair.ch)));
        from = pair.byte + 12;
    }
    out.push_str(&text[from..]);
    out
}

/// Maps positions in a rewritten text back to the original.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// (line, column in the rewritten text just after the rewritten escape), in order.
    ends: Vec<(usize, usize)>,
}

impl Columns {
    pub fn new(pairs: &[Pair]) -> Columns {
        let mut ends = Vec::with_capacity(pairs.len());
        let mut shrunk_on_line = (0, 0);
        for pair in pairs {
            if shrunk_on_line.0 != pair.line {
                shrunk_on_line = (pair.line, 0);
            }
            let start = pair.col - shrunk_on_line.1;
            ends.push((pair.line, start + 10));
            shrunk_on_line.1 += SHRINK;
        }
        Columns { ends }
    }

    /// The original column of a 0-based column `col` of `line` in the rewritten text.
    pub fn original(&self, line: usize, col: usize) -> usize {
        let before = self
            .ends
            .iter()
            .filter(|(l, end)| *l == line && *end <= col)
            .count();
        col + before * SHRINK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_found_and_rewritten_unless_escaped() {
        let text =
            "a: \"\\ud83d\\ude80 \\uD83D\\uDE00\"\nb: \"\\\\ud83d\\ude80\"\nc: \"\\ud83d\"\n";
        let found = pairs(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].line, found[0].col, found[0].ch), (1, 4, '🚀'));
        assert_eq!((found[1].line, found[1].col, found[1].ch), (1, 17, '😀'));
        let rewritten = rewrite(text, &found);
        assert!(
            rewritten.starts_with("a: \"\\U0001f680 \\U0001f600\"\n"),
            "{rewritten}"
        );
        let columns = Columns::new(&found);
        // The closing quote sits at column 27 in the rewritten line, 31 in the original.
        assert_eq!(columns.original(1, 27), 31);
        assert_eq!(columns.original(1, 3), 3);
        assert_eq!(columns.original(2, 27), 27);
    }
}
