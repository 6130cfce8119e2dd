//! The one façade over GitHub's REST API (octocrab underneath, its own retries off). App
//! authentication: a JWT (RS256) for the App, installation tokens fetched and cached by octocrab
//! until shortly before they expire, one client per installation. A private key given as a
//! file is read again when the file changes (a Kubernetes Secret volume swaps it in place), so a
//! rotated key is used without a restart. The retry rules live here:
//! 5xx and transport errors are retried with backoff, but a request that creates something is
//! retried only after looking for what it would have created; 403/429 rate limits wait for
//! `retry-after` / `x-ratelimit-reset` (or hand the wait to the queue when it is long);
//! content-creating requests are made one at a time per installation.

mod deliveries;
mod repo;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use serde_json::Value;

pub use deliveries::HookDelivery;
pub use repo::{
    ANNOTATIONS_PER_REQUEST, Annotation, CheckOutput, CheckRun, Commit, Comparison, NewCheckRun,
    Pull, Repo, RepoInfo, TreeEntry,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Status {
        status: u16,
        method: String,
        path: String,
        message: String,
    },
    #[error("GitHub's rate limit: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: i64 },
    #[error("talking to GitHub: {0}")]
    Transport(String),
    #[error("the App's key or ID: {0}")]
    Auth(String),
    /// GitHub answered only part of a listing.
    #[error("too large for GitHub's API: {0}")]
    Truncated(String),
}

impl GitHubError {
    /// True when another attempt later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            GitHubError::Status { status, .. } => *status >= 500,
            GitHubError::RateLimited { .. } | GitHubError::Transport(_) => true,
            GitHubError::Auth(_) | GitHubError::Truncated(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How requests are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts for one request (5xx, transport errors).
    pub attempts: u32,
    /// The first backoff; doubled each time.
    pub base_delay: Duration,
    /// Rate-limit waits up to this long are waited here; longer ones go back to the queue.
    pub max_inline_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(500),
            max_inline_wait: Duration::from_secs(90),
        }
    }
}

/// Requests made, for the benchmarks in the notes and the no-op-push test.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub writes: AtomicU64,
}

