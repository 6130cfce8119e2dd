//! The model rendered as the facts of Envoy Gateway's translator cases
//! (`egw-cases/*/expected.json`): per HTTP(S) listener `https` and `alpn`, per route rule
//! `upgrade` and `forceHTTP1Upstream`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::types::{ListenerState, Model, RouteKind};

impl Model {
    /// `{"listeners": {...}, "routes": {...}}` exactly as `expected.json` has them.
    ///
    /// `listeners` holds every programmed HTTP and HTTPS listener. `routes` is keyed by listener,
    /// then `<kind>/<ns>/<name>/rule/<i>`. Envoy Gateway names a route in its IR by rule and
    /// hostname, not by listener, and the golden data keeps one listener per name: when a rule
    /// serves the same hostname on several listeners, only the last one (Gateways by
    /// `namespace/name`, listeners in order) lists it. The model itself keeps every attachment.
    pub fn facts(&self) -> Value {
        let mut listeners = serde_json::Map::new();
        for l in &self.listeners {
            if l.state != ListenerState::Ready || !matches!(l.protocol.as_str(), "HTTP" | "HTTPS") {
                continue;
            }
            let alpn = match &l.alpn {
                Some(a) if l.https => json!(a.value),
                _ => Value::Null,
            };
            listeners.insert(l.key.clone(), json!({"https": l.https, "alpn": alpn}));
        }

        // (rule key, hostname) -> (listener order, listener key, facts)
        let order: BTreeMap<&str, usize> = self
            .listeners
            .iter()
            .enumerate()
            .map(|(i, l)| (l.key.as_str(), i))
            .collect();
        let mut owner: BTreeMap<(String, String), (usize, String, Value)> = BTreeMap::new();
        for r in &self.routes {
            if !matches!(r.kind, RouteKind::Http | RouteKind::Grpc) {
                continue;
            }
            for a in r.listeners() {
                let Some(&pos) = order.get(a.listener.as_str()) else {
                    continue;
                };
                if !listeners.contains_key(&a.listener) {
                    continue;
                }
                for rule in &r.rules {
                    let Some(on) = rule.on_listeners.iter().find(|o| o.listener == a.listener)
                    else {
                        continue;
                    };
                    let rule_key = format!(
                        "{}/{}/{}/rule/{}",
                        r.kind.as_str().to_ascii_lowercase(),
                        r.key.namespace,
                        r.key.name,
                        rule.index
                    );
                    let facts = json!({
                        "upgrade": on.upgrade.value,
                        "forceHTTP1Upstream": on.force_http1_upstream.value,
                    });
                    for h in &a.hostnames {
                        let slot = owner.entry((rule_key.clone(), h.clone()));
                        let new = (pos, a.listener.clone(), facts.clone());
                        match slot {
                            std::collections::btree_map::Entry::Vacant(v) => {
                                v.insert(new);
                            }
                            std::collections::btree_map::Entry::Occupied(mut o) => {
                                if o.get().0 <= pos {
                                    o.insert(new);
                                }
                            }
                        }
                    }
                }
            }
        }
        let mut routes: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
        for ((rule_key, _), (_, listener, facts)) in owner {
            routes.entry(listener).or_default().insert(rule_key, facts);
        }
        json!({"listeners": listeners, "routes": routes})
    }
}
