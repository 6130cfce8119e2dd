//! The durable queue: every delivery recorded once (its `X-GitHub-Delivery` id is the key, so a
//! redelivery is recognised), the work it starts stored as jobs, one per repository, before the
//! webhook is answered. Jobs survive a restart and a crash (a claimed job holds a lease that its
//! worker renews; a lease that runs out lets another worker take the job), are retried with
//! exponential backoff and jitter, and are parked as `failed` with their reason after the last
//! attempt. A repository runs one job at a time across every process sharing the database (a
//! unique index allows one `running` job per key); queued pushes to one branch collapse into one
//! job for the newest commit. Two backends with one API ([`Queue`]): SQLite in the data directory
//! (the default) and PostgreSQL for several replicas. `docs/queue.md` is the operator's view.

/// Runs `$body` with `$pool` bound to the pool of the queue's backend: the code is written once
/// and compiled for each backend.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::queue::store::Db::Sqlite($pool) => $body,
            $crate::queue::store::Db::Postgres($pool) => $body,
        }
    };
}

pub mod admin;
mod collapse;
mod schema;
mod store;
mod worker;

pub use store::{DEFAULT_LEASE, Pruned, Queue, SQLITE_FILE};
pub use worker::{Handler, JobError, Worker};

use crate::events::Event;

/// What recording a delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// New: `jobs` jobs were queued.
    New { jobs: usize },
    /// The delivery id was seen before: nothing was queued.
    Duplicate,
}

/// A claimed job.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    /// The delivery that started it (`None` for a job scheduled by another job).
    pub delivery: Option<String>,
    /// The serialisation key: `<installation>/<owner>/<name>`, or `<installation>` for work on
    /// a whole installation.
    pub key: String,
    pub event: Event,
    /// Including this one.
    pub attempts: i64,
    /// Identifies this claim: a worker that lost its lease cannot record an outcome.
    pub(crate) lease: i64,
}

/// The state of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its run time (new, or retried after a failure).
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Running,
    Done,
    /// Parked after its last attempt, or after an error another attempt cannot fix.
    Failed,
    /// A newer push to the same branch was queued before it ran: that job scans the newest
    /// commit instead (its delivery is handled when that job is).
    Superseded,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> Result<JobState, QueueError> {
        JobState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| QueueError::Corrupt(format!("unknown job state {s:?}")))
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job as stored, for `ws-fix jobs` and tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct JobInfo {
    pub id: i64,
    pub state: JobState,
    pub key: String,
    /// What started it: the event's type, and for a push the commit.
    pub event: String,
    pub delivery: Option<String>,
    pub attempts: i64,
    /// When it may run next (ms since the epoch; for a queued job).
    pub run_after: i64,
    /// Until when its worker holds it (ms since the epoch; for a running job).
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    /// For a superseded job: the job that replaced it.
    pub superseded_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("a stored job does not parse: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("the queue database holds something this version cannot read: {0}")]
    Corrupt(String),
    #[error(
        "the database URL does not parse (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
    )]
    BadUrl,
    #[error(
        "the database URL's scheme {0:?} is not supported: use postgres:// (or leave the URL unset for SQLite in the data directory)"
    )]
    UnsupportedUrl(String),
    #[error("the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("no queue in {0}: it holds no ws-fix.db (is it the --data-dir that serve uses?)")]
    NoQueue(std::path::PathBuf),
    #[error("no job {0}")]
    NoSuchJob(i64),
    #[error("job {id} is {state}: only a failed or queued job can be retried")]
    NotRetryable { id: i64, state: JobState },
}

/// The jobs an event starts: one per repository (each carrying the event narrowed to that
/// repository), one for the installation when it names none.
pub fn jobs_of(event: &Event) -> Vec<(String, Event)> {
    match event {
        Event::Installed { repos } => repos
            .iter()
            .map(|r| {
                (
                    repo_key(r),
                    Event::Installed {
                        repos: vec![r.clone()],
                    },
                )
            })
            .collect(),
        Event::Unsuspended { installation } => vec![(installation.to_string(), event.clone())],
        Event::Removed { .. } | Event::Ping | Event::Ignored { .. } => Vec::new(),
        other => other
            .repos()
            .into_iter()
            .map(|r| (repo_key(r), other.clone()))
            .collect(),
    }
}

/// The serialisation key of a repository's jobs.
pub fn repo_key(r: &crate::events::RepoRef) -> String {
    format!("{}/{}/{}", r.installation, r.owner, r.name)
}

/// The longest wait before a retry after `failures` failed attempts: 10 s, 20 s, 40 s, ...
/// up to an hour.
pub fn backoff_ms(failures: i64) -> i64 {
    let doublings = failures.clamp(1, 20) as u32 - 1;
    10_000i64
        .saturating_mul(1 << doublings.min(9))
        .min(3_600_000)
}

/// The wait before a retry after `failures` failed attempts: [`backoff_ms`] with jitter, a
/// random point in its upper half, so jobs that failed together do not retry together.
pub fn retry_delay_ms(failures: i64) -> i64 {
    let ceiling = backoff_ms(failures);
    ceiling - random_below(ceiling / 2 + 1)
}

/// A random number in `0..n` (`n` > 0), from the standard library's randomly keyed hasher.
fn random_below(n: i64) -> i64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(now_ms());
    (bits % n.max(1) as u64) as i64
}

/// A random lease token.
fn random_token() -> i64 {
    random_below(i64::MAX)
}

/// Attempts before a job is parked as `failed` (default).
pub const MAX_ATTEMPTS: i64 = 8;

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
