//! The `rules/` catalogue: the embedded copy loads, broken copies are rejected with the right
//! file:line:column, lookups work, and the version gates agree with `reference/envoy-gateway.md`.

use std::fs;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use ws_fix::catalogue::{
    APPS_FILE, Catalogue, CatalogueError, Cause, FixKind, Gate, RULES_FILE, RuleId, Severity,
    VERSIONS_FILE,
};

fn embedded() -> Catalogue {
    match Catalogue::embedded() {
        Ok(c) => c,
        Err(e) => panic!("embedded catalogue does not load: {e}"),
    }
}

fn v(s: &str) -> Version {
    Version::parse(s).expect("test version")
}

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn original(name: &str) -> String {
    fs::read_to_string(rules_dir().join(name)).expect("read rules file")
}

/// 1-based line and column (in chars) of the first occurrence of `needle`, plus `offset` chars.
fn pos_of(text: &str, needle: &str, offset: usize) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..at].chars().count() + 1 + offset;
    (line, column)
}

/// Writes the three files to a temp dir, `name` replaced by `text`, and loads that copy.
fn load_with(name: &str, text: &str) -> (tempfile::TempDir, Result<Catalogue, CatalogueError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [RULES_FILE, APPS_FILE, VERSIONS_FILE] {
        let content = if f == name {
            text.to_owned()
        } else {
            original(f)
        };
        fs::write(dir.path().join(f), content).expect("write");
    }
    let result = Catalogue::load_dir(dir.path());
    (dir, result)
}

/// Replaces `from` by `to` in file `name` (which must contain it), loads, and checks the error:
/// it is at the position of `at` (+`offset` chars) in the edited text and its message contains
/// `message`.
fn assert_rejected(name: &str, from: &str, to: &str, at: &str, offset: usize, message: &str) {
    let text = original(name);
    assert!(text.contains(from), "`{from}` not in {name}");
    let edited = text.replacen(from, to, 1);
    let (dir, result) = load_with(name, &edited);
    let err = match result {
        Ok(_) => panic!("{name} with `{to}` was accepted"),
        Err(e) => e,
    };
    let (line, column) = pos_of(&edited, at, offset);
    let file = dir.path().join(name).display().to_string();
    let expected_prefix = format!("{file}:{line}:{column}: ");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&expected_prefix),
        "expected `{expected_prefix}...`, got `{shown}`"
    );
    assert!(shown.contains(message), "`{shown}` lacks `{message}`");
    match err {
        CatalogueError::Invalid {
            line: l, column: c, ..
        } => assert_eq!((l, c), (line as u64, column as u64)),
        other => panic!("not Invalid: {other:?}"),
    }
}

#[test]
fn embedded_catalogue_loads_complete() {
    let c = embedded();
    assert_eq!(c.rules().len(), 9);
    assert_eq!(c.fix_kinds().len(), 5);
    for id in RuleId::ALL {
        assert_eq!(c.rule(*id).id, *id);
        assert!(!c.rule(*id).docs.is_empty());
    }
    for kind in FixKind::ALL {
        assert_eq!(c.fix_kind(*kind).id, *kind);
        assert_eq!(c.fix_kind(*kind).branch, format!("ws-fix/{kind}"));
    }
    assert!(c.apps().count() >= 13);
    assert_eq!(c.newest_release(), &v("1.9.0"));
    assert_eq!(c.thresholds().stream_idle_threshold_seconds, 300);
}

#[test]
fn severities_follow_rules_md() {
    let c = embedded();
    let expected = [
        (RuleId::AlpnH2First, Severity::Warning),
        (RuleId::UpgradeDisabled, Severity::Error),
        (RuleId::UpstreamH2, Severity::Warning),
        (RuleId::BackendApiDisabled, Severity::Error),
        (RuleId::WsProtocolIgnored, Severity::Warning),
        (RuleId::WssWithoutTls, Severity::Notice),
        (RuleId::StreamLimits, Severity::Notice),
        (RuleId::PolicyConflict, Severity::Warning),
        (RuleId::UnresolvedRef, Severity::Notice),
    ];
    for (id, sev) in expected {
        assert_eq!(c.severity(id, None), sev, "{id}");
    }
    assert_eq!(
        c.severity(RuleId::UpstreamH2, Some(Cause::H2c)),
        Severity::Error
    );
    assert_eq!(
        c.severity(RuleId::UpstreamH2, Some(Cause::TlsAlpnAuto)),
        Severity::Warning
    );
    assert_eq!(
        c.severity(RuleId::BackendApiDisabled, Some(Cause::InstallNotInRepo)),
        Severity::Notice
    );
}

