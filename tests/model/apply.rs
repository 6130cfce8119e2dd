//! What gets applied (`model::apply`): entry points, Kustomize, patches, namespaces, Flux
//! substitution, HelmRelease and operator resources, over the small repos in
//! `tests/fixtures/apply/`, the example repo and the three corpus repos.

use std::path::{Path, PathBuf};

use serde_json::{Value as J, json};
use ws_fix::load::{LoadOptions, Loaded, load};
use ws_fix::model::apply::apply;
use ws_fix::model::{Applied, AppliedSet, Origin, Resource};
use ws_fix::snapshot::LocalDir;
use ws_fix::yaml::{Node, Span};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_dir(path: &Path) -> Loaded {
    load(
        &LocalDir::new(path).expect("repo dir"),
        &LoadOptions::default(),
    )
    .expect("loads")
}

fn fixture(name: &str) -> (Loaded, Applied) {
    let loaded = load_dir(&manifest_dir().join("tests/fixtures/apply").join(name));
    let applied = apply(&loaded);
    check_spans(&loaded, &applied);
    (loaded, applied)
}

fn only_set(applied: &Applied) -> &AppliedSet {
    assert_eq!(applied.sets.len(), 1, "{:?}", labels(applied));
    &applied.sets[0]
}

fn labels(applied: &Applied) -> Vec<&str> {
    applied
        .sets
        .iter()
        .map(|s| s.entry_point.as_str())
        .collect()
}

fn get<'a>(set: &'a AppliedSet, key: &str) -> &'a Resource {
    set.resources
        .iter()
        .find(|r| r.key().to_string() == key)
        .unwrap_or_else(|| panic!("{key} not in {:?}", keys(set)))
}

fn has(set: &AppliedSet, key: &str) -> bool {
    set.resources.iter().any(|r| r.key().to_string() == key)
}

fn keys(set: &AppliedSet) -> Vec<String> {
    set.resources.iter().map(|r| r.key().to_string()).collect()
}

fn json(r: &Resource) -> J {
    r.node.to_json()
}

/// The file and the text at a span.
fn at(loaded: &Loaded, span: Span) -> (&str, &str) {
    let file = loaded.by_id(span.file).expect("span file");
    (file.path.as_str(), span.slice(file.text()))
}

fn node<'a>(r: &'a Resource, path: &[&str]) -> &'a Node {
    r.node
        .path(path)
        .unwrap_or_else(|| panic!("{} has no {path:?}", r.key()))
}

fn item(n: &Node, i: usize) -> &Node {
    &n.as_seq().expect("a sequence").items[i]
}

fn noted<'a>(set: &'a AppliedSet, what: &str, reason: &str) -> &'a ws_fix::model::NotAnalysed {
    set.not_analysed
        .iter()
        .find(|n| n.what.contains(what) && n.reason.contains(reason))
        .unwrap_or_else(|| panic!("no note {what}: {reason} in {:#?}", set.not_analysed))
}

/// Every node of every resource points inside an existing file, on character boundaries.
fn check_spans(loaded: &Loaded, applied: &Applied) {
    for set in &applied.sets {
        for r in &set.resources {
            r.node.walk(&mut |n| {
                let file = loaded
                    .by_id(n.span.file)
                    .unwrap_or_else(|| panic!("{}: span in unknown file", r.key()));
                let range = n.span.range();
                assert!(
                    file.text().get(range.clone()).is_some(),
                    "{}: span {range:?} outside {}",
                    r.key(),
                    file.path
                );
            });
        }
    }
}

