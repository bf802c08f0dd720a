//! A large values file read in pieces, in parallel.
//!
//! Reading a values file is one thread's work, and on a large stack it is the longest stretch
//! of a render that the other cores sit out. A line that starts at column 0 with a key, or
//! with `- ` (an item of a list written under a top-level key at the key's own column),
//! always starts a new top-level entry or item: every construct that spans lines (block and
//! quoted scalars, flow collections, nested blocks) continues on indented lines, and one cut
//! short leaves its piece unreadable. So the file is cut at such lines into pieces of
//! consecutive top-level entries, or of consecutive items of one top-level list, each read
//! on its own and put back together with its pointers and lines shifted into place.
//!
//! The pieces are an optimisation, never a second reading of YAML: any file they might not
//! read exactly as the whole-file reader does (anchors, tags, directives, documents, a key
//! twice, a line the cut does not recognise, any error at all) is read whole instead, which
//! also gives its errors.

use std::borrow::Cow;

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::foundation::diag::Location;
use crate::foundation::located::{Located, child_pointer};

/// Files smaller than this are read whole: the pieces would not pay for themselves.
pub const MIN_BYTES: usize = 128 * 1024;
/// About how much text one piece holds.
pub const PIECE_BYTES: usize = 32 * 1024;

/// A run of the file's lines read as one YAML text.
#[derive(Debug, PartialEq)]
struct Piece<'a> {
    /// The text, from the file or, for a list's later items, the list's key line followed
    /// by them; every piece but the last ends with [`END`].
    text: Cow<'a, str>,
    /// The file's line of the text's first line.
    first_line: usize,
    /// For items of a top-level list: the index of the first of them.
    items_from: Option<usize>,
}

/// The line that ends every piece but the last, where the file has the next piece's first
/// line: a key at column 0, the token that ends, and so places, whatever the piece ends
/// with (an empty block scalar is placed where the next token starts). It is removed from
/// what the piece reads; a piece that has the key itself is refused as a duplicate.
const END_KEY: &str = "somagen-end-of-piece";
const END: &str = "somagen-end-of-piece: 0\n";

/// The file read in pieces of about `piece_bytes` by `read` (the whole-file reader), or
/// `None` when it must be read whole.
pub fn read(
    text: &str,
    piece_bytes: usize,
    read: impl Fn(&str) -> Option<Located> + Sync,
) -> Option<Located> {
    let pieces = cut(text, piece_bytes)?;
    // One piece is the whole file; none, an empty one.
    if pieces.len() < 2 {
        return None;
    }
    // Each piece is read and its origins shifted into place on its own; only the mapping
    // is put together in order.
    let read: Vec<Option<Read>> = pieces
        .par_iter()
        .enumerate()
        .map(|(index, piece)| Read::of(piece, index == 0, read(&piece.text)?))
        .collect();
    let mut joined = Joined::default();
    for (piece, read) in pieces.iter().zip(read) {
        joined.add(piece, read?)?;
    }
    Some(joined.finish())
}

