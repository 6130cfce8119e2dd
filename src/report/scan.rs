//! `ws-fix scan` output for people (grouped by file) and as JSON (`schema_version` 1).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::location::{Located, locate};
use crate::catalogue::{Catalogue, Severity};
use crate::findings::Finding;
use crate::load::Loaded;

/// What the scan could not look at, for the summary line.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub files_parsed: usize,
    pub files_skipped: usize,
    pub files_not_analysed: usize,
    pub routes_not_analysed: usize,
    pub entry_points: usize,
}

/// Terminal styling; all empty when colour is off.
struct Style {
    bold: &'static str,
    dim: &'static str,
    reset: &'static str,
}

impl Style {
    fn new(colour: bool) -> Style {
        if colour {
            Style {
                bold: "\x1b[1m",
                dim: "\x1b[2m",
                reset: "\x1b[0m",
            }
        } else {
            Style {
                bold: "",
                dim: "",
                reset: "",
            }
        }
    }

    fn severity(&self, s: Severity) -> &'static str {
        match (self.reset.is_empty(), s) {
            (true, _) => "",
            (false, Severity::Error) => "\x1b[1;31m",
            (false, Severity::Warning) => "\x1b[1;33m",
            (false, Severity::Notice) => "\x1b[1;36m",
        }
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

/// Findings grouped by file, `path:line:col`, then a summary line.
pub fn human(
    findings: &[Finding],
    loaded: &Loaded,
    catalogue: &Catalogue,
    coverage: &Coverage,
    colour: bool,
) -> String {
    let st = Style::new(colour);
    let mut by_file: BTreeMap<String, Vec<(&Finding, Located)>> = BTreeMap::new();
    for f in findings {
        if let Some(at) = locate(loaded, f.location) {
            by_file.entry(at.path.clone()).or_default().push((f, at));
        }
    }
    let mut out = String::new();
    for (path, mut items) in by_file {
        items.sort_by_key(|(f, at)| (at.line, at.column, f.rule));
        let _ = writeln!(out, "{}{path}{}", st.bold, st.reset);
        for (f, at) in items {
            let _ = writeln!(
                out,
                "  {path}:{}:{}  {}{}{}  {}  {}",
                at.line,
                at.column,
                st.severity(f.severity),
                severity_word(f.severity),
                st.reset,
                f.rule,
                f.message
            );
            if let Some(reason) = &f.ignored {
                let _ = writeln!(out, "      {}ignored: {reason}{}", st.dim, st.reset);
                continue;
            }
            for r in &f.related {
                let place = r
                    .span
                    .and_then(|s| locate(loaded, s))
                    .map(|l| format!(" ({}:{}:{})", l.path, l.line, l.column))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "      {}affects: {}{place}{}",
                    st.dim, r.message, st.reset
                );
            }
            let _ = writeln!(
                out,
                "      {}Envoy Gateway {} ({}). {}{}",
                st.dim,
                f.version.version,
                f.version.source,
                catalogue.rule(f.rule).explanation.trim(),
                st.reset
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary(findings, coverage));
    out
}

fn summary(findings: &[Finding], coverage: &Coverage) -> String {
    let count = |s: Severity| {
        findings
            .iter()
            .filter(|f| f.ignored.is_none() && f.severity == s)
            .count()
    };
    let ignored = findings.iter().filter(|f| f.ignored.is_some()).count();
    format!(
        "{} error(s), {} warning(s), {} notice(s){}; {} files / {} routes not analysed",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Notice),
        if ignored > 0 {
            format!(", {ignored} ignored")
        } else {
            String::new()
        },
        coverage.files_not_analysed,
        coverage.routes_not_analysed
    )
}

/// One finding as JSON (also used by `explain --rule`).
pub(crate) fn finding_json(
    f: &Finding,
    loaded: &Loaded,
    catalogue: &Catalogue,
) -> serde_json::Value {
    let rule = catalogue.rule(f.rule);
    serde_json::json!({
        "rule": f.rule,
        "severity": severity_word(f.severity),
        "cause": f.cause.map(|c| c.as_str()),
        "title": rule.title,
        "message": f.message,
        "explanation": rule.explanation.trim(),
        "docs": rule.docs,
        "fixes": rule.fixes,
        "location": locate(loaded, f.location),
        "related": f.related.iter().map(|r| serde_json::json!({
            "message": r.message,
            "location": r.span.and_then(|s| locate(loaded, s)),
        })).collect::<Vec<_>>(),
        "envoy_gateway": f.version,
        "entry_points": f.entry_points,
        "ignored": f.ignored,
    })
}

/// The JSON form, documented in `docs/output.md`.
pub fn json(
    findings: &[Finding],
    loaded: &Loaded,
    catalogue: &Catalogue,
    coverage: &Coverage,
) -> serde_json::Value {
    let items: Vec<_> = findings
        .iter()
        .map(|f| finding_json(f, loaded, catalogue))
        .collect();
    serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "ws-fix", "version": env!("CARGO_PKG_VERSION")},
        "findings": items,
        "summary": {
            "errors": findings.iter().filter(|f| f.ignored.is_none() && f.severity == Severity::Error).count(),
            "warnings": findings.iter().filter(|f| f.ignored.is_none() && f.severity == Severity::Warning).count(),
            "notices": findings.iter().filter(|f| f.ignored.is_none() && f.severity == Severity::Notice).count(),
            "ignored": findings.iter().filter(|f| f.ignored.is_some()).count(),
            "coverage": coverage,
        },
    })
}
