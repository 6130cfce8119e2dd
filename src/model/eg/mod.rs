//! Envoy Gateway's view of an applied set: Gateways, listeners, routes, policies, backends,
//! the deployed version, with the effective values and the spans that decide them.
//!
//! [`build`] reads an [`AppliedSet`] the way Envoy Gateway's translator would: which Gateways
//! are Envoy Gateway's, which listeners are programmed and what ALPN each HTTPS listener
//! offers, where each route attaches, which BackendTrafficPolicy governs each route rule on
//! each listener, the upgrade types that result, and whether each backend is forced to
//! HTTP/1.1 (or may be reached over HTTP/2) upstream. [`Model::facts`] renders the part that
//! Envoy Gateway's own translator test cases check.

mod apps;
mod backends;
mod btp;
mod certs;
mod classes;
mod ctp;
mod facts;
mod hostname;
mod index;
mod install;
mod listeners;
mod policy;
mod routes;
mod selector;
mod streams;
mod strmatch;
mod types;
mod version;

use std::collections::HashMap;

use crate::catalogue::Catalogue;
use crate::config::RepoConfig;
use crate::model::{AppliedSet, ResourceKey};
use crate::yaml::Span;

pub use types::*;

use index::{GATEWAY_API, Index};
use policy::{Conflicts, PolicyDoc, Target};

/// How to read a set.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Everything Envoy Gateway reads is in the set, as in its own translator test cases: a
    /// Secret, ConfigMap or Namespace that is not there does not exist. Off for repos, where
    /// Secrets come from cert-manager, SOPS files and operators: a Secret the repo does not
    /// show is assumed to exist, and a namespace it does not define has unknown labels.
    pub closed_world: bool,
    /// In a closed world, namespaces that exist although the set has no `Namespace` for them
    /// (a cluster's built-in ones, or a test harness's).
    pub namespaces: Vec<String>,
}

/// Envoy Gateway's view of `set` (an open world: see [`Options`]).
pub fn build(set: &AppliedSet, catalogue: &Catalogue, config: &RepoConfig) -> Model {
    build_with(set, catalogue, config, &Options::default())
}

