//! Several pushes to one branch waiting in the queue become one job for the newest commit: a
//! scan of the newest commit covers every older one.

use crate::events::Event;

/// More changed paths than this in one collapsed push: the list is dropped, which means "any
/// path may have changed" (the scan runs).
const MAX_PATHS: usize = 3_000;

/// What a job's event collapses with: pushes to the same branch (within its repository's key).
pub(super) fn collapse_key(event: &Event) -> Option<String> {
    match event {
        Event::Push { git_ref, .. } => Some(format!("push {git_ref}")),
        _ => None,
    }
}

/// One push standing for `older` and then `newer` (two pushes with the same
/// [`collapse_key`]): the newer commit, every path either changed (none when either list is
/// empty, i.e. unknown), and a person as the pusher when either was one, so a push that must
/// be handled is never hidden behind one that is ignored (the App's own).
pub(super) fn merge(older: Event, mut newer: Event) -> Event {
    if let (
        Event::Push {
            paths: old_paths,
            sender: old_sender,
            sender_is_bot: old_is_bot,
            ..
        },
        Event::Push {
            paths,
            sender,
            sender_is_bot,
            ..
        },
    ) = (older, &mut newer)
    {
        if old_paths.is_empty() || paths.is_empty() {
            paths.clear();
        } else {
            let new_paths = std::mem::replace(paths, old_paths);
            for p in new_paths {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
            if paths.len() > MAX_PATHS {
                paths.clear();
            }
        }
        if *sender_is_bot && !old_is_bot {
            *sender = old_sender;
            *sender_is_bot = false;
        }
    }
    newer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RepoRef;

    fn push(after: &str, sender: &str, bot: bool, paths: &[&str]) -> Event {
        Event::Push {
            repo: RepoRef {
                installation: 1,
                owner: "o".into(),
                name: "r".into(),
            },
            git_ref: "refs/heads/main".into(),
            after: after.into(),
            default_branch: "main".into(),
            sender: sender.into(),
            sender_is_bot: bot,
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_newest_commit_with_every_path() {
        let merged = merge(
            push("a", "alice", false, &["x.yaml", "README.md"]),
            push("b", "bob", false, &["README.md", "y.yaml"]),
        );
        assert_eq!(
            merged,
            push("b", "bob", false, &["x.yaml", "README.md", "y.yaml"])
        );
    }

    #[test]
    fn unknown_paths_stay_unknown() {
        let merged = merge(
            push("a", "alice", false, &[]),
            push("b", "bob", false, &["a.md"]),
        );
        assert_eq!(merged, push("b", "bob", false, &[]));
        let many: Vec<String> = (0..MAX_PATHS).map(|i| format!("f{i}.yaml")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let merged = merge(
            push("a", "alice", false, &many),
            push("b", "bob", false, &["new.yaml"]),
        );
        assert_eq!(merged, push("b", "bob", false, &[]));
    }

    #[test]
    fn a_persons_push_is_not_hidden_behind_a_bots() {
        let merged = merge(
            push("a", "alice", false, &["x.yaml"]),
            push("b", "ws-fix[bot]", true, &["x.yaml"]),
        );
        assert_eq!(merged, push("b", "alice", false, &["x.yaml"]));
        let merged = merge(
            push("a", "ws-fix[bot]", true, &["x.yaml"]),
            push("b", "bob", false, &["x.yaml"]),
        );
        assert_eq!(merged, push("b", "bob", false, &["x.yaml"]));
    }
}
