//! The durable queue: every delivery recorded once (its `X-GitHub-Delivery` id is the key, so a
//! redelivery is recognised), the work it starts stored as jobs, one per repository, before the
//! webhook is answered. Jobs survive a restart, are retried with backoff, and a repository runs
//! one job at a time (a job is claimed only when no other job of its repository holds a live
//! lease). An embedded SQLite database in the data directory; PostgreSQL comes on top of the
//! same interface.

mod sqlite;
mod worker;

pub use sqlite::SqliteQueue;
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
    pub delivery: String,
    /// The serialisation key: `<installation>/<owner>/<name>`, or `<installation>` for work on
    /// a whole installation.
    pub key: String,
    pub event: Event,
    /// Including this one.
    pub attempts: i64,
}

/// The state of a job, for tests and `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("a stored job does not parse: {0}")]
    Payload(#[from] serde_json::Error),
}

/// The jobs an event starts: one per repository (each carrying the event narrowed to that
/// repository), one for the installation when it names none.
pub fn jobs_of(event: &Event) -> Vec<(String, Event)> {
    let key = |r: &crate::events::RepoRef| format!("{}/{}/{}", r.installation, r.owner, r.name);
    match event {
        Event::Installed { repos } => repos
            .iter()
            .map(|r| {
                (
                    key(r),
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
            .map(|r| (key(r), other.clone()))
            .collect(),
    }
}

/// Backoff before attempt `attempts + 1`: 10 s, 20 s, 40 s, ... up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    (10_000i64.saturating_mul(1 << exp.min(9))).min(3_600_000)
}

/// Attempts before a job is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 8;

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
