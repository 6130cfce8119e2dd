//! The App against a stateful fake GitHub served over HTTP (tests/common/fake_github.rs), which
//! rejects any request GitHub's REST description does not allow. The production client
//! (octocrab with App auth: JWT → installation token) and the production handler run; the fake
//! checks the description on every request when it is dropped.

use std::time::Duration;

use crate::common::fake_github::{self, FakeGitHub};
use ws_fix::app::{App, Outcome};
use ws_fix::catalogue::{Catalogue, FixKind};
use ws_fix::events::{Comment, Event, RepoRef};

use crate::common::homelab::{ENVOY, INSTALLATION, OWNER, REPO};

struct Ctx {
    fake: FakeGitHub,
    app: App,
}

async fn setup(spdy: bool) -> Ctx {
    let fake = crate::common::homelab::fake(spdy).await;
    let app = fake.app().await;
    Ctx { fake, app }
}

fn repo() -> RepoRef {
    RepoRef {
        installation: INSTALLATION,
        owner: OWNER.into(),
        name: REPO.into(),
    }
}

fn push(after: &str) -> Event {
    Event::Push {
        repo: repo(),
        git_ref: "refs/heads/main".into(),
        after: after.into(),
        default_branch: "main".into(),
        sender: "alice".into(),
        sender_is_bot: false,
        paths: Vec::new(),
    }
}

fn comment(ctx: &Ctx, issue: u64, user: &str, body: &str) -> Event {
    let id = ctx.fake.post_comment_as(OWNER, REPO, issue, user, body);
    Event::Comment(Comment {
        repo: repo(),
        issue,
        is_pull_request: false,
        comment_id: id,
        author: user.into(),
        author_is_bot: false,
        body: body.into(),
        previous_body: None,
    })
}

fn main_sha(ctx: &Ctx) -> String {
    ctx.fake.branch_sha(OWNER, REPO, "main").unwrap()
}

fn open_bot_pulls(ctx: &Ctx) -> Vec<(String, u64)> {
    ctx.fake
        .pulls(OWNER, REPO)
        .into_iter()
        .filter(|p| p.state == "open")
        .map(|p| (p.pull.as_ref().unwrap().head_ref.clone(), p.number))
        .collect()
}

#[tokio::test]
async fn a_push_opens_one_verified_pr_per_fix_kind_and_a_no_op_push_writes_nothing() {
    let ctx = setup(true).await;
    let sha = main_sha(&ctx);
    ctx.fake.clear_log();
    ctx.app.run(&push(&sha)).await.unwrap();
    // Figures for the notes (`cargo test --test scenarios app_scenarios -- --nocapture`).
    eprintln!(
        "push opening 2 PRs: {} requests, {} writes",
        ctx.fake.requests().len(),
        ctx.fake.writes().len()
    );
    let mut open = open_bot_pulls(&ctx);
    open.sort();
    let branches: Vec<&str> = open.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(branches, ["ws-fix/alpn-order", "ws-fix/http-upgrade"]);
    for (branch, number) in &open {
        let head = ctx.fake.branch_sha(OWNER, REPO, branch).unwrap();
        let commit = ctx.fake.commit(OWNER, REPO, &head).unwrap();
        assert!(commit.verified, "{branch}: the commit is Verified");
        assert_eq!(commit.parents, std::slice::from_ref(&sha));
        let pr = ctx.fake.issue(OWNER, REPO, *number).unwrap();
        assert!(pr.labels.contains(&"ws-fix".to_owned()));
        assert!(pr.body.unwrap().contains("<!-- ws-fix: {\"v\":1"));
    }
    let fixed = ctx
        .fake
        .file(OWNER, REPO, "ws-fix/alpn-order", ENVOY)
        .unwrap();
    assert!(
        fixed.contains("alpnProtocols:\n      - http/1.1\n      - h2 # browsers"),
        "{fixed}"
    );

    // The same push again (or any push that changes nothing): no writes at all.
    ctx.fake.clear_log();
    ctx.app.run(&push(&sha)).await.unwrap();
    eprintln!(
        "no-op push: {} requests, {} writes",
        ctx.fake.requests().len(),
        ctx.fake.writes().len()
    );
    assert_eq!(ctx.fake.writes().len(), 0, "{:?}", ctx.fake.writes());
}

