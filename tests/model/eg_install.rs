//! The Envoy Gateway install in Envoy Gateway's view: the deployed version (HelmRelease,
//! OCIRepository tag / semver / digest, Argo CD, config pin), the Backend API flag, which
//! Gateways are Envoy Gateway's, and which routes serve a WebSocket app.

use crate::eg_support as support;

use support::{build, build_with, gateway, http, route, service};
use ws_fix::config::RepoConfig;
use ws_fix::model::eg::{Management, Options, VersionSource, WebSocketReason, Why};
use ws_fix::model::{AppliedSet, Origin, Resource, ResourceKey};
use ws_fix::yaml::{Limits, Span, parse_stream};

fn refs<'f>(files: &'f [(&'static str, String)]) -> Vec<(&'static str, &'f str)> {
    files.iter().map(|(a, b)| (*a, b.as_str())).collect()
}

fn helm_release(chart: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: envoy-gateway
  namespace: network
spec:
{chart}"
    )
}

fn oci(reference: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: envoy-gateway
  namespace: network
spec:
  url: oci://docker.io/envoyproxy/gateway-helm
  ref:
{reference}"
    )
}

const CHART_REF: &str = "  chartRef:\n    kind: OCIRepository\n    name: envoy-gateway\n";

#[test]
fn version_from_the_helm_chart() {
    let hr =
        helm_release("  chart:\n    spec:\n      chart: gateway-helm\n      version: v1.7.2\n");
    let b = build(&[("hr.yaml", &hr)], "");
    let v = &b.model.version;
    assert_eq!(v.version, "1.7.2");
    assert_eq!(v.source, VersionSource::HelmChartVersion);
    assert!(!v.assumed && !v.pinned());
    assert_eq!(b.text(v.span), "v1.7.2");
    assert!(b.model.install.in_repo);
}

#[test]
fn version_from_the_oci_repository() {
    let tag = build(
        &[
            ("hr.yaml", &helm_release(CHART_REF)),
            ("oci.yaml", &oci("    tag: 1.6.3\n")),
        ],
        "",
    );
    assert_eq!(tag.model.version.version, "1.6.3");
    assert_eq!(tag.model.version.source, VersionSource::OciTag);
    assert_eq!(
        tag.model.version.resource.as_ref().unwrap().kind,
        "OCIRepository"
    );

    let range = build(
        &[
            ("hr.yaml", &helm_release(CHART_REF)),
            ("oci.yaml", &oci("    semver: \"~1.8.0\"\n")),
        ],
        "",
    );
    assert_eq!(range.model.version.version, "1.8.3");
    assert_eq!(range.model.version.source, VersionSource::OciSemver);

    let digest = build(
        &[
            ("hr.yaml", &helm_release(CHART_REF)),
            ("oci.yaml", &oci("    digest: sha256:0123456789abcdef\n")),
        ],
        "",
    );
    let v = &digest.model.version;
    assert!(v.assumed);
    assert_eq!(v.source, VersionSource::Unknown);
    assert_eq!(v.version, support::catalogue().newest_release().to_string());
    assert!(digest.model.notes.iter().any(|n| n.contains("digest")));

    // The pin wins.
    let pinned = build(
        &[
            ("hr.yaml", &helm_release(CHART_REF)),
            ("oci.yaml", &oci("    tag: 1.6.3\n")),
        ],
        "1.8.1",
    );
    assert_eq!(pinned.model.version.version, "1.8.1");
    assert!(pinned.model.version.pinned());
}

#[test]
fn version_from_an_argo_application() {
    let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: envoy-gateway
  namespace: argocd
spec:
  source:
    repoURL: docker.io/envoyproxy
    chart: gateway-helm
    targetRevision: 1.5.1
    helm:
      valuesObject:
        config:
          envoyGateway:
            extensionApis:
              enableBackend: true
";
    let b = build(&[("app.yaml", app)], "");
    assert_eq!(b.model.version.version, "1.5.1");
    assert_eq!(b.model.version.source, VersionSource::ArgoTargetRevision);
    assert!(b.model.install.enable_backend.value);
}

