//! Check runs on pull requests against the fake GitHub (tests/common/fake_github.rs), which
//! refuses any request GitHub's REST description does not allow and more than 50 annotations
//! in one request. Events are read from webhook payloads built from the fake's own pull
//! request JSON (or GitHub's payload examples) and run through the production handler.

use std::path::Path;

use crate::common::fake_github::{CheckRun, FakeGitHub, Fault};
use serde_json::{Value, json};
use ws_fix::app::{App, CheckResult};
use ws_fix::catalogue::FixKind;
use ws_fix::events::{Event, RepoRef};

const OWNER: &str = "acme";
const REPO: &str = "infra";
const INSTALLATION: u64 = 77;
const ENVOY: &str = "kubernetes/apps/network/envoy-gateway/config/envoy.yaml";
const H2_FIRST: &str = "      - h2 # browsers negotiate h2\n      - http/1.1\n";
const H1_FIRST: &str = "      - http/1.1\n      - h2 # browsers negotiate h2\n";

/// `text` with `from` replaced once (which must be there).
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} is not in the text");
    text.replacen(from, to, 1)
}

struct Ctx {
    fake: FakeGitHub,
    app: App,
}

/// A fake with the installation, `seed`ed, and the App.
async fn start(seed: impl FnOnce(&FakeGitHub)) -> Ctx {
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, OWNER);
    seed(&fake);
    Ctx {
        app: fake.app().await,
        fake,
    }
}

/// examples/homelab, whose ALPN list is h2-first; with `fixed`, a second commit on `main`
/// puts http/1.1 first.
async fn homelab(fixed: bool) -> Ctx {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let ctx = start(|f| {
        f.add_repo_from_dir(INSTALLATION, OWNER, REPO, &dir);
    })
    .await;
    if fixed {
        ctx.commit_to_main(ENVOY, &swap(&ctx.main_file(ENVOY), H2_FIRST, H1_FIRST));
    }
    ctx
}

fn repo() -> RepoRef {
    RepoRef {
        installation: INSTALLATION,
        owner: OWNER.into(),
        name: REPO.into(),
    }
}

