//! The App's webhook as GitHub keeps it: where deliveries go, every attempt with the answer it
//! got (`GET /app/hook/deliveries`), and redelivery on request
//! (`POST /app/hook/deliveries/{id}/attempts`), which really sends the event again.

use super::*;

/// The webhook and its delivery attempts.
#[derive(Debug, Clone, Default)]
pub struct Hook {
    /// Where deliveries go and the secret they are signed with.
    pub target: Option<(SocketAddr, String)>,
    /// Every attempt, oldest first.
    pub attempts: Vec<HookAttempt>,
    /// Attempts to deliver again, sent once the state is unlocked.
    outbox: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct HookAttempt {
    pub id: u64,
    /// The event's id (`X-GitHub-Delivery`), shared by its redeliveries.
    pub guid: String,
    pub event: String,
    pub body: Vec<u8>,
    /// Unix seconds.
    pub delivered_at: i64,
    pub redelivery: bool,
    /// What the server answered; 0 when nothing answered.
    pub status_code: u16,
}

impl HookAttempt {
    fn json(&self) -> Value {
        let payload: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        json!({
            "id": self.id,
            "guid": self.guid,
            "delivered_at": rfc3339(self.delivered_at),
            "redelivery": self.redelivery,
            "duration": 0.01,
            "status": if self.status_code == 0 { "failed to connect".to_owned() } else { self.status_code.to_string() },
            "status_code": self.status_code,
            "event": self.event,
            "action": payload["action"].as_str(),
            "installation_id": payload["installation"]["id"].as_u64(),
            "repository_id": payload["repository"]["id"].as_u64(),
        })
    }
}

impl State {
    /// The hook's routes; `None` for any other.
    pub(super) fn route_hook(
        &mut self,
        method: &str,
        m: &openapi::Matched,
        query: &[(String, String)],
    ) -> Option<Reply> {
        let q = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let id = m.param("delivery_id").parse::<u64>().unwrap_or(0);
        Some(match (method, m.template.as_str()) {
            ("GET", "/app/hook/deliveries") => {
                let per_page = q("per_page")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(30)
                    .clamp(1, 100);
                // Cursor `v1_<id>`: the attempts older than that id.
                let before = q("cursor")
                    .and_then(|c| c.strip_prefix("v1_")?.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                let page: Vec<&HookAttempt> = self
                    .hook
                    .attempts
                    .iter()
                    .rev()
                    .filter(|a| a.id < before)
                    .take(per_page)
                    .collect();
                let more = page
                    .last()
                    .is_some_and(|last| self.hook.attempts.iter().any(|a| a.id < last.id));
                let mut reply = Reply::json(200, page.iter().map(|a| a.json()).collect());
                if let (true, Some(last)) = (more, page.last()) {
                    reply.headers.push((
                        "link".into(),
                        format!(
                            "<{}/app/hook/deliveries?per_page={per_page}&cursor=v1_{}>; rel=\"next\"",
                            self.api_url, last.id
                        ),
                    ));
                }
                reply
            }
            ("GET", "/app/hook/deliveries/{delivery_id}") => {
                match self.hook.attempts.iter().find(|a| a.id == id) {
                    Some(a) => Reply::json(200, a.json()),
                    None => Reply::not_found(),
                }
            }
            ("POST", "/app/hook/deliveries/{delivery_id}/attempts") => {
                if !self.hook.attempts.iter().any(|a| a.id == id) {
                    return Some(Reply::not_found());
                }
                self.hook.outbox.push(id);
                Reply::json(202, json!({}))
            }
            _ => return None,
        })
    }
}

/// Sends the redeliveries asked for (called by the request handler once the state is unlocked,
/// before it answers, so that a test sees the redelivery done when the request returns).
pub(super) async fn flush(shared: &Arc<Mutex<State>>) {
    let ids = std::mem::take(&mut shared.lock().unwrap().hook.outbox);
    for id in ids {
        let Some(first) = shared
            .lock()
            .unwrap()
            .hook
            .attempts
            .iter()
            .find(|a| a.id == id)
            .cloned()
        else {
            continue;
        };
        send(shared, &first.event, &first.guid, first.body, true).await;
    }
}

/// One attempt: sends the event to the hook's target and records what it answered.
async fn send(
    shared: &Arc<Mutex<State>>,
    event: &str,
    guid: &str,
    body: Vec<u8>,
    redelivery: bool,
) -> u16 {
    let target = shared.lock().unwrap().hook.target.clone();
    let status_code = match target {
        Some((addr, secret)) => post_webhook(addr, &secret, event, guid, &body).await,
        None => 0,
    };
    let mut state = shared.lock().unwrap();
    let id = state.next_id();
    state.hook.attempts.push(HookAttempt {
        id,
        guid: guid.to_owned(),
        event: event.to_owned(),
        body,
        delivered_at: now_secs(),
        redelivery,
        status_code,
    });
    status_code
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `POST /webhook` as GitHub sends it; 0 when the connection fails.
async fn post_webhook(addr: SocketAddr, secret: &str, event: &str, guid: &str, body: &[u8]) -> u16 {
    use hmac::{Hmac, KeyInit, Mac};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nuser-agent: GitHub-Hookshot/fake\r\nx-github-event: {event}\r\nx-github-delivery: {guid}\r\nx-hub-signature-256: sha256={signature}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(body).await.is_err() {
        return 0;
    }
    let mut raw = Vec::new();
    if stream.read_to_end(&mut raw).await.is_err() {
        return 0;
    }
    String::from_utf8_lossy(&raw)
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl FakeGitHub {
    /// Where the App's deliveries go, and the webhook secret they are signed with.
    pub fn set_hook(&self, addr: SocketAddr, secret: &str) {
        self.with_state(|s| s.hook.target = Some((addr, secret.to_owned())));
    }

    /// Delivers an event as GitHub would (a new event id), recording the attempt whatever
    /// happens; returns the event id and the answer's status (0: nothing answered).
    pub async fn deliver_event(&self, event: &str, payload: &Value) -> (String, u16) {
        let guid = {
            let mut state = self.shared.lock().unwrap();
            let n = state.next_id();
            format!("00000000-0000-4000-8000-{n:012}")
        };
        let body = serde_json::to_vec(payload).unwrap();
        let status = send(&self.shared, event, &guid, body, false).await;
        (guid, status)
    }

    /// Every delivery attempt, oldest first.
    pub fn hook_attempts(&self) -> Vec<HookAttempt> {
        self.with_state(|s| s.hook.attempts.clone())
    }
}
