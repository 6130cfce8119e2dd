//! ClientTrafficPolicy: which policy governs each listener (section-specific, then
//! ListenerSet-wide, then Gateway-wide; no merging), the effective ALPN of HTTPS listeners, and
//! whether `http1.ignoredUpgradeTypes` strips WebSocket upgrades.

use crate::catalogue::{Catalogue, Gate};
use crate::yaml::{Node, Span};

use super::index::{items, key_span, text};
use super::policy::{Conflicts, Pick, PolicyDoc, listener_levels};
use super::strmatch;
use super::types::{Decided, Listener, TlsOverlap, Why};

const DEFAULT_ALPN: [&str; 2] = ["h2", "http/1.1"];

/// Marks policies the deployed version's API server would refuse.
pub(crate) fn validate(
    docs: &mut [PolicyDoc<'_>],
    catalogue: &Catalogue,
    version: &semver::Version,
) {
    if catalogue.gate_holds(Gate::AlpnAnyString, version) {
        return;
    }
    for d in docs.iter_mut() {
        let bad = written_alpn(d).is_some_and(|(list, _)| {
            list.iter()
                .any(|p| !matches!(p.as_str(), "http/1.0" | "http/1.1" | "h2"))
        });
        if bad {
            d.rejected = Some(format!(
                "tls.alpnProtocols accepts only http/1.0, http/1.1 and h2 before 1.6 (deployed: {version})"
            ));
        }
    }
}

/// Sets `client_policy`, `alpn` and `strips_websocket` on every listener.
pub(crate) fn apply(
    listeners: &mut [Listener],
    ctps: &[PolicyDoc<'_>],
    conflicts: &mut Conflicts,
    catalogue: &Catalogue,
    version: &semver::Version,
) {
    for l in listeners.iter_mut() {
        let pick = governing(l, ctps, conflicts);
        l.client_policy = pick.as_ref().map(|p| p.winner.key.clone());
        if l.https {
            l.alpn = Some(alpn(l, pick.as_ref(), catalogue, version));
        }
        if catalogue.gate_holds(Gate::IgnoredUpgradeTypes, version) {
            l.strips_websocket = pick.as_ref().and_then(strips_websocket);
        }
    }
}

/// The ClientTrafficPolicy that governs a listener.
fn governing<'p, 'a>(
    l: &Listener,
    ctps: &'p [PolicyDoc<'a>],
    conflicts: &mut Conflicts,
) -> Option<Pick<'p, 'a>> {
    for (kind, ns, name, section) in listener_levels(l) {
        if let Some(pick) = conflicts.claim(ctps, kind, ns, name, section) {
            return Some(pick);
        }
    }
    None
}

/// `spec.tls.alpnProtocols` of a policy, with its node.
fn written_alpn<'n>(p: &'n PolicyDoc<'_>) -> Option<(Vec<String>, &'n Node)> {
    let node = p.res.spec()?.path(&["tls", "alpnProtocols"])?;
    if node.is_null() {
        return None;
    }
    let list = items(Some(node))
        .filter_map(|n| n.as_text().map(str::to_owned))
        .collect();
    Some((list, node))
}

fn alpn(
    l: &Listener,
    pick: Option<&Pick<'_, '_>>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Decided<Vec<String>> {
    let written = pick.and_then(|p| written_alpn(p.winner));
    let empty_disables = catalogue.gate_holds(Gate::AlpnEmptyDisables, version);
    let explicit_wins = catalogue.gate_holds(Gate::ExplicitAlpnWinsOverOverlap, version);
    let winner_key = pick.map(|p| p.winner.key.clone());
    let mut out = match (&written, &l.tls_overlap) {
        (Some((list, node)), overlap)
            if (!list.is_empty() || empty_disables) && (overlap.is_none() || explicit_wins) =>
        {
            Decided::new(list.clone(), Why::Set, winner_key, Some(node.span))
        }
        (_, Some(overlap)) => Decided::new(
            vec!["http/1.1".to_owned()],
            match overlap {
                TlsOverlap::SdsCertificate => Why::SdsCertificate,
                _ => Why::OverlappingTls,
            },
            Some(l.gateway.clone()),
            l.protocol_span.or(Some(l.span)),
        ),
        _ => {
            let span = match pick {
                Some(p) => governs_span(p.winner.res, "tls"),
                None => l.protocol_span.or(Some(l.span)),
            };
            let resource = winner_key.or_else(|| Some(l.gateway.clone()));
            Decided::new(
                DEFAULT_ALPN.iter().map(|s| (*s).to_owned()).collect(),
                Why::Default,
                resource,
                span,
            )
        }
    };
    if let Some(p) = pick
        && p.unordered
    {
        let mine = written.map(|(v, _)| v);
        out.ambiguous = p
            .others
            .iter()
            .any(|o| written_alpn(o).map(|(v, _)| v) != mine);
    }
    out
}

/// The span to point at when a policy governs but does not set a field under `key`: the
/// policy's `key:` (e.g. `tls:`), else its `spec:`, else the whole policy.
pub(crate) fn governs_span(res: &crate::model::Resource, field: &str) -> Option<Span> {
    res.spec()
        .and_then(|s| key_span(s, field))
        .or_else(|| key_span(&res.node, "spec"))
        .or(Some(res.span))
}

/// The `http1.ignoredUpgradeTypes` entry of the governing policy that matches `websocket`.
fn strips_websocket(pick: &Pick<'_, '_>) -> Option<Decided<bool>> {
    let node = pick
        .winner
        .res
        .spec()?
        .path(&["http1", "ignoredUpgradeTypes"])?;
    let hit = items(Some(node)).find(|m| {
        let value = text(m, "value").unwrap_or("");
        strmatch::matches(text(m, "type").unwrap_or("Exact"), value, "websocket")
    })?;
    let mut d = Decided::new(
        true,
        Why::Set,
        Some(pick.winner.key.clone()),
        Some(hit.span),
    );
    let list = |p: &PolicyDoc<'_>| {
        p.res
            .spec()
            .and_then(|s| s.path(&["http1", "ignoredUpgradeTypes"]))
            .map(Node::to_json)
    };
    d.ambiguous = pick.unordered && pick.others.iter().any(|o| list(o) != list(pick.winner));
    Some(d)
}
