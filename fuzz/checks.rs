//! What each fuzz target checks on one input, shared by the targets (fuzz_targets/) and the
//! regression test that replays the inputs they found (tests/model/fuzz_regressions.rs). Nothing may
//! panic; each function states what else must hold.

// Each target uses one of these.
#![allow(dead_code)]

use std::sync::OnceLock;

use ws_fix::catalogue::Catalogue;
use ws_fix::commands::{self, MAX_COMMANDS, MAX_LINE_CHARS, TRIGGER};
use ws_fix::config::RepoConfig;
use ws_fix::events::Event;
use ws_fix::load::{self, LoadOptions};
use ws_fix::snapshot::MemorySnapshot;

const NAMES: [&str; 4] = [
    "apps/app.yaml",
    "apps/kustomization.yaml",
    "apps/patch.yaml",
    "base/app.yaml",
];

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue::embedded().expect("the embedded catalogue"))
}

/// Repository content: `data` split at `\0\0\0` into up to four files (a manifest, a
/// kustomization, a patch, a base) is loaded, scanned and, when something is found, planned;
/// the repo config parser reads the first part. Every file is parsed or skipped with a reason.
pub fn yaml_scan(data: &[u8]) {
    let parts = split_files(data);
    let mut snapshot = MemorySnapshot::new();
    for (name, part) in NAMES.iter().zip(&parts) {
        snapshot.insert(*name, *part);
    }
    if let Ok(text) = std::str::from_utf8(parts[0]) {
        let _ = RepoConfig::parse(".ws-fix.yml", text);
    }
    let options = LoadOptions::default();
    let loaded = load::load(&snapshot, &options).expect("a memory snapshot lists");
    assert_eq!(
        loaded.files.len() + loaded.skipped.len(),
        parts.len().min(NAMES.len()),
        "every file is parsed or skipped"
    );
    let config = RepoConfig::default();
    let scanned = ws_fix::scan::scan(&loaded, catalogue(), &config);
    if !scanned.findings.is_empty() {
        ws_fix::fix::plan(&snapshot, &loaded, &options, catalogue(), &config, &[]);
    }
}

/// `data` split at a three-NUL separator (which no text file holds).
fn split_files(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(3).position(|w| w == b"\0\0\0") {
        out.push(&rest[..i]);
        rest = &rest[i + 3..];
    }
    out.push(rest);
    out
}

/// A comment and its edit: `data` (lossily UTF-8) is the old body and the new one, split at
/// the first NUL. The caps on commands and lengths hold; an unedited comment runs nothing.
pub fn commands(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (old, new) = text.split_once('\0').unwrap_or(("", &text));
    for body in [old, new] {
        let parsed = commands::parse(body);
        // The commands, one error for the rest, one for a cut comment.
        assert!(
            parsed.len() <= MAX_COMMANDS + 2,
            "{} command lines",
            parsed.len()
        );
        let lines = body.split('\n').count();
        for p in &parsed {
            assert!(
                p.line >= 1 && p.line <= lines + 1,
                "line {} of {lines}",
                p.line
            );
            assert!(p.text.starts_with(TRIGGER));
            assert!(p.text.chars().count() <= MAX_LINE_CHARS + 1);
            if let Err(e) = &p.result {
                let _ = e.markdown();
            }
        }
    }
    assert!(commands::new_commands(old, new).len() <= MAX_COMMANDS + 2);
    assert!(commands::new_commands(new, new).is_empty());
}

/// A delivery: `data`'s first line is the `X-GitHub-Event` header, the rest the body. What
/// parses serializes and reads back as itself (the queue stores events that way).
pub fn event(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(name) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or(&[]);
    if let Ok(event) = Event::parse(name, body) {
        let _ = event.repos();
        let stored = serde_json::to_string(&event).expect("an event serializes");
        let back: Event = serde_json::from_str(&stored).expect("a stored event reads back");
        assert_eq!(back, event);
    }
}
