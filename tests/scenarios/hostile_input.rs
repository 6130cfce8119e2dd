//! Hostile input where it enters the App, each with a bounded cost and a clear error, and the
//! server still up afterwards: webhook bodies (nesting, value counts, invalid UTF-8, missing
//! installation, huge echoed text), repository content read through the API (GitHub's cut tree
//! listings, too many files or bytes, huge blobs, symbolic links, binary files), comments
//! (many commands, huge comments and lines, Markdown shapes that cost quadratic time) and repo
//! config files (alias bombs, deep nesting). Files on disk are in `loader_hostile.rs`; wrong
//! types and unknown keys of the config in `config.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::deliveries::{deliver, get, settings, sign};
use crate::common::fake_github::{self, FakeGitHub};
use ws_fix::commands::{self, MAX_COMMANDS, MAX_LINE_CHARS, ParseErrorKind};
use ws_fix::events::{Event, EventError, MAX_JSON_DEPTH, MAX_JSON_VALUES};
use ws_fix::load::{self, LoadOptions, SkipReason};
use ws_fix::queue::{Handler, Job, JobError};

const SECRET: &str = "hostile-test-secret";

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Event>>>,
}

impl Handler for Recorder {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        self.seen.lock().unwrap().push(job.event.clone());
        Ok(())
    }
}

fn push_payload(installation: Option<u64>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "ref": "refs/heads/main",
        "after": "a".repeat(40),
        "repository": {"name": "infra", "full_name": "acme/infra", "owner": {"login": "acme"}, "default_branch": "main"},
        "sender": {"login": "alice", "type": "User"},
        "commits": []
    });
    if let Some(id) = installation {
        v["installation"] = serde_json::json!({ "id": id });
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Webhook bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn nesting_is_refused_before_the_parse() {
    // Far deeper than serde_json's own recursion limit (128), and just over ours.
    for depth in [1_000_000, MAX_JSON_DEPTH + 1] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        match Event::parse("push", body.as_bytes()) {
            Err(e @ EventError::TooDeep { offset }) => {
                assert_eq!(offset, MAX_JSON_DEPTH, "{e}");
                assert!(e.to_string().contains("deeper than 64 levels"), "{e}");
            }
            other => panic!("{depth}: {other:?}"),
        }
    }
    // Exactly at the limit: JSON, just not a push.
    let ok = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(MAX_JSON_DEPTH - 1),
        "]".repeat(MAX_JSON_DEPTH - 1)
    );
    assert!(matches!(
        Event::parse("push", ok.as_bytes()),
        Err(EventError::Missing { .. })
    ));
    // Brackets and escaped quotes inside strings are text.
    let mut v = push_payload(Some(1));
    v["head_commit"] = serde_json::json!({"message": format!("\\\"{}", "[{".repeat(5000))});
    assert!(matches!(
        Event::parse("push", &serde_json::to_vec(&v).unwrap()),
        Ok(Event::Push { .. })
    ));
}

#[test]
fn a_body_of_a_million_tiny_values_is_refused_before_the_parse() {
    let body = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
    let e = Event::parse("push", body.as_bytes()).unwrap_err();
    assert!(matches!(e, EventError::TooManyValues), "{e}");
    assert_eq!(
        e.to_string(),
        "the body holds more than 1000000 JSON values"
    );
    // Commas inside strings are not values.
    let mut v = push_payload(Some(1));
    v["head_commit"] = serde_json::json!({ "message": ",".repeat(MAX_JSON_VALUES + 1) });
    assert!(Event::parse("push", &serde_json::to_vec(&v).unwrap()).is_ok());
}

#[test]
fn invalid_utf8_and_a_missing_installation_are_clear_errors() {
    let mut body = serde_json::to_vec(&push_payload(Some(1))).unwrap();
    let at = body.windows(5).position(|w| w == b"alice").unwrap();
    body[at] = 0xff;
    let e = Event::parse("push", &body).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the body is not JSON: invalid unicode"),
        "{e}"
    );
    let e = Event::parse("push", &serde_json::to_vec(&push_payload(None)).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the push payload has no installation or repository"
    );
}

