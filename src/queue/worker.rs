//! Runs queued jobs: claims what is due, runs up to `concurrency` jobs at once (never two of
//! one repository), renews each running job's lease, records the outcome, and tells watchers
//! after every job. On shutdown it stops claiming, lets running jobs finish within a grace
//! period, and gives the rest back to the queue for the next start. Each job runs in a `job`
//! tracing span (delivery, installation, repository, commit) and its duration is measured.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::{Job, JobState, Queue};
use crate::events::Event;
use crate::metrics::{JOB_DURATION, Metrics};

/// Why a job did not finish.
#[derive(Debug, Clone)]
pub struct JobError {
    pub message: String,
    /// The job is not done yet and says when to run again: a rate limit's reset, or work that
    /// must wait (a check some minutes after a merge). It goes back to the queue for that long
    /// and the attempt does not count towards the job's last.
    pub retry_after_ms: Option<i64>,
    /// True when another attempt cannot succeed: the job is parked as failed at once.
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

    /// Not yet: run again after `wait`, without counting this attempt.
    pub fn defer(message: impl Into<String>, wait: Duration) -> JobError {
        JobError {
            message: message.into(),
            retry_after_ms: Some(wait.as_millis() as i64),
            permanent: false,
        }
    }
}

/// What runs a job (the App's domain logic).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, job: &Job) -> impl Future<Output = Result<(), JobError>> + Send;

    /// Where the handler counts what it does. The worker counts its jobs there too, and the
    /// server its deliveries and `/metrics`. Default: a registry of its own.
    fn metrics(&self) -> Arc<Metrics> {
        Arc::default()
    }
}

/// How long running jobs may take to finish after a shutdown was asked for (Kubernetes sends
/// SIGKILL 30 s after SIGTERM by default).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(25);

pub struct Worker<H> {
    queue: Queue,
    handler: Arc<H>,
    wake: Arc<Notify>,
    finished: watch::Sender<u64>,
    metrics: Arc<Metrics>,
    concurrency: usize,
    grace: Duration,
}

impl<H: Handler> Worker<H> {
    pub fn new(queue: Queue, handler: H, wake: Arc<Notify>, concurrency: usize) -> Self {
        Worker {
            queue,
            metrics: handler.metrics(),
            handler: Arc::new(handler),
            wake,
            finished: watch::channel(0).0,
            concurrency: concurrency.max(1),
            grace: DEFAULT_GRACE,
        }
    }

    /// The same worker with another shutdown grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The registry the jobs are counted in (the handler's).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// A receiver that changes after every finished job (for tests and readiness).
    pub fn finished(&self) -> watch::Receiver<u64> {
        self.finished.subscribe()
    }

    /// Runs until `shutdown` turns true; then stops claiming, waits up to the grace period for
    /// the running jobs, and gives back to the queue those still running after it.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut running: JoinSet<()> = JoinSet::new();
        let mut jobs: HashMap<tokio::task::Id, Job> = HashMap::new();
        loop {
            while running.len() < self.concurrency && !*shutdown.borrow() {
                match self.queue.claim().await {
                    Ok(Some(job)) => {
                        let task = running.spawn(self.run_one(job.clone()));
                        jobs.insert(task.id(), job);
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
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    forget(&mut jobs, done);
                }
                // Jobs waiting for their backoff become due without a notification.
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        let drain = async {
            while let Some(done) = running.join_next_with_id().await {
                forget(&mut jobs, done);
            }
        };
        if tokio::time::timeout(self.grace, drain).await.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
            for job in jobs.values() {
                // A job that finished meanwhile is no longer this claim's: nothing changes.
                match self.queue.release(job).await {
                    Ok(false) => {}
                    Ok(true) => {
                        tracing::info!(job = job.id, key = %job.key, "stopped before the job finished: given back to the queue")
                    }
                    Err(e) => tracing::error!(job = job.id, "giving a job back: {e}"),
                }
            }
        }
    }

    /// Runs one job, renewing its lease meanwhile, and records the outcome.
    fn run_one(&self, job: Job) -> impl Future<Output = ()> + Send + 'static {
        let queue = self.queue.clone();
        let handler = self.handler.clone();
        let finished = self.finished.clone();
        let metrics = self.metrics.clone();
        let span = job_span(&job);
        async move {
            let started = std::time::Instant::now();
            let work = handler.handle(&job);
            tokio::pin!(work);
            let mut beat =
                tokio::time::interval((queue.lease() / 3).max(Duration::from_millis(10)));
            beat.tick().await;
            let outcome = loop {
                tokio::select! {
                    outcome = &mut work => break outcome,
                    _ = beat.tick() => match queue.renew(&job).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.id, key = %job.key, "the job's lease was lost: another worker may run it too"),
                        Err(e) => tracing::warn!(job = job.id, "renewing the job's lease: {e}"),
                    },
                }
            };
            let seconds = started.elapsed().as_secs_f64();
            let recorded = match &outcome {
                Ok(()) => queue
                    .complete(&job)
                    .await
                    .map(|mine| mine.then_some(JobState::Done)),
                Err(e) => queue.fail(&job, e).await,
            };
            let label = match &recorded {
                Ok(Some(JobState::Done)) => "done",
                Ok(Some(JobState::Failed)) => "failed",
                Ok(Some(_)) => "retry",
                Ok(None) | Err(_) => "unrecorded",
            };
            match (&outcome, recorded) {
                (_, Err(e)) => tracing::error!(job = job.id, "recording the outcome: {e}"),
                (_, Ok(None)) => tracing::warn!(
                    job = job.id,
                    "the outcome was not recorded: the job's lease was lost"
                ),
                (Err(e), Ok(Some(_))) => {
                    tracing::warn!(job = job.id, key = %job.key, attempts = job.attempts, "job failed: {}", e.message)
                }
                (Ok(()), Ok(Some(_))) => tracing::info!(job = job.id, key = %job.key, "job done"),
            }
            metrics.observe(
                &JOB_DURATION,
                &[("kind", &event_kind(&job.event)), ("outcome", label)],
                seconds,
            );
            finished.send_modify(|n| *n += 1);
        }
        .instrument(span)
    }
}

/// The span every log line of a job carries: the job, its delivery, installation, repository
/// and commit (those known).
fn job_span(job: &Job) -> tracing::Span {
    let (installation, repo) = match job.key.split_once('/') {
        Some((i, r)) => (i, Some(r)),
        None => (job.key.as_str(), None),
    };
    let commit = match &job.event {
        Event::Push { after, .. } => Some(after.as_str()),
        Event::PullRequestChanged { head_sha, .. } | Event::CheckRequested { head_sha, .. } => {
            Some(head_sha.as_str())
        }
        _ => None,
    };
    tracing::info_span!(
        "job",
        job = job.id,
        delivery = job.delivery.as_deref(),
        installation,
        repo,
        commit
    )
}

/// The event's kind as stored (`push`, `pull-request-closed`, ...): its serde tag.
fn event_kind(event: &Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Drops a finished task's job from the running set.
fn forget(
    jobs: &mut HashMap<tokio::task::Id, Job>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    let id = match done {
        Ok((id, ())) => id,
        Err(e) => {
            if e.is_panic() {
                tracing::error!("a job panicked: its lease runs out and it is tried again");
            }
            e.id()
        }
    };
    jobs.remove(&id);
}
