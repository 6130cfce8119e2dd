//! Listener ALPN in Envoy Gateway's view: ClientTrafficPolicy precedence (section-specific,
//! ListenerSet-wide, Gateway-wide; no field merge), conflicts with and without creation
//! timestamps, target selectors, overlapping certificates and their version gates.

use crate::eg_support as support;

use support::{build, gateway, http, https};
use ws_fix::model::eg::{ConflictOrder, PolicyKind, TlsOverlap, Why};

fn ctp(name: &str, created: Option<&str>, target: &str, body: &str) -> String {
    let created = created
        .map(|c| format!("  creationTimestamp: \"{c}\"\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: gateway.envoyproxy.io/v1alpha1
kind: ClientTrafficPolicy
metadata:
  name: {name}
  namespace: net
{created}spec:
{target}{body}"
    )
}

const GW_WIDE: &str = "  targetRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: gw
";

fn section(s: &str) -> String {
    format!(
        "  targetRefs:
    - group: gateway.networking.k8s.io
      kind: Gateway
      name: gw
      sectionName: {s}
"
    )
}

fn two_https() -> String {
    gateway(&format!(
        "{}{}{}",
        https("https-a", 443, Some("a.example.com"), "cert-a"),
        https("https-b", 8443, Some("b.example.com"), "cert-b"),
        http("http", 80)
    ))
}

#[test]
fn default_alpn_points_at_the_listener_protocol() {
    let b = build(&[("gw.yaml", &two_https())], "1.9.0");
    let a = b.listener("net/gw/https-a");
    assert!(a.https);
    let alpn = a.alpn.as_ref().unwrap();
    assert_eq!(alpn.value, ["h2", "http/1.1"]);
    assert_eq!(alpn.why, Why::Default);
    assert_eq!(b.text(alpn.span), "HTTPS");
    let h = b.listener("net/gw/http");
    assert!(!h.https && h.alpn.is_none());
}

#[test]
fn section_policy_replaces_the_gateway_wide_one_without_merging() {
    let gw_wide = ctp(
        "wide",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1]\n",
    );
    let only_a = ctp(
        "only-a",
        None,
        &section("https-a"),
        "  timeout:\n    http:\n      idleTimeout: 5s\n",
    );
    let b = build(
        &[
            ("gw.yaml", &two_https()),
            ("p1.yaml", &gw_wide),
            ("p2.yaml", &only_a),
        ],
        "1.9.0",
    );
    // https-a: the section policy governs and sets no ALPN, so the default applies.
    let a = b.listener("net/gw/https-a");
    assert_eq!(a.client_policy.as_ref().unwrap().name, "only-a");
    let alpn = a.alpn.as_ref().unwrap();
    assert_eq!(alpn.value, ["h2", "http/1.1"]);
    assert_eq!(alpn.why, Why::Default);
    assert_eq!(b.text(alpn.span), "spec");
    // https-b: the Gateway-wide policy's list.
    let bb = b.listener("net/gw/https-b");
    let alpn = bb.alpn.as_ref().unwrap();
    assert_eq!(alpn.value, ["http/1.1"]);
    assert_eq!(alpn.why, Why::Set);
    assert_eq!(b.text(alpn.span), "[http/1.1]");
    assert!(b.model.conflicts.is_empty());
}

#[test]
fn the_tls_key_decides_when_the_policy_sets_no_alpn() {
    let p = ctp("wide", None, GW_WIDE, "  tls:\n    minVersion: \"1.2\"\n");
    let b = build(&[("gw.yaml", &two_https()), ("p.yaml", &p)], "1.9.0");
    let alpn = b.listener("net/gw/https-a").alpn.clone().unwrap();
    assert_eq!(alpn.why, Why::Default);
    assert_eq!(b.text(alpn.span), "tls");
    assert_eq!(alpn.resource.unwrap().name, "wide");
}

