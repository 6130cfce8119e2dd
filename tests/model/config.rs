//! The repo config (`.github/ws-fix.yml` / `.ws-fix.yml`): the documented example parses, each
//! kind of error names file:line:column, and discovery handles zero, one and two files.

use std::fs;
use std::path::Path;

use semver::Version;
use ws_fix::catalogue::{FixKind, RuleId, Severity};
use ws_fix::config::{
    Conclusion, ConfigError, Mode, Permission, Prefer, RepoConfig, RouteKind, WebSocketRoute,
};

const FILE: &str = ".github/ws-fix.yml";

fn parse(text: &str) -> RepoConfig {
    match RepoConfig::parse(FILE, text) {
        Ok(c) => c,
        Err(e) => panic!("does not parse: {e}"),
    }
}

/// Parses `text`, expects an error at `line:column` whose message contains `message`.
fn assert_error(text: &str, line: u64, column: u64, message: &str) {
    let err = match RepoConfig::parse(FILE, text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e,
    };
    let shown = err.to_string();
    let prefix = format!("{FILE}:{line}:{column}: ");
    assert!(
        shown.starts_with(&prefix),
        "expected `{prefix}...`, got `{shown}`"
    );
    assert!(shown.contains(message), "`{shown}` lacks `{message}`");
    assert!(matches!(err, ConfigError::Invalid { .. }));
}

/// The ```yaml block of docs/config.md.
fn documented_example() -> String {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md"))
        .expect("docs/config.md");
    let start = doc.find("```yaml\n").expect("a ```yaml block") + "```yaml\n".len();
    let len = doc[start..].find("```").expect("end of the block");
    doc[start..start + len].to_owned()
}

#[test]
fn documented_example_parses_with_every_key() {
    let c = parse(&documented_example());
    assert!(!c.rule_enabled(RuleId::StreamLimits));
    assert!(c.rule_enabled(RuleId::UpstreamH2));
    assert_eq!(
        c.severity_for(RuleId::AlpnH2First, Severity::Warning),
        Severity::Error
    );
    assert_eq!(
        c.severity_for(RuleId::UpstreamH2, Severity::Warning),
        Severity::Warning
    );
    assert_eq!(c.fail_on, Severity::Error);
    assert_eq!(c.apps.len(), 1);
    assert_eq!(c.apps[0].id, "my-dashboard");
    assert_eq!(c.apps[0].probe_path, "/live");
    assert_eq!(
        c.websocket_routes,
        [
            WebSocketRoute::Resource {
                kind: RouteKind::HttpRoute,
                namespace: Some("home".into()),
                name: "zigbee2mqtt".into()
            },
            WebSocketRoute::Resource {
                kind: RouteKind::HelmRelease,
                namespace: None,
                name: "esphome".into()
            },
            WebSocketRoute::Hostname("ws.example.com".into()),
        ]
    );
    assert_eq!(c.ignore_paths.patterns(), ["archive/", "**/*.sops.yaml"]);
    assert!(c.is_ignored("archive/old/hr.yaml", false));
    assert!(c.is_ignored("kubernetes/apps/secret.sops.yaml", false));
    assert!(!c.is_ignored("kubernetes/apps/hr.yaml", false));
    assert_eq!(c.envoy_gateway_version, Some(Version::new(1, 8, 1)));
    assert!(!c.fix_enabled(FixKind::Backend));
    assert!(c.fix_enabled(FixKind::AlpnOrder));
    assert!(c.fixes.http_upgrade_explicit);
    assert_eq!(c.fixes.prefer, Some(Prefer::WsAppProtocol));
    assert_eq!(c.mode, Mode::PullRequests);
    assert!(!c.paused);
    assert_eq!(c.commands.min_permission, Permission::Maintain);
    assert!(c.checks.enabled);
    assert_eq!(c.checks.new_finding_conclusion, Conclusion::Neutral);
}

#[test]
fn docs_table_names_every_top_level_key_of_the_example() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md"))
        .expect("docs/config.md");
    for line in documented_example().lines() {
        let Some((key, _)) = line.split_once(':') else {
            continue;
        };
        if key.is_empty() || key.starts_with([' ', '#', '-']) {
            continue;
        }
        assert!(
            doc.contains(&format!("| `{key}")),
            "`{key}` is not in the key table"
        );
    }
}

#[test]
fn empty_and_comment_only_files_are_the_defaults() {
    assert_eq!(parse(""), RepoConfig::default());
    assert_eq!(parse("# nothing yet\n"), RepoConfig::default());
    assert_eq!(parse("version: 1\n"), RepoConfig::default());
    assert_eq!(parse("rules:\nfixes:\n"), RepoConfig::default());
    let d = RepoConfig::default();
    assert_eq!(d.fail_on, Severity::Warning);
    assert_eq!(d.mode, Mode::PullRequests);
    assert_eq!(d.commands.min_permission, Permission::Write);
    assert!(d.checks.enabled);
    assert_eq!(d.checks.new_finding_conclusion, Conclusion::Failure);
    assert!(!d.paused && !d.fixes.http_upgrade_explicit);
    for r in RuleId::ALL {
        assert!(d.rule_enabled(*r));
    }
    for k in FixKind::ALL {
        assert!(d.fix_enabled(*k));
    }
}

