//! A file's own style, so that new text looks like the user wrote it.

use crate::load::SourceFile;
use crate::yaml::{Node, Value};

/// How block sequences sit under their key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqIndent {
    /// `key:\n  - a`
    Indented,
    /// `key:\n- a`
    Flush,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStyle {
    /// Spaces per nesting level.
    pub indent: usize,
    pub seq_indent: SeqIndent,
    pub line_ending: &'static str,
    /// Documents start with `---`.
    pub explicit_start: bool,
    pub final_newline: bool,
}

impl Default for FileStyle {
    fn default() -> Self {
        FileStyle {
            indent: 2,
            seq_indent: SeqIndent::Indented,
            line_ending: "\n",
            explicit_start: true,
            final_newline: true,
        }
    }
}

/// Votes over every block mapping of the file; ties and empty files keep the defaults.
pub fn detect(file: &SourceFile) -> FileStyle {
    let text = file.text();
    let mut indents = [0usize; 9];
    let (mut flush, mut indented) = (0, 0);
    for doc in &file.documents {
        if let Some(root) = doc.root_node() {
            root.walk(&mut |n| {
                let Value::Map(m) = &n.value else { return };
                if m.flow {
                    return;
                }
                for (k, v) in &m.entries {
                    let kc = file.line_col(k.span.start).column as usize;
                    let vc = file.line_col(v.span.start).column as usize;
                    let on_new_line =
                        file.line_col(v.span.start).line > file.line_col(k.span.end).line;
                    match &v.value {
                        Value::Map(vm) if !vm.flow && on_new_line && vc > kc => {
                            indents[(vc - kc).min(8)] += 1;
                        }
                        Value::Seq(s) if !s.flow && on_new_line => {
                            if vc == kc {
                                flush += 1;
                            } else if vc > kc {
                                indented += 1;
                            }
                        }
                        _ => {}
                    }
                }
            });
        }
    }
    let defaults = FileStyle::default();
    let indent = (1..9)
        .max_by_key(|&i| (indents[i], i == 2))
        .filter(|&i| indents[i] > 0)
        .unwrap_or(defaults.indent);
    FileStyle {
        indent,
        seq_indent: if flush > indented {
            SeqIndent::Flush
        } else {
            SeqIndent::Indented
        },
        line_ending: if text.contains("\r\n") { "\r\n" } else { "\n" },
        explicit_start: file.documents.first().is_none_or(|d| d.marker.is_some()),
        final_newline: text.is_empty() || text.ends_with('\n'),
    }
}

/// The column (0-based) at which a node's text starts on its line.
pub fn column_of(file: &SourceFile, node: &Node) -> usize {
    file.line_col(node.span.start).column as usize - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    fn style(text: &str) -> FileStyle {
        detect(&SourceFile::parse(0, "t.yaml", text.into(), &Limits::default()).unwrap())
    }

    #[test]
    fn detects_indent_and_sequences() {
        let s = style("---\na:\n    b:\n        c: 1\n    l:\n    - x\n");
        assert_eq!(s.indent, 4);
        assert_eq!(s.seq_indent, SeqIndent::Flush);
        assert!(s.explicit_start);
        let s = style("a:\n  l:\n    - x\n  m:\n    k: v\n");
        assert_eq!((s.indent, s.seq_indent), (2, SeqIndent::Indented));
        assert!(!s.explicit_start);
        assert_eq!(style("a:\r\n  b: 1\r\n").line_ending, "\r\n");
    }
}
