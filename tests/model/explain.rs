//! `ws-fix explain` on the real repos in ../shared/corpus and on the example repo: both Envoy
//! Gateway Gateways with the ALPN their ClientTrafficPolicy decides, Home Assistant and Grafana
//! routes attached with resolved hostnames, and the deployed version.

use std::path::Path;
use std::process::Command;

use ws_fix::model::eg::{Model, Why};
use ws_fix::workspace::Workspace;

fn models(repo: &Path) -> (ws_fix::load::Loaded, Vec<Model>) {
    let ws = Workspace::open(repo, None).unwrap();
    let loaded = ws.load(ws_fix::load::DEFAULT_MAX_FILE_SIZE).unwrap();
    let (_, models) = ws_fix::model::build(&loaded, &ws.catalogue, &ws.config);
    (loaded, models)
}

fn check_repo(repo: &Path, domain: &str) {
    let (loaded, models) = models(repo);
    let model = models
        .iter()
        .find(|m| m.gateways.iter().any(|g| g.key.name == "envoy-external"))
        .unwrap_or_else(|| panic!("{}: no model with the Gateways", repo.display()));
    assert_eq!(model.version.version, "1.9.0");
    assert!(!model.version.assumed);

    for gw in ["envoy-external", "envoy-internal"] {
        let g = model.gateways.iter().find(|g| g.key.name == gw).unwrap();
        assert!(g.management.is_eg(), "{gw}");
        let https: Vec<_> = model
            .listeners
            .iter()
            .filter(|l| l.gateway == g.key && l.https)
            .collect();
        assert!(!https.is_empty(), "{gw} has an HTTPS listener");
        for l in https {
            let alpn = l.alpn.as_ref().unwrap();
            assert_eq!(alpn.value, ["h2", "http/1.1"], "{}", l.key);
            assert_eq!(alpn.why, Why::Set);
            assert_eq!(alpn.resource.as_ref().unwrap().kind, "ClientTrafficPolicy");
            // The deciding span is the policy's alpnProtocols list: its two lines.
            let span = alpn.span.unwrap();
            let file = loaded.by_id(span.file).unwrap();
            let text = span.slice(file.text());
            assert!(
                text.starts_with("- h2") && text.contains("- http/1.1") || text == "[h2, http/1.1]",
                "{}: {text:?}",
                file.path
            );
            let line_before = &file.text()[..span.start as usize];
            assert!(
                line_before.trim_end().ends_with("alpnProtocols:"),
                "{}",
                file.path
            );
        }
    }

    for (app, host_prefix) in [
        ("home-assistant", "home-assistant."),
        ("grafana", "grafana."),
    ] {
        let route = model
            .routes
            .iter()
            .find(|r| {
                r.websocket.as_ref().and_then(|w| w.app.as_deref()) == Some(app)
                    && r.hostnames.iter().any(|h| h.starts_with(host_prefix))
            })
            .unwrap_or_else(|| panic!("{}: no {app} route", repo.display()));
        let attached: Vec<_> = route.listeners().collect();
        assert!(!attached.is_empty(), "{app} route attaches");
        let host = format!("{host_prefix}{domain}");
        assert!(
            attached.iter().any(|a| a.hostnames.contains(&host)),
            "{app}: {host} in {attached:?}"
        );
        for a in attached {
            let l = model
                .listeners
                .iter()
                .find(|l| l.key == a.listener)
                .unwrap();
            assert!(l.https, "{app} attaches to HTTPS listener {}", l.key);
        }
    }
}

fn corpus(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(name)
}

#[test]
fn onedr0p() {
    check_repo(&corpus("onedr0p__home-ops"), "turbo.ac");
}

#[test]
fn bjw_s() {
    check_repo(&corpus("bjw-s-labs__home-ops"), "bjw-s.dev");
}

#[test]
fn buroa() {
    check_repo(&corpus("buroa__k8s-gitops"), "k13.dev");
}