#[tokio::test]
async fn hostile_deliveries_get_clear_answers_and_the_server_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let handler = Recorder::default();
    let s = settings(&[
        "--webhook-secret",
        SECRET,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let mut server = ws_fix::server::start(&s, handler.clone()).await.unwrap();
    let addr = server.addr;
    let post = |event: &'static [u8], body: Vec<u8>| async move {
        let sig = sign(SECRET, &body);
        deliver(addr, event, "d-hostile", &body, &sig).await
    };

    let deep = format!("{}{}", "{\"a\":".repeat(200_000), "}".repeat(200_000));
    let (status, text) = post(b"push", deep.into_bytes()).await;
    assert_eq!(status, 400);
    assert!(text.contains("deeper than 64 levels"), "{text}");

    let wide = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
    let (status, text) = post(b"push", wide.into_bytes()).await;
    assert_eq!(
        (status, text.as_str()),
        (400, "the body holds more than 1000000 JSON values\n")
    );

    let mut bad_utf8 = serde_json::to_vec(&push_payload(Some(1))).unwrap();
    let at = bad_utf8.windows(5).position(|w| w == b"alice").unwrap();
    bad_utf8[at..at + 2].copy_from_slice(&[0xc3, 0x28]);
    let (status, text) = post(b"push", bad_utf8).await;
    assert_eq!(status, 400);
    assert!(text.contains("invalid unicode"), "{text}");

    let (status, text) = post(b"push", serde_json::to_vec(&push_payload(None)).unwrap()).await;
    assert_eq!(
        (status, text.as_str()),
        (400, "the push payload has no installation or repository\n")
    );

    // An event name that is not UTF-8 is as good as none.
    let body = serde_json::to_vec(&push_payload(Some(1))).unwrap();
    let (status, text) = post(b"pu\xffsh", body).await;
    assert_eq!(status, 400, "{text}");

    // An ignored event's action is echoed only in part.
    let body = serde_json::to_vec(&serde_json::json!({"action": "x".repeat(1_000_000)})).unwrap();
    let (status, text) = post(b"star", body).await;
    assert_eq!(status, 200);
    assert!(text.len() < 250, "{} bytes echoed", text.len());

    // Nothing of that was queued; the server answers and takes a good delivery.
    assert!(handler.seen.lock().unwrap().is_empty());
    assert_eq!(get(addr, "/healthz").await.0, 200);
    let body = serde_json::to_vec(&push_payload(Some(1))).unwrap();
    let sig = sign(SECRET, &body);
    assert_eq!(deliver(addr, b"push", "d-good", &body, &sig).await.0, 202);
    tokio::time::timeout(
        Duration::from_secs(30),
        server.finished.wait_for(|n| *n >= 1),
    )
    .await
    .expect("the good delivery ran")
    .unwrap();
    assert!(matches!(
        handler.seen.lock().unwrap().as_slice(),
        [Event::Push { .. }]
    ));
    let (_, metrics) = get(addr, "/metrics").await;
    // The event name that is not UTF-8 is counted as unknown.
    for line in [
        "ws_fix_deliveries_total{event=\"push\",outcome=\"bad_request\"} 4",
        "ws_fix_deliveries_total{event=\"unknown\",outcome=\"bad_request\"} 1",
    ] {
        assert!(metrics.contains(line), "{metrics}");
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Repository content through the Trees and Blobs API
// ---------------------------------------------------------------------------------------------

const INSTALLATION: u64 = 9;
const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n";

async fn github_with(files: &[(&str, &str)]) -> (FakeGitHub, ws_fix::github::GitHubApp, String) {
    ws_fix::github::install_crypto();
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, "acme");
    let commit = fake.add_repo(INSTALLATION, "acme", "infra", files);
    let mut gh = ws_fix::github::GitHubApp::new(
        &fake.url(),
        fake_github::APP_ID,
        &fake_github::test_private_key_pem(),
    )
    .unwrap();
    gh.retry.base_delay = Duration::from_millis(5);
    let tree = fake.commit("acme", "infra", &commit).unwrap().tree;
    (fake, gh, tree)
}

async fn fetch(
    gh: &ws_fix::github::GitHubApp,
    tree: &str,
) -> Result<ws_fix::snapshot::MemorySnapshot, ws_fix::app::AppError> {
    let repo = gh.repo(INSTALLATION, "acme", "infra").unwrap();
    ws_fix::app::snapshot::fetch(&repo, tree, load::DEFAULT_MAX_FILE_SIZE).await
}

fn blob_reads(fake: &FakeGitHub) -> usize {
    fake.count("GET", "/repos/acme/infra/git/blobs/")
}

#[tokio::test]
async fn a_tree_github_lists_in_part_is_refused() {
    let names: Vec<String> = (0..=fake_github::MAX_TREE_ENTRIES)
        .map(|i| format!("d{}/f{i}.txt", i % 100))
        .collect();
    let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "x")).collect();
    let (fake, gh, tree) = github_with(&files).await;
    let e = fetch(&gh, &tree).await.unwrap_err().to_string();
    assert!(
        e.contains("has more entries than GitHub lists at once (100,000)"),
        "{e}"
    );
    assert_eq!(blob_reads(&fake), 0);
}

