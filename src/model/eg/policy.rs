//! Policy attachment shared by ClientTrafficPolicy and BackendTrafficPolicy: reading
//! `targetRef` / `targetRefs` / `targetSelectors`, Envoy Gateway's ordering of policies, and
//! the conflicts it resolves by creation time.

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, Gate};
use crate::model::{Resource, ResourceKey};
use crate::yaml::Span;

use super::index::{
    EG_API, GATEWAY_API, GrantFrom, GrantTo, Index, created, items, key, labels, ns, text,
};
use super::selector::LabelSelector;
use super::types::{ConflictOrder, Policy, PolicyConflict, PolicyKind, PolicyTarget};

/// One target of a policy, as written (selectors already expanded).
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub section: Option<String>,
    pub span: Span,
}

/// A policy with its targets.
pub(crate) struct PolicyDoc<'a> {
    pub res: &'a Resource,
    pub kind: PolicyKind,
    pub key: ResourceKey,
    pub created: Option<String>,
    pub targets: Vec<Target>,
    /// Why the API server or Envoy Gateway would not accept it.
    pub rejected: Option<String>,
}

impl PolicyDoc<'_> {
    /// Envoy Gateway's processing order: creation time, then namespace/name. A policy without a
    /// timestamp sorts first, as Go's zero time does.
    pub fn order_key(&self) -> (String, String, String) {
        (
            self.created.clone().unwrap_or_default(),
            self.key.namespace.clone(),
            self.key.name.clone(),
        )
    }

    /// The targets that name `kind` `namespace/name` with `section` (`None`: whole-resource targets).
    pub fn targets_of<'t>(
        &'t self,
        kind: &'t str,
        namespace: &'t str,
        name: &'t str,
        section: Option<&'t str>,
    ) -> impl Iterator<Item = &'t Target> + 't {
        self.targets.iter().filter(move |t| {
            t.kind == kind
                && t.namespace == namespace
                && t.name == name
                && t.section.as_deref() == section
        })
    }
}

/// Target kinds each policy kind may name.
fn target_kinds(kind: PolicyKind) -> &'static [&'static str] {
    match kind {
        PolicyKind::ClientTrafficPolicy => &["Gateway", "ListenerSet"],
        PolicyKind::BackendTrafficPolicy => &[
            "Gateway",
            "ListenerSet",
            "HTTPRoute",
            "GRPCRoute",
            "TCPRoute",
            "TLSRoute",
            "UDPRoute",
        ],
    }
}

/// Reads every policy of `kind` in the set.
pub(crate) fn read<'a>(
    index: &Index<'a>,
    kind: PolicyKind,
    catalogue: &Catalogue,
    version: &semver::Version,
    notes: &mut Vec<String>,
) -> Vec<PolicyDoc<'a>> {
    let kind_name = match kind {
        PolicyKind::ClientTrafficPolicy => "ClientTrafficPolicy",
        PolicyKind::BackendTrafficPolicy => "BackendTrafficPolicy",
    };
    let mut out: Vec<PolicyDoc<'a>> = index
        .all(kind_name)
        .filter(|r| r.group() == EG_API)
        .map(|r| read_one(index, r, kind, kind_name, catalogue, version, notes))
        .collect();
    out.sort_by_key(PolicyDoc::order_key);
    out
}

