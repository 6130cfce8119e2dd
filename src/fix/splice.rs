//! Byte splices: the only way the fixer changes a user's file. Bytes outside the edited
//! ranges never change, and the result must parse again.

use crate::yaml::{Limits, Node, Seq, parse_stream};

/// Replace bytes `start..end` of one file's text with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Edit {
    pub fn replace(start: usize, end: usize, text: impl Into<String>) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit::replace(at, at, text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    #[error("edits overlap at byte {0}")]
    Overlap(usize),
    #[error("edit {start}..{end} is outside the text or splits a character")]
    OutOfRange { start: usize, end: usize },
    #[error("the edited text no longer parses: {0}")]
    Reparse(String),
}

/// Apply non-overlapping edits (in any order) to `text`.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, SpliceError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for e in sorted {
        if e.start > e.end
            || e.end > text.len()
            || !text.is_char_boundary(e.start)
            || !text.is_char_boundary(e.end)
        {
            return Err(SpliceError::OutOfRange {
                start: e.start,
                end: e.end,
            });
        }
        if e.start < pos {
            return Err(SpliceError::Overlap(e.start));
        }
        out.push_str(&text[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// Apply edits and check the result parses strictly.
pub fn apply_checked(text: &str, edits: &[Edit]) -> Result<String, SpliceError> {
    let out = apply(text, edits)?;
    parse_stream(&out, &Limits::default()).map_err(|e| SpliceError::Reparse(e.to_string()))?;
    Ok(out)
}

/// The byte range of the whole line(s) holding `start..end`, without the final line break.
pub fn line_range(text: &str, start: usize, end: usize) -> (usize, usize) {
    let ls = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let le = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let le = if le > ls && text.as_bytes()[le - 1] == b'\r' {
        le - 1
    } else {
        le
    };
    (ls, le)
}

/// Edits that put the items of a sequence in `order` (indices into the current items).
///
/// A block sequence whose items each sit on one line has its lines swapped whole, comments
/// included (the user's own two-line ALPN swap). A flow sequence has its item texts swapped
/// in place, leaving commas, spaces and comments where they are.
pub fn reorder(text: &str, seq: &Seq, order: &[usize]) -> Option<Vec<Edit>> {
    if order.len() != seq.items.len() {
        return None;
    }
    let pieces: Vec<(usize, usize)> = if seq.flow {
        seq.items
            .iter()
            .map(|n| (n.span.start as usize, n.span.end as usize))
            .collect()
    } else {
        let mut lines = Vec::new();
        for n in &seq.items {
            let dash = dash_of(text, n)?;
            let (ls, le) = line_range(text, dash, n.span.end as usize);
            if text[ls..le].contains('\n') {
                return None; // a multi-line item: not a line swap
            }
            lines.push((ls, le));
        }
        lines
    };
    if pieces.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    Some(
        order
            .iter()
            .enumerate()
            .filter(|(slot, from)| *slot != **from)
            .map(|(slot, &from)| {
                let (s, e) = pieces[slot];
                let (fs, fe) = pieces[from];
                Edit::replace(s, e, &text[fs..fe])
            })
            .collect(),
    )
}

/// The offset of the `-` that introduces a block sequence item.
pub(crate) fn dash_of(text: &str, item: &Node) -> Option<usize> {
    let before = &text[..item.span.start as usize];
    let i = before.trim_end_matches([' ', '\t']).len();
    (i > 0 && before.as_bytes()[i - 1] == b'-').then_some(i - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_at<'a>(doc: &'a Node, key: &str) -> &'a Seq {
        doc.get(key).unwrap().as_seq().unwrap()
    }

    #[test]
    fn block_lines_swap_with_their_comments() {
        let text =
            "tls:\n  alpn:\n    # browsers\n    - h2 # first\n    - http/1.1\n  min: '1.2'\n";
        let docs = parse_stream(text, &Limits::default()).unwrap();
        let tls = docs[0].root.as_ref().unwrap().get("tls").unwrap();
        let edits = reorder(text, seq_at(tls, "alpn"), &[1, 0]).unwrap();
        let out = apply_checked(text, &edits).unwrap();
        assert_eq!(
            out,
            "tls:\n  alpn:\n    # browsers\n    - http/1.1\n    - h2 # first\n  min: '1.2'\n"
        );
    }

    #[test]
    fn flow_items_swap_in_place() {
        let text = "alpnProtocols: [h2, \"http/1.1\"] # keep\n";
        let docs = parse_stream(text, &Limits::default()).unwrap();
        let root = docs[0].root.as_ref().unwrap();
        let edits = reorder(text, seq_at(root, "alpnProtocols"), &[1, 0]).unwrap();
        assert_eq!(
            apply_checked(text, &edits).unwrap(),
            "alpnProtocols: [\"http/1.1\", h2] # keep\n"
        );
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let err = apply(
            "abcdef",
            &[Edit::replace(1, 3, "x"), Edit::replace(2, 4, "y")],
        );
        assert_eq!(err, Err(SpliceError::Overlap(2)));
        assert!(matches!(
            apply_checked("a: 1\n", &[Edit::insert(5, "b: [\n")]),
            Err(SpliceError::Reparse(_))
        ));
    }
}