#[tokio::test]
async fn too_many_files_or_bytes_are_refused_before_any_is_read() {
    let n = ws_fix::app::snapshot::MAX_FILES + 1;
    let names: Vec<String> = (0..n).map(|i| format!("apps/a{i}.yaml")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|p| (p.as_str(), GOOD)).collect();
    let (fake, gh, tree) = github_with(&files).await;
    let e = fetch(&gh, &tree).await.unwrap_err().to_string();
    assert!(
        e.contains("the commit has 5001 YAML files") && e.contains("limit of 5000 files"),
        "{e}"
    );
    assert_eq!(blob_reads(&fake), 0);

    // Files just under the size limit, more of them than the byte budget holds.
    let big = "a: b\n".repeat(load::DEFAULT_MAX_FILE_SIZE as usize / 5);
    let count = (ws_fix::app::snapshot::MAX_BYTES / big.len() as u64 + 1) as usize;
    let names: Vec<String> = (0..count).map(|i| format!("big/b{i}.yaml")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|p| (p.as_str(), big.as_str())).collect();
    let (fake, gh, tree) = github_with(&files).await;
    let e = fetch(&gh, &tree).await.unwrap_err().to_string();
    assert!(e.contains("limit of 5000 files and 67108864 bytes"), "{e}");
    assert_eq!(blob_reads(&fake), 0);
}