fn read_one<'a>(
    index: &Index<'a>,
    r: &'a Resource,
    kind: PolicyKind,
    kind_name: &str,
    catalogue: &Catalogue,
    version: &semver::Version,
    notes: &mut Vec<String>,
) -> PolicyDoc<'a> {
    let policy_ns = ns(r).to_owned();
    let allowed = target_kinds(kind);
    let listener_sets = catalogue.gate_holds(Gate::Listenerset, version);
    let mut targets = Vec::new();
    let spec = r.spec();
    let mut push_ref = |t: &crate::yaml::Node| {
        let Some(name) = text(t, "name") else { return };
        let tkind = text(t, "kind").unwrap_or("");
        if text(t, "group").unwrap_or(GATEWAY_API) != GATEWAY_API || !allowed.contains(&tkind) {
            return;
        }
        if tkind == "ListenerSet" && !listener_sets {
            notes.push(format!(
                "{}: `kind: ListenerSet` targets need Envoy Gateway 1.9: ignored",
                key(r)
            ));
            return;
        }
        // Only the single `targetRef` of old releases had a namespace, and Envoy Gateway
        // rejected one that differed from the policy's.
        if text(t, "namespace").is_some_and(|n| n != policy_ns) {
            return;
        }
        targets.push(Target {
            kind: tkind.to_owned(),
            namespace: policy_ns.clone(),
            name: name.to_owned(),
            section: text(t, "sectionName").map(str::to_owned),
            span: t.span,
        });
    };
    if let Some(t) = spec.and_then(|s| s.get("targetRef")) {
        push_ref(t);
    }
    let gate = match kind {
        PolicyKind::ClientTrafficPolicy => Gate::CtpTargetrefs,
        PolicyKind::BackendTrafficPolicy => Gate::BtpTargetrefs,
    };
    let lists = catalogue.gate_holds(gate, version);
    for t in items(spec.and_then(|s| s.get("targetRefs")).filter(|_| lists)) {
        push_ref(t);
    }
    for sel in items(
        spec.and_then(|s| s.get("targetSelectors"))
            .filter(|_| lists),
    ) {
        targets.extend(select(
            index, kind_name, &policy_ns, sel, allowed, catalogue, version,
        ));
    }
    PolicyDoc {
        res: r,
        kind,
        key: key(r),
        created: created(r),
        targets,
        rejected: None,
    }
}

/// Expands one `targetSelectors` entry into targets.
#[allow(clippy::too_many_arguments)]
fn select(
    index: &Index<'_>,
    policy_kind: &str,
    policy_ns: &str,
    sel: &crate::yaml::Node,
    allowed: &[&str],
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Vec<Target> {
    let kind = text(sel, "kind").unwrap_or("");
    if text(sel, "group").unwrap_or(GATEWAY_API) != GATEWAY_API || !allowed.contains(&kind) {
        return Vec::new();
    }
    let mut selector = LabelSelector::parse(sel);
    if !catalogue.gate_holds(Gate::TargetSelectorMatchExpressions, version) {
        selector.expressions.clear();
    }
    let namespaces = sel
        .get("namespaces")
        .filter(|_| catalogue.gate_holds(Gate::TargetSelectorNamespaces, version));
    let ns_ok = |candidate_ns: &str| -> bool {
        let from = namespaces.and_then(|n| text(n, "from")).unwrap_or("Same");
        let in_scope = match from {
            "All" => true,
            "Selector" => {
                let s = namespaces
                    .and_then(|n| n.get("selector"))
                    .map(LabelSelector::parse)
                    .unwrap_or_default();
                index
                    .namespace_labels(candidate_ns)
                    .is_some_and(|l| s.matches(&l))
            }
            _ => candidate_ns == policy_ns,
        };
        let grant = || {
            index.grant_allows(
                &GrantFrom {
                    group: EG_API,
                    kind: policy_kind,
                    namespace: policy_ns,
                },
                candidate_ns,
                &GrantTo {
                    group: GATEWAY_API,
                    kind,
                    name: "",
                },
            )
        };
        in_scope && (candidate_ns == policy_ns || grant())
    };
    index
        .all(kind)
        .filter(|c| c.group() == GATEWAY_API)
        .filter(|c| ns_ok(ns(c)) && selector.matches(&labels(c)))
        .map(|c| Target {
            kind: kind.to_owned(),
            namespace: ns(c).to_owned(),
            name: c.name.clone(),
            section: None,
            span: sel.span,
        })
        .collect()
}

/// Picks the policy Envoy Gateway applies among those that claim one target, and records the
/// conflict when there are several.
pub(crate) struct Conflicts {
    seen: BTreeMap<String, PolicyConflict>,
}

/// The winner among competing policies, and whether the pick rests on creation times.
pub(crate) struct Pick<'p, 'a> {
    pub winner: &'p PolicyDoc<'a>,
    /// The other claimants (empty without a conflict).
    pub others: Vec<&'p PolicyDoc<'a>>,
    /// True when creation times do not order the winner before the others.
    pub unordered: bool,
}

impl Conflicts {
    pub fn new() -> Self {
        Conflicts {
            seen: BTreeMap::new(),
        }
    }

    /// `claims` are (policy, target span) pairs in Envoy Gateway's order (see
    /// [`PolicyDoc::order_key`]); the first wins.
    pub fn pick<'p, 'a>(
        &mut self,
        target: String,
        claims: &[(&'p PolicyDoc<'a>, Span)],
    ) -> Option<Pick<'p, 'a>> {
        let (winner, _) = *claims.first()?;
        let others: Vec<&'p PolicyDoc<'a>> = claims[1..].iter().map(|(p, _)| *p).collect();
        // Manifests with timestamps order the claimants (equal ones by namespace/name, as
        // Envoy Gateway does); without, the cluster's creation order decides.
        let unordered = others
            .iter()
            .any(|o| winner.created.is_none() || o.created.is_none());
        if !others.is_empty() {
            let id = format!("{:?}|{target}", winner.kind);
            self.seen.entry(id).or_insert_with(|| PolicyConflict {
                kind: winner.kind,
                target,
                winner: winner.key.clone(),
                losers: others.iter().map(|o| o.key.clone()).collect(),
                order: if unordered {
                    ConflictOrder::Unknown
                } else {
                    ConflictOrder::CreationTimestamp
                },
                spans: claims.iter().map(|(_, s)| *s).collect(),
            });
        }
        Some(Pick {
            winner,
            others,
            unordered,
        })
    }

    /// The policy of `policies` (not rejected) that Envoy Gateway applies to one target
    /// (`kind` `ns/name`, optionally one section), recording a conflict when several claim it.
    pub fn claim<'p, 'a>(
        &mut self,
        policies: &'p [PolicyDoc<'a>],
        kind: &str,
        ns: &str,
        name: &str,
        section: Option<&str>,
    ) -> Option<Pick<'p, 'a>> {
        let claims: Vec<(&'p PolicyDoc<'a>, Span)> = policies
            .iter()
            .filter(|p| p.rejected.is_none())
            .filter_map(|p| {
                p.targets_of(kind, ns, name, section)
                    .next()
                    .map(|t| (p, t.span))
            })
            .collect();
        self.pick(target_label(kind, ns, name, section), &claims)
    }

    pub fn into_vec(self) -> Vec<PolicyConflict> {
        self.seen.into_values().collect()
    }
}

