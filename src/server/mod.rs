//! `ws-fix serve`: the axum router (`POST /webhook`, `GET /healthz`, `/readyz`, `/metrics`),
//! the durable queue behind it and the worker that runs the jobs. Transport and durability
//! only: what a job does is the [`Handler`]'s business.

pub mod health;
mod metrics;
pub mod redeliver;
pub mod settings;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

pub use crate::metrics::Metrics;
pub use settings::{Secret, Settings};

use crate::queue::{Handler, Queue, Worker};

#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub secrets: Arc<Vec<Secret>>,
    pub wake: Arc<Notify>,
    /// Shared with the worker and the handler (see [`Handler::metrics`]).
    pub metrics: Arc<Metrics>,
    /// How long after a fix pull request merges to probe its hosts (`--verify-after-merge`);
    /// `None`: never.
    pub verify_delay: Option<std::time::Duration>,
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook::receive))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics::scrape))
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
    /// Starts the redelivery sweep ([`redeliver`]) over the last `window` of GitHub's delivery
    /// log, every `every`, until the server stops. Its requests are counted with the server's.
    pub fn sweep_redeliveries(
        &mut self,
        mut github: crate::github::GitHubApp,
        window: std::time::Duration,
        every: std::time::Duration,
    ) {
        github.metrics = self.state.metrics.clone();
        self.tasks.spawn(redeliver::keep_sweeping(
            github,
            self.state.queue.clone(),
            window,
            every,
            self.shutdown.subscribe(),
        ));
    }

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
    let queue = Queue::open(
        &settings.data_dir,
        settings.database_url.as_ref().map(Secret::expose),
    )
    .await?
    .with_lease(std::time::Duration::from_secs(
        settings.queue.job_lease_seconds,
    ));
    let wake = Arc::new(Notify::new());
    let worker = Worker::new(queue.clone(), handler, wake.clone(), 4);
    let state = AppState {
        queue: queue.clone(),
        secrets: Arc::new(secrets),
        wake,
        metrics: worker.metrics(),
        verify_delay: settings
            .verify
            .verify_after_merge
            .then(|| std::time::Duration::from_secs(settings.verify.verify_delay)),
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
    let finished = worker.finished();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(worker.run(stop.clone()));
    // Old deliveries and finished jobs go after `--retention-days`, checked every hour.
    let retention = u64::from(settings.queue.retention_days) * 86_400;
    tasks.spawn(state.queue.clone().keep_pruned(
        std::time::Duration::from_secs(retention),
        std::time::Duration::from_secs(3600),
        stop.clone(),
    ));
    let app = router(state.clone());
    let mut stop_http = stop;
    tasks.spawn(async move {
        // Until a stop is asked for, or everyone who could ask is gone.
        let graceful = async move {
            let _ = stop_http.wait_for(|stop| *stop).await;
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
