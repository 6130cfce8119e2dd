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
