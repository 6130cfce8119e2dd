//! The redelivery sweep against the fake GitHub's delivery log: deliveries that failed while
//! the server was down are delivered again, once, and processed; those the server accepted
//! are left alone.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::deliveries::{settings, unreachable_addr};
use crate::common::homelab::{self, OWNER, REPO, SECRET};
use ws_fix::queue::{JobState, now_ms};
use ws_fix::server::redeliver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_missed_while_down_are_redelivered_once_and_processed() {
    let fake = homelab::fake(false).await;
    // Nothing listens here: GitHub records the attempts as failed.
    let down = unreachable_addr();
    fake.set_hook(down, SECRET);
    let payload = homelab::push_payload(&fake, OWNER, REPO);
    let (missed_push, status) = fake.deliver_event("push", &payload).await;
    assert_eq!(status, 0);
    let (missed_ping, _) = fake
        .deliver_event(
            "ping",
            &serde_json::json!({"zen": "Keep it logically awesome."}),
        )
        .await;

    let dir = tempfile::tempdir().unwrap();
    let s = settings(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--webhook-secret",
        SECRET,
    ]);
    let mut server = ws_fix::server::start(&s, fake.app().await).await.unwrap();
    fake.set_hook(server.addr, SECRET);
    let (accepted, status) = fake.deliver_event("ping", &serde_json::json!({})).await;
    assert_eq!(status, 202);

    let github = fake.app().await.github;
    let queue = server.state.queue.clone();
    let recorded = |ids: Vec<String>| {
        let queue = queue.clone();
        async move { queue.recorded(&ids).await.ok() }
    };
    let report = redeliver::sweep(&github, now_ms(), 3_600_000, recorded)
        .await
        .unwrap();
    let redelivered: HashSet<&str> = report.redelivered.iter().map(String::as_str).collect();
    assert_eq!(
        redelivered,
        HashSet::from([missed_push.as_str(), missed_ping.as_str()])
    );
    assert!(!redelivered.contains(accepted.as_str()));
    // The fake answers the redelivery request once it was delivered: the server has it.
    let attempts = fake.hook_attempts();
    let redelivery = attempts
        .iter()
        .find(|a| a.guid == missed_push && a.redelivery)
        .expect("the push was delivered again");
    assert_eq!(redelivery.status_code, 202);

    tokio::time::timeout(
        Duration::from_secs(60),
        server.finished.wait_for(|n| *n >= 1),
    )
    .await
    .expect("the redelivered push is processed in a minute")
    .unwrap();
    assert_eq!(queue.states(&missed_push).await.unwrap(), [JobState::Done]);
    assert_eq!(
        homelab::open_pulls(&fake, OWNER, REPO),
        ["ws-fix/alpn-order"]
    );

    // Healed: the next sweep asks for nothing.
    let queue2 = queue.clone();
    let again = redeliver::sweep(
        &github,
        now_ms(),
        3_600_000,
        |ids: Vec<String>| async move { queue2.recorded(&ids).await.ok() },
    )
    .await
    .unwrap();
    assert!(again.redelivered.is_empty(), "{again:?}");
    assert_eq!(again.already_recorded, 0);
    server.stop().await;
    fake.assert_no_violations();
}

#[tokio::test]
async fn the_delivery_log_is_read_page_by_page_within_the_window() {
    let fake = homelab::fake(false).await;
    let down = unreachable_addr();
    fake.set_hook(down, SECRET);
    for _ in 0..130 {
        fake.deliver_event("ping", &serde_json::json!({})).await;
    }
    let github = fake.app().await.github;
    let all = github
        .hook_deliveries(now_ms(), 3_600_000, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 130, "two pages of the log");
    let ids: HashSet<u64> = all.iter().map(|d| d.id).collect();
    assert_eq!(ids.len(), 130);
    // Attempts older than the window end the reading: one page, nothing kept.
    fake.clear_log();
    let later = now_ms() + 60_000;
    let none = github.hook_deliveries(later, 30_000, 10).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(fake.count("GET", "/app/hook/deliveries"), 1);
    fake.assert_no_violations();
}
