//! HTTP/2 on a browser's connection (the `h2` crate): whether the server's SETTINGS allow
//! extended CONNECT (RFC 8441), and where they do, the WebSocket over it (`CONNECT` with
//! `:protocol websocket`, 200 expected).

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::target::Target;
use super::{BODY_LIMIT, Failure, Handshake, Http2, Options, Stage};

/// Ends the connection's task when the probe is done with it, whatever the way out.
struct Abort(tokio::task::JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn inspect(
    stream: TlsStream<TcpStream>,
    target: &Target,
    options: &Options,
) -> Result<Http2, Failure> {
    let failed = |e: h2::Error| Failure::error(Stage::Http2, e.to_string());
    let (send, mut connection) = options
        .within(Stage::Http2, h2::client::handshake(stream))
        .await?
        .map_err(failed)?;
    let mut ping = connection
        .ping_pong()
        .expect("a new connection hands out its ping-pong");
    let _driver = Abort(tokio::spawn(async move {
        let _ = connection.await;
    }));
    // A server's SETTINGS frame is the first thing it sends and is applied before any later
    // frame is read: once the PING is answered, the settings are known.
    options
        .within(Stage::Http2, ping.ping(h2::Ping::opaque()))
        .await?
        .map_err(failed)?;
    let extended_connect = send.is_extended_connect_protocol_enabled();
    let mut out = Http2 {
        extended_connect,
        websocket: None,
        websocket_failure: None,
    };
    if extended_connect {
        let tried = options
            .within(Stage::Http2Websocket, websocket(send, target, options))
            .await
            .and_then(|r| r);
        match tried {
            Ok(h) => out.websocket = Some(h),
            Err(f) => out.websocket_failure = Some(f),
        }
    }
    Ok(out)
}

/// The RFC 8441 WebSocket handshake on a new stream.
async fn websocket(
    send: SendRequest<Bytes>,
    target: &Target,
    options: &Options,
) -> Result<Handshake, Failure> {
    let failed = |e: h2::Error| Failure::error(Stage::Http2Websocket, e.to_string());
    let mut send = send.ready().await.map_err(failed)?;
    let mut request = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("https://{}{}", target.authority(), target.path))
        .header("sec-websocket-version", "13")
        .body(())
        .map_err(|e| Failure::error(Stage::Http2Websocket, e.to_string()))?;
    request
        .extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    let (response, mut stream) = send.send_request(request, false).map_err(failed)?;
    let (parts, mut body) = response.await.map_err(failed)?.into_parts();
    let status = parts.status.as_u16();
    let mut bytes = Vec::new();
    if status == 200 {
        // The WebSocket is open: end our side of it.
        let _ = stream.send_data(Bytes::new(), true);
    } else {
        // A refusal's body, as much as arrives in time.
        let _ = tokio::time::timeout(options.timeout, async {
            while let Some(Ok(chunk)) = body.data().await {
                let _ = body.flow_control().release_capacity(chunk.len());
                bytes.extend_from_slice(&chunk);
                if bytes.len() >= BODY_LIMIT {
                    break;
                }
            }
        })
        .await;
    }
    Ok(Handshake::from_parts(status, &parts.headers, &bytes))
}
