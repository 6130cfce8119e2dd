//! Check runs on pull requests: the head is scanned and compared with the commit it branched
//! off, and one check run `ws-fix` on the head commit says what the pull request adds, fixes
//! and leaves as it was, with an annotation on the lines of each finding it adds and, where a
//! fix exists, the suggested change as a diff. The conclusion follows `rules.md`: `failure` (or
//! `neutral`, per `checks.new-finding-conclusion`) when the pull request adds a finding at or
//! above `fail-on`, else `neutral` when the head still has one, else `success`.
//!
//! - Findings are matched by rule, resource and field path, never by line: a pull request that
//!   moves a file or adds lines above a finding neither fixes nor adds it.
//! - The target branch's config decides whether there is a check and how it concludes, so a
//!   pull request cannot turn its own check off.
//! - When the pull request changes no file a scan reads, the head's result is the base's.
//! - One check run per (head commit, `ws-fix`): its `external_id` records the pull request and
//!   the merge base, so a second event for the same head writes nothing; a re-run request
//!   creates a new run.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::publish::Scanned;
use super::{App, AppError};
use crate::catalogue::FixKind;
use crate::config::Conclusion;
use crate::events::{CHECK_RUN_NAME, RepoRef};
use crate::findings::Finding;
use crate::github::{Annotation, CheckOutput, CheckRun, Comparison, NewCheckRun, Repo};
use crate::load::Loaded;
use crate::yaml::Span;

/// GitHub's sizes: an annotation title holds 255 characters, its message and details 64 KB,
/// a check run's summary and text 65,535 characters.
const TITLE_CHARS: usize = 255;
const DETAILS_BYTES: usize = 64 * 1024;
const OUTPUT_CHARS: usize = 65_535;
/// Annotations after this many are left out (the summary still lists every finding): each 50
/// cost a request.
const MAX_ANNOTATIONS: usize = 1000;

/// What a check run says about a pull request's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// `success`, `neutral` or `failure`.
    pub conclusion: &'static str,
    pub output: CheckOutput,
    /// One per new finding.
    pub annotations: Vec<Annotation>,
}

impl App {
    /// A check suite was requested or re-requested, or ws-fix's check run re-run, on
    /// `head_sha`: checks the first pull request listed, or (pull requests from forks are not
    /// listed) the one an earlier run of ws-fix on that commit recorded.
    pub(super) async fn check_requested(
        &self,
        repo: &RepoRef,
        head_sha: &str,
        pulls: &[u64],
        rerun: bool,
    ) -> Result<(), AppError> {
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let checked = async {
            let number = match pulls.iter().min() {
                Some(n) => *n,
                None => {
                    let runs = self.own_runs(&r, head_sha).await?;
                    match runs.iter().find_map(|c| pull_of(&c.external_id)) {
                        Some(n) => n,
                        None => return Ok(()),
                    }
                }
            };
            let pull = r.pull(number).await?;
            self.create_check(&r, number, head_sha, &pull.base_ref, rerun)
                .await
        };
        unless_forbidden(repo, checked.await)
    }

    /// A pull request was opened, reopened or pushed to: its head gets its check run.
    pub(super) async fn check_pull(
        &self,
        repo: &RepoRef,
        number: u64,
        head_sha: &str,
        base_ref: &str,
    ) -> Result<(), AppError> {
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let checked = self.create_check(&r, number, head_sha, base_ref, false);
        unless_forbidden(repo, checked.await)
    }

    /// Creates the check run of pull request `number` on `head_sha`, compared with where it
    /// branched off `base_ref`; nothing when this head already has one for that merge base,
    /// unless `rerun`.
    async fn create_check(
        &self,
        r: &Repo<'_>,
        number: u64,
        head_sha: &str,
        base_ref: &str,
        rerun: bool,
    ) -> Result<(), AppError> {
        let cmp = r.compare(base_ref, head_sha).await?;
        let key = format!("{number}:{}", cmp.merge_base);
        if !rerun
            && self
                .own_runs(r, head_sha)
                .await?
                .iter()
                .any(|c| c.external_id == key)
        {
            return Ok(());
        }
        let Some(result) = self.evaluate(r, &cmp, head_sha, false).await? else {
            return Ok(());
        };
        r.create_check_run(&NewCheckRun {
            name: CHECK_RUN_NAME,
            head_sha,
            conclusion: result.conclusion,
            external_id: &key,
            output: &result.output,
            annotations: &result.annotations,
        })
        .await?;
        Ok(())
    }

