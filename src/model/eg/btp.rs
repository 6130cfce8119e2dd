//! BackendTrafficPolicy: the policy that governs a route rule on a listener (route rule, route,
//! listener, ListenerSet, Gateway: the most specific wins; a route policy with `mergeType` is
//! merged into its closest parent), and what that means for the WebSocket upgrade
//! (`httpUpgrade`, `requestBuffer`) and the upstream protocol (`useClientProtocol`).

use crate::catalogue::{Catalogue, Gate};
use crate::yaml::{Node, Span};

use super::ctp::governs_span;
use super::index::{items, key_span, text};
use super::policy::{Conflicts, Pick, PolicyDoc, listener_levels};
use super::types::{Decided, Listener, Route, RouteKind, RouteRule, Why};

/// Marks policies the deployed version's API server or Envoy Gateway would refuse.
pub(crate) fn validate(
    docs: &mut [PolicyDoc<'_>],
    catalogue: &Catalogue,
    version: &semver::Version,
) {
    for d in docs.iter_mut() {
        let spec = d.res.spec();
        let merge = spec.and_then(|s| text(s, "mergeType"));
        let has = |k: &str| spec.and_then(|s| s.get(k)).is_some_and(|n| !n.is_null());
        let upgrades = spec
            .and_then(|s| s.get("httpUpgrade"))
            .and_then(Node::as_seq)
            .is_some_and(|s| !s.items.is_empty());
        d.rejected = if d.targets.iter().any(|t| t.section.is_some())
            && !catalogue.gate_holds(Gate::BtpSectionName, version)
        {
            Some(format!(
                "targets with sectionName need Envoy Gateway 1.6 (deployed: {version})"
            ))
        } else if merge == Some("Replace")
            && catalogue.gate_holds(Gate::MergeTypeRejectsReplace, version)
        {
            Some("`mergeType: Replace` is rejected".into())
        } else if merge.is_some()
            && catalogue.gate_holds(Gate::MergeTypeRouteOnly, version)
            && d.targets
                .iter()
                .any(|t| t.kind == "Gateway" || t.kind == "ListenerSet")
        {
            Some("`mergeType` is allowed on route targets only".into())
        } else if has("requestBuffer")
            && upgrades
            && catalogue.gate_holds(Gate::RequestBufferBlocksUpgrade403, version)
        {
            Some("`requestBuffer` cannot be combined with `httpUpgrade`".into())
        } else {
            None
        };
    }
}

/// The policies that govern one rule on one listener.
pub(crate) struct Governing<'p, 'a> {
    /// A rule-level or route-level policy.
    pub route: Option<Pick<'p, 'a>>,
    /// The closest listener / ListenerSet / Gateway policy.
    pub parent: Option<Pick<'p, 'a>>,
    /// `mergeType` of the route policy, when it merges into `parent`.
    pub merge: Option<String>,
}

impl<'p, 'a> Governing<'p, 'a> {
    /// The policy whose settings apply (the route's, else the parent's).
    fn primary(&self) -> Option<&Pick<'p, 'a>> {
        self.route.as_ref().or(self.parent.as_ref())
    }

    /// The parent's settings apply too (merged, or no route policy).
    fn parent_applies(&self) -> bool {
        self.route.is_none() || self.merge.is_some()
    }

    /// A field: the route policy's, else (when merging or without a route policy) the parent's.
    pub(crate) fn field(&self, path: &[&str]) -> Option<(&'a Node, &'p PolicyDoc<'a>)> {
        let get = |p: &Pick<'p, 'a>| -> Option<(&'a Node, &'p PolicyDoc<'a>)> {
            let n = p.winner.res.spec()?.path(path)?;
            (!n.is_null()).then_some((n, p.winner))
        };
        self.route.as_ref().and_then(get).or_else(|| {
            self.parent
                .as_ref()
                .filter(|_| self.parent_applies())
                .and_then(get)
        })
    }

    fn ambiguous(&self) -> bool {
        let fields: [&[&str]; 3] = [&["httpUpgrade"], &["requestBuffer"], &["useClientProtocol"]];
        [self.route.as_ref(), self.parent.as_ref()]
            .into_iter()
            .flatten()
            .filter(|p| p.unordered)
            .any(|p| {
                p.others.iter().any(|o| {
                    fields.iter().any(|f| {
                        let v = |d: &PolicyDoc<'_>| {
                            d.res.spec().and_then(|s| s.path(f)).map(Node::to_json)
                        };
                        v(o) != v(p.winner)
                    })
                })
            })
    }
}

/// Finds the policies that govern rule `rule` of `route` on listener `l`.
pub(crate) fn governing<'p, 'a>(
    route: &Route,
    rule: &RouteRule,
    l: &Listener,
    btps: &'p [PolicyDoc<'a>],
    conflicts: &mut Conflicts,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Governing<'p, 'a> {
    let mut claim = |kind: &str, ns: &str, name: &str, section: Option<&str>| {
        conflicts.claim(btps, kind, ns, name, section)
    };
    let rk = route.kind.as_str();
    let (rns, rname) = (&route.key.namespace, &route.key.name);
    let route_pick = rule
        .name
        .as_deref()
        .and_then(|s| claim(rk, rns, rname, Some(s)))
        .or_else(|| claim(rk, rns, rname, None));
    let parent = listener_levels(l)
        .into_iter()
        .find_map(|(k, ns, name, section)| claim(k, ns, name, section));
    let merge = route_pick
        .as_ref()
        .and_then(|p| p.winner.res.spec().and_then(|s| text(s, "mergeType")))
        .filter(|m| matches!(*m, "StrategicMerge" | "JSONMerge"))
        .filter(|_| catalogue.gate_holds(Gate::BtpMergeType, version))
        .map(str::to_owned);
    Governing {
        route: route_pick,
        parent,
        merge,
    }
}

