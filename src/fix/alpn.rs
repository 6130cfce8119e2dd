//! `alpn-order` (#2924): make the ClientTrafficPolicy that governs an HTTPS listener list
//! `http/1.1` before `h2`. In place when the list is written (the user's two-line swap); else
//! the field is added to the policy's `tls:` block, or the block to its `spec`; when no policy
//! governs the Gateway, a new one targets it, in the Gateway's folder and kustomization.

use std::collections::BTreeSet;

use super::edit::{self, Refusal};
use super::render::{self, Y};
use super::{Change, Cx, Declined, Draft};
use crate::catalogue::{FixKind, RuleId};
use crate::model::ResourceKey;
use crate::model::eg::{Decided, Listener, Model, PolicyKind};
use crate::rules::h2_first;

const ORDER: [&str; 2] = ["http/1.1", "h2"];

pub(super) fn plan(cx: &Cx, declined: &mut Vec<Declined>) -> Draft {
    let mut d = Draft::new(FixKind::AlpnOrder);
    let mut created: BTreeSet<ResourceKey> = BTreeSet::new();
    for model in cx.models {
        for l in &model.listeners {
            let Some(alpn) = l.alpn.as_ref().filter(|a| l.https && h2_first(&a.value)) else {
                continue;
            };
            let location = alpn.span.or(l.protocol_span).unwrap_or(l.span);
            let Some(finding) = cx.finding_at(RuleId::AlpnH2First, location) else {
                continue;
            };
            match listener(cx, model, l, alpn, &mut d, &mut created) {
                Ok(policy) => {
                    d.finding(finding);
                    if !d.listeners.contains(&l.key) {
                        d.listeners.push(l.key.clone());
                    }
                    for route in &model.routes {
                        if route.websocket.is_some()
                            && route.listeners().any(|a| a.listener == l.key)
                        {
                            d.affect(route, Some(&l.key));
                        }
                    }
                    d.check(policy, &["Accepted=True"]);
                    d.check(l.gateway.clone(), &["Programmed=True"]);
                    if uses_http3(cx, model, l) {
                        d.note("The policy also enables HTTP/3: browsers that learned h3 (Alt-Svc) keep using it, and the WebSocket still opens over HTTP/1.1.");
                    }
                }
                Err(reason) => declined.push(Declined {
                    rule: RuleId::AlpnH2First,
                    kind: Some(FixKind::AlpnOrder),
                    location,
                    reason,
                }),
            }
        }
    }
    d
}

/// Plans the edit for one listener; returns the policy that will decide its ALPN.
fn listener(
    cx: &Cx,
    model: &Model,
    l: &Listener,
    alpn: &Decided<Vec<String>>,
    d: &mut Draft,
    created: &mut BTreeSet<ResourceKey>,
) -> Result<ResourceKey, Refusal> {
    if alpn.ambiguous {
        return Err("two ClientTrafficPolicies without a creation time claim this listener (policy-conflict): which one decides its ALPN is not known from the repo".into());
    }
    let Some(key) = &l.client_policy else {
        return create_policy(cx, model, &l.gateway, d, created);
    };
    let res = cx
        .resource(model, key)
        .ok_or_else(|| format!("{key} is not in the applied set"))?;
    let spec = res.spec().ok_or("the policy has no spec")?;
    let written = spec
        .path(&["tls", "alpnProtocols"])
        .filter(|n| !n.is_null());
    match written {
        Some(list) => {
            let at = edit::locate(cx.loaded, list.span)
                .ok_or("the alpnProtocols list is not in a loaded file")?;
            let items: Vec<String> = list
                .as_seq()
                .ok_or("alpnProtocols is not a list")?
                .items
                .iter()
                .map(|n| n.as_text().unwrap_or("").to_owned())
                .collect();
            let h2 = items.iter().position(|p| p == "h2").ok_or("no h2")?;
            let seq = at.node.as_seq().ok_or("alpnProtocols is not a list")?;
            let mut after = items.clone();
            match items.iter().position(|p| p == "http/1.1") {
                Some(h1) => {
                    // Move http/1.1 to where h2 is; the others keep their order.
                    let mut order: Vec<usize> = (0..items.len()).collect();
                    let moved = order.remove(h1);
                    order.insert(h2, moved);
                    let edits = super::splice::reorder(at.file.text(), seq, &order)
                        .ok_or("the list items are not one per line")?;
                    for e in edits {
                        d.edit(at.file.id, e);
                    }
                    let v = after.remove(h1);
                    after.insert(h2, v);
                }
                None => {
                    d.edit(
                        at.file.id,
                        edit::insert_item(at.file, &at.node, Some(h2), &Y::str("http/1.1"))?,
                    );
                    after.insert(h2, "http/1.1".into());
                }
            }
            d.change(Change::new(
                &at.resource(&key.namespace),
                &at.path.join("."),
                &serde_json::json!(after),
            ));
        }
        None => {
            let (target, key_name, value) = match spec.get("tls").filter(|t| t.as_map().is_some()) {
                Some(tls) => (tls, "alpnProtocols", Y::strs(&ORDER)),
                None => (spec, "tls", Y::map([("alpnProtocols", Y::strs(&ORDER))])),
            };
            let at = edit::locate(cx.loaded, target.span)
                .ok_or("the policy's spec is not in a loaded file")?;
            d.edit(
                at.file.id,
                edit::add_entry(at.file, &at.node, key_name, &value)?,
            );
            let field = at.field(key_name);
            let field = if key_name == "tls" {
                format!("{field}.alpnProtocols")
            } else {
                field
            };
            d.change(Change::new(
                &at.resource(&key.namespace),
                &field,
                &serde_json::json!(ORDER),
            ));
        }
    }
    Ok(key.clone())
}

