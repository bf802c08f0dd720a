//! Field paths into a JSON tree, kept as a linked list on the stack.
//!
//! Both the deserializer and the round-trip comparison walk the original tree recursively.
//! Linking each level to its parent on the stack costs nothing on the happy path; a path is
//! only rendered to a string when there is something to report.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// One step from a node to its child.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seg<'v> {
    /// A key of a mapping.
    Key(&'v str),
    /// An index into a list.
    Index(usize),
}

/// A node of a path: its last step and the path of its parent (`None` for the root).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PathNode<'v, 'p> {
    seg: Option<Seg<'v>>,
    parent: Option<&'p PathNode<'v, 'p>>,
}

/// The path of the object itself.
pub(crate) const ROOT: PathNode<'static, 'static> = PathNode {
    seg: None,
    parent: None,
};

impl<'v, 'p> PathNode<'v, 'p> {
    /// The path of a child of `self`.
    pub(crate) fn child(&'p self, seg: Seg<'v>) -> PathNode<'v, 'p> {
        PathNode {
            seg: Some(seg),
            parent: Some(self),
        }
    }

    /// The steps from the root, owned so that the path can outlive the walk and be sorted.
    pub(crate) fn detach(&self) -> OwnedPath {
        let mut segs = Vec::new();
        let mut node = Some(self);
        while let Some(n) = node {
            if let Some(seg) = n.seg {
                segs.push(match seg {
                    Seg::Key(k) => OwnedSeg::Key(k.to_owned()),
                    Seg::Index(i) => OwnedSeg::Index(i),
                });
            }
            node = n.parent;
        }
        segs.reverse();
        OwnedPath(segs)
    }
}

/// One step of an [`OwnedPath`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OwnedSeg {
    Key(String),
    Index(usize),
}

/// A path detached from the tree it points into.
///
/// Ordered step by step, with list indexes compared as numbers, so that `containers[2]` sorts
/// before `containers[10]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OwnedPath(pub(crate) Vec<OwnedSeg>);

impl Ord for OwnedSeg {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (OwnedSeg::Index(a), OwnedSeg::Index(b)) => a.cmp(b),
            (OwnedSeg::Key(a), OwnedSeg::Key(b)) => a.cmp(b),
            // A node is either a mapping or a list, so mixed steps only meet when two
            // different trees are compared; any fixed order does.
            (OwnedSeg::Index(_), OwnedSeg::Key(_)) => Ordering::Less,
            (OwnedSeg::Key(_), OwnedSeg::Index(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for OwnedSeg {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OwnedPath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for OwnedPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl OwnedPath {
    /// Renders the path as `spec.containers[0].image`; keys that would make the dotted form
    /// ambiguous (such as the label key `app.kubernetes.io/name`) are written `["…"]`.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                OwnedSeg::Index(i) => {
                    // Writing into a String cannot fail.
                    let _ = write!(out, "[{i}]");
                }
                OwnedSeg::Key(k) if is_plain_key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                OwnedSeg::Key(k) => {
                    out.push_str("[\"");
                    for c in k.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push_str("\"]");
                }
            }
        }
        out
    }
}

/// Whether a key can be written after a dot without being mistaken for several steps.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '"' | '\\') || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_dots_indexes_and_bracketed_keys() {
        let a = ROOT.child(Seg::Key("metadata"));
        let b = a.child(Seg::Key("labels"));
        let c = b.child(Seg::Key("app.kubernetes.io/name"));
        assert_eq!(
            c.detach().render(),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        let d = ROOT.child(Seg::Key("spec"));
        let e = d.child(Seg::Key("containers"));
        let f = e.child(Seg::Index(3));
        let g = f.child(Seg::Key("image"));
        assert_eq!(g.detach().render(), "spec.containers[3].image");
        assert_eq!(ROOT.detach().render(), "");
        let q = ROOT.child(Seg::Key(r#"a"b"#));
        assert_eq!(q.detach().render(), r#"["a\"b"]"#);
    }

    #[test]
    fn indexes_sort_numerically() {
        let base = ROOT.child(Seg::Key("c"));
        let two = base.child(Seg::Index(2)).detach();
        let ten = base.child(Seg::Index(10)).detach();
        assert!(two < ten);
    }
}
