//! Routes and Services of the bjw-s `app-template` chart (common library 3.x–5.x), built from
//! the HelmRelease values the way the chart renders them. The built nodes reuse the value
//! nodes, so spans point into the HelmRelease; synthetic keys carry the span of the values
//! node they come from.
//!
//! Conventions (from the chart's `determineResourceNameFromValues`, `service.primary`,
//! `route.autoDetectService` and `route.validate`):
//! - The base name is the release name (app-template sets `global.nameOverride` to it), or
//!   `global.fullnameOverride`; with a `global.nameOverride` the base is the release name
//!   when it contains it, else `<release>-<nameOverride>`.
//! - A Service or route is named `<base>` when it is the only enabled one of its kind, and
//!   `<base>-<identifier>` when there are several (or `global.alwaysAppendIdentifierToResourceName`);
//!   `forceRename`, `prefix`, `suffix` and the older `nameOverride` are honoured; names are
//!   lower-cased.
//! - The primary Service (or port) is the one marked `primary: true`, else the first by name
//!   (the chart takes the first key of an unordered map; we take the first in sorted order).
//! - A route without rules gets one rule whose backend is the only enabled Service on its
//!   primary port; with no or several Services the chart refuses to render (recorded as not
//!   analysed). A backendRef names a Service by `name`, by `identifier` (a `service` key), or
//!   by nothing when there is exactly one Service; `port` is a number, a port name of that
//!   Service, or absent (its primary port).

use crate::yaml::{Node, Span};

use super::context::Ctx;
use super::helm::Release;
use super::item::Item;
use super::tree::{self, map, scalar, seq, string};

struct Service<'v> {
    id: String,
    key_span: Span,
    node: &'v Node,
    name: String,
    ports: Vec<Port<'v>>,
}

struct Port<'v> {
    name: String,
    key_span: Span,
    node: &'v Node,
}

impl<'v> Service<'v> {
    /// The primary port: `primary: true` (the last so marked, as the chart's loop), else the
    /// first by name.
    fn primary_port(&self) -> Option<&Port<'v>> {
        self.ports
            .iter()
            .rev()
            .find(|p| p.node.get("primary").and_then(Node::as_bool) == Some(true))
            .or_else(|| self.ports.first())
    }

    fn port_number(&self, name: &str) -> Option<&'v Node> {
        self.ports
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.node.get("port"))
    }
}

/// The Services and routes of one app-template release.
pub fn build(ctx: &mut Ctx, rel: &Release, values: &Node) -> Vec<Item> {
    let base = base_name(values, &rel.name);
    let always = values
        .path(&["global", "alwaysAppendIdentifierToResourceName"])
        .and_then(Node::as_bool)
        .unwrap_or(false);

    let enabled = |key: &str| -> Vec<(String, Span, &Node)> {
        let mut out: Vec<(String, Span, &Node)> = values
            .get(key)
            .and_then(Node::as_map)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, v)| v.as_map().is_some() && tree::enabled(v, true))
            .map(|(k, v)| (k.key_string(), k.span, v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };

    let service_values = enabled("service");
    let count = service_values.len();
    let services: Vec<Service> = service_values
        .into_iter()
        .map(|(id, key_span, node)| {
            let mut ports: Vec<Port> = node
                .get("ports")
                .and_then(Node::as_map)
                .into_iter()
                .flat_map(|m| m.iter())
                .filter(|(_, p)| p.as_map().is_some() && tree::enabled(p, true))
                .map(|(k, p)| Port {
                    name: k.key_string(),
                    key_span: k.span,
                    node: p,
                })
                .collect();
            ports.sort_by(|a, b| a.name.cmp(&b.name));
            Service {
                name: resource_name(&base, &id, node, count, always),
                id,
                key_span,
                node,
                ports,
            }
        })
        .collect();

    let mut out = Vec::new();
    for svc in &services {
        out.push(service_item(rel, svc));
    }
    let routes = enabled("route");
    let route_count = routes.len();
    for (id, key_span, node) in routes {
        let what = format!("{} route.{id}", rel.owner);
        match route_item(
            rel,
            &services,
            &base,
            (&id, key_span, node),
            route_count,
            always,
        ) {
            Ok(item) => out.push(item),
            Err(reason) => ctx.note(what, reason, true),
        }
    }
    out
}

/// The chart's base name for the release.
fn base_name(values: &Node, release: &str) -> String {
    if let Some(full) = values
        .path(&["global", "fullnameOverride"])
        .and_then(Node::as_text)
        .filter(|s| !s.is_empty())
    {
        return trunc63(full);
    }
    let name = values
        .path(&["global", "nameOverride"])
        .and_then(Node::as_text)
        .filter(|s| !s.is_empty())
        .unwrap_or(release);
    if release.contains(name) {
        trunc63(release)
    } else {
        trunc63(&format!("{release}-{name}"))
    }
}

fn trunc63(s: &str) -> String {
    let t: String = s.chars().take(63).collect();
    t.trim_end_matches('-').to_owned()
}

