//! The App's domain: what a job does. A push to the default branch, an installation or a
//! `/ws-fix` command scans a commit read through the API and publishes one pull request per fix
//! kind ([`publish`]); a bot pull request closed unmerged is remembered as "no" (on GitHub
//! itself: the closed PR with its metadata); commands are answered once.

mod checks;
mod commands;
mod publish;
pub mod snapshot;
pub mod verify_merged;

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, FixKind};
use crate::events::{Event, RepoRef};
use crate::github::{GitHubApp, GitHubError};
use crate::queue::{Handler, Job, JobError};
use crate::report::pr::Metadata;

pub use checks::CheckResult;
pub use publish::Outcome;
pub use verify_merged::{HostAllowlist, Verified, VerifyAfterMerge};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    GitHub(#[from] GitHubError),
    #[error("the repo config: {0}")]
    Config(String),
    /// `serve`'s own settings (flags, environment, what `setup` wrote).
    #[error("server settings: {0}")]
    Settings(String),
    #[error("loading the repository: {0}")]
    Load(String),
}

impl AppError {
    fn into_job_error(self) -> JobError {
        match &self {
            AppError::GitHub(GitHubError::RateLimited { retry_after_ms }) => JobError {
                message: self.to_string(),
                retry_after_ms: Some(*retry_after_ms),
                permanent: false,
            },
            AppError::GitHub(e) if e.is_transient() => JobError::transient(self.to_string()),
            _ => JobError::permanent(self.to_string()),
        }
    }
}

/// The running App.
pub struct App {
    pub github: GitHubApp,
    pub catalogue: Catalogue,
    /// The App's bot login (`ws-fix[bot]`): its own pushes and comments are ignored.
    pub bot_login: String,
    pub max_file_size: u64,
    /// Probing merged fix pull requests' hosts (`--verify-after-merge`); `None`: off.
    pub verify: Option<VerifyAfterMerge>,
}

impl App {
    /// The App from `serve`'s settings: its key, its bot login (asked from GitHub).
    pub async fn from_settings(
        settings: &crate::server::Settings,
        catalogue: Catalogue,
    ) -> Result<App, AppError> {
        let github = github_from_settings(settings)?;
        let bot_login = github.bot_login().await?;
        Ok(App {
            github,
            catalogue,
            bot_login,
            max_file_size: crate::load::DEFAULT_MAX_FILE_SIZE,
            verify: VerifyAfterMerge::from_settings(&settings.verify),
        })
    }
}

/// The App's GitHub client from `serve`'s settings (its ID and private key).
pub fn github_from_settings(settings: &crate::server::Settings) -> Result<GitHubApp, AppError> {
    let app_id = settings.app_id.ok_or_else(|| {
        AppError::Settings(format!(
            "no App ID: set --app-id or WS_FIX_APP_ID, or register the App with `ws-fix setup`, \
             which writes it into the data directory ({})",
            settings.data_dir.display()
        ))
    })?;
    let api = &settings.github_api_url;
    Ok(match (&settings.private_key, &settings.private_key_file) {
        (Some(k), _) => GitHubApp::new(api, app_id, k.expose())?,
        // Read again whenever the file changes: a rotated key needs no restart.
        (None, Some(path)) => GitHubApp::with_key_file(api, app_id, path)?,
        (None, None) => {
            return Err(AppError::Settings(format!(
                "no private key: set --private-key-file or WS_FIX_PRIVATE_KEY_FILE, or put the App's key in {}",
                settings.data_dir.join("private-key.pem").display()
            )));
        }
    })
}

/// What a sync did, per fix kind.
pub type SyncReport = BTreeMap<FixKind, Outcome>;

impl Handler for App {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        self.run(&job.event).await.map_err(AppError::into_job_error)
    }

    fn metrics(&self) -> std::sync::Arc<crate::metrics::Metrics> {
        self.github.metrics.clone()
    }
}

/// True for the paths a scan depends on.
fn relevant(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".yaml")
        || path.ends_with(".yml")
        || name == "Kustomization"
        || crate::config::CONFIG_PATHS.contains(&path)
}

impl App {
    pub async fn run(&self, event: &Event) -> Result<(), AppError> {
        match event {
            Event::Push {
                repo,
                git_ref,
                after,
                default_branch,
                sender,
                sender_is_bot,
                paths,
            } => {
                if *git_ref != format!("refs/heads/{default_branch}") {
                    return Ok(());
                }
                if *sender_is_bot && *sender == self.bot_login {
                    return Ok(());
                }
                if !paths.is_empty() && !paths.iter().any(|p| relevant(p)) {
                    return Ok(());
                }
                self.sync(repo, Some(after), &[], false).await.map(|_| ())
            }
            Event::Installed { repos } => {
                for r in repos {
                    self.sync(r, None, &[], false).await?;
                }
                Ok(())
            }
            Event::Unsuspended { installation } => {
                for (owner, name) in self.github.installation_repos(*installation).await? {
                    let r = RepoRef {
                        installation: *installation,
                        owner,
                        name,
                    };
                    self.sync(&r, None, &[], false).await?;
                }
                Ok(())
            }
            Event::PullRequestClosed {
                repo,
                number,
                merged,
                head_ref,
                body,
            } => self.closed(repo, *number, *merged, head_ref, body).await,
            Event::PullRequestChanged {
                repo,
                number,
                head_sha,
                base_ref,
            } => self.check_pull(repo, *number, head_sha, base_ref).await,
            Event::CheckRequested {
                repo,
                head_sha,
                pulls,
                rerun,
            } => self.check_requested(repo, head_sha, pulls, *rerun).await,
            Event::VerifyMerged { repo, number } => match &self.verify {
                Some(rules) => self.verify_merged(repo, *number, rules).await.map(|_| ()),
                None => Ok(()),
            },
            Event::Comment(c) => self.command(c).await,
            Event::Removed { .. } | Event::Ping | Event::Ignored { .. } => Ok(()),
        }
    }

    /// A bot pull request closed without merging is the record that its fingerprint is
    /// refused: say once how to undo it. A merged one needs nothing.
    async fn closed(
        &self,
        repo: &RepoRef,
        number: u64,
        merged: bool,
        head_ref: &str,
        body: &str,
    ) -> Result<(), AppError> {
        if merged || !head_ref.starts_with("ws-fix/") {
            return Ok(());
        }
        let Some((meta, _)) = Metadata::read(body) else {
            return Ok(());
        };
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let marker = "<!-- ws-fix: closed -->";
        if r.comments(number)
            .await?
            .iter()
            .any(|(_, b, _)| b.contains(marker))
        {
            return Ok(());
        }
        r.comment(
            number,
            &format!(
                "Closed without merging: ws-fix will not propose this `{}` change again. To have it proposed again, comment `/ws-fix unignore {}` (or reopen this pull request).\n\n{marker}",
                meta.kind, meta.kind
            ),
        )
        .await?;
        Ok(())
    }
}
