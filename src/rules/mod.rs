//! The rules: one module per rule id, each a pure function of one entry point's model.
//!
//! [`run`] runs every enabled rule over every model, merges what several listeners or entry
//! points report at the same deciding span into one finding, applies the repo config's
//! severities and sorts the result. [`run_with_ignores`] also honours
//! `ws-fix.io/ignore-<rule id>` annotations on the resources that hold the deciding settings.

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, Cause, RuleId};
use crate::config::RepoConfig;
use crate::findings::{AssumedVersion, Finding, Related};
use crate::model::eg::{BackendRef, Model, Route, RouteRule, RuleOnListener, VersionSource};
use crate::model::{AppliedSet, Origin, ResourceKey};
use crate::yaml::Span;

mod alpn_h2_first;
mod backend_api_disabled;
mod policy_conflict;
mod stream_limits;
mod unresolved_ref;
mod upgrade_disabled;
mod upstream_h2;
mod ws_protocol_ignored;
mod wss_without_tls;

pub(crate) use alpn_h2_first::h2_first;

/// What one rule reports in one model, before merging.
pub(crate) struct Hit {
    pub rule: RuleId,
    pub cause: Option<Cause>,
    pub location: Span,
    pub message: String,
    pub related: Vec<Related>,
    /// The resource that holds the deciding setting (where an ignore annotation belongs).
    pub resource: Option<ResourceKey>,
}

/// What a rule sees besides the model.
pub(crate) struct Cx<'a> {
    /// For rules that read version gates and thresholds.
    pub catalogue: &'a Catalogue,
}

type Check = fn(&Model, &Cx, &mut Vec<Hit>);

/// The implemented rules, in catalogue order.
const CHECKS: &[(RuleId, Check)] = &[
    (RuleId::AlpnH2First, alpn_h2_first::check),
    (RuleId::UpgradeDisabled, upgrade_disabled::check),
    (RuleId::UpstreamH2, upstream_h2::check),
    (RuleId::BackendApiDisabled, backend_api_disabled::check),
    (RuleId::WsProtocolIgnored, ws_protocol_ignored::check),
    (RuleId::WssWithoutTls, wss_without_tls::check),
    (RuleId::StreamLimits, stream_limits::check),
    (RuleId::PolicyConflict, policy_conflict::check),
    (RuleId::UnresolvedRef, unresolved_ref::check),
];

/// The rule ids [`run`] can report.
pub fn implemented() -> Vec<RuleId> {
    CHECKS.iter().map(|(id, _)| *id).collect()
}

/// Every enabled rule over every model: one finding per (rule, deciding span), sorted by
/// file, position and rule.
pub fn run(models: &[Model], catalogue: &Catalogue, config: &RepoConfig) -> Vec<Finding> {
    run_inner(models, None, catalogue, config)
}

/// Like [`run`], and marks findings ignored by a `ws-fix.io/ignore-<rule id>: "<reason>"`
/// annotation on the resource that holds the deciding setting (for routes built from
/// HelmRelease values: on the HelmRelease). `sets` are the applied sets the models were built
/// from.
pub fn run_with_ignores(
    models: &[Model],
    sets: &[AppliedSet],
    catalogue: &Catalogue,
    config: &RepoConfig,
) -> Vec<Finding> {
    run_inner(models, Some(sets), catalogue, config)
}

fn run_inner(
    models: &[Model],
    sets: Option<&[AppliedSet]>,
    catalogue: &Catalogue,
    config: &RepoConfig,
) -> Vec<Finding> {
    let mut findings = Collector::new(catalogue, config);
    for (i, model) in models.iter().enumerate() {
        findings.add(model, sets.and_then(|s| s.get(i)));
    }
    findings.finish()
}

/// Findings gathered one model at a time (a model may be dropped once added): one per (rule,
/// deciding span), with the related locations and entry points of every model that found it.
pub struct Collector<'a> {
    catalogue: &'a Catalogue,
    config: &'a RepoConfig,
    merged: BTreeMap<(Span, RuleId), Finding>,
}

impl<'a> Collector<'a> {
    pub fn new(catalogue: &'a Catalogue, config: &'a RepoConfig) -> Self {
        Collector {
            catalogue,
            config,
            merged: BTreeMap::new(),
        }
    }

    /// Run every enabled rule over `model`; with `set` (the applied set it was built from),
    /// ignore annotations apply (see [`run_with_ignores`]).
    pub fn add(&mut self, model: &Model, set: Option<&AppliedSet>) {
        let (catalogue, config) = (self.catalogue, self.config);
        let cx = Cx { catalogue };
        for (id, check) in CHECKS {
            if !config.rule_enabled(*id) {
                continue;
            }
            let mut hits = Vec::new();
            check(model, &cx, &mut hits);
            for hit in hits {
                let ignored = set.and_then(|s| ignore_reason(s, hit.resource.as_ref(), hit.rule));
                let key = (hit.location, hit.rule);
                match self.merged.get_mut(&key) {
                    Some(f) => {
                        for r in hit.related {
                            if !f.related.contains(&r) {
                                f.related.push(r);
                            }
                        }
                        if !f.entry_points.contains(&model.entry_point) {
                            f.entry_points.push(model.entry_point.clone());
                        }
                        if f.ignored.is_none() {
                            f.ignored = ignored;
                        }
                    }
                    None => {
                        let default = catalogue.severity(hit.rule, hit.cause);
                        self.merged.insert(
                            key,
                            Finding {
                                rule: hit.rule,
                                severity: config.severity_for(hit.rule, default),
                                cause: hit.cause,
                                location: hit.location,
                                message: hit.message,
                                related: hit.related,
                                version: assumed_version(model),
                                entry_points: vec![model.entry_point.clone()],
                                ignored,
                            },
                        );
                    }
                }
            }
        }
    }

