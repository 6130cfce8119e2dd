//! Route rules in Envoy Gateway's view: BackendTrafficPolicy precedence and merging, the
//! upgrade types, `requestBuffer`, `http1.ignoredUpgradeTypes`, ws/wss forcing HTTP/1.1
//! upstream by version, `useClientProtocol`, and upstream HTTP/2.

use crate::eg_support as support;

use support::{build, gateway, http, route, service};
use ws_fix::model::eg::{BackendState, UpstreamH2Cause, Why};

const L: &str = "net/gw/http";

fn btp(name: &str, ns: &str, target: &str, body: &str) -> String {
    format!(
        "apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata:
  name: {name}
  namespace: {ns}
spec:
{target}{body}"
    )
}

fn to_gateway() -> &'static str {
    "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: Gateway\n      name: gw\n"
}

fn to_route(section: Option<&str>) -> String {
    let s = section
        .map(|s| format!("      sectionName: {s}\n"))
        .unwrap_or_default();
    format!(
        "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: HTTPRoute\n      name: app\n{s}"
    )
}

/// A Gateway with one HTTP listener, an HTTPRoute `apps/app` to Service `apps/app:80`.
fn base(app_protocol: Option<&str>) -> Vec<(&'static str, String)> {
    vec![
        ("gw.yaml", gateway(&http("http", 80))),
        ("route.yaml", route("app", "app", 80)),
        ("svc.yaml", service("app", 80, app_protocol)),
    ]
}

fn refs<'f>(files: &'f [(&'static str, String)]) -> Vec<(&'static str, &'f str)> {
    files.iter().map(|(a, b)| (*a, b.as_str())).collect()
}

#[test]
fn websocket_is_on_by_default() {
    let files = base(None);
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["websocket"]);
    assert_eq!(on.upgrade.why, Why::Default);
    assert!(on.websocket.value);
    assert!(!on.force_http1_upstream.value);
    assert!(on.traffic_policy.is_none());
}