/// The App: its own client and one client per installation.
pub struct GitHubApp {
    api_url: String,
    app_id: u64,
    /// The private key's file, read again when it changes; `None` for a key given inline.
    key_file: Option<PathBuf>,
    clients: std::sync::Mutex<Clients>,
    write_locks: std::sync::Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    pub retry: RetryPolicy,
    pub counters: Arc<Counters>,
    /// Answers by status and the remaining rate limit; the App counts its work here too.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The clients made with one private key.
struct Clients {
    app: Arc<Octocrab>,
    /// Shared, not cloned: a clone of an installation client copies its token cache instead of
    /// sharing it, and would mint a new token.
    installations: HashMap<u64, Arc<Octocrab>>,
    /// The key file as it was when it was last read.
    key_stamp: Option<KeyStamp>,
}

/// What tells that a file changed without reading it: the file behind any symbolic links (a
/// Kubernetes Secret volume swaps a link to a new file), its size and modification time.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyStamp {
    file: (u64, u64),
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl KeyStamp {
    fn of(path: &Path) -> Option<KeyStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(KeyStamp {
            file: (m.dev(), m.ino()),
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

impl GitHubApp {
    /// `api_url`: `https://api.github.com` or a GitHub Enterprise `https://HOST/api/v3`.
    pub fn new(
        api_url: &str,
        app_id: u64,
        private_key_pem: &str,
    ) -> Result<GitHubApp, GitHubError> {
        let app = app_client(api_url, app_id, private_key_pem)?;
        Ok(GitHubApp::with_clients(api_url, app_id, None, app, None))
    }

    /// The App with its private key in a file, read again whenever the file changes.
    pub fn with_key_file(
        api_url: &str,
        app_id: u64,
        key_file: &Path,
    ) -> Result<GitHubApp, GitHubError> {
        let key_stamp = KeyStamp::of(key_file);
        let app = app_client(api_url, app_id, &read_key(key_file)?)?;
        Ok(GitHubApp::with_clients(
            api_url,
            app_id,
            Some(key_file.to_owned()),
            app,
            key_stamp,
        ))
    }

    fn with_clients(
        api_url: &str,
        app_id: u64,
        key_file: Option<PathBuf>,
        app: Octocrab,
        key_stamp: Option<KeyStamp>,
    ) -> GitHubApp {
        GitHubApp {
            api_url: api_url.to_owned(),
            app_id,
            key_file,
            clients: std::sync::Mutex::new(Clients {
                app: Arc::new(app),
                installations: HashMap::new(),
                key_stamp,
            }),
            write_locks: Default::default(),
            retry: RetryPolicy::default(),
            counters: Arc::new(Counters::default()),
            metrics: Arc::default(),
        }
    }

    /// The clients, made anew with the key file's new key when the file changed since it was
    /// last read. A changed file that holds no usable key is logged and the old key kept.
    fn clients(&self) -> std::sync::MutexGuard<'_, Clients> {
        let mut clients = self.clients.lock().expect("clients lock");
        let Some(path) = &self.key_file else {
            return clients;
        };
        let stamp = KeyStamp::of(path);
        if stamp == clients.key_stamp {
            return clients;
        }
        clients.key_stamp = stamp;
        match read_key(path).and_then(|pem| app_client(&self.api_url, self.app_id, &pem)) {
            Ok(app) => {
                clients.app = Arc::new(app);
                // Their tokens were bought with the old key; the next use buys new ones.
                clients.installations.clear();
                tracing::info!(file = %path.display(), "the App's private key file changed: using its new key");
            }
            Err(e) => {
                tracing::warn!("the App's private key file changed, keeping the previous key: {e}")
            }
        }
        clients
    }

    fn client(&self, installation: u64) -> Result<Arc<Octocrab>, GitHubError> {
        let mut clients = self.clients();
        if let Some(c) = clients.installations.get(&installation) {
            return Ok(c.clone());
        }
        let c = Arc::new(
            clients
                .app
                .installation(InstallationId(installation))
                .map_err(|e| GitHubError::Auth(e.to_string()))?,
        );
        clients.installations.insert(installation, c.clone());
        Ok(c)
    }

    fn write_lock(&self, installation: u64) -> Arc<tokio::sync::Mutex<()>> {
        self.write_locks
            .lock()
            .expect("locks lock")
            .entry(installation)
            .or_default()
            .clone()
    }

    /// A repository of an installation.
    pub fn repo(
        &self,
        installation: u64,
        owner: &str,
        name: &str,
    ) -> Result<Repo<'_>, GitHubError> {
        Ok(Repo::new(self, installation, owner, name))
    }

    /// The App's bot login (`<slug>[bot]`), from `GET /app` with the App's JWT.
    pub async fn bot_login(&self) -> Result<String, GitHubError> {
        let app = self.clients().app.clone();
        let response = self.counted(app._get("/app").await)?;
        let status = response.status().as_u16();
        let text = app.body_to_string(response).await.map_err(octocrab_error)?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match v["slug"].as_str() {
            Some(slug) if status == 200 => Ok(format!("{slug}[bot]")),
            _ => Err(GitHubError::Auth(format!(
                "GET /app answered {status}: {text}"
            ))),
        }
    }

    /// The repositories an installation can access (`owner`, `name`).
    pub async fn installation_repos(
        &self,
        installation: u64,
    ) -> Result<Vec<(String, String)>, GitHubError> {
        let v = self
            .send(
                installation,
                Method::Get,
                "/installation/repositories?per_page=100".into(),
                None,
            )
            .await?;
        Ok(v["repositories"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let (o, n) = r["full_name"].as_str()?.split_once('/')?;
                Some((o.to_owned(), n.to_owned()))
            })
            .collect())
    }

    /// One request with the retry rules (not for creating requests: see [`GitHubApp::create`]).
    pub(crate) async fn send(
        &self,
        installation: u64,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Result<Value, GitHubError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(installation, method, &path, body.as_ref()).await {
                Err(e) if e.is_transient() && attempt < self.retry.attempts => {
                    self.wait_for(&e, attempt).await?;
                }
                other => return other,
            }
        }
    }

