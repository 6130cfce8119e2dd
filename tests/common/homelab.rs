//! The scenario most App tests share: examples/homelab in the repository `acme/infra` of
//! installation 77 on the fake GitHub, and the payloads GitHub sends about it.

use std::path::Path;

use serde_json::{Value, json};

use super::fake_github::FakeGitHub;

pub const OWNER: &str = "acme";
pub const REPO: &str = "infra";
pub const INSTALLATION: u64 = 77;
pub const SECRET: &str = "It's a Secret to Everybody";
/// The Envoy Gateway settings file of examples/homelab.
pub const ENVOY: &str = "kubernetes/apps/network/envoy-gateway/config/envoy.yaml";

/// The files of examples/homelab; with `spdy`, the Gateway-wide BackendTrafficPolicy also
/// lists `httpUpgrade: [{type: spdy/3.1}]` (so an http-upgrade fix is due beside alpn-order).
pub fn files(spdy: bool) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let mut text = std::fs::read_to_string(&p).unwrap();
            if spdy && rel == ENVOY {
                text = text.replacen(
                    "  tcpKeepalive: {}\n",
                    "  tcpKeepalive: {}\n  httpUpgrade:\n    - type: spdy/3.1\n",
                    1,
                );
            }
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

/// A fake GitHub holding the homelab repository in installation [`INSTALLATION`].
pub async fn fake(spdy: bool) -> FakeGitHub {
    ws_fix::github::install_crypto();
    let fake = FakeGitHub::start().await;
    fake.add_installation(INSTALLATION, OWNER);
    add_repo(&fake, OWNER, REPO, spdy);
    fake
}

/// Adds a homelab repository `owner/name` to installation [`INSTALLATION`].
pub fn add_repo(fake: &FakeGitHub, owner: &str, name: &str, spdy: bool) {
    let files = files(spdy);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    fake.add_repo(INSTALLATION, owner, name, &refs);
}

/// The `push` payload of the current head of `owner/name`'s main branch.
pub fn push_payload(fake: &FakeGitHub, owner: &str, name: &str) -> Value {
    json!({
        "ref": "refs/heads/main",
        "after": fake.branch_sha(owner, name, "main").unwrap(),
        "repository": {"id": 1, "name": name, "full_name": format!("{owner}/{name}"), "owner": {"login": owner}, "default_branch": "main"},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": INSTALLATION},
        "commits": []
    })
}

/// Open pull requests of `owner/name` by head branch, sorted.
pub fn open_pulls(fake: &FakeGitHub, owner: &str, name: &str) -> Vec<String> {
    let mut heads: Vec<String> = fake
        .pulls(owner, name)
        .into_iter()
        .filter(|p| p.state == "open")
        .map(|p| p.pull.as_ref().unwrap().head_ref.clone())
        .collect();
    heads.sort();
    heads
}

/// `ws-fix serve` as a child process for the App of `fake` (its test key written into `dir`),
/// with the homelab's webhook secret, listening on a free loopback port, its data directory
/// `dir`, stdout piped (the caller reads the log) and no PostgreSQL unless the caller sets one.
pub fn serve_command(fake: &FakeGitHub, dir: &Path) -> std::process::Command {
    let key = dir.join("app-key.pem");
    std::fs::write(&key, super::fake_github::test_private_key_pem()).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ws-fix"));
    cmd.arg("serve")
        .env("WS_FIX_APP_ID", fake.app_id().to_string())
        .env("WS_FIX_PRIVATE_KEY_FILE", &key)
        .env("WS_FIX_WEBHOOK_SECRET", SECRET)
        .env("WS_FIX_GITHUB_API_URL", fake.url())
        .env("WS_FIX_LISTEN", "127.0.0.1:0")
        .env("WS_FIX_DATA_DIR", dir)
        .env("WS_FIX_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("WS_FIX_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    cmd
}
