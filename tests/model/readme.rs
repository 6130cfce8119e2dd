//! The README's walkthrough and the CI recipe of docs/ci.md run as written, with the `ws-fix`
//! built for the tests standing in for the installed one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fenced block of `lang` that follows the `<!-- tested: ... -->` marker in `page`.
fn tested_block(page: &str, lang: &str) -> String {
    let text = std::fs::read_to_string(root().join(page)).expect("read the page");
    let after = &text[text.find("<!-- tested:").expect("a tested marker")..];
    let open = format!("```{lang}\n");
    let start = after.find(&open).expect("a fenced block after the marker") + open.len();
    let len = after[start..].find("```").expect("the block's end");
    after[start..start + len].to_owned()
}

/// Runs `script` with bash in `dir`: `cargo` does nothing (the tests built ws-fix already) and
/// `ws-fix` is the binary under test.
fn run(script: &str, dir: &Path, tmp: &Path) -> Output {
    let prelude = format!(
        "cargo() {{ :; }}\nws-fix() {{ '{}' \"$@\"; }}\n",
        env!("CARGO_BIN_EXE_ws-fix")
    );
    Command::new("bash")
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .current_dir(dir)
        .env("TMPDIR", tmp)
        .env("HOME", tmp)
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "Reader")
        .env("GIT_AUTHOR_EMAIL", "reader@example.com")
        .env("GIT_COMMITTER_NAME", "Reader")
        .env("GIT_COMMITTER_EMAIL", "reader@example.com")
        .output()
        .expect("run bash")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn readme_walkthrough_makes_a_fix_branch_on_a_copy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let script = tested_block("README.md", "sh");
    assert!(script.contains("ws-fix fix --branch"), "{script}");
    let out = run(&script, &root(), tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("ws-fix/alpn-order: created (commit "),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The last command shows the branch's change: the ALPN order swapped.
    let moved = |sign: char| {
        stdout
            .lines()
            .any(|l| l.starts_with(sign) && l[1..].trim_start().starts_with("- h2"))
    };
    assert!(moved('-') && moved('+'), "{stdout}");
    assert!(out.status.success(), "stderr:\n{stderr}");
    // The copy was made under TMPDIR, never in the checkout.
    assert!(!root().join("examples/homelab/.git").exists());
}

/// The same walkthrough on a copy of each real repo of `../shared/corpus` (where it is).
#[test]
fn readme_walkthrough_works_on_the_corpus_repos() {
    let corpus = root().join("../shared/corpus");
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        eprintln!("skipped: no {}", corpus.display());
        return;
    };
    let script = tested_block("README.md", "sh");
    let mut repos: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(!repos.is_empty());
    for repo in repos {
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = script.replace("examples/homelab", repo.to_str().unwrap());
        let out = run(&script, &root(), tmp.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(": created (commit "),
            "{}:\n{stdout}\n{}",
            repo.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `run` script of the workflow step named `name`, and the workflow.
fn workflow_step(name: &str) -> (serde_json::Value, String) {
    let yaml = tested_block("docs/ci.md", "yaml");
    let workflow: serde_json::Value = serde_saphyr::from_str(&yaml).expect("the workflow parses");
    let steps = workflow["jobs"]["scan"]["steps"]
        .as_array()
        .expect("steps")
        .clone();
    let step = steps
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}"));
    let run = step["run"].as_str().expect("a run script").to_owned();
    (workflow, run)
}

#[test]
fn ci_recipe_uploads_the_sarif_its_scan_step_writes() {
    let (workflow, scan) = workflow_step("Scan");
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let upload = workflow["jobs"]["scan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("an upload-sarif step")
        .clone();
    let sarif_file = upload["with"]["sarif_file"].as_str().expect("sarif_file");

    let tmp = tempfile::tempdir().expect("tempdir");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    copy_dir(&root().join("examples/homelab"), &repo);
    let out = run(&format!("set -e\n{scan}"), &repo, tmp.path());
    assert!(
        out.status.success(),
        "the step fails on findings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(repo.join(sarif_file)).expect("the step wrote the SARIF");
    let sarif: serde_sarif::sarif::Sarif = serde_json::from_str(&text).expect("SARIF 2.1.0");
    let results = sarif.runs[0].results.as_ref().expect("results");
    assert!(
        results
            .iter()
            .any(|r| r.rule_id.as_deref() == Some("alpn-h2-first")),
        "{text}"
    );

    // A scan that cannot run (a broken repo config) fails the step.
    std::fs::write(repo.join(".ws-fix.yml"), "version: 1\nno-such-key: 1\n").expect("write");
    let out = run(&format!("set -e\n{scan}"), &repo, tmp.path());
    assert!(!out.status.success(), "exit code 2 must fail the step");
}
