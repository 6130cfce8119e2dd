//! Every implemented rule on its fixture repos under `tests/fixtures/rules/<rule>/`: it fires
//! in `fires/` at the deciding setting and stays quiet in `quiet/`.

use std::path::PathBuf;

use ws_fix::catalogue::{Cause, RuleId, Severity};
use ws_fix::findings::Finding;
use ws_fix::load::{DEFAULT_MAX_FILE_SIZE, Loaded};
use ws_fix::workspace::Workspace;
use ws_fix::yaml::Span;

struct Scanned {
    loaded: Loaded,
    findings: Vec<Finding>,
}

impl Scanned {
    fn of(&self, rule: RuleId) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// `path:line` and the text of a span.
    fn at(&self, span: Span) -> (String, u32, &str) {
        let (file, lc) = self.loaded.locate(span).expect("span in a file");
        (file.path.clone(), lc.line, span.slice(&file.text))
    }
}

fn scan(rule: &str, case: &str) -> Scanned {
    let dir: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/rules",
        rule,
        case,
    ]
    .iter()
    .collect();
    let ws = Workspace::open(&dir, None).expect("open fixture");
    let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).expect("load");
    let result = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config);
    Scanned {
        loaded,
        findings: result.findings,
    }
}

/// The one finding of `rule` in `<rule>/fires`, with nothing of that rule in `<rule>/quiet`.
fn fires_once(rule: RuleId) -> (Scanned, Finding) {
    let quiet = scan(rule.as_str(), "quiet");
    assert!(
        quiet.of(rule).is_empty(),
        "{rule} fired in quiet: {:?}",
        quiet.of(rule)
    );
    let fires = scan(rule.as_str(), "fires");
    let found = fires.of(rule);
    assert_eq!(found.len(), 1, "{rule}: {:?}", fires.findings);
    let f = found[0].clone();
    assert!(f.ignored.is_none());
    assert_eq!(f.entry_points, ["all manifests"]);
    (fires, f)
}

#[test]
fn alpn_h2_first() {
    let (s, f) = fires_once(RuleId::AlpnH2First);
    assert_eq!(f.severity, Severity::Warning);
    let (path, line, text) = s.at(f.location);
    assert_eq!((path.as_str(), line), ("ctp.yaml", 13));
    assert!(text.starts_with("- h2"), "{text}");
    assert_eq!(f.related.len(), 1);
    assert_eq!(f.related[0].message, "HTTPRoute apps/app: app.example.com");
    assert_eq!(s.at(f.related[0].span.unwrap()).0, "route.yaml");
    assert_eq!(f.version.version, "1.9.0");
    assert_eq!(f.version.source, "pinned");
}

#[test]
fn alpn_h2_first_honours_the_ignore_annotation() {
    let s = scan("alpn-h2-first", "ignored");
    let found = s.of(RuleId::AlpnH2First);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].ignored.as_deref(),
        Some("gRPC clients need h2 first")
    );
    assert!(!found[0].reaches(Severity::Notice));
}

#[test]
fn upgrade_disabled() {
    let (s, f) = fires_once(RuleId::UpgradeDisabled);
    assert_eq!(f.severity, Severity::Error);
    let (path, _, text) = s.at(f.location);
    assert_eq!(path, "btp.yaml");
    assert!(text.contains("spdy/3.1"), "{text}");
    assert!(f.related[0].message.starts_with("HTTPRoute apps/app"));
}

#[test]
fn upstream_h2() {
    let (s, f) = fires_once(RuleId::UpstreamH2);
    assert_eq!(f.cause, Some(Cause::H2c));
    assert_eq!(f.severity, Severity::Error);
    let (path, _, text) = s.at(f.location);
    assert_eq!((path.as_str(), text), ("service.yaml", "kubernetes.io/h2c"));
}

#[test]
fn backend_api_disabled() {
    let (s, f) = fires_once(RuleId::BackendApiDisabled);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.cause, None);
    let (path, _, text) = s.at(f.location);
    assert_eq!((path.as_str(), text), ("envoy-gateway.yaml", "false"));
}

#[test]
fn backend_api_disabled_is_a_notice_without_the_install() {
    let s = scan("backend-api-disabled", "no-install");
    let found = s.of(RuleId::BackendApiDisabled);
    assert_eq!(found.len(), 1, "{:?}", s.findings);
    assert_eq!(found[0].cause, Some(Cause::InstallNotInRepo));
    assert_eq!(found[0].severity, Severity::Notice);
    assert_eq!(s.at(found[0].location).0, "route.yaml");
}

