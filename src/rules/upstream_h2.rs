//! `upstream-h2`: a WebSocket route's backend can be reached over HTTP/2.

use super::{Cx, Hit, route_related, websocket_rules};
use crate::catalogue::{Cause, RuleId};
use crate::model::eg::{Model, UpstreamH2Cause};

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for (route, rule, on) in websocket_rules(model) {
        if on.force_http1_upstream.value || on.use_client_protocol {
            continue;
        }
        for h2 in &on.upstream_h2 {
            let Some(backend) = rule.backends.get(h2.backend) else {
                continue;
            };
            let (cause, why) = match h2.cause {
                UpstreamH2Cause::H2c => (Cause::H2c, "its app protocol is h2c"),
                UpstreamH2Cause::TlsAlpnAuto => (
                    Cause::TlsAlpnAuto,
                    "TLS to it negotiates upstream ALPN automatically (h2 possible)",
                ),
            };
            out.push(Hit {
                rule: RuleId::UpstreamH2,
                cause: Some(cause),
                location: h2.span.unwrap_or(backend.span),
                message: format!(
                    "backend {}/{} of a WebSocket route can be reached over HTTP/2: {why}",
                    backend.namespace, backend.name
                ),
                related: vec![route_related(route, Some(&on.listener))],
                resource: backend
                    .app_protocol
                    .as_ref()
                    .and_then(|p| p.resource.clone())
                    .or_else(|| backend.resource.clone()),
            });
        }
    }
}
