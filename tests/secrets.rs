//! Secrets never reach a log line or an error message, and they rotate without a restart.
//!
//! The scenario runs the real server and App against the fake GitHub with known secrets (two
//! webhook secrets, the App's private key in a file, the installation tokens the fake mints)
//! while every tracing event at TRACE level, ours and our dependencies', is written to a buffer;
//! it goes through the error paths too (a bad signature, a GitHub 5xx, expired tokens, a key
//! GitHub no longer accepts, a broken key file). Then no captured line may hold a secret, a line
//! of either PEM key, a token or a JWT. (`log` records are not captured: `ws-fix serve` installs
//! no bridge for them either, so they are never written.)

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::deliveries::{deliver, get, settings, sign};
use common::fake_github::{self, FakeGitHub};
use common::homelab::{INSTALLATION, OWNER, REPO};
use ws_fix::app::App;
use ws_fix::catalogue::Catalogue;
use ws_fix::github::GitHubApp;
use ws_fix::server::Running;

const SECRET: &str = "whsec-current-5f0c1d2e";
const PREVIOUS: &str = "whsec-previous-9a8b7c6d";

/// Every line written by any tracing event of this test binary.
fn captured() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        log
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&captured().lock().unwrap()).into_owned()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// What must never be written: the webhook secrets, every body line of both keys, every
/// installation token the fake minted, and anything shaped like a JWT or a token.
fn assert_no_secret_in(what: &str, text: &str, fake: &FakeGitHub) {
    let mut secrets: Vec<String> = vec![SECRET.into(), PREVIOUS.into()];
    for key in ["test-app-key.pem", "test-app-key-rotated.pem"] {
        secrets.extend(
            fixture(key)
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    secrets.extend(fake.with_state(|s| s.tokens.keys().cloned().collect::<Vec<_>>()));
    assert!(
        secrets.len() > 40,
        "the keys' lines and the tokens are checked"
    );
    for (n, line) in text.lines().enumerate() {
        for s in &secrets {
            assert!(
                !line.contains(s.as_str()),
                "{what}, line {}: a secret: {line}",
                n + 1
            );
        }
        // A JWT's header is base64 JSON; GitHub's tokens start with `gh?_`.
        for shape in ["eyJ", "ghs_", "ghp_", "BEGIN RSA", "PRIVATE KEY"] {
            assert!(
                !line.contains(shape),
                "{what}, line {}: `{shape}`: {line}",
                n + 1
            );
        }
    }
}

/// A Kubernetes Secret volume: `private-key.pem` → `..data/private-key.pem`, `..data` → a
/// timestamped folder; an update writes a new folder and swaps `..data` with one rename.
struct SecretVolume {
    dir: tempfile::TempDir,
    version: usize,
}

impl SecretVolume {
    fn new(pem: &str) -> SecretVolume {
        let dir = tempfile::tempdir().unwrap();
        let mut volume = SecretVolume { dir, version: 0 };
        volume.update(pem);
        std::os::unix::fs::symlink("..data/private-key.pem", volume.key_path()).unwrap();
        volume
    }

    fn key_path(&self) -> PathBuf {
        self.dir.path().join("private-key.pem")
    }

    fn update(&mut self, pem: &str) {
        self.version += 1;
        let folder = format!("..2026_01_01_00_00_{:02}", self.version);
        std::fs::create_dir(self.dir.path().join(&folder)).unwrap();
        std::fs::write(self.dir.path().join(&folder).join("private-key.pem"), pem).unwrap();
        let tmp = self.dir.path().join("..data_tmp");
        std::os::unix::fs::symlink(&folder, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.path().join("..data")).unwrap();
    }
}

fn push_body(fake: &FakeGitHub) -> Vec<u8> {
    serde_json::to_vec(&common::homelab::push_payload(fake, OWNER, REPO)).unwrap()
}

fn comment_body(issue: u64, comment_id: u64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "action": "created",
        "issue": {"number": issue},
        "comment": {"id": comment_id, "body": text, "user": {"login": "alice", "type": "User"}},
        "repository": {"name": REPO, "full_name": format!("{OWNER}/{REPO}"), "owner": {"login": OWNER}},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": INSTALLATION}
    }))
    .unwrap()
}