#[test]
fn fix_kinds_address_the_rules_of_rules_md() {
    let c = embedded();
    assert_eq!(c.rule(RuleId::AlpnH2First).fixes, [FixKind::AlpnOrder]);
    assert_eq!(
        c.rule(RuleId::UpgradeDisabled).fixes,
        [FixKind::HttpUpgrade]
    );
    assert_eq!(
        c.rule(RuleId::UpstreamH2).fixes,
        [FixKind::WsAppProtocol, FixKind::Backend]
    );
    assert_eq!(
        c.rule(RuleId::BackendApiDisabled).fixes,
        [FixKind::EnableBackend]
    );
}

#[test]
fn load_dir_of_the_shipped_files_equals_embedded() {
    let from_dir = Catalogue::load_dir(&rules_dir()).expect("rules/ loads");
    let emb = embedded();
    assert_eq!(from_dir.rules(), emb.rules());
    assert_eq!(from_dir.releases(), emb.releases());
    assert_eq!(from_dir.apps().count(), emb.apps().count());
}

#[test]
fn missing_dir_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Catalogue::load_dir(&dir.path().join("nope")).expect_err("must fail");
    assert!(matches!(err, CatalogueError::Io { .. }));
    assert!(err.to_string().contains("rules.yaml"), "{err}");
}

// ---- broken copies -----------------------------------------------------------------------

#[test]
fn wrong_type_is_rejected_at_the_value() {
    assert_rejected(APPS_FILE, "port: 8123", "port: [8123]", "[8123]", 0, "");
    assert_rejected(
        RULES_FILE,
        "severity: notice\n    explanation: >-\n      `kubernetes.io/wss`",
        "severity: fatal\n    explanation: >-\n      `kubernetes.io/wss`",
        "fatal",
        0,
        "unknown severity `fatal`",
    );
}

#[test]
fn unknown_key_is_rejected_at_the_key() {
    assert_rejected(
        APPS_FILE,
        "    probe-path: /api/websocket\n",
        "    probe-path: /api/websocket\n    colour: blue\n",
        "colour:",
        0,
        "unknown field `colour`",
    );
    assert_rejected(
        VERSIONS_FILE,
        "  stream-idle-threshold-seconds: 300",
        "  stream-idle-treshold-seconds: 300",
        "stream-idle-treshold",
        0,
        "did you mean `stream-idle-threshold-seconds`?",
    );
}

#[test]
fn duplicate_ids_are_rejected_at_the_second() {
    assert_rejected(
        APPS_FILE,
        "  - id: grafana\n",
        "  - id: home-assistant\n",
        "  - id: home-assistant\n    name: Grafana",
        8,
        "duplicate app `home-assistant`",
    );
    assert_rejected(
        RULES_FILE,
        "  - id: unresolved-ref",
        "  - id: policy-conflict",
        "  - id: policy-conflict\n    title: A reference",
        8,
        "duplicate rule `policy-conflict`",
    );
    assert_rejected(
        VERSIONS_FILE,
        "  - id: sds-disables-h2",
        "  - id: alpn-any-string",
        "  - id: alpn-any-string\n    description: Without",
        8,
        "duplicate gate `alpn-any-string`",
    );
}

#[test]
fn missing_rule_or_fix_kind_is_rejected() {
    let text = original(RULES_FILE);
    let start = text.find("  - id: stream-limits").expect("stream-limits");
    let end = text
        .find("  - id: policy-conflict")
        .expect("policy-conflict");
    let mut edited = text.clone();
    edited.replace_range(start..end, "");
    let (dir, result) = load_with(RULES_FILE, &edited);
    let err = result.expect_err("must fail").to_string();
    let (line, column) = pos_of(&edited, "  - id: alpn-h2-first", 2);
    let file = dir.path().join(RULES_FILE).display().to_string();
    assert_eq!(
        err,
        format!("{file}:{line}:{column}: missing rule `stream-limits`")
    );
}