/// The pieces of a file, or `None` when it cannot be cut safely.
fn cut(text: &str, piece_bytes: usize) -> Option<Vec<Piece<'_>>> {
    // A carriage return alone breaks a line for YAML, not for this cut.
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    {
        return None;
    }
    let mut cutter = Cutter {
        text,
        pieces: Vec::new(),
        start: 0,
        start_line: 1,
        items_from: None,
        has_content: false,
    };
    // The last top-level line that ends in `:`, whose value may be a list at column 0: the
    // line, where it starts, its number, and whether its piece held content before it.
    let mut list_key: Option<(&str, usize, usize, bool)> = None;
    let mut items = 0;
    let mut offset = 0;
    for (line_no, line) in (1..).zip(text.split_inclusive('\n')) {
        let here = offset;
        offset += line.len();
        let starts_item = line.starts_with("- ") || line.trim_end() == "-";
        match line.as_bytes()[0] {
            b'#' | b'\n' | b'\r' => continue,
            b' ' if line.trim().is_empty() || line.trim_start().starts_with('#') => continue,
            // Content under a key: no list at column 0 may follow it. Indented content before
            // any top-level line is not a block the cut knows.
            b' ' => {
                if !cutter.has_content && cutter.pieces.is_empty() {
                    return None;
                }
                if items == 0 {
                    list_key = None;
                }
                continue;
            }
            _ if starts_item => {}
            b if b.is_ascii_alphabetic() || b == b'_' => {}
            // Quoted or complex keys, anchors, tags, directives, document markers, tabs:
            // read whole.
            _ => return None,
        }
        let big_enough = here - cutter.start >= piece_bytes;
        if starts_item {
            let (key_line, key_at, key_line_no, content_before) = list_key?;
            if items == 0 {
                // A list's first items take its key line with them.
                cutter.has_content = content_before;
                cutter.cut(key_at, key_line_no, Some(0), "");
            } else if big_enough {
                cutter.cut(here, line_no, Some(items), key_line);
            }
            items += 1;
        } else {
            if cutter.items_from.is_some() || big_enough {
                let key_line = list_key.map_or("", |(line, ..)| line);
                cutter.cut(here, line_no, None, key_line);
            }
            let content_before = cutter.has_content;
            list_key =
                line.trim_end()
                    .ends_with(':')
                    .then_some((line, here, line_no, content_before));
            items = 0;
        }
        cutter.has_content = true;
    }
    let key_line = list_key.map_or("", |(line, ..)| line);
    cutter.cut(text.len(), 0, None, key_line);
    Some(cutter.pieces)
}

/// The pieces so far and the one being gathered.
struct Cutter<'a> {
    text: &'a str,
    pieces: Vec<Piece<'a>>,
    /// Where the piece being gathered starts, in bytes and lines.
    start: usize,
    start_line: usize,
    /// For items of a list: the index of the piece's first item.
    items_from: Option<usize>,
    /// Whether the piece holds a line of content yet (not only blank lines and comments).
    has_content: bool,
}

impl<'a> Cutter<'a> {
    /// End the piece being gathered at `at` and start the next one there. Comments before a
    /// file's first key go on with it, so no line of the file is left unread. Later items of
    /// a list are read under the list's `key_line`.
    fn cut(&mut self, at: usize, line: usize, items_from: Option<usize>, key_line: &str) {
        if self.has_content && at > self.start {
            let lines = &self.text[self.start..at];
            let later_items = self.items_from.is_some_and(|from| from > 0);
            let key_line = if later_items { key_line } else { "" };
            let end = if at < self.text.len() { END } else { "" };
            let text = if key_line.is_empty() && end.is_empty() {
                Cow::Borrowed(lines)
            } else {
                Cow::Owned(format!("{key_line}{lines}{end}"))
            };
            self.pieces.push(Piece {
                text,
                first_line: self.start_line - usize::from(later_items),
                items_from: self.items_from,
            });
            self.start = at;
            self.start_line = line;
        }
        self.items_from = items_from;
        self.has_content = false;
    }
}

/// One piece read: its entries, and the origins of what it adds to the file, as the
/// file's.
struct Read {
    entries: Map<String, Value>,
    origins: Vec<(String, Location)>,
}

impl Read {
    /// `None` when the piece is not what it was cut as.
    fn of(piece: &Piece<'_>, first: bool, located: Located) -> Option<Read> {
        let Value::Object(mut entries) = located.value else {
            return None;
        };
        let end = child_pointer("", END_KEY);
        if piece.text.ends_with(END) {
            if entries.keys().next_back().map(String::as_str) != Some(END_KEY) {
                return None;
            }
            entries.shift_remove(END_KEY);
        }
        let origins = located
            .origins
            .into_iter()
            .filter(|(pointer, _)| *pointer != end);
        let origins = match piece.items_from {
            None | Some(0) => origins
                // The top level's own origin is where the file's first piece starts.
                .filter(|(pointer, _)| first || !pointer.is_empty())
                .map(|(pointer, location)| (pointer, shifted(location, piece.first_line)))
                .collect(),
            Some(from) => {
                let list = child_pointer("", entries.keys().next()?);
                origins
                    // Only the items: the top level and the list have their origins already.
                    .filter_map(|(pointer, location)| {
                        let pointer = shifted_item(&list, &pointer, from)?;
                        Some((pointer, shifted(location, piece.first_line)))
                    })
                    .collect()
            }
        };
        Some(Read { entries, origins })
    }
}

