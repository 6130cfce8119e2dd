//! The queue's test suite, run against both backends: SQLite in a temporary directory, and a
//! real PostgreSQL server at `WS_FIX_TEST_DATABASE_URL` (each test in a schema of its own, so
//! tests run in parallel). Without that variable the PostgreSQL variants print a skip line and
//! pass, unless `WS_FIX_REQUIRE_POSTGRES=1` (`.ci/run` sets both). A second [`Queue`] opened on
//! the same store stands for a second process or replica.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Barrier, Notify, mpsc, watch};
use ws_fix::events::{Comment, Event, RepoRef};
use ws_fix::queue::{
    Handler, Job, JobError, JobState, Pruned, Queue, QueueError, Recorded, Worker, backoff_ms,
    now_ms, retry_delay_ms,
};

/// Where a test's queue lives.
struct Store {
    _dir: Option<tempfile::TempDir>,
    data_dir: std::path::PathBuf,
    /// PostgreSQL: this test's schema.
    postgres: Option<crate::common::postgres::Schema>,
}

/// Unique numbers within this test process (schema names, comment ids).
static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Store {
    async fn sqlite() -> Store {
        let dir = tempfile::tempdir().unwrap();
        Store {
            data_dir: dir.path().to_path_buf(),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh schema on the test server, or `None` (skipped) when there is none.
    async fn postgres(test: &str) -> Option<Store> {
        Some(Store {
            _dir: None,
            data_dir: std::path::PathBuf::from("/nonexistent"),
            postgres: Some(crate::common::postgres::schema(test).await?),
        })
    }

    /// A new handle on this store (another process).
    async fn open(&self) -> Queue {
        Queue::open(
            &self.data_dir,
            self.postgres.as_ref().map(|p| p.url.as_str()),
        )
        .await
        .unwrap()
    }

    /// `ws-fix jobs` arguments naming this store.
    fn cli_args(&self) -> Vec<String> {
        match &self.postgres {
            Some(p) => vec!["--database-url".into(), p.url.clone()],
            None => vec!["--data-dir".into(), self.data_dir.display().to_string()],
        }
    }

    async fn finish(self) {
        if let Some(schema) = self.postgres {
            schema.drop().await;
        }
    }
}

/// Each test once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let store = super::Store::sqlite().await;
                    super::$name(&store).await;
                    store.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(store) = super::Store::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&store).await;
                    store.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    deliveries_are_recorded_once,
    jobs_are_claimed_oldest_first_when_due,
    one_job_per_repository_at_a_time,
    racing_workers_never_run_one_repository_twice,
    two_claims_at_one_instant_take_one_job_of_a_repository,
    an_expired_lease_is_taken_over,
    a_renewed_lease_is_not_taken_over,
    failures_back_off_with_jitter,
    the_last_attempt_parks_the_job_with_its_reason,
    a_deferred_job_waits_without_losing_an_attempt,
    a_scheduled_job_runs_at_its_time,
    queued_pushes_collapse_into_the_newest_commit,
    pruning_keeps_what_is_pending,
    retry_runs_a_failed_job_again,
    the_worker_renews_leases_and_gives_back_unfinished_jobs,
    several_processes_open_one_new_database_at_once,
    ws_fix_jobs_lists_and_retries,
);

fn repo(name: &str) -> RepoRef {
    RepoRef {
        installation: 7,
        owner: "acme".into(),
        name: name.into(),
    }
}

fn key(name: &str) -> String {
    format!("7/acme/{name}")
}

fn push(name: &str, git_ref: &str, after: &str, paths: &[&str]) -> Event {
    Event::Push {
        repo: repo(name),
        git_ref: git_ref.into(),
        after: after.into(),
        default_branch: "main".into(),
        sender: "alice".into(),
        sender_is_bot: false,
        paths: paths.iter().map(|p| p.to_string()).collect(),
    }
}

