//! `ws-fix scan` as a user runs it: exit codes, `--rule`, `--fail-on` and the output formats.

use std::process::{Command, Output};

fn ws_fix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs ws-fix")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const FIRES: &str = "tests/fixtures/rules/alpn-h2-first/fires";
const QUIET: &str = "tests/fixtures/rules/alpn-h2-first/quiet";
const IGNORED: &str = "tests/fixtures/rules/alpn-h2-first/ignored";
const NOTICE: &str = "tests/fixtures/rules/wss-without-tls/fires";

#[test]
fn a_warning_fails_by_default() {
    let out = ws_fix(&["scan", FIRES]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("ctp.yaml:13:7"), "{text}");
    assert!(text.contains("alpn-h2-first"), "{text}");
    assert!(
        text.contains("affects: HTTPRoute apps/app: app.example.com"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    assert!(
        text.lines().last().unwrap().contains("1 warning(s)"),
        "{text}"
    );
}

#[test]
fn clean_and_ignored_repos_pass() {
    assert_eq!(code(&ws_fix(&["scan", QUIET])), 0);
    let out = ws_fix(&["scan", IGNORED]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("ignored: gRPC clients need h2 first"));
}

#[test]
fn fail_on_sets_the_threshold() {
    assert_eq!(code(&ws_fix(&["scan", FIRES, "--fail-on", "error"])), 0);
    assert_eq!(code(&ws_fix(&["scan", NOTICE])), 0);
    assert_eq!(code(&ws_fix(&["scan", NOTICE, "--fail-on", "notice"])), 1);
    assert_eq!(code(&ws_fix(&["scan", FIRES, "--fail-on", "loud"])), 2);
}

#[test]
fn fail_on_defaults_to_the_repo_config() {
    let repo = "tests/fixtures/rules/alpn-h2-first/fail-on-error";
    assert_eq!(code(&ws_fix(&["scan", repo])), 0);
    assert_eq!(code(&ws_fix(&["scan", repo, "--fail-on", "warning"])), 1);
}

#[test]
fn rule_selects_rules_and_unknown_ids_exit_2() {
    let out = ws_fix(&["scan", FIRES, "--rule", "upstream-h2"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let out = ws_fix(&[
        "scan",
        FIRES,
        "--rule",
        "alpn-h2-first",
        "--rule",
        "upstream-h2",
    ]);
    assert_eq!(code(&out), 1);
    let out = ws_fix(&["scan", FIRES, "--rule", "alpn-h2-frist"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("alpn-h2-frist"), "{err}");
}

#[test]
fn a_missing_repo_exits_2() {
    assert_eq!(
        code(&ws_fix(&["scan", "tests/fixtures/rules/no-such-repo"])),
        2
    );
}

#[test]
fn json_output() {
    let out = ws_fix(&["scan", FIRES, "--format", "json"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = v["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["rule"], "alpn-h2-first");
    assert_eq!(findings[0]["location"]["path"], "ctp.yaml");
}

#[test]
fn sarif_output() {
    let out = ws_fix(&["scan", FIRES, "--format", "sarif"]);
    assert_eq!(code(&out), 1);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "alpn-h2-first");
    assert_eq!(results[0]["level"], "warning");
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 13);
}

#[test]
fn corpus_repos_fail_on_alpn() {
    for repo in [
        "bjw-s-labs__home-ops",
        "buroa__k8s-gitops",
        "onedr0p__home-ops",
    ] {
        let path = format!("../shared/corpus/{repo}");
        let out = ws_fix(&["scan", &path, "--format", "sarif"]);
        assert_eq!(code(&out), 1, "{repo}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert!(
            results.iter().any(|r| r["ruleId"] == "alpn-h2-first"),
            "{repo}"
        );
    }
}

/// The SARIF read back with the SARIF 2.1.0 types of serde-sarif, and the fields GitHub code
/// scanning requires: tool.driver.name and rules, results with ruleId, message.text, a
/// physical location with a relative artifact URI and a region with startLine.
#[test]
fn sarif_reads_back_with_sarif_types() {
    for repo in ["onedr0p__home-ops", "bjw-s-labs__home-ops"] {
        let path = format!("../shared/corpus/{repo}");
        let out = ws_fix(&["scan", &path, "--format", "sarif"]);
        let sarif: serde_sarif::sarif::Sarif =
            serde_json::from_slice(&out.stdout).expect("valid SARIF 2.1.0");
        let run = &sarif.runs[0];
        assert_eq!(run.tool.driver.name, "ws-fix");
        let rules = run.tool.driver.rules.as_ref().expect("rules");
        assert_eq!(rules.len(), 9);
        for r in rules {
            assert!(
                r.help.is_some() && r.short_description.is_some(),
                "{:?}",
                r.id
            );
        }
        let results = run.results.as_ref().expect("results");
        assert!(!results.is_empty());
        for res in results {
            assert!(res.rule_id.is_some());
            assert!(res.message.text.as_deref().is_some_and(|t| !t.is_empty()));
            let loc = &res.locations.as_ref().expect("locations")[0];
            let phys = loc.physical_location.as_ref().expect("physical location");
            let uri = phys
                .artifact_location
                .as_ref()
                .and_then(|a| a.uri.clone())
                .unwrap();
            assert!(!uri.starts_with('/'), "relative uri: {uri}");
            let region = phys.region.as_ref().expect("region");
            assert!(region.start_line.is_some_and(|l| l >= 1));
        }
        let alpn = results
            .iter()
            .find(|r| r.rule_id.as_deref() == Some("alpn-h2-first"))
            .unwrap();
        let related = alpn.related_locations.as_ref().expect("related locations");
        assert!(!related.is_empty());
    }
}

/// Repos where nothing is wrong for ws-fix: exit 0 and zero findings, ignored ones included.
fn assert_quiet(repo: &str) {
    let out = ws_fix(&["scan", repo, "--format", "json"]);
    assert_eq!(code(&out), 0, "{repo}: {}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["findings"], serde_json::json!([]), "{repo}");
    let out = ws_fix(&["scan", repo]);
    assert_eq!(code(&out), 0, "{repo}");
    assert!(
        stdout(&out).starts_with("0 error(s), 0 warning(s), 0 notice(s)"),
        "{repo}: {}",
        stdout(&out)
    );
}

fn explain_json(repo: &str) -> serde_json::Value {
    let out = ws_fix(&["explain", repo, "--format", "json"]);
    assert_eq!(code(&out), 0, "{repo}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Gateways of Cilium and Istio in front of Home Assistant and Grafana, no Envoy Gateway
/// install: the Gateways are seen (and said to be someone else's), nothing is reported.
#[test]
fn other_implementations_are_quiet() {
    let repo = "tests/fixtures/scan/other-implementation";
    assert_quiet(repo);
    let v = explain_json(repo);
    let gateways = v["models"][0]["model"]["gateways"].as_array().unwrap();
    assert_eq!(gateways.len(), 2, "{gateways:?}");
    assert_eq!(v["models"][0]["listeners"], serde_json::json!({}));
}

/// Traefik (IngressRoute and Ingress) in front of Home Assistant, no Gateway API at all.
#[test]
fn traefik_only_is_quiet() {
    let repo = "tests/fixtures/scan/traefik-only";
    assert_quiet(repo);
    let v = explain_json(repo);
    for m in v["models"].as_array().unwrap() {
        assert_eq!(m["model"]["gateways"], serde_json::json!([]));
        assert_eq!(m["model"]["routes"], serde_json::json!([]));
    }
}

/// An Envoy Gateway repo with WebSocket apps where everything is right: ALPN
/// `[http/1.1, h2]`, `httpUpgrade` with websocket, plain HTTP/1.1 backends. The model does see
/// the WebSocket routes (so the silence is not for want of looking).
#[test]
fn an_already_fixed_repo_is_quiet() {
    let repo = "tests/fixtures/scan/already-fixed";
    assert_quiet(repo);
    let v = explain_json(repo);
    let m = &v["models"][0];
    assert_eq!(m["entry_point"], "Kustomization flux-system/cluster-apps");
    assert_eq!(
        m["listeners"]["network/envoy-external/https"],
        serde_json::json!({"https": true, "alpn": ["http/1.1", "h2"]})
    );
    let routes = &m["routes"]["network/envoy-external/https"];
    for rule in [
        "httproute/home-automation/home-assistant/rule/0",
        "httproute/observability/grafana/rule/0",
    ] {
        assert_eq!(
            routes[rule],
            serde_json::json!({"upgrade": ["websocket"], "forceHTTP1Upstream": false}),
            "{rule}: {routes}"
        );
    }
    let websocket: Vec<_> = m["model"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["websocket"].is_null())
        .collect();
    assert_eq!(websocket.len(), 2, "{websocket:?}");
}
