//! Backend references of route rules: Services (port and `appProtocol`), Envoy Gateway
//! `Backend`s (`appProtocols`, TLS), ReferenceGrants, BackendTLSPolicies, and what decides the
//! upstream protocol (ws/wss force HTTP/1.1 from the versions that honour them; h2c and TLS
//! ALPN negotiation can pick HTTP/2).

use crate::catalogue::{Catalogue, Gate};
use crate::model::Resource;
use crate::yaml::{Node, Span};

use super::index::{
    EG_API, GATEWAY_API, GrantFrom, GrantTo, Index, items, key, key_span, ns, text,
};
use super::types::{
    BackendKind, BackendRef, BackendState, Decided, Install, RouteKind, UnresolvedRef, UpstreamH2,
    UpstreamH2Cause, Why,
};

const SERVICE_WS: [&str; 2] = ["kubernetes.io/ws", "kubernetes.io/wss"];
const SERVICE_H2C: &str = "kubernetes.io/h2c";
const BACKEND_WS: [&str; 2] = ["gateway.envoyproxy.io/ws", "gateway.envoyproxy.io/wss"];
const BACKEND_H2C: &str = "gateway.envoyproxy.io/h2c";

/// What the backend module needs to know.
pub(crate) struct Ctx<'c, 'a> {
    pub index: &'c Index<'a>,
    pub install: &'c Install,
    pub catalogue: &'c Catalogue,
    pub version: &'c semver::Version,
}

/// The backends of each rule of a route resource.
pub(crate) fn resolve(
    ctx: &Ctx<'_, '_>,
    route: &Resource,
    kind: RouteKind,
    unresolved: &mut Vec<UnresolvedRef>,
) -> Vec<Vec<BackendRef>> {
    items(route.spec().and_then(|s| s.get("rules")))
        .map(|rule| {
            items(rule.get("backendRefs"))
                .map(|b| backend(ctx, route, kind, b, unresolved))
                .collect()
        })
        .collect()
}