#[test]
fn unknown_top_level_key() {
    assert_error(
        "version: 1\nfail_on: error\n",
        2,
        1,
        "unknown field `fail_on`",
    );
    assert_error(
        "version: 1\nfail_on: error\n",
        2,
        1,
        "did you mean `fail-on`?",
    );
}

#[test]
fn unknown_nested_key() {
    assert_error(
        "version: 1\nchecks:\n  enabled: true\n  conclusion: neutral\n",
        4,
        3,
        "unknown field `conclusion`",
    );
    assert_error(
        "rules:\n  stream-limits:\n    enable: false\n",
        3,
        5,
        "did you mean `enabled`?",
    );
    // `explicit` belongs to http-upgrade only.
    assert_error(
        "fixes:\n  alpn-order:\n    explicit: true\n",
        3,
        5,
        "unknown field `explicit`",
    );
}

#[test]
fn unknown_rule_id_as_key() {
    assert_error(
        "version: 1\nrules:\n  alpn-h2-first:\n    enabled: false\n  alpn:\n    enabled: false\n",
        5,
        3,
        "unknown rule id `alpn` (did you mean `alpn-h2-first`?)",
    );
}

#[test]
fn unknown_fix_kind_as_key() {
    assert_error(
        "fixes:\n  prefer: backend\n  alpn-ordr:\n    enabled: false\n",
        3,
        3,
        "unknown fix kind `alpn-ordr` (did you mean `alpn-order`?)",
    );
    assert_error(
        "fixes:\n  zzzzzzzz: {}\n",
        2,
        3,
        "expected a fix kind or `prefer`",
    );
}

#[test]
fn wrong_types() {
    assert_error("paused: [true]\n", 1, 9, "");
    assert_error("fail-on: fatal\n", 1, 10, "unknown severity `fatal`");
    assert_error("mode: dry-run\n", 1, 7, "unknown variant `dry-run`");
    assert_error("ignore-paths: archive/\n", 1, 15, "expected a list");
    assert_error(
        "rules:\n  upstream-h2:\n    severity: high\n",
        3,
        15,
        "unknown severity `high`",
    );
    assert_error(
        "fixes:\n  prefer: alpn-order\n",
        2,
        11,
        "unknown variant `alpn-order`",
    );
    assert_error(
        "commands:\n  min-permission: triage\n",
        2,
        19,
        "unknown variant `triage`",
    );
    assert_error(
        "checks:\n  new-finding-conclusion: success\n",
        2,
        27,
        "unknown variant `success`",
    );
    assert_error("- version: 1\n", 1, 1, "expected a mapping");
}

#[test]
fn unsupported_version() {
    assert_error(
        "# ws-fix\nversion: 2\n",
        2,
        10,
        "unsupported config version 2",
    );
}

#[test]
fn bad_pinned_version() {
    assert_error(
        "envoy-gateway:\n  version: 1.9\n",
        2,
        12,
        "`1.9` is not a release version",
    );
    let c = parse("envoy-gateway:\n  version: v1.7.4\n");
    assert_eq!(c.envoy_gateway_version, Some(Version::new(1, 7, 4)));
}

#[test]
fn bad_websocket_routes() {
    assert_error(
        "websocket-routes:\n  - namespace: home\n",
        2,
        5,
        "needs either a `name`",
    );
    assert_error(
        "websocket-routes:\n  - name: a\n    hostname: a.example.com\n",
        2,
        5,
        "needs either a `name`",
    );
    assert_error(
        "websocket-routes:\n  - hostname: https://a.example.com/\n",
        2,
        15,
        "is not a hostname",
    );
    assert_error(
        "websocket-routes:\n  - kind: Ingress\n    name: a\n",
        2,
        11,
        "unknown variant `Ingress`",
    );
}

#[test]
fn websocket_route_matching() {
    let c = parse(
        "websocket-routes:\n  - name: ha\n  - kind: HTTPRoute\n    namespace: home\n    name: z2m\n  - hostname: '*.ws.example.com'\n",
    );
    let [any_ns, home, wildcard] = c.websocket_routes.as_slice() else {
        panic!("three entries")
    };
    assert!(any_ns.matches_resource("HTTPRoute", "other", "ha"));
    assert!(!any_ns.matches_resource("HelmRelease", "other", "ha"));
    assert!(home.matches_resource("HTTPRoute", "home", "z2m"));
    assert!(!home.matches_resource("HTTPRoute", "media", "z2m"));
    assert!(wildcard.matches_hostname("a.ws.example.com"));
    assert!(wildcard.matches_hostname("A.WS.example.com."));
    assert!(!wildcard.matches_hostname("ws.example.com"));
    assert!(!wildcard.matches_hostname("a.b.ws.example.com"));
    assert!(wildcard.matches_hostname("*.ws.example.com"));
}