#[test]
fn https_listener_from_an_overlay_patch_points_at_the_patch() {
    let (loaded, applied) = fixture("overlay-listener");
    let set = only_set(&applied);
    assert_eq!(set.entry_point, "Kustomization flux-system/gateway");
    let gw = get(set, "Gateway/network/envoy-external");
    assert_eq!(gw.namespace.as_deref(), Some("network"));
    assert_eq!(
        json(gw)["spec"]["listeners"],
        json!([
            {"name": "http", "protocol": "HTTP", "port": 80},
            {"name": "https", "protocol": "HTTPS", "port": 443,
             "tls": {"certificateRefs": [{"kind": "Secret", "name": "example-com-tls"}]}}
        ])
    );
    let listeners = node(gw, &["spec", "listeners"]);
    let https = item(listeners, 1);
    let patch = "gateway/overlays/home/gateway-https.yaml";
    assert_eq!(at(&loaded, https.span).0, patch);
    assert_eq!(
        at(&loaded, https.get("protocol").unwrap().span),
        (patch, "HTTPS")
    );
    assert_eq!(at(&loaded, https.get("port").unwrap().span), (patch, "443"));
    let http = item(listeners, 0);
    assert_eq!(
        at(&loaded, http.get("name").unwrap().span),
        ("gateway/base/gateway.yaml", "http")
    );

    // An inline targeted patch: list items merged by `type`, `$patch: delete`.
    let btp = get(set, "BackendTrafficPolicy/network/envoy");
    assert_eq!(
        json(btp)["spec"]["httpUpgrade"],
        json!([{"type": "websocket"}, {"type": "CONNECT"}])
    );
    let connect = item(node(btp, &["spec", "httpUpgrade"]), 1)
        .get("type")
        .unwrap();
    assert_eq!(
        at(&loaded, connect.span),
        ("gateway/overlays/home/kustomization.yaml", "CONNECT")
    );
    // The patch's placeholder name does not rename its target.
    assert_eq!(btp.name, "envoy");
    let class = get(set, "GatewayClass//envoy");
    assert_eq!(class.namespace, None);
    assert!(applied.not_applied.is_empty(), "{:?}", applied.not_applied);
}

#[test]
fn one_base_applied_by_two_clusters_with_different_substitutions() {
    let (loaded, applied) = fixture("two-clusters");
    assert_eq!(applied.sets.len(), 2);
    let mut seen = Vec::new();
    for set in &applied.sets {
        let entry_file = at(&loaded, set.entry_span.unwrap()).0.to_owned();
        let route = get(set, "HTTPRoute/default/echo");
        let host = item(node(route, &["spec", "hostnames"]), 0);
        let cluster = node(route, &["metadata", "labels", "cluster"])
            .as_str()
            .unwrap();
        // The same text decides both: the base file.
        assert_eq!(
            at(&loaded, host.span),
            ("apps/echo/route.yaml", "\"echo.${SECRET_DOMAIN}\"")
        );
        seen.push((
            entry_file,
            cluster.to_owned(),
            host.as_str().unwrap().to_owned(),
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "clusters/alpha/apps.yaml".into(),
                "alpha".into(),
                "echo.alpha.example.com".into()
            ),
            (
                "clusters/beta/apps.yaml".into(),
                "beta".into(),
                "echo.beta.example.org".into()
            ),
        ]
    );
}

