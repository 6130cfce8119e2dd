//! `ws-fix verify` against real TLS servers on loopback: certificates made here with rcgen,
//! TLS from tokio-rustls, HTTP/2 from the `h2` crate's server (with and without RFC 8441),
//! WebSocket handshakes from tungstenite. Each server behaves like a case that matters; the
//! verdicts and exit codes are checked through the library, the real binary, and the App's
//! comment on a merged pull request (against the fake GitHub).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use ws_fix::probe::{self, Options, Outcome, Resolve, Target, Trust};

/// A test CA and a server certificate it signed.
struct Pki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

fn pki(names: &[&str]) -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "ws-fix test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        chain: vec![leaf.der().clone()],
        key_der: key.serialize_der(),
    }
}

/// How a test server behaves.
#[derive(Clone)]
struct Behaviour {
    /// The server's ALPN preference, most preferred first.
    alpn: Vec<&'static [u8]>,
    /// Advertise SETTINGS_ENABLE_CONNECT_PROTOCOL and accept WebSockets over HTTP/2.
    rfc8441: bool,
    /// The path of the WebSocket endpoint (other paths: 404).
    ws_path: &'static str,
    /// Answer every HTTP/1.1 upgrade with this status, `server` header and body instead.
    refuse: Option<(u16, &'static str, &'static str)>,
}

impl Behaviour {
    fn new(alpn: &[&'static [u8]], ws_path: &'static str) -> Behaviour {
        Behaviour {
            alpn: alpn.to_vec(),
            rfc8441: false,
            ws_path,
            refuse: None,
        }
    }
}

const H2: &[u8] = b"h2";
const H1: &[u8] = b"http/1.1";

/// A running server: its address and the TLS server names its clients asked for.
struct Server {
    addr: SocketAddr,
    names: Arc<Mutex<Vec<String>>>,
}

async fn tls_server(pki: &Pki, b: Behaviour) -> Server {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            pki.chain.clone(),
            PrivateKeyDer::Pkcs8(pki.key_der.clone().into()),
        )
        .unwrap();
    config.alpn_protocols = b.alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let names = Arc::new(Mutex::new(Vec::new()));
    let log = names.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, b, log) = (acceptor.clone(), b.clone(), log.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let conn = tls.get_ref().1;
                log.lock()
                    .unwrap()
                    .push(conn.server_name().unwrap_or_default().to_owned());
                if conn.alpn_protocol() == Some(H2) {
                    serve_h2(tls, &b).await;
                } else {
                    serve_http1(tls, &b).await;
                }
            });
        }
    });
    Server { addr, names }
}

async fn serve_h2(tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, b: &Behaviour) {
    let mut builder = h2::server::Builder::new();
    if b.rfc8441 {
        builder.enable_connect_protocol();
    }
    let Ok(mut conn) = builder.handshake::<_, Bytes>(tls).await else {
        return;
    };
    let mut open = Vec::new();
    while let Some(Ok((request, mut respond))) = conn.accept().await {
        let websocket = request.method() == http::Method::CONNECT
            && request
                .extensions()
                .get::<h2::ext::Protocol>()
                .is_some_and(|p| p.as_str() == "websocket");
        let status = if !websocket || request.uri().path() == b.ws_path {
            200
        } else {
            404
        };
        let response = http::Response::builder().status(status).body(()).unwrap();
        if let Ok(stream) = respond.send_response(response, !websocket || status != 200) {
            open.push(stream);
        }
    }
}

