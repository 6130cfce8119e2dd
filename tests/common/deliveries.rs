//! Webhook deliveries to a running `ws-fix serve` on loopback: settings read from flags as the
//! command line reads them, signed bodies, and raw HTTP/1.1 requests (so that tests control
//! every byte, invalid ones included).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_fix::server::Settings;

#[derive(clap::Parser)]
struct Serve {
    #[command(flatten)]
    settings: Settings,
}

/// `ws-fix serve`'s settings from `args` (flags only), listening on a free loopback port.
pub fn settings(args: &[&str]) -> Settings {
    use clap::Parser;
    let argv = ["serve", "--listen", "127.0.0.1:0"].iter().chain(args);
    Serve::try_parse_from(argv).expect("valid flags").settings
}

/// A loopback address nothing listens on (a server that is down).
pub fn unreachable_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `sha256=<hex>`: GitHub's `X-Hub-Signature-256` of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// `POST /webhook` with GitHub's headers; `event` is sent as raw bytes. Returns the status
/// and the answer's body.
pub async fn deliver(
    addr: std::net::SocketAddr,
    event: &[u8],
    delivery: &str,
    body: &[u8],
    signature: &str,
) -> (u16, String) {
    let mut head = b"POST /webhook HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nx-github-event: ".to_vec();
    head.extend_from_slice(event);
    head.extend_from_slice(
        format!(
            "\r\nx-github-delivery: {delivery}\r\nx-hub-signature-256: {signature}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request(addr, &head, body).await
}

/// `GET path`; returns the status and the body.
pub async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let head = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    request(addr, head.as_bytes(), b"").await
}

async fn request(addr: std::net::SocketAddr, head: &[u8], body: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head).await.unwrap();
    // The server may answer (413) before it read the whole body.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}
