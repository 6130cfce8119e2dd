//! The webhook server end to end on loopback: signed deliveries built from GitHub's own payload
//! examples, the durable queue, redelivery, a restart between the answer and the job, bad
//! signatures, oversized bodies and unknown events.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::deliveries::{self, sign};
use ws_fix::events::Event;
use ws_fix::queue::{Handler, Job, JobError, JobState};
use ws_fix::server::{Running, Secret, Settings};

const SECRET: &str = "It's a Secret to Everybody";

/// Records the events it handles; fails the first `fail_first` attempts.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Event>>>,
    fail_first: Arc<Mutex<usize>>,
}

impl Handler for Recorder {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        {
            let mut f = self.fail_first.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(JobError::transient("GitHub answered 502"));
            }
        }
        self.seen.lock().unwrap().push(job.event.clone());
        Ok(())
    }
}

fn settings(dir: &Path) -> Settings {
    Settings {
        app_id: None,
        private_key_file: None,
        private_key: None,
        webhook_secret: Some(Secret::new(SECRET)),
        webhook_secret_previous: Some(Secret::new("old secret")),
        github_api_url: "http://127.0.0.1:9".into(),
        github_url: "https://github.com".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        database_url: None,
        verify: Default::default(),
        queue: Default::default(),
    }
}

fn payload(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/github/payloads")
        .join(name);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    // Real App deliveries carry the installation; some examples do not.
    if v["installation"].is_null() {
        v["installation"] = serde_json::json!({"id": 4242});
    }
    serde_json::to_vec(&v).unwrap()
}

/// `POST /webhook` on a fresh connection; the status code and body.
async fn post(
    server: &Running,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: &str,
) -> (u16, String) {
    deliveries::deliver(server.addr, event.as_bytes(), delivery, body, signature).await
}

async fn get(server: &Running, path: &str) -> (u16, String) {
    deliveries::get(server.addr, path).await
}

/// Waits until `n` jobs have finished (no sleeping: the worker signals each one).
async fn finished(server: &mut Running, n: u64) {
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        server.finished.wait_for(|c| *c >= n),
    )
    .await
    .expect("jobs did not finish in time")
    .unwrap();
}

#[tokio::test]
async fn a_signed_push_is_queued_run_once_and_redelivery_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let handler = Recorder::default();
    let mut server = ws_fix::server::start(&settings(dir.path()), handler.clone())
        .await
        .unwrap();
    let body = payload("push.json");
    let (status, _) = post(&server, "push", "d-1", &body, &sign(SECRET, &body)).await;
    assert_eq!(status, 202);
    finished(&mut server, 1).await;
    assert!(matches!(
        handler.seen.lock().unwrap()[0],
        Event::Push { .. }
    ));
    // The same delivery again (GitHub keeps the id on redelivery): nothing new.
    let (status, text) = post(&server, "push", "d-1", &body, &sign(SECRET, &body)).await;
    assert_eq!((status, text.as_str()), (200, "already received\n"));
    assert_eq!(
        server.state.queue.states("d-1").await.unwrap(),
        [JobState::Done]
    );
    // The previous secret still works during a rotation.
    let (status, _) = post(&server, "push", "d-2", &body, &sign("old secret", &body)).await;
    assert_eq!(status, 202);
    finished(&mut server, 2).await;
    let (status, metrics) = get(&server, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("ws_fix_deliveries_total{event=\"push\",outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ws_fix_jobs{state=\"done\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_signatures_big_bodies_and_unknown_events() {
    let dir = tempfile::tempdir().unwrap();
    let server = ws_fix::server::start(&settings(dir.path()), Recorder::default())
        .await
        .unwrap();
    let body = payload("push.json");
    assert_eq!(
        post(&server, "push", "x", &body, &sign("wrong", &body))
            .await
            .0,
        401
    );
    assert_eq!(post(&server, "push", "x", &body, "sha256=00").await.0, 401);
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    assert_eq!(
        post(&server, "push", "y", &big, &sign(SECRET, &big))
            .await
            .0,
        413
    );
    let body = payload("check_run.created.json");
    let (status, text) = post(&server, "check_run", "z", &body, &sign(SECRET, &body)).await;
    assert_eq!(
        (status, text.as_str()),
        (200, "ignored: check_run created\n")
    );
    let body = b"{not json".to_vec();
    assert_eq!(
        post(&server, "push", "w", &body, &sign(SECRET, &body))
            .await
            .0,
        400
    );
    assert_eq!(get(&server, "/healthz").await.0, 200);
    assert_eq!(get(&server, "/readyz").await.0, 200);
    assert!(server.state.queue.states("x").await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_job_survives_a_restart_and_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let failing = Recorder::default();
    *failing.fail_first.lock().unwrap() = 1;
    let mut first = ws_fix::server::start(&settings(dir.path()), failing.clone())
        .await
        .unwrap();
    let body = payload("issue_comment.created.json");
    assert_eq!(
        post(&first, "issue_comment", "c-1", &body, &sign(SECRET, &body))
            .await
            .0,
        202
    );
    // The first attempt fails (a 502 from GitHub) and the job waits for its backoff.
    finished(&mut first, 1).await;
    assert_eq!(
        first.state.queue.states("c-1").await.unwrap(),
        [JobState::Queued]
    );
    first.stop().await;
    assert!(failing.seen.lock().unwrap().is_empty());

    // A new process on the same data directory runs it.
    let handler = Recorder::default();
    let mut second = ws_fix::server::start(&settings(dir.path()), handler.clone())
        .await
        .unwrap();
    second.state.queue.due_now().await.unwrap();
    second.state.wake.notify_one();
    finished(&mut second, 1).await;
    assert_eq!(
        second.state.queue.states("c-1").await.unwrap(),
        [JobState::Done]
    );
    assert!(matches!(handler.seen.lock().unwrap()[0], Event::Comment(_)));
    second.stop().await;
}

#[tokio::test]
async fn installation_events_fan_out_and_removal_drops_queued_work() {
    let dir = tempfile::tempdir().unwrap();
    let queue = ws_fix::queue::Queue::sqlite(dir.path()).await.unwrap();
    let created = Event::parse("installation", &payload("installation.created.json")).unwrap();
    let Event::Installed { repos } = &created else {
        panic!("{created:?}")
    };
    let n = repos.len();
    assert!(n >= 1);
    assert_eq!(
        queue.record("i-1", "installation", &created).await.unwrap(),
        ws_fix::queue::Recorded::New { jobs: n }
    );
    let deleted = Event::parse("installation", &payload("installation.deleted.json")).unwrap();
    let Event::Removed { installation, .. } = deleted else {
        panic!()
    };
    let removal = Event::Removed {
        installation: repos[0].installation,
        repos: Vec::new(),
    };
    let _ = installation;
    queue.record("i-2", "installation", &removal).await.unwrap();
    assert!(
        queue.states("i-1").await.unwrap().is_empty(),
        "queued jobs of a removed installation are dropped"
    );
}