#[tokio::test]
async fn a_push_that_changes_the_fix_updates_the_pr_and_a_fixed_base_closes_it() {
    let ctx = setup(false).await;
    ctx.app.run(&push(&main_sha(&ctx))).await.unwrap();
    let (_, number) = open_bot_pulls(&ctx)[0].clone();
    let before = ctx
        .fake
        .branch_sha(OWNER, REPO, "ws-fix/alpn-order")
        .unwrap();

    // Someone edits an unrelated line of the same file: the PR is rebuilt on the new base
    // only when its content would differ; here it must (the file changed).
    let text = ctx.fake.file(OWNER, REPO, "main", ENVOY).unwrap();
    let edited = text.replacen("requestTimeout: 0s", "requestTimeout: 0s # forever", 1);
    let sha = ctx.fake.push_commit(
        OWNER,
        REPO,
        "main",
        "alice",
        "tweak",
        &[(ENVOY, Some(&edited))],
    );
    ctx.app.run(&push(&sha)).await.unwrap();
    let after = ctx
        .fake
        .branch_sha(OWNER, REPO, "ws-fix/alpn-order")
        .unwrap();
    assert_ne!(before, after);
    let commit = ctx.fake.commit(OWNER, REPO, &after).unwrap();
    assert_eq!(commit.parents, [sha]);
    assert_eq!(
        open_bot_pulls(&ctx),
        [("ws-fix/alpn-order".to_owned(), number)]
    );

    // The base fixed by hand: the PR is closed with a comment that says why.
    let text = ctx.fake.file(OWNER, REPO, "main", ENVOY).unwrap();
    let fixed = text.replacen(
        "      - h2 # browsers negotiate h2\n      - http/1.1\n",
        "      - http/1.1\n      - h2 # browsers negotiate h2\n",
        1,
    );
    assert_ne!(fixed, text);
    let sha = ctx.fake.push_commit(
        OWNER,
        REPO,
        "main",
        "alice",
        "fix alpn",
        &[(ENVOY, Some(&fixed))],
    );
    ctx.app.run(&push(&sha)).await.unwrap();
    assert!(open_bot_pulls(&ctx).is_empty());
    let comments = ctx.fake.comments(OWNER, REPO, number);
    assert!(comments.iter().any(|c| {
        c.body
            .contains("no longer has what this pull request fixes")
    }));
}

#[tokio::test]
async fn human_commits_win_and_a_closed_pr_means_no_until_unignore() {
    let ctx = setup(false).await;
    ctx.app.run(&push(&main_sha(&ctx))).await.unwrap();
    let (_, number) = open_bot_pulls(&ctx)[0].clone();

    // A person pushes to the bot's branch: it is not overwritten, and that is said once.
    let human = ctx.fake.push_commit(
        OWNER,
        REPO,
        "ws-fix/alpn-order",
        "bob",
        "my tweak",
        &[("notes.txt", Some("hi"))],
    );
    let text = ctx.fake.file(OWNER, REPO, "main", ENVOY).unwrap();
    let sha = ctx.fake.push_commit(
        OWNER,
        REPO,
        "main",
        "alice",
        "tweak",
        &[(
            ENVOY,
            Some(&text.replacen("requestTimeout: 0s", "requestTimeout: 0s # x", 1)),
        )],
    );
    ctx.app.run(&push(&sha)).await.unwrap();
    ctx.app.run(&push(&sha)).await.unwrap();
    assert_eq!(
        ctx.fake
            .branch_sha(OWNER, REPO, "ws-fix/alpn-order")
            .unwrap(),
        human
    );
    let said = ctx
        .fake
        .comments(OWNER, REPO, number)
        .into_iter()
        .filter(|c| c.body.contains("Someone else pushed"))
        .count();
    assert_eq!(said, 1);

    // Closed without merging: not proposed again, and the closing is answered once.
    ctx.fake.close_pr(OWNER, REPO, number);
    let body = ctx.fake.issue(OWNER, REPO, number).unwrap().body.unwrap();
    let closed = Event::PullRequestClosed {
        repo: repo(),
        number,
        merged: false,
        head_ref: "ws-fix/alpn-order".into(),
        body,
    };
    ctx.app.run(&closed).await.unwrap();
    ctx.app.run(&closed).await.unwrap();
    assert_eq!(
        ctx.fake
            .comments(OWNER, REPO, number)
            .iter()
            .filter(|c| c.body.contains("will not propose"))
            .count(),
        1
    );
    ctx.fake.delete_branch(OWNER, REPO, "ws-fix/alpn-order");
    let report = ctx.app.sync(&repo(), None, &[], false).await.unwrap();
    assert_eq!(
        report.get(&FixKind::AlpnOrder),
        Some(&Outcome::Refused(number))
    );
    assert!(open_bot_pulls(&ctx).is_empty());

    // `/ws-fix unignore alpn` by a maintainer brings it back.
    ctx.fake
        .set_permission(OWNER, REPO, "carol", "write", "maintain");
    let issue = ctx.fake.create_issue(OWNER, REPO, "carol", "websockets");
    ctx.app
        .run(&comment(&ctx, issue, "carol", "/ws-fix unignore alpn"))
        .await
        .unwrap();
    let open = open_bot_pulls(&ctx);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_ne!(open[0].1, number);
}

