//! [`Queue`]: the queue's operations over either backend. The SQL is written once: `$N`
//! parameters (SQLite reads them by number too) and statements both databases run the same way;
//! only the claim's row lock differs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::sync::watch;

use super::collapse::{collapse_key, merge};
use super::{
    Job, JobError, JobInfo, JobState, MAX_ATTEMPTS, QueueError, Recorded, jobs_of, now_ms,
    random_token, repo_key, retry_delay_ms,
};
use crate::events::Event;

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The durable queue, on SQLite or PostgreSQL. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Queue {
    db: Db,
    lease_ms: i64,
    max_attempts: i64,
}

/// The SQLite queue's file in the data directory.
pub const SQLITE_FILE: &str = "ws-fix.db";

/// How long a claimed job is its worker's without a renewal. The worker renews it while the job
/// runs ([`Queue::renew`]); a crashed process leaves it to run out, and another worker then takes
/// the job over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// The shortest wait of a deferred job (a rate limit's reset in the past is not a reason to spin).
const MIN_DEFER_MS: i64 = 1_000;

/// Claims of one worker that lost a race (two processes claiming two jobs of one repository at
/// once: the unique index refuses the second) before it gives up until its next turn.
const CLAIM_TRIES: usize = 5;

/// The claim: a running job whose lease ran out (taken over first, so its repository keeps one
/// running job), else the oldest due job whose repository runs nothing. Each candidate is found
/// by walking the `jobs_state` index in id order.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                 lease_token = $2, updated_at = $3
             WHERE id = COALESCE(
               (SELECT j.id FROM jobs j
                WHERE j.state = 'running' AND j.lease_until <= $3
                ORDER BY j.id LIMIT 1 ",
            $lock,
            "),
               (SELECT j.id FROM jobs j
                WHERE j.state = 'queued' AND j.run_after <= $3
                  AND NOT EXISTS (
                    SELECT 1 FROM jobs r WHERE r.key = j.key AND r.state = 'running')
                ORDER BY j.id LIMIT 1 ",
            $lock,
            "))
             RETURNING id, delivery_id, key, payload, attempts"
        )
    };
}

const JOB_COLUMNS: &str = "id, state, key, payload, delivery_id, attempts, run_after, lease_until,
    last_error, superseded_by, created_at, updated_at";

/// A claimed job's row before its event is read.
struct Claimed {
    id: i64,
    delivery: Option<String>,
    key: String,
    payload: String,
    attempts: i64,
}

/// What [`Queue::prune_before`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub deliveries: u64,
    pub jobs: u64,
}

/// How long SQLite waits for another process's lock.
const SQLITE_BUSY: Duration = Duration::from_secs(10);

/// SQLite's "database is busy / locked" (any extended code of SQLITE_BUSY or SQLITE_LOCKED).
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

impl Queue {
    /// The queue `serve` and `ws-fix jobs` use: PostgreSQL at `database_url` when one is given,
    /// else SQLite in `data_dir`.
    pub async fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Queue, QueueError> {
        match database_url {
            None => Queue::sqlite(data_dir).await,
            Some(url) => match scheme(url) {
                "postgres" | "postgresql" => Queue::postgres(url).await,
                other => Err(QueueError::UnsupportedUrl(other.to_owned())),
            },
        }
    }

    /// Opens (creating it if needed) [`SQLITE_FILE`] in `data_dir`.
    pub async fn sqlite(data_dir: &Path) -> Result<Queue, QueueError> {
        std::fs::create_dir_all(data_dir).map_err(|source| QueueError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        // A file name, not a URL: paths with spaces, `?` or `#` stay paths.
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(SQLITE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(SQLITE_BUSY);
        // Switching a new database to WAL takes a lock without waiting on the busy timeout:
        // a process that starts beside another (replicas on one volume) tries again.
        let deadline = std::time::Instant::now() + SQLITE_BUSY;
        let mut pause = Duration::from_millis(10);
        let pool = loop {
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.clone())
                .await;
            match pool {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                pool => break pool?,
            }
        };
        Queue::migrated(Db::Sqlite(pool)).await
    }

    /// Connects to PostgreSQL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`, libpq's URL
    /// parameters such as `sslmode` or `options`). The URL never appears in an error.
    pub async fn postgres(url: &str) -> Result<Queue, QueueError> {
        let options = PgConnectOptions::from_str(url).map_err(|_| QueueError::BadUrl)?;
        let pool = match PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            // The pool retries a refused connection until it times out: one more try says why.
            Err(sqlx::Error::PoolTimedOut) => {
                use sqlx::Connection;
                let why = sqlx::PgConnection::connect_with(&options).await.err();
                return Err(why.unwrap_or(sqlx::Error::PoolTimedOut).into());
            }
            Err(e) => return Err(e.into()),
        };
        Queue::migrated(Db::Postgres(pool)).await
    }

