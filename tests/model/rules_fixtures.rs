//! Every implemented rule on its fixture repos under `tests/fixtures/rules/<rule>/`: it fires
//! in `fires/` at the deciding setting and stays quiet in `quiet/`.

use std::path::PathBuf;

use ws_fix::catalogue::{Cause, RuleId, Severity};
use ws_fix::findings::Finding;
use ws_fix::load::{DEFAULT_MAX_FILE_SIZE, Loaded};
use ws_fix::model::eg::{Listener, Model, Why};
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
        (file.path.clone(), lc.line, span.slice(file.text()))
    }
}

/// Opens `tests/fixtures/rules/<rule>/<case>`, with the repo config's version pin replaced by
/// `version` when given.
fn open(rule: &str, case: &str, version: Option<&str>) -> (Workspace, Loaded) {
    let dir: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/rules",
        rule,
        case,
    ]
    .iter()
    .collect();
    let mut ws = Workspace::open(&dir, None).expect("open fixture");
    if let Some(v) = version {
        ws.config.envoy_gateway_version = Some(semver::Version::parse(v).unwrap());
    }
    let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).expect("load");
    (ws, loaded)
}

fn scan(rule: &str, case: &str) -> Scanned {
    scan_on(rule, case, None)
}

/// Scans a fixture as if Envoy Gateway `version` were deployed.
fn scan_at(rule: &str, case: &str, version: &str) -> Scanned {
    scan_on(rule, case, Some(version))
}

fn scan_on(rule: &str, case: &str, version: Option<&str>) -> Scanned {
    let (ws, loaded) = open(rule, case, version);
    let result = ws_fix::scan::scan(&loaded, &ws.catalogue, &ws.config);
    Scanned {
        loaded,
        findings: result.findings,
    }
}

/// The one model of a fixture (no entry points: all manifests).
fn model(rule: &str, case: &str) -> Model {
    let (ws, loaded) = open(rule, case, None);
    let (_, mut models) = ws_fix::model::build(&loaded, &ws.catalogue, &ws.config);
    assert_eq!(models.len(), 1);
    models.remove(0)
}

fn listener<'m>(m: &'m Model, key: &str) -> &'m Listener {
    m.listeners
        .iter()
        .find(|l| l.key == key)
        .unwrap_or_else(|| panic!("no listener {key}"))
}