#[tokio::test]
async fn ignore_closes_the_fix_pr_says_why_and_it_stays_closed() {
    let ctx = setup(false).await;
    ctx.app.run(&push(&main_sha(&ctx))).await.unwrap();
    let (_, number) = open_bot_pulls(&ctx)[0].clone();
    ctx.fake
        .set_permission(OWNER, REPO, "carol", "write", "maintain");
    let issue = ctx.fake.create_issue(OWNER, REPO, "carol", "no thanks");
    ctx.app
        .run(&comment(&ctx, issue, "carol", "/ws-fix ignore alpn-order"))
        .await
        .unwrap();
    assert!(open_bot_pulls(&ctx).is_empty());
    let on_pr = ctx.fake.comments(OWNER, REPO, number);
    assert!(
        on_pr.iter().any(|c| c.body.contains("Closed on request")),
        "{on_pr:?}"
    );
    let replies = ctx.fake.comments(OWNER, REPO, issue);
    assert!(
        replies
            .iter()
            .any(|c| c.body.contains(&format!("Closed #{number}"))),
        "{replies:?}"
    );
    // The next push does not propose it again.
    let report = ctx.app.sync(&repo(), None, &[], false).await.unwrap();
    assert_eq!(
        report.get(&FixKind::AlpnOrder),
        Some(&Outcome::Refused(number))
    );
    assert!(open_bot_pulls(&ctx).is_empty());
    let metrics = ctx.app.github.metrics.render();
    assert!(
        metrics.contains("ws_fix_pull_requests_total{action=\"closed\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn commands_check_permission_skip_code_and_fix_only_what_is_named() {
    let ctx = setup(true).await;
    let issue = ctx.fake.create_issue(OWNER, REPO, "dave", "help");
    // A reader is refused politely, after the 👀.
    ctx.fake.set_permission(OWNER, REPO, "dave", "read", "read");
    ctx.app
        .run(&comment(&ctx, issue, "dave", "/ws-fix"))
        .await
        .unwrap();
    let replies: Vec<_> = ctx
        .fake
        .comments(OWNER, REPO, issue)
        .into_iter()
        .filter(|c| c.user == ctx.app.bot_login)
        .collect();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].body.contains("sorry"), "{}", replies[0].body);
    assert!(open_bot_pulls(&ctx).is_empty());

    // Inside a code block: nothing at all (no reaction, no reply).
    ctx.fake
        .set_permission(OWNER, REPO, "erin", "write", "write");
    ctx.app
        .run(&comment(
            &ctx,
            issue,
            "erin",
            "Try this:\n```\n/ws-fix fix alpn\n```\n",
        ))
        .await
        .unwrap();
    assert!(open_bot_pulls(&ctx).is_empty());
    let bot_replies = ctx
        .fake
        .comments(OWNER, REPO, issue)
        .into_iter()
        .filter(|c| c.user == ctx.app.bot_login)
        .count();
    assert_eq!(bot_replies, 1);

    // `/ws-fix fix alpn` opens only that PR, and replies once with a link to it.
    ctx.app
        .run(&comment(&ctx, issue, "erin", "/ws-fix fix alpn"))
        .await
        .unwrap();
    let open = open_bot_pulls(&ctx);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].0, "ws-fix/alpn-order");
    let last = ctx
        .fake
        .comments(OWNER, REPO, issue)
        .into_iter()
        .rfind(|c| c.user == ctx.app.bot_login)
        .unwrap();
    assert!(
        last.body.contains(&format!("opened #{}", open[0].1)),
        "{}",
        last.body
    );
}

#[tokio::test]
async fn a_502_and_a_secondary_rate_limit_are_retried_without_duplicates() {
    let ctx = setup(false).await;
    // The PR creation fails with a 502 after GitHub created it: looked for, not duplicated.
    ctx.fake
        .fail_next_after_success("POST", &format!("/repos/{OWNER}/{REPO}/pulls"), 502);
    // A comment-free path: a blob upload gets a secondary rate limit with retry-after: 1.
    ctx.fake
        .secondary_rate_limit_next("POST", &format!("/repos/{OWNER}/{REPO}/git/blobs"), 1);
    // And the tree creation a plain 502 before doing anything.
    ctx.fake.fail_next(
        "POST",
        &format!("/repos/{OWNER}/{REPO}/git/trees"),
        502,
        &[],
    );
    ctx.app.run(&push(&main_sha(&ctx))).await.unwrap();
    assert_eq!(open_bot_pulls(&ctx).len(), 1);
    assert_eq!(ctx.fake.pulls(OWNER, REPO).len(), 1, "one PR, not two");
    assert_eq!(ctx.fake.pending_faults(), 0);
}

