//! `POST /webhook`: the signature checked in constant time against the current (and, during a
//! rotation, the previous) secret, the body capped at 25 MB, the delivery recorded durably
//! with its jobs, and the answer given at once.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::AppState;
use crate::events::Event;
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
    body: Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = header("x-hub-signature-256").is_some_and(|sig| {
        state
            .secrets
            .iter()
            .any(|s| signature_matches(s.expose().as_bytes(), &body, sig))
    });
    if !signed {
        state.metrics.count("deliveries", "unauthorized");
        return (StatusCode::UNAUTHORIZED, "bad signature\n".into());
    }
    let (Some(event_name), Some(delivery)) =
        (header("x-github-event"), header("x-github-delivery"))
    else {
        state.metrics.count("deliveries", "bad_request");
        return (
            StatusCode::BAD_REQUEST,
            "X-GitHub-Event and X-GitHub-Delivery are required\n".into(),
        );
    };
    let event = match Event::parse(event_name, &body) {
        Ok(e) => e,
        Err(e) => {
            state.metrics.count("deliveries", "bad_request");
            return (StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    if let Event::Ignored { event, action } = &event {
        state.metrics.count("deliveries", "ignored");
        return (StatusCode::OK, format!("ignored: {event} {action}\n"));
    }
    match state.queue.record(delivery, event_name, &event).await {
        Ok(Recorded::Duplicate) => {
            state.metrics.count("deliveries", "duplicate");
            (StatusCode::OK, "already received\n".into())
        }
        Ok(Recorded::New { jobs }) => {
            state.metrics.count("deliveries", "accepted");
            state.wake.notify_one();
            (StatusCode::ACCEPTED, format!("queued {jobs} job(s)\n"))
        }
        Err(e) => {
            tracing::error!(delivery, "recording a delivery: {e}");
            state.metrics.count("deliveries", "error");
            // GitHub shows the delivery as failed; it can be redelivered.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the queue is unavailable\n".into(),
            )
        }
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
