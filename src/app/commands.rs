//! `/ws-fix` in issue and pull request comments: 👀 on receipt, a permission check, then exactly
//! one reply with the outcome. Only the commands new in an edited comment run; the bot's own
//! comments are ignored.

use std::fmt::Write;

use super::publish::{LABEL, UNIGNORED};
use super::{App, AppError, SyncReport};
use crate::commands::{Command, Parsed};
use crate::events::Comment;
use crate::report::pr::Metadata;

impl App {
    pub(super) async fn command(&self, c: &Comment) -> Result<(), AppError> {
        if c.author_is_bot || c.author == self.bot_login {
            return Ok(());
        }
        let parsed: Vec<Parsed> = match &c.previous_body {
            Some(old) => crate::commands::new_commands(old, &c.body),
            None => crate::commands::parse(&c.body),
        };
        if parsed.is_empty() {
            return Ok(());
        }
        let r = self
            .github
            .repo(c.repo.installation, &c.repo.owner, &c.repo.name)?;
        r.react(c.comment_id, "eyes").await?;
        let role = r.role(&c.author).await?;
        // The repo config may ask for more; read it from the default branch.
        let info = r.info().await?;
        let min = match r.branch_sha(&info.default_branch).await? {
            Some(sha) => {
                self.scan_commit(&r, &sha, None)
                    .await?
                    .0
                    .config
                    .commands
                    .min_permission
            }
            None => Default::default(),
        };
        if !allowed(&role, min) {
            r.comment(
                c.issue,
                &format!(
                    "@{}, sorry: running `/ws-fix` commands here needs {} permission on this repository (yours: {role}).",
                    c.author,
                    min.as_str()
                ),
            )
            .await?;
            return Ok(());
        }
        let mut reply = String::new();
        for p in parsed {
            match p.result {
                Ok(command) => {
                    let text = self.run_command(c, &command).await?;
                    let _ = writeln!(reply, "{text}");
                }
                Err(e) => {
                    let _ = writeln!(
                        reply,
                        "`{}`: {e}\n\n{}",
                        p.text,
                        crate::commands::help_text()
                    );
                }
            }
        }
        r.comment(c.issue, reply.trim_end()).await?;
        Ok(())
    }

    async fn run_command(&self, c: &Comment, command: &Command) -> Result<String, AppError> {
        let r = self
            .github
            .repo(c.repo.installation, &c.repo.owner, &c.repo.name)?;
        // On a pull request: a bot PR's commands act on its own fix kind; scan and explain
        // report on the PR's head; fixes are always proposed against the default branch.
        let pull = if c.is_pull_request {
            Some(r.pull(c.issue).await?)
        } else {
            None
        };
        let own_kind = pull.as_ref().and_then(|p| {
            let (meta, _) = Metadata::read(&p.body)?;
            p.head_ref
                .starts_with("ws-fix/")
                .then(|| meta.kind.parse::<crate::catalogue::FixKind>().ok())
                .flatten()
        });
        let run_kinds = |kinds: &[crate::catalogue::FixKind]| -> Vec<crate::catalogue::FixKind> {
            match own_kind {
                Some(k) if kinds.is_empty() => vec![k],
                _ => kinds.to_vec(),
            }
        };
        Ok(match command {
            Command::Help => crate::commands::help_text(),
            Command::Run => describe(&self.sync(&c.repo, None, &run_kinds(&[]), false).await?),
            Command::Fix(kinds) => {
                describe(&self.sync(&c.repo, None, &run_kinds(kinds), false).await?)
            }
            Command::Recreate(kind) => describe(&self.sync(&c.repo, None, &[*kind], true).await?),
            Command::Scan | Command::Explain => {
                let (sha, what) = match pull.as_ref().filter(|_| own_kind.is_none()) {
                    Some(p) => (p.head_sha.clone(), format!("the head of #{}", p.number)),
                    None => {
                        let info = r.info().await?;
                        let Some(sha) = r.branch_sha(&info.default_branch).await? else {
                            return Ok("The default branch has no commit yet.".into());
                        };
                        (sha, format!("`{}`", info.default_branch))
                    }
                };
                let (scanned, _) = self.scan_commit(&r, &sha, Some(&[])).await?;
                if *command == Command::Scan {
                    format!(
                        "Findings on {what}:\n\n{}",
                        findings_table(&scanned.loaded, &scanned.findings)
                    )
                } else {
                    explain_text(&scanned, &what)
                }
            }
            Command::Ignore(kind) => {
                let branch = &self.catalogue.fix_kind(*kind).branch;
                let mut closed = Vec::new();
                for p in r.pulls(branch).await? {
                    if p.open && Metadata::read(&p.body).is_some() {
                        r.comment(p.number, &format!("Closed on request (`/ws-fix ignore {}`): ws-fix will not propose this change again until `/ws-fix unignore {}`.", kind.as_str(), kind.as_str())).await?;
                        r.update_pull(p.number, None, None, true).await?;
                        self.github
                            .metrics
                            .inc(&crate::metrics::PULL_REQUESTS, &[("action", "closed")]);
                        closed.push(format!("#{}", p.number));
                    }
                }
                if closed.is_empty() {
                    format!("No open `{}` pull request to close.", kind.as_str())
                } else {
                    format!(
                        "Closed {}: `{}` will not be proposed again.",
                        closed.join(", "),
                        kind.as_str()
                    )
                }
            }
            Command::Unignore(kind) => {
                let branch = &self.catalogue.fix_kind(*kind).branch;
                for p in r.pulls(branch).await? {
                    if !p.open && !p.merged && !p.labels.iter().any(|l| l == UNIGNORED) {
                        r.add_labels(p.number, &[LABEL, UNIGNORED]).await?;
                    }
                }
                let report = self.sync(&c.repo, None, &[*kind], false).await?;
                format!(
                    "`{}` may be proposed again. {}",
                    kind.as_str(),
                    describe(&report)
                )
            }
        })
    }
}

