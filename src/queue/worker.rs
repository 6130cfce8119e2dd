//! Runs queued jobs: claims what is due, runs up to `concurrency` jobs at once (never two of
//! one repository), records the outcome, and tells watchers after every job.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::{Job, SqliteQueue};

/// Why a job did not finish.
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    /// How long to wait before the next attempt, when the failure says (a rate limit).
    pub retry_after_ms: Option<i64>,
    /// True when another attempt cannot succeed.
    pub permanent: bool,
}

impl JobError {
    pub fn transient(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retry_after_ms: None,
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> JobError {
        JobError {
            message: message.into(),
            retry_after_ms: None,
            permanent: true,
        }
    }
}

/// What runs a job (the App's domain logic).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, job: &Job) -> impl Future<Output = Result<(), JobError>> + Send;
}

pub struct Worker<H> {
    queue: SqliteQueue,
    handler: Arc<H>,
    wake: Arc<Notify>,
    finished: watch::Sender<u64>,
    concurrency: usize,
}

impl<H: Handler> Worker<H> {
    pub fn new(queue: SqliteQueue, handler: H, wake: Arc<Notify>, concurrency: usize) -> Self {
        Worker {
            queue,
            handler: Arc::new(handler),
            wake,
            finished: watch::channel(0).0,
            concurrency: concurrency.max(1),
        }
    }

    /// A receiver that changes after every finished job (for tests and readiness).
    pub fn finished(&self) -> watch::Receiver<u64> {
        self.finished.subscribe()
    }

    /// Runs until `shutdown` turns true; running jobs are finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            while running.len() < self.concurrency {
                match self.queue.claim().await {
                    Ok(Some(job)) => {
                        let queue = self.queue.clone();
                        let handler = self.handler.clone();
                        let finished = self.finished.clone();
                        running.spawn(async move {
                            let outcome = handler.handle(&job).await;
                            let recorded = match &outcome {
                                Ok(()) => queue.complete(&job).await.map(|_| ()),
                                Err(e) => queue
                                    .fail(&job, &e.message, e.retry_after_ms, e.permanent)
                                    .await
                                    .map(|_| ()),
                            };
                            match (&outcome, recorded) {
                                (_, Err(e)) => tracing::error!(job = job.id, "recording the outcome: {e}"),
                                (Err(e), Ok(())) => tracing::warn!(job = job.id, key = %job.key, attempts = job.attempts, "job failed: {}", e.message),
                                (Ok(()), Ok(())) => tracing::info!(job = job.id, key = %job.key, "job done"),
                            }
                            finished.send_modify(|n| *n += 1);
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!("claiming a job: {e}");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                // Jobs waiting for their backoff become due without a notification.
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        while running.join_next().await.is_some() {}
                        return;
                    }
                }
            }
        }
    }
}
