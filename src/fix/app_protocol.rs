//! `upstream-h2` fixes (#2923 and its one-line alternative), chosen per backend by the deployed
//! version and the repo config: `ws-app-protocol` sets `appProtocol: kubernetes.io/ws` on the
//! Service port (manifest or HelmRelease values) where the version honours it; `backend`
//! routes through a `Backend` with ws where only that works (or the config prefers it). When no
//! release the repo could be on honours either, the finding is declined with the upgrade to
//! propose instead.

use super::edit::{self, Refusal};
use super::render::Y;
use super::{Change, Cx, Declined, Draft, backend};
use crate::catalogue::{FixKind, Gate, RuleId};
use crate::config::Prefer;
use crate::model::ResourceKey;
use crate::model::eg::{BackendKind, BackendRef, Model, UpstreamH2Cause};
use crate::rules::websocket_rules;

pub(super) fn plan(
    cx: &Cx,
    wanted: &dyn Fn(FixKind) -> bool,
    declined: &mut Vec<Declined>,
) -> (Option<Draft>, Option<Draft>) {
    let mut ws = Draft::new(FixKind::WsAppProtocol);
    let mut be = Draft::new(FixKind::Backend);
    for model in cx.models {
        for (route, rule, on) in websocket_rules(model) {
            if on.force_http1_upstream.value || on.use_client_protocol {
                continue;
            }
            for h2 in &on.upstream_h2 {
                let Some(b) = rule.backends.get(h2.backend) else {
                    continue;
                };
                let location = h2.span.unwrap_or(b.span);
                let Some(finding) = cx.finding_at(RuleId::UpstreamH2, location) else {
                    continue;
                };
                let (kind, result) = match choose(cx, model, b, wanted) {
                    Ok(FixKind::WsAppProtocol) => (
                        FixKind::WsAppProtocol,
                        service_port(cx, model, b, h2.cause, &mut ws),
                    ),
                    Ok(_) => (
                        FixKind::Backend,
                        backend::route_through_backend(cx, model, route, b, &mut be),
                    ),
                    Err((kind, reason)) => (kind, Err(reason)),
                };
                let d = if kind == FixKind::WsAppProtocol {
                    &mut ws
                } else {
                    &mut be
                };
                match result {
                    Ok(()) => {
                        d.finding(finding);
                        d.affect(route, Some(&on.listener));
                        if route.origin == crate::model::Origin::Manifest {
                            d.check(route.key.clone(), &["Accepted=True", "ResolvedRefs=True"]);
                        }
                    }
                    Err(reason) => declined.push(Declined {
                        rule: RuleId::UpstreamH2,
                        kind: Some(kind),
                        location,
                        reason,
                    }),
                }
            }
        }
    }
    (Some(ws), Some(be))
}

/// Which fix kind fits this backend on the deployed version.
fn choose(
    cx: &Cx,
    model: &Model,
    b: &BackendRef,
    wanted: &dyn Fn(FixKind) -> bool,
) -> Result<FixKind, (FixKind, Refusal)> {
    let v = &model.version;
    if v.assumed {
        return Err((FixKind::WsAppProtocol, "the deployed Envoy Gateway version is unknown, and whether a ws app protocol is honoured depends on it: pin it with `envoy-gateway.version` in the repo config".into()));
    }
    if b.kind != BackendKind::Service {
        return Err((FixKind::WsAppProtocol, "the backend is not a Service: set `appProtocols: [gateway.envoyproxy.io/ws]` (or a TLS `alpnProtocols: [http/1.1]`) on it by hand".into()));
    }
    let service = cx
        .catalogue
        .gate_holds(Gate::ServiceWsAppProtocol, &v.semver);
    let backend = cx
        .catalogue
        .gate_holds(Gate::BackendWsAppProtocol, &v.semver);
    let prefer_backend = cx.config.fixes.prefer == Some(Prefer::Backend);
    if service && !prefer_backend && wanted(FixKind::WsAppProtocol) {
        return Ok(FixKind::WsAppProtocol);
    }
    if backend && wanted(FixKind::Backend) {
        return Ok(FixKind::Backend);
    }
    if service && wanted(FixKind::WsAppProtocol) {
        return Ok(FixKind::WsAppProtocol);
    }
    let kind = if prefer_backend {
        FixKind::Backend
    } else {
        FixKind::WsAppProtocol
    };
    if service || backend {
        return Err((
            kind,
            "the fix kinds that would work here are switched off in the repo config".into(),
        ));
    }
    Err((
        kind,
        format!(
            "Envoy Gateway {} ignores both Service `kubernetes.io/ws` and Backend ws app protocols, so a change here would do nothing: upgrade Envoy Gateway to 1.7.4+, 1.8.1+ or 1.9+, or set `useClientProtocol: true` in the route's BackendTrafficPolicy",
            v.version
        ),
    ))
}

/// Sets the Service port's `appProtocol` (in the Service manifest or the HelmRelease values
/// it is built from).
fn service_port(
    cx: &Cx,
    model: &Model,
    b: &BackendRef,
    cause: UpstreamH2Cause,
    d: &mut Draft,
) -> Result<(), Refusal> {
    let key = b.resource.clone().unwrap_or(ResourceKey {
        kind: "Service".into(),
        namespace: b.namespace.clone(),
        name: b.name.clone(),
    });
    let svc = cx
        .resource(model, &key)
        .ok_or_else(|| format!("Service {}/{} is not in the repo", b.namespace, b.name))?;
    let port = svc
        .spec()
        .and_then(|s| s.get("ports"))
        .and_then(|p| p.as_seq())
        .and_then(|s| {
            s.items
                .iter()
                .find(|p| p.get("port").and_then(|n| n.as_i64()) == b.port)
        })
        .ok_or("the Service port is not in the repo")?;
    let at = edit::locate(cx.loaded, port.span)
        .filter(|at| at.node.as_map().is_some())
        .ok_or("the Service port is not written as a mapping the fixer can edit")?;
    let value = if b.tls.as_ref().is_some_and(|t| t.value) {
        "kubernetes.io/wss"
    } else {
        "kubernetes.io/ws"
    };
    let e = match at.node.get("appProtocol") {
        Some(existing) => {
            let leaf = edit::locate(cx.loaded, existing.span).ok_or("appProtocol not found")?;
            edit::set_scalar(&leaf.node, value)?
        }
        None => edit::add_entry(at.file, &at.node, "appProtocol", &Y::str(value))?,
    };
    d.edit(at.file.id, e);
    d.change(Change::new(
        &at.resource(&key.namespace),
        &at.field("appProtocol"),
        &serde_json::json!(value),
    ));
    if cause == UpstreamH2Cause::H2c {
        d.note(format!(
            "Service {}/{} declared its port h2c: with `{value}` every request to that port goes over HTTP/1.1 upstream, not only WebSockets.",
            b.namespace, b.name
        ));
    }
    d.check(key, &[]);
    Ok(())
}