#[test]
fn substitution_defaults_patterns_escapes_and_opt_out() {
    let (loaded, applied) = fixture("substitution");
    let set = only_set(&applied);
    let route = get(set, "HTTPRoute/demo/demo");
    let j = json(route);
    assert_eq!(
        j["metadata"]["labels"],
        json!({"cluster": "cluster-home", "replicas": 1, "tier": "web", "tz": "Europe/Berlin"})
    );
    assert_eq!(
        j["spec"]["hostnames"],
        json!([
            "demo.example.com",
            "www.fallback.example",
            "${UNSET}.example.com"
        ])
    );
    assert_eq!(
        j["spec"]["parentRefs"][0]["sectionName"],
        "example-com-https"
    );
    assert_eq!(
        j["spec"]["rules"][0]["filters"][0]["requestHeaderModifier"]["set"],
        json!([{"name": "x-all-dots", "value": "example_com"}, {"name": "x-escaped", "value": "${APP}"}])
    );
    // A substituted scalar keeps the span of the text with the variables.
    let host = item(node(route, &["spec", "hostnames"]), 0);
    assert_eq!(
        at(&loaded, host.span),
        ("apps/demo/app/route.yaml", "\"${APP}.${PUBLIC_DOMAIN}\"")
    );
    let name = node(route, &["metadata", "name"]);
    assert_eq!(at(&loaded, name.span).1, "${APP}");

    // The annotation turns substitution off; no postBuild means no substitution.
    let script = get(set, "ConfigMap/demo/script");
    assert_eq!(json(script)["data"]["run.sh"], "echo ${APP}");
    let plain = get(set, "ConfigMap/demo/no-post-build");
    assert_eq!(json(plain)["data"]["kept"], "${APP}");

    // Values from a Secret stay symbolic, and so do defaults that the Secret may override.
    let private = get(set, "HTTPRoute/demo/private");
    let j = json(private);
    assert_eq!(
        j["spec"]["hostnames"],
        json!([
            "private.${SECRET_DOMAIN}",
            "www.${PRIVATE_DOMAIN:=fallback.example}"
        ])
    );
    assert_eq!(j["metadata"]["labels"]["tz"], "Europe/Berlin");
    let note = noted(
        set,
        "Kustomization/flux-system/secret-demo",
        "Secret cluster-secrets",
    );
    assert!(!note.route);
}

#[test]
fn target_namespace_overrides_kustomize_namespace_and_cluster_kinds_have_none() {
    let (loaded, applied) = fixture("namespaces");
    assert_eq!(applied.sets.len(), 2, "{:?}", labels(&applied));
    let web = applied
        .sets
        .iter()
        .find(|s| s.entry_point == "Kustomization flux-system/web")
        .unwrap();
    let svc = get(web, "Service/web-target/web");
    let ns = node(svc, &["metadata", "namespace"]);
    assert_eq!(at(&loaded, ns.span), ("flux/ks.yaml", "web-target"));
    // The component's Namespace is renamed to the namespace.
    let namespace = get(web, "Namespace//web-target");
    assert_eq!(namespace.namespace, None);

    let shared = applied
        .sets
        .iter()
        .find(|s| s.entry_point == "Kustomization flux-system/shared")
        .unwrap();
    assert!(has(shared, "Service/shared-kustomize/shared"));
    assert_eq!(get(shared, "GatewayClass//envoy").namespace, None);
    assert_eq!(get(shared, "ClusterRole//reader").namespace, None);
}

fn helm_origin(r: &Resource) -> (String, String, Vec<String>) {
    match &r.origin {
        Origin::HelmValues {
            release,
            chart,
            images,
        } => (release.to_string(), chart.clone(), images.clone()),
        o => panic!("{}: origin {o:?}", r.key()),
    }
}