#[test]
fn explain_json_is_keyed_like_egw_cases() {
    let out = Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(["explain", "examples/homelab", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    let m = &v["models"][0];
    assert_eq!(m["entry_point"], "Kustomization flux-system/cluster-apps");
    assert_eq!(
        m["listeners"]["network/envoy-external/https"],
        serde_json::json!({"https": true, "alpn": ["h2", "http/1.1"]})
    );
    assert_eq!(
        m["routes"]["network/envoy-external/https"]["httproute/home-automation/home-assistant/rule/0"],
        serde_json::json!({"upgrade": ["websocket"], "forceHTTP1Upstream": false})
    );
    assert_eq!(m["version"]["version"], "1.6.3");
}

#[test]
fn explain_human_shows_where_values_come_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(["explain", "examples/homelab"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Envoy Gateway 1.6.3"), "{text}");
    assert!(
        text.contains("ALPN [h2, http/1.1] (set by ClientTrafficPolicy network/envoy at kubernetes/apps/network/envoy-gateway/config/envoy.yaml:"),
        "{text}"
    );
    assert!(
        text.contains("WebSocket app: home-assistant, probe /api/websocket"),
        "{text}"
    );
}

fn explain(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .arg("explain")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// `--rule alpn-h2-first`: HTTPS listeners with their ALPN and the WebSocket routes on them,
/// then that rule's findings; nothing the rule does not read (the Backend API line, the
/// upgrade types of other rules' routes are still on the route lines shown).
#[test]
fn explain_rule_shows_what_the_rule_reads_and_its_findings() {
    let out = explain(&[
        "tests/fixtures/rules/alpn-h2-first/fires",
        "--rule",
        "alpn-h2-first",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Only what alpn-h2-first reads, and the findings."),
        "{text}"
    );
    assert!(
        text.contains("    listener https HTTPS :443 *.example.com"),
        "{text}"
    );
    assert!(
        text.contains(
            "      ALPN [h2, http/1.1] (set by ClientTrafficPolicy net/client at ctp.yaml:13:7)"
        ),
        "{text}"
    );
    assert!(
        text.contains("      HTTPRoute apps/app hosts [app.example.com] at route.yaml:"),
        "{text}"
    );
    assert!(!text.contains("Backend API"), "{text}");
    assert!(
        text.contains(
            "  findings:\n    ctp.yaml:13:7  warning  alpn-h2-first  ALPN sets [h2, http/1.1]"
        ),
        "{text}"
    );
    assert!(
        text.contains("      affects: HTTPRoute apps/app: app.example.com (route.yaml:"),
        "{text}"
    );

    // Another rule on the same repo: its own view, and no findings.
    let out = explain(&[
        "tests/fixtures/rules/alpn-h2-first/fires",
        "--rule",
        "backend-api-disabled",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Backend API: off"), "{text}");
    assert!(!text.contains("listener"), "{text}");
    assert!(!text.contains("ALPN"), "{text}");
    assert!(text.contains("  findings: none"), "{text}");

    // Without --rule: the whole model and no findings.
    let out = explain(&["tests/fixtures/rules/alpn-h2-first/fires"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Backend API") && text.contains("ALPN"),
        "{text}"
    );
    assert!(!text.contains("findings"), "{text}");
}

/// Two rules at once, and an ambiguous value shown as such.
#[test]
fn explain_rule_is_repeatable() {
    let repo = "tests/fixtures/rules/policy-conflict/ambiguous-alpn";
    let out = explain(&[repo, "--rule", "policy-conflict", "--rule", "alpn-h2-first"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Only what policy-conflict, alpn-h2-first read,"),
        "{text}"
    );
    assert!(text.contains("AMBIGUOUS"), "{text}");
    assert!(
        text.contains("  conflict: ClientTrafficPolicy on "),
        "{text}"
    );
    assert!(text.contains("warning  policy-conflict  "), "{text}");

    let out = explain(&[repo, "--rule", "policy-conflict"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("listener"), "{text}");
    assert!(text.contains("  conflict: "), "{text}");
}

#[test]
fn explain_rule_with_an_unknown_id_exits_2() {
    let out = explain(&[
        "tests/fixtures/rules/alpn-h2-first/fires",
        "--rule",
        "alpn-h2-frist",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("alpn-h2-frist") && err.contains("alpn-h2-first"),
        "{err}"
    );
}

#[test]
fn explain_rule_json_narrows_the_facts_and_adds_findings() {
    let out = explain(&[
        "tests/fixtures/rules/upstream-h2/fires",
        "--rule",
        "upstream-h2",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rules"], serde_json::json!(["upstream-h2"]));
    let m = &v["models"][0];
    assert_eq!(
        m["routes"]["net/gw/https"]["httproute/apps/app/rule/0"],
        serde_json::json!({"upgrade": ["websocket"], "forceHTTP1Upstream": false})
    );
    let findings = m["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], "upstream-h2");
    assert_eq!(findings[0]["location"]["path"], "service.yaml");

    // A rule that reads no listeners: the facts are empty, the whole model stays.
    let out = explain(&[
        "tests/fixtures/rules/upstream-h2/fires",
        "--rule",
        "unresolved-ref",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["models"][0];
    assert_eq!(m["listeners"], serde_json::json!({}));
    assert_eq!(m["routes"], serde_json::json!({}));
    assert_eq!(m["findings"], serde_json::json!([]));
    assert!(!m["model"]["listeners"].as_array().unwrap().is_empty());

    // Without --rule there is neither `rules` nor `findings`.
    let out = explain(&["tests/fixtures/rules/upstream-h2/fires", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("rules").is_none());
    assert!(v["models"][0].get("findings").is_none());
}