    /// The check run `head_sha` gets against where it branched off `base_ref`, without writing
    /// anything; `None` when the repo config turns checks off. `full_scan` scans the head even
    /// when the pull request changes no file a scan reads.
    pub async fn check_result(
        &self,
        repo: &RepoRef,
        base_ref: &str,
        head_sha: &str,
        full_scan: bool,
    ) -> Result<Option<CheckResult>, AppError> {
        let r = self
            .github
            .repo(repo.installation, &repo.owner, &repo.name)?;
        let cmp = r.compare(base_ref, head_sha).await?;
        self.evaluate(&r, &cmp, head_sha, full_scan).await
    }

    async fn evaluate(
        &self,
        r: &Repo<'_>,
        cmp: &Comparison,
        head_sha: &str,
        full_scan: bool,
    ) -> Result<Option<CheckResult>, AppError> {
        let same_inputs = !full_scan
            && cmp
                .files
                .as_ref()
                .is_some_and(|files| !files.iter().any(|p| super::relevant(p)));
        // The base's fixes are needed only when it stands for the head too.
        let base_fixes: Option<&[FixKind]> = if same_inputs { Some(&[]) } else { None };
        let (base, _) = self.scan_commit(r, &cmp.merge_base, base_fixes).await?;
        if base.config.paused || !base.config.checks.enabled {
            return Ok(None);
        }
        let scanned_head;
        let head = if same_inputs {
            &base
        } else {
            scanned_head = self.scan_commit(r, head_sha, Some(&[])).await?.0;
            &scanned_head
        };
        Ok(Some(result(&base, head, &cmp.merge_base)))
    }

    /// The check runs of this App named `ws-fix` on `sha`.
    async fn own_runs(&self, r: &Repo<'_>, sha: &str) -> Result<Vec<CheckRun>, AppError> {
        let slug = self.bot_login.trim_end_matches("[bot]");
        Ok(r.check_runs(sha, CHECK_RUN_NAME)
            .await?
            .into_iter()
            .filter(|c| c.app_slug == slug)
            .collect())
    }
}

/// A 403 means the installation has not granted the checks permission (an installation
/// from before it was asked for) or the repository is archived: no check run, and no failed
/// job to retry.
fn unless_forbidden(repo: &RepoRef, checked: Result<(), AppError>) -> Result<(), AppError> {
    match checked {
        Err(AppError::GitHub(e)) if e.status() == Some(403) => {
            tracing::warn!("{}: no check run: {e}", repo.full_name());
            Ok(())
        }
        other => other,
    }
}

/// The pull request number an `external_id` (`<number>:<merge base>`) records.
fn pull_of(external_id: &str) -> Option<u64> {
    external_id.split_once(':')?.0.parse().ok()
}

/// The findings of the head matched with the base's.
struct Compared<'a> {
    new: Vec<&'a Finding>,
    fixed: Vec<&'a Finding>,
    unchanged: Vec<&'a Finding>,
}

/// A finding's identity across commits: rule, resource and field path (for a span that is not
/// a whole node, the resource and the span's text), and the file as a tie-break.
fn identity(loaded: &Loaded, f: &Finding) -> (String, String) {
    let path = loaded
        .by_id(f.location.file)
        .map_or_else(String::new, |file| file.path.clone());
    let key = match crate::fix::edit::locate(loaded, f.location) {
        Some(at) => {
            let res = at.resource("");
            format!(
                "{}|{}/{}/{}|{}",
                f.rule,
                res.kind,
                res.namespace,
                res.name,
                at.field("")
            )
        }
        None => {
            let file = loaded.by_id(f.location.file);
            let doc = file.and_then(|file| {
                file.documents
                    .iter()
                    .find(|d| d.span.start <= f.location.start && f.location.end <= d.span.end)
            });
            let resource = doc.map_or_else(String::new, |d| {
                format!(
                    "{}/{}/{}",
                    d.kind().unwrap_or(""),
                    d.namespace().unwrap_or(""),
                    d.name().unwrap_or("")
                )
            });
            let text = file.map_or("", |file| f.location.slice(file.text()).trim());
            format!("{}|{resource}|{text}", f.rule)
        }
    };
    (key, path)
}

