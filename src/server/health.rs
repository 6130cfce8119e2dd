//! `ws-fix healthcheck`: asks a running server's `/healthz` (or any path) over HTTP/1.1 and
//! succeeds on a 2xx answer. The container image's `HEALTHCHECK` runs it: the runtime image has
//! no shell and no curl.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Why the server is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("`{0}` is not an http://HOST:PORT/PATH address")]
    BadUrl(String),
    #[error("no answer from {addr} within {secs} s")]
    Timeout { addr: String, secs: u64 },
    #[error("cannot reach {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("{addr} answered something that is not HTTP: {line:?}")]
    NotHttp { addr: String, line: String },
    #[error("{addr}{path} answered {status}")]
    Status {
        addr: String,
        path: String,
        status: u16,
    },
}

/// `http://HOST:PORT/PATH` split into the address to dial and the path to ask for.
fn split(url: &str) -> Result<(String, String), HealthError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| HealthError::BadUrl(url.to_owned()))?;
    let (addr, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if addr.is_empty() || !addr.contains(':') {
        return Err(HealthError::BadUrl(url.to_owned()));
    }
    Ok((addr.to_owned(), path.to_owned()))
}

/// The status code `url` answers, within `timeout` for the whole exchange.
pub async fn check(url: &str, timeout: Duration) -> Result<u16, HealthError> {
    let (addr, path) = split(url)?;
    let exchange = async {
        let mut stream =
            TcpStream::connect(&addr)
                .await
                .map_err(|source| HealthError::Connect {
                    addr: addr.clone(),
                    source,
                })?;
        let host = addr.clone();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: ws-fix-healthcheck\r\n\r\n"
        );
        let io = |source| HealthError::Connect {
            addr: addr.clone(),
            source,
        };
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        // The status line is all that is needed; read at most 1 KiB of it.
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') && head.len() < 1024 {
            let n = stream.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        let line = line.lines().next().unwrap_or_default().to_owned();
        let status = line
            .strip_prefix("HTTP/1.")
            .and_then(|r| r.get(2..5))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| HealthError::NotHttp {
                addr: addr.clone(),
                line: line.clone(),
            })?;
        Ok(status)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HealthError::Timeout {
            addr: addr.clone(),
            secs: timeout.as_secs(),
        })?
}

/// Succeeds when `url` answers 2xx.
pub async fn healthy(url: &str, timeout: Duration) -> Result<(), HealthError> {
    let status = check(url, timeout).await?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let (addr, path) = split(url)?;
    Err(HealthError::Status { addr, path, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_and_path() {
        assert_eq!(
            split("http://127.0.0.1:8080/healthz").unwrap(),
            ("127.0.0.1:8080".to_owned(), "/healthz".to_owned())
        );
        assert_eq!(
            split("http://localhost:9").unwrap(),
            ("localhost:9".to_owned(), "/".to_owned())
        );
        for bad in [
            "https://x:1/",
            "http://",
            "http://host/healthz",
            "localhost:8080",
        ] {
            assert!(matches!(split(bad), Err(HealthError::BadUrl(_))), "{bad}");
        }
    }
}