    async fn migrated(db: Db) -> Result<Queue, QueueError> {
        super::schema::migrate(&db).await?;
        Ok(Queue {
            db,
            lease_ms: DEFAULT_LEASE.as_millis() as i64,
            max_attempts: MAX_ATTEMPTS,
        })
    }

    /// The same queue with claims that hold `lease` without a renewal.
    pub fn with_lease(mut self, lease: Duration) -> Queue {
        self.lease_ms = lease.as_millis() as i64;
        self
    }

    /// The same queue parking jobs as `failed` after `n` attempts.
    pub fn with_max_attempts(mut self, n: i64) -> Queue {
        self.max_attempts = n.max(1);
        self
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms as u64)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Records a delivery and queues its jobs, in one transaction; a delivery id seen before
    /// queues nothing. A queued (not yet running) push to the same branch is superseded by the
    /// new job, which carries both ([`merge`]). A `Removed` event drops the queued jobs of what
    /// was removed instead.
    pub async fn record(
        &self,
        delivery: &str,
        event_name: &str,
        event: &Event,
    ) -> Result<Recorded, QueueError> {
        self.record_with_later(delivery, event_name, event, &[])
            .await
    }

    /// [`Queue::record`], and in the same transaction the work the delivery starts later:
    /// `(key, event, delay in ms)` (a check after a merge), queued only with a new delivery.
    pub async fn record_with_later(
        &self,
        delivery: &str,
        event_name: &str,
        event: &Event,
        later: &[(String, Event, i64)],
    ) -> Result<Recorded, QueueError> {
        let now = now_ms();
        let jobs = jobs_of(event);
        on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO deliveries (id, event, received_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
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
            if let Event::Removed { installation, repos } = event {
                const ONE: &str = "DELETE FROM jobs WHERE state = 'queued' AND key = $1";
                let drops: Vec<(&str, String)> = if repos.is_empty() {
                    vec![
                        (ONE, installation.to_string()),
                        (
                            "DELETE FROM jobs WHERE state = 'queued' AND key LIKE $1",
                            format!("{installation}/%"),
                        ),
                    ]
                } else {
                    repos.iter().map(|r| (ONE, repo_key(r))).collect()
                };
                for (sql, key) in drops {
                    sqlx::query(sql).bind(key).execute(&mut *tx).await?;
                }
            }
            for (key, event) in &jobs {
                let collapse = collapse_key(event);
                let mut event = event.clone();
                let mut older = Vec::new();
                if let Some(collapse) = &collapse {
                    let rows = sqlx::query(
                        "SELECT id, payload FROM jobs
                         WHERE key = $1 AND collapse = $2 AND state = 'queued' ORDER BY id",
                    )
                    .bind(key)
                    .bind(collapse)
                    .fetch_all(&mut *tx)
                    .await?;
                    for row in rows {
                        // A stored event this version cannot read is left as it is.
                        if let Ok(old) = serde_json::from_str(row.try_get::<&str, _>("payload")?) {
                            event = merge(old, event);
                            older.push(row.try_get::<i64, _>("id")?);
                        }
                    }
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO jobs (delivery_id, key, payload, collapse, state, run_after,
                                       created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 'queued', $5, $5, $5) RETURNING id",
                )
                .bind(delivery)
                .bind(key)
                .bind(serde_json::to_string(&event)?)
                .bind(collapse)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                for old in older {
                    // Claimed meanwhile (another process): it runs, and so does the new job.
                    sqlx::query(
                        "UPDATE jobs SET state = 'superseded', superseded_by = $1, updated_at = $2
                         WHERE id = $3 AND state = 'queued'",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for (key, event, delay_ms) in later {
                sqlx::query(
                    "INSERT INTO jobs (delivery_id, key, payload, state, run_after, created_at,
                                       updated_at)
                     VALUES ($1, $2, $3, 'queued', $4, $5, $5)",
                )
                .bind(delivery)
                .bind(key)
                .bind(serde_json::to_string(event)?)
                .bind(now.saturating_add(*delay_ms))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Recorded::New {
                jobs: jobs.len() + later.len(),
            })
        })
    }