#[tokio::test]
async fn signed_deliveries_through_the_server_survive_a_restart_and_redelivery() {
    let ctx = setup(false).await;
    let dir = tempfile::tempdir().unwrap();
    let body = serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "after": main_sha(&ctx),
        "repository": {"name": REPO, "full_name": format!("{OWNER}/{REPO}"), "owner": {"login": OWNER}, "default_branch": "main"},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": INSTALLATION},
        "commits": []
    }))
    .unwrap();
    // Recorded as the webhook would (202), then the process "dies" before any job ran.
    {
        let queue = ws_fix::queue::Queue::sqlite(dir.path()).await.unwrap();
        let event = Event::parse("push", &body).unwrap();
        queue.record("delivery-1", "push", &event).await.unwrap();
    }
    // A new process on the same data directory opens the PR.
    let settings = ws_fix::server::Settings {
        app_id: Some(fake_github::APP_ID),
        private_key_file: None,
        private_key: Some(ws_fix::server::Secret::new(
            fake_github::test_private_key_pem(),
        )),
        webhook_secret: Some(ws_fix::server::Secret::new("s3cret")),
        webhook_secret_previous: None,
        github_api_url: ctx.fake.url(),
        github_url: "https://github.com".into(),
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        verify: Default::default(),
        queue: Default::default(),
    };
    let app = App::from_settings(&settings, Catalogue::embedded().unwrap())
        .await
        .unwrap();
    let mut running = ws_fix::server::start(&settings, app).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(60),
        running.finished.wait_for(|n| *n >= 1),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(open_bot_pulls(&ctx).len(), 1);
    // Redelivered: recognised, nothing runs.
    let recorded = running
        .state
        .queue
        .record("delivery-1", "push", &Event::parse("push", &body).unwrap())
        .await
        .unwrap();
    assert_eq!(recorded, ws_fix::queue::Recorded::Duplicate);
    running.stop().await;
    assert_eq!(ctx.fake.pulls(OWNER, REPO).len(), 1);
}

#[tokio::test]
async fn on_a_bot_pr_commands_act_on_its_kind_and_explain_shows_the_model() {
    let ctx = setup(true).await;
    ctx.app.run(&push(&main_sha(&ctx))).await.unwrap();
    let alpn = open_bot_pulls(&ctx)
        .into_iter()
        .find(|(b, _)| b == "ws-fix/alpn-order")
        .unwrap()
        .1;
    ctx.fake
        .set_permission(OWNER, REPO, "erin", "write", "write");
    let id = ctx
        .fake
        .post_comment_as(OWNER, REPO, alpn, "erin", "/ws-fix");
    let event = Event::Comment(Comment {
        repo: repo(),
        issue: alpn,
        is_pull_request: true,
        comment_id: id,
        author: "erin".into(),
        author_is_bot: false,
        body: "/ws-fix".into(),
        previous_body: None,
    });
    ctx.app.run(&event).await.unwrap();
    let reply = ctx
        .fake
        .comments(OWNER, REPO, alpn)
        .into_iter()
        .rfind(|c| c.user == ctx.app.bot_login)
        .unwrap();
    assert!(reply.body.contains("`alpn-order`"), "{}", reply.body);
    assert!(!reply.body.contains("http-upgrade"), "{}", reply.body);

    let issue = ctx.fake.create_issue(OWNER, REPO, "erin", "why");
    ctx.app
        .run(&comment(&ctx, issue, "erin", "/ws-fix explain"))
        .await
        .unwrap();
    let reply = ctx
        .fake
        .comments(OWNER, REPO, issue)
        .into_iter()
        .rfind(|c| c.user == ctx.app.bot_login)
        .unwrap();
    assert!(reply.body.contains("```text"), "{}", reply.body);
    assert!(
        reply.body.contains("Gateway network/envoy-external"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn report_only_mode_keeps_one_issue_and_opens_no_pr() {
    let ctx = setup(false).await;
    let sha = ctx.fake.push_commit(
        OWNER,
        REPO,
        "main",
        "alice",
        "report first",
        &[(".github/ws-fix.yml", Some("version: 1\nmode: report\n"))],
    );
    ctx.app.run(&push(&sha)).await.unwrap();
    ctx.app.run(&push(&sha)).await.unwrap();
    assert!(open_bot_pulls(&ctx).is_empty());
    let issues: Vec<_> = ctx.fake.with_state(|s| {
        s.repos[&format!("{OWNER}/{REPO}")]
            .issues
            .values()
            .cloned()
            .collect::<Vec<_>>()
    });
    assert_eq!(issues.len(), 1, "one report issue, not one per push");
    let body = issues[0].body.clone().unwrap();
    assert!(body.contains("`alpn-h2-first`"), "{body}");
    assert!(body.contains("ws-fix/alpn-order"), "{body}");
}
