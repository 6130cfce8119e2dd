//! `alpn-h2-first`: an HTTPS listener that serves a WebSocket route offers h2 before http/1.1.

use super::{Cx, Hit, route_related};
use crate::catalogue::RuleId;
use crate::model::eg::Model;

/// True when the list offers h2 and does not offer http/1.1 before it.
pub(crate) fn h2_first(alpn: &[String]) -> bool {
    let h2 = alpn.iter().position(|p| p == "h2");
    let http1 = alpn.iter().position(|p| p == "http/1.1");
    match (h2, http1) {
        (Some(h2), Some(http1)) => h2 < http1,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for listener in &model.listeners {
        if !listener.https {
            continue;
        }
        let Some(alpn) = &listener.alpn else { continue };
        if !h2_first(&alpn.value) {
            continue;
        }
        let related: Vec<_> = model
            .routes
            .iter()
            .filter(|r| r.websocket.is_some())
            .filter(|r| r.listeners().any(|a| a.listener == listener.key))
            .map(|r| route_related(r, Some(&listener.key)))
            .collect();
        if related.is_empty() {
            continue;
        }
        let location = alpn
            .span
            .or(listener.protocol_span)
            .unwrap_or(listener.span);
        let how = if alpn.span.is_some() && alpn.resource.is_some() {
            "sets"
        } else {
            "defaults to"
        };
        out.push(Hit {
            rule: RuleId::AlpnH2First,
            cause: None,
            location,
            message: format!(
                "ALPN {how} [{}] on an HTTPS listener that serves WebSocket routes: h2 is offered before http/1.1",
                alpn.value.join(", ")
            ),
            related,
            resource: alpn.resource.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::h2_first;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_h2_ahead_of_http1_counts() {
        assert!(h2_first(&v(&["h2", "http/1.1"])));
        assert!(h2_first(&v(&["h2"])));
        assert!(h2_first(&v(&["http/1.0", "h2", "http/1.1"])));
        assert!(!h2_first(&v(&["http/1.1", "h2"])));
        assert!(!h2_first(&v(&["http/1.1"])));
        assert!(!h2_first(&v(&[])));
    }
}