#[test]
fn empty_alpn_disables_from_1_3() {
    let p = ctp("wide", None, GW_WIDE, "  tls:\n    alpnProtocols: []\n");
    let files = [("gw.yaml", two_https()), ("p.yaml", p)];
    let files: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let new = build(&files, "1.3.0");
    assert!(
        new.listener("net/gw/https-a")
            .alpn
            .as_ref()
            .unwrap()
            .value
            .is_empty()
    );
    let old = build(&files, "1.2.0");
    assert_eq!(
        old.listener("net/gw/https-a").alpn.as_ref().unwrap().value,
        ["h2", "http/1.1"]
    );
}

#[test]
fn oldest_policy_wins_when_timestamps_order_them() {
    // By name `a-new` would come first; its later timestamp makes `z-old` win.
    let old = ctp(
        "z-old",
        Some("2024-01-01T00:00:00Z"),
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1, h2]\n",
    );
    let new = ctp(
        "a-new",
        Some("2025-01-01T00:00:00Z"),
        GW_WIDE,
        "  tls:\n    alpnProtocols: [h2, http/1.1]\n",
    );
    let b = build(
        &[
            ("gw.yaml", &two_https()),
            ("o.yaml", &old),
            ("n.yaml", &new),
        ],
        "1.9.0",
    );
    let alpn = b.listener("net/gw/https-a").alpn.clone().unwrap();
    assert_eq!(alpn.value, ["http/1.1", "h2"]);
    assert!(!alpn.ambiguous);
    let c = &b.model.conflicts;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, PolicyKind::ClientTrafficPolicy);
    assert_eq!(c[0].winner.name, "z-old");
    assert_eq!(c[0].losers[0].name, "a-new");
    assert_eq!(c[0].order, ConflictOrder::CreationTimestamp);
    assert_eq!(c[0].target, "Gateway net/gw");
}

#[test]
fn without_timestamps_the_winner_is_ambiguous() {
    let one = ctp(
        "a-one",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1, h2]\n",
    );
    let two = ctp(
        "b-two",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [h2, http/1.1]\n",
    );
    let b = build(
        &[
            ("gw.yaml", &two_https()),
            ("1.yaml", &one),
            ("2.yaml", &two),
        ],
        "1.9.0",
    );
    let alpn = b.listener("net/gw/https-a").alpn.clone().unwrap();
    // Envoy Gateway's tie-break (namespace/name), flagged as ambiguous.
    assert_eq!(alpn.value, ["http/1.1", "h2"]);
    assert!(alpn.ambiguous);
    assert_eq!(b.model.conflicts.len(), 1);
    assert_eq!(b.model.conflicts[0].order, ConflictOrder::Unknown);
    assert_eq!(b.model.conflicts[0].spans.len(), 2);
}

#[test]
fn a_conflict_between_equal_values_is_not_ambiguous() {
    let one = ctp(
        "a-one",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1]\n",
    );
    let two = ctp(
        "b-two",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1]\n",
    );
    let b = build(
        &[
            ("gw.yaml", &two_https()),
            ("1.yaml", &one),
            ("2.yaml", &two),
        ],
        "1.9.0",
    );
    assert!(
        !b.listener("net/gw/https-a")
            .alpn
            .as_ref()
            .unwrap()
            .ambiguous
    );
    assert_eq!(b.model.conflicts[0].order, ConflictOrder::Unknown);
}

#[test]
fn policies_in_other_namespaces_do_not_apply_through_target_refs() {
    let p = ctp(
        "wide",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1]\n",
    )
    .replace("namespace: net", "namespace: elsewhere");
    let b = build(&[("gw.yaml", &two_https()), ("p.yaml", &p)], "1.9.0");
    assert!(b.listener("net/gw/https-a").client_policy.is_none());
}