fn comment(name: &str, id: u64) -> Event {
    Event::Comment(Comment {
        repo: repo(name),
        issue: 1,
        is_pull_request: false,
        comment_id: id,
        author: "alice".into(),
        author_is_bot: false,
        body: "/ws-fix scan".into(),
        previous_body: None,
    })
}

async fn record_comment(queue: &Queue, delivery: &str, name: &str) {
    let id = COUNTER.fetch_add(1, Ordering::SeqCst) as u64;
    assert_eq!(
        queue
            .record(delivery, "issue_comment", &comment(name, id))
            .await
            .unwrap(),
        Recorded::New { jobs: 1 }
    );
}

async fn info(queue: &Queue, id: i64) -> ws_fix::queue::JobInfo {
    queue.job(id).await.unwrap().expect("the job exists")
}

async fn deliveries_are_recorded_once(store: &Store) {
    let queue = store.open().await;
    let event = push("a", "refs/heads/main", "1", &[]);
    assert_eq!(
        queue.record("d-1", "push", &event).await.unwrap(),
        Recorded::New { jobs: 1 }
    );
    // A redelivery, through another process too.
    let other = store.open().await;
    assert_eq!(
        other.record("d-1", "push", &event).await.unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(queue.states("d-1").await.unwrap(), [JobState::Queued]);
    let installed = Event::Installed {
        repos: vec![repo("b"), repo("c")],
    };
    assert_eq!(
        queue
            .record("d-2", "installation", &installed)
            .await
            .unwrap(),
        Recorded::New { jobs: 2 }
    );
    assert_eq!(
        queue.record("d-3", "ping", &Event::Ping).await.unwrap(),
        Recorded::New { jobs: 0 }
    );
    // Removing the repository drops its queued job.
    let removed = Event::Removed {
        installation: 7,
        repos: vec![repo("b")],
    };
    queue.record("d-4", "installation", &removed).await.unwrap();
    assert_eq!(queue.states("d-2").await.unwrap(), [JobState::Queued]);
    let counts = queue.counts().await.unwrap();
    assert_eq!(counts, [("queued".to_string(), 2)]);
}

async fn jobs_are_claimed_oldest_first_when_due(store: &Store) {
    let queue = store.open().await;
    let later = queue
        .schedule(&key("z"), &comment("z", 1), now_ms() + 3_600_000)
        .await
        .unwrap();
    for (d, name) in [("c-a", "a"), ("c-b", "b"), ("c-c", "c")] {
        record_comment(&queue, d, name).await;
    }
    let mut order = Vec::new();
    while let Some(job) = queue.claim().await.unwrap() {
        assert_eq!(job.attempts, 1);
        order.push(job.delivery.clone().unwrap());
        queue.complete(&job).await.unwrap();
    }
    assert_eq!(order, ["c-a", "c-b", "c-c"]);
    assert_eq!(info(&queue, later).await.state, JobState::Queued);
}

async fn one_job_per_repository_at_a_time(store: &Store) {
    let queue = store.open().await;
    record_comment(&queue, "a1", "a").await;
    record_comment(&queue, "a2", "a").await;
    record_comment(&queue, "b1", "b").await;
    let first = queue.claim().await.unwrap().unwrap();
    assert_eq!(first.delivery.as_deref(), Some("a1"));
    // a2 waits for a1, in this process and in any other; b1 may run beside it.
    let second = queue.claim().await.unwrap().unwrap();
    assert_eq!(second.delivery.as_deref(), Some("b1"));
    assert!(queue.claim().await.unwrap().is_none());
    assert!(store.open().await.claim().await.unwrap().is_none());
    assert!(queue.complete(&first).await.unwrap());
    let third = queue.claim().await.unwrap().unwrap();
    assert_eq!(third.delivery.as_deref(), Some("a2"));
}

async fn racing_workers_never_run_one_repository_twice(store: &Store) {
    const REPOS: usize = 3;
    const PER_REPO: usize = 8;
    let seed = store.open().await;
    for i in 0..PER_REPO {
        for r in 0..REPOS {
            record_comment(&seed, &format!("race-{r}-{i}"), &format!("r{r}")).await;
        }
    }
    let replicas = [store.open().await, store.open().await];
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let claimed: Arc<Mutex<Vec<i64>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let queue = replicas[w % 2].clone();
        let (running, claimed, done) = (running.clone(), claimed.clone(), done.clone());
        tasks.spawn(async move {
            while done.load(Ordering::SeqCst) < REPOS * PER_REPO {
                let Some(job) = queue.claim().await.unwrap() else {
                    tokio::task::yield_now().await;
                    continue;
                };
                assert!(
                    running.lock().unwrap().insert(job.key.clone()),
                    "two jobs of {} ran at once",
                    job.key
                );
                claimed.lock().unwrap().push(job.id);
                tokio::task::yield_now().await;
                running.lock().unwrap().remove(&job.key);
                assert!(queue.complete(&job).await.unwrap());
                done.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(t) = tasks.join_next().await {
            t.unwrap();
        }
    })
    .await
    .expect("the workers finished");
    let claimed = claimed.lock().unwrap().clone();
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), REPOS * PER_REPO, "every job ran once");
    assert_eq!(unique.len(), REPOS * PER_REPO);
    assert_eq!(seed.counts().await.unwrap(), [("done".to_string(), 24)]);
}

