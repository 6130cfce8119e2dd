//! Sync a repository: scan a commit, then for each fix kind make GitHub hold exactly one
//! pull request with the current change, and nothing when the change is refused or gone.
//!
//! - A fixed branch per kind (`ws-fix/<kind>`); PRs found by branch and hidden metadata.
//! - Commits through the Git Data API without author or committer: Verified.
//! - Nothing is written when the open PR already holds this change (same fingerprint, and
//!   either the same base or the same file contents) and its text is current.
//! - A branch whose last commit is not the bot's is not overwritten (one comment says so),
//!   unless `recreate` asks for it.
//! - A PR closed unmerged with this fingerprint means "no", unless labelled
//!   `ws-fix:unignored`.
//! - An open PR whose change is no longer needed is closed with a comment.

use super::{App, AppError, SyncReport, snapshot};
use crate::catalogue::FixKind;
use crate::config::{Mode, RepoConfig};
use crate::events::RepoRef;
use crate::fix::Plan;
use crate::github::{Pull, Repo};
use crate::load::{self, LoadOptions};
use crate::report::pr::{Metadata, PullRequest};

pub const LABEL: &str = "ws-fix";
pub const UNIGNORED: &str = "ws-fix:unignored";
const HUMAN_EDIT: &str = "<!-- ws-fix: human-edit -->";
const OBSOLETE: &str = "<!-- ws-fix: obsolete -->";

/// What happened to one fix kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Opened(u64),
    Updated(u64),
    UpToDate(u64),
    /// Closed unmerged before with this fingerprint.
    Refused(u64),
    /// Someone else pushed to the branch.
    HumanEdited(u64),
    /// The change is no longer needed: the PR was closed.
    Closed(u64),
}

impl Outcome {
    /// What was done to the pull request (`ws_fix_pull_requests_total`'s `action`), if anything.
    pub fn action(&self) -> Option<&'static str> {
        match self {
            Outcome::Opened(_) => Some("opened"),
            Outcome::Updated(_) => Some("updated"),
            Outcome::Closed(_) => Some("closed"),
            Outcome::UpToDate(_) | Outcome::Refused(_) | Outcome::HumanEdited(_) => None,
        }
    }

    pub fn number(&self) -> u64 {
        match self {
            Outcome::Opened(n)
            | Outcome::Updated(n)
            | Outcome::UpToDate(n)
            | Outcome::Refused(n)
            | Outcome::HumanEdited(n)
            | Outcome::Closed(n) => *n,
        }
    }
}

/// The scan of one commit, ready to publish.
pub(super) struct Scanned {
    pub config: RepoConfig,
    pub catalogue: crate::catalogue::Catalogue,
    pub loaded: crate::load::Loaded,
    pub fixes: crate::fix::Fixes,
    pub prs: Vec<PullRequest>,
    pub findings: Vec<crate::findings::Finding>,
}

