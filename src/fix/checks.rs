//! The project's own typed checks of what the fixer writes, per kind, with the CEL rules of the
//! CRDs that bite here: `requestBuffer` with `httpUpgrade`; `mergeType` only on route targets;
//! exactly one of fqdn/ip/unix per Backend endpoint; ALPN values the version accepts. The tests
//! validate the same output against the CRD schemas as well.

use serde_json::Value;

use crate::catalogue::{Catalogue, Gate};

/// What is wrong with one resource (empty: nothing).
pub fn check(doc: &Value, catalogue: &Catalogue, version: &semver::Version) -> Vec<String> {
    let mut out = Vec::new();
    let kind = doc["kind"].as_str().unwrap_or("");
    if doc["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        out.push(format!("{kind} without metadata.name"));
    }
    let spec = &doc["spec"];
    match kind {
        "ClientTrafficPolicy" | "BackendTrafficPolicy" => {
            policy_targets(spec, kind, &mut out);
            if kind == "ClientTrafficPolicy" {
                alpn(spec, catalogue, version, &mut out);
            } else {
                traffic(spec, &mut out);
            }
        }
        "Backend" => backend(spec, &mut out),
        "HTTPRoute" => route(spec, &mut out),
        "Service" => {
            for p in spec["ports"].as_array().into_iter().flatten() {
                if !p["appProtocol"].is_null() && !p["appProtocol"].is_string() {
                    out.push("Service port appProtocol must be a string".into());
                }
            }
        }
        _ => {}
    }
    out
}

fn policy_targets(spec: &Value, kind: &str, out: &mut Vec<String>) {
    let refs = spec["targetRefs"].as_array();
    if refs.is_none() && spec["targetRef"].is_null() && spec["targetSelectors"].is_null() {
        out.push(format!("{kind} without targetRefs"));
    }
    for t in refs.into_iter().flatten() {
        for field in ["group", "kind", "name"] {
            if !t[field].is_string() {
                out.push(format!("{kind} targetRefs entry without {field}"));
            }
        }
        if !t["namespace"].is_null() {
            out.push(format!("{kind} targetRefs entries take no namespace"));
        }
    }
}

fn alpn(spec: &Value, catalogue: &Catalogue, version: &semver::Version, out: &mut Vec<String>) {
    let Some(list) = spec["tls"]["alpnProtocols"].as_array() else {
        if !spec["tls"]["alpnProtocols"].is_null() {
            out.push("tls.alpnProtocols must be a list".into());
        }
        return;
    };
    let any = catalogue.gate_holds(Gate::AlpnAnyString, version);
    for p in list {
        match p.as_str() {
            Some("http/1.0" | "http/1.1" | "h2") => {}
            Some(other) if any && !other.is_empty() => {}
            _ => out.push(format!(
                "tls.alpnProtocols value {p} is not accepted by {version}"
            )),
        }
    }
}

fn traffic(spec: &Value, out: &mut Vec<String>) {
    if !spec["requestBuffer"].is_null() && !spec["httpUpgrade"].is_null() {
        out.push("httpUpgrade cannot be set with requestBuffer (CEL)".into());
    }
    if !spec["mergeType"].is_null() {
        let on_gateway = spec["targetRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| matches!(t["kind"].as_str(), Some("Gateway" | "ListenerSet")));
        if on_gateway {
            out.push("mergeType is allowed only on route targets (CEL)".into());
        }
    }
    for u in spec["httpUpgrade"].as_array().into_iter().flatten() {
        if !u["type"].is_string() {
            out.push("httpUpgrade entries need a type".into());
        }
    }
}

fn backend(spec: &Value, out: &mut Vec<String>) {
    let endpoints = spec["endpoints"].as_array().map_or(&[][..], Vec::as_slice);
    if endpoints.is_empty() {
        out.push("Backend without endpoints".into());
    }
    for e in endpoints {
        let set = ["fqdn", "ip", "unix"]
            .iter()
            .filter(|k| !e[**k].is_null())
            .count();
        if set != 1 {
            out.push("a Backend endpoint needs exactly one of fqdn, ip and unix (CEL)".into());
        }
        if let Some(host) = e["fqdn"]["hostname"].as_str()
            && !host.contains('.')
        {
            out.push(format!("Backend fqdn {host} is a single label (rejected)"));
        }
        for addr in [&e["fqdn"], &e["ip"]] {
            if !addr.is_null()
                && !addr["port"]
                    .as_i64()
                    .is_some_and(|p| (1..=65535).contains(&p))
            {
                out.push("a Backend endpoint needs a port from 1 to 65535".into());
            }
        }
    }
    for p in spec["appProtocols"].as_array().into_iter().flatten() {
        if !matches!(
            p.as_str(),
            Some(
                "gateway.envoyproxy.io/h2c"
                    | "gateway.envoyproxy.io/ws"
                    | "gateway.envoyproxy.io/wss"
            )
        ) {
            out.push(format!("Backend appProtocols value {p} is not accepted"));
        }
    }
}

fn route(spec: &Value, out: &mut Vec<String>) {
    for rule in spec["rules"].as_array().into_iter().flatten() {
        for b in rule["backendRefs"].as_array().into_iter().flatten() {
            if b["kind"] == "Backend" && b["group"] != "gateway.envoyproxy.io" {
                out.push("a Backend backendRef needs group gateway.envoyproxy.io".into());
            }
            if b["kind"].as_str().is_none_or(|k| k == "Service") && !b["port"].is_i64() {
                out.push("a Service backendRef needs a port".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(doc: Value) -> Vec<String> {
        check(
            &doc,
            &Catalogue::embedded().unwrap(),
            &semver::Version::new(1, 5, 0),
        )
    }

    #[test]
    fn the_cel_rules_that_bite() {
        let btp = json!({"kind": "BackendTrafficPolicy", "metadata": {"name": "a"}, "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}],
            "requestBuffer": {"limit": "1Mi"}, "httpUpgrade": [{"type": "websocket"}], "mergeType": "StrategicMerge"}});
        let e = errors(btp);
        assert!(e.iter().any(|e| e.contains("requestBuffer")), "{e:?}");
        assert!(e.iter().any(|e| e.contains("mergeType")), "{e:?}");
        let backend = json!({"kind": "Backend", "metadata": {"name": "b"}, "spec": {
            "endpoints": [{"fqdn": {"hostname": "ha", "port": 8123}, "ip": {"address": "10.0.0.1", "port": 1}}],
            "appProtocols": ["gateway.envoyproxy.io/ws"]}});
        let e = errors(backend);
        assert!(e.iter().any(|e| e.contains("exactly one")), "{e:?}");
        assert!(e.iter().any(|e| e.contains("single label")), "{e:?}");
        let ctp = json!({"kind": "ClientTrafficPolicy", "metadata": {"name": "c"}, "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw", "namespace": "x"}],
            "tls": {"alpnProtocols": ["http/1.1", "h3"]}}});
        let e = errors(ctp);
        assert_eq!(e.len(), 2, "{e:?}");
    }
}