/// The pieces put back together, in file order.
#[derive(Default)]
struct Joined {
    value: Map<String, Value>,
    /// The origins of each piece, in file order.
    origins: Vec<Vec<(String, Location)>>,
    /// The key of the list the last piece's items belong to.
    list: Option<String>,
}

impl Joined {
    /// Add one piece's entries and origins; `None` when the pieces do not fit together (a
    /// key twice, or a list's later items without the list).
    fn add(&mut self, piece: &Piece<'_>, read: Read) -> Option<()> {
        self.origins.push(read.origins);
        match piece.items_from {
            None | Some(0) => {
                self.list = None;
                for (key, value) in read.entries {
                    if piece.items_from.is_some() {
                        self.list = Some(key.clone());
                    }
                    if self.value.insert(key, value).is_some() {
                        return None;
                    }
                }
            }
            Some(from) => {
                let (key, Value::Array(items)) = read.entries.into_iter().next()? else {
                    return None;
                };
                if self.list.as_ref() != Some(&key) {
                    return None;
                }
                match self.value.get_mut(&key) {
                    Some(Value::Array(all)) if all.len() == from => all.extend(items),
                    _ => return None,
                }
            }
        }
        Some(())
    }

    fn finish(self) -> Located {
        // Sorted on all cores first, the map is built from them in one pass.
        let mut origins: Vec<(String, Location)> = self.origins.into_iter().flatten().collect();
        origins.par_sort_by(|a, b| a.0.cmp(&b.0));
        Located {
            value: Value::Object(self.value),
            origins: origins.into_iter().collect(),
            indexed_lists: Default::default(),
        }
    }
}

/// A location in a piece, as a location in the file.
fn shifted(location: Location, first_line: usize) -> Location {
    match location {
        Location::File { file, line, col } => Location::File {
            file,
            line: line + first_line - 1,
            col,
        },
        other => other,
    }
}

/// `<list>/i/rest` of a piece, as `<list>/<i + from>/rest` of the file; `None` for pointers
/// that are not inside an item.
fn shifted_item(list: &str, pointer: &str, from: usize) -> Option<String> {
    let rest = pointer.strip_prefix(list)?.strip_prefix('/')?;
    let (position, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(p, t)| (p, Some(t)));
    let position: usize = position.parse().ok()?;
    let mut shifted = format!("{list}/{}", position + from);
    if let Some(tail) = tail {
        shifted.push('/');
        shifted.push_str(tail);
    }
    Some(shifted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_cut_between_items_and_later_items_read_under_its_key() {
        let items: String = (0..4000)
            .map(|i| format!("- item: {i}\n  more: x\n"))
            .collect();
        let text = format!("# c\na: 1\nlist:\n{items}z: 2\n");
        let pieces = cut(&text, PIECE_BYTES).expect("cut");
        assert!(pieces.len() > 3, "{}", pieces.len());
        assert_eq!(pieces[0].text, format!("# c\na: 1\n{END}"));
        assert_eq!((pieces[1].first_line, pieces[1].items_from), (3, Some(0)));
        assert!(pieces[1].text.starts_with("list:\n- item: 0\n"));
        let later = &pieces[2];
        assert!(
            later.text.starts_with("list:\n- item: "),
            "{}",
            &later.text[..20]
        );
        let from = later.items_from.expect("items");
        assert!(later.text.starts_with(&format!("list:\n- item: {from}\n")));
        assert_eq!(later.first_line, 3 + 2 * from);
        let last = pieces.last().unwrap();
        assert_eq!((last.text.as_ref(), last.items_from), ("z: 2\n", None));
    }

    #[test]
    fn lines_the_cut_does_not_know_refuse_it() {
        for text in [
            "- a\n",
            "\"k\": 1\n",
            "? k\n",
            "&a x: 1\n",
            "---\nk: 1\n",
            "\tk: 1\n",
        ] {
            assert!(cut(text, 1).is_none(), "{text:?}");
        }
    }
}