fn backend(
    ctx: &Ctx<'_, '_>,
    route: &Resource,
    route_kind: RouteKind,
    b: &Node,
    unresolved: &mut Vec<UnresolvedRef>,
) -> BackendRef {
    let group = text(b, "group").unwrap_or("");
    let kind_name = text(b, "kind").unwrap_or("Service");
    let kind = match (group, kind_name) {
        ("", "Service") => BackendKind::Service,
        (EG_API, "Backend") => BackendKind::Backend,
        ("multicluster.x-k8s.io", "ServiceImport") => BackendKind::ServiceImport,
        _ => BackendKind::Other {
            group: group.to_owned(),
            kind: kind_name.to_owned(),
        },
    };
    let route_ns = ns(route);
    let namespace = text(b, "namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or(route_ns)
        .to_owned();
    let name = text(b, "name").unwrap_or("").to_owned();
    let port = b
        .get("port")
        .and_then(|p| p.as_i64().or_else(|| p.as_text()?.trim().parse().ok()));
    let mut out = BackendRef {
        kind: kind.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        port,
        span: b.span,
        state: BackendState::Found,
        app_protocol: None,
        forces_http1: Decided::new(false, Why::Default, None, Some(b.span)),
        tls: None,
        tls_alpn_http1: None,
        resource: None,
    };
    if matches!(kind, BackendKind::Other { .. }) {
        out.state = BackendState::InvalidKind;
        return out;
    }
    let permitted = ctx.index.grant_allows(
        &GrantFrom {
            group: GATEWAY_API,
            kind: route_kind.as_str(),
            namespace: route_ns,
        },
        &namespace,
        &GrantTo {
            group,
            kind: kind_name,
            name: &name,
        },
    );
    if !permitted {
        out.state = BackendState::NotPermitted;
        unresolved.push(UnresolvedRef {
            from: key(route),
            to: format!("{kind_name} {namespace}/{name}"),
            reason: "in another namespace without a ReferenceGrant".into(),
            span: b.span,
        });
        return out;
    }
    match kind {
        BackendKind::Service => service(ctx, &mut out),
        BackendKind::Backend => eg_backend(ctx, route, &mut out, unresolved),
        _ => {}
    }
    out
}

fn service(ctx: &Ctx<'_, '_>, out: &mut BackendRef) {
    let Some(svc) = ctx.index.get(&[""], "Service", &out.namespace, &out.name) else {
        out.state = BackendState::NotInRepo;
        return;
    };
    out.resource = Some(key(svc));
    out.tls = tls_policy(ctx.index, "", "Service", &out.namespace, &out.name);
    let ports: Vec<&Node> = items(svc.spec().and_then(|s| s.get("ports"))).collect();
    let Some(port) = ports.iter().find(|p| {
        p.get("port")
            .and_then(Node::as_i64)
            .is_some_and(|n| Some(n) == out.port)
    }) else {
        // A Service without a matching port: traffic fails; nothing to decide here.
        out.state = BackendState::PortNotFound;
        return;
    };
    let Some(ap) = port.get("appProtocol") else {
        return;
    };
    let Some(value) = ap.as_text() else { return };
    out.app_protocol = Some(Decided::new(
        value.to_owned(),
        Why::Set,
        Some(key(svc)),
        Some(ap.span),
    ));
    if SERVICE_WS.contains(&value) {
        out.forces_http1 = if ctx
            .catalogue
            .gate_holds(Gate::ServiceWsAppProtocol, ctx.version)
        {
            Decided::new(true, Why::AppProtocol, Some(key(svc)), Some(ap.span))
        } else {
            Decided::new(false, Why::IgnoredByVersion, Some(key(svc)), Some(ap.span))
        };
    }
}

fn eg_backend(
    ctx: &Ctx<'_, '_>,
    route: &Resource,
    out: &mut BackendRef,
    unresolved: &mut Vec<UnresolvedRef>,
) {
    let Some(be) = ctx
        .index
        .get(&[EG_API], "Backend", &out.namespace, &out.name)
    else {
        out.state = BackendState::NotInRepo;
        unresolved.push(UnresolvedRef {
            from: key(route),
            to: format!("Backend {}/{}", out.namespace, out.name),
            reason: "the Backend is not in the repo".into(),
            span: out.span,
        });
        return;
    };
    let be_key = key(be);
    out.resource = Some(be_key.clone());
    let api_on = ctx.install.enable_backend.value
        || ctx.install.enable_backend.why == Why::Unknown
        || !ctx.install.in_repo;
    if !api_on || !ctx.catalogue.gate_holds(Gate::BackendApi, ctx.version) {
        out.state = BackendState::BackendApiDisabled;
    }
    let spec = be.spec();
    let protocols: Vec<&Node> = items(spec.and_then(|s| s.get("appProtocols"))).collect();
    let ws = protocols
        .iter()
        .find(|p| p.as_text().is_some_and(|v| BACKEND_WS.contains(&v)));
    let h2c = protocols.iter().find(|p| p.as_text() == Some(BACKEND_H2C));
    if let Some(p) = ws.or(h2c) {
        out.app_protocol = Some(Decided::new(
            p.as_text().unwrap_or("").to_owned(),
            Why::Set,
            Some(be_key.clone()),
            Some(p.span),
        ));
    }
    if let Some(p) = ws {
        out.forces_http1 = if ctx
            .catalogue
            .gate_holds(Gate::BackendWsAppProtocol, ctx.version)
        {
            Decided::new(true, Why::AppProtocol, Some(be_key.clone()), Some(p.span))
        } else {
            Decided::new(
                false,
                Why::IgnoredByVersion,
                Some(be_key.clone()),
                Some(p.span),
            )
        };
    }
    let tls = spec
        .and_then(|s| s.get("tls"))
        .filter(|t| !t.is_null() && ctx.catalogue.gate_holds(Gate::BackendTls, ctx.version));
    if let Some(t) = tls {
        let span = spec.and_then(|s| key_span(s, "tls")).or(Some(t.span));
        out.tls = Some(Decided::new(true, Why::Set, Some(be_key.clone()), span));
        if let Some(alpn) = t
            .get("alpnProtocols")
            .filter(|_| ctx.catalogue.gate_holds(Gate::BackendTlsAlpn, ctx.version))
        {
            let list: Vec<&str> = items(Some(alpn)).filter_map(Node::as_text).collect();
            let disables = list.is_empty()
                && ctx
                    .catalogue
                    .gate_holds(Gate::BackendTlsEmptyAlpnDisables, ctx.version);
            if (!list.is_empty() && !list.contains(&"h2")) || disables {
                out.tls_alpn_http1 = Some(alpn.span);
            }
        }
    } else {
        out.tls = tls_policy(ctx.index, EG_API, "Backend", &out.namespace, &out.name);
    }
}

/// A BackendTLSPolicy in `namespace` that targets `kind` `name`.
fn tls_policy(
    index: &Index<'_>,
    group: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<Decided<bool>> {
    index
        .all("BackendTLSPolicy")
        .filter(|p| ns(p) == namespace)
        .find_map(|p| {
            let spec = p.spec()?;
            let single = spec.get("targetRef");
            std::iter::once(single)
                .flatten()
                .chain(items(spec.get("targetRefs")))
                .find(|t| {
                    text(t, "group").unwrap_or("") == group
                        && text(t, "kind") == Some(kind)
                        && text(t, "name") == Some(name)
                })
                .map(|t| Decided::new(true, Why::Set, Some(key(p)), Some(t.span)))
        })
}

/// `backendTLS.alpnProtocols` of the EnvoyProxy a Gateway uses, when it leaves h2 out.
pub(crate) fn envoy_proxy_alpn_http1(
    index: &Index<'_>,
    gateway: &Resource,
    class: Option<&Resource>,
) -> Option<Span> {
    let from_gateway = gateway
        .spec()
        .and_then(|s| s.path(&["infrastructure", "parametersRef"]))
        .and_then(|r| {
            (text(r, "kind") == Some("EnvoyProxy"))
                .then(|| index.get(&[EG_API], "EnvoyProxy", ns(gateway), text(r, "name")?))?
        });
    let from_class = class
        .and_then(|c| c.spec()?.get("parametersRef"))
        .and_then(|r| {
            (text(r, "kind") == Some("EnvoyProxy")).then(|| {
                index.get(
                    &[EG_API],
                    "EnvoyProxy",
                    text(r, "namespace").unwrap_or("default"),
                    text(r, "name")?,
                )
            })?
        });
    let proxy = from_gateway.or(from_class)?;
    let alpn = proxy.spec()?.path(&["backendTLS", "alpnProtocols"])?;
    let list: Vec<String> = items(Some(alpn))
        .filter_map(|n| n.as_text().map(str::to_ascii_lowercase))
        .collect();
    (!list.is_empty() && !list.iter().any(|p| p == "h2")).then_some(alpn.span)
}

/// Whether a backend can be reached over HTTP/2 for a WebSocket on a listener.
pub(crate) fn upstream_h2(
    index: usize,
    b: &BackendRef,
    use_client_protocol: bool,
    proxy_alpn_http1: Option<Span>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Option<UpstreamH2> {
    if use_client_protocol || b.forces_http1.value {
        return None;
    }
    if let Some(ap) = &b.app_protocol
        && (ap.value == SERVICE_H2C || ap.value == BACKEND_H2C)
    {
        return Some(UpstreamH2 {
            backend: index,
            cause: UpstreamH2Cause::H2c,
            span: ap.span,
        });
    }
    let tls = b.tls.as_ref().filter(|t| t.value)?;
    if !catalogue.gate_holds(Gate::UpstreamAlpnAuto, version)
        || b.tls_alpn_http1.is_some()
        || proxy_alpn_http1.is_some()
    {
        return None;
    }
    Some(UpstreamH2 {
        backend: index,
        cause: UpstreamH2Cause::TlsAlpnAuto,
        span: tls.span,
    })
}
