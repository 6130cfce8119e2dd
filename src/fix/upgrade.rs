//! `http-upgrade` (#2922): add `- type: websocket` to the `httpUpgrade` list that decides, in
//! place. With `fixes.http-upgrade.explicit`, also write the explicit declaration into the
//! Gateway-wide BackendTrafficPolicy where the default already allows it (labelled a no-op).
//! Never next to `requestBuffer`, never a new policy.

use super::edit::{self, Refusal};
use super::render::Y;
use super::{Change, Cx, Declined, Draft};
use crate::catalogue::{FixKind, RuleId};
use crate::model::ResourceKey;
use crate::model::eg::{Model, PolicyKind, RouteRule, RuleOnListener, Why};
use crate::rules::websocket_rules;

pub(super) fn plan(cx: &Cx, declined: &mut Vec<Declined>) -> Draft {
    let mut d = Draft::new(FixKind::HttpUpgrade);
    for model in cx.models {
        for (route, rule, on) in websocket_rules(model) {
            if on.websocket.value {
                if cx.config.fixes.http_upgrade_explicit
                    && let Ok(Some(key)) = explicit(cx, model, on, &mut d)
                {
                    d.check(key, &["Accepted=True"]);
                    d.affect(route, Some(&on.listener));
                }
                continue;
            }
            let location = on.websocket.span.unwrap_or(rule.span);
            let Some(finding) = cx.finding_at(RuleId::UpgradeDisabled, location) else {
                continue;
            };
            match in_place(cx, model, rule, on, &mut d) {
                Ok(key) => {
                    d.finding(finding);
                    d.check(key, &["Accepted=True"]);
                    d.affect(route, Some(&on.listener));
                }
                Err(reason) => declined.push(Declined {
                    rule: RuleId::UpgradeDisabled,
                    kind: Some(FixKind::HttpUpgrade),
                    location,
                    reason,
                }),
            }
        }
    }
    d.no_op = d.findings.is_empty();
    if d.no_op && !d.is_empty() {
        d.note("Envoy Gateway already allows the WebSocket upgrade on these routes: this writes the explicit declaration the repo config asks for (`fixes.http-upgrade.explicit`) and changes no behaviour.");
    }
    d
}

/// Adds `websocket` to the list that decides a rule's upgrade types.
fn in_place(
    cx: &Cx,
    model: &Model,
    _rule: &RouteRule,
    on: &RuleOnListener,
    d: &mut Draft,
) -> Result<ResourceKey, Refusal> {
    if on.websocket.why == Why::RequestBuffer {
        return Err("`requestBuffer` in the BackendTrafficPolicy drops the upgrade, and Envoy Gateway rejects `httpUpgrade` beside it: remove `requestBuffer` from that policy (ws-fix does not remove settings)".into());
    }
    if on
        .upgrade
        .value
        .iter()
        .any(|u| u.eq_ignore_ascii_case("websocket"))
    {
        return Err("the listener's ClientTrafficPolicy lists websocket in `http1.ignoredUpgradeTypes`: remove that entry (ws-fix does not remove settings)".into());
    }
    if on.upgrade.ambiguous {
        return Err(
            "two BackendTrafficPolicies without a creation time claim this route (policy-conflict)"
                .into(),
        );
    }
    let key = on
        .upgrade
        .resource
        .clone()
        .filter(|_| matches!(on.upgrade.why, Why::Set | Why::Merged))
        .ok_or("no httpUpgrade list decides the upgrade types")?;
    let res = cx
        .resource(model, &key)
        .ok_or_else(|| format!("{key} is not in the applied set"))?;
    let spec = res.spec().ok_or("the policy has no spec")?;
    if spec.get("requestBuffer").is_some() {
        return Err("the policy also sets `requestBuffer`, which Envoy Gateway rejects beside `httpUpgrade`".into());
    }
    let list = spec
        .get("httpUpgrade")
        .ok_or("the policy has no httpUpgrade list")?;
    let at =
        edit::locate(cx.loaded, list.span).ok_or("the httpUpgrade list is not in a loaded file")?;
    d.edit(
        at.file.id,
        edit::append_item(at.file, &at.node, &Y::map([("type", Y::str("websocket"))]))?,
    );
    let mut after = list.to_json();
    if let Some(items) = after.as_array_mut() {
        items.push(serde_json::json!({"type": "websocket"}));
    }
    d.change(Change::new(
        &at.resource(&key.namespace),
        &at.path.join("."),
        &after,
    ));
    Ok(key)
}

/// The explicit declaration in the Gateway-wide policy that governs a rule whose upgrade is
/// allowed by default.
fn explicit(
    cx: &Cx,
    model: &Model,
    on: &RuleOnListener,
    d: &mut Draft,
) -> Result<Option<ResourceKey>, Refusal> {
    if on.upgrade.why != Why::Default {
        return Ok(None);
    }
    let Some(key) = &on.traffic_policy else {
        return Ok(None);
    };
    let gateway_wide = model.policies.iter().any(|p| {
        p.kind == PolicyKind::BackendTrafficPolicy
            && &p.key == key
            && p.targets
                .iter()
                .all(|t| t.kind == "Gateway" && t.section_name.is_none())
    });
    if !gateway_wide {
        return Ok(None);
    }
    let res = cx.resource(model, key).ok_or("not in the applied set")?;
    let spec = res.spec().ok_or("no spec")?;
    if spec.get("requestBuffer").is_some() || spec.get("httpUpgrade").is_some() {
        return Ok(None);
    }
    let at = edit::locate(cx.loaded, spec.span).ok_or("not in a loaded file")?;
    let value = Y::Seq(vec![Y::map([("type", Y::str("websocket"))])]);
    d.edit(
        at.file.id,
        edit::add_entry(at.file, &at.node, "httpUpgrade", &value)?,
    );
    d.change(Change::new(
        &at.resource(&key.namespace),
        &at.field("httpUpgrade"),
        &value.to_json(),
    ));
    Ok(Some(key.clone()))
}