impl Ctx {
    /// The API's JSON at `path` (through an installation token, as a webhook payload embeds
    /// it); the request is left out of the log.
    async fn api(&self, path: &str) -> Value {
        let before = self.fake.requests().len();
        let r = self.fake.call(INSTALLATION, "GET", path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        self.fake.with_state(|s| s.log.truncate(before));
        r.body
    }

    /// A webhook delivery of `event` whose payload carries `fields`, the repository and the
    /// installation, read as the server reads it.
    async fn delivery(&self, event: &str, mut fields: Value) -> Event {
        fields["repository"] = self.api(&format!("/repos/{OWNER}/{REPO}")).await;
        fields["installation"] = json!({"id": INSTALLATION});
        fields["sender"] = json!({"login": "someone", "type": "User"});
        Event::parse(event, &serde_json::to_vec(&fields).unwrap()).unwrap()
    }

    /// `pull_request` `action` for PR `number`.
    async fn pull_request(&self, action: &str, number: u64) -> Event {
        let pr = self
            .api(&format!("/repos/{OWNER}/{REPO}/pulls/{number}"))
            .await;
        self.delivery(
            "pull_request",
            json!({"action": action, "number": number, "pull_request": pr}),
        )
        .await
    }

    /// GitHub's example payload `name` with `check` (`check_suite` or `check_run`) aimed at
    /// `head_sha` and listing `pulls` as GitHub does.
    async fn check_event(&self, name: &str, head_sha: &str, pulls: &[u64]) -> Event {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/github/payloads")
            .join(name);
        let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let event = name.split('.').next().unwrap();
        let repo_id = self.api(&format!("/repos/{OWNER}/{REPO}")).await["id"].clone();
        let mut listed = Vec::new();
        for n in pulls {
            let pr = self.api(&format!("/repos/{OWNER}/{REPO}/pulls/{n}")).await;
            listed.push(json!({
                "number": n,
                "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"], "repo": {"id": repo_id}},
                "base": {"ref": pr["base"]["ref"], "sha": pr["base"]["sha"], "repo": {"id": repo_id}},
            }));
        }
        let check = &mut v[event];
        check["head_sha"] = json!(head_sha);
        check["pull_requests"] = json!(listed);
        if event == "check_run" {
            check["name"] = json!("ws-fix");
        }
        self.delivery(event, v).await
    }

    /// Pushes `changes` to a new branch `branch` and opens a pull request from it by `bob`.
    fn open(&self, branch: &str, changes: &[(&str, Option<&str>)]) -> (u64, String) {
        let sha = self
            .fake
            .push_commit(OWNER, REPO, branch, "bob", "change", changes);
        (
            self.fake.open_pr(OWNER, REPO, "bob", branch, "A change"),
            sha,
        )
    }

    /// Delivers `pull_request` `opened` for PR `number`; returns the newest check run.
    async fn opened(&self, number: u64) -> Option<CheckRun> {
        let event = self.pull_request("opened", number).await;
        self.app.run(&event).await.unwrap();
        self.runs().pop()
    }

    /// The check result of `head` against `main`, and how many blobs were read for it.
    async fn result(&self, head: &str, full_scan: bool) -> (CheckResult, usize) {
        self.fake.clear_log();
        let result = self
            .app
            .check_result(&repo(), "main", head, full_scan)
            .await;
        let blobs = self.fake.count("GET", "/repos/acme/infra/git/blobs/");
        (result.unwrap().expect("checks are on"), blobs)
    }

    fn commit_to_main(&self, path: &str, text: &str) {
        self.fake
            .push_commit(OWNER, REPO, "main", "alice", "edit", &[(path, Some(text))]);
    }

    fn runs(&self) -> Vec<CheckRun> {
        self.fake.check_runs(OWNER, REPO)
    }

    fn main_file(&self, path: &str) -> String {
        self.fake.file(OWNER, REPO, "main", path).unwrap()
    }
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1
}

#[tokio::test]
async fn a_pr_that_puts_h2_first_again_fails_with_an_annotation_on_the_alpn_line() {
    let ctx = homelab(true).await;
    let h2 = swap(&ctx.main_file(ENVOY), H1_FIRST, H2_FIRST);
    let (number, head) = ctx.open("h2-again", &[(ENVOY, Some(&h2))]);
    ctx.fake.clear_log();
    let run = ctx.opened(number).await.expect("a check run");
    eprintln!(
        "check on a PR that changes one manifest: {} requests, {} writes",
        ctx.fake.requests().len(),
        ctx.fake.writes().len()
    );
    assert_eq!(ctx.runs().len(), 1);
    assert_eq!(
        (run.name.as_str(), run.head_sha.as_str()),
        ("ws-fix", head.as_str())
    );
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.title.as_deref(), Some("1 new finding"));
    assert_eq!(run.annotations.len(), 1, "{:?}", run.annotations);
    let a = &run.annotations[0];
    let alpn_line = line_of(&h2, "alpnProtocols:");
    assert_eq!(a["path"], ENVOY);
    assert_eq!(a["start_line"], alpn_line, "{a}");
    assert_eq!(a["end_line"], alpn_line + 2, "the list's two lines: {a}");
    assert_eq!(a["annotation_level"], "warning");
    assert!(
        a["title"].as_str().unwrap().starts_with("alpn-h2-first: "),
        "{a}"
    );
    let message = a["message"].as_str().unwrap();
    assert!(message.contains("RFC 8441"), "the explanation: {message}");
    // The suggested change: the verified alpn-order fix of the head, as a diff.
    let details = a["raw_details"].as_str().unwrap();
    assert!(
        details.contains("+      - http/1.1\n       - h2 # browsers"),
        "{details}"
    );
    assert!(details.contains("-      - http/1.1\n"), "{details}");
    let text = run.text.as_deref().unwrap();
    assert!(
        text.contains("```diff\n--- a/kubernetes/apps/network"),
        "{text}"
    );
    let summary = run.summary.as_deref().unwrap();
    assert!(summary.contains("### New: 1"), "{summary}");
    assert!(summary.contains("`alpn-h2-first`"), "{summary}");
    assert!(!summary.contains("### Fixed"), "{summary}");

    // The same head again (a `check_suite` for the push, a redelivery): nothing is written.
    ctx.fake.clear_log();
    let suite = ctx
        .check_event("check_suite.requested.json", &head, &[number])
        .await;
    ctx.app.run(&suite).await.unwrap();
    ctx.app
        .run(&ctx.pull_request("synchronize", number).await)
        .await
        .unwrap();
    assert_eq!(ctx.fake.writes().len(), 0, "{:?}", ctx.fake.writes());
    assert_eq!(ctx.runs().len(), 1);
}

