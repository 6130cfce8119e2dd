//! `ws-fix serve`: the axum router (`POST /webhook`, `GET /healthz`, `/readyz`, `/metrics`),
//! the durable queue behind it and the worker that runs the jobs. Transport and durability
//! only: what a job does is the [`Handler`]'s business.

mod metrics;
pub mod settings;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

pub use metrics::Metrics;
pub use settings::{Secret, Settings};

use crate::queue::{Handler, SqliteQueue, Worker};

#[derive(Clone)]
pub struct AppState {
    pub queue: SqliteQueue,
    pub secrets: Arc<Vec<Secret>>,
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook::receive))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(webhook::MAX_BODY))
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.queue.ping().await {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the queue database does not answer\n",
        )
    }
}

async fn metrics(State(state): State<AppState>) -> String {
    let jobs = state.queue.counts().await.unwrap_or_default();
    state.metrics.render(&jobs)
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("no webhook secret: set --webhook-secret or WS_FIX_WEBHOOK_SECRET")]
    NoSecret,
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// A running server: its address, and how to stop it.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    pub finished: watch::Receiver<u64>,
    shutdown: watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
}

impl Running {
    /// Stops accepting, finishes the running jobs, and returns.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Opens the queue, binds `settings.listen`, and starts the router and the worker.
pub async fn start<H: Handler>(settings: &Settings, handler: H) -> Result<Running, ServeError> {
    let secrets = settings.webhook_secrets();
    if secrets.is_empty() {
        return Err(ServeError::NoSecret);
    }
    let queue = SqliteQueue::open(&settings.data_dir).await?;
    let state = AppState {
        queue: queue.clone(),
        secrets: Arc::new(secrets),
        wake: Arc::new(Notify::new()),
        metrics: Arc::new(Metrics::default()),
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: settings.listen,
        source,
    })?;
    let (shutdown, stop) = watch::channel(false);
    let worker = Worker::new(queue, handler, state.wake.clone(), 4);
    let finished = worker.finished();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(worker.run(stop.clone()));
    let app = router(state.clone());
    let mut stop_http = stop;
    tasks.spawn(async move {
        let graceful = async move {
            while !*stop_http.borrow() {
                if stop_http.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(graceful)
            .await
        {
            tracing::error!("http server: {e}");
        }
    });
    tracing::info!(%addr, "listening");
    Ok(Running {
        addr,
        state,
        finished,
        shutdown,
        tasks,
    })
}
