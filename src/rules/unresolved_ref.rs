//! `unresolved-ref`: a reference the repo cannot resolve.

use super::{Cx, Hit};
use crate::catalogue::RuleId;
use crate::model::eg::Model;

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for r in &model.unresolved {
        out.push(Hit {
            rule: RuleId::UnresolvedRef,
            cause: None,
            location: r.span,
            message: format!(
                "{} {}/{} refers to {}: {}",
                r.from.kind, r.from.namespace, r.from.name, r.to, r.reason
            ),
            related: Vec::new(),
            resource: Some(r.from.clone()),
        });
    }
}