#[tokio::test]
async fn huge_blobs_binary_files_and_symlinks_are_listed_not_read() {
    let huge = "k: v\n".repeat(load::DEFAULT_MAX_FILE_SIZE as usize / 5 + 1);
    let binary = "\u{0}\u{1}\u{2}PNG\u{0}";
    let (fake, gh, _) = github_with(&[
        ("apps/good.yaml", GOOD),
        ("apps/huge.yaml", &huge),
        ("apps/logo.yaml", binary),
    ])
    .await;
    // Symbolic links: GitHub's tree mode 120000, the blob holding the target.
    let token = format!("token {}", fake.installation_token(INSTALLATION));
    let api = |path: &'static str, body: serde_json::Value| {
        let (token, fake) = (token.clone(), &fake);
        async move {
            let r = fake.request("POST", path, Some(&token), Some(&body)).await;
            assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
            r.body
        }
    };
    let main = fake.branch_sha("acme", "infra", "main").unwrap();
    let base_tree = fake.commit("acme", "infra", &main).unwrap().tree;
    let mut entries = Vec::new();
    for (path, target) in [
        ("apps/passwd.yaml", "/etc/passwd"),
        ("apps/up.yaml", "../../outside.yaml"),
        ("apps/loop.yaml", "loop.yaml"),
        ("apps/inside.yaml", "good.yaml"),
    ] {
        let blob = api(
            "/repos/acme/infra/git/blobs",
            serde_json::json!({"content": target, "encoding": "utf-8"}),
        )
        .await;
        entries.push(
            serde_json::json!({"path": path, "mode": "120000", "type": "blob", "sha": blob["sha"]}),
        );
    }
    let tree = api(
        "/repos/acme/infra/git/trees",
        serde_json::json!({"base_tree": base_tree, "tree": entries}),
    )
    .await["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    fake.clear_log();

    let snap = fetch(&gh, &tree).await.unwrap();
    // Six blobs read: the good file, the binary one and the four links' targets; never the
    // huge one.
    assert_eq!(blob_reads(&fake), 6);
    let loaded = load::load(&snap, &LoadOptions::default()).unwrap();
    let reason = |path: &str| {
        loaded
            .skipped
            .iter()
            .find(|s| s.path == path)
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{path} not skipped: {:?}", loaded.skipped))
    };
    assert!(matches!(
        reason("apps/huge.yaml"),
        SkipReason::TooLarge { .. }
    ));
    assert_eq!(reason("apps/logo.yaml"), SkipReason::Binary);
    for (path, outside) in [
        ("apps/passwd.yaml", true),
        ("apps/up.yaml", true),
        ("apps/loop.yaml", false),
        ("apps/inside.yaml", false),
    ] {
        match reason(path) {
            SkipReason::Symlink { outside: o, .. } => assert_eq!(o, outside, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(loaded.files.len(), 1);
    assert_eq!(loaded.files[0].documents[0].name(), Some("fine"));
}

// ---------------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------------

#[test]
fn a_comment_runs_at_most_ten_commands() {
    let body = "/ws-fix scan\n".repeat(1000);
    let parsed = commands::parse(&body);
    assert_eq!(parsed.len(), MAX_COMMANDS + 1);
    assert!(parsed[..MAX_COMMANDS].iter().all(|p| p.result.is_ok()));
    let last = &parsed[MAX_COMMANDS];
    assert_eq!(last.line, 11);
    let e = last.result.as_ref().unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TooManyCommands { not_run: 990 });
    assert!(
        e.to_string().starts_with(
            "one comment runs at most 10 commands: this one and the rest (990 in all)"
        ),
        "{e}"
    );
}

#[test]
fn long_comments_and_lines_are_cut_with_a_clear_error() {
    let filler = "x".repeat(99) + "\n";
    let body = format!("/ws-fix help\n{}/ws-fix scan\n", filler.repeat(1000));
    let parsed = commands::parse(&body);
    assert_eq!(parsed.len(), 2, "{parsed:?}");
    assert!(parsed[0].result.is_ok());
    match &parsed[1].result.as_ref().unwrap_err().kind {
        ParseErrorKind::CommentTooLong { last_line } => {
            assert_eq!(
                *last_line, 656,
                "the last whole line within 65,536 characters"
            );
            assert_eq!(parsed[1].line, 657);
        }
        other => panic!("{other:?}"),
    }
    // Without a command after the cut, nothing is said.
    assert_eq!(commands::parse(&filler.repeat(1000)).len(), 0);

    let long = format!("/ws-fix fix {}", "alpn ".repeat(10_000));
    let parsed = commands::parse(&long);
    assert_eq!(
        parsed[0].result.as_ref().unwrap_err().kind,
        ParseErrorKind::LineTooLong { chars: 50_011 }
    );
    assert_eq!(parsed[0].text.chars().count(), MAX_LINE_CHARS + 1);
}

#[test]
fn markdown_shapes_of_a_maximal_comment_parse_in_linear_time() {
    let n = commands::MAX_COMMENT_CHARS;
    let shapes: Vec<(&str, String)> = vec![
        ("code spans over lines", "`a\n".repeat(n / 3)),
        ("unclosed runs of growing length", {
            let mut s = String::new();
            let mut k = 1;
            while s.len() + k + 1 < n {
                s.push_str(&"`".repeat(k));
                s.push('a');
                k += 2;
            }
            s
        }),
        ("one backtick a line", "`\n".repeat(n / 2)),
        ("comment openers", "<!--\n".repeat(n / 5)),
        ("quotes", "> `a\n".repeat(n / 5)),
        ("fences", "```\n/ws-fix\n".repeat(n / 12)),
    ];
    for (what, body) in shapes {
        let start = Instant::now();
        let _ = commands::parse(&body);
        let _ = commands::new_commands(&body, &body);
        let took = start.elapsed();
        eprintln!("{what}: {took:?}");
        // At most O(n sqrt n) on 64 KiB: under a second unoptimised; quadratic took minutes.
        assert!(took < Duration::from_secs(5), "{what}: {took:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Repo config files
// ---------------------------------------------------------------------------------------------

#[test]
fn config_alias_bombs_and_deep_nesting_are_clear_errors() {
    use ws_fix::config::RepoConfig;
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let deep = format!("rules: {}1{}\n", "[".repeat(10_000), "]".repeat(10_000));
    for (what, text) in [("bomb", bomb), ("deep", deep)] {
        let start = Instant::now();
        let e = RepoConfig::parse(".github/ws-fix.yml", &text).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2), "{what}");
        assert!(
            e.to_string().starts_with(".github/ws-fix.yml:"),
            "{what}: {e}"
        );
    }
}
