//! `--verify-after-merge` through the server: the `pull_request` delivery of a merged fix pull
//! request queues the probe for after `--verify-delay`, in the same transaction as the
//! delivery; when it is due, the App comments the verdict on the merged pull request. (The
//! probe and the comment themselves are tested against live TLS servers in tests/scenarios/verify.rs.)

use std::time::Duration;

use crate::common::deliveries::{deliver, settings, sign};
use crate::common::homelab::{self, INSTALLATION, OWNER, REPO, SECRET};
use ws_fix::app::VerifyAfterMerge;
use ws_fix::queue::{JobState, now_ms};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_fix_pr_is_probed_after_the_delay_and_commented_once() {
    let fake = homelab::fake(false).await;
    let dir = tempfile::tempdir().unwrap();
    let s = settings(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--webhook-secret",
        SECRET,
        "--verify-after-merge",
        // Nothing in the homelab repo is under this suffix: no host is dialled.
        "--verify-allow-hosts",
        "example.invalid",
        "--verify-delay",
        "3600",
    ]);
    let mut app = fake.app().await;
    app.verify = VerifyAfterMerge::from_settings(&s.verify);
    assert!(app.verify.is_some());
    // The fix pull request, opened by a push and merged.
    app.run(
        &ws_fix::events::Event::parse(
            "push",
            &serde_json::to_vec(&homelab::push_payload(&fake, OWNER, REPO)).unwrap(),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let pull = fake
        .pulls(OWNER, REPO)
        .into_iter()
        .find(|p| p.pull.as_ref().unwrap().head_ref == "ws-fix/alpn-order")
        .unwrap();
    fake.merge_pr(OWNER, REPO, pull.number, "alice");

    let mut server = ws_fix::server::start(&s, app).await.unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "action": "closed",
        "number": pull.number,
        "pull_request": {
            "number": pull.number,
            "merged": true,
            "head": {"ref": "ws-fix/alpn-order"},
            "body": pull.body,
        },
        "repository": {"name": REPO, "full_name": format!("{OWNER}/{REPO}"), "owner": {"login": OWNER}},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": INSTALLATION}
    }))
    .unwrap();
    let signature = sign(SECRET, &body);
    let addr = server.addr;
    let send_merged = || deliver(addr, b"pull_request", "merged-1", &body, &signature);
    let before = now_ms();
    let (status, _) = send_merged().await;
    assert_eq!(status, 202);
    let queue = server.state.queue.clone();
    let jobs = queue.list(&[JobState::Queued], 10).await.unwrap();
    let verify = jobs
        .iter()
        .find(|j| j.event.contains("VerifyMerged") || j.event.contains("verify"))
        .unwrap_or_else(|| panic!("a queued probe job: {jobs:?}"));
    assert!(
        verify.run_after >= before + 3_600_000,
        "runs after the delay: {verify:?}"
    );
    assert!(
        fake.comments(OWNER, REPO, pull.number).is_empty(),
        "nothing before the delay"
    );

    // The delay is over.
    queue.due_now().await.unwrap();
    server.state.wake.notify_one();
    let id = verify.id;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen = *server.finished.borrow();
        let job = queue.job(id).await.unwrap().unwrap();
        if job.state == JobState::Done {
            break;
        }
        assert_ne!(job.state, JobState::Failed, "{job:?}");
        tokio::time::timeout_at(deadline, server.finished.wait_for(|n| *n > seen))
            .await
            .expect("the probe job runs in a minute")
            .unwrap();
    }
    let comments = fake.comments(OWNER, REPO, pull.number);
    assert_eq!(comments.len(), 1, "one verdict comment");
    assert!(
        comments[0].body.contains("not dialled"),
        "{}",
        comments[0].body
    );
    // A redelivery of the same delivery queues nothing more.
    let (status, _) = send_merged().await;
    assert_eq!(status, 200);
    assert!(
        queue
            .list(&[JobState::Queued], 10)
            .await
            .unwrap()
            .is_empty()
    );
    server.stop().await;
    fake.assert_no_violations();
}