impl App {
    /// Reads `sha` and scans it; with `fixes`, also plans the fixes of those kinds (all kinds
    /// when empty). A scan without fixes (a check run's base) builds each model once and
    /// verifies nothing.
    pub(super) async fn scan_commit(
        &self,
        r: &Repo<'_>,
        sha: &str,
        fixes: Option<&[FixKind]>,
    ) -> Result<(Scanned, String), AppError> {
        let started = std::time::Instant::now();
        let commit = r.commit(sha).await?;
        let snap = snapshot::fetch(r, &commit.tree, self.max_file_size).await?;
        let (_, config) = {
            use crate::snapshot::Snapshot;
            let listed = snap.entries().map_err(|e| AppError::Load(e.to_string()))?;
            RepoConfig::discover_with_errors(|p| {
                if !listed.iter().any(|e| e.path == p) {
                    return Ok(None);
                }
                let bytes = snap
                    .read(p, self.max_file_size)
                    .map_err(|e| e.to_string())?;
                String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| "not UTF-8".to_owned())
            })
            .map_err(|e| AppError::Config(e.to_string()))?
        };
        let catalogue = self.catalogue.clone().with_repo_apps(&config.apps);
        let options = LoadOptions {
            max_file_size: self.max_file_size,
            ignore_paths: config.ignore_paths.clone(),
            ..LoadOptions::default()
        };
        let loaded = load::load(&snap, &options).map_err(|e| AppError::Load(e.to_string()))?;
        let (fixes, findings) = match fixes {
            Some(only) => {
                let fixes = crate::fix::plan(&snap, &loaded, &options, &catalogue, &config, only);
                let findings = fixes.findings.clone();
                (fixes, findings)
            }
            None => {
                let findings = crate::scan::scan(&loaded, &catalogue, &config).findings;
                (crate::fix::Fixes::default(), findings)
            }
        };
        let prs = crate::report::pr::pull_requests(&fixes.plans, &loaded, &catalogue, &[]);
        self.count_scan(started.elapsed(), &findings);
        Ok((
            Scanned {
                config,
                catalogue,
                loaded,
                fixes,
                prs,
                findings,
            },
            commit.tree,
        ))
    }

    /// Scans `sha` (default: the default branch's head) and publishes its fix kinds (`only`
    /// limits them).
    pub async fn sync(
        &self,
        repo: &RepoRef,
        sha: Option<&str>,
        only: &[FixKind],
        recreate: bool,
    ) -> Result<SyncReport, AppError> {
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let info = r.info().await?;
        let mut report = SyncReport::new();
        if info.archived {
            return Ok(report);
        }
        let base = match sha {
            Some(s) => s.to_owned(),
            None => match r.branch_sha(&info.default_branch).await? {
                Some(s) => s,
                None => return Ok(report),
            },
        };
        let (scanned, base_tree) = self.scan_commit(&r, &base, Some(only)).await?;
        if scanned.config.paused {
            return Ok(report);
        }
        if scanned.config.mode == Mode::Report {
            self.report(&r, &base, &scanned).await?;
            return Ok(report);
        }
        for (plan, pr) in scanned.fixes.plans.iter().zip(&scanned.prs) {
            let outcome = self
                .publish(
                    &r,
                    &info.default_branch,
                    &base,
                    &base_tree,
                    plan,
                    pr,
                    recreate,
                )
                .await?;
            if let Some(o) = outcome {
                self.count_pull(&o);
                report.insert(plan.kind, o);
            }
        }
        // Kinds with no change now: close their open PRs when nothing they fix is reported.
        for kind in FixKind::ALL.iter().copied() {
            if (!only.is_empty() && !only.contains(&kind)) || report.contains_key(&kind) {
                continue;
            }
            let rules = &self.catalogue.fix_kind(kind).fixes;
            let still = scanned
                .findings
                .iter()
                .any(|f| rules.contains(&f.rule) && f.ignored.is_none());
            if still {
                continue;
            }
            let branch = &self.catalogue.fix_kind(kind).branch;
            let open: Vec<Pull> = r
                .pulls(branch)
                .await?
                .into_iter()
                .filter(|p| p.open && Metadata::read(&p.body).is_some())
                .collect();
            for p in open {
                r.comment(
                    p.number,
                    &format!(
                        "The default branch no longer has what this pull request fixes (`{}` is not reported at {}), so it is closed.\n\n{OBSOLETE}",
                        rules.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("`, `"),
                        &base[..base.len().min(12)]
                    ),
                )
                .await?;
                r.update_pull(p.number, None, None, true).await?;
                let closed = Outcome::Closed(p.number);
                self.count_pull(&closed);
                report.insert(kind, closed);
            }
        }
        Ok(report)
    }

    /// Report-only mode: one issue (label `ws-fix`) holds the findings and the changes ws-fix
    /// would propose; it is edited only when its text changes.
    async fn report(&self, r: &Repo<'_>, base: &str, scanned: &Scanned) -> Result<(), AppError> {
        let marker = "<!-- ws-fix: report -->";
        let mut body = format!(
            "ws-fix runs in report-only mode here (`mode: report` in the repo config): nothing is changed, this issue lists what it finds on the default branch (last scanned: `{}`).\n\n",
            &base[..base.len().min(12)]
        );
        body.push_str(&super::commands::findings_table(
            &scanned.loaded,
            &scanned.findings,
        ));
        if !scanned.prs.is_empty() {
            body.push_str("\n\nChanges ws-fix would propose (set `mode: pull-requests` to get them as pull requests):\n\n");
            for pr in &scanned.prs {
                body.push_str(&format!("- `{}`: {}\n", pr.branch, pr.title));
            }
        }
        body.push_str(&format!("\n\n{marker}"));
        let mine: Vec<(u64, String)> = r
            .own_issues(&self.bot_login, LABEL)
            .await?
            .into_iter()
            .filter(|(_, b)| b.contains(marker))
            .collect();
        match mine.first() {
            Some((_, old)) if *old == body => {}
            Some((n, _)) => r.update_issue_body(*n, &body).await?,
            None => {
                r.create_issue(
                    "ws-fix report: WebSocket problems in the Envoy Gateway configuration",
                    &body,
                    LABEL,
                    &self.bot_login,
                )
                .await?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn publish(
        &self,
        r: &Repo<'_>,
        default_branch: &str,
        base: &str,
        base_tree: &str,
        plan: &Plan,
        pr: &PullRequest,
        recreate: bool,
    ) -> Result<Option<Outcome>, AppError> {
        let branch = pr.branch.as_str();
        let pulls = r.pulls(branch).await?;
        let mine = |p: &Pull| Metadata::read(&p.body).map(|(m, _)| m);
        if !recreate {
            let refused = pulls.iter().find(|p| {
                !p.open
                    && !p.merged
                    && !p.labels.iter().any(|l| l == UNIGNORED)
                    && mine(p).is_some_and(|m| m.fingerprint == plan.fingerprint)
            });
            if let Some(p) = refused {
                return Ok(Some(Outcome::Refused(p.number)));
            }
        }
        let open = pulls.iter().find(|p| p.open);
        let head = r.branch_sha(branch).await?;
        if let (Some(open), Some(head)) = (open, head.as_deref()) {
            let c = r.commit(head).await?;
            let ours = c.parents.len() == 1 && Metadata::read(&c.message).is_some();
            if !ours && !recreate {
                let said = r
                    .comments(open.number)
                    .await?
                    .iter()
                    .any(|(_, b, _)| b.contains(HUMAN_EDIT));
                if !said {
                    r.comment(open.number, &format!(
                        "Someone else pushed to `{branch}`, so ws-fix no longer updates this pull request. Comment `/ws-fix recreate {}` to have ws-fix rebuild the branch from the default branch (your commits on it would be replaced).\n\n{HUMAN_EDIT}",
                        plan.kind.as_str()
                    )).await?;
                }
                return Ok(Some(Outcome::HumanEdited(open.number)));
            }
            let same_change = ours
                && Metadata::read(&c.message)
                    .is_some_and(|(m, _)| m.fingerprint == plan.fingerprint)
                && (c.parents[0] == base || self.holds(r, &c.tree, plan).await?);
            if same_change && !recreate {
                // The body is refreshed unless a person edited it.
                let edited = Metadata::read(&open.body).is_some_and(|(_, intact)| !intact);
                if (open.body != pr.body || open.title != pr.title) && !edited {
                    r.update_pull(open.number, Some(&pr.title), Some(&pr.body), false)
                        .await?;
                    return Ok(Some(Outcome::Updated(open.number)));
                }
                return Ok(Some(Outcome::UpToDate(open.number)));
            }
        }
        // Build the change on the current base.
        let mut files = Vec::new();
        for f in &plan.files {
            files.push((f.path.clone(), r.create_blob(f.after.as_bytes()).await?));
        }
        let tree = r.create_tree(base_tree, &files).await?;
        let message = format!("{}\n\n{}", pr.title, pr.body);
        let commit = r.create_commit(&message, &tree, &[base.to_owned()]).await?;
        r.set_branch(branch, &commit, head.is_some()).await?;
        match open {
            Some(open) => {
                r.update_pull(open.number, Some(&pr.title), Some(&pr.body), false)
                    .await?;
                Ok(Some(Outcome::Updated(open.number)))
            }
            None => {
                let created = r
                    .create_pull(&pr.title, branch, default_branch, &pr.body)
                    .await?;
                r.add_labels(created.number, &[LABEL]).await?;
                Ok(Some(Outcome::Opened(created.number)))
            }
        }
    }

    /// Counts a scan, its duration and its findings that are not ignored, by rule.
    fn count_scan(&self, took: std::time::Duration, findings: &[crate::findings::Finding]) {
        use crate::metrics::{FINDINGS, SCAN_DURATION, SCANS};
        let m = &self.github.metrics;
        m.inc(&SCANS, &[]);
        m.observe(&SCAN_DURATION, &[], took.as_secs_f64());
        for f in findings.iter().filter(|f| f.ignored.is_none()) {
            m.inc(&FINDINGS, &[("rule", f.rule.as_str())]);
        }
    }

    /// Counts what the publisher did to a pull request.
    fn count_pull(&self, outcome: &Outcome) {
        if let Some(action) = outcome.action() {
            self.github
                .metrics
                .inc(&crate::metrics::PULL_REQUESTS, &[("action", action)]);
        }
    }

    /// True when the tree already holds every file of the plan with the plan's content.
    async fn holds(&self, r: &Repo<'_>, tree: &str, plan: &Plan) -> Result<bool, AppError> {
        let entries = r.tree(tree).await?;
        for f in &plan.files {
            let Some(e) = entries.iter().find(|e| e.path == f.path) else {
                return Ok(false);
            };
            if r.blob(&e.sha).await? != f.after.as_bytes() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
