//! Shared helpers of the `eg_*` tests: build Envoy Gateway's view of a few YAML files.
//! Declared once in `main.rs`; the `eg_*` modules use it as `support`.
#![allow(dead_code)]

use ws_fix::catalogue::Catalogue;
use ws_fix::config::RepoConfig;
use ws_fix::load::{LoadOptions, Loaded, load};
use ws_fix::model::eg::{self, Listener, Model, Options, Route, RuleOnListener};
use ws_fix::model::{AppliedSet, apply};
use ws_fix::snapshot::MemorySnapshot;
use ws_fix::yaml::Span;

/// A loaded repo and its model.
pub struct Built {
    pub loaded: Loaded,
    pub set: AppliedSet,
    pub model: Model,
}

impl Built {
    /// The text at a span.
    pub fn text(&self, span: Option<Span>) -> &str {
        let span = span.expect("a span");
        let file = self.loaded.by_id(span.file).expect("span file");
        span.slice(file.text())
    }

    pub fn listener(&self, key: &str) -> &Listener {
        self.model
            .listeners
            .iter()
            .find(|l| l.key == key)
            .unwrap_or_else(|| panic!("no listener {key}"))
    }

    pub fn route(&self, name: &str) -> &Route {
        self.model
            .routes
            .iter()
            .find(|r| r.key.name == name)
            .unwrap_or_else(|| panic!("no route {name}"))
    }

    /// Rule `rule` of route `name` on listener `listener`.
    pub fn on(&self, name: &str, rule: usize, listener: &str) -> &RuleOnListener {
        self.route(name).rules[rule]
            .on_listeners
            .iter()
            .find(|o| o.listener == listener)
            .unwrap_or_else(|| panic!("route {name} rule {rule} is not on {listener}"))
    }
}

pub fn catalogue() -> Catalogue {
    Catalogue::embedded().expect("catalogue")
}

/// A repo config pinning `version` (empty: no config).
pub fn config(version: &str) -> RepoConfig {
    if version.is_empty() {
        return RepoConfig::default();
    }
    RepoConfig::parse(
        ".ws-fix.yml",
        &format!("version: 1\nenvoy-gateway:\n  version: {version}\n"),
    )
    .expect("config")
}

/// Builds the model of `files` (open world) with the deployed version pinned to `version`
/// (empty: whatever the files say).
pub fn build(files: &[(&str, &str)], version: &str) -> Built {
    build_with(files, &config(version), &Options::default())
}

pub fn build_with(files: &[(&str, &str)], config: &RepoConfig, options: &Options) -> Built {
    let mut snap = MemorySnapshot::new();
    for (path, text) in files {
        snap.insert(*path, text.as_bytes().to_vec());
    }
    let loaded = load(&snap, &LoadOptions::default()).expect("load");
    let set = apply::plain(&loaded);
    let model = eg::build_with(&set, &catalogue(), config, options);
    Built { loaded, set, model }
}

/// An Envoy Gateway GatewayClass `eg` and a Gateway `net/gw` with `listeners` (YAML list items
/// indented by two spaces).
pub fn gateway(listeners: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: eg
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: net
spec:
  gatewayClassName: eg
  listeners:
{listeners}"
    )
}

/// An HTTPS listener item for [`gateway`].
pub fn https(name: &str, port: u16, hostname: Option<&str>, secret: &str) -> String {
    let host = hostname
        .map(|h| format!("    hostname: \"{h}\"\n"))
        .unwrap_or_default();
    format!(
        "  - name: {name}
    protocol: HTTPS
    port: {port}
{host}    allowedRoutes:
      namespaces:
        from: All
    tls:
      mode: Terminate
      certificateRefs:
        - name: {secret}
"
    )
}

/// An HTTP listener item for [`gateway`].
pub fn http(name: &str, port: u16) -> String {
    format!(
        "  - name: {name}
    protocol: HTTP
    port: {port}
    allowedRoutes:
      namespaces:
        from: All
"
    )
}

/// An HTTPRoute `apps/name` on `net/gw` with one rule to Service `apps/svc:port`.
pub fn route(name: &str, svc: &str, port: u16) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
  namespace: apps
spec:
  parentRefs:
    - name: gw
      namespace: net
  rules:
    - name: main
      backendRefs:
        - name: {svc}
          port: {port}
"
    )
}

/// A Service `apps/name` with one port and an optional `appProtocol`.
pub fn service(name: &str, port: u16, app_protocol: Option<&str>) -> String {
    let ap = app_protocol
        .map(|a| format!("      appProtocol: {a}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: apps
spec:
  selector:
    app: {name}
  ports:
    - name: http
      port: {port}
{ap}"
    )
}
