//! The load test: 10,000 signed deliveries, 20% of them redeliveries of earlier ones, sent in
//! a burst over loopback to `serve`'s router and queue (SQLite, and PostgreSQL when
//! `WS_FIX_TEST_DATABASE_URL` is set). None is lost, the redeliveries queue no work, and memory
//! stays bounded. Prints throughput, answer times and peak RSS
//! (`cargo test --release --test load -- --nocapture` for the figures of the notes).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::deliveries::{deliver, settings, sign};
use ws_fix::queue::{Handler, Job, JobError};

const DELIVERIES: usize = 10_000;
/// Every fifth delivery repeats an earlier one's id and body.
const DUPLICATE_EVERY: usize = 5;
const CLIENTS: usize = 32;
const SECRET: &str = "load";

/// Counts the jobs it is given.
#[derive(Clone, Default)]
struct Count(Arc<AtomicUsize>);

impl Handler for Count {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The `n`th delivery: its id and signed body (a push to a repository of its own, so that no
/// two collapse), or for every fifth a redelivery of an earlier one.
fn delivery(n: usize) -> (String, Vec<u8>) {
    let original = if n % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 {
        n - 1 - (n / DUPLICATE_EVERY) % (DUPLICATE_EVERY - 1)
    } else {
        n
    };
    let body = serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "after": format!("{original:040x}"),
        "repository": {"name": format!("r{original}"), "full_name": format!("acme/r{original}"), "owner": {"login": "acme"}, "default_branch": "main"},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": 1},
        "commits": []
    }))
    .unwrap();
    (format!("load-{original}"), body)
}

async fn burst(name: &str, database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--webhook-secret",
        SECRET,
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let count = Count::default();
    let mut server = ws_fix::server::start(&settings(&args), count.clone())
        .await
        .unwrap();
    let addr = server.addr;
    let rss_before = rss_kb("VmRSS:");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let next = next.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= DELIVERIES {
                        return answers;
                    }
                    let (id, body) = delivery(n);
                    let t = Instant::now();
                    let (status, _) =
                        deliver(addr, b"push", &id, &body, &sign(SECRET, &body)).await;
                    answers.push((n, status, t.elapsed()));
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for c in clients {
        answers.extend(c.await.unwrap());
    }
    let elapsed = started.elapsed();
    let duplicates = DELIVERIES / DUPLICATE_EVERY;
    let unique = DELIVERIES - duplicates;
    // A redelivery may arrive before its original (the clients race): then the original is
    // the one answered 200. Either way each id is accepted exactly once.
    let accepted = answers.iter().filter(|(_, s, _)| *s == 202).count();
    let recognised = answers.iter().filter(|(_, s, _)| *s == 200).count();
    assert_eq!(answers.len(), DELIVERIES);
    assert_eq!((accepted, recognised), (unique, duplicates), "{name}");

    // Every accepted delivery's job runs, once.
    let deadline = Instant::now() + Duration::from_secs(300);
    while count.0.load(Ordering::SeqCst) < unique {
        let seen = *server.finished.borrow();
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, server.finished.wait_for(|n| *n > seen))
            .await
            .unwrap_or_else(|_| panic!("{name}: jobs not done in five minutes"))
            .unwrap();
    }
    let drained = started.elapsed();
    server.stop().await;
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        unique,
        "{name}: no job twice"
    );

    let mut times: Vec<Duration> = answers.iter().map(|(_, _, t)| *t).collect();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let rss_after = rss_kb("VmRSS:");
    println!(
        "{name}: {DELIVERIES} deliveries ({duplicates} redeliveries) from {CLIENTS} clients in {:.2} s = {:.0}/s; answer p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {unique} jobs done after {:.2} s; RSS {} MB before, {} MB after, peak {} MB",
        elapsed.as_secs_f64(),
        DELIVERIES as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3,
        drained.as_secs_f64(),
        rss_before / 1024,
        rss_after / 1024,
        rss_kb("VmHWM:") / 1024,
    );
    // Bounded: the burst leaves no growth beyond buffers and the pools' caches.
    assert!(
        rss_after.saturating_sub(rss_before) < 150 * 1024,
        "{name}: RSS grew from {rss_before} kB to {rss_after} kB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_deliveries_in_a_burst_none_lost_none_twice() {
    burst("sqlite", None).await;
    if let Some(schema) = common::postgres::schema("load").await {
        burst("postgres", Some(&schema.url)).await;
        schema.drop().await;
    }
}