#[tokio::test]
async fn a_pr_that_fixes_alpn_succeeds_and_says_fixed() {
    let ctx = homelab(false).await;
    let fixed = swap(&ctx.main_file(ENVOY), H2_FIRST, H1_FIRST);
    let (number, _) = ctx.open("fix-alpn", &[(ENVOY, Some(&fixed))]);
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(run.title.as_deref(), Some("1 finding fixed"));
    assert!(run.annotations.is_empty());
    let summary = run.summary.as_deref().unwrap();
    assert!(summary.contains("0 new, 1 fixed, 0 unchanged"), "{summary}");
    assert!(summary.contains("### Fixed: 1"), "{summary}");
    assert!(summary.contains("`alpn-h2-first`"), "{summary}");
}

#[tokio::test]
async fn a_pr_that_touches_unrelated_yaml_succeeds_without_annotations() {
    let ctx = homelab(true).await;
    let path = "kubernetes/apps/home-automation/n8n/app/helmrelease.yaml";
    let text = ctx.main_file(path);
    let edited = format!("# Managed by Flux.\n{text}");
    let (number, _) = ctx.open("comment", &[(path, Some(&edited))]);
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(run.title.as_deref(), Some("No new findings"));
    assert!(run.annotations.is_empty());
    assert_eq!(run.batches, [0]);
}

#[tokio::test]
async fn findings_are_matched_by_resource_and_field_not_by_line() {
    // The base has the h2-first finding; the PR moves it down three lines and renames the
    // file: the finding is unchanged, not fixed and new again.
    let ctx = homelab(false).await;
    let text = ctx.main_file(ENVOY);
    let moved = format!("# One\n# Two\n# Three\n{text}");
    let kustomization = "kubernetes/apps/network/envoy-gateway/config/kustomization.yaml";
    let k = swap(&ctx.main_file(kustomization), "envoy.yaml", "gateway.yaml");
    let renamed = ENVOY.replace("envoy.yaml", "gateway.yaml");
    let (number, _) = ctx.open(
        "move",
        &[
            (ENVOY, None),
            (renamed.as_str(), Some(&moved)),
            (kustomization, Some(&k)),
        ],
    );
    let run = ctx.opened(number).await.expect("a check run");
    let summary = run.summary.as_deref().unwrap();
    assert!(summary.contains("0 new, 0 fixed, 1 unchanged"), "{summary}");
    assert!(summary.contains(&format!("`{renamed}:")), "{summary}");
    // The head still has a finding at `fail-on`: neutral.
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    assert!(run.annotations.is_empty());
}

/// 120 routes to a Gateway the repo does not have: 120 `unresolved-ref` notices.
fn routes(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r{i}\n  namespace: default\nspec:\n  parentRefs:\n    - name: missing\n      namespace: network\n  rules:\n    - backendRefs:\n        - name: s{i}\n          port: 80\n"
            )
        })
        .collect()
}