async fn two_claims_at_one_instant_take_one_job_of_a_repository(store: &Store) {
    let replicas = [store.open().await, store.open().await];
    for round in 0..10 {
        record_comment(&replicas[0], &format!("x-{round}-1"), "x").await;
        record_comment(&replicas[1], &format!("x-{round}-2"), "x").await;
        let barrier = Arc::new(Barrier::new(2));
        let claims = replicas.clone().map(|queue| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                queue.claim().await.unwrap()
            })
        });
        let mut jobs = Vec::new();
        for c in claims {
            jobs.extend(c.await.unwrap());
        }
        assert_eq!(jobs.len(), 1, "round {round}: {jobs:?}");
        replicas[0].complete(&jobs[0]).await.unwrap();
        let next = replicas[1].claim().await.unwrap().expect("the second job");
        assert_ne!(next.id, jobs[0].id);
        replicas[1].complete(&next).await.unwrap();
    }
}

async fn an_expired_lease_is_taken_over(store: &Store) {
    // A worker whose lease runs out at once: as if it had died.
    let dying = store.open().await.with_lease(Duration::ZERO);
    let other = store.open().await;
    record_comment(&dying, "l-1", "a").await;
    let lost = dying.claim().await.unwrap().unwrap();
    let taken = other.claim().await.unwrap().expect("taken over");
    assert_eq!(taken.id, lost.id);
    assert_eq!(taken.attempts, 2);
    // The first worker can no longer renew it or record anything for it.
    assert!(!dying.renew(&lost).await.unwrap());
    assert!(!dying.complete(&lost).await.unwrap());
    assert_eq!(
        dying
            .fail(&lost, &JobError::transient("late"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(info(&other, taken.id).await.state, JobState::Running);
    assert!(other.complete(&taken).await.unwrap());
    assert_eq!(info(&other, taken.id).await.state, JobState::Done);
}

async fn a_renewed_lease_is_not_taken_over(store: &Store) {
    let short = store.open().await.with_lease(Duration::ZERO);
    let long = store.open().await.with_lease(Duration::from_secs(600));
    record_comment(&short, "r-1", "a").await;
    let job = short.claim().await.unwrap().unwrap();
    // The worker renews it in time (with a lease that lasts).
    assert!(long.renew(&job).await.unwrap());
    let held = info(&long, job.id).await;
    assert!(held.lease_until.unwrap() > now_ms() + 500_000);
    assert!(store.open().await.claim().await.unwrap().is_none());
    assert!(short.complete(&job).await.unwrap());
}

async fn failures_back_off_with_jitter(store: &Store) {
    for failures in 1..=12 {
        let ceiling = backoff_ms(failures);
        assert_eq!(
            ceiling,
            (10_000i64 << (failures - 1)).min(3_600_000),
            "after {failures}"
        );
        let delays: HashSet<i64> = (0..200).map(|_| retry_delay_ms(failures)).collect();
        assert!(
            delays.iter().all(|d| (ceiling / 2..=ceiling).contains(d)),
            "after {failures}: {delays:?}"
        );
        assert!(delays.len() > 20, "jitter spreads retries: {delays:?}");
    }
    let queue = store.open().await;
    record_comment(&queue, "b-1", "a").await;
    let job = queue.claim().await.unwrap().unwrap();
    let before = now_ms();
    assert_eq!(
        queue
            .fail(&job, &JobError::transient("GitHub answered 502"))
            .await
            .unwrap(),
        Some(JobState::Queued)
    );
    let after = now_ms();
    let stored = info(&queue, job.id).await;
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.last_error.as_deref(), Some("GitHub answered 502"));
    assert!(
        stored.run_after >= before + 5_000 && stored.run_after <= after + 10_000,
        "{} after {before}",
        stored.run_after
    );
    assert!(queue.claim().await.unwrap().is_none(), "not due yet");
    queue.due_now().await.unwrap();
    assert_eq!(queue.claim().await.unwrap().unwrap().attempts, 2);
}

async fn the_last_attempt_parks_the_job_with_its_reason(store: &Store) {
    let queue = store.open().await.with_max_attempts(3);
    record_comment(&queue, "p-1", "a").await;
    let mut states = Vec::new();
    while let Some(job) = queue.claim().await.unwrap() {
        let error = JobError::transient(format!("GitHub answered 502 (attempt {})", job.attempts));
        states.push(queue.fail(&job, &error).await.unwrap().unwrap());
        queue.due_now().await.unwrap();
    }
    assert_eq!(
        states,
        [JobState::Queued, JobState::Queued, JobState::Failed]
    );
    let parked = queue.list(&[JobState::Failed], 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].attempts, 3);
    assert_eq!(
        parked[0].last_error.as_deref(),
        Some("GitHub answered 502 (attempt 3)")
    );

    // An error another attempt cannot fix parks it at once.
    record_comment(&queue, "p-2", "b").await;
    let job = queue.claim().await.unwrap().unwrap();
    let error = JobError::permanent("the repo config: unknown key");
    assert_eq!(
        queue.fail(&job, &error).await.unwrap(),
        Some(JobState::Failed)
    );
    assert_eq!(info(&queue, job.id).await.attempts, 1);

    // A job whose worker keeps dying is parked after its last attempt, not run forever.
    let dying = store
        .open()
        .await
        .with_lease(Duration::ZERO)
        .with_max_attempts(2);
    record_comment(&dying, "p-3", "c").await;
    assert_eq!(dying.claim().await.unwrap().unwrap().attempts, 1);
    let last = dying.claim().await.unwrap().unwrap();
    assert_eq!(last.attempts, 2);
    assert!(dying.claim().await.unwrap().is_none());
    let stored = info(&dying, last.id).await;
    assert_eq!(stored.state, JobState::Failed);
    assert!(
        stored.last_error.unwrap().contains("lease ran out"),
        "the reason is kept"
    );
}

async fn a_deferred_job_waits_without_losing_an_attempt(store: &Store) {
    let queue = store.open().await.with_max_attempts(1);
    record_comment(&queue, "w-1", "a").await;
    let job = queue.claim().await.unwrap().unwrap();
    let before = now_ms();
    let wait = JobError::defer("rate limited until the reset", Duration::from_secs(60));
    assert_eq!(
        queue.fail(&job, &wait).await.unwrap(),
        Some(JobState::Queued),
        "a deferral on the last attempt does not park the job"
    );
    let stored = info(&queue, job.id).await;
    assert_eq!(stored.attempts, 0);
    assert!(stored.run_after >= before + 60_000);
    assert!(queue.claim().await.unwrap().is_none());
    queue.due_now().await.unwrap();
    let again = queue.claim().await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

async fn a_scheduled_job_runs_at_its_time(store: &Store) {
    let queue = store.open().await;
    let event = comment("a", 99);
    let id = queue
        .schedule(&key("a"), &event, now_ms() + 300_000)
        .await
        .unwrap();
    assert!(queue.claim().await.unwrap().is_none());
    let stored = info(&queue, id).await;
    assert_eq!((stored.state, stored.delivery), (JobState::Queued, None));
    queue.due_now().await.unwrap();
    let job = queue.claim().await.unwrap().unwrap();
    assert_eq!((job.id, job.delivery, job.event), (id, None, event));
}

async fn record_push(queue: &Queue, delivery: &str, event: Event) {
    assert_eq!(
        queue.record(delivery, "push", &event).await.unwrap(),
        Recorded::New { jobs: 1 }
    );
}

async fn queued_pushes_collapse_into_the_newest_commit(store: &Store) {
    let queue = store.open().await;
    let main = "refs/heads/main";
    record_push(&queue, "p1", push("a", main, "aaa", &["x.yaml"])).await;
    record_push(&queue, "p2", push("a", main, "bbb", &["README.md"])).await;
    record_push(
        &queue,
        "f1",
        push("a", "refs/heads/dev", "ddd", &["y.yaml"]),
    )
    .await;
    record_push(&queue, "q1", push("b", main, "eee", &["z.yaml"])).await;
    assert_eq!(queue.states("p1").await.unwrap(), [JobState::Superseded]);
    assert_eq!(queue.states("p2").await.unwrap(), [JobState::Queued]);
    let first = queue.claim().await.unwrap().unwrap();
    assert_eq!(first.delivery.as_deref(), Some("p2"));
    assert_eq!(
        first.event,
        push("a", main, "bbb", &["x.yaml", "README.md"])
    );
    let superseded = queue.list(&[JobState::Superseded], 10).await.unwrap();
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0].superseded_by, Some(first.id));
    // Other branches and repositories are not merged in.
    let other = queue.claim().await.unwrap().unwrap();
    assert_eq!(other.delivery.as_deref(), Some("q1"));
    queue.complete(&other).await.unwrap();

    // A running push is not touched: the next one queues behind it, and collapses with later
    // ones.
    record_push(&queue, "p3", push("a", main, "ccc", &["x.yaml"])).await;
    record_push(&queue, "p4", push("a", main, "fff", &["w.yaml"])).await;
    assert_eq!(queue.states("p2").await.unwrap(), [JobState::Running]);
    assert_eq!(queue.states("p3").await.unwrap(), [JobState::Superseded]);
    queue.complete(&first).await.unwrap();
    let mut events = Vec::new();
    while let Some(job) = queue.claim().await.unwrap() {
        events.push(job.event.clone());
        queue.complete(&job).await.unwrap();
    }
    assert_eq!(
        events,
        [
            push("a", "refs/heads/dev", "ddd", &["y.yaml"]),
            push("a", main, "fff", &["x.yaml", "w.yaml"]),
        ]
    );
}

