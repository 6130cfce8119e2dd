//! Manifests are user input: every field of a realistic set, replaced by a value of the wrong
//! type, must still build a model (no panic), and the facts must stay renderable.

use crate::eg_support as support;

use ws_fix::model::eg::{self, Options};
use ws_fix::model::{AppliedSet, Origin, Resource};
use ws_fix::yaml::{Limits, Node, Value, parse_stream};

const SAMPLE: &str = r#"
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: envoy-gateway, namespace: network}
spec:
  chartRef: {kind: OCIRepository, name: envoy-gateway}
  values:
    config:
      envoyGateway:
        extensionApis: {enableBackend: true, enableSDSSecretRef: true}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: envoy-gateway, namespace: network}
spec:
  url: oci://docker.io/envoyproxy/gateway-helm
  ref: {semver: ">=1.7.0 <1.9.0"}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: eg}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
  parametersRef: {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: proxy, namespace: network}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: EnvoyProxy
metadata: {name: proxy, namespace: network}
spec:
  backendTLS: {alpnProtocols: [http/1.1]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: network
  labels: {edge: "true"}
  annotations: {cert-manager.io/cluster-issuer: le}
spec:
  gatewayClassName: eg
  allowedListeners: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}
  tls:
    frontend:
      default: {validation: {caCertificateRefs: [{kind: ConfigMap, name: ca}]}}
      perPort: [{port: 8443, tls: {}}]
  listeners:
    - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.example.com"
      allowedRoutes:
        kinds: [{kind: HTTPRoute}]
        namespaces: {from: Selector, selector: {matchExpressions: [{key: team, operator: In, values: [a]}]}}
      tls: {mode: Terminate, certificateRefs: [{name: wild, namespace: certs}]}
    - name: https-2
      protocol: HTTPS
      port: 443
      hostname: "a.example.com"
      tls: {certificateRefs: [{name: sds}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: more, namespace: apps}
spec:
  parentRef: {name: gw, namespace: network}
  listeners:
    - {name: extra, protocol: HTTPS, port: 8443, tls: {certificateRefs: [{name: c}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: sds, namespace: network}
type: gateway.envoyproxy.io/sds
data: {url: eA==, secretName: eA==}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: wild, namespace: certs}
spec: {secretName: wild, dnsNames: ["*.example.com"]}
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: network}]
  to: [{group: "", kind: Secret}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: ctp, namespace: network, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: https}]
  targetSelectors: [{kind: Gateway, matchLabels: {edge: "true"}, namespaces: {from: All}}]
  tls: {alpnProtocols: [h2, http/1.1]}
  http1: {ignoredUpgradeTypes: [{type: RegularExpression, value: "(web|ws).*"}]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: btp, namespace: apps}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app, sectionName: main}]
  mergeType: StrategicMerge
  httpUpgrade: [{type: websocket}, {type: spdy/3.1}]
  useClientProtocol: true
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: gw-btp, namespace: network}
spec:
  targetSelectors: [{kind: Gateway}]
  requestBuffer: {limit: 1Mi}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: apps}
spec:
  hostnames: [app.example.com, "*.example.com"]
  parentRefs:
    - {name: gw, namespace: network, sectionName: https, port: 443}
    - {kind: ListenerSet, name: more}
  rules:
    - name: main
      backendRefs:
        - {name: app, port: 80}
        - {group: gateway.envoyproxy.io, kind: Backend, name: be}
        - {name: other, namespace: network, port: 1}
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: apps}
spec:
  selector: {app: app}
  ports: [{name: http, port: 80, appProtocol: kubernetes.io/ws}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: Backend
metadata: {name: be, namespace: apps}
spec:
  appProtocols: [gateway.envoyproxy.io/wss]
  endpoints: [{fqdn: {hostname: a.example.com, port: 443}}]
  tls: {alpnProtocols: [], sni: a.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: t, namespace: apps}
spec:
  targetRefs: [{group: "", kind: Service, name: app}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: apps}
spec:
  template:
    metadata: {labels: {app: app}}
    spec: {containers: [{name: c, image: "ghcr.io/home-assistant/home-assistant:1"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: envoy-gateway-config, namespace: network}
data:
  envoy-gateway.yaml: "extensionApis: {enableBackend: false}"
"#;

fn resources(text: &str) -> Vec<Resource> {
    parse_stream(text, &Limits::default())
        .expect("sample parses")
        .into_iter()
        .filter_map(|d| {
            let node = d.root?;
            let get = |k: &[&str]| node.path(k).and_then(Node::as_text).map(str::to_owned);
            Some(Resource {
                api_version: get(&["apiVersion"])?,
                kind: get(&["kind"])?,
                name: get(&["metadata", "name"]).unwrap_or_default(),
                namespace: get(&["metadata", "namespace"]),
                span: d.span,
                node,
                origin: Origin::Manifest,
            })
        })
        .collect()
}

fn set(resources: Vec<Resource>) -> AppliedSet {
    AppliedSet {
        entry_point: "hostile".into(),
        entry_span: None,
        resources,
        not_analysed: Vec::new(),
    }
}

/// Replaces the `n`-th node (depth first, values only) of `node` by `with`; returns how many
/// nodes it saw.
fn replace_nth(node: &mut Node, n: usize, with: &Value, seen: &mut usize) {
    if *seen == n {
        node.value = with.clone();
        *seen += 1;
        return;
    }
    *seen += 1;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(s) => s
            .items
            .iter_mut()
            .for_each(|i| replace_nth(i, n, with, seen)),
        Value::Map(m) => m
            .entries
            .iter_mut()
            .for_each(|(_, v)| replace_nth(v, n, with, seen)),
    }
}

fn replacements() -> Vec<Value> {
    let texts = ["~", "5", "[]", "{}", "[1, {a: [b]}]"];
    texts
        .iter()
        .map(|t| {
            parse_stream(t, &Limits::default()).unwrap()[0]
                .root
                .clone()
                .unwrap()
                .value
        })
        .collect()
}

#[test]
fn the_sample_itself_builds() {
    let model = eg::build(
        &set(resources(SAMPLE)),
        &support::catalogue(),
        &Default::default(),
    );
    assert_eq!(model.version.version, "1.8.3");
    assert!(!model.listeners.is_empty());
    let facts = model.facts();
    assert!(facts["listeners"].is_object());
    if std::env::var_os("EG_DUMP").is_some() {
        println!("{}", serde_json::to_string_pretty(&model).unwrap());
        println!("{}", serde_json::to_string_pretty(&facts).unwrap());
    }
}

#[test]
fn every_field_of_the_wrong_type_still_builds() {
    let base = resources(SAMPLE);
    let catalogue = support::catalogue();
    let config = support::config("");
    let withs = replacements();
    let mut builds = 0;
    for (doc, r) in base.iter().enumerate() {
        let total = r.node.count();
        for n in 1..total {
            for with in &withs {
                let mut rs = base.clone();
                let mut seen = 0;
                replace_nth(&mut rs[doc].node, n, with, &mut seen);
                for options in [
                    Options::default(),
                    Options {
                        closed_world: true,
                        namespaces: vec!["default".into()],
                    },
                ] {
                    let model = eg::build_with(&set(rs.clone()), &catalogue, &config, &options);
                    let _ = model.facts();
                    let _ = serde_json::to_string(&model).expect("serialises");
                    builds += 1;
                }
            }
        }
    }
    assert!(builds > 1000, "only {builds} builds");
}