#[tokio::test]
async fn a_hundred_and_twenty_new_findings_arrive_in_three_annotation_batches() {
    let ctx = start(|f| {
        let config = "version: 1\nfail-on: notice\n";
        let files = [(".github/ws-fix.yml", config), ("apps/routes.yaml", "")];
        f.add_repo(INSTALLATION, OWNER, REPO, &files);
    })
    .await;
    let many = routes(120);
    let (number, _) = ctx.open("many", &[("apps/routes.yaml", Some(&many))]);
    ctx.fake.clear_log();
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(run.batches, [50, 50, 20]);
    assert_eq!(ctx.fake.count("POST", "/repos/acme/infra/check-runs"), 1);
    assert_eq!(ctx.fake.count("PATCH", "/repos/acme/infra/check-runs/"), 2);
    // Recorded as finished only by the last request.
    let last = ctx
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH");
    assert!(last.unwrap().body.unwrap()["external_id"].is_string());
    let main = ctx.fake.branch_sha(OWNER, REPO, "main").unwrap();
    assert_eq!(run.external_id, Some(format!("{number}:{main}")));
    let lines: Vec<u64> = run
        .annotations
        .iter()
        .map(|a| {
            assert_eq!(a["annotation_level"], "notice");
            a["start_line"].as_u64().unwrap()
        })
        .collect();
    let mut distinct = lines.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 120, "one annotation per route: {lines:?}");
}

#[tokio::test]
async fn the_fake_refuses_more_than_fifty_annotations_in_one_request() {
    let ctx = homelab(false).await;
    let head = ctx.fake.branch_sha(OWNER, REPO, "main").unwrap();
    let one = json!({"path": ENVOY, "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"});
    let body = |n: usize| {
        json!({"name": "ws-fix", "head_sha": head, "conclusion": "neutral",
            "output": {"title": "t", "summary": "s", "annotations": vec![one.clone(); n]}})
    };
    let path = format!("/repos/{OWNER}/{REPO}/check-runs");
    let ok = ctx
        .fake
        .call(INSTALLATION, "POST", &path, Some(&body(50)))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let refused = ctx
        .fake
        .call(INSTALLATION, "POST", &path, Some(&body(51)))
        .await;
    assert_eq!(
        refused.status, 400,
        "refused by the REST description: {}",
        refused.body
    );
    assert_eq!(ctx.fake.take_violations().len(), 1);
    assert_eq!(ctx.runs().len(), 1);
    assert_eq!(ctx.runs()[0].annotations.len(), 50);
}

#[tokio::test]
async fn a_rerun_request_recreates_the_check() {
    let ctx = homelab(true).await;
    let h2 = swap(&ctx.main_file(ENVOY), H1_FIRST, H2_FIRST);
    let (number, head) = ctx.open("h2-again", &[(ENVOY, Some(&h2))]);
    assert!(ctx.opened(number).await.is_some());
    let rerun = ctx
        .check_event("check_run.rerequested.json", &head, &[number])
        .await;
    assert!(
        matches!(&rerun, Event::CheckRequested { rerun: true, pulls, .. } if pulls == &[number]),
        "{rerun:?}"
    );
    ctx.app.run(&rerun).await.unwrap();
    let suite = ctx
        .check_event("check_suite.rerequested.json", &head, &[number])
        .await;
    ctx.app.run(&suite).await.unwrap();
    let runs = ctx.runs();
    assert_eq!(runs.len(), 3, "one new run per re-run request");
    for r in &runs {
        assert_eq!(r.head_sha, head);
        assert_eq!(r.conclusion.as_deref(), Some("failure"));
        assert_eq!(r.annotations.len(), 1);
        assert_eq!(r.summary, runs[0].summary);
    }
    // A suite requested with no pull request listed (as for a fork's head) finds the pull
    // request through the earlier runs: already checked, nothing is written.
    let suite = ctx
        .check_event("check_suite.requested.json", &head, &[])
        .await;
    ctx.fake.clear_log();
    ctx.app.run(&suite).await.unwrap();
    assert_eq!(ctx.fake.writes().len(), 0);
    assert_eq!(ctx.runs().len(), 3);
}