#[test]
fn app_template_routes_and_services() {
    let (loaded, applied) = fixture("app-template");
    let set = only_set(&applied);

    // One Service, a route without rules: the default backend is that Service's primary port.
    let route = get(set, "HTTPRoute/home/home-assistant");
    assert_eq!(
        json(route)["spec"],
        json!({
            "parentRefs": [{"name": "envoy-external", "namespace": "network", "sectionName": "https"}],
            "hostnames": ["home-assistant.example.com"],
            "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "home-assistant",
                                        "namespace": "home", "port": 8123, "weight": 1}]}]
        })
    );
    let (release, chart, images) = helm_origin(route);
    assert_eq!(release, "HelmRelease/home/home-assistant");
    assert_eq!(chart, "app-template");
    assert_eq!(
        images,
        vec![
            "docker.io/library/busybox",
            "ghcr.io/home-operations/home-assistant"
        ]
    );
    let host = item(node(route, &["spec", "hostnames"]), 0);
    assert_eq!(
        at(&loaded, host.span),
        (
            "apps/home/home-assistant.yaml",
            "\"{{ .Release.Name }}.${SECRET_DOMAIN}\""
        )
    );
    assert_eq!(at(&loaded, route.span).0, "apps/home/home-assistant.yaml");
    // A post-renderer patch that targets a built resource applies to it.
    assert_eq!(
        json(route)["metadata"]["annotations"],
        json!({"example.com/post-rendered": "yes"})
    );
    let svc = get(set, "Service/home/home-assistant");
    assert_eq!(
        json(svc)["spec"]["ports"],
        json!([{"name": "http", "port": 8123, "targetPort": 8123, "protocol": "TCP",
                "appProtocol": "kubernetes.io/ws"}])
    );
    let app_protocol = item(node(svc, &["spec", "ports"]), 0)
        .get("appProtocol")
        .unwrap();
    assert_eq!(
        at(&loaded, app_protocol.span),
        ("apps/home/home-assistant.yaml", "kubernetes.io/ws")
    );
    assert!(!keys(set).iter().any(|k| k.contains("disabled")));

    // Two Services and several routes: names get the identifier; explicit backendRefs by
    // identifier and port name, or by the Service's primary port; the release name comes
    // from targetNamespace.
    assert!(has(set, "Service/tools/tools-editor-app"));
    let sidecar = get(set, "Service/tools/tools-editor-sidecar");
    assert_eq!(
        json(sidecar)["spec"]["ports"],
        json!([{"name": "ws", "port": 3000, "targetPort": 3000, "protocol": "TCP",
                "appProtocol": "kubernetes.io/ws"}])
    );
    let app = json(get(set, "HTTPRoute/tools/tools-editor-app"));
    assert_eq!(app["spec"]["hostnames"], json!(["code.example.com"]));
    let rules = app["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["backendRefs"][0]["name"], "tools-editor-app");
    assert_eq!(rules[0]["backendRefs"][0]["port"], 8080);
    assert_eq!(rules[0]["timeouts"], json!({"request": "0s"}));
    assert_eq!(rules[0]["matches"][0]["path"]["value"], "/");
    assert_eq!(rules[1]["backendRefs"][0]["name"], "tools-editor-sidecar");
    assert_eq!(rules[1]["backendRefs"][0]["port"], 3000);
    assert_eq!(rules[1]["filters"][0]["type"], "RequestHeaderModifier");
    let external = json(get(set, "HTTPRoute/tools/tools-editor-external"));
    assert_eq!(
        external["spec"]["hostnames"],
        json!(["tools-editor.example.com"])
    );
    assert_eq!(
        external["spec"]["rules"][0]["backendRefs"][0]["name"],
        "some-other-service"
    );
    // No rules and two Services: the chart refuses to render it.
    assert!(!has(set, "HTTPRoute/tools/tools-editor-broken"));
    assert!(noted(set, "HelmRelease/home/editor route.broken", "explicit rule").route);

    // valuesFrom only: not analysed.
    assert!(noted(set, "HelmRelease/home/n8n", "valuesFrom").route);
    assert!(!keys(set).iter().any(|k| k.contains("automation")));

    // Another chart's `route.main`: the chart's default Service.
    let grafana = get(set, "HTTPRoute/home/grafana");
    assert_eq!(
        json(grafana)["spec"]["rules"][0]["backendRefs"][0],
        json!({"group": "", "kind": "Service", "name": "grafana", "namespace": "home", "port": 80})
    );
    assert_eq!(helm_origin(grafana).1, "grafana");
    noted(
        set,
        "HelmRelease/home/grafana",
        "templates are not rendered",
    );
}