#[test]
fn ws_protocol_ignored() {
    let (s, f) = fires_once(RuleId::WsProtocolIgnored);
    assert_eq!(f.severity, Severity::Warning);
    let (path, _, text) = s.at(f.location);
    assert_eq!((path.as_str(), text), ("service.yaml", "kubernetes.io/ws"));
    assert_eq!(f.version.version, "1.7.2");
}

#[test]
fn wss_without_tls() {
    let (s, f) = fires_once(RuleId::WssWithoutTls);
    assert_eq!(f.severity, Severity::Notice);
    let (path, _, text) = s.at(f.location);
    assert_eq!((path.as_str(), text), ("service.yaml", "kubernetes.io/wss"));
}

#[test]
fn stream_limits() {
    let (s, f) = fires_once(RuleId::StreamLimits);
    assert_eq!(f.severity, Severity::Notice);
    assert_eq!(f.cause, None);
    let (path, _, text) = s.at(f.location);
    assert_eq!((path.as_str(), text), ("btp.yaml", "1h30m"));
    assert!(f.message.contains("maxStreamDuration"), "{}", f.message);
    assert_eq!(f.related.len(), 1);
    assert_eq!(f.related[0].message, "HTTPRoute apps/app: app.example.com");
}

#[test]
fn stream_limits_fires_for_a_short_stream_idle_timeout() {
    let s = scan("stream-limits", "idle");
    let found = s.of(RuleId::StreamLimits);
    assert_eq!(found.len(), 1, "{:?}", s.findings);
    let (path, _, text) = s.at(found[0].location);
    assert_eq!((path.as_str(), text), ("ctp.yaml", "1m"));
    assert!(found[0].message.contains("streamIdleTimeout"));
}

#[test]
fn stream_limits_quiet_when_a_request_timeout_sets_the_route_idle_timeout() {
    // Before 1.8 the route idle timeout derived from `timeouts.request` (max(1h, 30s))
    // overrides the listener's 1m stream idle timeout.
    let s = scan("stream-limits", "masked");
    assert!(s.of(RuleId::StreamLimits).is_empty(), "{:?}", s.findings);
}

#[test]
fn policy_conflict() {
    let (s, f) = fires_once(RuleId::PolicyConflict);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.related.len(), 1);
    let files = [s.at(f.location).0, s.at(f.related[0].span.unwrap()).0];
    assert_eq!(files, ["ctp-other.yaml", "ctp.yaml"]);
}

#[test]
fn unresolved_ref() {
    let (s, f) = fires_once(RuleId::UnresolvedRef);
    assert_eq!(f.severity, Severity::Notice);
    assert_eq!(s.at(f.location).0, "route.yaml");
    assert!(f.message.contains("Gateway net/elsewhere"), "{}", f.message);
}

#[test]
fn quiet_fixtures_have_no_findings_at_all() {
    for rule in ws_fix::rules::implemented() {
        let s = scan(rule.as_str(), "quiet");
        assert!(s.findings.is_empty(), "{rule}: {:?}", s.findings);
    }
}

#[test]
fn rules_switched_off_in_the_config_do_not_run() {
    let dir: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/rules/alpn-h2-first/fires",
    ]
    .iter()
    .collect();
    let mut ws = Workspace::open(&dir, None).unwrap();
    let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).unwrap();
    ws.config
        .rules
        .entry(RuleId::AlpnH2First)
        .or_default()
        .severity = Some(Severity::Error);
    let f = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config).findings;
    assert_eq!(f[0].severity, Severity::Error);
    ws.config
        .rules
        .entry(RuleId::AlpnH2First)
        .or_default()
        .enabled = Some(false);
    assert!(
        ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config)
            .findings
            .is_empty()
    );
}

/// Every rule of the catalogue has a fixture that makes it fire and one that keeps it quiet.
#[test]
fn every_catalogued_rule_has_fires_and_quiet_fixtures() {
    let catalogue = ws_fix::catalogue::Catalogue::embedded().unwrap();
    for rule in catalogue.rules() {
        let id = rule.id.as_str();
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/rules")
            .join(id);
        assert!(base.join("fires").is_dir(), "{id} has no fires fixture");
        assert!(base.join("quiet").is_dir(), "{id} has no quiet fixture");
        let s = scan(id, "fires");
        assert!(
            !s.of(rule.id).is_empty(),
            "{id}: the fires fixture does not fire"
        );
    }
}
