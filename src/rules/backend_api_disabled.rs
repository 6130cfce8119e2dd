//! `backend-api-disabled`: a route references a `Backend` while the Backend API is off.

use super::{Cx, Hit, backends, route_related};
use crate::catalogue::{Cause, RuleId};
use crate::findings::Related;
use crate::model::eg::{BackendKind, BackendState, Model, Why};

pub(crate) fn check(model: &Model, _cx: &Cx, out: &mut Vec<Hit>) {
    let flag = &model.install.enable_backend;
    // The model assumes the API is on when the install (or its configuration) is not in the
    // repo; the rule still says so, as a notice.
    let unknown = !model.install.in_repo || model.install.config_hidden || flag.why == Why::Unknown;
    let cause = unknown.then_some(Cause::InstallNotInRepo);
    for (route, _, backend) in backends(model) {
        let fires = backend.state == BackendState::BackendApiDisabled
            || (unknown && backend.kind == BackendKind::Backend && !flag.value);
        if !fires {
            continue;
        }
        let mut related = vec![route_related(route, None)];
        let location = match flag.span {
            Some(span) => {
                related.push(Related {
                    span: Some(backend.span),
                    message: format!("Backend {}/{}", backend.namespace, backend.name),
                });
                span
            }
            None => backend.span,
        };
        let message = if cause.is_some() {
            format!(
                "Backend {}/{} is referenced, and the Envoy Gateway install is not in the repo: unless extensionApis.enableBackend is true, the route answers 500",
                backend.namespace, backend.name
            )
        } else {
            format!(
                "Backend {}/{} is referenced while extensionApis.enableBackend is off: the route answers 500",
                backend.namespace, backend.name
            )
        };
        out.push(Hit {
            rule: RuleId::BackendApiDisabled,
            cause,
            location,
            message,
            related,
            resource: flag
                .resource
                .clone()
                .or_else(|| model.install.resource.clone()),
        });
    }
}
