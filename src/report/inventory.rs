//! `ws-fix inventory`: what the loader made of every file.

use std::fmt::Write;

use crate::load::Loaded;

/// The JSON form (`schema_version` 1).
pub fn json(loaded: &Loaded) -> serde_json::Value {
    let files: Vec<_> = loaded
        .files
        .iter()
        .map(|f| {
            let docs: Vec<_> = f
                .documents
                .iter()
                .map(|d| {
                    let start = f.line_col(d.span.start);
                    serde_json::json!({
                        "apiVersion": d.api_version(),
                        "kind": d.kind(),
                        "name": d.name(),
                        "namespace": d.namespace(),
                        "line": start.line,
                        "start_byte": d.span.start,
                        "end_byte": d.span.end,
                    })
                })
                .collect();
            serde_json::json!({"path": f.path, "documents": docs})
        })
        .collect();
    serde_json::json!({
        "schema_version": 1,
        "counts": loaded.counts(),
        "parsed": files,
        "skipped": loaded.skipped,
    })
}

/// The human form: problems (and with `all`, every file), then a summary line.
pub fn human(loaded: &Loaded, all: bool) -> String {
    let mut out = String::new();
    if all {
        for f in &loaded.files {
            let kinds: Vec<&str> = f.documents.iter().filter_map(|d| d.kind()).collect();
            let _ = writeln!(
                out,
                "parsed   {}  ({} document{}{}{})",
                f.path,
                f.documents.len(),
                if f.documents.len() == 1 { "" } else { "s" },
                if kinds.is_empty() { "" } else { ": " },
                kinds.join(", ")
            );
        }
    }
    for s in &loaded.skipped {
        if all || s.reason.is_problem() {
            let _ = writeln!(out, "skipped  {}: {}", s.path, s.reason);
        }
    }
    let documents: usize = loaded.files.iter().map(|f| f.documents.len()).sum();
    let counts = loaded.counts();
    let skipped: Vec<String> = counts
        .iter()
        .filter(|(k, _)| **k != "parsed")
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        out,
        "{} files parsed ({} documents), {} skipped{}",
        loaded.files.len(),
        documents,
        loaded.skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(": {}", skipped.join(", "))
        }
    );
    out
}
