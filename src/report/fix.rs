//! `ws-fix fix` without `--write`/`--branch`: per fix kind, the pull request's title, the
//! unified diff of its files and its body; then the findings no fix is proposed for, and why.

use crate::catalogue::Catalogue;
use crate::fix::{FileChange, Fixes};
use crate::load::Loaded;
use crate::report::location::describe;
use crate::report::pr::PullRequest;

/// The unified diff of one file (`/dev/null` for a new file).
pub fn diff(f: &FileChange) -> String {
    let before = f.before.as_deref().unwrap_or("");
    let old = if f.before.is_some() {
        format!("a/{}", f.path)
    } else {
        "/dev/null".to_owned()
    };
    similar::TextDiff::from_lines(before, &f.after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &format!("b/{}", f.path))
        .to_string()
}

pub fn human(
    fixes: &Fixes,
    prs: &[PullRequest],
    loaded: &Loaded,
    _catalogue: &Catalogue,
) -> String {
    let mut out = String::new();
    for (plan, pr) in fixes.plans.iter().zip(prs) {
        out.push_str(&format!("=== {} ({})\n", pr.title, pr.branch));
        out.push_str(&format!("fingerprint: {}\n\n", plan.fingerprint));
        for f in &plan.files {
            out.push_str(&diff(f));
        }
        out.push('\n');
        out.push_str(&pr.body);
        out.push('\n');
    }
    if fixes.plans.is_empty() {
        out.push_str("No fix to propose.\n");
    }
    if !fixes.declined.is_empty() {
        out.push_str("\nNot proposed:\n");
        for d in &fixes.declined {
            out.push_str(&format!(
                "  {} at {}{}: {}\n",
                d.rule.as_str(),
                describe(loaded, d.location),
                d.kind
                    .map_or(String::new(), |k| format!(" ({})", k.as_str())),
                d.reason
            ));
        }
    }
    out
}
