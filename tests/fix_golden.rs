//! Golden tests of the fixer on the fixture repos under `tests/fixtures/fix/<case>/`: per case,
//! the diff of every file each plan writes, the pull request body of every plan and the
//! findings left without a fix are snapshotted (`tests/snapshots/`), and every plan is checked
//! for what any pull request must hold (the files parse, the fingerprint, the metadata line).
//! The declines are also asserted directly.

mod common;

use std::path::PathBuf;

use ws_fix::catalogue::{FixKind, RuleId};
use ws_fix::fix::{Fixes, Plan};
use ws_fix::load::{DEFAULT_MAX_FILE_SIZE, Loaded};
use ws_fix::report::location::describe;
use ws_fix::report::pr::{Metadata, PullRequest};
use ws_fix::workspace::Workspace;
use ws_fix::yaml::{Limits, parse_stream};

struct Run {
    loaded: Loaded,
    fixes: Fixes,
    prs: Vec<PullRequest>,
}

impl Run {
    fn plan(&self, kind: FixKind) -> Option<&Plan> {
        self.fixes.plans.iter().find(|p| p.kind == kind)
    }

    fn kinds(&self) -> Vec<FixKind> {
        self.fixes.plans.iter().map(|p| p.kind).collect()
    }

    /// The reasons of the declines of `rule`.
    fn declined(&self, rule: RuleId) -> Vec<(Option<FixKind>, &str)> {
        self.fixes
            .declined
            .iter()
            .filter(|d| d.rule == rule)
            .map(|d| (d.kind, d.reason.as_str()))
            .collect()
    }

    fn new_files(&self) -> Vec<&str> {
        self.fixes
            .plans
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| f.before.is_none())
            .map(|f| f.path.as_str())
            .collect()
    }
}

/// Plans the fixes of `tests/fixtures/fix/<case>` as `ws-fix fix` does (no commit history: plain
/// titles), and checks every plan.
fn run(case: &str) -> Run {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/fix", case]
        .iter()
        .collect();
    let ws = Workspace::open(&dir, None).expect("open fixture");
    let loaded = ws.load(DEFAULT_MAX_FILE_SIZE).expect("load");
    let fixes = ws_fix::fix::plan(
        &ws.snapshot,
        &loaded,
        &ws.load_options(DEFAULT_MAX_FILE_SIZE),
        &ws.catalogue,
        &ws.config,
        &[],
    );
    let prs = ws_fix::report::pr::pull_requests(&fixes.plans, &loaded, &ws.catalogue, &[]);
    let run = Run { loaded, fixes, prs };
    for (plan, pr) in run.fixes.plans.iter().zip(&run.prs) {
        check_plan(case, plan, pr);
    }
    run
}

/// What every plan and its pull request must hold.
fn check_plan(case: &str, plan: &Plan, pr: &PullRequest) {
    let kind = plan.kind.as_str();
    assert!(
        !plan.files.is_empty(),
        "{case} {kind}: a plan without files"
    );
    for f in &plan.files {
        let docs = parse_stream(&f.after, &Limits::default())
            .unwrap_or_else(|e| panic!("{case} {kind}: {} does not parse: {e}", f.path));
        assert!(!docs.is_empty(), "{case} {kind}: {} is empty", f.path);
        let (_, failures) = common::validate_against_schemas(&f.after);
        assert!(
            failures.is_empty(),
            "{case} {kind}: {} does not validate against the CRD schemas: {failures:?}",
            f.path
        );
        assert_ne!(
            f.before.as_deref(),
            Some(f.after.as_str()),
            "{case} {kind}: {} unchanged",
            f.path
        );
    }
    assert!(
        plan.fingerprint.starts_with("sha256:") && plan.fingerprint.len() == 7 + 64,
        "{case} {kind}: fingerprint {}",
        plan.fingerprint
    );
    assert_eq!(pr.kind, plan.kind);
    let last = pr.body.trim_end().lines().last().unwrap_or("");
    assert!(
        last.starts_with("<!-- ws-fix: {") && last.ends_with("} -->"),
        "{case} {kind}: the body ends with {last:?}"
    );
    let (meta, intact) = Metadata::read(&pr.body).expect("the metadata line reads back");
    assert!(
        intact,
        "{case} {kind}: the body does not match its metadata"
    );
    assert_eq!(meta.v, 1);
    assert_eq!(meta.kind, kind);
    assert_eq!(meta.fingerprint, plan.fingerprint);
}