#[tokio::test]
async fn the_repo_config_turns_the_check_off_or_makes_it_neutral() {
    let ctx = homelab(true).await;
    ctx.commit_to_main(
        ".github/ws-fix.yml",
        "version: 1\nchecks:\n  enabled: false\n",
    );
    let h2 = swap(&ctx.main_file(ENVOY), H1_FIRST, H2_FIRST);
    // A pull request cannot turn its own check back on: the base's config decides.
    let (number, _) = ctx.open(
        "h2-again",
        &[
            (ENVOY, Some(&h2)),
            (".github/ws-fix.yml", Some("version: 1\n")),
        ],
    );
    ctx.fake.clear_log();
    assert!(ctx.opened(number).await.is_none());
    let writes = ctx.fake.writes();
    assert!(
        writes.iter().all(|w| !w.path.starts_with("/repos/")),
        "{writes:?}"
    );

    let neutral = "version: 1\nchecks:\n  new-finding-conclusion: neutral\n";
    ctx.commit_to_main(".github/ws-fix.yml", neutral);
    let (number, _) = ctx.open("h2-again-2", &[(ENVOY, Some(&h2))]);
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(run.conclusion.as_deref(), Some("neutral"));
    assert_eq!(run.annotations.len(), 1);
}

#[tokio::test]
async fn without_the_checks_permission_there_is_no_check_and_no_failed_job() {
    let ctx = homelab(true).await;
    let h2 = swap(&ctx.main_file(ENVOY), H1_FIRST, H2_FIRST);
    let (number, _) = ctx.open("h2-again", &[(ENVOY, Some(&h2))]);
    // An installation from before the App asked for `checks: write`.
    let mut refused = Fault::new("GET", &format!("/repos/{OWNER}/{REPO}/commits/"), 403);
    refused.body = json!({"message": "Resource not accessible by integration"});
    ctx.fake.push_fault(refused);
    assert!(ctx.opened(number).await.is_none());
    assert_eq!(ctx.fake.pending_faults(), 0);
}

#[tokio::test]
async fn the_bots_own_pr_gets_a_passing_check() {
    let ctx = homelab(false).await;
    let report = ctx.app.sync(&repo(), None, &[], false).await.unwrap();
    let number = report[&FixKind::AlpnOrder].number();
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(
        run.head_sha,
        ctx.fake
            .branch_sha(OWNER, REPO, "ws-fix/alpn-order")
            .unwrap()
    );
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert_eq!(run.title.as_deref(), Some("1 finding fixed"));
}

#[tokio::test]
async fn a_fork_pr_is_read_through_the_base_repository() {
    let ctx = homelab(true).await;
    let h2 = swap(&ctx.main_file(ENVOY), H1_FIRST, H2_FIRST);
    let (number, head) = ctx.fake.open_fork_pr(
        OWNER,
        REPO,
        "mallory/infra",
        "mallory",
        "main",
        "h2 please",
        &[(ENVOY, Some(&h2))],
    );
    let pr = ctx
        .api(&format!("/repos/{OWNER}/{REPO}/pulls/{number}"))
        .await;
    assert_eq!(pr["head"]["repo"]["full_name"], "mallory/infra");
    ctx.fake.clear_log();
    let run = ctx.opened(number).await.expect("a check run");
    assert_eq!(run.head_sha, head);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    for r in ctx.fake.requests() {
        assert!(
            !r.path.starts_with("/repos/mallory"),
            "read through the base repository only: {} {}",
            r.method,
            r.path
        );
    }
    // GitHub lists no pull request for a fork's head: a re-run finds it through the run.
    let rerun = ctx
        .check_event("check_run.rerequested.json", &head, &[])
        .await;
    ctx.app.run(&rerun).await.unwrap();
    assert_eq!(ctx.runs().len(), 2);
    assert_eq!(ctx.runs()[1].conclusion.as_deref(), Some("failure"));
}

