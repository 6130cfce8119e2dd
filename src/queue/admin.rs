//! `ws-fix jobs`: the queue as an operator sees it (queued, running and failed jobs with their
//! attempts, next run and last error), and `ws-fix jobs retry ID`. Works on the queue of
//! `serve` wherever it is: SQLite in the data directory or PostgreSQL at the database URL.

use std::path::PathBuf;

use super::{JobInfo, JobState, Queue, QueueError, SQLITE_FILE, now_ms};
use crate::server::Secret;

#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: Option<JobsCommand>,
    /// Only jobs in this state (repeatable; default: queued, running and failed).
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Vec<JobState>,
    /// Every job, done and superseded ones too.
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// At most this many jobs, oldest first.
    #[arg(long, default_value_t = 200)]
    pub limit: i64,
    /// The data directory of `serve` (the SQLite queue `ws-fix.db`).
    #[arg(long, env = "WS_FIX_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// `postgres://...`: the queue that replicas share (absent: SQLite in the data directory).
    #[arg(
        long,
        env = "WS_FIX_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<Secret>,
}

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Run a failed or queued job now, its attempts counted from zero (a running `serve`
    /// takes it within a second).
    Retry {
        /// The job's id, as `ws-fix jobs` lists it.
        id: i64,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// The states listed when none is asked for: what an operator may need to act on.
const PENDING: [JobState; 3] = [JobState::Queued, JobState::Running, JobState::Failed];

/// Runs `ws-fix jobs` and returns what to print.
pub async fn run(args: &JobsArgs) -> Result<String, QueueError> {
    // Looking must not create an empty queue where serve keeps none.
    if args.database_url.is_none() && !args.data_dir.join(SQLITE_FILE).exists() {
        return Err(QueueError::NoQueue(args.data_dir.clone()));
    }
    let queue = Queue::open(
        &args.data_dir,
        args.database_url.as_ref().map(Secret::expose),
    )
    .await?;
    if let Some(JobsCommand::Retry { id }) = &args.command {
        let job = queue.retry(*id).await?;
        return Ok(match args.format {
            Format::Human => format!(
                "job {} ({}, {}) is queued to run now, attempts counted from zero\n",
                job.id, job.key, job.event
            ),
            Format::Json => format!("{}\n", serde_json::to_string_pretty(&job)?),
        });
    }
    let states: &[JobState] = match (args.all, args.state.is_empty()) {
        (true, _) => &JobState::ALL,
        (false, true) => &PENDING,
        (false, false) => &args.state,
    };
    let jobs = queue.list(states, args.limit.max(0)).await?;
    let counts = queue.counts().await?;
    Ok(match args.format {
        Format::Human => human(&jobs, &counts, now_ms()),
        Format::Json => {
            let counts: serde_json::Map<String, serde_json::Value> =
                counts.into_iter().map(|(s, n)| (s, n.into())).collect();
            let out = serde_json::json!({
                "backend": queue.backend(),
                "jobs": jobs,
                "counts": counts,
            });
            format!("{}\n", serde_json::to_string_pretty(&out)?)
        }
    })
}

/// The jobs as a table, then the number of jobs per state.
pub fn human(jobs: &[JobInfo], counts: &[(String, i64)], now: i64) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "ID".into(),
        "STATE".into(),
        "ATTEMPTS".into(),
        "NEXT RUN".into(),
        "KEY".into(),
        "EVENT".into(),
        "LAST ERROR".into(),
    ]];
    for j in jobs {
        let next = match j.state {
            JobState::Queued if j.run_after <= now => "now".to_owned(),
            JobState::Queued => utc(j.run_after),
            JobState::Running => {
                format!("running until {}", j.lease_until.map_or("?".into(), utc))
            }
            _ => "-".into(),
        };
        let note = match (j.superseded_by, &j.last_error) {
            (Some(by), _) => format!("superseded by job {by}"),
            (None, Some(e)) => one_line(e, 120),
            (None, None) => String::new(),
        };
        rows.push([
            j.id.to_string(),
            j.state.to_string(),
            j.attempts.to_string(),
            next,
            j.key.clone(),
            j.event.clone(),
            note,
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    if jobs.is_empty() {
        out.push_str("no jobs to show\n");
    } else {
        for row in &rows {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let total: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    out.push_str(&format!(
        "in the queue: {}\n",
        if total.is_empty() {
            "nothing".into()
        } else {
            total.join(", ")
        }
    ));
    out
}

/// `text` on one line, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// Milliseconds since the epoch as an RFC 3339 UTC time to the second.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_767_225_599_999), "2025-12-31T23:59:59Z");
        assert_eq!(utc(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn long_errors_fit_one_line() {
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(one_line(&"x".repeat(200), 5), "xxxx…");
    }
}
