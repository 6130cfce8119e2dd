//! The rules on the corpus repos (real home-ops repositories): each has an h2-first
//! ClientTrafficPolicy in front of Home Assistant and Grafana.

use std::path::PathBuf;

use ws_fix::catalogue::RuleId;
use ws_fix::load::DEFAULT_MAX_FILE_SIZE;
use ws_fix::workspace::Workspace;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut repos: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(!repos.is_empty());
    repos
}

#[test]
fn alpn_h2_first_at_the_client_traffic_policy_of_every_corpus_repo() {
    for repo in corpus() {
        let ws = Workspace::open(&repo, None).unwrap();
        let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).unwrap();
        let result = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config);
        let alpn: Vec<_> = result
            .findings
            .iter()
            .filter(|f| f.rule == RuleId::AlpnH2First)
            .collect();
        assert_eq!(alpn.len(), 1, "{}: {alpn:?}", repo.display());
        let f = alpn[0];
        let (file, at) = loaded.locate(f.location).unwrap();
        // The location is the alpnProtocols list, right under its key.
        let lines: Vec<&str> = file.text().lines().collect();
        let key_line = lines[at.line as usize - 2];
        assert_eq!(key_line.trim(), "alpnProtocols:", "{}", repo.display());
        assert!(f.location.slice(file.text()).starts_with("- h2"));
        assert!(
            file.text()[..f.location.start as usize].contains("kind: ClientTrafficPolicy"),
            "{}",
            file.path
        );
        let related: Vec<&str> = f.related.iter().map(|r| r.message.as_str()).collect();
        for app in ["(home-assistant)", "(grafana)"] {
            assert!(
                related
                    .iter()
                    .any(|m| m.starts_with("HTTPRoute ") && m.ends_with(app)),
                "{}: {app} not in {related:?}",
                repo.display()
            );
        }
        assert!(f.related.iter().all(|r| r.span.is_some()));
        assert_eq!(f.version.source, "detected");
    }
}

#[test]
fn findings_are_deterministic() {
    for repo in corpus() {
        let ws = Workspace::open(&repo, None).unwrap();
        let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).unwrap();
        let a = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config).findings;
        let b = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config).findings;
        assert_eq!(a, b);
        let keys: Vec<_> = a.iter().map(|f| (f.location, f.rule)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted, "sorted, one finding per (span, rule)");
    }
}

#[test]
fn the_scan_one_set_at_a_time_finds_what_all_models_at_once_find() {
    for repo in corpus() {
        let ws = Workspace::open(&repo, None).unwrap();
        let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).unwrap();
        let streamed = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config);
        let (applied, models) = ws_fix::model::build(&loaded, &ws.catalogue, &ws.config);
        let at_once =
            ws_fix::rules::run_with_ignores(&models, &applied.sets, &ws.catalogue, &ws.config);
        assert!(!at_once.is_empty(), "{}", repo.display());
        assert_eq!(streamed.findings, at_once, "{}", repo.display());
        // The fixer plans from the same findings (the App takes them from its plan).
        let options = ws.load_options(DEFAULT_MAX_FILE_SIZE);
        let fixes = ws_fix::fix::plan(
            &ws.snapshot,
            &loaded,
            &options,
            &ws.catalogue,
            &ws.config,
            &[],
        );
        assert_eq!(fixes.findings, at_once, "{}", repo.display());
        let not_analysed: Vec<_> = applied
            .sets
            .iter()
            .flat_map(|s| s.not_analysed.clone())
            .collect();
        let coverage = ws_fix::scan::coverage(
            &loaded,
            applied.not_applied.iter().map(String::as_str),
            &not_analysed,
            applied.sets.len(),
        );
        assert_eq!(streamed.coverage, coverage, "{}", repo.display());
    }
}