#[test]
fn grafana_operator_route() {
    let (loaded, applied) = fixture("operators");
    let set = only_set(&applied);
    let route = get(set, "HTTPRoute/observability/grafana-httproute");
    assert_eq!(
        route.origin,
        Origin::Operator {
            owner: ws_fix::model::ResourceKey {
                kind: "Grafana".into(),
                namespace: "observability".into(),
                name: "grafana".into()
            }
        }
    );
    let j = json(route);
    assert_eq!(j["spec"]["hostnames"], json!(["grafana.example.com"]));
    assert_eq!(
        j["spec"]["rules"][0]["backendRefs"][0],
        json!({"group": "", "kind": "Service", "name": "grafana-service",
               "namespace": "observability", "port": 3000})
    );
    assert_eq!(
        j["metadata"]["annotations"]["example.com/team"],
        "observability"
    );
    let host = item(node(route, &["spec", "hostnames"]), 0);
    assert_eq!(
        at(&loaded, host.span),
        ("observability/grafana.yaml", "grafana.example.com")
    );
    assert!(has(set, "Service/observability/grafana-service"));
}

#[test]
fn files_nothing_applies_are_not_applied() {
    let (_, applied) = fixture("not-applied");
    let set = only_set(&applied);
    assert!(has(set, "Service/default/echo"));
    assert!(!has(set, "HTTPRoute/default/stale"));
    assert_eq!(
        applied.not_applied,
        vec!["old/app/kustomization.yaml", "old/app/route.yaml"]
    );
}

#[test]
fn argo_application_destination_namespace_is_a_default() {
    let (_, applied) = fixture("argo");
    let set = only_set(&applied);
    assert_eq!(set.entry_point, "Application argocd/root");
    assert!(has(set, "Application/argocd/jellyfin"));
    let svc = get(set, "Service/media/jellyfin");
    assert_eq!(svc.namespace.as_deref(), Some("media"));
    assert!(has(set, "HTTPRoute/media/jellyfin"));
    // A namespace in the manifest wins over the destination.
    assert!(has(set, "ConfigMap/kube-system/elsewhere"));
    // A directory source without `recurse` takes only its own files.
    assert!(has(set, "Service/tools/tools"));
    assert!(!keys(set).iter().any(|k| k.ends_with("/nested")));
    assert_eq!(
        applied.not_applied,
        vec!["argo/apps/tools/nested/ignored.yaml".trim_start_matches("argo/")]
    );
    assert!(
        noted(
            set,
            "Application/argocd/envoy-gateway",
            "Helm chart gateway-helm"
        )
        .route
    );
    assert!(noted(set, "Application/argocd/demo-chart", "with Helm values").route);
}

#[test]
fn a_repo_without_entry_points_is_one_set_of_every_manifest() {
    let (loaded, applied) = fixture("plain");
    let set = only_set(&applied);
    assert_eq!(set.entry_point, "all manifests");
    assert!(set.entry_span.is_none());
    let gw = get(set, "Gateway/edge/public");
    let listeners = node(gw, &["spec", "listeners"]);
    assert_eq!(listeners.as_seq().unwrap().items.len(), 2);
    assert_eq!(
        at(&loaded, item(listeners, 1).span).0,
        "overlays/prod/https.yaml"
    );
    // The patch is not a second Gateway; the base is built once, through the overlay.
    assert_eq!(
        keys(set)
            .iter()
            .filter(|k| k.starts_with("Gateway/"))
            .count(),
        1
    );
    assert!(has(set, "HTTPRoute/apps/loose"));
    assert!(has(set, "HTTPRoute/apps/whoami"));
    assert!(has(set, "Service/apps/whoami"));
    assert!(applied.not_applied.is_empty());
}

