//! One verdict per host from what the probe saw: the worst finding heads it, the others become
//! notes. "Unchecked" means a step got no usable answer (DNS, TCP, TLS, a timeout).

use serde::Serialize;

use super::{FailureKind, Handshake, HostReport, Stage};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The WebSocket opens the way browsers open it.
    Works,
    /// The host answered and something breaks or risks breaking WebSockets.
    Problem,
    /// The host could not be checked.
    #[default]
    Unchecked,
}

/// The verdict on one host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// A stable id (`works`, `h2-without-rfc8441`, `upgrade-rejected`, `no-endpoint`, ...).
    pub code: &'static str,
    /// One sentence.
    pub message: String,
    /// Further findings on the same host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The sentence for an h2-first listener without RFC 8441.
pub const H2_WITHOUT_RFC8441: &str = "ALPN prefers h2 and the server does not offer RFC 8441: browsers must open a separate HTTP/1.1 connection for the WebSocket; Chrome and Safari do, some clients fail";

fn verdict(outcome: Outcome, code: &'static str, message: impl Into<String>) -> Verdict {
    Verdict {
        outcome,
        code,
        message: message.into(),
        notes: Vec::new(),
    }
}

pub fn judge(report: &HostReport) -> Verdict {
    if let Some(f) = &report.failure {
        let code = match (f.kind, f.stage) {
            (FailureKind::Timeout, _) => "no-answer",
            (_, Stage::Resolve | Stage::Connect) => "unreachable",
            (_, Stage::Tls) => "tls-error",
            _ => "protocol-error",
        };
        let message = match f.kind {
            FailureKind::Timeout => f.message.clone(),
            FailureKind::Error => format!("{} failed: {}", f.stage.describe(), f.message),
        };
        return verdict(Outcome::Unchecked, code, message);
    }
    let mut found: Vec<Verdict> = Vec::new();
    if let Some(h) = &report.http1_websocket
        && h.status != 101
    {
        found.push(refused(h));
    }
    let h2_first = report.alpn.browser.as_deref() == Some("h2");
    let mut over_h2 = false;
    if let Some(h2) = &report.http2 {
        match (&h2.websocket, &h2.websocket_failure) {
            (Some(h), _) if h.status == 200 => over_h2 = true,
            (Some(h), _) => found.push(verdict(
                Outcome::Problem,
                "h2-websocket-refused",
                format!(
                    "the server offers RFC 8441 but refuses the WebSocket over HTTP/2 ({}): browsers that use it fail",
                    h.status
                ),
            )),
            (None, Some(f)) if f.kind == FailureKind::Timeout => found.push(verdict(
                Outcome::Unchecked,
                "no-answer",
                f.message.clone(),
            )),
            (None, Some(f)) => found.push(verdict(
                Outcome::Problem,
                "h2-websocket-refused",
                format!(
                    "the server offers RFC 8441 but the WebSocket over HTTP/2 fails ({}): browsers that use it fail",
                    f.message
                ),
            )),
            (None, None) => {}
        }
        if h2_first && !h2.extended_connect {
            found.push(verdict(
                Outcome::Problem,
                "h2-without-rfc8441",
                H2_WITHOUT_RFC8441,
            ));
        }
    }
    // The worst first: a problem before a host that could not be fully checked.
    found.sort_by_key(|v| v.outcome != Outcome::Problem);
    let mut found = found.into_iter();
    match found.next() {
        Some(mut head) => {
            head.notes = found.map(|v| v.message).collect();
            head
        }
        None if over_h2 => verdict(
            Outcome::Works,
            "works",
            "WebSocket works over HTTP/2 (RFC 8441) and HTTP/1.1",
        ),
        None => verdict(Outcome::Works, "works", "WebSocket works over HTTP/1.1"),
    }
}

/// A WebSocket handshake over HTTP/1.1 answered with something other than 101.
fn refused(h: &Handshake) -> Verdict {
    let status = h.status;
    let envoy_detail = h
        .body
        .as_deref()
        .is_some_and(|b| b.contains("upgrade_failed"));
    match status {
        403 if envoy_detail => verdict(
            Outcome::Problem,
            "upgrade-rejected",
            "upgrade rejected by the proxy (403)",
        ),
        403 => verdict(
            Outcome::Problem,
            "upgrade-rejected",
            "upgrade rejected (403): Envoy answers so when the route does not allow the WebSocket upgrade; an app's origin or login check may too",
        ),
        404 => verdict(
            Outcome::Problem,
            "no-endpoint",
            "no WebSocket endpoint at this path (404)",
        ),
        401 => verdict(
            Outcome::Problem,
            "auth-required",
            "the WebSocket path asks for authentication (401)",
        ),
        300..=399 => verdict(
            Outcome::Problem,
            "redirected",
            format!(
                "redirected ({status}{}) instead of switching protocols: a login page or another address is in front of the WebSocket",
                h.location
                    .as_deref()
                    .map_or(String::new(), |l| format!(" to {l}"))
            ),
        ),
        200..=299 => verdict(
            Outcome::Problem,
            "upgrade-ignored",
            format!(
                "the upgrade was ignored ({status} instead of 101): the Upgrade header did not reach an app that speaks WebSocket"
            ),
        ),
        502..=504 => verdict(
            Outcome::Problem,
            "upstream-unavailable",
            format!("the proxy could not reach the app ({status})"),
        ),
        _ => verdict(
            Outcome::Problem,
            "handshake-refused",
            format!("WebSocket handshake refused ({status})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Alpn, Failure, Http2, Target};

    fn report(browser: &str, h2: Option<Http2>, status: u16) -> HostReport {
        HostReport {
            target: Target::parse("ws.example.com/ws").unwrap(),
            address: None,
            alpn: Alpn {
                browser: Some(browser.into()),
                http1: Some("http/1.1".into()),
            },
            http2: h2,
            http1_websocket: Some(Handshake {
                status,
                ..Handshake::default()
            }),
            failure: None,
            verdict: Verdict::default(),
        }
    }

    #[test]
    fn the_worst_finding_heads_and_the_rest_are_notes() {
        let no_8441 = Http2 {
            extended_connect: false,
            websocket: None,
            websocket_failure: None,
        };
        let v = judge(&report("h2", Some(no_8441.clone()), 101));
        assert_eq!(
            (v.outcome, v.code),
            (Outcome::Problem, "h2-without-rfc8441")
        );
        let v = judge(&report("h2", Some(no_8441), 403));
        assert_eq!(v.code, "upgrade-rejected");
        assert_eq!(v.notes, [H2_WITHOUT_RFC8441]);
        let v = judge(&report("http/1.1", None, 101));
        assert_eq!(
            (v.outcome, v.message.as_str()),
            (Outcome::Works, "WebSocket works over HTTP/1.1")
        );
    }

    #[test]
    fn a_timeout_on_the_h2_websocket_is_unchecked_unless_a_problem_was_found() {
        let h2 = Http2 {
            extended_connect: true,
            websocket: None,
            websocket_failure: Some(Failure {
                stage: Stage::Http2Websocket,
                kind: FailureKind::Timeout,
                message: "no answer within 1 s".into(),
            }),
        };
        assert_eq!(
            judge(&report("h2", Some(h2.clone()), 101)).outcome,
            Outcome::Unchecked
        );
        let v = judge(&report("h2", Some(h2), 404));
        assert_eq!((v.outcome, v.code), (Outcome::Problem, "no-endpoint"));
    }
}
