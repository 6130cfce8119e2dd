//! `wss-without-tls`: `wss` declared where nothing configures TLS to the backend.

use super::{Cx, Hit, backends, is_wss_protocol, route_related};
use crate::catalogue::RuleId;
use crate::model::eg::Model;

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for (route, _, backend) in backends(model) {
        let Some(protocol) = &backend.app_protocol else {
            continue;
        };
        if !is_wss_protocol(&protocol.value) || backend.tls.as_ref().is_some_and(|t| t.value) {
            continue;
        }
        out.push(Hit {
                    rule: RuleId::WssWithoutTls,
                    cause: None,
                    location: protocol.span.unwrap_or(backend.span),
                    message: format!(
                        "app protocol {} of {}/{} declares wss, but nothing configures TLS to it (wss does not turn TLS on)",
                        protocol.value, backend.namespace, backend.name
                    ),
                    related: vec![route_related(route, None)],
                    resource: protocol.resource.clone().or_else(|| backend.resource.clone()),
                });
    }
}
