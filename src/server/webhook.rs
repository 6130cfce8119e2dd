//! `POST /webhook`: the signature checked in constant time against the current and, during a
//! rotation, the previous secret (both always checked; `ws_fix_signatures_total` counts which
//! one matched), the body capped at 25 MB, the delivery recorded durably with its jobs, and the
//! answer given at once. Every delivery is counted in `ws_fix_deliveries_total` by event and
//! outcome; the event is the `X-GitHub-Event` only once the signature matched (an unsigned
//! sender could otherwise make up any number of label values).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{AppState, Secret};
use crate::events::Event;
use crate::metrics::{DELIVERIES, SIGNATURES};
use crate::queue::Recorded;

/// GitHub's limit for a payload.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// True when `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`.
pub fn signature_matches(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected).is_ok()
}

/// The index of the secret that signed `body` (0: the current one, 1: the previous one during a
/// rotation). Every secret is checked, each in constant time, so the answer's timing does not
/// tell which one matched.
pub fn matching_secret(secrets: &[Secret], body: &[u8], header: &str) -> Option<usize> {
    let matches: Vec<bool> = secrets
        .iter()
        .map(|s| signature_matches(s.expose().as_bytes(), body, header))
        .collect();
    matches.iter().position(|m| *m)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let count = |event: &str, outcome: &str| {
        state
            .metrics
            .inc(&DELIVERIES, &[("event", event), ("outcome", outcome)]);
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let outcome = match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => "too_large",
                _ => "bad_request",
            };
            count("unknown", outcome);
            return (e.status(), e.body_text());
        }
    };
    let signed_by =
        header("x-hub-signature-256").and_then(|sig| matching_secret(&state.secrets, &body, sig));
    let Some(signed_by) = signed_by else {
        count("unknown", "unauthorized");
        return (StatusCode::UNAUTHORIZED, "bad signature\n".into());
    };
    // Operators watch this to know when the previous secret is no longer used.
    let which = if signed_by == 0 {
        "current"
    } else {
        "previous"
    };
    state.metrics.inc(&SIGNATURES, &[("outcome", which)]);
    let (Some(event_name), Some(delivery)) =
        (header("x-github-event"), header("x-github-delivery"))
    else {
        count(header("x-github-event").unwrap_or("unknown"), "bad_request");
        return (
            StatusCode::BAD_REQUEST,
            "X-GitHub-Event and X-GitHub-Delivery are required\n".into(),
        );
    };
    let event = match Event::parse(event_name, &body) {
        Ok(e) => e,
        Err(e) => {
            count(event_name, "bad_request");
            return (StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    if let Event::Ignored { event, action } = &event {
        count(event_name, "ignored");
        // Both are the sender's text: echo a bounded part of them.
        let short = |s: &str| s.chars().take(100).collect::<String>();
        return (
            StatusCode::OK,
            format!("ignored: {} {}\n", short(event), short(action)),
        );
    }
    let later = later_work(&state, &event);
    match state
        .queue
        .record_with_later(delivery, event_name, &event, &later)
        .await
    {
        Ok(Recorded::Duplicate) => {
            count(event_name, "duplicate");
            (StatusCode::OK, "already received\n".into())
        }
        Ok(Recorded::New { jobs }) => {
            count(event_name, "accepted");
            state.wake.notify_one();
            (StatusCode::ACCEPTED, format!("queued {jobs} job(s)\n"))
        }
        Err(e) => {
            tracing::error!(delivery, "recording a delivery: {e}");
            count(event_name, "error");
            // GitHub shows the delivery as failed; it can be redelivered.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the queue is unavailable\n".into(),
            )
        }
    }
}

/// The work a delivery starts for later: a merged fix pull request's hosts are probed after
/// `--verify-delay`, when the GitOps controller has applied it.
fn later_work(state: &AppState, event: &Event) -> Vec<(String, Event, i64)> {
    match (state.verify_delay, event) {
        (
            Some(delay),
            Event::PullRequestClosed {
                repo,
                number,
                merged: true,
                head_ref,
                ..
            },
        ) if head_ref.starts_with("ws-fix/") => vec![(
            crate::queue::repo_key(repo),
            Event::VerifyMerged {
                repo: repo.clone(),
                number: *number,
            },
            delay.as_millis() as i64,
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_test_vector() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            sig
        ));
        assert!(!signature_matches(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            sig
        ));
        assert!(!signature_matches(b"other", b"Hello, World!", sig));
        assert!(!signature_matches(b"x", b"", "sha1=00"));
        assert!(!signature_matches(b"x", b"", "sha256=zz"));
    }
}
