//! The reference pages written from the code and `rules/` are current, and the repo config's
//! key list is exactly what the parser accepts. `WS_FIX_BLESS=1` rewrites stale pages.

use std::path::PathBuf;

use ws_fix::catalogue::Catalogue;
use ws_fix::config::{RepoConfig, keys};
use ws_fix::reference;

fn page(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn bless() -> bool {
    std::env::var_os("WS_FIX_BLESS").is_some_and(|v| v == "1")
}

/// Compares a page with what the code writes; rewrites it when blessing.
fn check(rel: &str, expected: &str) {
    let path = page(rel);
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual == expected {
        return;
    }
    if bless() {
        std::fs::write(&path, expected).expect("rewrite the page");
        return;
    }
    let first = actual
        .lines()
        .zip(expected.lines())
        .position(|(a, e)| a != e)
        .unwrap_or(actual.lines().count().min(expected.lines().count()));
    panic!(
        "{rel} is stale (first difference at line {}): run `WS_FIX_BLESS=1 cargo test --test model reference_docs`",
        first + 1
    );
}

fn check_generated(rel: &str, name: &str, content: &str) {
    let actual = std::fs::read_to_string(page(rel)).expect("read the page");
    let expected = reference::replace_generated(&actual, name, content)
        .unwrap_or_else(|| panic!("{rel} has no `{name}` markers"));
    check(rel, &expected);
}

#[test]
fn rules_reference_is_current() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    check("docs/rules.md", &reference::rules_page(&catalogue));
}

#[test]
fn config_key_tables_are_current() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    check_generated(
        "docs/config.md",
        "config-keys",
        &reference::config_keys(&catalogue),
    );
}

#[test]
fn server_settings_table_is_current() {
    check_generated(
        "docs/server.md",
        "server-settings",
        &reference::server_settings(),
    );
}

#[test]
fn server_settings_table_lists_every_flag_with_its_variable() {
    let table = reference::server_settings();
    for flag in [
        "`--app-id` | `WS_FIX_APP_ID`",
        "`--webhook-secret` | `WS_FIX_WEBHOOK_SECRET`",
        "`--data-dir` | `WS_FIX_DATA_DIR` | `data`",
        "`--redeliver-hours` | `WS_FIX_REDELIVER_HOURS` | `6`",
    ] {
        assert!(table.contains(flag), "{flag} missing from\n{table}");
    }
}

/// The keys the parser names when it meets `zz-unknown` at the place `yaml` puts it.
fn accepted_keys(yaml: &str) -> Vec<String> {
    let err = RepoConfig::parse(".ws-fix.yml", yaml)
        .expect_err("an unknown key is an error")
        .to_string();
    let list = err
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no key list in {err:?}"));
    let list = list.split(" (did you mean").next().unwrap_or(list);
    let mut keys: Vec<String> = list.split(", ").map(|k| k.trim().to_owned()).collect();
    keys.sort();
    keys
}

/// The documented keys one level below `prefix` (`""`: the top level).
fn documented(prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = keys::KEYS
        .iter()
        .filter_map(|k| k.path.strip_prefix(prefix))
        .filter_map(|rest| rest.split('.').next())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn documented_keys_are_exactly_the_keys_the_parser_accepts() {
    let places = [
        ("zz-unknown: 1\n", ""),
        (
            "rules:\n  alpn-h2-first:\n    zz-unknown: 1\n",
            "rules.<rule id>.",
        ),
        ("envoy-gateway:\n  zz-unknown: 1\n", "envoy-gateway."),
        (
            "fixes:\n  alpn-order:\n    zz-unknown: 1\n",
            "fixes.<fix kind>.",
        ),
        ("commands:\n  zz-unknown: 1\n", "commands."),
        ("checks:\n  zz-unknown: 1\n", "checks."),
        ("apps:\n  - zz-unknown: 1\n", "apps[]."),
        (
            "websocket-routes:\n  - zz-unknown: 1\n",
            "websocket-routes[].",
        ),
    ];
    for (yaml, prefix) in places {
        let mut documented = documented(prefix);
        if prefix.is_empty() {
            documented.retain(|k| !k.ends_with("[]"));
        }
        assert_eq!(accepted_keys(yaml), documented, "keys under `{prefix}`");
    }
    // `http-upgrade` takes `explicit` beside `enabled`.
    assert_eq!(
        accepted_keys("fixes:\n  http-upgrade:\n    zz-unknown: 1\n"),
        documented("fixes.http-upgrade.")
            .into_iter()
            .chain(["enabled".to_owned()])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    // `fixes` takes a fix kind or `prefer`: its own error names them.
    let err = RepoConfig::parse(".ws-fix.yml", "fixes:\n  zz-unknown: 1\n")
        .expect_err("unknown fix kind")
        .to_string();
    assert!(err.contains("prefer"), "{err}");
    assert!(documented("fixes.").contains(&"prefer".to_owned()));
}
