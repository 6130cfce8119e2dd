//! `upgrade-disabled`: the WebSocket upgrade cannot pass for a WebSocket route.

use super::{Cx, Hit, route_owner, route_related, websocket_rules};
use crate::catalogue::RuleId;
use crate::model::eg::{Model, Why};

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for (route, rule, on) in websocket_rules(model) {
        if on.websocket.value {
            continue;
        }
        let why = match on.websocket.why {
            // From 1.8 the model drops the default upgrade (the effective list is empty);
            // on 1.4 to 1.7 the upgrade stays allowed and the buffered stream hangs.
            Why::RequestBuffer if on.upgrade.why == Why::RequestBuffer => {
                "requestBuffer drops the default websocket upgrade: the upgrade is answered with 403"
                    .to_owned()
            }
            Why::RequestBuffer => {
                "requestBuffer buffers the request: the WebSocket hangs (Envoy Gateway 1.4 to 1.7)"
                    .to_owned()
            }
            _ if on
                .upgrade
                .value
                .iter()
                .any(|u| u.eq_ignore_ascii_case("websocket")) =>
            {
                "the listener's ClientTrafficPolicy ignores the websocket upgrade type".to_owned()
            }
            _ => format!(
                "the effective upgrade types are [{}], without websocket",
                on.upgrade.value.join(", ")
            ),
        };
        out.push(Hit {
            rule: RuleId::UpgradeDisabled,
            cause: None,
            location: on.websocket.span.unwrap_or(rule.span),
            message: format!(
                "WebSocket upgrade disabled for {} {}/{} rule {}: {why}",
                route.kind.as_str(),
                route.key.namespace,
                route.key.name,
                rule.index
            ),
            related: vec![route_related(route, Some(&on.listener))],
            resource: on
                .websocket
                .resource
                .clone()
                .or_else(|| Some(route_owner(route))),
        });
    }
}