    /// A request that creates something: when it fails in a way that may have succeeded on
    /// GitHub's side, `find` looks for the result before another attempt.
    pub(crate) async fn create<F, Fut>(
        &self,
        installation: u64,
        path: String,
        body: Value,
        find: F,
    ) -> Result<Value, GitHubError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<Value>, GitHubError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .once(installation, Method::Post, &path, Some(&body))
                .await
            {
                Err(e) if e.is_transient() && attempt < self.retry.attempts => {
                    let maybe_done = !matches!(e, GitHubError::RateLimited { .. });
                    if maybe_done && let Some(found) = find().await? {
                        return Ok(found);
                    }
                    self.wait_for(&e, attempt).await?;
                }
                other => return other,
            }
        }
    }

    async fn wait_for(&self, e: &GitHubError, attempt: u32) -> Result<(), GitHubError> {
        let wait = match e {
            GitHubError::RateLimited { retry_after_ms } => {
                let d = Duration::from_millis((*retry_after_ms).max(0) as u64);
                if d > self.retry.max_inline_wait {
                    return Err(e.clone());
                }
                d
            }
            _ => self.retry.base_delay * 2u32.pow(attempt.saturating_sub(1)),
        };
        tracing::warn!("retrying in {wait:?}: {e}");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Counts what a request got in the metrics: its status (`error` when no answer came), and
    /// GitHub's `x-ratelimit-remaining` when the answer has it.
    fn counted<B>(
        &self,
        sent: Result<http::Response<B>, octocrab::Error>,
    ) -> Result<http::Response<B>, GitHubError> {
        use crate::metrics::{GITHUB_RATE_LIMIT_REMAINING, GITHUB_REQUESTS};
        match &sent {
            Ok(r) => {
                let status = r.status().as_u16().to_string();
                self.metrics.inc(&GITHUB_REQUESTS, &[("status", &status)]);
                if let Some(n) =
                    header(r.headers(), "x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok())
                {
                    self.metrics.set(&GITHUB_RATE_LIMIT_REMAINING, &[], n);
                }
            }
            Err(_) => self.metrics.inc(&GITHUB_REQUESTS, &[("status", "error")]),
        }
        sent.map_err(octocrab_error)
    }

    async fn once(
        &self,
        installation: u64,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, GitHubError> {
        let lock = method.writes().then(|| self.write_lock(installation));
        let _guard = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        // Asked for each request, so that a rotated key is used from the next request on.
        let client = self.client(installation)?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if method.writes() {
            self.counters.writes.fetch_add(1, Ordering::Relaxed);
        }
        let result = match method {
            Method::Get => client._get(path).await,
            Method::Post => client._post(path, body).await,
            Method::Patch => client._patch(path, body).await,
        };
        let response = self.counted(result)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = client
            .body_to_string(response)
            .await
            .map_err(octocrab_error)?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        answer(status, &headers, value, method.as_str(), path)
    }
}

/// GitHub's answer to `method path`: the value of a 2xx, else a rate limit (429, or a 403 that
/// says so) or the status with GitHub's message.
fn answer(
    status: u16,
    headers: &http::HeaderMap,
    value: Value,
    method: &str,
    path: &str,
) -> Result<Value, GitHubError> {
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let message = value["message"].as_str().unwrap_or("").to_owned();
    if status == 429 || (status == 403 && is_rate_limit(headers, &message)) {
        return Err(GitHubError::RateLimited {
            retry_after_ms: retry_after_ms(headers),
        });
    }
    Err(GitHubError::Status {
        status,
        method: method.to_owned(),
        path: path.to_owned(),
        message,
    })
}

/// An error of octocrab in words (its `Display` names only the kind of error).
fn octocrab_error(e: octocrab::Error) -> GitHubError {
    if let octocrab::Error::GitHub { source, .. } = &e {
        // Raw requests end here only through octocrab's own one, buying an installation token.
        // A refused key is often a rotation on its way: another attempt later may succeed.
        return GitHubError::Transport(format!(
            "GitHub refused the App's credentials ({}): {}",
            source.status_code.as_u16(),
            source.message
        ));
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    GitHubError::Transport(text)
}

fn read_key(path: &Path) -> Result<String, GitHubError> {
    std::fs::read_to_string(path)
        .map_err(|e| GitHubError::Auth(format!("the private key file {}: {e}", path.display())))
}

/// The App's own client (authenticated by JWTs signed with the key).
fn app_client(api_url: &str, app_id: u64, private_key_pem: &str) -> Result<Octocrab, GitHubError> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
        .map_err(|e| GitHubError::Auth(format!("the private key is not an RSA PEM key: {e}")))?;
    Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| GitHubError::Auth(format!("the API URL {api_url}: {e}")))?
        .app(AppId(app_id), key)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| GitHubError::Auth(e.to_string()))
}

fn header<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_rate_limit(headers: &http::HeaderMap, message: &str) -> bool {
    header(headers, "retry-after").is_some()
        || header(headers, "x-ratelimit-remaining") == Some("0")
        || message.to_ascii_lowercase().contains("rate limit")
}

/// `retry-after` seconds; else until `x-ratelimit-reset` when nothing remains; else a minute.
fn retry_after_ms(headers: &http::HeaderMap) -> i64 {
    if let Some(s) = header(headers, "retry-after").and_then(|v| v.trim().parse::<i64>().ok()) {
        return s * 1000;
    }
    if header(headers, "x-ratelimit-remaining") == Some("0")
        && let Some(reset) =
            header(headers, "x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok())
    {
        return (reset * 1000 - crate::queue::now_ms()).max(1000);
    }
    60_000
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn writes(self) -> bool {
        self != Method::Get
    }

    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// Installs the one rustls crypto provider (ring) and jsonwebtoken's (RustCrypto) for the
/// process. Call at the start of every binary and test that talks to GitHub.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}
