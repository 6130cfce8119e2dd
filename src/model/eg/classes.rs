//! GatewayClasses: which implementation runs the Gateways of each class.

use std::collections::BTreeMap;

use crate::model::Resource;

use super::index::{GATEWAY_API, Index, text};
use super::types::{GatewayClass, Install, Management};

/// Class names other implementations create themselves (their charts, not the repo), with the
/// implementation's controller.
const OTHER_CLASSES: &[(&str, &str)] = &[
    ("cilium", "io.cilium/gateway-controller"),
    ("traefik", "traefik.io/gateway-controller"),
    ("kgateway", "kgateway.dev/kgateway"),
    ("kgateway-waypoint", "kgateway.dev/kgateway"),
    ("istio", "istio.io/gateway-controller"),
    ("istio-remote", "istio.io/unmanaged-gateway"),
    ("istio-waypoint", "istio.io/mesh-controller"),
    ("nginx", "gateway.nginx.org/nginx-gateway-controller"),
    ("kong", "konghq.com/kic-gateway-controller"),
    ("contour", "projectcontour.io/gateway-controller"),
    ("haproxy", "haproxy.org/gateway-controller"),
    (
        "gke-l7-global-external-managed",
        "networking.gke.io/gateway",
    ),
    (
        "gke-l7-regional-external-managed",
        "networking.gke.io/gateway",
    ),
    ("gke-l7-rilb", "networking.gke.io/gateway"),
    ("gke-l7-gxlb", "networking.gke.io/gateway"),
    (
        "amazon-vpc-lattice",
        "application-networking.k8s.aws/gateway-api-controller",
    ),
];

/// Every class the repo defines, plus those its Gateways name.
pub(crate) fn classes(
    index: &Index<'_>,
    install: &Install,
    gateway_class_names: &[String],
) -> BTreeMap<String, GatewayClass> {
    let mut out = BTreeMap::new();
    for c in index.of(&[GATEWAY_API], "GatewayClass") {
        out.insert(c.name.clone(), defined(c, install));
    }
    for name in gateway_class_names {
        out.entry(name.clone()).or_insert_with(|| GatewayClass {
            name: name.clone(),
            management: match OTHER_CLASSES.iter().find(|(n, _)| n == name) {
                Some((_, controller)) => Management::Other {
                    controller: (*controller).to_owned(),
                },
                None => Management::AssumedEnvoyGateway,
            },
            in_repo: false,
            span: None,
        });
    }
    out
}

fn defined(c: &Resource, install: &Install) -> GatewayClass {
    let controller = c
        .spec()
        .and_then(|s| text(s, "controllerName"))
        .unwrap_or("");
    let management =
        if controller == install.controller_name || controller == super::install::EG_CONTROLLER {
            Management::EnvoyGateway
        } else {
            Management::Other {
                controller: controller.to_owned(),
            }
        };
    GatewayClass {
        name: c.name.clone(),
        management,
        in_repo: true,
        span: Some(c.span),
    }
}
