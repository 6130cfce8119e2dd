//! `ws-fix fix` on the command line: the dry run changes nothing, `--only` selects kinds and
//! refuses unknown ones, `--branch` commits one branch per fix kind without touching the
//! checkout, and a second `--branch` leaves it as it is.

use std::path::Path;
use std::process::{Command, Output};

fn ws_fix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(args)
        .output()
        .expect("run ws-fix")
}

fn example_repo() -> (tempfile::TempDir, git2::Repository) {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    crate::common::copy_tree(&src, tmp.path());
    let repo = git2::Repository::init(tmp.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "feat(network): add gateway",
        &tree,
        &[],
    )
    .unwrap();
    drop(tree);
    (tmp, repo)
}

#[test]
fn dry_run_prints_the_pull_requests_and_changes_nothing() {
    let (tmp, repo) = example_repo();
    let dir = tmp.path().to_str().unwrap();
    let out = ws_fix(&["fix", dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "=== fix(network): prefer HTTP/1.1 in ALPN for WebSocket apps (ws-fix/alpn-order)"
        ),
        "{text}"
    );
    assert!(text.contains("+      - http/1.1"), "{text}");
    assert!(
        text.contains("<!-- ws-fix: {\"v\":1,\"kind\":\"alpn-order\""),
        "{text}"
    );
    assert!(
        repo.statuses(None).unwrap().is_empty(),
        "the dry run wrote files"
    );

    let out = ws_fix(&["fix", dir, "--only", "http-upgrade"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("alpn-order"));
    let out = ws_fix(&["fix", dir, "--only", "alpn"]);
    assert_eq!(out.status.code(), Some(2), "an unknown kind exits 2");
}

#[test]
fn branch_commits_each_kind_and_is_idempotent() {
    let (tmp, repo) = example_repo();
    let dir = tmp.path().to_str().unwrap();
    let head = repo.head().unwrap().target().unwrap();
    let out = ws_fix(&["fix", dir, "--branch"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ws-fix/alpn-order: created (commit "));
    let branch = repo
        .find_branch("ws-fix/alpn-order", git2::BranchType::Local)
        .unwrap();
    let commit = branch.get().peel_to_commit().unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), head);
    let message = commit.message().unwrap();
    assert!(
        message.starts_with("fix(network): prefer HTTP/1.1 in ALPN"),
        "{message}"
    );
    assert!(message.trim_end().ends_with("-->"), "{message}");
    assert_eq!(repo.head().unwrap().target().unwrap(), head, "HEAD moved");
    assert!(
        repo.statuses(None).unwrap().is_empty(),
        "the checkout changed"
    );

    let out = ws_fix(&["fix", dir, "--branch"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ws-fix/alpn-order: unchanged (commit "));
}
