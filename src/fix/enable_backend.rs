//! `enable-backend`: set `extensionApis.enableBackend: true` in the Envoy Gateway install's
//! Helm values for a `Backend` that is already referenced. Not opened when a `backend` plan of
//! the same scan carries that change (two pull requests never edit the same line).

use super::edit::{self, Refusal};
use super::render::Y;
use super::{Change, Cx, Declined, Draft};
use crate::catalogue::{FixKind, RuleId};
use crate::model::eg::{Model, Why};

pub(super) fn plan(cx: &Cx, carried: bool, declined: &mut Vec<Declined>) -> Draft {
    let mut d = Draft::new(FixKind::EnableBackend);
    for model in cx.models {
        let findings: Vec<_> = cx
            .findings
            .iter()
            .filter(|f| f.rule == RuleId::BackendApiDisabled && f.ignored.is_none())
            .filter(|f| f.entry_points.contains(&model.entry_point))
            .collect();
        if findings.is_empty() {
            continue;
        }
        let result = if carried {
            Err("the `backend` pull request of this scan enables the Backend API".to_owned())
        } else {
            enable(cx, model, &mut d)
        };
        for f in findings {
            match &result {
                Ok(()) => d.finding(f),
                Err(reason) => declined.push(Declined {
                    rule: RuleId::BackendApiDisabled,
                    kind: Some(FixKind::EnableBackend),
                    location: f.location,
                    reason: reason.clone(),
                }),
            }
        }
    }
    d
}

/// Adds the `enableBackend: true` edit of a model's install to `d`.
pub(super) fn enable(cx: &Cx, model: &Model, d: &mut Draft) -> Result<(), Refusal> {
    let flag = &model.install.enable_backend;
    if flag.value {
        return Ok(());
    }
    if flag.why == Why::Unknown || !model.install.in_repo || model.install.config_hidden {
        return Err("the Envoy Gateway install (or its configuration) is not in the repo: set `extensionApis.enableBackend: true` where it is".into());
    }
    let key = model
        .install
        .resource
        .clone()
        .ok_or("the Envoy Gateway configuration is in the envoy-gateway-config ConfigMap's embedded document, which ws-fix does not edit")?;
    if key.kind != "HelmRelease" {
        return Err(format!(
            "the Envoy Gateway install is a {}, whose values ws-fix does not edit",
            key.kind
        ));
    }
    let res = cx
        .resource(model, &key)
        .ok_or_else(|| format!("{key} is not in the applied set"))?;
    let spec = res.spec().ok_or("the HelmRelease has no spec")?;
    let (file, e, resource, field) = edit::ensure(
        cx.loaded,
        spec,
        &[
            "values",
            "config",
            "envoyGateway",
            "extensionApis",
            "enableBackend",
        ],
        &Y::Bool(true),
        &key.namespace,
    )?;
    d.edit(file, e);
    d.change(Change::new(&resource, &field, &serde_json::json!(true)));
    d.check(key, &["Ready=True"]);
    d.note("The envoy-gateway controller reads `extensionApis` at start: its Deployment restarts when the HelmRelease upgrades; until then Backends stay rejected.");
    Ok(())
}