/// Waits until `done` holds, looking again after each finished job (the worker signals each
/// one); a minute at most.
async fn until(server: &mut Running, what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen = *server.finished.borrow();
        if done() {
            return;
        }
        tokio::time::timeout_at(deadline, server.finished.wait_for(|n| *n > seen))
            .await
            .unwrap_or_else(|_| panic!("{what}: not in a minute"))
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_or_an_answer() {
    captured();
    let fake = common::homelab::fake(false).await;
    fake.set_permission(OWNER, REPO, "alice", "write", "write");
    let mut volume = SecretVolume::new(&fixture("test-app-key.pem"));
    let data = tempfile::tempdir().unwrap();
    let s = settings(&[
        "--app-id",
        &fake_github::APP_ID.to_string(),
        "--private-key-file",
        volume.key_path().to_str().unwrap(),
        "--webhook-secret",
        SECRET,
        "--webhook-secret-previous",
        PREVIOUS,
        "--github-api-url",
        &fake.url(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    let mut answers = format!("{s:?}\n");
    let app = App::from_settings(&s, Catalogue::embedded().unwrap())
        .await
        .unwrap();
    let mut server = ws_fix::server::start(&s, app).await.unwrap();
    let addr = server.addr;

    // A push signed with the current secret opens the PRs (tokens minted and used).
    let body = push_body(&fake);
    let (status, text) = deliver(addr, b"push", "d-1", &body, &sign(SECRET, &body)).await;
    assert_eq!(status, 202, "{text}");
    answers.push_str(&text);
    until(&mut server, "the push opens PRs", || {
        !fake.pulls(OWNER, REPO).is_empty()
    })
    .await;

    // Bad signatures: one made with a wrong secret, one with a secret's text as the signature.
    for sig in [sign("not the secret", &body), format!("sha256={SECRET}")] {
        let (status, text) = deliver(addr, b"push", "d-2", &body, &sig).await;
        assert_eq!(status, 401);
        answers.push_str(&text);
    }

    // A command signed with the previous secret, answered through a GitHub 502 and after
    // every token expired.
    fake.expire_tokens();
    fake.fail_next("POST", &format!("/repos/{OWNER}/{REPO}/issues/"), 502, &[]);
    let issue = fake.create_issue(OWNER, REPO, "alice", "help");
    let id = fake.post_comment_as(OWNER, REPO, issue, "alice", "/ws-fix scan");
    let body = comment_body(issue, id, "/ws-fix scan");
    let (status, text) =
        deliver(addr, b"issue_comment", "d-3", &body, &sign(PREVIOUS, &body)).await;
    assert_eq!(status, 202, "{text}");
    answers.push_str(&text);
    until(&mut server, "the scan is answered", || {
        let replies = fake.comments(OWNER, REPO, issue);
        replies.iter().any(|c| c.body.starts_with("Findings on"))
    })
    .await;

    // GitHub stops accepting the key and the key file breaks: the job fails, with a reason.
    fake.rotate_app_key(&fixture("test-app-key-rotated.pub.pem"));
    let broken = fixture("test-app-key-rotated.pem").replacen("MII", "XXX", 1);
    volume.update(&broken);
    fake.expire_tokens();
    let body = push_body(&fake);
    let (status, _) = deliver(addr, b"push", "d-4", &body, &sign(SECRET, &body)).await;
    assert_eq!(status, 202);
    until(&mut server, "the job fails", || {
        log_text().contains("job failed")
    })
    .await;
    // The rotated key in place: the next job works again.
    volume.update(&fixture("test-app-key-rotated.pem"));
    let issue = fake.create_issue(OWNER, REPO, "alice", "again");
    let id = fake.post_comment_as(OWNER, REPO, issue, "alice", "/ws-fix help");
    let body = comment_body(issue, id, "/ws-fix help");
    let (status, _) = deliver(addr, b"issue_comment", "d-5", &body, &sign(SECRET, &body)).await;
    assert_eq!(status, 202);
    until(&mut server, "the help is posted", || {
        fake.comments(OWNER, REPO, issue).len() == 2
    })
    .await;

    let (_, metrics) = get(addr, "/metrics").await;
    assert!(
        metrics.contains("ws_fix_signatures_total{outcome=\"previous\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ws_fix_signatures_total{outcome=\"current\"} 3"),
        "{metrics}"
    );
    answers.push_str(&metrics);
    server.stop().await;

    let log = log_text();
    // The capture works and saw the paths that could leak: requests, retries, failures, keys.
    for seen in [
        "access_tokens",
        "retrying in",
        "job failed",
        "keeping the previous key",
        "using its new key",
        "GitHub refused the App's credentials (401)",
    ] {
        assert!(log.contains(seen), "`{seen}` was not logged:\n{log}");
    }
    assert_no_secret_in("the log", &log, &fake);
    assert_no_secret_in("the answers", &answers, &fake);
    for c in fake.comments(OWNER, REPO, issue) {
        assert_no_secret_in("a comment", &c.body, &fake);
    }
}

#[tokio::test]
async fn a_rotated_private_key_is_used_without_a_restart() {
    captured();
    let fake = common::homelab::fake(false).await;
    let mut volume = SecretVolume::new(&fixture("test-app-key.pem"));
    let mut gh =
        GitHubApp::with_key_file(&fake.url(), fake_github::APP_ID, &volume.key_path()).unwrap();
    gh.retry.base_delay = Duration::from_millis(5);
    let repo = gh.repo(INSTALLATION, OWNER, REPO).unwrap();
    assert_eq!(repo.info().await.unwrap().default_branch, "main");
    assert_eq!(gh.bot_login().await.unwrap(), "ws-fix[bot]");

    // GitHub now knows only the new key; the file still holds the old one.
    fake.rotate_app_key(&fixture("test-app-key-rotated.pub.pem"));
    let e = gh.bot_login().await.unwrap_err().to_string();
    assert!(e.contains("401"), "{e}");

    // The Secret volume is updated: the next request uses the new key, through the same
    // `GitHubApp` and even the same `Repo`.
    volume.update(&fixture("test-app-key-rotated.pem"));
    assert_eq!(gh.bot_login().await.unwrap(), "ws-fix[bot]");
    fake.expire_tokens();
    let before = fake.count("POST", "/app/installations/");
    assert_eq!(repo.info().await.unwrap().default_branch, "main");
    assert_eq!(
        fake.count("POST", "/app/installations/"),
        before + 1,
        "a new token was bought with the new key"
    );

    // A file that is not a key is refused and the working key kept.
    volume.update("not a key\n");
    assert_eq!(gh.bot_login().await.unwrap(), "ws-fix[bot]");
    fake.assert_no_violations();
}
