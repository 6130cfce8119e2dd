//! Resources that operators create from their custom resources. Today: the grafana-operator
//! `Grafana` CR's `spec.httpRoute` (an HTTPRoute `<name>-httproute` whose rules, when none are
//! given, go to the operator's Service `<name>-service` on the Grafana port, 3000 unless
//! `spec.config.server.http_port` says otherwise), and that Service.

use crate::model::resource::Origin;
use crate::yaml::Node;

use super::item::Item;
use super::tree::{self, map, scalar, seq, string};

pub const GRAFANA_GROUP: &str = "grafana.integreatly.org";

/// The HTTPRoute and Service of a `Grafana` CR with `spec.httpRoute`.
pub fn grafana(cr: &Item) -> Vec<Item> {
    let Some(route) = cr
        .node
        .path(&["spec", "httpRoute"])
        .filter(|r| r.as_map().is_some())
    else {
        return Vec::new();
    };
    let origin = Origin::Operator { owner: cr.key() };
    let span = route.span;
    let name = cr.name();
    let service_name = format!("{name}-service");
    let port_node = cr
        .node
        .path(&["spec", "config", "server", "http_port"])
        .filter(|p| p.as_text().is_some_and(|t| t.parse::<u16>().is_ok()));
    let port_text = port_node.and_then(Node::as_text).unwrap_or("3000");
    let port_span = port_node.map_or(span, |p| p.span);
    let namespace = cr.namespace().map(|ns| scalar(ns, span));

    let backend = || {
        let mut entries = vec![
            ("group", string("", span)),
            ("kind", scalar("Service", span)),
            ("name", string(&service_name, span)),
        ];
        if let Some(ns) = &namespace {
            entries.push(("namespace", ns.clone()));
        }
        entries.push(("port", scalar(port_text, port_span)));
        map(span, entries)
    };
    let spec = route.get("spec");
    let mut spec_node = spec
        .filter(|s| s.as_map().is_some())
        .cloned()
        .unwrap_or_else(|| map(span, Vec::new()));
    let rules = tree::items(spec.and_then(|s| s.get("rules")));
    let built_rules: Vec<Node> = if rules.is_empty() {
        vec![map(span, vec![("backendRefs", seq(span, vec![backend()]))])]
    } else {
        rules
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if tree::items(r.get("backendRefs")).is_empty() {
                    let s = r.span;
                    tree::set(&mut r, "backendRefs", s, seq(s, vec![backend()]));
                }
                r
            })
            .collect()
    };
    tree::set(&mut spec_node, "rules", span, seq(span, built_rules));

    let mut meta = vec![("name", string(&format!("{name}-httproute"), span))];
    if let Some(ns) = &namespace {
        meta.push(("namespace", ns.clone()));
    }
    for k in ["annotations", "labels"] {
        if let Some(v) = route
            .path(&["metadata", k])
            .filter(|v| v.as_map().is_some())
        {
            meta.push((k, v.clone()));
        }
    }
    let http_route = map(
        span,
        vec![
            ("apiVersion", scalar("gateway.networking.k8s.io/v1", span)),
            ("kind", scalar("HTTPRoute", span)),
            ("metadata", map(span, meta)),
            ("spec", spec_node),
        ],
    );

    let mut svc_meta = vec![("name", string(&service_name, span))];
    if let Some(ns) = &namespace {
        svc_meta.push(("namespace", ns.clone()));
    }
    let service = map(
        span,
        vec![
            ("apiVersion", scalar("v1", span)),
            ("kind", scalar("Service", span)),
            ("metadata", map(span, svc_meta)),
            (
                "spec",
                map(
                    span,
                    vec![(
                        "ports",
                        seq(
                            span,
                            vec![map(
                                span,
                                vec![
                                    ("name", scalar("grafana", span)),
                                    ("port", scalar(port_text, port_span)),
                                    ("targetPort", scalar("grafana-http", span)),
                                    ("protocol", scalar("TCP", span)),
                                ],
                            )],
                        ),
                    )],
                ),
            ),
        ],
    );
    [http_route, service]
        .into_iter()
        .map(|node| Item {
            node,
            span,
            origin: origin.clone(),
        })
        .collect()
}