/// The snapshot text: per plan its title, fingerprint, diffs and body; then the declines.
fn render(run: &Run) -> String {
    let mut out = String::new();
    for (plan, pr) in run.fixes.plans.iter().zip(&run.prs) {
        out.push_str(&format!("=== {} ({})\n", pr.title, pr.branch));
        out.push_str(&format!("fingerprint: {}\n\n", plan.fingerprint));
        for f in &plan.files {
            out.push_str(&ws_fix::report::fix::diff(f));
        }
        out.push_str("\n--- body\n");
        out.push_str(&pr.body);
        out.push('\n');
    }
    if run.fixes.plans.is_empty() {
        out.push_str("No fix to propose.\n");
    }
    out.push_str("=== declined\n");
    for d in &run.fixes.declined {
        out.push_str(&format!(
            "- {} at {}{}: {}\n",
            d.rule.as_str(),
            describe(&run.loaded, d.location),
            d.kind
                .map_or(String::new(), |k| format!(" ({})", k.as_str())),
            d.reason
        ));
    }
    out
}

fn golden(case: &str) -> Run {
    let run = run(case);
    insta::assert_snapshot!(case, render(&run));
    run
}

/// The text of the one file a plan writes at `path`.
fn after<'r>(run: &'r Run, kind: FixKind, path: &str) -> &'r str {
    let plan = run
        .plan(kind)
        .unwrap_or_else(|| panic!("no {} plan", kind.as_str()));
    plan.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{} does not write {path}", kind.as_str()))
        .after
        .as_str()
}

// 1. alpn-order

#[test]
fn alpn_flow_list_is_swapped_in_place_with_its_comment() {
    let run = golden("alpn-flow-comment");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    let text = after(&run, FixKind::AlpnOrder, "ctp.yaml");
    assert!(
        text.contains("    alpnProtocols: [http/1.1, h2] # browsers get h2 first\n"),
        "{text}"
    );
    // Anchors, aliases and variables next to the edit are untouched.
    let before = std::fs::read_to_string(
        [
            env!("CARGO_MANIFEST_DIR"),
            "tests/fixtures/fix/alpn-flow-comment/ctp.yaml",
        ]
        .iter()
        .collect::<PathBuf>(),
    )
    .unwrap();
    assert_eq!(
        text,
        before.replace("[h2, http/1.1]", "[http/1.1, h2]"),
        "only the list changes"
    );
    assert!(run.new_files().is_empty());
}

#[test]
fn alpn_block_list_keeps_its_item_comments() {
    let run = golden("alpn-block-comments");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    let text = after(&run, FixKind::AlpnOrder, "ctp.yaml");
    assert!(
        text.ends_with("      # offered in this order\n      - http/1.1 # then HTTP/1.1\n      - h2 # HTTP/2 first\n"),
        "{text}"
    );
}

#[test]
fn alpn_policy_inside_a_seven_document_file() {
    let run = golden("alpn-multidoc");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    let plan = run.plan(FixKind::AlpnOrder).unwrap();
    assert_eq!(plan.files.len(), 1);
    let f = &plan.files[0];
    assert_eq!(f.path, "network.yaml");
    let before = f.before.as_deref().unwrap();
    assert_eq!(
        f.after,
        before.replacen(
            "      - h2\n      - http/1.1\n",
            "      - http/1.1\n      - h2\n",
            1
        )
    );
    assert_eq!(parse_stream(&f.after, &Limits::default()).unwrap().len(), 7);
}

#[test]
fn alpn_field_is_added_to_an_existing_tls_block() {
    let run = golden("alpn-tls-no-list");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    let text = after(&run, FixKind::AlpnOrder, "ctp.yaml");
    assert!(
        text.contains("  tls:\n    minVersion: \"1.2\"\n    alpnProtocols:\n      - http/1.1\n      - h2\n  timeout:\n"),
        "{text}"
    );
    assert!(run.new_files().is_empty());
}