#[test]
fn patches_in_every_form() {
    let (loaded, applied) = fixture("patch-forms");
    let set = only_set(&applied);
    let edge = json(get(set, "ClientTrafficPolicy/network/edge-tls"));
    assert_eq!(
        edge["spec"]["tls"],
        json!({"alpnProtocols": ["http/1.1"], "minVersion": "1.3"})
    );
    let internal = get(set, "ClientTrafficPolicy/network/internal-tls");
    assert_eq!(
        json(internal)["spec"]["tls"],
        json!({"alpnProtocols": ["h2", "http/1.1"]})
    );
    let alpn = node(
        get(set, "ClientTrafficPolicy/network/edge-tls"),
        &["spec", "tls", "alpnProtocols"],
    );
    assert_eq!(at(&loaded, alpn.span), ("flux/ks.yaml", "[http/1.1]"));
    let svc = get(set, "Service/network/echo");
    assert_eq!(
        json(svc)["spec"]["ports"],
        json!([{"name": "http", "port": 80, "appProtocol": "kubernetes.io/h2c"}])
    );
    let app_protocol = item(node(svc, &["spec", "ports"]), 0)
        .get("appProtocol")
        .unwrap();
    assert_eq!(
        at(&loaded, app_protocol.span),
        ("app/kustomization.yaml", "kubernetes.io/h2c")
    );
    assert!(!has(set, "ConfigMap/network/debug"));
}

#[test]
fn odd_input_costs_notes_not_panics() {
    let (_, applied) = fixture("odd");
    let set = only_set(&applied);
    // a and b apply each other: the first in path order is the entry point.
    assert_eq!(set.entry_point, "Kustomization flux-system/a");
    assert!(has(set, "Service/default/local"));
    assert!(noted(set, "Kustomization/flux-system/from-oci", "OCIRepository").route);
    assert!(
        noted(
            set,
            "Kustomization/flux-system/other-repo",
            "GitRepository flux-system/upstream"
        )
        .route
    );
    assert!(noted(set, "remote/kustomization.yaml", "remote resource https://").route);
    noted(set, "self", "cycle");
    noted(set, "Kustomization/flux-system/no-spec", "no spec");
    noted(
        set,
        "Kustomization/flux-system/bad-path",
        "cannot be resolved",
    );
    noted(set, "weird/kustomization.yaml patches[0]", "not valid YAML");
    // Determinism: the same input gives the same sets.
    let again = apply(&load_dir(&manifest_dir().join("tests/fixtures/apply/odd")));
    assert_eq!(keys(&again.sets[0]), keys(set));
    assert_eq!(again.sets[0].not_analysed, set.not_analysed);
}

#[test]
fn example_homelab() {
    let loaded = load_dir(&manifest_dir().join("examples/homelab"));
    let applied = apply(&loaded);
    check_spans(&loaded, &applied);
    let set = only_set(&applied);
    assert_eq!(set.entry_point, "Kustomization flux-system/cluster-apps");
    let hass = json(get(set, "HTTPRoute/home-automation/home-assistant"));
    assert_eq!(
        hass["spec"]["hostnames"],
        json!(["home-assistant.example.com"])
    );
    let n8n = json(get(set, "HTTPRoute/home-automation/n8n"));
    assert_eq!(n8n["spec"]["hostnames"], json!(["n8n.example.com"]));
    let grafana = json(get(set, "HTTPRoute/observability/grafana"));
    assert_eq!(grafana["spec"]["hostnames"], json!(["grafana.example.com"]));
    let gw = json(get(set, "Gateway/network/envoy-external"));
    let https = gw["spec"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["protocol"] == "HTTPS")
        .unwrap();
    assert_eq!(
        https["tls"]["certificateRefs"][0]["name"],
        "example-com-production-tls"
    );
    assert!(has(set, "ClientTrafficPolicy/network/envoy"));
    assert!(applied.not_applied.is_empty(), "{:?}", applied.not_applied);
}