#[test]
fn unknown_rule_id_is_rejected_with_a_suggestion() {
    assert_rejected(
        RULES_FILE,
        "  - id: wss-without-tls",
        "  - id: wss-without-tsl",
        "wss-without-tsl",
        0,
        "unknown rule id `wss-without-tsl` (did you mean `wss-without-tls`?)",
    );
}

#[test]
fn bad_semver_is_rejected() {
    assert_rejected(
        VERSIONS_FILE,
        "  - 1.9.0\n",
        "  - 1.9\n",
        "  - 1.9\n",
        4,
        "`1.9` is not a semver version",
    );
    assert_rejected(
        VERSIONS_FILE,
        "holds: [\">=1.8.0\"]\n  - id: ignored",
        "holds: [\"=>1.8.0\"]\n  - id: ignored",
        "\"=>1.8.0\"",
        0,
        "is not a semver range",
    );
    assert_rejected(
        VERSIONS_FILE,
        "  - 1.2.0\n  - 1.2.1\n",
        "  - 1.2.1\n  - 1.2.0\n",
        "  - 1.2.0\n  - 1.2.2",
        4,
        "ascending",
    );
    assert_rejected(
        VERSIONS_FILE,
        "holds: [\">=1.9.0\"]\n  - id: btp-targetrefs",
        "holds: [\">=2.0.0\"]\n  - id: btp-targetrefs",
        "\">=2.0.0\"",
        0,
        "matches no known release",
    );
}

#[test]
fn gates_are_checked_against_the_code() {
    assert_rejected(
        VERSIONS_FILE,
        "  - id: sds-disables-h2",
        "  - id: sds-disable-h2",
        "sds-disable-h2",
        0,
        "unknown gate `sds-disable-h2` (did you mean `sds-disables-h2`?)",
    );
    let text = original(VERSIONS_FILE);
    let start = text.find("  - id: sds-disables-h2").expect("gate");
    let end = text.find("  # --- Timeouts").expect("section");
    let mut edited = text.clone();
    edited.replace_range(start..end, "");
    let (_dir, result) = load_with(VERSIONS_FILE, &edited);
    let err = result.expect_err("must fail").to_string();
    assert!(err.ends_with("missing gate `sds-disables-h2`"), "{err}");
}

#[test]
fn probe_path_without_slash_is_rejected() {
    assert_rejected(
        APPS_FILE,
        "probe-path: /api/live/ws",
        "probe-path: api/live/ws",
        "api/live/ws",
        0,
        "must start with `/`",
    );
}

#[test]
fn image_with_tag_or_claimed_twice_is_rejected() {
    assert_rejected(
        APPS_FILE,
        "      - grafana/grafana-oss\n",
        "      - grafana/grafana-oss:11.0.0\n",
        "grafana/grafana-oss:11",
        0,
        "without a tag or digest",
    );
    assert_rejected(
        APPS_FILE,
        "      - grafana/grafana-oss\n",
        "      - docker.io/homeassistant/home-assistant\n",
        "      - docker.io/homeassistant/home-assistant",
        8,
        "already listed for app `home-assistant`",
    );
}

#[test]
fn one_sided_fix_links_and_wrong_branches_are_rejected() {
    assert_rejected(
        RULES_FILE,
        "    fixes: [enable-backend]\n\n  - id: ws-protocol-ignored",
        "    fixes: [enable-backend, backend]\n\n  - id: ws-protocol-ignored",
        "backend]\n\n  - id: ws-protocol-ignored",
        0,
        "does not list `backend-api-disabled`",
    );
    assert_rejected(
        RULES_FILE,
        "branch: ws-fix/enable-backend",
        "branch: ws-fix/enable",
        "ws-fix/enable\n",
        0,
        "must be `ws-fix/enable-backend`",
    );
}

#[test]
fn a_cause_of_another_rule_is_rejected() {
    assert_rejected(
        RULES_FILE,
        "      - id: install-not-in-repo",
        "      - id: h2c",
        "h2c\n        severity: notice",
        0,
        "belongs to rule `upstream-h2`",
    );
}

