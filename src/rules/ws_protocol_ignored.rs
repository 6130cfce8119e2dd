//! `ws-protocol-ignored`: a ws/wss app protocol that the deployed version ignores.

use super::{Cx, Hit, backends, is_ws_protocol, route_related};
use crate::catalogue::RuleId;
use crate::model::eg::{Model, Why};

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for (route, _, backend) in backends(model) {
        let Some(protocol) = &backend.app_protocol else {
            continue;
        };
        if !is_ws_protocol(&protocol.value)
            || backend.forces_http1.value
            || backend.forces_http1.why != Why::IgnoredByVersion
        {
            continue;
        }
        out.push(Hit {
                    rule: RuleId::WsProtocolIgnored,
                    cause: None,
                    location: protocol.span.unwrap_or(backend.span),
                    message: format!(
                        "app protocol {} of {}/{} is ignored by Envoy Gateway {}: HTTP/1.1 is not forced upstream",
                        protocol.value, backend.namespace, backend.name, model.version.version
                    ),
                    related: vec![route_related(route, None)],
                    resource: protocol.resource.clone().or_else(|| backend.resource.clone()),
                });
    }
}
