//! `ws-fix setup`: registers the GitHub App from `app-manifest.yml` (GitHub's manifest flow).
//! A small server serves `/setup`, a page whose form posts the manifest, with the server's
//! public addresses filled in, to GitHub's "new App" page with a random per-process `state`.
//! GitHub creates the App and sends the browser to `/setup/complete?code=...&state=...`; the
//! state is checked, the code exchanged for the App's credentials ([`exchange`]) and those
//! written into the data directory ([`credentials`]), where `ws-fix serve` finds them. Once
//! credentials are there, the pages refuse (409) and `ws-fix setup` does not start.
//! docs/setup.md.

pub mod credentials;
pub mod exchange;
pub mod manifest;
pub mod page;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::sync::watch;

use credentials::{AppCredentials, CredentialsError, Written};

/// `ws-fix setup`'s settings: the server settings that apply, and the public address.
#[derive(Clone, Debug, clap::Args)]
pub struct SetupSettings {
    /// The server's public address (`https://HOST[/PREFIX]`): GitHub sends webhooks to
    /// `URL/webhook` and the browser back to `URL/setup/complete`.
    #[arg(long, env = "WS_FIX_PUBLIC_URL", value_name = "URL")]
    pub public_url: String,
    /// Register the App under this organisation (default: the signed-in user's account).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// GitHub's REST API (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(
        long,
        env = "WS_FIX_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// GitHub's web address (where the App is created).
    #[arg(long, env = "WS_FIX_GITHUB_URL", default_value = "https://github.com")]
    pub github_url: String,
    /// Where to listen.
    #[arg(long, env = "WS_FIX_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Where to write `app.json` and `private-key.pem` (`serve`'s data directory).
    #[arg(long, env = "WS_FIX_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("--public-url `{url}`: {problem}")]
    PublicUrl { url: String, problem: &'static str },
    #[error("--github-url `{url}`: {problem}")]
    GitHubUrl { url: String, problem: &'static str },
    #[error("--org `{0}` is not an organisation's login (letters, digits and single hyphens)")]
    Org(String),
    #[error("{0}; `ws-fix serve --data-dir` reads them")]
    Registered(CredentialsError),
    #[error(transparent)]
    Credentials(CredentialsError),
    #[error("{0}")]
    Manifest(String),
    #[error("reading random bytes for the state: {0}")]
    Random(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What a finished registration wrote.
#[derive(Clone, Debug)]
pub struct Registered {
    pub app: AppCredentials,
    pub written: Written,
}

/// The running setup server.
pub struct Running {
    pub addr: SocketAddr,
    /// `--public-url` without a trailing slash.
    pub public_url: String,
    /// Where to open the setup page: `/setup` with this process's access token, which the page
    /// requires (printed by `ws-fix setup`, never served).
    pub setup_url: String,
    /// Becomes `Some` once the App is registered and its credentials written.
    pub registered: watch::Receiver<Option<Registered>>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, finishes the requests in flight, and returns.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

struct Shared {
    data_dir: PathBuf,
    github_url: String,
    github_api_url: String,
    org: Option<String>,
    /// GitHub's "new App" page with the state: where the form posts.
    action: String,
    manifest: serde_json::Value,
    /// Required by `/setup`: only who started `ws-fix setup` has it, so nobody else who can
    /// reach the server can read the page's `state` and register their own App here.
    token: String,
    state: String,
    /// One exchange at a time, so that two callbacks cannot both write.
    exchange: tokio::sync::Mutex<()>,
    registered: watch::Sender<Option<Registered>>,
}

/// Checks the settings, binds `settings.listen` and serves.
pub async fn start(settings: &SetupSettings) -> Result<Running, SetupError> {
    let shared = prepare(settings)?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| SetupError::Listen {
            addr: settings.listen,
            source,
        })?;
    serve(listener, settings, shared)
}

/// [`start`] on a listener already bound (tests bind first to know the public address).
pub async fn start_on(
    listener: tokio::net::TcpListener,
    settings: &SetupSettings,
) -> Result<Running, SetupError> {
    let shared = prepare(settings)?;
    serve(listener, settings, shared)
}

fn prepare(settings: &SetupSettings) -> Result<Shared, SetupError> {
    let public_url = base_url(&settings.public_url).map_err(|problem| SetupError::PublicUrl {
        url: settings.public_url.clone(),
        problem,
    })?;
    let github_url = base_url(&settings.github_url).map_err(|problem| SetupError::GitHubUrl {
        url: settings.github_url.clone(),
        problem,
    })?;
    if let Some(org) = &settings.org
        && !is_login(org)
    {
        return Err(SetupError::Org(org.clone()));
    }
    if let Some(path) = credentials::existing(&settings.data_dir) {
        return Err(SetupError::Registered(CredentialsError::Exists(path)));
    }
    credentials::prepare(&settings.data_dir).map_err(SetupError::Credentials)?;
    let manifest = manifest::for_public_url(&public_url).map_err(SetupError::Manifest)?;
    let state = random_token().map_err(SetupError::Random)?;
    let token = random_token().map_err(SetupError::Random)?;
    let action = match &settings.org {
        Some(org) => format!("{github_url}/organizations/{org}/settings/apps/new?state={state}"),
        None => format!("{github_url}/settings/apps/new?state={state}"),
    };
    Ok(Shared {
        data_dir: settings.data_dir.clone(),
        github_url,
        github_api_url: settings.github_api_url.trim_end_matches('/').to_owned(),
        org: settings.org.clone(),
        action,
        manifest,
        token,
        state,
        exchange: tokio::sync::Mutex::new(()),
        registered: watch::channel(None).0,
    })
}

fn serve(
    listener: tokio::net::TcpListener,
    settings: &SetupSettings,
    shared: Shared,
) -> Result<Running, SetupError> {
    let addr = listener.local_addr().map_err(|source| SetupError::Listen {
        addr: settings.listen,
        source,
    })?;
    let registered = shared.registered.subscribe();
    let public_url = shared.manifest["url"].as_str().unwrap_or("").to_owned();
    let setup_url = format!("{public_url}/setup?token={}", shared.token);
    let app = router(Arc::new(shared));
    let (shutdown, mut stop) = watch::channel(false);
    let task = tokio::spawn(async move {
        // Until a stop is asked for, or everyone who could ask is gone.
        let graceful = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(graceful)
            .await
        {
            tracing::error!("setup server: {e}");
        }
    });
    Ok(Running {
        addr,
        public_url,
        setup_url,
        registered,
        shutdown,
        task,
    })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/setup") }))
        .route("/setup", get(setup_page))
        .route(manifest::COMPLETE_PATH, get(complete))
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(shared)
}

async fn setup_page(
    State(s): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(path) = credentials::existing(&s.data_dir) {
        return already_registered(&path);
    }
    let given = query.get("token").map(String::as_str).unwrap_or("");
    if !same(given.as_bytes(), s.token.as_bytes()) {
        return html(
            StatusCode::FORBIDDEN,
            page::refusal(
                "Open the address ws-fix setup printed",
                "This page needs the one-time token that `ws-fix setup` printed when it started \
                 (`/setup?token=...`): without it, anyone who can reach this server could \
                 register their own App into its data directory.",
            ),
        );
    }
    html(
        StatusCode::OK,
        page::form(&s.action, &s.manifest, s.org.as_deref()),
    )
}

async fn complete(
    State(s): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let given = query.get("state").map(String::as_str).unwrap_or("");
    if !same(given.as_bytes(), s.state.as_bytes()) {
        return html(
            StatusCode::BAD_REQUEST,
            page::refusal(
                "Wrong state",
                "This request's `state` is not the one this setup server sent to GitHub: the link \
                 belongs to another run of `ws-fix setup`, or did not come from GitHub. Open \
                 the address `ws-fix setup` printed and create the App from there.",
            ),
        );
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return html(
            StatusCode::BAD_REQUEST,
            page::refusal(
                "No code",
                "GitHub's redirect carries no `code`: open /setup and create the App from there.",
            ),
        );
    };
    let _one_at_a_time = s.exchange.lock().await;
    if let Some(path) = credentials::existing(&s.data_dir) {
        return already_registered(&path);
    }
    let conversion = match exchange::convert(&s.github_api_url, &s.github_url, code).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("setup: {e}");
            let status = match e {
                exchange::ExchangeError::BadCode(_) | exchange::ExchangeError::UnknownCode => {
                    StatusCode::BAD_REQUEST
                }
                _ => StatusCode::BAD_GATEWAY,
            };
            return html(
                status,
                page::refusal("GitHub did not hand over the App", &e.to_string()),
            );
        }
    };
    let app = conversion.app;
    match credentials::write(&s.data_dir, &app, &conversion.pem) {
        Ok(written) => {
            tracing::info!(
                app_id = app.id,
                slug = %app.slug,
                "registered the App; wrote {} and {}",
                written.app_file.display(),
                written.key_file.display()
            );
            let body = page::done(&app, &written, &s.data_dir);
            s.registered.send_replace(Some(Registered { app, written }));
            html(StatusCode::OK, body)
        }
        Err(e) => {
            tracing::error!(app_id = app.id, "setup: {e}");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                page::refusal(
                    "The App's credentials could not be written",
                    &format!(
                        "GitHub created the App {} (ID {}), but its credentials could not be \
                         written: {e}. In the App's settings on GitHub generate a private key \
                         and set a webhook secret, then start `ws-fix serve` with --app-id {}, \
                         --private-key-file and --webhook-secret.",
                        app.html_url, app.id, app.id
                    ),
                ),
            )
        }
    }
}

fn already_registered(path: &Path) -> Response {
    html(
        StatusCode::CONFLICT,
        page::refusal(
            "Already registered",
            &format!(
                "{} exists: this data directory already holds an App's credentials, which \
                 `ws-fix serve` reads. To register another App, move the data directory's \
                 app.json and private-key.pem away and start `ws-fix setup` again.",
                path.display()
            ),
        ),
    )
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // The callback's URL carries the one-time code: no Referer to the links followed.
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

/// `http(s)://HOST[:PORT][/PATH]` without query or fragment; returned without a trailing
/// slash.
fn base_url(url: &str) -> Result<String, &'static str> {
    let uri: http::Uri = url.parse().map_err(|_| "not a URL")?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("not an http:// or https:// URL");
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("no host");
    }
    if uri.query().is_some() || url.contains('#') {
        return Err("a base address takes no query or fragment");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// A GitHub login: letters, digits and single inner hyphens, at most 39 characters.
fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// 32 random bytes from the system, in hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Equal, in a time that depends on the length only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(
            base_url("https://ws.example.org/").unwrap(),
            "https://ws.example.org"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/gh").unwrap(),
            "http://127.0.0.1:8080/gh"
        );
        for bad in [
            "ws.example.org",
            "ftp://x",
            "https://x/?a=1",
            "https://x/#f",
            "",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        assert!(is_login("acme-corp") && is_login("a1"));
        for bad in ["", "-a", "a-", "a--b", "a/b", "a b", &"a".repeat(40)] {
            assert!(!is_login(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(a.as_bytes(), b.as_bytes()));
        assert!(!same(a.as_bytes(), &a.as_bytes()[..63]));
    }
}
