//! YAML held in a string scalar (an inline `patch: |` of a kustomization or a Flux
//! Kustomization), parsed with spans that point at its text inside the file that holds it.
//!
//! A literal block maps line by line (each line of the value is its file line without the
//! block's indentation), which gives exact spans; where a line of the value differs from the
//! file (the string was substituted after parsing), offsets on that line are clamped to it.
//! Other styles map a single line the same way, or else every node gets the scalar's span.

use crate::load::Loaded;
use crate::yaml::{Limits, Node, ScalarStyle, Span, Value, YamlError, parse_stream};

/// The documents of the string in `scalar` (empty documents left out).
pub fn parse_embedded(loaded: &Loaded, scalar: &Node) -> Result<Vec<Node>, YamlError> {
    let Some(s) = scalar.as_scalar() else {
        return Ok(Vec::new());
    };
    let value = &*s.value;
    let docs = parse_stream(value, &Limits::default())?;
    let mapper = Mapper::new(loaded, scalar, value);
    Ok(docs
        .into_iter()
        .filter_map(|d| d.root)
        .map(|mut root| {
            remap(&mut root, &mapper);
            root
        })
        .collect())
}

struct Line {
    /// Offset of the line in the value.
    value_start: usize,
    /// Offset of the same text in the file, and the end of that file line.
    file_start: usize,
    file_end: usize,
}

enum Mapper {
    Lines { file: u32, lines: Vec<Line> },
    Whole(Span),
}

impl Mapper {
    fn new(loaded: &Loaded, scalar: &Node, value: &str) -> Mapper {
        let whole = Mapper::Whole(scalar.span);
        let Some(file) = loaded.by_id(scalar.span.file) else {
            return whole;
        };
        let text = scalar.span.slice(file.text());
        if text.is_empty() {
            return whole;
        }
        let start = scalar.span.start as usize;
        let style = scalar.as_scalar().map(|s| s.style);
        let lines = match style {
            Some(ScalarStyle::Literal) => literal_lines(text, start, value),
            Some(ScalarStyle::Plain) if !text.contains('\n') => single_line(text, start, value, 0),
            Some(ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) if !text.contains('\n') => {
                single_line(text, start, value, 1)
            }
            _ => None,
        };
        match lines {
            Some(lines) if !lines.is_empty() => Mapper::Lines {
                file: scalar.span.file,
                lines,
            },
            _ => whole,
        }
    }

    fn map(&self, span: Span) -> Span {
        match self {
            Mapper::Whole(s) => *s,
            Mapper::Lines { file, lines } => {
                let start = map_offset(lines, span.start as usize);
                let end = map_offset(lines, span.end as usize).max(start);
                Span::new(*file, start, end)
            }
        }
    }
}

fn map_offset(lines: &[Line], offset: usize) -> usize {
    let i = lines
        .partition_point(|l| l.value_start <= offset)
        .saturating_sub(1);
    let line = &lines[i];
    (line.file_start + offset.saturating_sub(line.value_start)).min(line.file_end)
}

/// A one-line scalar whose text (after `quote` bytes) is the value itself.
fn single_line(text: &str, start: usize, value: &str, quote: usize) -> Option<Vec<Line>> {
    let inner = text.get(quote..text.len().saturating_sub(quote))?;
    (inner == value).then(|| {
        vec![Line {
            value_start: 0,
            file_start: start + quote,
            file_end: start + quote + inner.len(),
        }]
    })
}

/// Line mapping of a literal block scalar whose text (from its `|` header) starts at `start`.
fn literal_lines(text: &str, start: usize, value: &str) -> Option<Vec<Line>> {
    let header_end = text.find('\n')? + 1;
    // File lines of the content, with their offsets.
    let mut file_lines: Vec<(usize, &str)> = Vec::new();
    let mut at = header_end;
    for l in text[header_end..].split('\n') {
        file_lines.push((start + at, l.strip_suffix('\r').unwrap_or(l)));
        at += l.len() + 1;
    }
    let indent = file_lines
        .iter()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.len() - l.trim_start_matches(' ').len())?;
    // With an indentation indicator the value itself may start with spaces.
    let value_indent = value
        .split('\n')
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
    let indent = indent.saturating_sub(value_indent);
    let mut lines = Vec::new();
    let mut value_start = 0;
    for (i, vline) in value.split('\n').enumerate() {
        let (file_start, file_end) = match file_lines.get(i) {
            Some((off, l)) => {
                let content = l.get(indent..).unwrap_or("");
                (
                    off + indent.min(l.len()),
                    off + indent.min(l.len()) + content.len(),
                )
            }
            None => {
                let end = start + text.len();
                (end, end)
            }
        };
        lines.push(Line {
            value_start,
            file_start,
            file_end,
        });
        value_start += vline.len() + 1;
    }
    Some(lines)
}

fn remap(node: &mut Node, mapper: &Mapper) {
    node.span = mapper.map(node.span);
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(s) => s.items.iter_mut().for_each(|n| remap(n, mapper)),
        Value::Map(m) => m.entries.iter_mut().for_each(|(k, v)| {
            remap(k, mapper);
            remap(v, mapper);
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::SourceFile;

    fn loaded(text: &str) -> Loaded {
        Loaded {
            files: vec![
                SourceFile::parse(0, "ks.yaml", text.to_owned(), &Limits::default()).unwrap(),
            ],
            skipped: Vec::new(),
        }
    }

    #[test]
    fn literal_block_spans_are_exact() {
        let text = "patches:\n  - patch: |-\n      kind: Gateway\n      spec:\n        listeners:\n          - name: https\n";
        let l = loaded(text);
        let root = l.files[0].documents[0].root_node().unwrap();
        let scalar = root.get("patches").unwrap().as_seq().unwrap().items[0]
            .get("patch")
            .unwrap();
        let docs = parse_embedded(&l, scalar).unwrap();
        let name = docs[0]
            .path(&["spec", "listeners"])
            .unwrap()
            .as_seq()
            .unwrap()
            .items[0]
            .get("name")
            .unwrap();
        assert_eq!(name.span.slice(text), "https");
        let kind = docs[0].get("kind").unwrap();
        assert_eq!(kind.span.slice(text), "Gateway");
    }

    #[test]
    fn quoted_single_line() {
        let text = "patch: '[{\"op\": \"remove\", \"path\": \"/spec/x\"}]'\n";
        let l = loaded(text);
        let root = l.files[0].documents[0].root_node().unwrap();
        let scalar = root.get("patch").unwrap();
        let docs = parse_embedded(&l, scalar).unwrap();
        let path = docs[0].as_seq().unwrap().items[0].get("path").unwrap();
        assert_eq!(path.span.slice(text), "\"/spec/x\"");
    }
}
