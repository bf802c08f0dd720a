//! Line diffs of texts, as `diff -u` prints them: shared by `diff` and `check`.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

/// A unified diff (3 lines of context) of two texts, coloured if asked.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string();
    if color { colorize(&text) } else { text }
}

/// ANSI colours for a plain unified diff: headers bold, hunks cyan, additions green,
/// removals red.
pub fn colorize(text: &str) -> String {
    let bold = Style::new().bold();
    let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let style = if body.starts_with("+++") || body.starts_with("---") {
            bold
        } else if body.starts_with("@@") {
            cyan
        } else if body.starts_with('+') {
            green
        } else if body.starts_with('-') {
            red
        } else {
            Style::new()
        };
        let _ = write!(out, "{style}{body}{style:#}{newline}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_when_asked() {
        assert!(!unified("a\n", "b\n", "x", "y", false).contains('\u{1b}'));
        assert!(unified("a\n", "b\n", "x", "y", true).contains('\u{1b}'));
    }
}
