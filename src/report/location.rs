//! Spans to path, line and column for reports.

use crate::load::Loaded;
use crate::yaml::Span;

/// A span located in its file: 1-based lines and columns (code points), byte offsets.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub start_byte: u32,
    pub end_byte: u32,
}

pub fn locate(loaded: &Loaded, span: Span) -> Option<Located> {
    let file = loaded.by_id(span.file)?;
    let start = file.line_col(span.start);
    let end = file.line_col(span.end);
    Some(Located {
        path: file.path.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
        start_byte: span.start,
        end_byte: span.end,
    })
}

/// `path:line:col` of a span (`?` when it is in no loaded file).
pub fn describe(loaded: &Loaded, span: Span) -> String {
    locate(loaded, span).map_or_else(
        || "?".to_owned(),
        |l| format!("{}:{}:{}", l.path, l.line, l.column),
    )
}
