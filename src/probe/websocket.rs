//! The WebSocket handshake over HTTP/1.1 (tungstenite) on a connection that offered only
//! `http/1.1`: 101 opens the WebSocket; any other answer is kept with its `server` header and
//! the start of its body.

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use super::target::Target;
use super::{Failure, Handshake, Options, Stage};

pub async fn handshake(
    stream: TlsStream<TcpStream>,
    target: &Target,
    options: &Options,
) -> Result<Handshake, Failure> {
    let failed = |e: tungstenite::Error| Failure::error(Stage::Http1Websocket, e.to_string());
    let request = format!("wss://{}{}", target.authority(), target.path)
        .into_client_request()
        .map_err(failed)?;
    let answer = options
        .within(
            Stage::Http1Websocket,
            tokio_tungstenite::client_async(request, stream),
        )
        .await?;
    match answer {
        Ok((mut ws, response)) => {
            // Close the WebSocket politely; the verdict does not depend on it.
            let _ = options.within(Stage::Http1Websocket, ws.close(None)).await;
            Ok(Handshake::from_parts(
                response.status().as_u16(),
                response.headers(),
                &[],
            ))
        }
        // tungstenite keeps the body bytes that arrived with the headers.
        Err(tungstenite::Error::Http(response)) => Ok(Handshake::from_parts(
            response.status().as_u16(),
            response.headers(),
            response.body().as_deref().unwrap_or_default(),
        )),
        Err(e) => Err(failed(e)),
    }
}
