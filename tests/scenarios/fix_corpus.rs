//! `ws-fix fix` on a copy of each corpus repo: the ALPN change is a swap of exactly the two
//! list lines of the ClientTrafficPolicy; every generated resource validates against the CRD
//! schemas; after `--write` the scan reports no ALPN finding; a second `--write` changes
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ws_fix::catalogue::FixKind;
use ws_fix::workspace::Workspace;

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("../shared/corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert_eq!(repos.len(), 3);
    repos
}

fn ws_fix(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(args)
        .output()
        .expect("run ws-fix")
}

fn snapshot_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn alpn_fix_is_the_two_line_swap_and_sticks() {
    for repo in corpus() {
        let name = repo.file_name().unwrap().to_string_lossy().to_string();
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join(&name);
        crate::common::copy_tree(&repo, &copy);

        let ws = Workspace::open(&copy, None).unwrap();
        let loaded = ws.load(ws_fix::load::DEFAULT_MAX_FILE_SIZE).unwrap();
        let fixes = ws_fix::fix::plan(
            &ws.snapshot,
            &loaded,
            &ws.load_options(ws_fix::load::DEFAULT_MAX_FILE_SIZE),
            &ws.catalogue,
            &ws.config,
            &[],
        );
        let alpn = fixes
            .plans
            .iter()
            .find(|p| p.kind == FixKind::AlpnOrder)
            .unwrap_or_else(|| panic!("{name}: no alpn-order plan: {:?}", fixes.declined));
        assert_eq!(alpn.files.len(), 1, "{name}");
        let f = &alpn.files[0];
        let before: Vec<&str> = f.before.as_deref().unwrap().split('\n').collect();
        let after: Vec<&str> = f.after.split('\n').collect();
        assert_eq!(before.len(), after.len(), "{name}");
        let changed: Vec<usize> = (0..before.len())
            .filter(|&i| before[i] != after[i])
            .collect();
        assert_eq!(changed.len(), 2, "{name}: {changed:?}");
        let (i, j) = (changed[0], changed[1]);
        assert_eq!(j, i + 1, "{name}: adjacent list lines");
        assert_eq!(
            (before[i], before[j]),
            (after[j], after[i]),
            "{name}: a swap"
        );
        assert!(
            before[i].trim_start().starts_with("- h2"),
            "{name}: {}",
            before[i]
        );
        assert!(after[i].trim_start().starts_with("- http/1.1"), "{name}");

        // Everything any plan writes validates against the CRD schemas.
        for plan in &fixes.plans {
            for file in &plan.files {
                let (_, failures) = crate::common::validate_against_schemas(&file.after);
                assert!(failures.is_empty(), "{name} {}: {failures:?}", file.path);
            }
        }

        let dir = copy.to_str().unwrap();
        let out = ws_fix(&["fix", dir, "--write"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let scan = ws_fix(&["scan", dir, "--rule", "alpn-h2-first", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
        assert_eq!(
            json["findings"].as_array().map(Vec::len),
            Some(0),
            "{name}: {json}"
        );
        let once = snapshot_of(&copy);
        let out = ws_fix(&["fix", dir, "--write"]);
        assert!(out.status.success());
        assert_eq!(
            once,
            snapshot_of(&copy),
            "{name}: a second --write changed files"
        );
    }
}

#[test]
fn schema_validation_can_fail() {
    let bad = "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata:\n  name: x\nspec:\n  targetRefs: not-a-list\n";
    let (checked, failures) = crate::common::validate_against_schemas(bad);
    assert_eq!(checked, 1);
    assert_eq!(failures.len(), 1, "{failures:?}");
}
