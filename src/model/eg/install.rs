//! The Envoy Gateway install's configuration: `extensionApis.enableBackend`,
//! `extensionApis.enableSDSSecretRef` and the controller name, from the HelmRelease values or
//! the `envoy-gateway-config` ConfigMap.

use crate::model::ResourceKey;
use crate::yaml::{Limits, Node, Span, parse_stream};

use super::index::{Index, key};
use super::types::{Decided, Install, Why};
use super::version::InstallSource;

/// Envoy Gateway's default controller name.
pub(crate) const EG_CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";

const CONFIG_MAP: &str = "envoy-gateway-config";
const CONFIG_KEY: &str = "envoy-gateway.yaml";

/// Where the EnvoyGateway configuration document lives.
enum ConfigDoc<'a> {
    /// A node of the install's Helm values: `config.envoyGateway`.
    Values(&'a Node, ResourceKey),
    /// The ConfigMap's embedded document (parsed on its own: its spans are relative to the
    /// string, so findings point at the ConfigMap's data value instead).
    Embedded(Node, ResourceKey, Span),
}

impl ConfigDoc<'_> {
    fn get(&self, path: &[&str]) -> Option<(&Node, Span)> {
        match self {
            ConfigDoc::Values(n, _) => n.path(path).map(|v| (v, v.span)),
            ConfigDoc::Embedded(n, _, span) => n.path(path).map(|v| (v, *span)),
        }
    }

    fn resource(&self) -> &ResourceKey {
        match self {
            ConfigDoc::Values(_, k) | ConfigDoc::Embedded(_, k, _) => k,
        }
    }
}

/// Reads the install's configuration.
pub(crate) fn read(index: &Index<'_>, install: Option<&InstallSource<'_>>) -> Install {
    let doc = install
        .and_then(|i| {
            let values = i.values?;
            // Argo CD `helm.values` is a YAML string.
            match values.as_str() {
                Some(text) => embedded(text, key(i.resource), values.span)
                    .and_then(|d| sub(d, &["config", "envoyGateway"])),
                None => values
                    .path(&["config", "envoyGateway"])
                    .map(|n| ConfigDoc::Values(n, key(i.resource))),
            }
        })
        .or_else(|| config_map(index));
    let in_repo = install.is_some() || config_map(index).is_some();
    let hidden = install.is_some_and(|i| i.values_hidden);

    let flag = |path: &[&str], unknown_value: bool| -> Decided<bool> {
        match doc
            .as_ref()
            .and_then(|d| d.get(path).map(|(n, s)| (d, n, s)))
        {
            Some((d, n, span)) => match n.as_bool() {
                Some(b) => Decided::new(b, Why::Set, Some(d.resource().clone()), Some(span)),
                None => Decided::new(false, Why::Set, Some(d.resource().clone()), Some(span)),
            },
            None if in_repo && !hidden => Decided::new(
                false,
                Why::Default,
                install.map(|i| key(i.resource)),
                install.map(|i| i.values.map_or(i.resource.span, |v| v.span)),
            ),
            None => Decided::new(unknown_value, Why::Unknown, None, None),
        }
    };
    let enable_backend = flag(&["extensionApis", "enableBackend"], false);
    // A repo that references SDS Secrets while the install is elsewhere has them on.
    let enable_sds_secret_ref = flag(&["extensionApis", "enableSDSSecretRef"], true);
    let controller_name = doc
        .as_ref()
        .and_then(|d| d.get(&["gateway", "controllerName"]))
        .and_then(|(n, _)| n.as_text())
        .unwrap_or(EG_CONTROLLER)
        .to_owned();
    Install {
        in_repo,
        resource: install.map(|i| key(i.resource)),
        enable_backend,
        enable_sds_secret_ref,
        controller_name,
        config_hidden: hidden,
    }
}

fn embedded(text: &str, owner: ResourceKey, span: Span) -> Option<ConfigDoc<'static>> {
    let docs = parse_stream(text, &Limits::default()).ok()?;
    let root = docs.into_iter().find_map(|d| d.root)?;
    Some(ConfigDoc::Embedded(root, owner, span))
}

fn sub(doc: ConfigDoc<'static>, path: &[&str]) -> Option<ConfigDoc<'static>> {
    match doc {
        ConfigDoc::Embedded(n, k, s) => n.path(path).cloned().map(|n| ConfigDoc::Embedded(n, k, s)),
        ConfigDoc::Values(..) => None,
    }
}

/// The `envoy-gateway-config` ConfigMap's EnvoyGateway document.
fn config_map(index: &Index<'_>) -> Option<ConfigDoc<'static>> {
    index
        .of(&[""], "ConfigMap")
        .into_iter()
        .filter(|c| c.name == CONFIG_MAP)
        .find_map(|c| {
            let value = c.node.path(&["data", CONFIG_KEY])?;
            embedded(value.as_str()?, key(c), value.span)
        })
}