/// What a governing set of policies does to a rule.
pub(crate) struct Effect {
    pub upgrade: Decided<Vec<String>>,
    /// `requestBuffer` makes WebSockets hang (1.4 to 1.7) rather than drop the upgrade.
    pub buffer_hangs: Option<Decided<bool>>,
    pub use_client_protocol: Option<Decided<bool>>,
    pub policy: Option<crate::model::ResourceKey>,
}

/// The rule's upgrade types and `useClientProtocol` under `g`.
pub(crate) fn effect(
    route: &Route,
    rule: &RouteRule,
    g: &Governing<'_, '_>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Effect {
    let primary = g.primary().map(|p| p.winner);
    let policy = primary.map(|p| p.key.clone());
    let ambiguous = g.ambiguous();
    let use_client_protocol = g
        .field(&["useClientProtocol"])
        .filter(|_| catalogue.gate_holds(Gate::UseClientProtocol, version))
        .and_then(|(n, p)| {
            let mut d = Decided::new(n.as_bool()?, Why::Set, Some(p.key.clone()), Some(n.span));
            d.ambiguous = ambiguous;
            Some(d)
        })
        .filter(|d| d.value);

    let mut upgrade = if route.kind != RouteKind::Http {
        // gRPC routes get no upgrade config; TCP and TLS routes have none.
        Decided::new(Vec::new(), Why::Default, None, Some(rule.span))
    } else {
        http_upgrade(rule, g, primary, catalogue, version)
    };
    upgrade.ambiguous = ambiguous;
    let buffer_hangs = g
        .field(&["requestBuffer"])
        .filter(|_| {
            route.kind == RouteKind::Http
                && catalogue.gate_holds(Gate::RequestBufferHangsUpgrade, version)
        })
        .map(|(n, p)| {
            let span = p
                .res
                .spec()
                .and_then(|s| key_span(s, "requestBuffer"))
                .or(Some(n.span));
            Decided::new(true, Why::RequestBuffer, Some(p.key.clone()), span)
        });
    Effect {
        upgrade,
        buffer_hangs,
        use_client_protocol,
        policy,
    }
}

fn http_upgrade(
    rule: &RouteRule,
    g: &Governing<'_, '_>,
    primary: Option<&PolicyDoc<'_>>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Decided<Vec<String>> {
    let list =
        |p: Option<&Pick<'_, '_>>| -> Option<(Vec<String>, Span, crate::model::ResourceKey)> {
            let p = p?;
            let n = p.winner.res.spec()?.get("httpUpgrade")?;
            let types: Vec<String> = items(Some(n))
                .filter_map(|u| text(u, "type").map(str::to_owned))
                .collect();
            // An empty list leaves the default in place.
            (!types.is_empty()).then(|| (types, n.span, p.winner.key.clone()))
        };
    if catalogue.gate_holds(Gate::HttpUpgradeField, version) {
        let own = list(g.route.as_ref());
        let parent = list(g.parent.as_ref().filter(|_| g.parent_applies()));
        let chosen = match (own, parent, g.merge.as_deref()) {
            (Some((mine, span, k)), Some((theirs, _, _)), Some("StrategicMerge")) => {
                // Lists merge by `type`: the route's entries first, then the parent's others.
                let mut merged = mine.clone();
                for t in theirs {
                    if !merged.iter().any(|m| m.eq_ignore_ascii_case(&t)) {
                        merged.push(t);
                    }
                }
                Some((merged, span, k, Why::Merged))
            }
            (Some((mine, span, k)), _, _) => Some((mine, span, k, Why::Set)),
            (None, Some((theirs, span, k)), merge) => Some((
                theirs,
                span,
                k,
                if merge.is_some() {
                    Why::Merged
                } else {
                    Why::Set
                },
            )),
            (None, None, _) => None,
        };
        if let Some((types, span, k, why)) = chosen {
            return Decided::new(types, why, Some(k), Some(span));
        }
    }
    if catalogue.gate_holds(Gate::RequestBufferBlocksUpgrade403, version)
        && let Some((n, p)) = g.field(&["requestBuffer"])
    {
        let span = p
            .res
            .spec()
            .and_then(|s| key_span(s, "requestBuffer"))
            .or(Some(n.span));
        return Decided::new(Vec::new(), Why::RequestBuffer, Some(p.key.clone()), span);
    }
    let (resource, span) = match primary {
        Some(p) => (Some(p.key.clone()), governs_span(p.res, "httpUpgrade")),
        None => (None, Some(rule.span)),
    };
    Decided::new(vec!["websocket".to_owned()], Why::Default, resource, span)
}
