//! Routes of charts other than app-template: a single `httpRoute:`, `route.main:` or
//! `route:` object in the values (with `parentRefs` or `hostnames`), enabled unless
//! `enabled: false`. The route goes to the chart's default Service, named by Helm's
//! `fullname` convention (`<release>` when it contains the chart name, else
//! `<release>-<chart>`, or `fullnameOverride`); its port is `service.port` when the values set
//! it, else unknown (recorded). Routes deeper in the values (a sub-chart's or a component's,
//! such as `prometheus.route.main`) are recorded as not analysed: their Services are named
//! by templates we do not render.

use crate::yaml::Node;

use super::context::Ctx;
use super::helm::Release;
use super::item::Item;
use super::tree::{self, map, scalar, seq, string};

/// The route a chart's values describe, if any.
pub fn build(ctx: &mut Ctx, rel: &Release, values: &Node) -> Vec<Item> {
    let candidates = [
        ("httpRoute", values.get("httpRoute")),
        ("route.main", values.path(&["route", "main"])),
        ("route", values.get("route")),
    ];
    let top = candidates.into_iter().find_map(|(k, v)| {
        let v = v.filter(|v| is_route(v))?;
        Some((k, v))
    });
    let mut nested = Vec::new();
    find_nested(values, &mut String::new(), 0, &mut nested);
    for (path, route) in nested {
        if top.is_some_and(|(_, t)| std::ptr::eq(t, route)) || !tree::enabled(route, true) {
            continue;
        }
        let hosts = hosts(route);
        ctx.note(
            format!("{} {path}", rel.owner),
            format!(
                "a route in the values (hostnames: {}) is made by the chart's templates; not analysed",
                if hosts.is_empty() { "none".to_owned() } else { hosts.join(", ") }
            ),
            true,
        );
    }
    let Some((key, route)) = top else {
        return Vec::new();
    };
    if !tree::enabled(route, true) {
        return Vec::new();
    }
    let what = format!("{} {key}", rel.owner);
    let span = route.span;
    let fullname = fullname(values, &rel.name, &rel.chart);
    let port = values
        .path(&["service", "port"])
        .filter(|p| p.as_i64().is_some())
        .cloned();
    if port.is_none() {
        ctx.note(
            what,
            format!("the port of Service {fullname} comes from the chart's defaults (unknown)"),
            false,
        );
    }
    let backend = {
        let mut entries = vec![
            ("group", string("", span)),
            ("kind", scalar("Service", span)),
            ("name", string(&fullname, span)),
        ];
        if let Some(ns) = &rel.namespace {
            entries.push(("namespace", scalar(ns, span)));
        }
        if let Some(p) = &port {
            entries.push(("port", p.clone()));
        }
        map(span, entries)
    };
    let mut rules = Vec::new();
    for rule in tree::items(route.get("rules")) {
        let mut rule = rule.clone();
        if tree::items(rule.get("backendRefs")).is_empty() {
            let s = rule.span;
            tree::set(&mut rule, "backendRefs", s, seq(s, vec![backend.clone()]));
        }
        rules.push(rule);
    }
    if rules.is_empty() {
        let mut entries = vec![("backendRefs", seq(span, vec![backend]))];
        for k in ["matches", "filters", "timeouts"] {
            if let Some(v) = route.get(k) {
                entries.push((k, v.clone()));
            }
        }
        rules.push(map(span, entries));
    }
    let mut spec = Vec::new();
    if let Some(p) = route.get("parentRefs") {
        spec.push(("parentRefs", p.clone()));
    }
    if let Some(h) = route.get("hostnames") {
        spec.push(("hostnames", h.clone()));
    }
    spec.push(("rules", seq(span, rules)));
    let mut meta = vec![("name", string(&fullname, span))];
    if let Some(ns) = &rel.namespace {
        meta.push(("namespace", scalar(ns, span)));
    }
    for k in ["annotations", "labels"] {
        if let Some(v) = route.get(k).filter(|v| v.as_map().is_some()) {
            meta.push((k, v.clone()));
        }
    }
    let node = map(
        span,
        vec![
            ("apiVersion", scalar("gateway.networking.k8s.io/v1", span)),
            ("kind", scalar("HTTPRoute", span)),
            ("metadata", map(span, meta)),
            ("spec", map(span, spec)),
        ],
    );
    vec![Item {
        node,
        span,
        origin: rel.origin(),
    }]
}

/// The hostnames of a route object: `hostnames`, or the `host` / `hosts` some charts use.
fn hosts(route: &Node) -> Vec<&str> {
    let mut out: Vec<&str> = tree::strings(route.get("hostnames"))
        .into_iter()
        .chain(tree::strings(route.get("hosts")))
        .chain(tree::strings(route.get("host")))
        .map(|(h, _)| h)
        .collect();
    for h in tree::items(route.get("hosts")) {
        out.extend(
            h.get("host")
                .or_else(|| h.get("name"))
                .and_then(Node::as_text),
        );
    }
    out.extend(route.path(&["host", "name"]).and_then(Node::as_text));
    out
}

/// A mapping that describes a route.
fn is_route(node: &Node) -> bool {
    node.as_map().is_some() && (node.get("parentRefs").is_some() || node.get("hostnames").is_some())
}

/// The keys under which [`find_nested`] looks for routes (`retain` keeps them).
pub(super) const ROUTE_KEYS: [&str; 4] = ["route", "httpRoute", "routes", "httpRoutes"];

/// The deepest mapping of the values (the values are 0) whose keys [`find_nested`] reads.
pub(super) const NESTED_ROUTE_DEPTH: usize = 5;

/// Route objects anywhere in the values (under [`ROUTE_KEYS`], and one level below those), with
/// their dotted paths; depth-bounded. What `retain` keeps of the values depends on this walk.
fn find_nested<'v>(
    node: &'v Node,
    path: &mut String,
    depth: usize,
    out: &mut Vec<(String, &'v Node)>,
) {
    if depth > NESTED_ROUTE_DEPTH {
        return;
    }
    let Some(map) = node.as_map() else {
        return;
    };
    for (k, v) in map.iter() {
        let key = k.key_string();
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&key);
        if ROUTE_KEYS.contains(&key.as_str()) {
            if is_route(v) {
                out.push((path.clone(), v));
            } else if let Some(m) = v.as_map() {
                for (k2, v2) in m.iter() {
                    if is_route(v2) {
                        out.push((format!("{path}.{}", k2.key_string()), v2));
                    }
                }
            }
        } else {
            find_nested(v, path, depth + 1, out);
        }
        path.truncate(len);
    }
}

/// Helm's usual `fullname`.
fn fullname(values: &Node, release: &str, chart: &str) -> String {
    let text = |k: &str| {
        values
            .get(k)
            .and_then(Node::as_text)
            .filter(|s| !s.is_empty())
    };
    let name = match text("fullnameOverride") {
        Some(f) => f.to_owned(),
        None => {
            let chart_name = text("nameOverride").unwrap_or(chart);
            if chart_name.is_empty() || release.contains(chart_name) {
                release.to_owned()
            } else {
                format!("{release}-{chart_name}")
            }
        }
    };
    let t: String = name.chars().take(63).collect();
    t.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    #[test]
    fn fullnames() {
        let v = parse_stream("{}", &Limits::default()).unwrap()[0]
            .root
            .clone()
            .unwrap();
        assert_eq!(fullname(&v, "nextcloud", "nextcloud"), "nextcloud");
        assert_eq!(fullname(&v, "cloud", "nextcloud"), "cloud-nextcloud");
        assert_eq!(fullname(&v, "kromgo", ""), "kromgo");
    }
}