#[tokio::test]
async fn when_no_scanned_file_changes_the_base_result_is_reused_and_equals_a_full_scan() {
    let ctx = homelab(false).await;
    let (_, head) = ctx.open("docs", &[("docs/notes.md", Some("Notes\n"))]);
    let (reused, reused_blobs) = ctx.result(&head, false).await;
    let (full, full_blobs) = ctx.result(&head, true).await;
    eprintln!("blobs read: {reused_blobs} reusing the base, {full_blobs} scanning the head too");
    assert_eq!(reused, full);
    assert_eq!(full.conclusion, "neutral");
    assert_eq!(
        full_blobs,
        2 * reused_blobs,
        "the head's blobs are not read"
    );

    // A change to a file the scan reads is scanned: the same verdict either way.
    let fixed = swap(&ctx.main_file(ENVOY), H2_FIRST, H1_FIRST);
    let (_, head) = ctx.open("fix", &[(ENVOY, Some(&fixed))]);
    let (scanned, _) = ctx.result(&head, false).await;
    assert_eq!(scanned.conclusion, "success");
    assert_eq!(scanned, ctx.result(&head, true).await.0);
}

#[test]
fn check_and_pull_request_payloads_read_into_events() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/github/payloads");
    let read = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        v["installation"] = json!({"id": 5});
        edit(&mut v);
        let event = name.split('.').next().unwrap();
        Event::parse(event, &serde_json::to_vec(&v).unwrap()).unwrap()
    };
    for name in [
        "pull_request.opened.json",
        "pull_request.synchronize.json",
        "pull_request.reopened.json",
    ] {
        let event = read(name, &|_| {});
        let Event::PullRequestChanged {
            repo,
            number,
            head_sha,
            base_ref,
        } = &event
        else {
            panic!("{name}: {event:?}")
        };
        let v: Value = serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap();
        assert_eq!(repo.installation, 5);
        assert_eq!(*number, v["pull_request"]["number"].as_u64().unwrap());
        assert_eq!(head_sha, v["pull_request"]["head"]["sha"].as_str().unwrap());
        assert_eq!(base_ref, v["pull_request"]["base"]["ref"].as_str().unwrap());
        assert_eq!(event.repos(), [repo]);
        let jobs = ws_fix::queue::jobs_of(&event);
        assert_eq!(
            jobs.len(),
            1,
            "one job, queued behind its repository's others"
        );
        assert_eq!(jobs[0].0, ws_fix::queue::repo_key(repo));
    }
    let suite = read("check_suite.rerequested.json", &|_| {});
    assert!(
        matches!(&suite, Event::CheckRequested { pulls, rerun: true, head_sha, .. }
            if pulls == &[2] && head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"),
        "{suite:?}"
    );
    assert_eq!(suite.repos().len(), 1);
    let suite = read("check_suite.requested.json", &|_| {});
    assert!(
        matches!(&suite, Event::CheckRequested { rerun: false, .. }),
        "{suite:?}"
    );
    // Another App's check run re-run (GitHub sends only the App's own, but still).
    let other = read("check_run.rerequested.json", &|_| {});
    assert!(matches!(other, Event::Ignored { .. }), "{other:?}");
    let ours = read("check_run.rerequested.json", &|v| {
        v["check_run"]["name"] = json!("ws-fix")
    });
    assert!(
        matches!(&ours, Event::CheckRequested { rerun: true, .. }),
        "{ours:?}"
    );
    // Stored jobs keep reading: the new variants round-trip, the old ones are untouched.
    let stored = serde_json::to_string(&ours).unwrap();
    assert_eq!(serde_json::from_str::<Event>(&stored).unwrap(), ours);
    let old = r#"{"type":"pull-request-closed","repo":{"installation":1,"owner":"a","name":"b"},"number":3,"merged":false,"head_ref":"x","body":""}"#;
    assert!(matches!(
        serde_json::from_str::<Event>(old).unwrap(),
        Event::PullRequestClosed { number: 3, .. }
    ));
}

#[test]
fn the_manifest_asks_for_checks_and_their_events() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("app-manifest.yml"))
            .unwrap();
    let manifest = ws_fix::yaml::parse_root(&text).unwrap().unwrap().to_json();
    assert_eq!(manifest["default_permissions"]["checks"], "write");
    let events = manifest["default_events"].as_array().unwrap();
    for e in ["pull_request", "check_suite", "check_run"] {
        assert!(events.contains(&json!(e)), "{e}: {events:?}");
    }
}