// tungstenite's handshake callback returns its own (large) error response type.
#[allow(clippy::result_large_err)]
async fn serve_http1(tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, b: &Behaviour) {
    let (path, refuse) = (b.ws_path, b.refuse);
    let callback = move |request: &Request, response: Response| {
        let (status, server, body) = match refuse {
            Some(r) => r,
            None if request.uri().path() == path => return Ok(response),
            None => (404, "test", "not found"),
        };
        let mut e = ErrorResponse::new(Some(body.to_owned()));
        *e.status_mut() = http::StatusCode::from_u16(status).unwrap();
        let headers = e.headers_mut();
        headers.insert("server", server.parse().unwrap());
        headers.insert("content-length", body.len().into());
        headers.insert("content-type", "text/plain".parse().unwrap());
        Err(e)
    };
    let _ = tokio_tungstenite::accept_hdr_async(tls, callback).await;
}

/// Accepts connections and never says a word.
async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    addr
}

fn resolve(host: &str, addr: SocketAddr) -> Resolve {
    Resolve {
        host: host.into(),
        port: addr.port(),
        address: addr,
    }
}

fn options(pki: &Pki, resolve: Vec<Resolve>) -> Options {
    Options {
        timeout: Duration::from_secs(5),
        trust: Trust::Roots(vec![pki.ca_der.clone()]),
        resolve,
        ..Options::default()
    }
}

async fn probe_one(pki: &Pki, addr: SocketAddr, path: &str) -> probe::HostReport {
    let target = Target::parse(&format!("ws.test:{}{path}", addr.port())).unwrap();
    let mut reports = probe::probe(&[target], &options(pki, vec![resolve("ws.test", addr)]))
        .await
        .unwrap();
    reports.remove(0)
}

#[tokio::test]
async fn h2_first_without_rfc8441_is_a_problem_even_when_http1_gives_101() {
    let pki = pki(&["ws.test"]);
    let s = tls_server(&pki, Behaviour::new(&[H2, H1], "/ws")).await;
    let r = probe_one(&pki, s.addr, "/ws").await;
    assert_eq!(r.alpn.browser.as_deref(), Some("h2"));
    assert_eq!(r.alpn.http1.as_deref(), Some("http/1.1"));
    assert!(!r.http2.as_ref().unwrap().extended_connect);
    assert_eq!(r.http1_websocket.as_ref().unwrap().status, 101);
    assert_eq!(r.verdict.outcome, Outcome::Problem);
    assert_eq!(r.verdict.code, "h2-without-rfc8441");
    assert_eq!(r.verdict.message, probe::verdict::H2_WITHOUT_RFC8441);
    assert_eq!(probe::exit_code(&[r]), 1);
    // SNI named the host on both connections.
    assert_eq!(*s.names.lock().unwrap(), ["ws.test", "ws.test"]);
}

#[tokio::test]
async fn http1_first_alpn_works_and_a_wrong_path_is_no_endpoint() {
    let pki = pki(&["ws.test"]);
    let s = tls_server(&pki, Behaviour::new(&[H1, H2], "/ws")).await;
    let r = probe_one(&pki, s.addr, "/ws").await;
    assert_eq!(r.alpn.browser.as_deref(), Some("http/1.1"));
    assert!(r.http2.is_none());
    assert_eq!(
        (r.verdict.outcome, r.verdict.message.as_str()),
        (Outcome::Works, "WebSocket works over HTTP/1.1")
    );
    assert_eq!(probe::exit_code(&[r]), 0);

    let r = probe_one(&pki, s.addr, "/elsewhere").await;
    assert_eq!(r.verdict.code, "no-endpoint");
    assert_eq!(
        r.verdict.message,
        "no WebSocket endpoint at this path (404)"
    );
    assert_eq!(
        r.http1_websocket.unwrap().body.as_deref(),
        Some("not found")
    );
}