async fn pruning_keeps_what_is_pending(store: &Store) {
    let queue = store.open().await;
    record_comment(&queue, "old-done", "a").await;
    record_comment(&queue, "old-failed", "b").await;
    record_comment(&queue, "old-queued", "c").await;
    let done = queue.claim().await.unwrap().unwrap();
    queue.complete(&done).await.unwrap();
    let failed = queue.claim().await.unwrap().unwrap();
    queue
        .fail(&failed, &JobError::permanent("no"))
        .await
        .unwrap();
    // Nothing is old enough yet.
    assert_eq!(
        queue.prune(Duration::from_secs(86_400)).await.unwrap(),
        Pruned::default()
    );
    let pruned = queue.prune_before(now_ms() + 1).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            deliveries: 2,
            jobs: 2
        }
    );
    assert!(queue.job(done.id).await.unwrap().is_none());
    assert!(queue.job(failed.id).await.unwrap().is_none());
    assert_eq!(
        queue.states("old-queued").await.unwrap(),
        [JobState::Queued]
    );
    // The pending delivery is still recognised; a pruned one is not.
    assert_eq!(
        queue
            .record("old-queued", "issue_comment", &comment("c", 1))
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(
        queue
            .record("old-done", "issue_comment", &comment("a", 1))
            .await
            .unwrap(),
        Recorded::New { jobs: 1 }
    );
}