    /// The findings, sorted by file, position and rule.
    pub fn finish(self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self.merged.into_values().collect();
        for f in &mut findings {
            f.related
                .sort_by(|a, b| (a.span, &a.message).cmp(&(b.span, &b.message)));
            f.entry_points.sort();
        }
        findings
    }
}

fn assumed_version(model: &Model) -> AssumedVersion {
    let v = &model.version;
    let source = if v.pinned() {
        "pinned"
    } else if v.assumed || v.source == VersionSource::Unknown {
        "unknown"
    } else {
        "detected"
    };
    AssumedVersion {
        version: v.version.clone(),
        source: source.to_owned(),
        span: v.span,
    }
}

/// The reason of an ignore annotation for `rule` on `resource` in `set`, if any. A resource
/// built from HelmRelease values (or an operator resource) is annotated on the HelmRelease
/// (or the operator resource) it comes from.
fn ignore_reason(set: &AppliedSet, resource: Option<&ResourceKey>, rule: RuleId) -> Option<String> {
    let annotation = format!("ws-fix.io/ignore-{}", rule.as_str());
    let mut key = resource?.clone();
    // A built resource's owner, then the owner itself: two steps at most.
    for _ in 0..2 {
        let found = set.resources.iter().find(|r| {
            r.kind == key.kind
                && r.name == key.name
                && r.namespace.as_deref().unwrap_or("") == key.namespace
        })?;
        match &found.origin {
            Origin::Manifest => {
                let reason = found
                    .node
                    .path(&["metadata", "annotations"])?
                    .get(&annotation)?
                    .as_text()?
                    .trim();
                return (!reason.is_empty()).then(|| reason.to_owned());
            }
            Origin::HelmValues { release, .. } => key = release.clone(),
            Origin::Operator { owner } => key = owner.clone(),
        }
    }
    None
}

/// The resource where an ignore annotation for a route-level setting belongs: the route, or the
/// HelmRelease / operator resource it was built from.
pub(crate) fn route_owner(route: &Route) -> ResourceKey {
    match &route.origin {
        Origin::HelmValues { release, .. } => release.clone(),
        Origin::Operator { owner } => owner.clone(),
        Origin::Manifest => route.key.clone(),
    }
}

/// `HTTPRoute ns/name: host1, host2 (app)`, with the hosts it serves on `listener` (all of
/// its hosts when `listener` is `None`).
pub(crate) fn describe_route(route: &Route, listener: Option<&str>) -> String {
    let hosts = route_hosts(route, listener);
    let mut text = format!(
        "{} {}/{}",
        route.kind.as_str(),
        route.key.namespace,
        route.key.name
    );
    if !hosts.is_empty() {
        text.push_str(": ");
        text.push_str(&hosts.join(", "));
    }
    if let Some(app) = route.websocket.as_ref().and_then(|w| w.app.as_deref()) {
        text.push_str(&format!(" ({app})"));
    }
    text
}

/// The hosts a route serves on `listener` (on every listener when `None`), each once; its
/// own hostnames when no attachment lists any.
pub(crate) fn route_hosts(route: &Route, listener: Option<&str>) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for a in route.listeners() {
        if listener.is_none_or(|l| a.listener == l) {
            for h in &a.hostnames {
                if !hosts.contains(h) {
                    hosts.push(h.clone());
                }
            }
        }
    }
    if hosts.is_empty() {
        hosts = route.hostnames.clone();
    }
    hosts
}

/// A related place for an affected route.
/// Every backend of every route rule of a model.
pub(crate) fn backends(model: &Model) -> impl Iterator<Item = (&Route, &RouteRule, &BackendRef)> {
    model.routes.iter().flat_map(|route| {
        route
            .rules
            .iter()
            .flat_map(move |rule| rule.backends.iter().map(move |b| (route, rule, b)))
    })
}

/// Every rule of a WebSocket route on every listener it attaches to.
pub(crate) fn websocket_rules(
    model: &Model,
) -> impl Iterator<Item = (&Route, &RouteRule, &RuleOnListener)> {
    model
        .routes
        .iter()
        .filter(|route| route.websocket.is_some())
        .flat_map(|route| {
            route
                .rules
                .iter()
                .flat_map(move |rule| rule.on_listeners.iter().map(move |on| (route, rule, on)))
        })
}

pub(crate) fn route_related(route: &Route, listener: Option<&str>) -> Related {
    Related {
        span: Some(route.span),
        message: describe_route(route, listener),
    }
}

/// True for `kubernetes.io/ws`, `gateway.envoyproxy.io/ws`, `ws` (and the `wss` forms).
pub(crate) fn is_ws_protocol(p: &str) -> bool {
    matches!(p.rsplit('/').next(), Some("ws" | "wss"))
}

/// True for the `wss` forms.
pub(crate) fn is_wss_protocol(p: &str) -> bool {
    p.rsplit('/').next() == Some("wss")
}
