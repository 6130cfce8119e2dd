//! `GET /metrics`: the queue's gauges read from the database at each scrape, then every metric
//! of the process ([`crate::metrics`]) in the Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;
use crate::metrics::{JOBS, QUEUE_OLDEST_AGE};
use crate::queue::JobState;

pub(super) async fn scrape(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    match state.queue.counts().await {
        Ok(counts) => {
            for s in JobState::ALL {
                let n = counts
                    .iter()
                    .find(|(name, _)| name == s.as_str())
                    .map_or(0, |(_, n)| *n);
                m.set(&JOBS, &[("state", s.as_str())], n as f64);
            }
        }
        Err(e) => tracing::warn!("reading the queue for /metrics: {e}"),
    }
    match state.queue.oldest_due_wait_ms().await {
        Ok(ms) => m.set(&QUEUE_OLDEST_AGE, &[], ms as f64 / 1000.0),
        Err(e) => tracing::warn!("reading the queue for /metrics: {e}"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        m.render(),
    )
}