#[test]
fn unknown_without_an_install() {
    let b = build(&[("gw.yaml", &gateway(&http("http", 80)))], "");
    assert!(b.model.version.assumed);
    assert!(!b.model.install.in_repo);
    assert_eq!(b.model.install.enable_backend.why, Why::Unknown);
}

#[test]
fn enable_backend_from_the_config_map() {
    let cm = "apiVersion: v1
kind: ConfigMap
metadata:
  name: envoy-gateway-config
  namespace: envoy-gateway-system
data:
  envoy-gateway.yaml: |
    apiVersion: gateway.envoyproxy.io/v1alpha1
    kind: EnvoyGateway
    extensionApis:
      enableBackend: true
    gateway:
      controllerName: example.com/eg
";
    let b = build(&[("cm.yaml", cm)], "");
    let i = &b.model.install;
    assert!(i.in_repo);
    assert!(i.enable_backend.value);
    assert_eq!(
        i.enable_backend.resource.as_ref().unwrap().kind,
        "ConfigMap"
    );
    assert!(b.text(i.enable_backend.span).starts_with('|'));
    assert_eq!(i.controller_name, "example.com/eg");
}

#[test]
fn enable_backend_defaults_off_and_values_from_hides_it() {
    let hr = helm_release("  chart:\n    spec:\n      chart: gateway-helm\n      version: 1.9.0\n");
    let b = build(&[("hr.yaml", &hr)], "");
    assert!(!b.model.install.enable_backend.value);
    assert_eq!(b.model.install.enable_backend.why, Why::Default);
    let hidden = format!("{hr}  valuesFrom:\n    - kind: ConfigMap\n      name: eg-values\n");
    let b = build(&[("hr.yaml", &hidden)], "");
    assert!(b.model.install.config_hidden);
    assert_eq!(b.model.install.enable_backend.why, Why::Unknown);
}

#[test]
fn other_implementations_are_recorded_not_modelled() {
    let cilium = "apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: cilium
spec:
  controllerName: io.cilium/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: net
spec:
  gatewayClassName: cilium
  listeners:
    - name: http
      protocol: HTTP
      port: 80
";
    let traefik = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: tr
  namespace: net
spec:
  gatewayClassName: traefik
  listeners:
    - {name: web, protocol: HTTP, port: 8000}
";
    let unknown_class = traefik
        .replace("name: tr", "name: mine")
        .replace("traefik", "internal");
    let b = build(
        &[
            ("gw.yaml", cilium),
            ("t.yaml", traefik),
            ("m.yaml", &unknown_class),
            ("route.yaml", &route("app", "app", 80)),
        ],
        "1.9.0",
    );
    let gw = b
        .model
        .gateways
        .iter()
        .find(|g| g.key.name == "gw")
        .unwrap();
    assert!(matches!(gw.management, Management::Other { .. }));
    assert!(gw.listeners.is_empty());
    let tr = b
        .model
        .gateways
        .iter()
        .find(|g| g.key.name == "tr")
        .unwrap();
    assert!(!tr.management.is_eg());
    let mine = b
        .model
        .gateways
        .iter()
        .find(|g| g.key.name == "mine")
        .unwrap();
    assert_eq!(mine.management, Management::AssumedEnvoyGateway);
    assert!(b.model.listeners.iter().all(|l| l.gateway.name == "mine"));
    let parent = &b.route("app").parents[0];
    assert!(parent.attached.is_empty());
    assert!(
        parent
            .not_attached
            .as_ref()
            .unwrap()
            .contains("another implementation")
    );
    assert!(b.model.unresolved.is_empty());
    assert!(b.model.facts()["listeners"].get("net/gw/http").is_none());
}

#[test]
fn a_missing_gateway_is_unresolved() {
    let b = build(&[("route.yaml", &route("app", "app", 80))], "1.9.0");
    assert_eq!(b.model.unresolved.len(), 1);
    assert_eq!(b.model.unresolved[0].to, "Gateway net/gw");
    assert_eq!(
        b.text(Some(b.model.unresolved[0].span)).lines().next(),
        Some("name: gw")
    );
}

