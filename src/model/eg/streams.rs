//! Stream limits: the effective max stream duration and stream idle timeout of a route rule on
//! a listener, from its BackendTrafficPolicy (`timeout.http.maxStreamDuration`,
//! `streamIdleTimeout`, `requestTimeout`), the HTTPRoute rule's `timeouts`, and the listener's
//! ClientTrafficPolicy (`connection.connectionLimit.maxStreamDuration`,
//! `timeout.http.streamIdleTimeout`).
//!
//! Envoy's route `max_stream_duration` (BTP) overrides the listener's (CTP). A route
//! `idle_timeout` overrides the listener's stream idle timeout: Envoy Gateway sets it from the
//! BTP `streamIdleTimeout`, else from a request timeout as max(1h, timeout) (0 when the timeout
//! is 0s; since 1.8 not when the CTP sets `streamIdleTimeout`).

use crate::catalogue::{Catalogue, Gate};
use crate::model::ResourceKey;
use crate::yaml::Node;

use super::btp::Governing;
use super::index::items;
use super::policy::PolicyDoc;
use super::types::{StreamLimit, StreamLimitKind};

/// The route idle timeout Envoy Gateway derives from a request timeout is at least this long.
const DERIVED_IDLE_FLOOR_SECONDS: f64 = 3600.0;

/// Parses a Gateway API duration (`1h`, `30m`, `10s`, `500ms`, `1h30m`), also the Go forms
/// Envoy Gateway's own fields accept (`1.5s`, `0`). Seconds, or `None` when unparsable.
pub(crate) fn parse_duration(text: &str) -> Option<f64> {
    let s = text.trim();
    if s == "0" {
        return Some(0.0);
    }
    let mut rest = s;
    let mut total = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * factor;
    }
    Some(total)
}

/// A written duration setting.
struct Setting<'n> {
    node: &'n Node,
    seconds: f64,
    resource: ResourceKey,
    setting: String,
}

impl Setting<'_> {
    fn limit(&self, kind: StreamLimitKind, seconds: f64) -> StreamLimit {
        StreamLimit {
            kind,
            seconds,
            setting: self.setting.clone(),
            written: self.node.as_text().unwrap_or_default().to_owned(),
            resource: Some(self.resource.clone()),
            span: self.node.span,
        }
    }
}

fn read<'n>(node: &'n Node, resource: &ResourceKey, setting: String) -> Option<Setting<'n>> {
    let seconds = parse_duration(node.as_text()?)?;
    Some(Setting {
        node,
        seconds,
        resource: resource.clone(),
        setting,
    })
}

fn btp_setting<'a>(g: &Governing<'_, 'a>, path: &[&str]) -> Option<Setting<'a>> {
    let (node, p) = g.field(path)?;
    read(
        node,
        &p.key,
        format!("BackendTrafficPolicy {}", path.join(".")),
    )
}

fn ctp_setting<'a>(ctp: Option<&PolicyDoc<'a>>, path: &[&str]) -> Option<Setting<'a>> {
    let p = ctp?;
    let node = p.res.spec()?.path(path)?;
    read(
        node,
        &p.key,
        format!("ClientTrafficPolicy {}", path.join(".")),
    )
}

/// The HTTPRoute rule's request timeout as Envoy Gateway uses it: `backendRequest` when the
/// rule has no `retry`, else `request`.
fn route_timeout<'a>(rule: Option<&'a Node>, route: &ResourceKey) -> Option<Setting<'a>> {
    let rule = rule?;
    let timeouts = rule.get("timeouts")?;
    let backend = timeouts
        .get("backendRequest")
        .filter(|_| rule.get("retry").is_none_or(Node::is_null))
        .and_then(|n| read(n, route, "HTTPRoute timeouts.backendRequest".into()));
    backend.or_else(|| {
        timeouts
            .get("request")
            .and_then(|n| read(n, route, "HTTPRoute timeouts.request".into()))
    })
}

/// The written stream limits of a rule (its node in the route, when there is one) under the
/// governing BackendTrafficPolicies `g` and the listener's ClientTrafficPolicy `ctp`.
pub(crate) fn limits(
    rule: Option<&Node>,
    route: &ResourceKey,
    g: &Governing<'_, '_>,
    ctp: Option<&PolicyDoc<'_>>,
    catalogue: &Catalogue,
    version: &semver::Version,
) -> Vec<StreamLimit> {
    let holds = |gate| catalogue.gate_holds(gate, version);
    let mut out = Vec::new();

    let max_duration = holds(Gate::BtpMaxStreamDuration)
        .then(|| btp_setting(g, &["timeout", "http", "maxStreamDuration"]))
        .flatten()
        .or_else(|| {
            holds(Gate::CtpMaxStreamDuration)
                .then(|| ctp_setting(ctp, &["connection", "connectionLimit", "maxStreamDuration"]))
                .flatten()
        });
    if let Some(s) = max_duration {
        out.push(s.limit(StreamLimitKind::MaxStreamDuration, s.seconds));
    }

    let btp_idle = holds(Gate::BtpStreamIdleTimeout)
        .then(|| btp_setting(g, &["timeout", "http", "streamIdleTimeout"]))
        .flatten();
    let ctp_idle = holds(Gate::StreamIdleTimeoutField)
        .then(|| ctp_setting(ctp, &["timeout", "http", "streamIdleTimeout"]))
        .flatten();
    let idle = if let Some(s) = btp_idle {
        Some(s.limit(StreamLimitKind::StreamIdleTimeout, s.seconds))
    } else {
        let request = route_timeout(rule, route).or_else(|| {
            holds(Gate::BtpRequestTimeout)
                .then(|| btp_setting(g, &["timeout", "http", "requestTimeout"]))
                .flatten()
        });
        let derived =
            request.filter(|_| !(ctp_idle.is_some() && holds(Gate::RouteIdleTimeoutYieldsToCtp)));
        match derived {
            Some(r) => {
                let seconds = if r.seconds > 0.0 {
                    r.seconds.max(DERIVED_IDLE_FLOOR_SECONDS)
                } else {
                    0.0
                };
                let mut l = r.limit(StreamLimitKind::StreamIdleTimeout, seconds);
                l.setting = format!("route idle timeout derived from {}", r.setting);
                Some(l)
            }
            None => ctp_idle.map(|s| s.limit(StreamLimitKind::StreamIdleTimeout, s.seconds)),
        }
    };
    out.extend(idle);
    out
}

/// The node of rule `index` of a route resource.
pub(crate) fn rule_node(res: &crate::model::Resource, index: usize) -> Option<&Node> {
    items(res.spec().and_then(|s| s.get("rules"))).nth(index)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Some(3600.0));
        assert_eq!(parse_duration("30m"), Some(1800.0));
        assert_eq!(parse_duration("10s"), Some(10.0));
        assert_eq!(parse_duration("500ms"), Some(0.5));
        assert_eq!(parse_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_duration("1m30s500ms"), Some(90.5));
        assert_eq!(parse_duration("0s"), Some(0.0));
        assert_eq!(parse_duration("0"), Some(0.0));
        assert_eq!(parse_duration("1.5s"), Some(1.5));
        for bad in ["", "10", "h", "10x", "1h 30m", "-1s", "s10"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