/// Pairs the counted (not ignored) findings of head and base: first same identity in the same
/// file, then same identity anywhere (a moved file).
fn compare<'a>(base: &'a Scanned, head: &'a Scanned) -> Compared<'a> {
    let counted = |s: &'a Scanned| -> Vec<(&'a Finding, (String, String))> {
        s.findings
            .iter()
            .filter(|f| f.ignored.is_none())
            .map(|f| (f, identity(&s.loaded, f)))
            .collect()
    };
    let base_ids = counted(base);
    let head_ids = counted(head);
    let mut taken = vec![false; base_ids.len()];
    let mut by_file: BTreeMap<&(String, String), Vec<usize>> = BTreeMap::new();
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (_, id)) in base_ids.iter().enumerate().rev() {
        by_file.entry(id).or_default().push(i);
        by_key.entry(id.0.as_str()).or_default().push(i);
    }
    let mut matched = vec![false; head_ids.len()];
    for (j, (_, id)) in head_ids.iter().enumerate() {
        if let Some(i) = by_file.get_mut(id).and_then(Vec::pop) {
            taken[i] = true;
            matched[j] = true;
        }
    }
    for (j, (_, id)) in head_ids.iter().enumerate() {
        if matched[j] {
            continue;
        }
        let free = by_key
            .get_mut(id.0.as_str())
            .and_then(|l| std::iter::from_fn(|| l.pop()).find(|i| !taken[*i]));
        if let Some(i) = free {
            taken[i] = true;
            matched[j] = true;
        }
    }
    let mut out = Compared {
        new: Vec::new(),
        fixed: Vec::new(),
        unchanged: Vec::new(),
    };
    for ((f, _), m) in head_ids.iter().zip(&matched) {
        if *m {
            out.unchanged.push(f);
        } else {
            out.new.push(f);
        }
    }
    for ((f, _), t) in base_ids.iter().zip(&taken) {
        if !t {
            out.fixed.push(f);
        }
    }
    out
}

/// The check run of `head` against `base` (whose config decides).
fn result(base: &Scanned, head: &Scanned, merge_base: &str) -> CheckResult {
    let c = compare(base, head);
    let config = &base.config;
    let on_new = match config.checks.new_finding_conclusion {
        Conclusion::Failure => "failure",
        Conclusion::Neutral => "neutral",
    };
    let conclusion = if c.new.iter().any(|f| f.reaches(config.fail_on)) {
        on_new
    } else if c.unchanged.iter().any(|f| f.reaches(config.fail_on)) {
        "neutral"
    } else {
        "success"
    };
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let title = match (c.new.len(), c.fixed.len()) {
        (0, 0) => "No new findings".to_owned(),
        (0, fixed) => format!("{fixed} finding{} fixed", plural(fixed)),
        (new, 0) => format!("{new} new finding{}", plural(new)),
        (new, fixed) => format!("{new} new finding{}, {fixed} fixed", plural(new)),
    };
    let mut summary = format!(
        "Compared with `{}`, where this pull request branched off: {} new, {} fixed, {} unchanged. A new finding at or above `fail-on` (`{}`) makes this check `{on_new}` (`checks.new-finding-conclusion`).\n",
        &merge_base[..merge_base.len().min(12)],
        c.new.len(),
        c.fixed.len(),
        c.unchanged.len(),
        config.fail_on.as_str(),
    );
    for (heading, loaded, list) in [
        ("New", &head.loaded, &c.new),
        ("Fixed", &base.loaded, &c.fixed),
        ("Unchanged", &head.loaded, &c.unchanged),
    ] {
        if !list.is_empty() {
            let owned: Vec<Finding> = list.iter().map(|f| (*f).clone()).collect();
            let table = super::commands::findings_table(loaded, &owned);
            let _ = write!(summary, "\n### {heading}: {}\n\n{table}\n", list.len());
        }
    }
    if c.new.len() > MAX_ANNOTATIONS {
        let _ = write!(
            summary,
            "\nThe first {MAX_ANNOTATIONS} new findings are annotated in the files.\n"
        );
    }
    let diffs = suggested(head, &c.new);
    let mut text = String::new();
    for (plan, pr, diff) in &diffs {
        let fence = fence_for(diff);
        let _ = write!(
            text,
            "### Suggested change: {} (`{}`)\n\n{fence}diff\n{diff}{fence}\n\n",
            pr.title,
            plan.kind.as_str()
        );
    }
    let annotations = c
        .new
        .iter()
        .take(MAX_ANNOTATIONS)
        .filter_map(|f| {
            let fix = diffs.iter().find(|(plan, _, _)| addresses(plan, f));
            annotation(head, f, fix.map(|(_, _, diff)| diff.as_str()))
        })
        .collect();
    CheckResult {
        conclusion,
        output: CheckOutput {
            title,
            summary: cut_chars(&summary, OUTPUT_CHARS),
            text: (!text.is_empty()).then(|| cut_chars(&text, OUTPUT_CHARS)),
        },
        annotations,
    }
}