    /// Queues `event` under `key` to run at `run_after` (ms since the epoch), for work a job
    /// starts later (a check after a merge). Returns the job's id.
    pub async fn schedule(
        &self,
        key: &str,
        event: &Event,
        run_after: i64,
    ) -> Result<i64, QueueError> {
        let payload = serde_json::to_string(event)?;
        let now = now_ms();
        on_db!(&self.db, pool => {
            Ok(sqlx::query_scalar(
                "INSERT INTO jobs (key, payload, state, run_after, created_at, updated_at)
                 VALUES ($1, $2, 'queued', $3, $4, $4) RETURNING id",
            )
            .bind(key)
            .bind(payload)
            .bind(run_after)
            .bind(now)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Claims the oldest job that is due and whose repository runs no other job (in any process
    /// sharing the database), or takes over a job whose lease ran out. A job whose lease ran out
    /// on its last attempt is parked as `failed` instead; a job whose stored event cannot be read
    /// is parked with that reason.
    pub async fn claim(&self) -> Result<Option<Job>, QueueError> {
        for _ in 0..CLAIM_TRIES {
            let claimed = match self.claim_row().await {
                Ok(claimed) => claimed,
                Err(QueueError::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some((claimed, lease)) = claimed else {
                return Ok(None);
            };
            if claimed.attempts > self.max_attempts {
                // Taken over from a worker that died during the last attempt: not tried forever.
                let reason = "its worker stopped during the last attempt (the lease ran out)";
                self.park(claimed.id, claimed.attempts - 1, reason).await?;
                continue;
            }
            match serde_json::from_str(&claimed.payload) {
                Ok(event) => {
                    return Ok(Some(Job {
                        id: claimed.id,
                        delivery: claimed.delivery,
                        key: claimed.key,
                        event,
                        attempts: claimed.attempts,
                        lease,
                    }));
                }
                Err(e) => {
                    let reason = format!("the stored event does not parse: {e}");
                    self.park(claimed.id, claimed.attempts, &reason).await?;
                }
            }
        }
        Ok(None)
    }

    async fn claim_row(&self) -> Result<Option<(Claimed, i64)>, QueueError> {
        let now = now_ms();
        let lease = random_token();
        let claim = match self.db {
            Db::Sqlite(_) => claim_sql!(""),
            Db::Postgres(_) => claim_sql!("FOR UPDATE SKIP LOCKED"),
        };
        on_db!(&self.db, pool => {
            let row = sqlx::query(claim)
                .bind(now + self.lease_ms)
                .bind(lease)
                .bind(now)
                .fetch_optional(pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some((
                Claimed {
                    id: row.try_get("id")?,
                    delivery: row.try_get("delivery_id")?,
                    key: row.try_get("key")?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                },
                lease,
            )))
        })
    }

    /// Parks a claimed job as failed after `attempts`, with `reason`.
    async fn park(&self, id: i64, attempts: i64, reason: &str) -> Result<(), QueueError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE jobs SET state = 'failed', attempts = $4, lease_until = NULL,
                     lease_token = NULL, last_error = $1, updated_at = $2
                 WHERE id = $3",
            )
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .bind(attempts)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Extends the lease of a running job. False when the job is no longer this claim's (its
    /// lease ran out and another worker took it).
    pub async fn renew(&self, job: &Job) -> Result<bool, QueueError> {
        self.update_claimed(
            job,
            "UPDATE jobs SET lease_until = $3
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
            now_ms() + self.lease_ms,
        )
        .await
    }

    /// Records a finished job. False when the job was no longer this claim's: nothing changed.
    pub async fn complete(&self, job: &Job) -> Result<bool, QueueError> {
        self.update_claimed(
            job,
            "UPDATE jobs SET state = 'done', lease_until = NULL, lease_token = NULL, updated_at = $3
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
            now_ms(),
        )
        .await
    }

    /// Gives a running job back without counting the attempt (a worker stopping before the job
    /// finished): it runs again as soon as a worker is free.
    pub async fn release(&self, job: &Job) -> Result<bool, QueueError> {
        self.update_claimed(
            job,
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_until = NULL,
                 lease_token = NULL, run_after = $3, updated_at = $3
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
            now_ms(),
        )
        .await
    }

    /// Runs `sql` on `job`'s row while this claim holds it (`$1` the id, `$2` the lease token,
    /// `$3` a time). True when it did.
    async fn update_claimed(
        &self,
        job: &Job,
        sql: &'static str,
        time: i64,
    ) -> Result<bool, QueueError> {
        on_db!(&self.db, pool => {
            let n = sqlx::query(sql)
                .bind(job.id)
                .bind(job.lease)
                .bind(time)
                .execute(pool)
                .await?
                .rows_affected();
            Ok(n == 1)
        })
    }

    /// Records a failed attempt: with `retry_after_ms` (a rate limit, work deferred to later)
    /// the job waits that long and the attempt does not count; a permanent error or the last
    /// attempt parks it as `failed`; else it is retried after [`retry_delay_ms`]. Returns the
    /// state it is left in, or `None` when the job was no longer this claim's (nothing changed).
    pub async fn fail(&self, job: &Job, error: &JobError) -> Result<Option<JobState>, QueueError> {
        let now = now_ms();
        let (state, attempts, run_after) = match error.retry_after_ms {
            _ if error.permanent => (JobState::Failed, job.attempts, now),
            Some(wait) => (
                JobState::Queued,
                job.attempts - 1,
                now + wait.max(MIN_DEFER_MS),
            ),
            None if job.attempts >= self.max_attempts => (JobState::Failed, job.attempts, now),
            None => (
                JobState::Queued,
                job.attempts,
                now + retry_delay_ms(job.attempts),
            ),
        };
        on_db!(&self.db, pool => {
            let n = sqlx::query(
                "UPDATE jobs SET state = $1, attempts = $2, run_after = $3, last_error = $4,
                     lease_until = NULL, lease_token = NULL, updated_at = $5
                 WHERE id = $6 AND lease_token = $7 AND state = 'running'",
            )
            .bind(state.as_str())
            .bind(attempts)
            .bind(run_after)
            .bind(&error.message)
            .bind(now)
            .bind(job.id)
            .bind(job.lease)
            .execute(pool)
            .await?
            .rows_affected();
            Ok((n == 1).then_some(state))
        })
    }

    /// Makes a failed or queued job run now, its attempts counted from zero (`ws-fix jobs
    /// retry`). Returns the job as it is now.
    pub async fn retry(&self, id: i64) -> Result<JobInfo, QueueError> {
        let now = now_ms();
        let n = on_db!(&self.db, pool => {
            sqlx::query(
                "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, updated_at = $1
                 WHERE id = $2 AND state IN ('failed', 'queued')",
            )
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        let job = self.job(id).await?.ok_or(QueueError::NoSuchJob(id))?;
        if n == 0 {
            return Err(QueueError::NotRetryable {
                id,
                state: job.state,
            });
        }
        Ok(job)
    }

    /// One job.
    pub async fn job(&self, id: i64) -> Result<Option<JobInfo>, QueueError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        on_db!(&self.db, pool => {
            // A constant list of columns: nothing from outside is interpolated.
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|row| info_of(&row)).transpose()
        })
    }

    /// The jobs in `states`, oldest first, at most `limit`.
    pub async fn list(&self, states: &[JobState], limit: i64) -> Result<Vec<JobInfo>, QueueError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let states: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ({}) ORDER BY id LIMIT $1",
            states.join(", ")
        );
        on_db!(&self.db, pool => {
            // The states are this module's own constants: nothing from outside is interpolated.
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(info_of).collect()
        })
    }

    /// The states of the jobs a delivery started, in order.
    pub async fn states(&self, delivery: &str) -> Result<Vec<JobState>, QueueError> {
        on_db!(&self.db, pool => {
            let states: Vec<String> =
                sqlx::query_scalar("SELECT state FROM jobs WHERE delivery_id = $1 ORDER BY id")
                    .bind(delivery)
                    .fetch_all(pool)
                    .await?;
            states.iter().map(|s| JobState::parse(s)).collect()
        })
    }

    /// Which of these delivery ids were recorded (the redelivery sweep's question).
    pub async fn recorded(
        &self,
        deliveries: &[String],
    ) -> Result<std::collections::HashSet<String>, QueueError> {
        let mut out = std::collections::HashSet::new();
        for id in deliveries {
            let found: Option<String> = on_db!(&self.db, pool => {
                sqlx::query_scalar("SELECT id FROM deliveries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            });
            out.extend(found);
        }
        Ok(out)
    }

    /// Jobs per state (for `/metrics`).
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, QueueError> {
        on_db!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
                .collect()
        })
    }

    /// How long the queued job that became due first has waited since (ms; 0 when no queued
    /// job is due). For `/metrics`.
    pub async fn oldest_due_wait_ms(&self) -> Result<i64, QueueError> {
        let now = now_ms();
        on_db!(&self.db, pool => {
            let first: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(run_after) FROM jobs WHERE state = 'queued' AND run_after <= $1",
            )
            .bind(now)
            .fetch_one(pool)
            .await?;
            Ok(first.map_or(0, |t| (now - t).max(0)))
        })
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        on_db!(&self.db, pool => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }

    /// Makes every queued job due now (tests; an operator's "retry everything now").
    pub async fn due_now(&self) -> Result<(), QueueError> {
        on_db!(&self.db, pool => {
            sqlx::query("UPDATE jobs SET run_after = 0 WHERE state = 'queued'")
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Deletes what is older than `retention`: see [`Queue::prune_before`].
    pub async fn prune(&self, retention: Duration) -> Result<Pruned, QueueError> {
        self.prune_before(now_ms() - retention.as_millis() as i64)
            .await
    }

    /// Deletes finished jobs (done, failed, superseded) last changed before `cutoff` (ms since
    /// the epoch), and deliveries received before it that have no queued or running job. A
    /// delivery id deleted here is no longer recognised as a duplicate.
    pub async fn prune_before(&self, cutoff: i64) -> Result<Pruned, QueueError> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let jobs = sqlx::query(
                "DELETE FROM jobs WHERE state IN ('done', 'failed', 'superseded') AND updated_at < $1",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let deliveries = sqlx::query(
                "DELETE FROM deliveries WHERE received_at < $1 AND NOT EXISTS (
                   SELECT 1 FROM jobs j
                   WHERE j.delivery_id = deliveries.id AND j.state IN ('queued', 'running'))",
            )
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Pruned { deliveries, jobs })
        })
    }

    /// Prunes what is older than `retention` now and then every `every`, until `shutdown`
    /// turns true (the server's maintenance task).
    pub async fn keep_pruned(
        self,
        retention: Duration,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            match self.prune(retention).await {
                Ok(p) if p != Pruned::default() => {
                    tracing::info!(deliveries = p.deliveries, jobs = p.jobs, "pruned the queue");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("pruning the queue: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}

/// A stored job's row.
fn info_of<'r, R: Row>(row: &'r R) -> Result<JobInfo, QueueError>
where
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let payload: String = row.try_get("payload")?;
    Ok(JobInfo {
        id: row.try_get("id")?,
        state: JobState::parse(&row.try_get::<String, _>("state")?)?,
        key: row.try_get("key")?,
        event: describe(&payload),
        delivery: row.try_get("delivery_id")?,
        attempts: row.try_get("attempts")?,
        run_after: row.try_get("run_after")?,
        lease_until: row.try_get("lease_until")?,
        last_error: row.try_get("last_error")?,
        superseded_by: row.try_get("superseded_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A stored event in a few words: its type, and for a push the branch and commit. Read from the
/// JSON, so events of other versions describe themselves too.
fn describe(payload: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(payload) else {
        return "(unreadable)".into();
    };
    let kind = v["type"].as_str().unwrap_or("(unknown)");
    match (v["git_ref"].as_str(), v["after"].as_str()) {
        (Some(r), Some(after)) => format!(
            "{kind} {} {}",
            r.strip_prefix("refs/heads/").unwrap_or(r),
            after.get(..12).unwrap_or(after)
        ),
        _ => kind.to_owned(),
    }
}

/// The scheme of a database URL, for an error message: only when it looks like one (the rest of
/// the URL may hold a password).
fn scheme(url: &str) -> &str {
    match url.split_once("://") {
        Some((s, _))
            if !s.is_empty()
                && s.len() <= 20
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
        {
            s
        }
        _ => "",
    }
}