/// A new ClientTrafficPolicy for a Gateway that no policy governs: same namespace, a file in
/// the Gateway's folder, listed in that folder's kustomization.
fn create_policy(
    cx: &Cx,
    model: &Model,
    gateway: &ResourceKey,
    d: &mut Draft,
    created: &mut BTreeSet<ResourceKey>,
) -> Result<ResourceKey, Refusal> {
    let taken = |name: &str| {
        model.policies.iter().any(|p| {
            p.kind == PolicyKind::ClientTrafficPolicy
                && p.key.namespace == gateway.namespace
                && p.key.name == name
        })
    };
    let name = if taken(&gateway.name) {
        format!("{}-alpn", gateway.name)
    } else {
        gateway.name.clone()
    };
    let key = ResourceKey {
        kind: "ClientTrafficPolicy".into(),
        namespace: gateway.namespace.clone(),
        name,
    };
    // A policy on some of the Gateway's listeners: a new Gateway-wide one would be a second.
    if let Some(p) = model.policies.iter().find(|p| {
        p.kind == PolicyKind::ClientTrafficPolicy
            && p.targets.iter().any(|t| {
                t.kind == "Gateway" && t.namespace == gateway.namespace && t.name == gateway.name
            })
    }) {
        return Err(format!(
            "ClientTrafficPolicy {}/{} already targets other listeners of Gateway {}/{}, and ws-fix never adds a second policy to a Gateway: give this listener `tls.alpnProtocols: [http/1.1, h2]` by hand",
            p.key.namespace, p.key.name, gateway.namespace, gateway.name
        ));
    }
    if !created.insert(gateway.clone()) {
        return Ok(key);
    }
    let gw = cx
        .resource(model, gateway)
        .ok_or_else(|| format!("Gateway {} is not in the applied set", gateway))?;
    let gw_at = edit::locate(cx.loaded, gw.node.span)
        .or_else(|| edit::locate(cx.loaded, gw.span))
        .ok_or("the Gateway is not a document of a loaded file")?;
    if gw_at.doc.kind() != Some("Gateway") {
        return Err("the Gateway is not written as a manifest of its own".into());
    }
    let dir = edit::folder(&gw_at.file.path);
    let path = edit::free_path(cx.loaded, dir, "clienttrafficpolicy.yaml");
    let file_name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let style = edit::style_near(Some(gw_at.file));
    let mut metadata = vec![("name".to_owned(), Y::str(&key.name))];
    if gw_at.doc.namespace().is_some() {
        metadata.push(("namespace".to_owned(), Y::str(&key.namespace)));
    }
    let spec = Y::map([
        (
            "targetRefs",
            Y::Seq(vec![Y::map([
                ("group", Y::str("gateway.networking.k8s.io")),
                ("kind", Y::str("Gateway")),
                ("name", Y::str(&gateway.name)),
            ])]),
        ),
        ("tls", Y::map([("alpnProtocols", Y::strs(&ORDER))])),
    ]);
    let api_version = "gateway.envoyproxy.io/v1alpha1";
    let header = edit::schema_header(cx.loaded, api_version, "ClientTrafficPolicy");
    let text = render::document(
        &header,
        &[
            ("apiVersion".into(), Y::str(api_version)),
            ("kind".into(), Y::str("ClientTrafficPolicy")),
            ("metadata".into(), Y::Map(metadata)),
            ("spec".into(), spec.clone()),
        ],
        &style,
    );
    if let Some(k) = edit::kustomization_of(cx.loaded, dir) {
        d.edit(k.id, edit::list_resource(k, &file_name)?);
    }
    d.new_files.insert(path, text);
    d.change(Change::new(&key, "spec", &spec.to_json()));
    d.note(format!(
        "No ClientTrafficPolicy governed Gateway {}/{}: this adds one that targets the whole Gateway and sets only the ALPN (Envoy Gateway's defaults stay in place for everything else).",
        gateway.namespace, gateway.name
    ));
    Ok(key)
}

/// True when the policy that governs the listener enables HTTP/3.
fn uses_http3(cx: &Cx, model: &Model, l: &Listener) -> bool {
    l.client_policy
        .as_ref()
        .and_then(|k| cx.resource(model, k))
        .and_then(|r| r.spec())
        .and_then(|s| s.get("http3"))
        .is_some()
}
