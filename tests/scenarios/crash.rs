//! `ws-fix serve` as a real process against the fake GitHub, killed with SIGKILL in the middle
//! of publishing (the fake holds the request that opens the pull request until the process is
//! dead) and started again on the same data directory: every accepted delivery is processed
//! and the fake holds exactly one pull request per fix kind.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::common::fake_github::{FakeGitHub, Release};
use crate::common::homelab::{self, OWNER, REPO, SECRET};
use ws_fix::queue::{JobState, Queue};

/// A `ws-fix serve` child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `ws-fix serve` on a free loopback port with the data directory `dir` (and the
    /// PostgreSQL database `database_url`, if given); returns once it serves.
    fn spawn(fake: &FakeGitHub, dir: &Path, database_url: Option<&str>) -> Server {
        let mut cmd = homelab::serve_command(fake, dir);
        // A dead process's jobs are taken over once their lease expires.
        cmd.env("WS_FIX_JOB_LEASE_SECONDS", "2");
        if let Some(url) = database_url {
            cmd.env("WS_FIX_DATABASE_URL", url);
        }
        let mut child = cmd.spawn().expect("ws-fix serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("[server] {line}");
                if let Some(rest) = line.split("serving on ").nth(1) {
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                        .collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens")
            .parse()
            .unwrap();
        Server { child, addr }
    }

    /// SIGKILL, and waits until the process is gone.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, and waits for the process to exit (it finishes what it runs).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn killed_while_opening_a_pull_request(release: Release) {
    let fake = homelab::fake(true).await;
    let dir = tempfile::tempdir().unwrap();
    let first = Server::spawn(&fake, dir.path(), None);
    fake.set_hook(first.addr, SECRET);
    let mut held = fake.hold_next("POST", &format!("/repos/{OWNER}/{REPO}/pulls"));
    let payload = homelab::push_payload(&fake, OWNER, REPO);
    let (delivery, status) = fake.deliver_event("push", &payload).await;
    assert_eq!(status, 202, "the delivery is accepted");
    // The first pull request is on its way to GitHub: the process dies here.
    held.arrived().await;
    first.kill();
    held.release(release);

    let second = Server::spawn(&fake, dir.path(), None);
    let queue = Queue::open(dir.path(), None).await.unwrap();
    until_settled(&queue, std::slice::from_ref(&delivery)).await;
    assert_eq!(
        homelab::open_pulls(&fake, OWNER, REPO),
        ["ws-fix/alpn-order", "ws-fix/http-upgrade"]
    );
    assert_eq!(fake.pulls(OWNER, REPO).len(), 2, "no pull request twice");
    let status = second.terminate();
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status}"
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_github_opened_the_pull_request_it_is_found_not_opened_again() {
    killed_while_opening_a_pull_request(Release::Serve).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_github_opened_the_pull_request_it_is_opened_on_restart() {
    killed_while_opening_a_pull_request(Release::Drop).await;
}

/// Two `ws-fix serve` processes on one PostgreSQL database, fed one burst: three pushes per
/// repository (two of them to commits pushed meanwhile), each delivered to one process and
/// redelivered to the other. Together they open exactly what one process would: one pull
/// request per fix kind, made from each repository's newest commit, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_open_what_one_would() {
    let Some(schema) = crate::common::postgres::schema("two_servers_on_one_database").await else {
        return;
    };
    let fake = homelab::fake(true).await;
    let repos = [(REPO, true), ("lab", false), ("edge", true)];
    for (name, spdy) in &repos[1..] {
        homelab::add_repo(&fake, OWNER, name, *spdy);
    }
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let servers = [
        Server::spawn(&fake, dir_a.path(), Some(&schema.url)),
        Server::spawn(&fake, dir_b.path(), Some(&schema.url)),
    ];
    let mut deliveries = Vec::new();
    for round in 0..3 {
        for (i, (name, _)) in repos.iter().enumerate() {
            if round > 0 {
                let path = format!("docs/round-{round}.md");
                fake.push_commit(
                    OWNER,
                    name,
                    "main",
                    "alice",
                    "docs",
                    &[(&path, Some("x\n"))],
                );
            }
            let body = serde_json::to_vec(&homelab::push_payload(&fake, OWNER, name)).unwrap();
            let delivery = format!("burst-{round}-{name}");
            let signature = crate::common::deliveries::sign(SECRET, &body);
            let (first, second) = (&servers[(round + i) % 2], &servers[(round + i + 1) % 2]);
            let (status, _) = crate::common::deliveries::deliver(
                first.addr, b"push", &delivery, &body, &signature,
            )
            .await;
            assert_eq!(status, 202);
            let (status, _) = crate::common::deliveries::deliver(
                second.addr,
                b"push",
                &delivery,
                &body,
                &signature,
            )
            .await;
            assert_eq!(
                status, 200,
                "a redelivery is recognised by the other process"
            );
            deliveries.push(delivery);
        }
    }
    let queue = Queue::open(dir_a.path(), Some(&schema.url)).await.unwrap();
    until_settled(&queue, &deliveries).await;
    // What one process makes of the same repositories.
    let reference = homelab::fake(true).await;
    for (name, spdy) in &repos[1..] {
        homelab::add_repo(&reference, OWNER, name, *spdy);
    }
    let app = reference.app().await;
    let manifests = |fake: &FakeGitHub, name: &str, branch: &str| {
        let mut files = fake.files(OWNER, name, branch);
        files.retain(|path, _| !path.starts_with("docs/"));
        files
    };
    for (name, spdy) in repos {
        let body = serde_json::to_vec(&homelab::push_payload(&reference, OWNER, name)).unwrap();
        app.run(&ws_fix::events::Event::parse("push", &body).unwrap())
            .await
            .unwrap();
        let expected: &[&str] = if spdy {
            &["ws-fix/alpn-order", "ws-fix/http-upgrade"]
        } else {
            &["ws-fix/alpn-order"]
        };
        assert_eq!(homelab::open_pulls(&reference, OWNER, name), expected);
        assert_eq!(homelab::open_pulls(&fake, OWNER, name), expected, "{name}");
        assert_eq!(
            fake.pulls(OWNER, name).len(),
            expected.len(),
            "{name}: nothing twice"
        );
        for branch in expected {
            assert_eq!(
                manifests(&fake, name, branch),
                manifests(&reference, name, branch),
                "{name} {branch}: the same change"
            );
        }
    }
    drop(queue);
    for server in servers {
        assert!(server.terminate().success());
    }
    schema.drop().await;
    fake.assert_no_violations();
}

/// Waits (a minute at most) until no job of these deliveries is queued or running: each is
/// done, or superseded by a newer push of its repository.
async fn until_settled(queue: &Queue, deliveries: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let mut settled = true;
        for d in deliveries {
            let states = queue.states(d).await.unwrap();
            assert!(
                !states.contains(&JobState::Failed),
                "delivery {d}: a job failed"
            );
            settled &= !states.is_empty()
                && states
                    .iter()
                    .all(|s| matches!(s, JobState::Done | JobState::Superseded));
        }
        if settled {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs not settled in a minute"
        );
    }
}