async fn retry_runs_a_failed_job_again(store: &Store) {
    let queue = store.open().await;
    record_comment(&queue, "t-1", "a").await;
    let job = queue.claim().await.unwrap().unwrap();
    queue
        .fail(&job, &JobError::permanent("GitHub answered 403"))
        .await
        .unwrap();
    let retried = store.open().await.retry(job.id).await.unwrap();
    assert_eq!(
        (retried.state, retried.attempts),
        (JobState::Queued, 0),
        "{retried:?}"
    );
    let again = queue.claim().await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (job.id, 1));
    assert!(matches!(
        queue.retry(job.id).await,
        Err(QueueError::NotRetryable {
            state: JobState::Running,
            ..
        })
    ));
    queue.complete(&again).await.unwrap();
    let err = queue.retry(job.id).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "job {} is done: only a failed or queued job can be retried",
            job.id
        )
    );
    assert!(matches!(
        queue.retry(424_242).await,
        Err(QueueError::NoSuchJob(424_242))
    ));
}

/// Signals when a job starts, and finishes it when told.
struct Blocking {
    started: mpsc::UnboundedSender<i64>,
    finish: Arc<Notify>,
}

impl Handler for Blocking {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        self.started.send(job.id).unwrap();
        self.finish.notified().await;
        Ok(())
    }
}

