//! `backend` (#2923, done with the judgement it lacked): a `Backend` with the ws app protocol
//! and the Service's cluster-DNS endpoint, in the route's namespace (so no ReferenceGrant is
//! needed) and folder (listed in its kustomization), the route's backendRef pointed at it, and
//! `enableBackend` in the same change when the install does not set it. Routes built from
//! HelmRelease values are not moved out of them: that restructuring is what got #2923
//! reverted.

use super::edit::{self, Refusal};
use super::render::{self, Y};
use super::{Change, Cx, Draft, enable_backend};
use crate::model::eg::{BackendRef, Model, Route};
use crate::model::{Origin, ResourceKey};

pub(super) fn route_through_backend(
    cx: &Cx,
    model: &Model,
    route: &Route,
    b: &BackendRef,
    d: &mut Draft,
) -> Result<(), Refusal> {
    if route.origin != Origin::Manifest {
        return Err("the route is built from HelmRelease values; moving it into an HTTPRoute manifest is left to a person (set `fixes.prefer: ws-app-protocol` where the version allows it)".into());
    }
    if b.tls.as_ref().is_some_and(|t| t.value) {
        return Err("TLS to this backend is configured by a BackendTLSPolicy, which does not apply to a Backend: configure `Backend.spec.tls` by hand".into());
    }
    let port = b.port.ok_or("the backendRef has no port")?;
    // An app outside the cluster (an ExternalName Service) is reached at its own name; a
    // Service in the cluster at its cluster DNS name.
    let service = b.resource.as_ref().and_then(|k| cx.resource(model, k));
    let external = service
        .and_then(|s| s.spec())
        .filter(|s| s.get("type").and_then(|t| t.as_str()) == Some("ExternalName"))
        .and_then(|s| s.get("externalName"))
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let hostname = external
        .clone()
        .unwrap_or_else(|| format!("{}.{}.svc.cluster.local", b.name, b.namespace));
    let name = format!("{}-ws", b.name);
    let key = ResourceKey {
        kind: "Backend".into(),
        namespace: route.key.namespace.clone(),
        name: name.clone(),
    };
    // The backendRef: group, kind and name of the Backend.
    let r = edit::locate(cx.loaded, b.span)
        .filter(|at| at.node.as_map().is_some())
        .ok_or("the backendRef is not written as a mapping the fixer can edit")?;
    let name_node = r.node.get("name").ok_or("the backendRef has no name")?;
    let leaf = edit::locate(cx.loaded, name_node.span).ok_or("backendRef name not found")?;
    d.edit(r.file.id, edit::set_scalar(&leaf.node, &name)?);
    let route_key = r.resource(&route.key.namespace);
    for (field, value) in [("group", "gateway.envoyproxy.io"), ("kind", "Backend")] {
        let e = match r.node.get(field) {
            Some(n) => {
                let leaf = edit::locate(cx.loaded, n.span).ok_or("backendRef field not found")?;
                edit::set_scalar(&leaf.node, value)?
            }
            None => edit::add_entry(r.file, &r.node, field, &Y::str(value))?,
        };
        d.edit(r.file.id, e);
        d.change(Change::new(
            &route_key,
            &r.field(field),
            &serde_json::json!(value),
        ));
    }
    d.change(Change::new(
        &route_key,
        &r.field("name"),
        &serde_json::json!(name),
    ));

    // The Backend, beside the route.
    let dir = edit::folder(&r.file.path);
    let path = edit::free_path(cx.loaded, dir, &format!("backend-{}.yaml", b.name));
    if !d.new_files.contains_key(&path) {
        let spec = Y::map([
            (
                "endpoints",
                Y::Seq(vec![Y::map([(
                    "fqdn",
                    Y::map([("hostname", Y::str(&hostname)), ("port", Y::Int(port))]),
                )])]),
            ),
            ("appProtocols", Y::strs(&["gateway.envoyproxy.io/ws"])),
        ]);
        let mut metadata = vec![("name".to_owned(), Y::str(&name))];
        if r.doc.namespace().is_some() {
            metadata.push(("namespace".to_owned(), Y::str(&key.namespace)));
        }
        let api_version = "gateway.envoyproxy.io/v1alpha1";
        let text = render::document(
            &edit::schema_header(cx.loaded, api_version, "Backend"),
            &[
                ("apiVersion".into(), Y::str(api_version)),
                ("kind".into(), Y::str("Backend")),
                ("metadata".into(), Y::Map(metadata)),
                ("spec".into(), spec.clone()),
            ],
            &edit::style_near(Some(r.file)),
        );
        if let Some(k) = edit::kustomization_of(cx.loaded, dir) {
            let file_name = path.rsplit('/').next().unwrap_or(&path);
            d.edit(k.id, edit::list_resource(k, file_name)?);
        }
        d.new_files.insert(path, text);
        d.change(Change::new(&key, "spec", &spec.to_json()));
        d.check(key, &["Accepted=True"]);
    }
    enable_backend::enable(cx, model, d)?;
    if let Some(host) = external {
        d.note(format!("Service {}/{} is an ExternalName for `{host}`, outside the cluster: the Backend reaches that name directly, with the ws app protocol forcing HTTP/1.1 to it.", b.namespace, b.name));
        return Ok(());
    }
    d.note("Cost: the Backend reaches the Service through its cluster DNS name, so Envoy sends traffic to the Service's cluster IP: per-endpoint load balancing, session persistence and active health checks no longer apply to this route, and every request of the route (not only WebSockets) goes over HTTP/1.1 upstream.");
    Ok(())
}
