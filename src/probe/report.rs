//! The probe's reports: lines for people, JSON for machines (`schema_version: 1`, documented in
//! docs/verify.md) and a Markdown table for a pull request comment.

use serde_json::{Value, json};

use super::{Handshake, HostReport, Outcome, exit_code};

/// A host that was not probed, and why.
pub type Skipped = (String, String);

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Works => "works",
        Outcome::Problem => "PROBLEM",
        Outcome::Unchecked => "NOT CHECKED",
    }
}

fn protocol(p: Option<&str>) -> &str {
    p.unwrap_or("none (HTTP/1.1)")
}

fn handshake(h: &Handshake) -> String {
    let mut s = h.status.to_string();
    if let Some(reason) = http::StatusCode::from_u16(h.status)
        .ok()
        .and_then(|c| c.canonical_reason())
    {
        s = format!("{s} {reason}");
    }
    for (name, value) in [
        ("server", &h.server),
        ("location", &h.location),
        ("body", &h.body),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(", {name}: {}", v.replace(['\r', '\n'], " ")));
        }
    }
    s
}

/// What was seen on one host, as (what, answer) pairs.
pub fn facts(r: &HostReport) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(a) = r.address {
        out.push(("address", a.to_string()));
    }
    if r.address.is_some() {
        out.push((
            "ALPN offering h2, http/1.1",
            protocol(r.alpn.browser.as_deref()).to_owned(),
        ));
    }
    if let Some(h2) = &r.http2 {
        out.push((
            "HTTP/2 extended CONNECT (RFC 8441)",
            if h2.extended_connect {
                "offered"
            } else {
                "not offered"
            }
            .to_owned(),
        ));
        if let Some(h) = &h2.websocket {
            out.push(("WebSocket over HTTP/2", handshake(h)));
        }
        if let Some(f) = &h2.websocket_failure {
            out.push(("WebSocket over HTTP/2", f.message.clone()));
        }
    }
    if r.http1_websocket.is_some() || r.alpn.http1.is_some() {
        out.push((
            "ALPN offering http/1.1",
            protocol(r.alpn.http1.as_deref()).to_owned(),
        ));
    }
    if let Some(h) = &r.http1_websocket {
        out.push(("WebSocket over HTTP/1.1", handshake(h)));
    }
    out
}

/// Counts of works / problem / not checked.
fn counts(reports: &[HostReport]) -> (usize, usize, usize) {
    let n = |o: Outcome| reports.iter().filter(|r| r.verdict.outcome == o).count();
    (
        n(Outcome::Works),
        n(Outcome::Problem),
        n(Outcome::Unchecked),
    )
}

/// One block per host, then the hosts not probed and a summary line.
pub fn human(reports: &[HostReport], skipped: &[Skipped]) -> String {
    let mut s = String::new();
    for r in reports {
        s.push_str(&format!(
            "{}: {}: {}\n",
            r.target.display(),
            outcome_word(r.verdict.outcome),
            r.verdict.message
        ));
        for (what, answer) in facts(r) {
            s.push_str(&format!("  {what}: {answer}\n"));
        }
        for n in &r.verdict.notes {
            s.push_str(&format!("  also: {n}\n"));
        }
        s.push('\n');
    }
    for (host, why) in skipped {
        s.push_str(&format!("{host}: not probed: {why}\n"));
    }
    if !skipped.is_empty() {
        s.push('\n');
    }
    let (works, problems, unchecked) = counts(reports);
    s.push_str(&format!(
        "{} host(s): {works} work, {problems} with a problem, {unchecked} not checked\n",
        reports.len()
    ));
    s
}

/// `{"schema_version": 1, "exit_code", "summary", "hosts": [...], "skipped": [...]}`.
pub fn json(reports: &[HostReport], skipped: &[Skipped]) -> Value {
    let (works, problems, unchecked) = counts(reports);
    let hosts: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "host": r.target.host,
                "port": r.target.port,
                "path": r.target.path,
                "address": r.address.map(|a| a.to_string()),
                "outcome": r.verdict.outcome,
                "verdict": r.verdict.code,
                "message": r.verdict.message,
                "notes": r.verdict.notes,
                "alpn": {
                    "offered_h2_http1": r.alpn.browser,
                    "offered_http1": r.alpn.http1,
                },
                "http2": r.http2,
                "http1_websocket": r.http1_websocket,
                "failure": r.failure,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "exit_code": exit_code(reports),
        "summary": {"works": works, "problems": problems, "unchecked": unchecked},
        "hosts": hosts,
        "skipped": skipped
            .iter()
            .map(|(host, reason)| json!({"host": host, "reason": reason}))
            .collect::<Vec<_>>(),
    })
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace(['\r', '\n'], " ").replace('|', "\\|")
}

/// A Markdown table: one row per probed host and one per host not dialled.
pub fn markdown(reports: &[HostReport], not_dialled: &[Skipped]) -> String {
    let mut s = String::from("| host | result | verdict | seen |\n|---|---|---|---|\n");
    for r in reports {
        let result = match r.verdict.outcome {
            Outcome::Works => "✅ works",
            Outcome::Problem => "❌ problem",
            Outcome::Unchecked => "⚠️ not checked",
        };
        let mut verdict = cell(&r.verdict.message);
        for n in &r.verdict.notes {
            verdict.push_str(&format!("<br>also: {}", cell(n)));
        }
        let seen = facts(r)
            .iter()
            .map(|(what, answer)| format!("{what}: {}", cell(answer)))
            .collect::<Vec<_>>()
            .join("<br>");
        s.push_str(&format!(
            "| `{}` | {result} | {verdict} | {seen} |\n",
            cell(&r.target.display())
        ));
    }
    for (host, why) in not_dialled {
        s.push_str(&format!(
            "| `{}` | not dialled | {} | |\n",
            cell(host),
            cell(why)
        ));
    }
    s
}