/// `(rule, path, line, severity)` of every finding, to compare whole scans at once.
fn summary(s: &Scanned) -> Vec<(RuleId, String, u32, Severity)> {
    s.findings
        .iter()
        .map(|f| {
            let (path, line, _) = s.at(f.location);
            (f.rule, path, line, f.severity)
        })
        .collect()
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

/// Trap 11, first half: two HTTPS listeners on :443 (`*.example.com` and `app.example.com`)
/// whose cert-manager Certificates overlap. Envoy Gateway then offers `[http/1.1]` by itself
/// (from 1.4; hostnames count before 1.8, certificate SANs from 1.8), so there is nothing to
/// fix.
#[test]
fn alpn_h2_first_quiet_where_overlapping_certificates_make_eg_offer_http1_only() {
    for v in ["1.4.1", "1.7.4", "1.9.0"] {
        let s = scan_at("alpn-h2-first", "overlapping-certs", v);
        assert!(s.findings.is_empty(), "{v}: {:?}", s.findings);
    }
    let m = model("alpn-h2-first", "overlapping-certs");
    for key in ["net/gw/wildcard", "net/gw/app"] {
        let alpn = listener(&m, key).alpn.clone().unwrap();
        assert_eq!(alpn.value, ["http/1.1"], "{key}");
        assert_eq!(alpn.why, Why::OverlappingTls, "{key}");
    }
    // Before 1.4 Envoy Gateway did not look: the default [h2, http/1.1] applies, and the rule
    // points at each listener's `protocol: HTTPS`.
    let s = scan_at("alpn-h2-first", "overlapping-certs", "1.3.3");
    assert_eq!(
        summary(&s),
        [
            (
                RuleId::AlpnH2First,
                "gateway.yaml".into(),
                17,
                Severity::Warning
            ),
            (
                RuleId::AlpnH2First,
                "gateway.yaml".into(),
                28,
                Severity::Warning
            ),
        ]
    );
}

/// Trap 11, second half: an explicit ClientTrafficPolicy ALPN overrides the automatic
/// `[http/1.1]` of overlapping certificates from 1.4.1 (on 1.4.0 the automatic value won), so
/// `[h2, http/1.1]` there brings h2 back and the rule fires at the list.
#[test]
fn alpn_h2_first_fires_where_an_explicit_alpn_puts_h2_first_despite_overlapping_certificates() {
    for v in ["1.4.1", "1.5.0", "1.9.0"] {
        let s = scan_at("alpn-h2-first", "overlapping-certs-explicit-h2", v);
        assert_eq!(
            summary(&s),
            [(
                RuleId::AlpnH2First,
                "ctp.yaml".into(),
                13,
                Severity::Warning
            )],
            "{v}"
        );
        let f = &s.findings[0];
        assert!(
            f.message.starts_with("ALPN sets [h2, http/1.1]"),
            "{}",
            f.message
        );
        assert_eq!(f.related.len(), 1, "{v}: {:?}", f.related);
        assert_eq!(f.related[0].message, "HTTPRoute apps/app: app.example.com");
    }
    let s = scan_at("alpn-h2-first", "overlapping-certs-explicit-h2", "1.4.0");
    assert!(s.findings.is_empty(), "1.4.0: {:?}", s.findings);
}

/// `useClientProtocol: true` is the user's own working mitigation: the `quiet` fixture of
/// `upstream-h2` is exactly that case (an h2c Service port under a Gateway-wide
/// BackendTrafficPolicy with `useClientProtocol: true`), so it is not duplicated here.
#[test]
fn upstream_h2_quiet_fixture_is_the_use_client_protocol_case() {
    let m = model("upstream-h2", "quiet");
    let route = m.routes.iter().find(|r| r.key.name == "app").unwrap();
    let rule = &route.rules[0];
    assert_eq!(
        rule.backends[0].app_protocol.as_ref().unwrap().value,
        "kubernetes.io/h2c"
    );
    assert!(!rule.on_listeners.is_empty());
    for on in &rule.on_listeners {
        assert!(on.use_client_protocol, "{}", on.listener);
    }
    assert!(scan("upstream-h2", "quiet").findings.is_empty());
}

/// `requestBuffer` in the effective (Gateway-wide) BackendTrafficPolicy: from 1.8 the upgrade
/// is answered with 403, on 1.4 to 1.7 the WebSocket hangs. Same place, different why.
#[test]
fn upgrade_disabled_fires_for_request_buffer() {
    let expect = [(
        RuleId::UpgradeDisabled,
        "btp.yaml".into(),
        11,
        Severity::Error,
    )];
    for v in ["1.8.0", "1.9.0"] {
        let s = scan_at("upgrade-disabled", "request-buffer", v);
        assert_eq!(summary(&s), expect, "{v}");
        let (_, _, text) = s.at(s.findings[0].location);
        assert_eq!(text, "requestBuffer");
        let m = &s.findings[0].message;
        assert!(m.contains("403"), "{v}: {m}");
        assert!(!m.contains("hang"), "{v}: {m}");
    }
    for v in ["1.4.0", "1.7.2"] {
        let s = scan_at("upgrade-disabled", "request-buffer", v);
        assert_eq!(summary(&s), expect, "{v}");
        let m = &s.findings[0].message;
        assert!(m.contains("hang"), "{v}: {m}");
        assert!(!m.contains("403"), "{v}: {m}");
    }
}

/// A ClientTrafficPolicy `http1.ignoredUpgradeTypes` entry matching `websocket` (1.8+) strips
/// the Upgrade header; the field does not exist before 1.8.
#[test]
fn upgrade_disabled_fires_for_ignored_upgrade_types() {
    let s = scan("upgrade-disabled", "ignored-upgrade-types");
    assert_eq!(
        summary(&s),
        [(
            RuleId::UpgradeDisabled,
            "ctp.yaml".into(),
            17,
            Severity::Error
        )]
    );
    let (_, _, text) = s.at(s.findings[0].location);
    assert!(text.starts_with("type: Exact"), "{text}");
    assert!(
        s.findings[0]
            .message
            .contains("ignores the websocket upgrade"),
        "{}",
        s.findings[0].message
    );
    let s = scan_at("upgrade-disabled", "ignored-upgrade-types", "1.7.4");
    assert!(s.findings.is_empty(), "1.7.4: {:?}", s.findings);
}

/// Service `kubernetes.io/ws` is honoured from 1.7.4 on the 1.7 line and from 1.8.1 on the
/// 1.8 line: 1.7.3 and 1.8.0 ignore it.
#[test]
fn ws_protocol_ignored_for_a_service_port_by_version() {
    for v in ["1.7.3", "1.8.0"] {
        let s = scan_at("ws-protocol-ignored", "service-ws", v);
        assert_eq!(
            summary(&s),
            [(
                RuleId::WsProtocolIgnored,
                "service.yaml".into(),
                12,
                Severity::Warning
            )],
            "{v}"
        );
        assert_eq!(s.findings[0].version.version, v);
    }
    for v in ["1.7.4", "1.8.1"] {
        let s = scan_at("ws-protocol-ignored", "service-ws", v);
        assert!(s.findings.is_empty(), "{v}: {:?}", s.findings);
    }
}

/// Backend `gateway.envoyproxy.io/ws` is honoured from 1.7.3 (and all of 1.8): 1.7.2, read
/// from the install's chart version, ignores it.
#[test]
fn ws_protocol_ignored_for_a_backend_by_version() {
    let s = scan("ws-protocol-ignored", "backend-ws");
    assert_eq!(
        summary(&s),
        [(
            RuleId::WsProtocolIgnored,
            "backend.yaml".into(),
            8,
            Severity::Warning
        )]
    );
    let f = &s.findings[0];
    assert_eq!(s.at(f.location).2, "gateway.envoyproxy.io/ws");
    assert_eq!(
        (f.version.version.as_str(), f.version.source.as_str()),
        ("1.7.2", "detected")
    );
    for v in ["1.7.3", "1.8.0"] {
        let s = scan_at("ws-protocol-ignored", "backend-ws", v);
        assert!(s.findings.is_empty(), "{v}: {:?}", s.findings);
    }
}

/// Two Gateway-wide ClientTrafficPolicies without `creationTimestamp` that disagree on ALPN:
/// `policy-conflict` fires, and the listener's effective ALPN is marked ambiguous (so no
/// `alpn-order` fix may rely on it).
#[test]
fn policy_conflict_marks_the_effective_alpn_ambiguous() {
    let s = scan("policy-conflict", "ambiguous-alpn");
    let found = s.of(RuleId::PolicyConflict);
    assert_eq!(found.len(), 1, "{:?}", s.findings);
    let f = found[0];
    assert_eq!(f.severity, Severity::Warning);
    let (path, line, _) = s.at(f.location);
    // The first policy's target (in span order), the other one's as related.
    assert_eq!((path.as_str(), line), ("ctp-other.yaml", 8));
    // The value shown is Envoy Gateway's name-order pick (`client`: [http/1.1, h2]), so
    // `alpn-h2-first` stays quiet here even though `other` may be the older one in the cluster.
    assert_eq!(
        summary(&s),
        [(
            RuleId::PolicyConflict,
            "ctp-other.yaml".into(),
            8,
            Severity::Warning
        )]
    );
    assert_eq!(s.at(f.related[0].span.unwrap()).0, "ctp.yaml");
    let m = model("policy-conflict", "ambiguous-alpn");
    let alpn = listener(&m, "net/gw/https").alpn.clone().unwrap();
    assert!(alpn.ambiguous, "{alpn:?}");
    // The policies of the plain `fires` fixture agree, so the value there is not ambiguous.
    let m = model("policy-conflict", "fires");
    assert!(!listener(&m, "net/gw/https").alpn.clone().unwrap().ambiguous);
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
