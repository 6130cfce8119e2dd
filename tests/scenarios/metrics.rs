//! Observability end to end: `ws-fix serve --log-format json` as a real process against the fake
//! GitHub gets a delivery with a bad signature, one too large, a push whose job scans the
//! homelab repository and opens its fix pull requests (through one secondary rate limit), and
//! the push again (a redelivery). Then `GET /metrics` must show each of these, with the right
//! labels and values, in a well-formed Prometheus text; and every log line written during the
//! job must carry the job's delivery, installation, repository and commit.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::deliveries::{deliver, get, sign};
use crate::common::fake_github::FakeGitHub;
use crate::common::homelab::{self, INSTALLATION, OWNER, REPO, SECRET};
use serde_json::Value;
use ws_fix::queue::Queue;

/// A `ws-fix serve --log-format json` child process and its log lines, parsed.
struct Server {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Server {
    fn spawn(fake: &FakeGitHub, dir: &Path) -> Server {
        let mut child = homelab::serve_command(fake, dir)
            .args(["--log-format", "json"])
            // No sweep of GitHub's delivery log: the requests counted are the job's alone.
            .env("WS_FIX_REDELIVER_HOURS", "0")
            .spawn()
            .expect("ws-fix serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("[server] {line}");
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            lines,
            seen: Vec::new(),
        };
        let line = server.wait_for("the server says where it listens", |m| {
            m.starts_with("ws-fix serving on ")
        });
        server.addr = message(&line)
            .trim_start_matches("ws-fix serving on ")
            .parse()
            .unwrap();
        server
    }

    /// Reads log lines until one whose message satisfies `want`; a minute at most.
    fn wait_for(&mut self, what: &str, want: impl Fn(&str) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("{what}: not logged in a minute"));
            self.seen.push(line.clone());
            if want(message(&line)) {
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or("")
}

/// The `job` span of a log line, if it was written during a job.
fn job_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "job")
}

