//! `stream-limits`: a limit that cuts long-lived WebSocket streams: a max stream duration, or a
//! stream idle timeout below the catalogue's threshold.

use super::{Cx, Hit, route_owner, route_related, websocket_rules};
use crate::catalogue::RuleId;
use crate::model::eg::{Model, StreamLimitKind};

pub(crate) fn check(model: &Model, cx: &Cx, out: &mut Vec<Hit>) {
    let threshold = cx.catalogue.thresholds().stream_idle_threshold_seconds;
    for (route, _, on) in websocket_rules(model) {
        // No WebSocket stream passes here (`upgrade-disabled` says why).
        if !on.websocket.value {
            continue;
        }
        for limit in &on.stream_limits {
            if limit.seconds <= 0.0 {
                continue;
            }
            let message = match limit.kind {
                StreamLimitKind::MaxStreamDuration => format!(
                    "{} `{}` resets every WebSocket stream after that time, even while messages flow",
                    limit.setting, limit.written
                ),
                StreamLimitKind::StreamIdleTimeout if limit.seconds < threshold as f64 => {
                    format!(
                        "{} `{}` closes a WebSocket that sends no frames for that long (below {threshold} s)",
                        limit.setting, limit.written
                    )
                }
                StreamLimitKind::StreamIdleTimeout => continue,
            };
            let resource = match &limit.resource {
                Some(k) if *k == route.key => Some(route_owner(route)),
                other => other.clone(),
            };
            out.push(Hit {
                rule: RuleId::StreamLimits,
                cause: None,
                location: limit.span,
                message,
                related: vec![route_related(route, Some(&on.listener))],
                resource,
            });
        }
    }
}
