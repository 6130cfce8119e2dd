//! Which routes serve a WebSocket app: the app catalogue (images, charts, operator kinds) seen
//! through the route's own origin or its backends' Services and workloads, a ws/wss app
//! protocol, or the repo config's `websocket-routes`.

use crate::catalogue::{App, Catalogue};
use crate::config::RepoConfig;
use crate::model::{Origin, Resource, ResourceKey};
use crate::yaml::Node;

use super::index::{Index, items, key, ns, text};
use super::types::{BackendKind, Route, WebSocketApp, WebSocketReason};

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Rollout",
    "Pod",
];

/// Finds the WebSocket app a route serves.
pub(crate) fn detect(
    index: &Index<'_>,
    route: &Route,
    catalogue: &Catalogue,
    config: &RepoConfig,
) -> Option<WebSocketApp> {
    if let Some(app) = from_origin(index, &route.origin, catalogue, route.span) {
        return Some(app);
    }
    let backends = route.rules.iter().flat_map(|r| r.backends.iter());
    for b in backends.clone() {
        let Some(res_key) = &b.resource else { continue };
        let Some(res) = index.get(
            &["", super::index::EG_API],
            &res_key.kind,
            &res_key.namespace,
            &res_key.name,
        ) else {
            continue;
        };
        if b.kind == BackendKind::Service {
            if let Some(app) = from_origin(index, &res.origin, catalogue, res.span) {
                return Some(app);
            }
            if let Some(app) = from_workloads(index, res, catalogue) {
                return Some(app);
            }
        }
    }
    for b in backends {
        let Some(ap) = &b.app_protocol else { continue };
        let reason = match ap.value.as_str() {
            "kubernetes.io/ws" | "kubernetes.io/wss" => WebSocketReason::ServiceAppProtocol,
            "gateway.envoyproxy.io/ws" | "gateway.envoyproxy.io/wss" => {
                WebSocketReason::BackendAppProtocol
            }
            _ => continue,
        };
        // Declared by protocol (an app outside the cluster, say): a catalogue app named like
        // the backend or the route still gives the path to probe.
        let named = catalogue
            .app(&b.name)
            .or_else(|| catalogue.app(&route.key.name));
        return Some(WebSocketApp {
            app: named.map(|a| a.id.clone()),
            probe_path: named.map(|a| a.probe_path.clone()),
            reason,
            resource: ap.resource.clone(),
            span: ap.span,
        });
    }
    from_config(route, config)
}

fn found(
    app: &App,
    reason: WebSocketReason,
    resource: Option<ResourceKey>,
    span: Option<crate::yaml::Span>,
) -> WebSocketApp {
    WebSocketApp {
        app: Some(app.id.clone()),
        probe_path: Some(app.probe_path.clone()),
        reason,
        resource,
        span,
    }
}

/// A resource built from a HelmRelease's values or an operator resource.
fn from_origin(
    index: &Index<'_>,
    origin: &Origin,
    catalogue: &Catalogue,
    span: crate::yaml::Span,
) -> Option<WebSocketApp> {
    match origin {
        Origin::Manifest => None,
        Origin::HelmValues {
            release,
            chart,
            images,
        } => {
            let release_span = index
                .get(
                    &["helm.toolkit.fluxcd.io"],
                    "HelmRelease",
                    &release.namespace,
                    &release.name,
                )
                .map_or(span, |r| r.span);
            if let Some(app) = catalogue.app_for_chart(chart) {
                return Some(found(
                    app,
                    WebSocketReason::Chart {
                        chart: chart.clone(),
                    },
                    Some(release.clone()),
                    Some(release_span),
                ));
            }
            images.iter().find_map(|image| {
                catalogue.app_for_image(image).map(|app| {
                    found(
                        app,
                        WebSocketReason::Image {
                            image: image.clone(),
                        },
                        Some(release.clone()),
                        Some(release_span),
                    )
                })
            })
        }
        Origin::Operator { owner } => {
            let res = index
                .all(&owner.kind)
                .find(|r| ns(r) == owner.namespace && r.name == owner.name)?;
            let app = catalogue.app_for_kind(&res.api_version, &res.kind)?;
            Some(found(
                app,
                WebSocketReason::OperatorKind {
                    kind: res.kind.clone(),
                },
                Some(owner.clone()),
                Some(res.span),
            ))
        }
    }
}

/// The images of the workloads a Service selects.
fn from_workloads(
    index: &Index<'_>,
    svc: &Resource,
    catalogue: &Catalogue,
) -> Option<WebSocketApp> {
    let selector: Vec<(String, String)> = svc
        .spec()?
        .get("selector")?
        .as_map()?
        .iter()
        .filter_map(|(k, v)| Some((k.key_string(), v.as_text()?.to_owned())))
        .collect();
    if selector.is_empty() {
        return None;
    }
    let svc_ns = ns(svc);
    for kind in WORKLOADS {
        for w in index.all(kind).filter(|w| ns(w) == svc_ns) {
            let (labels, pod_spec) = if *kind == "Pod" {
                (w.node.path(&["metadata", "labels"]), w.spec())
            } else {
                (
                    w.spec()
                        .and_then(|s| s.path(&["template", "metadata", "labels"])),
                    w.spec().and_then(|s| s.path(&["template", "spec"])),
                )
            };
            let Some(labels) = labels.and_then(Node::as_map) else {
                continue;
            };
            let selected = selector.iter().all(|(k, v)| {
                labels
                    .get(k)
                    .and_then(Node::as_text)
                    .is_some_and(|l| l == v)
            });
            if !selected {
                continue;
            }
            for c in items(pod_spec.and_then(|p| p.get("containers"))) {
                let Some(image) = text(c, "image") else {
                    continue;
                };
                if let Some(app) = catalogue.app_for_image(image) {
                    let span = c.get("image").map(|n| n.span);
                    return Some(found(
                        app,
                        WebSocketReason::Image {
                            image: image.to_owned(),
                        },
                        Some(key(w)),
                        span,
                    ));
                }
            }
        }
    }
    None
}

/// The repo config's `websocket-routes`.
fn from_config(route: &Route, config: &RepoConfig) -> Option<WebSocketApp> {
    let (kind, namespace, name) = match &route.origin {
        Origin::HelmValues { release, .. } => ("HelmRelease", &release.namespace, &release.name),
        _ => (route.kind.as_str(), &route.key.namespace, &route.key.name),
    };
    let hit = config.websocket_routes.iter().any(|w| {
        w.matches_resource(kind, namespace, name)
            || route.hostnames.iter().any(|h| w.matches_hostname(h))
    });
    hit.then_some(WebSocketApp {
        app: None,
        probe_path: None,
        reason: WebSocketReason::RepoConfig,
        resource: None,
        span: None,
    })
}