#[test]
fn target_selectors_match_labels_expressions_and_namespaces() {
    let gws = two_https().replace(
        "  name: gw\n  namespace: net\n",
        "  name: gw\n  namespace: net\n  labels:\n    edge: \"true\"\n    tier: public\n",
    );
    let selector = |body: &str| {
        ctp(
            "sel",
            None,
            body,
            "  tls:\n    alpnProtocols: [http/1.1, h2]\n",
        )
    };
    let by_label = selector(
        "  targetSelectors:\n    - group: gateway.networking.k8s.io\n      kind: Gateway\n      matchLabels:\n        edge: \"true\"\n",
    );
    let b = build(&[("gw.yaml", &gws), ("p.yaml", &by_label)], "1.9.0");
    assert_eq!(
        b.listener("net/gw/https-a").alpn.as_ref().unwrap().value,
        ["http/1.1", "h2"]
    );
    let by_expr = selector(
        "  targetSelectors:\n    - kind: Gateway\n      matchExpressions:\n        - {key: tier, operator: NotIn, values: [public]}\n",
    );
    let b = build(&[("gw.yaml", &gws), ("p.yaml", &by_expr)], "1.9.0");
    assert!(b.listener("net/gw/https-a").client_policy.is_none());

    // Across namespaces: `namespaces` plus a ReferenceGrant in the Gateway's namespace (1.8+).
    let cross =
        selector("  targetSelectors:\n    - kind: Gateway\n      namespaces:\n        from: All\n")
            .replace("namespace: net", "namespace: policies");
    let grant = "apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: allow-policies
  namespace: net
spec:
  from:
    - group: gateway.envoyproxy.io
      kind: ClientTrafficPolicy
      namespace: policies
  to:
    - group: gateway.networking.k8s.io
      kind: Gateway
";
    let without = build(&[("gw.yaml", &gws), ("p.yaml", &cross)], "1.9.0");
    assert!(without.listener("net/gw/https-a").client_policy.is_none());
    let with = build(
        &[("gw.yaml", &gws), ("p.yaml", &cross), ("g.yaml", grant)],
        "1.9.0",
    );
    assert!(with.listener("net/gw/https-a").client_policy.is_some());
    let before = build(
        &[("gw.yaml", &gws), ("p.yaml", &cross), ("g.yaml", grant)],
        "1.7.0",
    );
    assert!(before.listener("net/gw/https-a").client_policy.is_none());
}