/// `determineResourceNameFromValues`.
fn resource_name(base: &str, id: &str, node: &Node, count: usize, always: bool) -> String {
    let text = |k: &str| {
        node.get(k)
            .and_then(Node::as_text)
            .filter(|s| !s.is_empty())
    };
    if let Some(force) = text("forceRename") {
        return force.to_lowercase();
    }
    let mut name = base.to_owned();
    if let Some(old) = text("nameOverride") {
        name = format!("{name}-{old}");
    } else {
        if let Some(prefix) = text("prefix")
            && prefix != name
        {
            name = format!("{prefix}-{name}");
        }
        if (count > 1 || always) && !name.ends_with(&format!("-{id}")) && id != name {
            name = format!("{name}-{id}");
        }
    }
    if let Some(suffix) = text("suffix")
        && !name.ends_with(&format!("-{suffix}"))
    {
        name = format!("{name}-{suffix}");
    }
    name.to_lowercase()
}

fn metadata(name: &str, name_span: Span, namespace: Option<Node>, values: &Node) -> Node {
    let mut entries = vec![("name", string(name, name_span))];
    if let Some(ns) = namespace {
        entries.push(("namespace", ns));
    }
    for key in ["annotations", "labels"] {
        if let Some(v) = values.get(key).filter(|v| v.as_map().is_some()) {
            entries.push((key, v.clone()));
        }
    }
    map(name_span, entries)
}

fn release_namespace(rel: &Release, span: Span) -> Option<Node> {
    rel.namespace.as_deref().map(|ns| scalar(ns, span))
}

fn service_item(rel: &Release, svc: &Service) -> Item {
    let span = svc.node.span;
    let mut ports = Vec::new();
    for p in &svc.ports {
        let Some(port) = p.node.get("port") else {
            continue;
        };
        let protocol = p.node.get("protocol");
        let proto_text = match protocol.and_then(Node::as_text) {
            None | Some("HTTP" | "HTTPS" | "TCP") => "TCP",
            Some(other) => other,
        };
        let mut entries = vec![
            ("name", scalar(&p.name, p.key_span)),
            ("port", port.clone()),
            (
                "targetPort",
                p.node.get("targetPort").unwrap_or(port).clone(),
            ),
            (
                "protocol",
                scalar(proto_text, protocol.map_or(p.key_span, |n| n.span)),
            ),
        ];
        if let Some(app) = p.node.get("appProtocol") {
            entries.push(("appProtocol", app.clone()));
        }
        ports.push(map(p.node.span, entries));
    }
    let ports_span = svc.node.get("ports").map_or(span, |n| n.span);
    let spec_type = svc
        .node
        .get("type")
        .cloned()
        .unwrap_or_else(|| scalar("ClusterIP", svc.key_span));
    let node = map(
        span,
        vec![
            ("apiVersion", scalar("v1", svc.key_span)),
            ("kind", scalar("Service", svc.key_span)),
            (
                "metadata",
                metadata(
                    &svc.name,
                    svc.key_span,
                    release_namespace(rel, svc.key_span),
                    svc.node,
                ),
            ),
            (
                "spec",
                map(
                    span,
                    vec![("type", spec_type), ("ports", seq(ports_span, ports))],
                ),
            ),
        ],
    );
    Item {
        node,
        span,
        origin: rel.origin(),
    }
}

fn route_item(
    rel: &Release,
    services: &[Service],
    base: &str,
    (id, key_span, values): (&str, Span, &Node),
    count: usize,
    always: bool,
) -> Result<Item, String> {
    let span = values.span;
    let kind = values
        .get("kind")
        .and_then(Node::as_text)
        .unwrap_or("HTTPRoute");
    let api_version = match kind {
        "HTTPRoute" | "GRPCRoute" => "gateway.networking.k8s.io/v1",
        _ => "gateway.networking.k8s.io/v1alpha2",
    };
    let name = resource_name(base, id, values, count, always);
    let namespace = values
        .get("namespaceOverride")
        .filter(|n| n.as_text().is_some_and(|t| !t.is_empty()))
        .cloned()
        .or_else(|| release_namespace(rel, key_span));

    let mut rules = Vec::new();
    let given = tree::items(values.get("rules"));
    if given.is_empty() {
        let [svc] = services else {
            return Err(format!(
                "app-template requires an explicit rule here ({} enabled Services): the chart does not render",
                services.len()
            ));
        };
        let backend = backend_ref(rel, None, Some(svc), span)?;
        rules.push(map(span, vec![("backendRefs", seq(span, vec![backend]))]));
    } else {
        for rule in given {
            let mut entries = Vec::new();
            if let Some(n) = rule.get("name") {
                entries.push(("name", n.clone()));
            }
            let mut backends = Vec::new();
            for r in tree::items(rule.get("backendRefs")) {
                backends.push(resolve_backend(rel, services, r)?);
            }
            let refs_span = rule.get("backendRefs").map_or(rule.span, |n| n.span);
            entries.push(("backendRefs", seq(refs_span, backends)));
            let mut copy = |key: &'static str| {
                if let Some(v) = rule.get(key) {
                    entries.push((key, v.clone()));
                }
            };
            if kind == "HTTPRoute" || kind == "GRPCRoute" {
                copy("matches");
                copy("filters");
                copy("sessionPersistence");
            }
            if kind == "HTTPRoute" {
                copy("timeouts");
            }
            rules.push(map(rule.span, entries));
        }
    }

    let mut spec = Vec::new();
    if let Some(p) = values.get("parentRefs") {
        spec.push(("parentRefs", p.clone()));
    }
    if kind != "TCPRoute"
        && kind != "UDPRoute"
        && let Some(h) = values.get("hostnames")
    {
        spec.push(("hostnames", h.clone()));
    }
    let rules_span = values.get("rules").map_or(span, |n| n.span);
    spec.push(("rules", seq(rules_span, rules)));
    let node = map(
        span,
        vec![
            ("apiVersion", scalar(api_version, key_span)),
            ("kind", scalar(kind, key_span)),
            ("metadata", metadata(&name, key_span, namespace, values)),
            ("spec", map(span, spec)),
        ],
    );
    Ok(Item {
        node,
        span,
        origin: rel.origin(),
    })
}

