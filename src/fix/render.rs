//! New YAML text in a file's own style: block mappings and sequences at the file's indent
//! width and sequence style, scalars plain where go-yaml would read them back as the same
//! string, double-quoted otherwise.

use super::style::{FileStyle, SeqIndent};
use crate::yaml::{Resolved, Scalar, ScalarStyle};

/// A value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Str(String),
    Bool(bool),
    Int(i64),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    pub fn str(s: impl Into<String>) -> Y {
        Y::Str(s.into())
    }

    pub fn map<const N: usize>(entries: [(&str, Y); N]) -> Y {
        Y::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    pub fn strs(items: &[&str]) -> Y {
        Y::Seq(items.iter().map(|s| Y::str(*s)).collect())
    }

    /// The value as JSON (for fingerprints and semantic checks).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Y::Str(s) => s.clone().into(),
            Y::Bool(b) => (*b).into(),
            Y::Int(i) => (*i).into(),
            Y::Seq(items) => items.iter().map(Y::to_json).collect(),
            Y::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    fn is_block(&self) -> bool {
        matches!(self, Y::Seq(s) if !s.is_empty()) || matches!(self, Y::Map(m) if !m.is_empty())
    }
}

/// A scalar as go-yaml v3 would read it back as this exact string.
pub fn scalar(s: &str) -> String {
    if plain_is_string(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).expect("a string serialises")
    }
}

fn plain_is_string(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let plain = Scalar {
        value: s.into(),
        style: ScalarStyle::Plain,
    };
    let resolves_to_other = !matches!(plain.resolve(None), Resolved::Str(_));
    !resolves_to_other
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && !first.is_whitespace()
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.contains(['\n', '\r', '\t'])
}

fn inline(v: &Y) -> String {
    match v {
        Y::Str(s) => scalar(s),
        Y::Bool(b) => b.to_string(),
        Y::Int(i) => i.to_string(),
        Y::Seq(_) => "[]".into(),
        Y::Map(_) => "{}".into(),
    }
}

/// The lines of `key: value` entries at column `col` (no final line break; lines joined by
/// the file's line ending).
pub fn entries(entries: &[(String, Y)], col: usize, style: &FileStyle) -> String {
    let mut lines = Vec::new();
    for (k, v) in entries {
        entry(&mut lines, k, v, col, style);
    }
    lines.join(style.line_ending)
}

/// The lines of sequence items at column `col` (the column of the `-`).
pub fn items(items: &[Y], col: usize, style: &FileStyle) -> String {
    let mut lines = Vec::new();
    for v in items {
        item(&mut lines, v, col, style);
    }
    lines.join(style.line_ending)
}

fn entry(out: &mut Vec<String>, key: &str, v: &Y, col: usize, style: &FileStyle) {
    let pad = " ".repeat(col);
    let key = scalar(key);
    if !v.is_block() {
        out.push(format!("{pad}{key}: {}", inline(v)));
        return;
    }
    out.push(format!("{pad}{key}:"));
    match v {
        Y::Map(m) => {
            for (k, v) in m {
                entry(out, k, v, col + style.indent, style);
            }
        }
        Y::Seq(s) => {
            let dash = match style.seq_indent {
                SeqIndent::Indented => col + style.indent,
                SeqIndent::Flush => col,
            };
            for v in s {
                item(out, v, dash, style);
            }
        }
        _ => unreachable!("block values are maps and sequences"),
    }
}

fn item(out: &mut Vec<String>, v: &Y, col: usize, style: &FileStyle) {
    let pad = " ".repeat(col);
    match v {
        Y::Map(m) if !m.is_empty() => {
            // The first entry shares the line of the dash; the rest align with it.
            let inner = col + 2;
            let mut lines = Vec::new();
            for (k, v) in m {
                entry(&mut lines, k, v, inner, style);
            }
            let first = lines.remove(0);
            out.push(format!("{pad}- {}", &first[inner..]));
            out.extend(lines);
        }
        Y::Seq(s) if !s.is_empty() => {
            out.push(format!("{pad}-"));
            for v in s {
                item(out, v, col + style.indent, style);
            }
        }
        _ => out.push(format!("{pad}- {}", inline(v))),
    }
}

/// A whole document: optional `---` and header comment lines, then the entries at column 0,
/// ending with a line break.
pub fn document(header: &[String], body: &[(String, Y)], style: &FileStyle) -> String {
    let nl = style.line_ending;
    let mut out = String::new();
    if style.explicit_start {
        out.push_str("---");
        out.push_str(nl);
    }
    for h in header {
        out.push_str(h);
        out.push_str(nl);
    }
    out.push_str(&entries(body, 0, style));
    out.push_str(nl);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn style(indent: usize, seq: SeqIndent) -> FileStyle {
        FileStyle {
            indent,
            seq_indent: seq,
            ..FileStyle::default()
        }
    }

    #[test]
    fn quotes_only_what_would_not_read_back() {
        for s in ["http/1.1", "h2", "a b", "x-y"] {
            assert_eq!(scalar(s), s);
        }
        for s in [
            "yes-no", "true", "1.5", "~", "", "a: b", "*x", "- x", "0x10", "null",
        ] {
            let written = scalar(s);
            let text = format!("k: {written}\n");
            let docs = parse_stream(&text, &Limits::default()).unwrap();
            let v = docs[0].root.as_ref().unwrap().get("k").unwrap();
            assert_eq!(v.as_str(), Some(s), "{s} written as {written}");
        }
    }

    #[test]
    fn nested_blocks_follow_the_style() {
        let v = vec![(
            "spec".to_owned(),
            Y::map([
                (
                    "targetRefs",
                    Y::Seq(vec![Y::map([
                        ("kind", Y::str("Gateway")),
                        ("name", Y::str("gw")),
                    ])]),
                ),
                (
                    "tls",
                    Y::map([("alpnProtocols", Y::strs(&["http/1.1", "h2"]))]),
                ),
            ]),
        )];
        assert_eq!(
            entries(&v, 0, &style(2, SeqIndent::Indented)),
            "spec:\n  targetRefs:\n    - kind: Gateway\n      name: gw\n  tls:\n    alpnProtocols:\n      - http/1.1\n      - h2"
        );
        assert_eq!(
            entries(&v, 0, &style(4, SeqIndent::Flush)),
            "spec:\n    targetRefs:\n    - kind: Gateway\n      name: gw\n    tls:\n        alpnProtocols:\n        - http/1.1\n        - h2"
        );
    }
}