#[test]
fn http_upgrade_replaces_the_default_list() {
    let mut files = base(None);
    files.push((
        "p.yaml",
        btp(
            "gw",
            "net",
            to_gateway(),
            "  httpUpgrade:\n    - type: spdy/3.1\n",
        ),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["spdy/3.1"]);
    assert_eq!(on.upgrade.why, Why::Set);
    assert!(b.text(on.upgrade.span).starts_with("- type: spdy/3.1"));
    assert!(!on.websocket.value);
    // Before 1.4 the field does not exist.
    let old = build(&refs(&files), "1.3.0");
    assert_eq!(old.on("app", 0, L).upgrade.value, ["websocket"]);
}

#[test]
fn the_most_specific_policy_wins_without_merge() {
    let mut files = base(None);
    files.push((
        "gw.p.yaml",
        btp(
            "gw",
            "net",
            to_gateway(),
            "  httpUpgrade:\n    - type: spdy/3.1\n",
        ),
    ));
    files.push((
        "route.p.yaml",
        btp(
            "route",
            "apps",
            &to_route(None),
            "  timeout:\n    http:\n      requestTimeout: 5s\n",
        ),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    // The route policy replaces the Gateway's: its (absent) httpUpgrade means the default.
    assert_eq!(on.traffic_policy.as_ref().unwrap().name, "route");
    assert_eq!(on.upgrade.value, ["websocket"]);
    assert_eq!(on.upgrade.why, Why::Default);
    assert_eq!(b.text(on.upgrade.span), "spec");
}

#[test]
fn merge_types_combine_route_and_gateway_lists() {
    let gw = btp(
        "gw",
        "net",
        to_gateway(),
        "  httpUpgrade:\n    - type: websocket\n    - type: CONNECT\n",
    );
    let strategic = btp(
        "route",
        "apps",
        &to_route(None),
        "  mergeType: StrategicMerge\n  httpUpgrade:\n    - type: spdy/3.1\n    - type: WebSocket\n",
    );
    let mut files = base(None);
    files.push(("gw.p.yaml", gw.clone()));
    files.push(("route.p.yaml", strategic.clone()));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["spdy/3.1", "WebSocket", "CONNECT"]);
    assert_eq!(on.upgrade.why, Why::Merged);
    assert!(on.websocket.value);

    let json = strategic.replace("StrategicMerge", "JSONMerge");
    files.pop();
    files.push(("route.p.yaml", json));
    let b = build(&refs(&files), "1.9.0");
    assert_eq!(b.on("app", 0, L).upgrade.value, ["spdy/3.1", "WebSocket"]);

    // A merging route policy without a list keeps the Gateway's.
    files.pop();
    files.push((
        "route.p.yaml",
        btp(
            "route",
            "apps",
            &to_route(None),
            "  mergeType: StrategicMerge\n  useClientProtocol: true\n",
        ),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["websocket", "CONNECT"]);
    assert!(on.use_client_protocol);
}

#[test]
fn a_rule_section_policy_beats_the_route_policy() {
    let mut files = base(None);
    files.push((
        "route.p.yaml",
        btp(
            "route",
            "apps",
            &to_route(None),
            "  httpUpgrade:\n    - type: spdy/3.1\n",
        ),
    ));
    files.push((
        "rule.p.yaml",
        btp(
            "rule",
            "apps",
            &to_route(Some("main")),
            "  httpUpgrade:\n    - type: websocket\n",
        ),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.traffic_policy.as_ref().unwrap().name, "rule");
    assert_eq!(on.upgrade.value, ["websocket"]);
    // Before 1.6 CEL refuses sectionName: the section policy does not exist.
    let old = build(&refs(&files), "1.5.0");
    assert_eq!(old.on("app", 0, L).upgrade.value, ["spdy/3.1"]);
    assert!(
        old.model
            .policies
            .iter()
            .any(|p| p.key.name == "rule" && p.rejected.is_some())
    );
}

#[test]
fn btp_conflicts_are_recorded() {
    let mut files = base(None);
    files.push((
        "a.yaml",
        btp(
            "a",
            "net",
            to_gateway(),
            "  httpUpgrade:\n    - type: spdy/3.1\n",
        ),
    ));
    files.push((
        "b.yaml",
        btp("b", "net", to_gateway(), "  useClientProtocol: true\n"),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.traffic_policy.as_ref().unwrap().name, "a");
    assert!(on.upgrade.ambiguous);
    assert_eq!(b.model.conflicts.len(), 1);
    assert_eq!(b.model.conflicts[0].losers[0].name, "b");
}

#[test]
fn request_buffer_drops_the_upgrade_from_1_8_and_hangs_before() {
    let mut files = base(None);
    files.push((
        "p.yaml",
        btp(
            "gw",
            "net",
            to_gateway(),
            "  requestBuffer:\n    limit: 4Mi\n",
        ),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert!(on.upgrade.value.is_empty());
    assert_eq!(on.upgrade.why, Why::RequestBuffer);
    assert_eq!(b.text(on.upgrade.span), "requestBuffer");
    assert!(!on.websocket.value);

    let old = build(&refs(&files), "1.7.0");
    let on = old.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["websocket"]);
    assert!(!on.websocket.value);
    assert_eq!(on.websocket.why, Why::RequestBuffer);
}

#[test]
fn ignored_upgrade_types_strip_websocket_on_the_listener() {
    let mut files = base(None);
    files.push((
        "ctp.yaml",
        "apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata:
  name: strip
  namespace: net
spec:
  targetRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: gw
  http1:
    ignoredUpgradeTypes:
      - type: RegularExpression
        value: \"web.*\"
"
        .to_owned(),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert_eq!(on.upgrade.value, ["websocket"]);
    assert!(!on.websocket.value);
    assert_eq!(on.websocket.resource.as_ref().unwrap().name, "strip");
    assert!(b.text(on.websocket.span).contains("web.*"));
    // The field exists from 1.8.
    assert!(
        build(&refs(&files), "1.7.5")
            .on("app", 0, L)
            .websocket
            .value
    );
}

#[test]
fn service_ws_forces_http1_only_on_versions_that_honour_it() {
    let files = base(Some("kubernetes.io/ws"));
    for (version, forced) in [
        ("1.7.3", false),
        ("1.7.4", true),
        ("1.8.0", false),
        ("1.8.1", true),
        ("1.9.0", true),
    ] {
        let b = build(&refs(&files), version);
        let on = b.on("app", 0, L);
        assert_eq!(on.force_http1_upstream.value, forced, "{version}");
        let want = if forced {
            Why::AppProtocol
        } else {
            Why::IgnoredByVersion
        };
        assert_eq!(on.force_http1_upstream.why, want, "{version}");
        assert_eq!(b.text(on.force_http1_upstream.span), "kubernetes.io/ws");
    }
}

fn backend_files(protocol: &str, enable: bool) -> Vec<(&'static str, String)> {
    vec![
        ("gw.yaml", gateway(&http("http", 80))),
        (
            "eg.yaml",
            format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: envoy-gateway
  namespace: eg
spec:
  chart:
    spec:
      chart: gateway-helm
      version: v1.9.0
  values:
    config:
      envoyGateway:
        extensionApis:
          enableBackend: {enable}
"
            ),
        ),
        (
            "route.yaml",
            "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app
  namespace: apps
spec:
  parentRefs:
    - {name: gw, namespace: net}
  rules:
    - backendRefs:
        - group: gateway.envoyproxy.io
          kind: Backend
          name: app
"
            .to_owned(),
        ),
        (
            "backend.yaml",
            format!(
                "apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata:
  name: app
  namespace: apps
spec:
  appProtocols: [{protocol}]
  endpoints:
    - fqdn: {{hostname: app.example.com, port: 443}}
  tls:
    sni: app.example.com
"
            ),
        ),
    ]
}

#[test]
fn backend_ws_forces_http1_from_1_7_3() {
    let files = backend_files("gateway.envoyproxy.io/ws", true);
    assert!(
        !build(&refs(&files), "1.7.2")
            .on("app", 0, L)
            .force_http1_upstream
            .value
    );
    assert!(
        build(&refs(&files), "1.7.3")
            .on("app", 0, L)
            .force_http1_upstream
            .value
    );
    assert!(
        build(&refs(&files), "1.8.0")
            .on("app", 0, L)
            .force_http1_upstream
            .value
    );
    let b = build(&refs(&files), "");
    assert_eq!(b.model.version.version, "1.9.0");
    assert_eq!(
        b.route("app").rules[0].backends[0].state,
        BackendState::Found
    );
    assert!(b.on("app", 0, L).upstream_h2.is_empty());
}

#[test]
fn a_backend_while_the_api_is_off_is_flagged() {
    let files = backend_files("gateway.envoyproxy.io/ws", false);
    let b = build(&refs(&files), "");
    assert!(!b.model.install.enable_backend.value);
    assert_eq!(b.text(b.model.install.enable_backend.span), "false");
    assert_eq!(
        b.route("app").rules[0].backends[0].state,
        BackendState::BackendApiDisabled
    );
}

#[test]
fn tls_backends_negotiate_h2_from_1_6_unless_forced() {
    let files = backend_files("gateway.envoyproxy.io/h2c", true);
    let b = build(&refs(&files), "1.9.0");
    let h2 = &b.on("app", 0, L).upstream_h2;
    assert_eq!(h2.len(), 1);
    assert_eq!(h2[0].cause, UpstreamH2Cause::H2c);

    // A plain TLS backend: ALPN negotiation from 1.6.
    let mut files = backend_files("gateway.envoyproxy.io/h2c", true);
    files[3].1 = files[3]
        .1
        .replace("  appProtocols: [gateway.envoyproxy.io/h2c]\n", "");
    let on16 = build(&refs(&files), "1.6.0");
    assert_eq!(
        on16.on("app", 0, L).upstream_h2[0].cause,
        UpstreamH2Cause::TlsAlpnAuto
    );
    assert!(
        build(&refs(&files), "1.5.0")
            .on("app", 0, L)
            .upstream_h2
            .is_empty()
    );
    // A Backend TLS ALPN without h2 keeps HTTP/1.1.
    files[3].1 = files[3].1.replace(
        "    sni: app.example.com\n",
        "    sni: app.example.com\n    alpnProtocols: [http/1.1]\n",
    );
    assert!(
        build(&refs(&files), "1.9.0")
            .on("app", 0, L)
            .upstream_h2
            .is_empty()
    );
}

#[test]
fn use_client_protocol_keeps_websockets_on_http1() {
    let mut files = base(Some("kubernetes.io/h2c"));
    let b = build(&refs(&files), "1.9.0");
    assert_eq!(b.on("app", 0, L).upstream_h2[0].cause, UpstreamH2Cause::H2c);
    files.push((
        "p.yaml",
        btp("gw", "net", to_gateway(), "  useClientProtocol: true\n"),
    ));
    let b = build(&refs(&files), "1.9.0");
    let on = b.on("app", 0, L);
    assert!(on.use_client_protocol);
    assert!(on.upstream_h2.is_empty());

    // ws + useClientProtocol: not forced (useClientProtocol comes first in Envoy Gateway).
    let mut files = base(Some("kubernetes.io/ws"));
    files.push((
        "p.yaml",
        btp("gw", "net", to_gateway(), "  useClientProtocol: true\n"),
    ));
    let b = build(&refs(&files), "1.9.0");
    let f = &b.on("app", 0, L).force_http1_upstream;
    assert!(!f.value);
    assert_eq!(f.why, Why::UseClientProtocol);
    assert_eq!(b.text(f.span), "true");
}

#[test]
fn tls_services_via_backend_tls_policy() {
    let mut files = base(None);
    files.push((
        "btls.yaml",
        "apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata:
  name: app-tls
  namespace: apps
spec:
  targetRefs:
    - group: \"\"
      kind: Service
      name: app
  validation:
    hostname: app.example.com
    wellKnownCACertificates: System
"
        .to_owned(),
    ));
    let b = build(&refs(&files), "1.9.0");
    let backend = &b.route("app").rules[0].backends[0];
    assert_eq!(
        backend
            .tls
            .as_ref()
            .unwrap()
            .resource
            .as_ref()
            .unwrap()
            .name,
        "app-tls"
    );
    assert_eq!(
        b.on("app", 0, L).upstream_h2[0].cause,
        UpstreamH2Cause::TlsAlpnAuto
    );
    // ws on the Service forces HTTP/1.1, so no h2.
    files[2].1 = service("app", 80, Some("kubernetes.io/wss"));
    assert!(
        build(&refs(&files), "1.9.0")
            .on("app", 0, L)
            .upstream_h2
            .is_empty()
    );
}

#[test]
fn grpc_routes_have_no_upgrades() {
    let files = [
        ("gw.yaml", gateway(&http("http", 80))),
        (
            "grpc.yaml",
            route("rpc", "app", 80).replace("kind: HTTPRoute", "kind: GRPCRoute"),
        ),
    ];
    let b = build(&refs(&files), "1.9.0");
    assert!(b.on("rpc", 0, L).upgrade.value.is_empty());
}

#[test]
fn cross_namespace_backends_need_a_reference_grant() {
    let files = [
        ("gw.yaml", gateway(&http("http", 80))),
        (
            "route.yaml",
            route("app", "app", 80).replace(
                "        - name: app\n",
                "        - name: app\n          namespace: other\n",
            ),
        ),
    ];
    let b = build(&refs(&files), "1.9.0");
    assert_eq!(
        b.route("app").rules[0].backends[0].state,
        BackendState::NotPermitted
    );
    assert!(
        b.model
            .unresolved
            .iter()
            .any(|u| u.to == "Service other/app")
    );
}
