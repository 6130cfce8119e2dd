//! After a fix pull request merges: probe the hosts of its verification checklist (`ws-fix
//! verify`'s probe) and comment the verdict table on it, once. Only hosts under an allowlisted
//! suffix are dialled (the names come from repository content); the others are listed as not
//! dialled. Off unless the deployment turns it on (`--verify-after-merge`).
//!
//! Scheduling: run [`App::verify_merged`] `delay` after a `pull_request` `closed` delivery with
//! `merged: true` on a `ws-fix/` branch, so the GitOps controller has applied the change.

use std::net::IpAddr;
use std::time::Duration;

use super::{App, AppError};
use crate::events::RepoRef;
use crate::probe::report::Skipped;
use crate::probe::{self, Outcome, Target};
use crate::report::pr::Metadata;
use crate::server::settings::VerifySettings;

/// The comment's marker: one verification comment per pull request.
pub const VERIFIED: &str = "<!-- ws-fix: verified -->";

/// Host name suffixes the server may dial, matched on label boundaries: `example.com` allows
/// `example.com` and `a.example.com`, never `badexample.com`. IP addresses are never allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostAllowlist(Vec<String>);

impl HostAllowlist {
    /// From `--verify-allow-hosts` entries (`example.com`, `.example.com` and `*.example.com`
    /// mean the same; empty entries are dropped).
    pub fn new(suffixes: &[String]) -> HostAllowlist {
        let mut list: Vec<String> = suffixes
            .iter()
            .map(|s| {
                s.trim()
                    .trim_start_matches("*.")
                    .trim_matches('.')
                    .to_ascii_lowercase()
            })
            .filter(|s| !s.is_empty())
            .collect();
        list.sort();
        list.dedup();
        HostAllowlist(list)
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.parse::<IpAddr>().is_ok() {
            return false;
        }
        self.0.iter().any(|s| {
            host == *s
                || host
                    .strip_suffix(s.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// How the deployment verifies merged fix pull requests.
#[derive(Clone, Debug)]
pub struct VerifyAfterMerge {
    pub allow: HostAllowlist,
    /// How long after the merge to probe (for the GitOps controller to apply the change).
    pub delay: Duration,
    pub probe: probe::Options,
}

impl VerifyAfterMerge {
    /// `None` unless `--verify-after-merge` is on.
    pub fn from_settings(s: &VerifySettings) -> Option<VerifyAfterMerge> {
        s.verify_after_merge.then(|| VerifyAfterMerge {
            allow: HostAllowlist::new(&s.verify_allow_hosts),
            delay: Duration::from_secs(s.verify_delay),
            probe: probe::Options::default(),
        })
    }
}

/// What [`App::verify_merged`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// Not a merged ws-fix pull request.
    NotApplicable,
    /// Its checklist names no host.
    NoHosts,
    /// Already commented.
    AlreadyDone,
    /// Commented: the hosts probed, the hosts not dialled, and `ws-fix verify`'s exit code
    /// for the probed hosts.
    Commented {
        probed: usize,
        not_dialled: usize,
        exit_code: u8,
    },
}

impl App {
    /// Probes the allowlisted hosts of merged fix pull request `number` and comments the
    /// verdict table on it (once; a failure is said plainly).
    pub async fn verify_merged(
        &self,
        repo: &RepoRef,
        number: u64,
        rules: &VerifyAfterMerge,
    ) -> Result<Verified, AppError> {
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let pull = r.pull(number).await?;
        if !pull.merged || !pull.head_ref.starts_with("ws-fix/") {
            return Ok(Verified::NotApplicable);
        }
        if Metadata::read(&pull.body).is_none() {
            return Ok(Verified::NotApplicable);
        }
        let (targets, mut not_dialled) = checklist_targets(&pull.body);
        if targets.is_empty() && not_dialled.is_empty() {
            return Ok(Verified::NoHosts);
        }
        if r.comments(number)
            .await?
            .iter()
            .any(|(_, body, author)| *author == self.bot_login && body.contains(VERIFIED))
        {
            return Ok(Verified::AlreadyDone);
        }
        let (allowed, outside): (Vec<Target>, Vec<Target>) = targets
            .into_iter()
            .partition(|t| rules.allow.allows(&t.host));
        not_dialled.extend(outside.into_iter().map(|t| {
            (
                t.display(),
                "not under a host suffix this server may dial (`WS_FIX_VERIFY_ALLOW_HOSTS`)".into(),
            )
        }));
        let reports = probe::probe(&allowed, &rules.probe)
            .await
            .map_err(|e| AppError::Settings(format!("verify after merge: {e}")))?;
        r.comment(number, &comment(&reports, &not_dialled, rules.delay))
            .await?;
        Ok(Verified::Commented {
            probed: reports.len(),
            not_dialled: not_dialled.len(),
            exit_code: probe::exit_code(&reports),
        })
    }
}

/// The hosts and probe paths of a fix pull request body's checklist (its `curl --http1.1`
/// WebSocket lines, written by `report::pr`), each once; hosts that cannot be dialled as
/// written are returned with the reason.
pub fn checklist_targets(body: &str) -> (Vec<Target>, Vec<Skipped>) {
    const LINE: &str = "curl -sv --http1.1 'https://";
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for (at, _) in body.match_indices(LINE) {
        let rest = &body[at + LINE.len()..];
        let Some(end) = rest.find('\'') else { continue };
        let url = &rest[..end];
        if url.contains("${") {
            skipped.push((
                url.to_owned(),
                "set by Flux post-build substitution, not known here".into(),
            ));
            continue;
        }
        match Target::parse(url) {
            Ok(t) => targets.push(t),
            Err(e) => skipped.push((url.to_owned(), e.to_string())),
        }
    }
    targets.sort();
    targets.dedup();
    skipped.sort();
    skipped.dedup();
    (targets, skipped)
}

/// The comment: a plain first line, the table, how to run it again.
fn comment(reports: &[probe::HostReport], not_dialled: &[Skipped], delay: Duration) -> String {
    let count = |o: Outcome| reports.iter().filter(|r| r.verdict.outcome == o).count();
    let (problems, unchecked) = (count(Outcome::Problem), count(Outcome::Unchecked));
    let headline = if reports.is_empty() {
        "No host of this pull request was probed: none is under a host suffix this server may dial."
            .to_owned()
    } else if problems > 0 {
        format!(
            "❌ **The WebSocket check failed** on {problems} of {} host(s) probed after the merge: the fix is not working there yet (or something else breaks it). See the table.",
            reports.len()
        )
    } else if unchecked > 0 {
        format!(
            "⚠️ **{unchecked} of {} host(s) could not be checked** (no answer, DNS, TCP or TLS error); the others work.",
            reports.len()
        )
    } else {
        format!(
            "✅ **The WebSocket works** on every host probed after the merge ({}).",
            reports.len()
        )
    };
    let again: Vec<String> = reports.iter().map(|r| r.target.display()).collect();
    let mut s = format!(
        "### ws-fix: verification after merge\n\n{headline}\n\nProbed {} s after the merge, from the server that runs ws-fix.\n\n{}",
        delay.as_secs(),
        probe::report::markdown(reports, not_dialled)
    );
    if !again.is_empty() {
        s.push_str(&format!(
            "\nTo run it again from anywhere: `ws-fix verify {}`\n",
            again.join(" ")
        ));
    }
    s.push_str(&format!("\n{VERIFIED}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_matches_on_label_boundaries() {
        let allow = HostAllowlist::new(&[" Example.com ".into(), "*.lab.test".into(), "".into()]);
        assert!(allow.allows("example.com"));
        assert!(allow.allows("a.example.com"));
        assert!(allow.allows("A.B.Example.COM."));
        assert!(!allow.allows("badexample.com"));
        assert!(!allow.allows("example.com.evil.net"));
        assert!(allow.allows("ha.lab.test"));
        assert!(allow.allows("lab.test"));
        assert!(!allow.allows("test"));
        assert!(!HostAllowlist::new(&["1".into()]).allows("10.0.0.1"));
        assert!(!HostAllowlist::default().allows("example.com"));
    }

    #[test]
    fn settings_are_off_by_default_and_read_the_allowlist() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            verify: VerifySettings,
        }
        let off = Cli::try_parse_from(["ws-fix"]).unwrap().verify;
        assert_eq!(off, VerifySettings::default());
        assert!(VerifyAfterMerge::from_settings(&off).is_none());
        let on = Cli::try_parse_from([
            "ws-fix",
            "--verify-after-merge",
            "--verify-allow-hosts",
            "example.com,lab.test",
            "--verify-delay",
            "60",
        ])
        .unwrap()
        .verify;
        let rules = VerifyAfterMerge::from_settings(&on).unwrap();
        assert_eq!(rules.delay, Duration::from_secs(60));
        assert!(rules.allow.allows("ha.lab.test") && !rules.allow.allows("evil.test"));
    }

    /// The parser reads what `report::pr` writes: every host and probe path of the real PR
    /// bodies of examples/homelab comes back.
    #[test]
    fn checklist_targets_read_back_the_pull_request_bodies() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
        let w = crate::workspace::Workspace::open(&root, None).unwrap();
        let loaded = w.load(crate::load::DEFAULT_MAX_FILE_SIZE).unwrap();
        let fixes = crate::fix::plan(
            &w.snapshot,
            &loaded,
            &w.load_options(crate::load::DEFAULT_MAX_FILE_SIZE),
            &w.catalogue,
            &w.config,
            &[],
        );
        let prs = crate::report::pr::pull_requests(&fixes.plans, &loaded, &w.catalogue, &[]);
        assert!(!prs.is_empty());
        let mut checked = 0;
        for (plan, pr) in fixes.plans.iter().zip(&prs) {
            let (targets, _) = checklist_targets(&pr.body);
            for a in &plan.affected {
                for h in a.hosts.iter().filter(|h| !h.contains("${")) {
                    let host = h.replacen("*.", "www.", 1);
                    let want = Target::new(&host, a.probe_path.as_deref()).unwrap();
                    assert!(targets.contains(&want), "{want:?} not in {targets:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 0);
        let (t, s) = checklist_targets(
            "- [ ] `curl -sv --http1.1 'https://${SECRET_DOMAIN}/ws' -H x`\n- [ ] `curl -sv --http1.1 'https://a.example.com/api/websocket' -H x`",
        );
        assert_eq!(t, [Target::parse("a.example.com/api/websocket").unwrap()]);
        assert_eq!(s.len(), 1);
    }
}