/// Waits (polling the queue) until `cond` holds for job `id`.
async fn wait_for_job(
    queue: &Queue,
    id: i64,
    what: &str,
    cond: impl Fn(&ws_fix::queue::JobInfo) -> bool,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            tick.tick().await;
            if cond(&info(queue, id).await) {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("job {id}: {what}"));
}

async fn the_worker_renews_leases_and_gives_back_unfinished_jobs(store: &Store) {
    let queue = store.open().await.with_lease(Duration::from_millis(1500));
    record_comment(&queue, "h-1", "a").await;
    record_comment(&queue, "h-2", "b").await;
    let (started, mut starts) = mpsc::unbounded_channel();
    let finish = Arc::new(Notify::new());
    let handler = Blocking {
        started,
        finish: finish.clone(),
    };
    let worker = Worker::new(queue.clone(), handler, Arc::new(Notify::new()), 2)
        .with_grace(Duration::from_millis(50));
    let mut finished = worker.finished();
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(worker.run(shutdown));
    let first = starts.recv().await.unwrap();
    let second = starts.recv().await.unwrap();
    // Held well past its lease: renewed, never taken over by another process.
    let taken = info(&queue, first).await.lease_until.unwrap();
    for _ in 0..2 {
        let last = info(&queue, first).await.lease_until.unwrap();
        wait_for_job(&queue, first, "lease renewed", |j| {
            j.lease_until.unwrap() > last
        })
        .await;
        assert!(store.open().await.claim().await.unwrap().is_none());
    }
    assert!(info(&queue, first).await.lease_until.unwrap() >= taken + 1000);
    // One job finishes; on shutdown the other is still running after the grace period and goes
    // back to the queue, its attempt not counted.
    finish.notify_one();
    finished.wait_for(|n| *n >= 1).await.unwrap();
    stop.send(true).unwrap();
    running.await.unwrap();
    let states = [
        info(&queue, first).await.state,
        info(&queue, second).await.state,
    ];
    assert!(
        states.contains(&JobState::Done) && states.contains(&JobState::Queued),
        "{states:?}"
    );
    let back = queue.list(&[JobState::Queued], 10).await.unwrap();
    assert_eq!((back.len(), back[0].attempts), (1, 0));
    assert!(store.open().await.claim().await.unwrap().is_some());
}