/// One backendRef of a rule, resolved as the chart does.
fn resolve_backend(rel: &Release, services: &[Service], r: &Node) -> Result<Node, String> {
    let name = r
        .get("name")
        .filter(|n| n.as_text().is_some_and(|t| !t.is_empty()));
    let identifier = r.get("identifier").and_then(Node::as_text);
    let svc = match (name, identifier) {
        (Some(_), _) => None,
        (None, Some(id)) => Some(services.iter().find(|s| s.id == id).ok_or_else(|| {
            format!("no enabled Service with identifier `{id}`: the chart does not render")
        })?),
        (None, None) => match services {
            [only] => Some(only),
            _ => {
                return Err(format!(
                    "a backendRef names no Service and there are {} enabled Services: the chart does not render",
                    services.len()
                ));
            }
        },
    };
    backend_ref(rel, Some(r), svc, r.span)
}

/// A backendRef node: to `svc` (its name, and its primary port unless the values name one),
/// or to the values' own `name`.
fn backend_ref(
    rel: &Release,
    values: Option<&Node>,
    svc: Option<&Service>,
    span: Span,
) -> Result<Node, String> {
    let get = |k: &str| values.and_then(|v| v.get(k));
    let name = match (get("name"), svc) {
        (Some(n), _) => n.clone(),
        (None, Some(s)) => string(&s.name, get("identifier").map_or(s.key_span, |n| n.span)),
        (None, None) => return Err("backendRef without a Service".into()),
    };
    let port = match get("port") {
        None => svc
            .and_then(|s| s.primary_port())
            .and_then(|p| p.node.get("port"))
            .cloned(),
        Some(p) if p.as_i64().is_some() => Some(p.clone()),
        Some(p) => {
            let port_name = p.as_text().unwrap_or("");
            let found = svc.and_then(|s| s.port_number(port_name));
            match found {
                Some(n) => Some(n.clone()),
                None => {
                    return Err(format!(
                        "no enabled port `{port_name}` on the Service: the chart does not render"
                    ));
                }
            }
        }
    };
    let mut entries = vec![
        (
            "group",
            get("group").cloned().unwrap_or_else(|| string("", span)),
        ),
        (
            "kind",
            get("kind")
                .cloned()
                .unwrap_or_else(|| scalar("Service", span)),
        ),
        ("name", name),
    ];
    let namespace = get("namespace")
        .cloned()
        .or_else(|| release_namespace(rel, span));
    if let Some(ns) = namespace {
        entries.push(("namespace", ns));
    }
    if let Some(port) = port {
        entries.push(("port", port));
    }
    entries.push((
        "weight",
        get("weight").cloned().unwrap_or_else(|| scalar("1", span)),
    ));
    Ok(map(span, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::yaml::parse_root(text).unwrap().unwrap()
    }

    #[test]
    fn names() {
        let empty = parse("{}");
        assert_eq!(resource_name("hass", "app", &empty, 1, false), "hass");
        assert_eq!(resource_name("hass", "app", &empty, 2, false), "hass-app");
        assert_eq!(resource_name("hass", "hass", &empty, 2, false), "hass");
        assert_eq!(resource_name("hass", "app", &empty, 1, true), "hass-app");
        let force = parse("forceRename: Other");
        assert_eq!(resource_name("hass", "app", &force, 2, false), "other");
        let fix = parse("prefix: p\nsuffix: s");
        assert_eq!(resource_name("hass", "app", &fix, 2, false), "p-hass-app-s");
        assert_eq!(base_name(&parse("{}"), "home-assistant"), "home-assistant");
        assert_eq!(
            base_name(&parse("global: {nameOverride: x}"), "app"),
            "app-x"
        );
        assert_eq!(
            base_name(&parse("global: {fullnameOverride: y}"), "app"),
            "y"
        );
    }
}