/// The corpus repos: the sets, the Home Assistant and Grafana routes, the gateway stack.
fn corpus(name: &str, gateway_ns: &str, hass: &[&str], grafana: &str) {
    let dir = manifest_dir().join("../shared/corpus").join(name);
    if !dir.is_dir() {
        eprintln!("{name}: corpus not present, skipped");
        return;
    }
    let loaded = load_dir(&dir);
    let started = std::time::Instant::now();
    let applied = apply(&loaded);
    let elapsed = started.elapsed();
    check_spans(&loaded, &applied);
    let resources: usize = applied.sets.iter().map(|s| s.resources.len()).sum();
    let not_analysed: usize = applied.sets.iter().map(|s| s.not_analysed.len()).sum();
    let routes_not_analysed: usize = applied
        .sets
        .iter()
        .map(|s| s.not_analysed.iter().filter(|n| n.route).count())
        .sum();
    println!(
        "{name}: {} sets {:?}, {resources} resources, {} not applied, {not_analysed} not analysed ({routes_not_analysed} may hold routes), {elapsed:?}",
        applied.sets.len(),
        labels(&applied),
        applied.not_applied.len(),
    );
    let all = || applied.sets.iter().flat_map(|s| s.resources.iter());
    let hass_route = all()
        .find(|r| {
            r.kind == "HTTPRoute"
                && r.name.contains("home-assistant")
                && !r.name.contains("mcp")
                && !r.name.contains("code")
        })
        .expect("a Home Assistant route");
    assert_eq!(json(hass_route)["spec"]["hostnames"], json!(hass));
    let grafana_route = all()
        .find(|r| r.kind == "HTTPRoute" && r.name == "grafana-httproute")
        .expect("the Grafana route");
    assert!(matches!(grafana_route.origin, Origin::Operator { .. }));
    assert_eq!(json(grafana_route)["spec"]["hostnames"], json!([grafana]));
    let stack = applied
        .sets
        .iter()
        .find(|s| s.resources.iter().any(|r| r.kind == "ClientTrafficPolicy"))
        .expect("a set with the gateway stack");
    let gateways: Vec<&Resource> = stack
        .resources
        .iter()
        .filter(|r| r.kind == "Gateway")
        .collect();
    assert!(gateways.len() >= 2);
    for r in gateways.iter().chain(
        stack
            .resources
            .iter()
            .filter(|r| r.kind == "ClientTrafficPolicy")
            .collect::<Vec<_>>()
            .iter(),
    ) {
        assert_eq!(r.namespace.as_deref(), Some(gateway_ns), "{}", r.key());
    }
}

#[test]
fn corpus_onedr0p() {
    corpus(
        "onedr0p__home-ops",
        "network",
        &["home-assistant.turbo.ac", "hass.turbo.ac"],
        "grafana.turbo.ac",
    );
}

#[test]
fn corpus_bjw_s() {
    corpus(
        "bjw-s-labs__home-ops",
        "network",
        &["hass.bjw-s.dev", "home-assistant.bjw-s.dev"],
        "grafana.bjw-s.dev",
    );
}

#[test]
fn corpus_buroa() {
    corpus(
        "buroa__k8s-gitops",
        "networking",
        &["home-assistant.k13.dev", "hass.k13.dev"],
        "grafana.k13.dev",
    );
}

#[test]
fn hostile_repos_cost_bounded_work() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    // Each folder lists the next one twice: 2^40 builds if nothing bounded them.
    for i in 0..40 {
        write(
            &format!("chain/d{i}/kustomization.yaml"),
            &format!(
                "resources:\n  - ../d{n}\n  - ../d{n}\n  - cm.yaml\n",
                n = i + 1
            ),
        );
        write(
            &format!("chain/d{i}/cm.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n"),
        );
    }
    write("chain/d40/kustomization.yaml", "resources: []\n");
    // A Kustomization that applies itself under another name.
    write(
        "flux/ks.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: self\n  namespace: flux-system\n\
         spec:\n  path: ./flux\n  namePrefix: x-\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n---\n\
         apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: chain\n  namespace: flux-system\n\
         spec:\n  path: ./chain/d0\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    let loaded = load_dir(dir.path());
    let started = std::time::Instant::now();
    let applied = apply(&loaded);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    check_spans(&loaded, &applied);
    let set = only_set(&applied);
    noted(set, "chain/", "work budget spent");
    // The self-applying Kustomization is built once per name it gets.
    assert!(has(set, "Kustomization/flux-system/x-self"));
    assert!(has(set, "ConfigMap//cm39"));
}