/// Two HTTPS listeners on 443 whose cert-manager certificates share `*.example.com`.
fn overlapping() -> Vec<(&'static str, String)> {
    let gw = gateway(&format!(
        "{}{}",
        https("a", 443, Some("a.example.com"), "cert-a"),
        https("b", 443, Some("b.example.com"), "cert-b")
    ));
    let cert = |name: &str| {
        format!(
            "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {name}
  namespace: net
spec:
  secretName: {name}
  dnsNames: [\"*.example.com\", example.com]
  issuerRef: {{name: le, kind: ClusterIssuer}}
"
        )
    };
    vec![
        ("gw.yaml", gw),
        ("ca.yaml", cert("cert-a")),
        ("cb.yaml", cert("cert-b")),
    ]
}

fn refs<'f>(files: &'f [(&'static str, String)]) -> Vec<(&'static str, &'f str)> {
    files.iter().map(|(a, b)| (*a, b.as_str())).collect()
}

#[test]
fn overlapping_certificates_switch_h2_off() {
    let files = overlapping();
    let b = build(&refs(&files), "1.9.0");
    let a = b.listener("net/gw/a");
    assert!(matches!(
        a.tls_overlap,
        Some(TlsOverlap::CertificateNames { .. })
    ));
    let alpn = a.alpn.as_ref().unwrap();
    assert_eq!(alpn.value, ["http/1.1"]);
    assert_eq!(alpn.why, Why::OverlappingTls);
    // Before 1.4 Envoy Gateway did not look.
    let old = build(&refs(&files), "1.3.3");
    assert_eq!(
        old.listener("net/gw/a").alpn.as_ref().unwrap().value,
        ["h2", "http/1.1"]
    );
}

#[test]
fn an_explicit_alpn_wins_over_the_overlap_from_1_4_1() {
    let mut files = overlapping();
    files.push((
        "p.yaml",
        ctp(
            "wide",
            None,
            GW_WIDE,
            "  tls:\n    alpnProtocols: [h2, http/1.1]\n",
        ),
    ));
    let b = build(&refs(&files), "1.4.1");
    let alpn = b.listener("net/gw/a").alpn.clone().unwrap();
    assert_eq!(alpn.value, ["h2", "http/1.1"]);
    assert_eq!(alpn.why, Why::Set);
    let b = build(&refs(&files), "1.4.0");
    let alpn = b.listener("net/gw/a").alpn.clone().unwrap();
    assert_eq!(alpn.value, ["http/1.1"]);
    assert_eq!(alpn.why, Why::OverlappingTls);
}

#[test]
fn overlapping_hostnames_count_before_1_8_only() {
    let gw = gateway(&format!(
        "{}{}",
        https("wild", 443, Some("*.example.com"), "c1"),
        https("one", 443, Some("one.example.com"), "c2")
    ));
    let old = build(&[("gw.yaml", &gw)], "1.7.0");
    assert!(matches!(
        old.listener("net/gw/wild").tls_overlap,
        Some(TlsOverlap::Hostnames { .. })
    ));
    assert_eq!(
        old.listener("net/gw/one").alpn.as_ref().unwrap().value,
        ["http/1.1"]
    );
    let new = build(&[("gw.yaml", &gw)], "1.8.0");
    assert!(new.listener("net/gw/wild").tls_overlap.is_none());
}

#[test]
fn listener_set_policies_sit_between_section_and_gateway() {
    let gw = gateway(&https("main", 443, None, "c")).replace(
        "spec:\n  gatewayClassName: eg\n",
        "spec:\n  gatewayClassName: eg\n  allowedListeners:\n    namespaces:\n      from: All\n",
    );
    let ls = "apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: extra
  namespace: net
spec:
  parentRef:
    name: gw
  listeners:
    - name: more
      protocol: HTTPS
      port: 8443
      tls:
        certificateRefs:
          - name: c
";
    let wide = ctp(
        "wide",
        None,
        GW_WIDE,
        "  tls:\n    alpnProtocols: [http/1.1]\n",
    );
    let set_wide = ctp(
        "set-wide",
        None,
        "  targetRefs:\n    - group: gateway.networking.k8s.io\n      kind: ListenerSet\n      name: extra\n",
        "  tls:\n    alpnProtocols: [http/1.1, h2]\n",
    );
    let b = build(
        &[
            ("gw.yaml", &gw),
            ("ls.yaml", ls),
            ("w.yaml", &wide),
            ("s.yaml", &set_wide),
        ],
        "1.9.0",
    );
    assert_eq!(
        b.listener("net/gw/main").alpn.as_ref().unwrap().value,
        ["http/1.1"]
    );
    let more = b.listener("net/gw/net/extra/more");
    assert_eq!(more.alpn.as_ref().unwrap().value, ["http/1.1", "h2"]);
    assert_eq!(more.client_policy.as_ref().unwrap().name, "set-wide");
    // Before 1.9 Envoy Gateway has no ListenerSets.
    let old = build(&[("gw.yaml", &gw), ("ls.yaml", ls)], "1.8.3");
    assert!(old.model.listeners.iter().all(|l| l.listener_set.is_none()));
}

#[test]
fn missing_secrets_are_assumed_in_a_repo_and_fatal_in_a_closed_world() {
    let gw = gateway(&https("a", 443, None, "not-in-repo"));
    let open = build(&[("gw.yaml", &gw)], "1.9.0");
    assert!(open.listener("net/gw/a").https);
    let closed = support::build_with(
        &[("gw.yaml", &gw)],
        &support::config("1.9.0"),
        &ws_fix::model::eg::Options {
            closed_world: true,
            namespaces: Vec::new(),
        },
    );
    assert!(!closed.listener("net/gw/a").https);
}
