//! `policy-conflict`: policies claim the same target and git does not record which is older.

use super::{Cx, Hit};
use crate::catalogue::RuleId;
use crate::findings::Related;
use crate::model::eg::{ConflictOrder, Model, PolicyKind};

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    for conflict in &model.conflicts {
        if conflict.order != ConflictOrder::Unknown {
            continue;
        }
        let mut spans = conflict.spans.clone();
        spans.sort();
        let Some(location) = spans.first().copied() else {
            continue;
        };
        let kind = match conflict.kind {
            PolicyKind::ClientTrafficPolicy => "ClientTrafficPolicy",
            PolicyKind::BackendTrafficPolicy => "BackendTrafficPolicy",
        };
        let losers: Vec<String> = conflict
            .losers
            .iter()
            .map(|k| format!("{}/{}", k.namespace, k.name))
            .collect();
        let related = spans
            .iter()
            .skip(1)
            .map(|s| Related {
                span: Some(*s),
                message: format!("another {kind} targeting {}", conflict.target),
            })
            .collect();
        out.push(Hit {
            rule: RuleId::PolicyConflict,
            cause: None,
            location,
            message: format!(
                "{kind} {}/{} and {} claim {}: which applies depends on creation time, which git does not record",
                conflict.winner.namespace,
                conflict.winner.name,
                losers.join(", "),
                conflict.target
            ),
            related,
            resource: None,
        });
    }
}