/// The annotation of a new finding of `head`: from the key of the deciding setting to its
/// value's last line, with the explanation, and the diff of the fix that addresses it.
fn annotation(head: &Scanned, f: &Finding, fix: Option<&str>) -> Option<Annotation> {
    let at = crate::report::location::locate(&head.loaded, f.location)?;
    let rule = head.catalogue.rule(f.rule);
    let mut message = f.message.clone();
    for r in &f.related {
        let _ = write!(message, "\naffects: {}", r.message);
    }
    let _ = write!(
        message,
        "\n\n{} Envoy Gateway {} ({}).",
        rule.explanation.trim(),
        f.version.version,
        f.version.source
    );
    Some(Annotation {
        start_line: key_line(&head.loaded, f.location).unwrap_or(at.line),
        end_line: at.end_line.max(at.line),
        path: at.path,
        annotation_level: f.severity.annotation_level(),
        message: cut_bytes(&message, DETAILS_BYTES),
        title: cut_chars(&format!("{}: {}", f.rule, rule.title), TITLE_CHARS),
        raw_details: fix.map(|d| cut_bytes(d, DETAILS_BYTES)),
    })
}

/// True when `plan` addresses `f` (same rule and deciding span).
fn addresses(plan: &crate::fix::Plan, f: &Finding) -> bool {
    plan.findings
        .iter()
        .any(|p| p.rule == f.rule && p.location == f.location)
}

/// The head's fix plans that address a new finding, with their pull request text and diff.
fn suggested<'a>(
    head: &'a Scanned,
    new: &[&Finding],
) -> Vec<(
    &'a crate::fix::Plan,
    &'a crate::report::pr::PullRequest,
    String,
)> {
    head.fixes
        .plans
        .iter()
        .zip(&head.prs)
        .filter(|(plan, _)| new.iter().any(|f| addresses(plan, f)))
        .map(|(plan, pr)| {
            let diff: String = plan.files.iter().map(crate::report::fix::diff).collect();
            (plan, pr, diff)
        })
        .collect()
}

/// A Markdown code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The line of the key whose value is at `span` (`alpnProtocols:` above its list), so that an
/// annotation shows the setting's name; `None` when the span is no mapping value.
fn key_line(loaded: &Loaded, span: Span) -> Option<u32> {
    let at = crate::fix::edit::locate(loaded, span)?;
    let key = at.key?;
    (key.file == span.file && key.start <= span.start).then(|| at.file.line_col(key.start).line)
}

const CUT: &str = "\n\n… (cut to GitHub's size limit)";

/// `text` in at most `max` characters, cut on a character boundary with a note.
fn cut_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let note = if max > CUT.chars().count() * 2 {
        CUT
    } else {
        "…"
    };
    let keep = max.saturating_sub(note.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(note);
    out
}

/// `text` in at most `max` bytes, cut on a character boundary with a note.
fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let end = text.floor_char_boundary(max.saturating_sub(CUT.len()));
    format!("{}{CUT}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_keep_characters_whole_and_fit() {
        let text = "é".repeat(40_000);
        let c = cut_chars(&text, OUTPUT_CHARS);
        assert_eq!(c, text, "under the limit: unchanged");
        let long = "é".repeat(70_000);
        let c = cut_chars(&long, OUTPUT_CHARS);
        assert_eq!(c.chars().count(), OUTPUT_CHARS);
        assert!(c.ends_with(CUT));
        let t = cut_chars(&"ü".repeat(300), TITLE_CHARS);
        assert_eq!(t.chars().count(), TITLE_CHARS);
        let b = cut_bytes(&"€".repeat(30_000), DETAILS_BYTES);
        assert!(b.len() <= DETAILS_BYTES, "{}", b.len());
        assert!(b.ends_with(CUT));
        assert!(b.trim_end_matches(CUT).chars().all(|c| c == '€'));
    }

    #[test]
    fn a_fence_is_longer_than_the_backticks_inside() {
        assert_eq!(fence_for("a\n"), "```");
        assert_eq!(fence_for("x ```` y"), "`````");
    }

    #[test]
    fn external_ids_name_their_pull_request() {
        assert_eq!(pull_of("12:0123abc"), Some(12));
        assert_eq!(pull_of("abc"), None);
        assert_eq!(pull_of(""), None);
    }
}