#[test]
fn empty_file_is_rejected_with_a_position() {
    let (dir, result) = load_with(APPS_FILE, "");
    let err = result.expect_err("must fail").to_string();
    let file = dir.path().join(APPS_FILE).display().to_string();
    assert!(err.starts_with(&format!("{file}:1:1: ")), "{err}");
}

// ---- lookups -----------------------------------------------------------------------------

#[test]
fn apps_by_image() {
    let c = embedded();
    let id = |image: &str| c.app_for_image(image).map(|a| a.id.as_str());
    assert_eq!(
        id("ghcr.io/home-operations/home-assistant:2025.5.3@sha256:abcd"),
        Some("home-assistant")
    );
    assert_eq!(
        id("homeassistant/home-assistant:stable"),
        Some("home-assistant")
    );
    assert_eq!(
        id("docker.io/homeassistant/home-assistant"),
        Some("home-assistant")
    );
    assert_eq!(
        id("index.docker.io/homeassistant/home-assistant:2024.1"),
        Some("home-assistant")
    );
    // A mirror that keeps the path, and a pull-through cache with a prefix.
    assert_eq!(
        id("registry.example.com/home-assistant/home-assistant:2025.1"),
        Some("home-assistant")
    );
    assert_eq!(
        id("harbor.example.com/ghcr/koenkk/zigbee2mqtt:2.1.0"),
        Some("zigbee2mqtt")
    );
    assert_eq!(id("docker.io/grafana/grafana:11.2.0"), Some("grafana"));
    assert_eq!(id("ghcr.io/n8n-io/n8n"), Some("n8n"));
    assert_eq!(id("docker.n8n.io/n8nio/n8n:1.80.0"), Some("n8n"));
    assert_eq!(
        id("ghcr.io/immich-app/immich-server:v1.130.0"),
        Some("immich")
    );
    assert_eq!(id("nginx:1.27"), None);
    assert_eq!(id(""), None);
    // `sonarr` must not match `sonarr-develop`-like paths by accident.
    assert_eq!(id("ghcr.io/home-operations/sonarr-develop"), None);
}

#[test]
fn apps_by_chart_and_kind() {
    let c = embedded();
    let chart = |name: &str| c.app_for_chart(name).map(|a| a.id.as_str());
    assert_eq!(chart("grafana"), Some("grafana"));
    assert_eq!(
        chart("oci://ghcr.io/grafana/helm-charts/grafana"),
        Some("grafana")
    );
    assert_eq!(chart("n8n"), Some("n8n"));
    assert_eq!(chart("code-server"), Some("code-server"));
    assert_eq!(chart("app-template"), None);
    let kind = c.app_for_kind("grafana.integreatly.org/v1beta1", "Grafana");
    assert_eq!(kind.map(|a| a.id.as_str()), Some("grafana"));
    assert!(
        c.app_for_kind("grafana.integreatly.org/v1beta1", "GrafanaDashboard")
            .is_none()
    );
    let ha = c.app("home-assistant").expect("home-assistant");
    assert_eq!(
        (ha.port, ha.probe_path.as_str()),
        (Some(8123), "/api/websocket")
    );
    assert_eq!(
        c.app("grafana").map(|a| a.probe_path.as_str()),
        Some("/api/live/ws")
    );
    assert_eq!(
        c.app("n8n").map(|a| a.probe_path.as_str()),
        Some("/rest/push")
    );
}

#[test]
fn every_catalogue_probe_path_is_absolute() {
    for app in embedded().apps() {
        assert!(app.probe_path.starts_with('/'), "{}", app.id);
        assert!(app.port.is_some(), "{}", app.id);
    }
}

// ---- versions ----------------------------------------------------------------------------

