//! The last step of GitHub's manifest flow: the one-time code GitHub hands back is exchanged
//! for the new App's credentials (`POST /app-manifests/{code}/conversions`, no authentication,
//! within an hour of the App's creation).

use std::time::Duration;

use serde::Deserialize;

use super::credentials::AppCredentials;
use crate::server::Secret;

/// What GitHub answers: the App and its private key.
pub struct Conversion {
    pub app: AppCredentials,
    pub pem: Secret,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("`{0}` is not a code GitHub hands out (letters, digits, `-` and `_` only)")]
    BadCode(String),
    #[error(
        "GitHub does not know this code: a code works once and for an hour only; open the setup page again to register the App"
    )]
    UnknownCode,
    #[error("GitHub answered {status} to the code's exchange: {message}")]
    Refused { status: u16, message: String },
    #[error("GitHub's answer to the code's exchange is not an App's credentials: {0}")]
    Unreadable(String),
    #[error("talking to GitHub at {url}: {message}")]
    Transport { url: String, message: String },
}

/// GitHub's answer, the parts kept.
#[derive(Deserialize)]
struct Answer {
    id: u64,
    slug: Option<String>,
    name: String,
    html_url: String,
    owner: Option<Owner>,
    client_id: String,
    client_secret: String,
    webhook_secret: Option<String>,
    pem: String,
    created_at: String,
}

#[derive(Deserialize)]
struct Owner {
    login: Option<String>,
    /// An enterprise owner has a slug instead of a login.
    slug: Option<String>,
}

/// Exchanges `code` at `api_url` (GitHub's REST API) for the App's credentials;
/// `github_url` is recorded with them.
pub async fn convert(
    api_url: &str,
    github_url: &str,
    code: &str,
) -> Result<Conversion, ExchangeError> {
    if code.is_empty()
        || code.len() > 100
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ExchangeError::BadCode(code.chars().take(100).collect()));
    }
    let transport = |e: octocrab::Error| ExchangeError::Transport {
        url: api_url.to_owned(),
        message: chain(&e),
    };
    let client = octocrab::Octocrab::builder()
        .base_uri(api_url)
        .map_err(transport)?
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(transport)?;
    let response = client
        ._post(format!("/app-manifests/{code}/conversions"), None::<&()>)
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    let text = client.body_to_string(response).await.map_err(transport)?;
    match status {
        200 | 201 => {}
        404 => return Err(ExchangeError::UnknownCode),
        _ => {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "no message".into());
            return Err(ExchangeError::Refused { status, message });
        }
    }
    // The error names the kind and place only: the text holds the secrets.
    let a: Answer = serde_json::from_str(&text).map_err(|e| {
        ExchangeError::Unreadable(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    Ok(Conversion {
        app: AppCredentials {
            id: a.id,
            slug: a.slug.unwrap_or_else(|| a.name.clone()),
            name: a.name,
            html_url: a.html_url,
            owner: a.owner.and_then(|o| o.login.or(o.slug)),
            client_id: a.client_id,
            client_secret: Secret::new(a.client_secret),
            webhook_secret: a.webhook_secret.map(Secret::new),
            github_url: github_url.to_owned(),
            github_api_url: api_url.to_owned(),
            created_at: a.created_at,
        },
        pem: Secret::new(a.pem),
    })
}

/// An octocrab error with its causes (its `Display` names only the kind).
fn chain(e: &octocrab::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