#[test]
fn bad_apps() {
    assert_error(
        "apps:\n  - id: x\n    name: X\n",
        2,
        9,
        "needs at least one of `images`, `charts` or `kinds`",
    );
    assert_error(
        "apps:\n  - id: x\n    name: X\n    images: [ghcr.io/x/x]\n    probe-path: ws\n",
        5,
        17,
        "must start with `/`",
    );
    assert_error(
        "apps:\n  - id: x\n    name: X\n    images: [ghcr.io/x/x:1.0]\n",
        4,
        14,
        "without a tag or digest",
    );
    assert_error(
        "apps:\n  - id: x\n    name: X\n    images: [a/b]\n  - id: x\n    name: Y\n    charts: [y]\n",
        5,
        9,
        "duplicate app `x`",
    );
    assert_error(
        "apps:\n  - id: x\n    name: X\n    image: [a/b]\n",
        4,
        5,
        "did you mean `images`?",
    );
    let c = parse("apps:\n  - id: x\n    name: X\n    charts: [x]\n");
    assert_eq!(c.apps[0].probe_path, "/");
    assert_eq!(c.apps[0].port, None);
}

#[test]
fn duplicate_keys_are_errors() {
    assert_error(
        "paused: true\npaused: false\n",
        2,
        1,
        "duplicate key `paused`",
    );
    assert_error(
        "rules:\n  stream-limits: {enabled: false}\n  stream-limits: {enabled: true}\n",
        3,
        3,
        "duplicate",
    );
}

#[test]
fn syntax_errors_have_positions() {
    let err = RepoConfig::parse(FILE, "rules:\n  - [\n").expect_err("bad YAML");
    assert!(err.to_string().starts_with(&format!("{FILE}:")), "{err}");
    assert_error(
        "version: 1\n---\nversion: 1\n",
        3,
        1,
        "expected one YAML document",
    );
}

#[test]
fn crlf_and_bom_are_fine() {
    let c = parse("\u{feff}version: 1\r\nfail-on: notice\r\n");
    assert_eq!(c.fail_on, Severity::Notice);
}

// ---- discovery ---------------------------------------------------------------------------

#[test]
fn discover_none_one_and_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let (path, c) = RepoConfig::discover(root).expect("no config");
    assert_eq!((path, c), (None, RepoConfig::default()));

    fs::write(root.join(".ws-fix.yml"), "paused: true\n").expect("write");
    let (path, c) = RepoConfig::discover(root).expect("one config");
    assert_eq!(path.as_deref(), Some(".ws-fix.yml"));
    assert!(c.paused);

    fs::create_dir(root.join(".github")).expect("mkdir");
    fs::write(root.join(".github/ws-fix.yml"), "mode: report\n").expect("write");
    let err = RepoConfig::discover(root).expect_err("two configs");
    assert!(matches!(err, ConfigError::BothPresent { .. }));
    let shown = err.to_string();
    assert!(
        shown.contains(".github/ws-fix.yml") && shown.contains(".ws-fix.yml"),
        "{shown}"
    );

    fs::remove_file(root.join(".ws-fix.yml")).expect("rm");
    let (path, c) = RepoConfig::discover(root).expect("one config");
    assert_eq!(path.as_deref(), Some(".github/ws-fix.yml"));
    assert_eq!(c.mode, Mode::Report);
}

#[test]
fn discover_reports_errors_with_the_repo_relative_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join(".github")).expect("mkdir");
    fs::write(
        dir.path().join(".github/ws-fix.yml"),
        "version: 1\n\nfixes:\n  bakend: {}\n",
    )
    .expect("write");
    let err = RepoConfig::discover(dir.path()).expect_err("bad config");
    assert_eq!(
        err.to_string(),
        ".github/ws-fix.yml:4:3: unknown fix kind `bakend` (did you mean `backend`?)"
    );
}

#[test]
fn discover_with_a_reader() {
    let files = [(".ws-fix.yml", "fail-on: notice\n")];
    let read = |p: &str| {
        files
            .iter()
            .find(|(f, _)| *f == p)
            .map(|(_, t)| (*t).to_owned())
    };
    let (path, c) = RepoConfig::discover_with(read).expect("config");
    assert_eq!(path.as_deref(), Some(".ws-fix.yml"));
    assert_eq!(c.fail_on, Severity::Notice);

    let both = |_: &str| Some(String::new());
    assert!(matches!(
        RepoConfig::discover_with(both),
        Err(ConfigError::BothPresent { .. })
    ));
}
