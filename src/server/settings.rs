//! `ws-fix serve` settings: flags with `WS_FIX_*` environment fallbacks (github-app.md, "Server
//! settings"). Secrets are a type that never prints.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A secret value: `Debug` and `Display` print `[redacted]`; [`Secret::expose`] is the only way in.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// The App's ID.
    #[arg(long, env = "WS_FIX_APP_ID")]
    pub app_id: Option<u64>,
    /// The App's private key (PEM) in a file.
    #[arg(long, env = "WS_FIX_PRIVATE_KEY_FILE", conflicts_with = "private_key")]
    pub private_key_file: Option<PathBuf>,
    /// The App's private key (PEM).
    #[arg(long, env = "WS_FIX_PRIVATE_KEY", hide_env_values = true)]
    pub private_key: Option<Secret>,
    /// The webhook secret.
    #[arg(long, env = "WS_FIX_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,
    /// The previous webhook secret, accepted too during a rotation.
    #[arg(long, env = "WS_FIX_WEBHOOK_SECRET_PREVIOUS", hide_env_values = true)]
    pub webhook_secret_previous: Option<Secret>,
    /// GitHub's REST API (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(
        long,
        env = "WS_FIX_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    /// GitHub's web address (setup page, links).
    #[arg(long, env = "WS_FIX_GITHUB_URL", default_value = "https://github.com")]
    pub github_url: String,
    /// Where to listen.
    #[arg(long, env = "WS_FIX_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// `ws-fix.db` (the queue) and what `setup` writes.
    #[arg(long, env = "WS_FIX_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// `postgres://...` for several replicas (absent: SQLite in the data directory).
    #[arg(long, env = "WS_FIX_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,
}

impl Settings {
    /// The webhook secrets to accept (current first).
    pub fn webhook_secrets(&self) -> Vec<Secret> {
        self.webhook_secret
            .iter()
            .chain(&self.webhook_secret_previous)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
