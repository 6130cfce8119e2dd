//! The repo config as the App reads it through the API: a config file that exists but cannot
//! be read (too large) is an error, never "no config" (which would drop `paused: true`).

use crate::common::homelab::{self, OWNER, REPO};

#[tokio::test]
async fn an_unreadable_config_fails_the_job_and_opens_nothing() {
    let fake = homelab::fake(false).await;
    let app = fake.app().await;
    let big = format!(
        "version: 1\npaused: true\n{}",
        "# padding\n".repeat((app.max_file_size as usize) / 10 + 1)
    );
    fake.push_commit(
        OWNER,
        REPO,
        "main",
        "alice",
        "pause ws-fix",
        &[(".github/ws-fix.yml", Some(&big))],
    );
    let payload = homelab::push_payload(&fake, OWNER, REPO);
    let event =
        ws_fix::events::Event::parse("push", &serde_json::to_vec(&payload).unwrap()).unwrap();
    let err = app
        .run(&event)
        .await
        .expect_err("an unreadable config is an error");
    let message = err.to_string();
    assert!(message.contains(".github/ws-fix.yml"), "{message}");
    assert!(fake.pulls(OWNER, REPO).is_empty(), "nothing opened");
    fake.assert_no_violations();
}