/// [`build`] with options.
pub fn build_with(
    set: &AppliedSet,
    catalogue: &Catalogue,
    config: &RepoConfig,
    options: &Options,
) -> Model {
    let index = Index::new(set, options.closed_world, options.namespaces.clone());
    let mut notes = Vec::new();
    let mut unresolved = Vec::new();

    let install_src = version::find_install(&index);
    let version = version::deployed(install_src.as_ref(), catalogue, config, &mut notes);
    let v = version.semver.clone();
    let install = install::read(&index, install_src.as_ref());

    let class_names: Vec<String> = index
        .of(&[GATEWAY_API], "Gateway")
        .iter()
        .filter_map(|g| {
            g.spec()?
                .get("gatewayClassName")?
                .as_text()
                .map(str::to_owned)
        })
        .collect();
    let classes = classes::classes(&index, &install, &class_names);
    let mut gws = listeners::read(&index, &classes, &install, catalogue, &v, &mut notes);

    let mut ctps = policy::read(
        &index,
        PolicyKind::ClientTrafficPolicy,
        catalogue,
        &v,
        &mut notes,
    );
    ctp::validate(&mut ctps, catalogue, &v);
    let mut btps = policy::read(
        &index,
        PolicyKind::BackendTrafficPolicy,
        catalogue,
        &v,
        &mut notes,
    );
    btp::validate(&mut btps, catalogue, &v);
    let mut conflicts = Conflicts::new();
    ctp::apply(&mut gws.listeners, &ctps, &mut conflicts, catalogue, &v);

    let mut routes = routes::read(
        &index,
        &gws.gateways,
        &gws.listeners,
        &gws.listener_sets,
        &mut unresolved,
    );

    let ctx = backends::Ctx {
        index: &index,
        install: &install,
        catalogue,
        version: &v,
    };
    let proxy_alpn = proxy_alpn_by_gateway(&index, &gws.gateways);
    let listener_by_key: HashMap<&str, &Listener> =
        gws.listeners.iter().map(|l| (l.key.as_str(), l)).collect();
    let apps_catalogue = catalogue.clone().with_repo_apps(&config.apps);
    for (route, res) in routes.iter_mut() {
        let per_rule = backends::resolve(&ctx, res, route.kind, &mut unresolved);
        for (rule, backends) in route.rules.iter_mut().zip(per_rule) {
            rule.backends = backends;
        }
        let attachments: Vec<String> = route.listeners().map(|a| a.listener.clone()).collect();
        let mut on: Vec<Vec<RuleOnListener>> = vec![Vec::new(); route.rules.len()];
        for lkey in &attachments {
            let Some(l) = listener_by_key.get(lkey.as_str()) else {
                continue;
            };
            for (i, rule) in route.rules.iter().enumerate() {
                if on[i].iter().any(|o| o.listener == *lkey) {
                    continue;
                }
                let g = btp::governing(route, rule, l, &btps, &mut conflicts, catalogue, &v);
                let eff = btp::effect(route, rule, &g, catalogue, &v);
                let ctp = l
                    .client_policy
                    .as_ref()
                    .and_then(|k| ctps.iter().find(|d| d.key == *k));
                let limits = streams::limits(
                    streams::rule_node(res, rule.index),
                    &route.key,
                    &g,
                    ctp,
                    catalogue,
                    &v,
                );
                on[i].push(rule_on_listener(
                    rule,
                    l,
                    eff,
                    limits,
                    proxy_alpn.get(&l.gateway).copied().flatten(),
                    catalogue,
                    &v,
                ));
            }
        }
        for (rule, o) in route.rules.iter_mut().zip(on) {
            rule.on_listeners = o;
        }
        route.websocket = apps::detect(&index, route, &apps_catalogue, config);
    }
    let routes: Vec<Route> = routes.into_iter().map(|(r, _)| r).collect();

    let exists = |t: &Target| target_exists(t, &gws, &routes);
    let policies = ctps
        .iter()
        .chain(btps.iter())
        .map(|d: &PolicyDoc<'_>| policy::describe(d, exists))
        .collect();

    Model {
        entry_point: set.entry_point.clone(),
        version,
        install,
        gateway_classes: classes.into_values().collect(),
        gateways: gws.gateways,
        listeners: gws.listeners,
        routes,
        policies,
        conflicts: conflicts.into_vec(),
        unresolved,
        notes,
    }
}

/// The EnvoyProxy `backendTLS.alpnProtocols` that leaves h2 out, per Gateway.
fn proxy_alpn_by_gateway(
    index: &Index<'_>,
    gateways: &[Gateway],
) -> HashMap<ResourceKey, Option<Span>> {
    gateways
        .iter()
        .filter(|g| g.management.is_eg())
        .filter_map(|g| {
            let res = index.get(&[GATEWAY_API], "Gateway", &g.key.namespace, &g.key.name)?;
            let class = index.get_cluster(&[GATEWAY_API], "GatewayClass", &g.class);
            Some((
                g.key.clone(),
                backends::envoy_proxy_alpn_http1(index, res, class),
            ))
        })
        .collect()
}

fn rule_on_listener(
    rule: &RouteRule,
    l: &Listener,
    eff: btp::Effect,
    stream_limits: Vec<StreamLimit>,
    proxy_alpn_http1: Option<Span>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> RuleOnListener {
    let upgrade = eff.upgrade;
    let websocket = if let Some(strip) = &l.strips_websocket {
        Decided {
            value: false,
            ..strip.clone()
        }
    } else if let Some(hang) = &eff.buffer_hangs {
        Decided {
            value: false,
            ..hang.clone()
        }
    } else {
        Decided {
            value: upgrade
                .value
                .iter()
                .any(|u| u.eq_ignore_ascii_case("websocket")),
            why: upgrade.why,
            resource: upgrade.resource.clone(),
            span: upgrade.span,
            ambiguous: upgrade.ambiguous,
        }
    };
    let ucp = eff.use_client_protocol;
    let forcing = rule.backends.iter().find(|b| b.forces_http1.value);
    let force_http1_upstream = match (forcing, &ucp) {
        (Some(_), Some(u)) => Decided {
            value: false,
            why: Why::UseClientProtocol,
            ..u.clone()
        },
        (Some(b), None) => b.forces_http1.clone(),
        (None, _) => rule
            .backends
            .iter()
            .find(|b| b.forces_http1.why == Why::IgnoredByVersion)
            .map(|b| b.forces_http1.clone())
            .unwrap_or_else(|| Decided::new(false, Why::Default, None, Some(rule.span))),
    };
    let upstream_h2 = rule
        .backends
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            backends::upstream_h2(i, b, ucp.is_some(), proxy_alpn_http1, catalogue, version)
        })
        .collect();
    RuleOnListener {
        listener: l.key.clone(),
        upgrade,
        websocket,
        force_http1_upstream,
        traffic_policy: eff.policy,
        use_client_protocol: ucp.is_some(),
        upstream_h2,
        stream_limits,
    }
}

fn target_exists(t: &Target, gws: &listeners::Gateways, routes: &[Route]) -> bool {
    match t.kind.as_str() {
        "Gateway" => gws.gateways.iter().any(|g| {
            g.key.namespace == t.namespace
                && g.key.name == t.name
                && t.section.as_ref().is_none_or(|s| {
                    gws.listeners
                        .iter()
                        .any(|l| l.gateway == g.key && l.listener_set.is_none() && l.name == *s)
                })
        }),
        "ListenerSet" => gws.listener_sets.iter().any(|s| {
            s.key.namespace == t.namespace
                && s.key.name == t.name
                && t.section.as_ref().is_none_or(|sec| {
                    gws.listeners
                        .iter()
                        .any(|l| l.listener_set.as_ref() == Some(&s.key) && l.name == *sec)
                })
        }),
        kind => routes.iter().any(|r| {
            r.kind.as_str() == kind
                && r.key.namespace == t.namespace
                && r.key.name == t.name
                && t.section
                    .as_ref()
                    .is_none_or(|s| r.rules.iter().any(|rule| rule.name.as_deref() == Some(s)))
        }),
    }
}
