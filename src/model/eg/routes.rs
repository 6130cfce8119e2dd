//! Routes and where they attach: `parentRefs` to Gateways and ListenerSets (section name,
//! port), the listener's `allowedRoutes` (kinds, namespaces), and hostname intersection.

use crate::model::Resource;
use crate::yaml::Node;

use super::hostname;
use super::index::{GATEWAY_API, GATEWAY_API_X, Index, items, key, ns, text};
use super::listeners::ListenerSetInfo;
use super::types::{
    AllowedNamespaces, Attachment, Gateway, Listener, ListenerState, ParentRef, Route, RouteKind,
    RouteRule, UnresolvedRef,
};

/// Reads every route of the set and attaches it.
pub(crate) fn read<'a>(
    index: &Index<'a>,
    gateways: &[Gateway],
    listeners: &[Listener],
    sets: &[ListenerSetInfo],
    unresolved: &mut Vec<UnresolvedRef>,
) -> Vec<(Route, &'a Resource)> {
    let mut out = Vec::new();
    for kind in [
        RouteKind::Http,
        RouteKind::Grpc,
        RouteKind::Tcp,
        RouteKind::Tls,
    ] {
        for r in index.all(kind.as_str()) {
            if r.group() != GATEWAY_API && r.group() != GATEWAY_API_X {
                continue;
            }
            out.push((
                route(index, r, kind, gateways, listeners, sets, unresolved),
                r,
            ));
        }
    }
    out
}

fn route(
    index: &Index<'_>,
    r: &Resource,
    kind: RouteKind,
    gateways: &[Gateway],
    listeners: &[Listener],
    sets: &[ListenerSetInfo],
    unresolved: &mut Vec<UnresolvedRef>,
) -> Route {
    let spec = r.spec();
    let hostnames: Vec<String> = items(spec.and_then(|s| s.get("hostnames")))
        .filter_map(|h| h.as_text().map(str::to_owned))
        .collect();
    let route_ns = ns(r);
    let parents = items(spec.and_then(|s| s.get("parentRefs")))
        .map(|p| {
            parent(
                index, r, kind, route_ns, &hostnames, p, gateways, listeners, sets, unresolved,
            )
        })
        .collect();
    let rules = items(spec.and_then(|s| s.get("rules")))
        .enumerate()
        .map(|(index, rule)| RouteRule {
            index,
            name: text(rule, "name").map(str::to_owned),
            span: rule.span,
            backends: Vec::new(),
            on_listeners: Vec::new(),
        })
        .collect();
    Route {
        kind,
        key: key(r),
        origin: r.origin.clone(),
        span: r.span,
        hostnames,
        parents,
        rules,
        websocket: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn parent(
    index: &Index<'_>,
    r: &Resource,
    kind: RouteKind,
    route_ns: &str,
    hostnames: &[String],
    p: &Node,
    gateways: &[Gateway],
    listeners: &[Listener],
    sets: &[ListenerSetInfo],
    unresolved: &mut Vec<UnresolvedRef>,
) -> ParentRef {
    let pkind = text(p, "kind").unwrap_or("Gateway").to_owned();
    let namespace = text(p, "namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or(route_ns)
        .to_owned();
    let name = text(p, "name").unwrap_or("").to_owned();
    let section_name = text(p, "sectionName").map(str::to_owned);
    let port = p
        .get("port")
        .and_then(|n| n.as_i64().or_else(|| n.as_text()?.trim().parse().ok()));
    let mut out = ParentRef {
        kind: pkind.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        section_name,
        port,
        span: p.span,
        attached: Vec::new(),
        not_attached: None,
    };
    let group = text(p, "group").unwrap_or(GATEWAY_API);
    // The listeners this parent names.
    let candidates: Vec<&Listener> = match pkind.as_str() {
        "Gateway" if group == GATEWAY_API => {
            match gateways
                .iter()
                .find(|g| g.key.namespace == namespace && g.key.name == name)
            {
                None => {
                    unresolved.push(UnresolvedRef {
                        from: key(r),
                        to: format!("Gateway {namespace}/{name}"),
                        reason: "the Gateway is not in the repo".into(),
                        span: p.span,
                    });
                    out.not_attached = Some("the Gateway is not in the repo".into());
                    return out;
                }
                Some(g) if !g.management.is_eg() => {
                    out.not_attached = Some(format!(
                        "the Gateway belongs to another implementation (class {})",
                        g.class
                    ));
                    return out;
                }
                Some(g) => listeners
                    .iter()
                    .filter(|l| l.gateway == g.key && l.listener_set.is_none())
                    .collect(),
            }
        }
        "ListenerSet" | "XListenerSet" if group == GATEWAY_API || group == GATEWAY_API_X => {
            match sets
                .iter()
                .find(|s| s.key.namespace == namespace && s.key.name == name)
            {
                None => {
                    unresolved.push(UnresolvedRef {
                        from: key(r),
                        to: format!("ListenerSet {namespace}/{name}"),
                        reason: "the ListenerSet is not in the repo".into(),
                        span: p.span,
                    });
                    out.not_attached = Some("the ListenerSet is not in the repo".into());
                    return out;
                }
                Some(s) if !s.accepted => {
                    out.not_attached = Some(format!(
                        "the ListenerSet is not accepted by Gateway {}/{}",
                        s.gateway.namespace, s.gateway.name
                    ));
                    return out;
                }
                Some(s) => listeners
                    .iter()
                    .filter(|l| l.listener_set.as_ref() == Some(&s.key))
                    .collect(),
            }
        }
        _ => {
            out.not_attached = Some(format!("parent kind {pkind} is not supported"));
            return out;
        }
    };
    let mut reasons: Vec<String> = Vec::new();
    for l in candidates {
        if out.section_name.as_ref().is_some_and(|s| *s != l.name) {
            continue;
        }
        if out.port.is_some_and(|p| Some(p) != l.port) {
            continue;
        }
        if let ListenerState::Invalid { reason } = &l.state {
            reasons.push(format!("listener {} is not programmed: {reason}", l.name));
            continue;
        }
        if !l.allowed.kinds.iter().any(|k| k == kind.as_str()) {
            reasons.push(format!(
                "listener {} does not take {}",
                l.name,
                kind.as_str()
            ));
            continue;
        }
        if !index.namespace_exists(route_ns) {
            reasons.push(format!("namespace {route_ns} does not exist"));
            continue;
        }
        let ns_ok = match &l.allowed.namespaces {
            AllowedNamespaces::All => true,
            AllowedNamespaces::Same => route_ns == l.namespace,
            AllowedNamespaces::Selector(sel) => index
                .namespace_labels(route_ns)
                .is_some_and(|labels| sel.matches(&labels)),
        };
        if !ns_ok {
            reasons.push(format!(
                "listener {} does not allow routes from namespace {route_ns}",
                l.name
            ));
            continue;
        }
        let hosts = match kind {
            RouteKind::Tcp => vec!["*".to_owned()],
            _ => hostname::intersect(l.hostname.as_deref(), hostnames),
        };
        if hosts.is_empty() {
            reasons.push(format!("no hostname in common with listener {}", l.name));
            continue;
        }
        out.attached.push(Attachment {
            listener: l.key.clone(),
            hostnames: hosts,
        });
    }
    if out.attached.is_empty() {
        out.not_attached = Some(if reasons.is_empty() {
            "no listener matches its sectionName / port".into()
        } else {
            reasons.join("; ")
        });
    }
    out
}