/// The samples of a Prometheus text, by name with labels (`name{a="x"}`), after checking that
/// every line is a comment or a sample and that every sample's metric has HELP and TYPE lines.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut typed = Vec::new();
    let mut helped = Vec::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.push(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.push(rest.split_once(' ').unwrap().0.to_owned());
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("ws_fix_"), "{line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.iter().any(|t| t == f))
            })
            .unwrap_or(name);
        assert!(
            typed.iter().any(|t| t == family) && helped.iter().any(|h| h == family),
            "{family} has no TYPE or HELP line before its samples"
        );
        assert!(
            out.insert(series.to_owned(), value).is_none(),
            "{series} twice"
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_job_log_fields_follow_a_push() {
    let fake = homelab::fake(true).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(&fake, dir.path());
    let addr = server.addr;

    // Forged: not counted under the event it claims.
    let body = serde_json::to_vec(&homelab::push_payload(&fake, OWNER, REPO)).unwrap();
    let (status, _) = deliver(addr, b"push", "d-forged", &body, &sign("guess", &body)).await;
    assert_eq!(status, 401);
    // Over GitHub's 25 MB: refused before it is read.
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    let (status, _) = deliver(addr, b"push", "d-big", &big, &sign(SECRET, &big)).await;
    assert_eq!(status, 413);

    // The push; the first read of the repository meets a secondary rate limit (no wait).
    fake.secondary_rate_limit_next("GET", &format!("/repos/{OWNER}/{REPO}"), 0);
    let sha = fake.branch_sha(OWNER, REPO, "main").unwrap();
    let (status, text) = deliver(addr, b"push", "d-push", &body, &sign(SECRET, &body)).await;
    assert_eq!(status, 202, "{text}");
    server.wait_for("the push's job", |m| m == "job done");
    let opened = fake.pulls(OWNER, REPO).len();
    assert_eq!(opened, 2, "alpn-order and http-upgrade");

    // Redelivered: recognised, nothing runs.
    let (status, text) = deliver(addr, b"push", "d-push", &body, &sign(SECRET, &body)).await;
    assert_eq!((status, text.as_str()), (200, "already received\n"));

    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let s = samples(&text);
    let at = |series: &str| {
        *s.get(series)
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    };
    let exact = [
        // The deliveries: four series, each moved once.
        (
            r#"ws_fix_deliveries_total{event="push",outcome="accepted"}"#,
            1.0,
        ),
        (
            r#"ws_fix_deliveries_total{event="push",outcome="duplicate"}"#,
            1.0,
        ),
        (
            r#"ws_fix_deliveries_total{event="unknown",outcome="unauthorized"}"#,
            1.0,
        ),
        (
            r#"ws_fix_deliveries_total{event="unknown",outcome="too_large"}"#,
            1.0,
        ),
        (r#"ws_fix_signatures_total{outcome="current"}"#, 2.0),
        // One job: done, timed once.
        (r#"ws_fix_jobs{state="done"}"#, 1.0),
        (r#"ws_fix_jobs{state="queued"}"#, 0.0),
        ("ws_fix_queue_oldest_job_age_seconds", 0.0),
        (
            r#"ws_fix_job_duration_seconds_count{kind="push",outcome="done"}"#,
            1.0,
        ),
        (
            r#"ws_fix_job_duration_seconds_bucket{kind="push",outcome="done",le="+Inf"}"#,
            1.0,
        ),
        // One scan.
        ("ws_fix_scans_total", 1.0),
        ("ws_fix_scan_duration_seconds_count", 1.0),
    ];
    for (series, value) in exact {
        assert_eq!(at(series), value, "{series}");
    }
    assert_eq!(
        s.keys()
            .filter(|k| k.starts_with("ws_fix_deliveries_total"))
            .count(),
        4,
        "{text}"
    );
    let counts: f64 = s
        .iter()
        .filter(|(k, _)| k.starts_with("ws_fix_job_duration_seconds_count"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(counts, 1.0, "one job ran");
    assert!(at(r#"ws_fix_job_duration_seconds_sum{kind="push",outcome="done"}"#) > 0.0);

    // The scan's findings, the pull requests the fake now holds.
    assert!(at(r#"ws_fix_findings_total{rule="alpn-h2-first"}"#) >= 1.0);
    assert_eq!(
        at(r#"ws_fix_pull_requests_total{action="opened"}"#),
        opened as f64
    );
    assert!(!s.contains_key(r#"ws_fix_pull_requests_total{action="closed"}"#));

    // GitHub: every request the fake saw but the token purchases (octocrab's own), by status.
    let statuses: BTreeMap<&str, f64> = s
        .iter()
        .filter_map(|(k, v)| {
            let status = k
                .strip_prefix("ws_fix_github_requests_total{status=\"")?
                .strip_suffix("\"}")?;
            Some((status, *v))
        })
        .collect();
    assert!(
        statuses["200"] > 0.0 && statuses["201"] > 0.0,
        "{statuses:?}"
    );
    assert_eq!(statuses["403"], 1.0, "the rate limit");
    assert!(!statuses.contains_key("error"), "{statuses:?}");
    let seen_by_fake: usize = ["GET", "POST", "PATCH", "PUT", "DELETE"]
        .iter()
        .map(|m| fake.count(m, "/"))
        .sum::<usize>()
        - fake.count("POST", "/app/installations/");
    assert_eq!(statuses.values().sum::<f64>(), seen_by_fake as f64);
    assert_eq!(at("ws_fix_github_rate_limit_remaining"), 4999.0);

    // Every line written during the job names it; lines written outside no job.
    let during: Vec<&Value> = server
        .seen
        .iter()
        .filter(|l| job_span(l).is_some())
        .collect();
    assert!(
        during.iter().any(|l| message(l).starts_with("retrying in")),
        "the rate limit's retry is logged in the job"
    );
    assert!(during.iter().any(|l| message(l) == "job done"));
    for line in &during {
        let span = job_span(line).unwrap();
        assert_eq!(span["delivery"], "d-push", "{line}");
        assert_eq!(span["installation"], INSTALLATION.to_string(), "{line}");
        assert_eq!(span["repo"], format!("{OWNER}/{REPO}"), "{line}");
        assert_eq!(span["commit"], sha, "{line}");
    }
    for line in &server.seen {
        let m = message(line);
        if m == "job done" || m.starts_with("retrying in") {
            assert!(job_span(line).is_some(), "outside the job's span: {line}");
        }
        if m.starts_with("ws-fix serving on") {
            assert!(job_span(line).is_none(), "{line}");
        }
    }
    fake.assert_no_violations();
}

/// `ws_fix_queue_oldest_job_age_seconds` reads how long the job due first has waited: jobs not
/// yet due and jobs no longer queued do not count.
async fn the_oldest_due_job_is_measured_from_when_it_became_due(queue: &Queue) {
    assert_eq!(queue.oldest_due_wait_ms().await.unwrap(), 0, "empty");
    let event = ws_fix::events::Event::Ping;
    let now = ws_fix::queue::now_ms();
    queue
        .schedule("77/a/b", &event, now + 3_600_000)
        .await
        .unwrap();
    assert_eq!(queue.oldest_due_wait_ms().await.unwrap(), 0, "not due yet");
    queue
        .schedule("77/a/c", &event, now - 90_000)
        .await
        .unwrap();
    queue
        .schedule("77/a/d", &event, now - 30_000)
        .await
        .unwrap();
    let waited = queue.oldest_due_wait_ms().await.unwrap();
    assert!((90_000..100_000).contains(&waited), "{waited}");
    // Claimed (running), the oldest no longer waits.
    let job = queue.claim().await.unwrap().expect("a due job");
    assert_eq!(job.key, "77/a/c");
    let waited = queue.oldest_due_wait_ms().await.unwrap();
    assert!((30_000..40_000).contains(&waited), "{waited}");
}

#[tokio::test]
async fn the_oldest_due_job_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::sqlite(dir.path()).await.unwrap();
    the_oldest_due_job_is_measured_from_when_it_became_due(&queue).await;
}

#[tokio::test]
async fn the_oldest_due_job_on_postgres() {
    let Some(schema) = crate::common::postgres::schema("the_oldest_due_job_on_postgres").await
    else {
        return;
    };
    let queue = Queue::postgres(&schema.url).await.unwrap();
    the_oldest_due_job_is_measured_from_when_it_became_due(&queue).await;
    drop(queue);
    schema.drop().await;
}