#[test]
fn alpn_tls_block_is_added_to_a_policy_without_one() {
    let run = golden("alpn-no-tls");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    let text = after(&run, FixKind::AlpnOrder, "ctp.yaml");
    assert!(
        text.ends_with(
            "      idleTimeout: 1h\n  tls:\n    alpnProtocols:\n      - http/1.1\n      - h2\n"
        ),
        "{text}"
    );
    assert!(run.new_files().is_empty());
}

#[test]
fn alpn_new_policy_listed_in_a_flush_kustomization() {
    let run = golden("alpn-new-flush");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    assert_eq!(
        run.new_files(),
        ["kubernetes/network/clienttrafficpolicy.yaml"]
    );
    let k = after(
        &run,
        FixKind::AlpnOrder,
        "kubernetes/network/kustomization.yaml",
    );
    assert!(
        k.ends_with("resources:\n- ./gateway.yaml\n- ./clienttrafficpolicy.yaml\n"),
        "{k}"
    );
}

#[test]
fn alpn_new_policy_listed_in_an_indented_kustomization() {
    let run = golden("alpn-new-indented");
    assert_eq!(run.kinds(), [FixKind::AlpnOrder]);
    assert_eq!(
        run.new_files(),
        ["kubernetes/network/clienttrafficpolicy.yaml"]
    );
    let k = after(
        &run,
        FixKind::AlpnOrder,
        "kubernetes/network/kustomization.yaml",
    );
    assert!(
        k.contains("resources:\n  - gateway.yaml # the shared gateway\n  - clienttrafficpolicy.yaml\nlabels:\n"),
        "{k}"
    );
    // The namespace comes from the kustomization, as the Gateway's does.
    let ctp = after(
        &run,
        FixKind::AlpnOrder,
        "kubernetes/network/clienttrafficpolicy.yaml",
    );
    assert!(!ctp.contains("namespace:"), "{ctp}");
}

// 2. http-upgrade

#[test]
fn upgrade_websocket_is_added_to_the_flow_list() {
    let run = golden("upgrade-in-place");
    assert_eq!(run.kinds(), [FixKind::HttpUpgrade]);
    let text = after(&run, FixKind::HttpUpgrade, "btp.yaml");
    assert!(
        text.contains("  httpUpgrade: [{type: spdy/3.1}, {type: websocket}] # kubectl exec\n"),
        "{text}"
    );
    assert!(!run.plan(FixKind::HttpUpgrade).unwrap().no_op);
}

#[test]
fn upgrade_explicit_declaration_is_a_no_op() {
    let run = golden("upgrade-explicit");
    assert_eq!(run.kinds(), [FixKind::HttpUpgrade]);
    let plan = run.plan(FixKind::HttpUpgrade).unwrap();
    assert!(plan.no_op);
    assert!(plan.findings.is_empty());
    let text = after(&run, FixKind::HttpUpgrade, "btp.yaml");
    assert!(
        text.ends_with("    type: RoundRobin\n  httpUpgrade:\n    - type: websocket\n"),
        "{text}"
    );
    assert!(
        run.prs[0].body.contains("changes no behaviour"),
        "{}",
        run.prs[0].body
    );
}

#[test]
fn upgrade_beside_request_buffer_is_declined() {
    let run = golden("upgrade-request-buffer");
    assert!(
        run.plan(FixKind::HttpUpgrade).is_none(),
        "{:?}",
        run.kinds()
    );
    assert!(
        run.fixes
            .plans
            .iter()
            .all(|p| p.files.iter().all(|f| f.path != "btp.yaml"))
    );
    let declined = run.declined(RuleId::UpgradeDisabled);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert_eq!(declined[0].0, Some(FixKind::HttpUpgrade));
    assert!(declined[0].1.contains("requestBuffer"), "{}", declined[0].1);
}

// 3. ws-app-protocol

#[test]
fn ws_app_protocol_in_app_template_values() {
    let run = golden("ws-app-template");
    assert_eq!(run.kinds(), [FixKind::WsAppProtocol]);
    let text = after(&run, FixKind::WsAppProtocol, "home/home-assistant.yaml");
    assert!(
        text.contains("            port: &port 8123\n            appProtocol: kubernetes.io/ws\n"),
        "{text}"
    );
}

#[test]
fn ws_app_protocol_replaces_h2c_in_a_service_manifest() {
    let run = golden("ws-service-h2c");
    assert_eq!(run.kinds(), [FixKind::WsAppProtocol]);
    let text = after(&run, FixKind::WsAppProtocol, "service.yaml");
    assert!(
        text.contains("      appProtocol: kubernetes.io/ws # gRPC-web sidecar\n"),
        "{text}"
    );
}