#[test]
fn gates_agree_with_envoy_gateway_md() {
    let c = embedded();
    let table: &[(Gate, &str, bool)] = &[
        // Service kubernetes.io/ws(s): 1.7.4, 1.8.1, 1.9.0; not 1.8.0 nor <=1.7.3.
        (Gate::ServiceWsAppProtocol, "1.7.3", false),
        (Gate::ServiceWsAppProtocol, "1.7.4", true),
        (Gate::ServiceWsAppProtocol, "1.7.5", true),
        (Gate::ServiceWsAppProtocol, "1.8.0", false),
        (Gate::ServiceWsAppProtocol, "1.8.1", true),
        (Gate::ServiceWsAppProtocol, "1.9.0", true),
        (Gate::ServiceWsAppProtocol, "1.6.8", false),
        // Backend ws/wss: 1.7.3 and 1.8.0 on.
        (Gate::BackendWsAppProtocol, "1.7.2", false),
        (Gate::BackendWsAppProtocol, "1.7.3", true),
        (Gate::BackendWsAppProtocol, "1.8.0", true),
        (Gate::BackendWsAppProtocol, "1.9.0", true),
        (Gate::BackendWsAppProtocol, "1.6.0", false),
        // Upstream ALPN auto-negotiation from 1.6.0.
        (Gate::UpstreamAlpnAuto, "1.5.9", false),
        (Gate::UpstreamAlpnAuto, "1.6.0", true),
        // Backend TLS alpnProtocols: [] disables from 1.7.5 / 1.8.2 / 1.9.0.
        (Gate::BackendTlsEmptyAlpnDisables, "1.7.4", false),
        (Gate::BackendTlsEmptyAlpnDisables, "1.7.5", true),
        (Gate::BackendTlsEmptyAlpnDisables, "1.8.1", false),
        (Gate::BackendTlsEmptyAlpnDisables, "1.8.2", true),
        (Gate::BackendTlsEmptyAlpnDisables, "1.9.0", true),
        // requestBuffer: hangs 1.4-1.7, 403 from 1.8.
        (Gate::RequestBufferHangsUpgrade, "1.3.3", false),
        (Gate::RequestBufferHangsUpgrade, "1.4.0", true),
        (Gate::RequestBufferHangsUpgrade, "1.7.5", true),
        (Gate::RequestBufferHangsUpgrade, "1.8.0", false),
        (Gate::RequestBufferBlocksUpgrade403, "1.7.5", false),
        (Gate::RequestBufferBlocksUpgrade403, "1.8.0", true),
        (Gate::HttpUpgradeField, "1.3.3", false),
        (Gate::HttpUpgradeField, "1.4.0", true),
        (Gate::IgnoredUpgradeTypes, "1.7.5", false),
        (Gate::IgnoredUpgradeTypes, "1.8.0", true),
        (Gate::BackendApi, "1.0.2", false),
        (Gate::BackendApi, "1.1.0", true),
        (Gate::CtpTargetrefs, "1.0.2", false),
        (Gate::CtpTargetrefs, "1.1.0", true),
        (Gate::BtpSectionName, "1.5.9", false),
        (Gate::BtpSectionName, "1.6.0", true),
        (Gate::BtpMergeType, "1.4.0", true),
        (Gate::MergeTypeRouteOnly, "1.8.3", false),
        (Gate::MergeTypeRouteOnly, "1.9.0", true),
        (Gate::Listenerset, "1.8.3", false),
        (Gate::Listenerset, "1.9.0", true),
        (Gate::AlpnAnyString, "1.5.9", false),
        (Gate::AlpnAnyString, "1.6.0", true),
        (Gate::AlpnEmptyDisables, "1.2.8", false),
        (Gate::AlpnEmptyDisables, "1.3.0", true),
        (Gate::OverlappingCertsHttp11, "1.3.3", false),
        (Gate::OverlappingCertsHttp11, "1.4.0", true),
        (Gate::ExplicitAlpnWinsOverOverlap, "1.4.0", false),
        (Gate::ExplicitAlpnWinsOverOverlap, "1.4.1", true),
        (Gate::ExplicitAlpnWinsOverOverlap, "1.5.0", true),
        (Gate::SdsDisablesH2, "1.8.3", false),
        (Gate::SdsDisablesH2, "1.9.0", true),
        (Gate::StreamIdleTimeoutField, "1.4.7", false),
        (Gate::StreamIdleTimeoutField, "1.5.0", true),
        (Gate::CtpMaxStreamDuration, "1.6.0", true),
        (Gate::BtpMaxStreamDuration, "1.5.9", false),
        (Gate::BtpStreamIdleTimeout, "1.8.0", true),
        (Gate::UrlRewriteWebsocket, "1.0.0", false),
        (Gate::UrlRewriteWebsocket, "1.0.1", true),
        // A pre-release is judged as its release; a future release keeps ">=" behaviours.
        (Gate::ServiceWsAppProtocol, "1.8.1-rc.1", true),
        (Gate::ServiceWsAppProtocol, "1.10.0", true),
    ];
    for (gate, version, holds) in table {
        assert_eq!(
            c.gate_holds(*gate, &v(version)),
            *holds,
            "{gate} on {version}"
        );
    }
}