fn allowed(role: &str, min: crate::config::Permission) -> bool {
    use crate::config::Permission;
    let rank = match role {
        "admin" => 3,
        "maintain" => 2,
        "write" => 1,
        _ => 0,
    };
    let need = match min {
        Permission::Write => 1,
        Permission::Maintain => 2,
        Permission::Admin => 3,
    };
    rank >= need
}

fn describe(report: &SyncReport) -> String {
    use super::Outcome::*;
    if report.is_empty() {
        return "Nothing to fix.".into();
    }
    let mut out = String::new();
    for (kind, o) in report {
        let what = match o {
            Opened(n) => format!("opened #{n}"),
            Updated(n) => format!("updated #{n}"),
            UpToDate(n) => format!("#{n} is up to date"),
            Refused(n) => format!(
                "not proposed: #{n} was closed without merging (`/ws-fix unignore {}`)",
                kind.as_str()
            ),
            HumanEdited(n) => format!(
                "#{n} has commits by someone else: left as it is (`/ws-fix recreate {}`)",
                kind.as_str()
            ),
            Closed(n) => format!("closed #{n}: no longer needed"),
        };
        let _ = writeln!(out, "- `{}`: {what}", kind.as_str());
    }
    out
}

/// What Envoy Gateway does with the commit, as `ws-fix explain` prints it.
fn explain_text(scanned: &super::publish::Scanned, what: &str) -> String {
    let (applied, models) =
        crate::model::build(&scanned.loaded, &scanned.catalogue, &scanned.config);
    let mut text = crate::report::explain::human(&models, &applied, &scanned.loaded, None);
    // A comment holds at most 65,536 characters.
    if text.len() > 60_000 {
        text.truncate(text.floor_char_boundary(60_000));
        text.push_str("\n... (cut: run `ws-fix explain` on a checkout for the rest)\n");
    }
    format!(
        "What Envoy Gateway does with {what}:\n\n```text\n{}\n```",
        text.replace("```", "'''")
    )
}

pub(super) fn findings_table(
    loaded: &crate::load::Loaded,
    findings: &[crate::findings::Finding],
) -> String {
    let counted: Vec<_> = findings.iter().filter(|f| f.ignored.is_none()).collect();
    if counted.is_empty() {
        return "No findings on the default branch.".into();
    }
    let mut out = String::from("| rule | severity | where | what |\n|---|---|---|---|\n");
    for f in counted {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} |",
            f.rule.as_str(),
            f.severity.as_str(),
            crate::report::location::describe(loaded, f.location),
            f.message.replace('|', "\\|")
        );
    }
    out
}