#[tokio::test]
async fn rfc8441_is_read_from_the_settings_and_the_websocket_opens_over_h2() {
    let pki = pki(&["ws.test"]);
    let mut b = Behaviour::new(&[H2, H1], "/ws");
    b.rfc8441 = true;
    let s = tls_server(&pki, b).await;
    let r = probe_one(&pki, s.addr, "/ws").await;
    let h2 = r.http2.as_ref().unwrap();
    assert!(h2.extended_connect);
    assert_eq!(h2.websocket.as_ref().unwrap().status, 200);
    assert_eq!(
        (r.verdict.outcome, r.verdict.message.as_str()),
        (
            Outcome::Works,
            "WebSocket works over HTTP/2 (RFC 8441) and HTTP/1.1"
        )
    );

    // The server offers RFC 8441 but has no WebSocket at this path over either protocol.
    let r = probe_one(&pki, s.addr, "/nope").await;
    assert_eq!(
        r.http2.as_ref().unwrap().websocket.as_ref().unwrap().status,
        404
    );
    assert_eq!(r.verdict.code, "no-endpoint");
    assert_eq!(r.verdict.notes.len(), 1, "{:?}", r.verdict);
    assert!(r.verdict.notes[0].contains("refuses the WebSocket over HTTP/2 (404)"));
}

