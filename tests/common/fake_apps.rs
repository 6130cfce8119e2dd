//! GitHub's App manifest flow: the web form that creates an App from a manifest
//! (`POST /settings/apps/new` and `/organizations/{org}/settings/apps/new`, served at the fake's
//! root beside the API, so `--github-url` and `--github-api-url` are both [`FakeGitHub::url`])
//! and the exchange of the one-time code for the App's credentials
//! (`POST /app-manifests/{code}/conversions`, no authentication, each code once). The App
//! created is the fake's own ([`State::app_id`], the test key), so what `ws-fix setup` writes
//! authenticates against the fake.

use super::*;

const CONVERSIONS: &str = "/app-manifests/{code}/conversions";

/// The manifests posted and the codes handed out.
#[derive(Debug, Default)]
pub struct ManifestFlow {
    /// Every App created from a manifest, oldest first.
    pub created: Vec<CreatedApp>,
    /// Codes handed out and not exchanged yet.
    pub unused_codes: BTreeSet<String>,
    /// Codes exchanged.
    pub exchanged: Vec<String>,
    /// Signalled after each creation and each exchange.
    pub changed: Arc<tokio::sync::Notify>,
}

#[derive(Debug, Clone)]
pub struct CreatedApp {
    pub manifest: Value,
    /// `None`: the user's own account.
    pub org: Option<String>,
    /// The form's `state` query parameter, handed back in the redirect.
    pub state: Option<String>,
    pub code: String,
    pub webhook_secret: String,
}

/// The form's handler for `/settings/apps/new`.
pub(super) async fn new_app(
    AxumState(shared): AxumState<Arc<Mutex<State>>>,
    uri: Uri,
    body: Bytes,
) -> Response {
    create(&shared, None, &uri, &body)
}

/// The form's handler for `/organizations/{org}/settings/apps/new`.
pub(super) async fn new_org_app(
    AxumState(shared): AxumState<Arc<Mutex<State>>>,
    axum::extract::Path(org): axum::extract::Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    create(&shared, Some(org), &uri, &body)
}

fn create(shared: &Arc<Mutex<State>>, org: Option<String>, uri: &Uri, body: &[u8]) -> Response {
    let mut s = shared.lock().unwrap();
    let form = openapi::parse_query(std::str::from_utf8(body).ok());
    let state = openapi::parse_query(uri.query())
        .into_iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let manifest: Value = match field("manifest").map(serde_json::from_str) {
        Some(Ok(m)) => m,
        Some(Err(e)) => return refuse(&mut s, &format!("the manifest is not JSON: {e}")),
        None => return refuse(&mut s, "the form has no `manifest` field"),
    };
    for pointer in ["/name", "/url", "/hook_attributes/url", "/redirect_url"] {
        if manifest
            .pointer(pointer)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return refuse(&mut s, &format!("the manifest has no `{pointer}`"));
        }
    }
    let n = s.next_id();
    let code = format!("fakecode{n}");
    let mut location = manifest["redirect_url"].as_str().unwrap_or("").to_owned();
    location.push(if location.contains('?') { '&' } else { '?' });
    location.push_str(&format!("code={code}"));
    if let Some(state) = &state {
        location.push_str(&format!("&state={}", form_encode(state)));
    }
    s.manifests.unused_codes.insert(code.clone());
    s.manifests.created.push(CreatedApp {
        manifest,
        org,
        state,
        code,
        webhook_secret: format!("fake-webhook-secret-{n}"),
    });
    s.manifests.changed.notify_waiters();
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}

/// GitHub shows a page saying what is wrong; the fake also records it as a violation.
fn refuse(s: &mut State, message: &str) -> Response {
    s.violations
        .push(format!("POST settings/apps/new: {message}"));
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_owned()).into_response()
}

/// Percent-encodes everything but unreserved characters (a form field's value).
pub fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl State {
    /// `POST /app-manifests/{code}/conversions` (no authentication); `None` for any other.
    pub(super) fn route_manifest_conversion(
        &mut self,
        method: &str,
        m: &openapi::Matched,
    ) -> Option<Reply> {
        if (method, m.template.as_str()) != ("POST", CONVERSIONS) {
            return None;
        }
        let code = m.param("code");
        if !self.manifests.unused_codes.remove(code) {
            return Some(Reply::not_found());
        }
        self.manifests.exchanged.push(code.to_owned());
        self.manifests.changed.notify_waiters();
        let created = self
            .manifests
            .created
            .iter()
            .find(|c| c.code == code)
            .cloned()
            .expect("a code belongs to an App");
        let m = &created.manifest;
        let owner = created.org.as_deref().unwrap_or("octocat");
        let body = json!({
            "id": self.app_id,
            "slug": self.app_slug,
            "node_id": format!("A_{}", self.app_id),
            "owner": user_json(&self.api_url, owner),
            "name": m["name"],
            "description": m["description"].as_str().unwrap_or(""),
            "external_url": m["url"],
            "html_url": format!("{}/apps/{}", self.api_url, self.app_slug),
            "created_at": rfc3339(now()),
            "updated_at": rfc3339(now()),
            "permissions": m["default_permissions"].as_object().cloned().unwrap_or_default(),
            "events": m["default_events"].as_array().cloned().unwrap_or_default(),
            "client_id": format!("Iv1.fake{}", self.app_id),
            "client_secret": "fake-client-secret",
            "webhook_secret": created.webhook_secret,
            "pem": test_private_key_pem(),
        });
        if let Err(e) = openapi::description().check_response("POST", CONVERSIONS, 201, &body) {
            self.violations.push(e);
        }
        Some(Reply::json(201, body))
    }
}

impl FakeGitHub {
    /// The Apps created from manifests so far.
    pub fn created_apps(&self) -> Vec<CreatedApp> {
        self.with_state(|s| s.manifests.created.clone())
    }

    /// The codes exchanged so far.
    pub fn exchanged_codes(&self) -> Vec<String> {
        self.with_state(|s| s.manifests.exchanged.clone())
    }

    /// Signalled after each creation and exchange (register with `notified()` before
    /// checking the state).
    pub fn manifest_flow_changed(&self) -> Arc<tokio::sync::Notify> {
        self.with_state(|s| s.manifests.changed.clone())
    }
}
