//! The queue in an embedded SQLite database (`ws-fix.db` in the data directory).

use std::path::Path;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::{Job, JobState, MAX_ATTEMPTS, QueueError, Recorded, backoff_ms, jobs_of, now_ms};
use crate::events::Event;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        run_after INTEGER NOT NULL,
        lease_until INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_after)",
    "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, state)",
];

/// How long a claimed job may run before another worker may take it over (a crashed process
/// leaves its lease to expire).
pub const LEASE_MS: i64 = 10 * 60 * 1000;

#[derive(Clone)]
pub struct SqliteQueue {
    pool: SqlitePool,
}

impl SqliteQueue {
    /// Opens (creating it if needed) `ws-fix.db` in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<SqliteQueue, QueueError> {
        std::fs::create_dir_all(data_dir).map_err(sqlx::Error::Io)?;
        // A file name, not a URL: paths with spaces, `?` or `#` stay paths.
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("ws-fix.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        for stmt in SCHEMA {
            // Constant statements of this file: nothing is interpolated.
            sqlx::query(sqlx::AssertSqlSafe(*stmt))
                .execute(&pool)
                .await?;
        }
        Ok(SqliteQueue { pool })
    }

    /// Records a delivery and queues its jobs, in one transaction. A `Removed` event drops the
    /// queued jobs of what was removed instead.
    pub async fn record(
        &self,
        delivery: &str,
        event_name: &str,
        event: &Event,
    ) -> Result<Recorded, QueueError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(delivery)
        .bind(event_name)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Recorded::Duplicate);
        }
        if let Event::Removed {
            installation,
            repos,
        } = event
        {
            if repos.is_empty() {
                sqlx::query("DELETE FROM jobs WHERE state = 'queued' AND (key = ? OR key LIKE ?)")
                    .bind(installation.to_string())
                    .bind(format!("{installation}/%"))
                    .execute(&mut *tx)
                    .await?;
            }
            for r in repos {
                sqlx::query("DELETE FROM jobs WHERE state = 'queued' AND key = ?")
                    .bind(format!("{}/{}/{}", r.installation, r.owner, r.name))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let jobs = jobs_of(event);
        for (key, event) in &jobs {
            sqlx::query(
                "INSERT INTO jobs (delivery_id, key, payload, run_after, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(delivery)
            .bind(key)
            .bind(serde_json::to_string(event)?)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Recorded::New { jobs: jobs.len() })
    }

    /// Claims the oldest job that is due and whose repository has no job with a live lease.
    pub async fn claim(&self) -> Result<Option<Job>, QueueError> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE jobs SET state = 'running', lease_until = ?1, attempts = attempts + 1
             WHERE id = (
               SELECT j.id FROM jobs j
               WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_until <= ?2))
                 AND j.run_after <= ?2
                 AND NOT EXISTS (
                   SELECT 1 FROM jobs r
                   WHERE r.key = j.key AND r.id <> j.id AND r.state = 'running' AND r.lease_until > ?2)
               ORDER BY j.id LIMIT 1)
             RETURNING id, delivery_id, key, payload, attempts",
        )
        .bind(now + LEASE_MS)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Job {
            id: row.get("id"),
            delivery: row.get("delivery_id"),
            key: row.get("key"),
            event: serde_json::from_str(row.get::<&str, _>("payload"))?,
            attempts: row.get("attempts"),
        }))
    }

    pub async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        sqlx::query("UPDATE jobs SET state = 'done', lease_until = NULL WHERE id = ?")
            .bind(job.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a job back with backoff (`retry_after_ms` when the failure says how long to wait),
    /// or gives it up after [`MAX_ATTEMPTS`] or when it cannot succeed.
    pub async fn fail(
        &self,
        job: &Job,
        error: &str,
        retry_after_ms: Option<i64>,
        permanent: bool,
    ) -> Result<JobState, QueueError> {
        let give_up = permanent || job.attempts >= MAX_ATTEMPTS;
        let state = if give_up { "failed" } else { "queued" };
        let wait = retry_after_ms.unwrap_or_else(|| backoff_ms(job.attempts - 1));
        sqlx::query(
            "UPDATE jobs SET state = ?, lease_until = NULL, last_error = ?, run_after = ? WHERE id = ?",
        )
        .bind(state)
        .bind(error)
        .bind(now_ms() + wait)
        .bind(job.id)
        .execute(&self.pool)
        .await?;
        Ok(JobState::parse(state))
    }

    /// The states of the jobs a delivery started, in order.
    pub async fn states(&self, delivery: &str) -> Result<Vec<JobState>, QueueError> {
        let rows = sqlx::query("SELECT state FROM jobs WHERE delivery_id = ? ORDER BY id")
            .bind(delivery)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| JobState::parse(r.get::<&str, _>("state")))
            .collect())
    }

    /// Jobs per state (for `/metrics`).
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, QueueError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>("state"), r.get::<i64, _>("n")))
            .collect())
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Makes every queued job due now (tests; an operator's "retry now").
    pub async fn due_now(&self) -> Result<(), QueueError> {
        sqlx::query("UPDATE jobs SET run_after = 0 WHERE state = 'queued'")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