#[tokio::test]
async fn an_envoy_local_reply_403_is_an_upgrade_rejected_by_the_proxy() {
    let pki = pki(&["ws.test"]);
    let mut b = Behaviour::new(&[H1, H2], "/ws");
    b.refuse = Some((403, "envoy", "upgrade_failed"));
    let s = tls_server(&pki, b).await;
    let r = probe_one(&pki, s.addr, "/ws").await;
    let h = r.http1_websocket.as_ref().unwrap();
    assert_eq!(
        (h.status, h.server.as_deref(), h.body.as_deref()),
        (403, Some("envoy"), Some("upgrade_failed"))
    );
    assert_eq!(r.verdict.code, "upgrade-rejected");
    assert_eq!(r.verdict.message, "upgrade rejected by the proxy (403)");
    assert_eq!(probe::exit_code(&[r]), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_bound() {
    let pki = pki(&["ws.test"]);
    let addr = silent_server().await;
    let target = Target::parse(&format!("ws.test:{}/ws", addr.port())).unwrap();
    let mut o = options(&pki, vec![resolve("ws.test", addr)]);
    o.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let r = probe::probe(&[target], &o).await.unwrap().remove(0);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(r.verdict.outcome, Outcome::Unchecked);
    assert_eq!(r.verdict.code, "no-answer");
    assert!(
        r.verdict.message.contains("the TLS handshake"),
        "{}",
        r.verdict.message
    );
    assert_eq!(probe::exit_code(&[r]), 2);
}

#[tokio::test]
async fn an_untrusted_certificate_is_reported_and_insecure_skips_the_check() {
    let pki_a = pki(&["ws.test"]);
    let other = pki(&["ws.test"]);
    let s = tls_server(&pki_a, Behaviour::new(&[H1], "/ws")).await;
    let target = Target::parse(&format!("ws.test:{}/ws", s.addr.port())).unwrap();
    let wrong_ca = options(&other, vec![resolve("ws.test", s.addr)]);
    let r = probe::probe(std::slice::from_ref(&target), &wrong_ca)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (r.verdict.outcome, r.verdict.code),
        (Outcome::Unchecked, "tls-error")
    );
    assert!(
        r.verdict.message.contains("--ca FILE"),
        "{}",
        r.verdict.message
    );
    let insecure = Options {
        trust: Trust::AcceptAnyCertificate,
        ..wrong_ca
    };
    let r = probe::probe(&[target], &insecure).await.unwrap().remove(0);
    assert_eq!(r.verdict.outcome, Outcome::Works);
}

/// Runs the real binary.
async fn ws_fix(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ws-fix"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_verdicts_and_exit_codes() {
    let pki = pki(&["ws.test"]);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let h2_first = tls_server(&pki, Behaviour::new(&[H2, H1], "/ws")).await;
    let h1_first = tls_server(&pki, Behaviour::new(&[H1, H2], "/ws")).await;
    let mut b = Behaviour::new(&[H1, H2], "/ws");
    b.refuse = Some((403, "envoy", "upgrade_failed"));
    let rejects = tls_server(&pki, b).await;
    let silent = silent_server().await;
    let args = |addrs: &[SocketAddr], extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["verify".into(), "--ca".into(), ca.display().to_string()];
        for addr in addrs {
            a.push("--resolve".into());
            a.push(format!("ws.test:{}:127.0.0.1", addr.port()));
            a.push(format!("ws.test:{}/ws", addr.port()));
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    let (code, out, _) = ws_fix(args(&[h1_first.addr], &[])).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("works: WebSocket works over HTTP/1.1"),
        "{out}"
    );

    let (code, out, _) = ws_fix(args(&[h2_first.addr], &["--format", "json"])).await;
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["exit_code"], 1);
    let host = &v["hosts"][0];
    assert_eq!(host["verdict"], "h2-without-rfc8441");
    assert_eq!(host["outcome"], "problem");
    assert_eq!(host["alpn"]["offered_h2_http1"], "h2");
    assert_eq!(host["alpn"]["offered_http1"], "http/1.1");
    assert_eq!(host["http2"]["extended_connect"], false);
    assert_eq!(host["http1_websocket"]["status"], 101);

    let (code, out, _) = ws_fix(args(&[rejects.addr, h1_first.addr], &["--format", "json"])).await;
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hosts"][0]["verdict"], "upgrade-rejected");
    assert_eq!(v["hosts"][0]["http1_websocket"]["server"], "envoy");
    assert_eq!(v["hosts"][0]["http1_websocket"]["body"], "upgrade_failed");
    assert_eq!(v["summary"]["works"], 1);

    // A host that could not be checked wins over a problem: exit 2.
    let (code, out, _) = ws_fix(args(&[silent, h2_first.addr], &["--timeout", "0.3"])).await;
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("NOT CHECKED: no answer within 0.3 s (the TLS handshake)"),
        "{out}"
    );
    assert!(out.contains("PROBLEM: ALPN prefers h2"), "{out}");

    // Without the CA the system roots do not trust the test certificate (or there are none).
    let mut no_ca = args(&[h1_first.addr], &[]);
    no_ca.drain(1..3);
    let (code, out, err) = ws_fix(no_ca).await;
    assert_eq!(code, 2, "{out}{err}");

    // Bad input is a clear error, exit 2.
    let (code, _, err) = ws_fix(vec!["verify".into(), "*.example.com/ws".into()]).await;
    assert_eq!(code, 2);
    assert!(err.contains("a wildcard host cannot be dialled"), "{err}");
    let (code, _, err) = ws_fix(vec![
        "verify".into(),
        "--resolve".into(),
        "ws.test:443".into(),
        "ws.test".into(),
    ])
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("HOST:PORT:ADDRESS"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_repository_probes_every_websocket_host_and_probe_path() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let (code, out, err) = ws_fix(vec![
        "verify".into(),
        "--from".into(),
        repo.display().to_string(),
        "--resolve".into(),
        "*:443:127.0.0.1".into(),
        "--timeout".into(),
        "1".into(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    // What answers on loopback port 443 (usually nothing) does not matter here: the targets do.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
    let hosts: Vec<String> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}{}",
                h["host"].as_str().unwrap(),
                h["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            "grafana.example.com/api/live/ws",
            "home-assistant.example.com/api/websocket",
            "n8n.example.com/rest/push"
        ]
    );
    assert!(code == 1 || code == 2, "{out}{err}");
}

mod after_merge {
    use super::*;
    use crate::common::homelab::{self, INSTALLATION, OWNER, REPO};
    use ws_fix::app::{HostAllowlist, Verified, VerifyAfterMerge};
    use ws_fix::events::{Event, RepoRef};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_merged_fix_pr_gets_one_verdict_comment_and_only_allowed_hosts_are_dialled() {
        let fake = homelab::fake(false).await;
        let app = fake.app().await;
        let repo = RepoRef {
            installation: INSTALLATION,
            owner: OWNER.into(),
            name: REPO.into(),
        };
        let main = fake.branch_sha(OWNER, REPO, "main").unwrap();
        app.run(&Event::Push {
            repo: repo.clone(),
            git_ref: "refs/heads/main".into(),
            after: main,
            default_branch: "main".into(),
            sender: "alice".into(),
            sender_is_bot: false,
            paths: Vec::new(),
        })
        .await
        .unwrap();
        let number = fake
            .pulls(OWNER, REPO)
            .into_iter()
            .find(|p| p.pull.as_ref().unwrap().head_ref == "ws-fix/alpn-order")
            .unwrap()
            .number;

        let pki = pki(&[
            "home-assistant.example.com",
            "n8n.example.com",
            "grafana.example.com",
        ]);
        // Home Assistant's WebSocket works; the proxy refuses n8n's; Grafana's would work
        // but is outside the allowlist.
        let works = tls_server(&pki, Behaviour::new(&[H1, H2], "/api/websocket")).await;
        let mut b = Behaviour::new(&[H1, H2], "/rest/push");
        b.refuse = Some((403, "envoy", "upgrade_failed"));
        let rejects = tls_server(&pki, b).await;
        let grafana = tls_server(&pki, Behaviour::new(&[H1, H2], "/api/live/ws")).await;
        let rules = VerifyAfterMerge {
            allow: HostAllowlist::new(&[
                "home-assistant.example.com".into(),
                "n8n.example.com".into(),
            ]),
            delay: Duration::from_secs(300),
            probe: Options {
                timeout: Duration::from_secs(5),
                trust: Trust::Roots(vec![pki.ca_der.clone()]),
                resolve: vec![
                    Resolve {
                        host: "home-assistant.example.com".into(),
                        port: 443,
                        address: works.addr,
                    },
                    Resolve {
                        host: "n8n.example.com".into(),
                        port: 443,
                        address: rejects.addr,
                    },
                    Resolve {
                        host: "*".into(),
                        port: 443,
                        address: grafana.addr,
                    },
                ],
                ..Options::default()
            },
        };

        // Not merged yet: nothing happens.
        assert_eq!(
            app.verify_merged(&repo, number, &rules).await.unwrap(),
            Verified::NotApplicable
        );
        fake.merge_pr(OWNER, REPO, number, "alice");
        let done = app.verify_merged(&repo, number, &rules).await.unwrap();
        assert_eq!(
            done,
            Verified::Commented {
                probed: 2,
                not_dialled: 1,
                exit_code: 1
            }
        );
        let comments = fake.comments(OWNER, REPO, number);
        assert_eq!(comments.len(), 1);
        let body = &comments[0].body;
        assert!(
            body.contains("**The WebSocket check failed** on 1 of 2 host(s)"),
            "{body}"
        );
        assert!(body.contains("| `home-assistant.example.com/api/websocket` | ✅ works | WebSocket works over HTTP/1.1 |"), "{body}");
        assert!(
            body.contains(
                "| `n8n.example.com/rest/push` | ❌ problem | upgrade rejected by the proxy (403) |"
            ),
            "{body}"
        );
        assert!(
            body.contains("| `grafana.example.com/api/live/ws` | not dialled |"),
            "{body}"
        );
        // Hosts outside the allowlist were never dialled.
        assert!(grafana.names.lock().unwrap().is_empty());
        // Two connections each: the browser's offer and HTTP/1.1 alone.
        assert_eq!(
            *works.names.lock().unwrap(),
            ["home-assistant.example.com", "home-assistant.example.com"]
        );

        // Once per pull request.
        assert_eq!(
            app.verify_merged(&repo, number, &rules).await.unwrap(),
            Verified::AlreadyDone
        );
        assert_eq!(fake.comments(OWNER, REPO, number).len(), 1);
        fake.assert_no_violations();
    }
}