/// The public record of a policy, with whether each target exists.
pub(crate) fn describe(doc: &PolicyDoc<'_>, exists: impl Fn(&Target) -> bool) -> Policy {
    Policy {
        kind: doc.kind,
        key: doc.key.clone(),
        span: doc.res.span,
        created: doc.created.clone(),
        targets: doc
            .targets
            .iter()
            .map(|t| PolicyTarget {
                kind: t.kind.clone(),
                namespace: t.namespace.clone(),
                name: t.name.clone(),
                section_name: t.section.clone(),
                found: exists(t),
                span: t.span,
            })
            .collect(),
        rejected: doc.rejected.clone(),
    }
}

/// `Gateway ns/name` or `Gateway ns/name section x`, for conflict records.
/// The targets that can claim a listener, most specific first: its section of a ListenerSet
/// (or Gateway), the whole ListenerSet, then the whole Gateway. A policy at an earlier level
/// replaces those below it (no field merge).
pub(crate) fn listener_levels(
    l: &super::types::Listener,
) -> Vec<(&'static str, &str, &str, Option<&str>)> {
    let gw = &l.gateway;
    let mut levels = Vec::with_capacity(3);
    match &l.listener_set {
        Some(s) => {
            levels.push((
                "ListenerSet",
                s.namespace.as_str(),
                s.name.as_str(),
                Some(l.name.as_str()),
            ));
            levels.push(("ListenerSet", s.namespace.as_str(), s.name.as_str(), None));
        }
        None => levels.push((
            "Gateway",
            gw.namespace.as_str(),
            gw.name.as_str(),
            Some(l.name.as_str()),
        )),
    }
    levels.push(("Gateway", gw.namespace.as_str(), gw.name.as_str(), None));
    levels
}

pub(crate) fn target_label(
    kind: &str,
    namespace: &str,
    name: &str,
    section: Option<&str>,
) -> String {
    match section {
        Some(s) => format!("{kind} {namespace}/{name} section {s}"),
        None => format!("{kind} {namespace}/{name}"),
    }
}
