//! `ws-fix verify`: the verification checklist run against live hosts. For each host, over TLS
//! with SNI: which protocol the server picks when offered `h2, http/1.1` (a browser's offer) and
//! `http/1.1` alone; whether its HTTP/2 SETTINGS allow extended CONNECT (RFC 8441); the
//! WebSocket handshake over HTTP/1.1 on the app's probe path; and, where RFC 8441 is offered,
//! the WebSocket over HTTP/2. Then one verdict per host ([`verdict`]) and the reports
//! ([`report`]). TLS is rustls (ring), HTTP/2 the `h2` crate, the WebSocket handshake
//! tungstenite: no framing is written here.

mod http2;
pub mod report;
pub mod target;
pub mod tls;
pub mod verdict;
mod websocket;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use target::{Resolve, Target, TargetError};
pub use tls::{Trust, TrustError};
pub use verdict::{Outcome, Verdict};

/// How to probe.
#[derive(Clone, Debug)]
pub struct Options {
    /// The bound of every step (resolving, connecting, TLS, each handshake).
    pub timeout: Duration,
    pub trust: Trust,
    /// `--resolve` entries, first match wins.
    pub resolve: Vec<Resolve>,
    /// Hosts probed at the same time.
    pub parallel: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(10),
            trust: Trust::System,
            resolve: Vec::new(),
            parallel: 8,
        }
    }
}

impl Options {
    /// `step` bounded by the timeout; running out is a [`FailureKind::Timeout`] at `stage`.
    async fn within<T>(&self, stage: Stage, step: impl Future<Output = T>) -> Result<T, Failure> {
        tokio::time::timeout(self.timeout, step)
            .await
            .map_err(|_| Failure {
                stage,
                kind: FailureKind::Timeout,
                message: format!(
                    "no answer within {} s ({})",
                    self.timeout.as_secs_f64(),
                    stage.describe()
                ),
            })
    }
}

/// A step of the probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Resolve,
    Connect,
    Tls,
    Http2,
    Http1Websocket,
    Http2Websocket,
}

impl Stage {
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Resolve => "resolving the host",
            Stage::Connect => "connecting",
            Stage::Tls => "the TLS handshake",
            Stage::Http2 => "the HTTP/2 handshake",
            Stage::Http1Websocket => "the WebSocket handshake over HTTP/1.1",
            Stage::Http2Websocket => "the WebSocket over HTTP/2",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    Timeout,
    Error,
}

/// A step that got no usable answer: the host could not be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub stage: Stage,
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    fn error(stage: Stage, message: impl Into<String>) -> Failure {
        Failure {
            stage,
            kind: FailureKind::Error,
            message: message.into(),
        }
    }
}

/// The answer to a WebSocket handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Handshake {
    /// 101 over HTTP/1.1 and 200 over HTTP/2 mean the WebSocket is open.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The start of a refusal's body (Envoy's local reply, such as `upgrade_failed`): what
    /// arrived with the headers, at most [`BODY_LIMIT`] bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The most of a refusal's body kept.
pub const BODY_LIMIT: usize = 512;

impl Handshake {
    fn from_parts(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Handshake {
        let header = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let body = &body[..body.len().min(BODY_LIMIT)];
        let body = String::from_utf8_lossy(body).trim().to_owned();
        Handshake {
            status,
            server: header("server"),
            location: header("location"),
            body: (!body.is_empty()).then_some(body),
        }
    }
}

/// What the server offers over HTTP/2 to a browser's connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Http2 {
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441) is set.
    pub extended_connect: bool,
    /// The WebSocket over extended CONNECT (tried only where it is offered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<Handshake>,
    /// Why that WebSocket got no answer (a reset stream, a timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_failure: Option<Failure>,
}

/// The protocol the server chose for an offer (`None`: it chose none, which means HTTP/1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Alpn {
    /// Offered `h2, http/1.1`.
    pub browser: Option<String>,
    /// Offered `http/1.1` alone.
    pub http1: Option<String>,
}

/// Everything learnt about one host, and the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct HostReport {
    pub target: Target,
    /// The address connected to.
    pub address: Option<SocketAddr>,
    pub alpn: Alpn,
    /// Present when the browser's offer got h2.
    pub http2: Option<Http2>,
    pub http1_websocket: Option<Handshake>,
    /// The step that got no usable answer.
    pub failure: Option<Failure>,
    pub verdict: Verdict,
}

/// Probes every target (up to `options.parallel` at a time), in the order given.
pub async fn probe(targets: &[Target], options: &Options) -> Result<Vec<HostReport>, TrustError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let configs = Arc::new(tls::Configs::new(&options.trust)?);
    let permits = Arc::new(tokio::sync::Semaphore::new(options.parallel.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, target) in targets.iter().enumerate() {
        let (configs, permits, options, target) = (
            configs.clone(),
            permits.clone(),
            options.clone(),
            target.clone(),
        );
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, probe_host(target, &configs, &options).await)
        });
    }
    let mut reports: Vec<Option<HostReport>> = vec![None; targets.len()];
    while let Some(done) = set.join_next().await {
        let (i, report) = done.expect("a probe task does not panic");
        reports[i] = Some(report);
    }
    Ok(reports.into_iter().flatten().collect())
}

/// Probes one host: the browser's offer (and HTTP/2 where it is chosen), then HTTP/1.1 alone
/// with the WebSocket handshake.
pub async fn probe_host(target: Target, configs: &tls::Configs, options: &Options) -> HostReport {
    let mut report = HostReport {
        target,
        address: None,
        alpn: Alpn::default(),
        http2: None,
        http1_websocket: None,
        failure: None,
        verdict: Verdict::default(),
    };
    if let Err(f) = probe_steps(&mut report, configs, options).await {
        report.failure = Some(f);
    }
    report.verdict = verdict::judge(&report);
    report
}

async fn probe_steps(
    report: &mut HostReport,
    configs: &tls::Configs,
    options: &Options,
) -> Result<(), Failure> {
    let target = report.target.clone();
    let (stream, address) = tls::connect(&target, &configs.browser, options).await?;
    report.address = Some(address);
    report.alpn.browser = chosen(&stream);
    if report.alpn.browser.as_deref() == Some("h2") {
        report.http2 = Some(http2::inspect(stream, &target, options).await?);
    }
    let (stream, _) = tls::connect(&target, &configs.http1, options).await?;
    report.alpn.http1 = chosen(&stream);
    report.http1_websocket = Some(websocket::handshake(stream, &target, options).await?);
    Ok(())
}

fn chosen(stream: &tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> Option<String> {
    stream
        .get_ref()
        .1
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// `ws-fix verify`'s exit code (rules.md): 2 when any host could not be checked, else 1 when
/// any has a problem, else 0.
pub fn exit_code(reports: &[HostReport]) -> u8 {
    let has = |o: Outcome| reports.iter().any(|r| r.verdict.outcome == o);
    if has(Outcome::Unchecked) {
        2
    } else if has(Outcome::Problem) {
        1
    } else {
        0
    }
}