async fn several_processes_open_one_new_database_at_once(store: &Store) {
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let data_dir = store.data_dir.clone();
            let url = store.postgres.as_ref().map(|p| p.url.clone());
            tokio::spawn(async move { Queue::open(&data_dir, url.as_deref()).await })
        })
        .collect();
    let mut queues = Vec::new();
    for o in opens {
        queues.push(o.await.unwrap().expect("every process opens the queue"));
    }
    record_comment(&queues[0], "o-1", "a").await;
    assert!(queues[3].claim().await.unwrap().is_some());
    // Opening again changes nothing.
    let again = store.open().await;
    assert_eq!(again.counts().await.unwrap(), [("running".to_string(), 1)]);
}

fn ws_fix(args: &[String]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(args)
        .env_remove("WS_FIX_DATABASE_URL")
        .env_remove("WS_FIX_DATA_DIR")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn ws_fix_jobs_lists_and_retries(store: &Store) {
    let queue = store.open().await;
    record_comment(&queue, "j-1", "a").await;
    record_comment(&queue, "j-2", "b").await;
    let job = queue.claim().await.unwrap().unwrap();
    queue
        .fail(
            &job,
            &JobError::permanent("GitHub answered 422:\nnot valid"),
        )
        .await
        .unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["jobs".into()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(store.cli_args());
        a
    };

    let (ok, out, err) = ws_fix(&args(&[]));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("LAST ERROR"),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{} ", job.id))
            && l.contains("failed")
            && l.contains("GitHub answered 422: not valid")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("queued") && l.contains("7/acme/b")),
        "{out}"
    );
    assert!(out.ends_with("in the queue: 1 failed, 1 queued\n"), "{out}");

    let (ok, out, _) = ws_fix(&args(&["--format", "json", "--state", "failed"]));
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(v["jobs"][0]["id"], job.id);
    assert_eq!(v["jobs"][0]["state"], "failed");
    assert_eq!(
        v["jobs"][0]["last_error"],
        "GitHub answered 422:\nnot valid"
    );
    assert_eq!(v["counts"]["queued"], 1);

    let (ok, out, err) = ws_fix(&args(&["retry", &job.id.to_string()]));
    assert!(ok, "{err}");
    assert!(out.contains("queued to run now"), "{out}");
    assert_eq!(info(&queue, job.id).await.state, JobState::Queued);

    let (ok, _, err) = ws_fix(&args(&["retry", "424242"]));
    assert!(!ok);
    assert_eq!(err, "error: no job 424242\n");
    let (ok, out, _) = ws_fix(&args(&["--state", "done"]));
    assert!(ok);
    assert!(out.starts_with("no jobs to show\n"), "{out}");

    // Looking at a data directory without a queue creates none.
    let empty = tempfile::tempdir().unwrap();
    let (ok, _, err) = ws_fix(&[
        "jobs".into(),
        "--data-dir".into(),
        empty.path().display().to_string(),
    ]);
    assert!(!ok && err.contains("holds no ws-fix.db"), "{err}");
    assert!(!empty.path().join(ws_fix::queue::SQLITE_FILE).exists());

    // A database URL never shows in an error, password and all.
    let mut bad = vec![
        "mysql://ws:hunter2@127.0.0.1/none".to_string(),
        "ws:hunter2@127.0.0.1".to_string(),
    ];
    if let Some(url) = store.postgres.as_ref().map(|p| &p.url) {
        // The test server with a wrong password.
        let (scheme, rest) = url.split_once("://").unwrap();
        let host = rest.split_once('@').map_or(rest, |(_, h)| h);
        bad.push(format!("{scheme}://ws_fix:hunter2@{host}"));
    }
    for url in bad {
        let (ok, _, err) = ws_fix(&["jobs".into(), "--database-url".into(), url.clone()]);
        assert!(!ok);
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        if url.contains("ws_fix:") {
            assert!(err.contains("password authentication failed"), "{err}");
        }
    }
}