// 4. backend

#[test]
fn backend_with_ws_and_the_backend_api_enabled() {
    let run = golden("backend-h2c");
    assert_eq!(run.kinds(), [FixKind::Backend]);
    assert_eq!(run.new_files(), ["apps/app/backend-app.yaml"]);
    let route = after(&run, FixKind::Backend, "apps/app/route.yaml");
    assert!(route.contains("name: app-ws"), "{route}");
    assert!(route.contains("kind: Backend"), "{route}");
    assert!(route.contains("group: gateway.envoyproxy.io"), "{route}");
    let k = after(&run, FixKind::Backend, "apps/app/kustomization.yaml");
    assert!(
        k.ends_with("  - ./route.yaml\n  - ./backend-app.yaml\n"),
        "{k}"
    );
    let hr = after(&run, FixKind::Backend, "network/envoy-gateway.yaml");
    assert!(
        hr.contains(
            "            default: info\n        extensionApis:\n          enableBackend: true\n"
        ),
        "{hr}"
    );
    // Carried by the backend plan: no separate enable-backend plan.
    assert!(run.plan(FixKind::EnableBackend).is_none());
}

#[test]
fn an_app_outside_the_cluster_gets_a_backend_at_its_own_name() {
    let run = golden("backend-external");
    assert_eq!(run.kinds(), [FixKind::Backend]);
    let backend = after(&run, FixKind::Backend, "apps/app/backend-app.yaml");
    assert!(
        backend.contains("hostname: homeassistant.home.arpa"),
        "{backend}"
    );
    let hr = after(&run, FixKind::Backend, "network/envoy-gateway.yaml");
    assert!(hr.contains("enableBackend: true"), "{hr}");
}

// 5. Declines

#[test]
fn a_version_that_ignores_ws_gets_the_upgrade_advice() {
    let run = golden("decline-eg-1.6.3");
    assert!(run.fixes.plans.is_empty(), "{:?}", run.kinds());
    let declined = run.declined(RuleId::UpstreamH2);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert!(declined[0].1.contains("1.6.3"), "{}", declined[0].1);
    assert!(
        declined[0].1.contains("upgrade Envoy Gateway"),
        "{}",
        declined[0].1
    );
}

#[test]
fn an_unknown_version_gets_no_app_protocol_fix() {
    let run = golden("decline-digest");
    assert!(
        run.plan(FixKind::WsAppProtocol).is_none(),
        "{:?}",
        run.kinds()
    );
    assert!(run.plan(FixKind::Backend).is_none(), "{:?}", run.kinds());
    let declined = run.declined(RuleId::UpstreamH2);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert!(declined[0].1.contains("unknown"), "{}", declined[0].1);
}

#[test]
fn a_gateway_governed_by_a_policy_gets_no_second_one() {
    let run = golden("decline-second-policy");
    assert!(run.new_files().is_empty(), "{:?}", run.new_files());
    for case in [
        "alpn-block-comments",
        "alpn-tls-no-list",
        "alpn-no-tls",
        "alpn-multidoc",
    ] {
        assert!(self::run(case).new_files().is_empty(), "{case}");
    }
}

#[test]
fn no_backend_without_the_backend_api_in_the_repo() {
    let run = golden("decline-backend-no-install");
    assert!(run.plan(FixKind::Backend).is_none(), "{:?}", run.kinds());
    assert!(run.new_files().is_empty());
    let declined = run.declined(RuleId::UpstreamH2);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert_eq!(declined[0].0, Some(FixKind::Backend));
    assert!(declined[0].1.contains("enableBackend"), "{}", declined[0].1);
}

#[test]
fn wss_app_protocol_added_for_a_tls_backend_in_app_template_values() {
    let run = golden("ws-app-template-tls");
    assert_eq!(run.kinds(), [FixKind::WsAppProtocol]);
    let text = after(&run, FixKind::WsAppProtocol, "home/home-assistant.yaml");
    assert!(
        text.contains(
            "            port: &port 8123\n            appProtocol: kubernetes.io/wss\n    route:\n"
        ),
        "{text}"
    );
}