#[test]
fn ranges_resolve_to_the_newest_known_release() {
    let c = embedded();
    let resolve = |r: &str| c.resolve_range(&VersionReq::parse(r).expect("range"));
    assert_eq!(resolve("~1.8"), Some(v("1.8.3")));
    assert_eq!(resolve("~1.7.0"), Some(v("1.7.5")));
    assert_eq!(resolve("^1"), Some(v("1.9.0")));
    assert_eq!(resolve(">=1.4.0, <1.5.0"), Some(v("1.4.7")));
    assert_eq!(resolve(">=2"), None);
    for needed in [
        "1.0.1", "1.4.1", "1.5.0", "1.7.3", "1.7.4", "1.7.5", "1.8.1", "1.8.2", "1.9.0",
    ] {
        assert!(c.releases().contains(&v(needed)), "{needed} missing");
    }
}

#[test]
fn gate_lookup_by_name() {
    let c = embedded();
    assert_eq!(
        c.gate_by_name("service-ws-app-protocol").map(|g| g.gate),
        Ok(Gate::ServiceWsAppProtocol)
    );
    let err = c.gate_by_name("service-ws").expect_err("unknown");
    assert_eq!(err.suggestion, Some("service-ws-app-protocol"));
    for gate in Gate::ALL {
        assert_eq!(gate.as_str().parse::<Gate>(), Ok(*gate));
        assert_eq!(c.gate(*gate).gate, *gate);
    }
}

#[test]
fn repo_apps_come_first_and_replace_by_id() {
    let c = embedded();
    let mut custom = c.app("grafana").expect("grafana").clone();
    custom.probe_path = "/custom/ws".to_owned();
    let c = c.with_repo_apps(&[custom]);
    assert_eq!(c.apps().filter(|a| a.id == "grafana").count(), 1);
    assert_eq!(
        c.app_for_image("grafana/grafana")
            .map(|a| a.probe_path.as_str()),
        Some("/custom/ws")
    );
}

#[test]
fn ids_parse_and_print() {
    assert_eq!("alpn-h2-first".parse::<RuleId>(), Ok(RuleId::AlpnH2First));
    assert_eq!(RuleId::UnresolvedRef.to_string(), "unresolved-ref");
    assert_eq!(FixKind::WsAppProtocol.branch(), "ws-fix/ws-app-protocol");
    assert_eq!(FixKind::from_unique_prefix("alpn"), Ok(FixKind::AlpnOrder));
    assert_eq!(
        FixKind::from_unique_prefix("ws"),
        Ok(FixKind::WsAppProtocol)
    );
    let err = "upstream".parse::<RuleId>().expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown rule id `upstream` (did you mean `upstream-h2`?)"
    );
    assert_eq!(Severity::Notice.sarif_level(), "note");
    assert_eq!(Severity::Error.annotation_level(), "failure");
}

proptest::proptest! {
    /// A tag or digest never changes which repository (and so which app) an image is.
    #[test]
    fn tags_and_digests_do_not_change_the_repository(
        host in proptest::option::of("[a-z]{1,8}\\.(io|com)(:[0-9]{2,4})?"),
        path in "[a-z0-9]{1,8}(/[a-z0-9._-]{1,8}){0,2}",
        tag in proptest::option::of("[A-Za-z0-9_.-]{1,12}"),
        digest in proptest::option::of("[0-9a-f]{8}"),
    ) {
        let repo = match &host {
            Some(h) => format!("{h}/{path}"),
            None => path.clone(),
        };
        let mut image = repo.clone();
        if let Some(t) = &tag {
            image.push(':');
            image.push_str(t);
        }
        if let Some(d) = &digest {
            image.push_str("@sha256:");
            image.push_str(d);
        }
        proptest::prop_assert_eq!(
            ws_fix::catalogue::ImageRepo::parse(&image),
            ws_fix::catalogue::ImageRepo::parse(&repo)
        );
    }
}
