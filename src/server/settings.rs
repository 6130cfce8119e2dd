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
    #[command(flatten)]
    pub queue: QueueSettings,
    #[command(flatten)]
    pub verify: VerifySettings,
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

    /// Fills what the flags and environment leave out from what `ws-fix setup` wrote into the
    /// data directory: the App's ID and webhook secret from `app.json`, the private key as the
    /// file `private-key.pem`. What the flags give wins, setting by setting.
    pub fn with_data_dir_credentials(
        mut self,
    ) -> Result<Settings, crate::setup::credentials::CredentialsError> {
        let stored = crate::setup::credentials::read(&self.data_dir)?;
        if let Some(app) = stored.app {
            if self.app_id.is_none() {
                self.app_id = Some(app.id);
                if app.github_api_url != self.github_api_url {
                    tracing::warn!(
                        "the App in {} was registered with the API {}, but --github-api-url is {}",
                        self.data_dir.display(),
                        app.github_api_url,
                        self.github_api_url
                    );
                }
            }
            if self.webhook_secret.is_none() {
                self.webhook_secret = app.webhook_secret;
            }
        }
        if self.private_key.is_none() && self.private_key_file.is_none() {
            self.private_key_file = stored.key_file;
        }
        Ok(self)
    }
}

/// The queue's upkeep (docs/queue.md).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct QueueSettings {
    /// Days to keep deliveries (to recognise a redelivery) and finished jobs; at least 3, the
    /// time GitHub allows a delivery to be redelivered.
    #[arg(long, env = "WS_FIX_RETENTION_DAYS", default_value_t = 14, value_parser = clap::value_parser!(u32).range(3..))]
    pub retention_days: u32,
    /// Seconds a job is its worker's without a renewal (renewed while it runs): how soon the
    /// jobs of a killed process are taken over.
    #[arg(long, env = "WS_FIX_JOB_LEASE_SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub job_lease_seconds: u64,
    /// Hours of GitHub's delivery log the redelivery sweep reads, every few minutes, to ask
    /// again for the deliveries that failed while the server was down (0: no sweep).
    #[arg(long, env = "WS_FIX_REDELIVER_HOURS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=72))]
    pub redeliver_hours: u32,
}

impl Default for QueueSettings {
    fn default() -> QueueSettings {
        QueueSettings {
            retention_days: 14,
            job_lease_seconds: 120,
            redeliver_hours: 6,
        }
    }
}

/// Probing a merged fix pull request's hosts and commenting the verdict (`ws-fix verify`'s
/// checks; docs/verify.md). Off by default.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct VerifySettings {
    /// After a fix pull request merges, probe its hosts under the allowed suffixes and comment
    /// the verdict on it.
    #[arg(
        long,
        env = "WS_FIX_VERIFY_AFTER_MERGE",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub verify_after_merge: bool,
    /// Host suffixes the server may dial, comma-separated (`example.com` allows `a.example.com`
    /// and `example.com`, never `badexample.com`).
    #[arg(
        long,
        env = "WS_FIX_VERIFY_ALLOW_HOSTS",
        value_delimiter = ',',
        value_name = "SUFFIXES"
    )]
    pub verify_allow_hosts: Vec<String>,
    /// Seconds to wait after the merge, for the GitOps controller to apply the change.
    #[arg(
        long,
        env = "WS_FIX_VERIFY_DELAY",
        default_value_t = 300,
        value_name = "SECONDS"
    )]
    pub verify_delay: u64,
}

impl Default for VerifySettings {
    fn default() -> VerifySettings {
        VerifySettings {
            verify_after_merge: false,
            verify_allow_hosts: Vec::new(),
            verify_delay: 300,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &std::path::Path, args: &[&str]) -> Settings {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            settings: Settings,
        }
        let dir = dir.to_str().unwrap();
        let mut all = vec!["ws-fix", "--data-dir", dir];
        all.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(all).unwrap().settings
    }

    #[test]
    fn credentials_come_from_the_data_dir_when_the_flags_leave_them_out() {
        use crate::setup::credentials;
        let dir = tempfile::tempdir().unwrap();
        // Nothing written: nothing filled.
        let none = settings(dir.path(), &[])
            .with_data_dir_credentials()
            .unwrap();
        assert_eq!((none.app_id, none.private_key_file), (None, None));
        let app = credentials::tests::sample();
        let written = credentials::write(dir.path(), &app, &Secret::new("PEM")).unwrap();
        let filled = settings(dir.path(), &[])
            .with_data_dir_credentials()
            .unwrap();
        assert_eq!(filled.app_id, Some(77));
        assert_eq!(filled.private_key_file, Some(written.key_file));
        assert_eq!(
            filled.webhook_secrets(),
            vec![Secret::new("webhook-secret-value")]
        );
        // Flags win, one by one.
        let flags = settings(
            dir.path(),
            &[
                "--app-id",
                "5",
                "--private-key",
                "K",
                "--webhook-secret",
                "W",
            ],
        )
        .with_data_dir_credentials()
        .unwrap();
        assert_eq!(flags.app_id, Some(5));
        assert_eq!(flags.private_key_file, None);
        assert_eq!(flags.private_key, Some(Secret::new("K")));
        assert_eq!(flags.webhook_secrets(), vec![Secret::new("W")]);
        let file = settings(dir.path(), &["--private-key-file", "/k.pem"])
            .with_data_dir_credentials()
            .unwrap();
        assert_eq!(file.private_key_file, Some("/k.pem".into()));
        assert_eq!(file.app_id, Some(77));
    }

    #[test]
    fn a_broken_app_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.json"), "{").unwrap();
        let err = settings(dir.path(), &[])
            .with_data_dir_credentials()
            .unwrap_err();
        assert!(err.to_string().contains("app.json"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }
}