#[test]
fn apps_are_found_through_service_workloads() {
    let deploy = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: hass
  namespace: apps
spec:
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
        - name: main
          image: ghcr.io/home-assistant/home-assistant:2025.1.0
";
    let files = [
        ("gw.yaml", gateway(&http("http", 80))),
        ("route.yaml", route("app", "app", 80)),
        ("svc.yaml", service("app", 80, None)),
        ("deploy.yaml", deploy.to_owned()),
    ];
    let b = build(&refs(&files), "1.9.0");
    let ws = b.route("app").websocket.as_ref().unwrap();
    assert_eq!(ws.app.as_deref(), Some("home-assistant"));
    assert_eq!(ws.probe_path.as_deref(), Some("/api/websocket"));
    assert!(matches!(ws.reason, WebSocketReason::Image { .. }));
    assert!(b.text(ws.span).contains("home-assistant"));
}

#[test]
fn apps_from_app_protocols_and_the_repo_config() {
    let files = [
        ("gw.yaml", gateway(&http("http", 80))),
        ("route.yaml", route("app", "app", 80)),
        ("svc.yaml", service("app", 80, Some("kubernetes.io/ws"))),
    ];
    let b = build(&refs(&files), "1.9.0");
    let ws = b.route("app").websocket.as_ref().unwrap();
    assert_eq!(ws.reason, WebSocketReason::ServiceAppProtocol);

    let files = [
        ("gw.yaml", gateway(&http("http", 80))),
        ("route.yaml", route("app", "app", 80)),
    ];
    assert!(
        build(&refs(&files), "1.9.0")
            .route("app")
            .websocket
            .is_none()
    );
    let config = RepoConfig::parse(
        ".ws-fix.yml",
        "version: 1\nwebsocket-routes:\n  - kind: HTTPRoute\n    namespace: apps\n    name: app\n",
    )
    .unwrap();
    let b = build_with(&refs(&files), &config, &Options::default());
    assert_eq!(
        b.route("app").websocket.as_ref().unwrap().reason,
        WebSocketReason::RepoConfig
    );
}

#[test]
fn routes_built_from_helm_values_are_routes_too() {
    // The apply layer turns a HelmRelease's route values into an HTTPRoute resource.
    let gw = gateway(&http("http", 80));
    let mut set = AppliedSet {
        entry_point: "test".into(),
        entry_span: None,
        resources: Vec::new(),
        not_analysed: Vec::new(),
    };
    for doc in parse_stream(&gw, &Limits::default()).unwrap() {
        let root = doc.root.unwrap();
        set.resources.push(resource(root, Origin::Manifest));
    }
    let route_doc = parse_stream(&route("hass", "hass", 8123), &Limits::default())
        .unwrap()
        .remove(0)
        .root
        .unwrap();
    set.resources.push(resource(
        route_doc,
        Origin::HelmValues {
            release: ResourceKey {
                kind: "HelmRelease".into(),
                namespace: "apps".into(),
                name: "home-assistant".into(),
            },
            chart: "app-template".into(),
            images: vec!["ghcr.io/home-operations/home-assistant:2025.5.1".into()],
        },
    ));
    let model = ws_fix::model::eg::build(&set, &support::catalogue(), &support::config("1.9.0"));
    let r = model.routes.iter().find(|r| r.key.name == "hass").unwrap();
    assert!(matches!(r.origin, Origin::HelmValues { .. }));
    assert_eq!(r.parents[0].attached[0].listener, "net/gw/http");
    let ws = r.websocket.as_ref().unwrap();
    assert_eq!(ws.app.as_deref(), Some("home-assistant"));
    assert_eq!(ws.resource.as_ref().unwrap().name, "home-assistant");
}

fn resource(node: ws_fix::yaml::Node, origin: Origin) -> Resource {
    let get = |k: &[&str]| node.path(k).and_then(|n| n.as_text()).map(str::to_owned);
    Resource {
        api_version: get(&["apiVersion"]).unwrap(),
        kind: get(&["kind"]).unwrap(),
        name: get(&["metadata", "name"]).unwrap(),
        namespace: get(&["metadata", "namespace"]),
        span: Span::default(),
        node,
        origin,
    }
}