/// A queue file of the first version (before PostgreSQL) opens with its jobs.
#[tokio::test]
async fn an_old_sqlite_queue_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("ws-fix.db"))
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        for stmt in [
            "CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, received_at INTEGER NOT NULL)",
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0, run_after INTEGER NOT NULL, lease_until INTEGER, last_error TEXT, created_at INTEGER NOT NULL)",
            "CREATE INDEX jobs_ready ON jobs (state, run_after)",
            "CREATE INDEX jobs_key ON jobs (key, state)",
        ] {
            sqlx::query(stmt).execute(&pool).await.unwrap();
        }
        let rows = [
            (
                "v1",
                push("a", "refs/heads/main", "old", &["x.yaml"]),
                "queued",
            ),
            ("v2", comment("b", 1), "running"),
            ("v3", comment("c", 2), "done"),
        ];
        for (delivery, event, state) in rows {
            sqlx::query("INSERT INTO deliveries VALUES ($1, 'push', 1)")
                .bind(delivery)
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO jobs (delivery_id, key, payload, state, attempts, run_after, lease_until, created_at)
                 VALUES ($1, $2, $3, $4, 1, 0, 99999999999999, 1)",
            )
            .bind(delivery)
            .bind(ws_fix::queue::jobs_of(&event)[0].0.clone())
            .bind(serde_json::to_string(&event).unwrap())
            .bind(state)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let queue = Queue::sqlite(dir.path()).await.unwrap();
    let all = queue.list(&JobState::ALL, 10).await.unwrap();
    let states: Vec<(i64, JobState)> = all.iter().map(|j| (j.id, j.state)).collect();
    // The old process is gone: its running job is queued again.
    assert_eq!(
        states,
        [
            (1, JobState::Queued),
            (2, JobState::Queued),
            (3, JobState::Done)
        ]
    );
    assert_eq!(
        queue
            .record("v1", "push", &push("a", "refs/heads/main", "old", &[]))
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    // The old queued push collapses with a new one.
    queue
        .record(
            "v4",
            "push",
            &push("a", "refs/heads/main", "new", &["y.yaml"]),
        )
        .await
        .unwrap();
    assert_eq!(queue.states("v1").await.unwrap(), [JobState::Superseded]);
    assert_eq!(queue.claim().await.unwrap().unwrap().id, 2);
    let push_job = queue.claim().await.unwrap().unwrap();
    assert_eq!(
        push_job.event,
        push("a", "refs/heads/main", "new", &["x.yaml", "y.yaml"])
    );
    assert!(push_job.id > 3, "ids are not reused");
    let rows = |jobs: Vec<ws_fix::queue::JobInfo>| -> Vec<(i64, JobState, i64)> {
        jobs.iter().map(|j| (j.id, j.state, j.attempts)).collect()
    };
    let before = rows(queue.list(&JobState::ALL, 10).await.unwrap());
    assert_eq!(before.len(), 4);
    drop(queue);
    // Opening again changes nothing.
    let queue = Queue::sqlite(dir.path()).await.unwrap();
    assert_eq!(rows(queue.list(&JobState::ALL, 10).await.unwrap()), before);
}
