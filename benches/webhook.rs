//! Webhook answer latency under a sustained load of signed deliveries on loopback, against a
//! bare axum handler measured in the same run (the ratio is the cost of verification,
//! parsing and the durable queue).
//!
//! `cargo bench --bench webhook` (or with `-- SECONDS CONNECTIONS`); prints p50, p99 and
//! requests per second for both servers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use ws_fix::queue::{Handler, Job, JobError};

const SECRET: &str = "bench secret";

struct Nothing;

impl Handler for Nothing {
    async fn handle(&self, _job: &Job) -> Result<(), JobError> {
        Ok(())
    }
}

fn push_body(i: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "after": format!("{i:040x}"),
        "repository": {"name": format!("repo{}", i % 50), "full_name": format!("acme/repo{}", i % 50), "owner": {"login": "acme"}, "default_branch": "main"},
        "sender": {"login": "alice", "type": "User"},
        "installation": {"id": 1},
        "commits": [{"added": [], "modified": ["kubernetes/apps/x/app/helmrelease.yaml"], "removed": []}]
    }))
    .unwrap()
}

fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let b = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// One keep-alive connection sending deliveries until `until`; returns each latency.
async fn client(
    addr: std::net::SocketAddr,
    until: Instant,
    next: Arc<std::sync::atomic::AtomicU64>,
) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut out = Vec::new();
    while Instant::now() < until {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = push_body(i);
        let head = format!(
            "POST /webhook HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\nx-github-event: push\r\nx-github-delivery: bench-{i}\r\nx-hub-signature-256: {}\r\ncontent-length: {}\r\n\r\n",
            sign(&body),
            body.len()
        );
        let start = Instant::now();
        write.write_all(head.as_bytes()).await.unwrap();
        write.write_all(&body).await.unwrap();
        // Status line and headers, then the body by content-length.
        let mut line = String::new();
        let mut length = 0usize;
        let mut status = String::new();
        loop {
            line.clear();
            read.read_line(&mut line).await.unwrap();
            if status.is_empty() {
                status = line.clone();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0; length];
        read.read_exact(&mut buf).await.unwrap();
        out.push(start.elapsed());
        assert!(
            status.contains(" 202 ") || status.contains(" 200 "),
            "{status}"
        );
    }
    out
}

async fn load(
    addr: std::net::SocketAddr,
    seconds: u64,
    connections: usize,
) -> (Vec<Duration>, f64) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        tasks.spawn(client(addr, until, next.clone()));
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (all, rate)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let connections: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // The bare handler: the same body limit, reads the body, answers 202.
        let bare = axum::Router::new().route(
            "/webhook",
            axum::routing::post(|_body: axum::body::Bytes| async { (axum::http::StatusCode::ACCEPTED, "ok\n") }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bare_addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, bare).await.unwrap() });

        let dir = tempfile::tempdir().unwrap();
        let settings = ws_fix::server::Settings {
            app_id: None,
            private_key_file: None,
            private_key: None,
            webhook_secret: Some(ws_fix::server::Secret::new(SECRET)),
            webhook_secret_previous: None,
            github_api_url: "http://127.0.0.1:9".into(),
            github_url: "https://github.com".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            database_url: None,
            verify: Default::default(),
            queue: Default::default(),
        };
        let server = ws_fix::server::start(&settings, Nothing).await.unwrap();

        println!("webhook latency, {seconds} s, {connections} connections, signed push deliveries on loopback");
        let (bare_lat, bare_rate) = load(bare_addr, seconds, connections).await;
        let (lat, rate) = load(server.addr, seconds, connections).await;
        for (name, l, r) in [("bare axum handler", &bare_lat, bare_rate), ("ws-fix /webhook", &lat, rate)] {
            println!(
                "{name:>18}: {:>7} requests, {r:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
                l.len(),
                pct(l, 0.50),
                pct(l, 0.99)
            );
        }
        println!(
            "ratio ws-fix/bare: p50 {:.1}x, p99 {:.1}x, throughput {:.2}",
            pct(&lat, 0.5) / pct(&bare_lat, 0.5),
            pct(&lat, 0.99) / pct(&bare_lat, 0.99),
            rate / bare_rate
        );
        server.stop().await;
    });
}
