//! What the loader keeps of each document: the parts the model can ever read, decided here,
//! next to the code that reads them, so that a new reader changes this rule with it.
//!
//! The trees of every file of a repo are held at once; most of their nodes are never read
//! (the values of HelmReleases, alert rules, dashboards, secrets' templates). After parsing,
//! [`document`] cuts each document down to:
//! - documents without `apiVersion` and `kind` (kustomization files, JSON 6902 patch files),
//!   documents of a kustomization file, and documents of the kinds of [`keeps_whole`]: whole;
//! - Flux `Kustomization`s, `HelmRelease`s and `OCIRepository`s: only the keys of `spec` the
//!   model reads ([`SPEC_KEYS`]); of a HelmRelease's `spec.values`, only the keys that `helm`,
//!   `app_template`, `chart_values` and the Envoy Gateway install read (see [`values_path`]);
//! - any other kind: a stub of `apiVersion`, `kind` and `metadata` (what `inventory`, patch
//!   targets, namespaces, ignore annotations and the app catalogue's operator kinds read).
//!
//! Kept nodes are not changed: their spans are those of the full tree. A mapping with a merge
//! key (`<<`) is kept whole, so that what a merge brings is never unmasked. Patches stay
//! consistent: a strategic-merge patch document is cut by the same rule as its target, and a
//! JSON 6902 operation whose path lies in a part this rule drops cannot fail the patch
//! ([`pruned_path`]): what it would have changed is never read.

use crate::yaml::{Document, Node, Value};

use super::chart_values::{NESTED_ROUTE_DEPTH, ROUTE_KEYS};
use super::index::KUSTOMIZATION_NAMES;
use super::item::{ARGO, FLUX_HELM, FLUX_KUSTOMIZE, FLUX_SOURCE, group_of};

/// API groups whose every kind the model reads.
const WHOLE_GROUPS: &[&str] = &[
    // Gateway API and Envoy Gateway: the `eg` model.
    "gateway.networking.k8s.io",
    "gateway.networking.x-k8s.io",
    "gateway.envoyproxy.io",
    // Flux sources: chart names and the Envoy Gateway version (`helm`, `eg::version`).
    FLUX_SOURCE,
];

/// Kinds the model reads, by group and kind (`None`: any group, as `eg::Index::all` looks
/// them up by kind).
const WHOLE_KINDS: &[(Option<&str>, &str)] = &[
    // Entry points and what they apply (`entry`, `flux`, `argo`, `kustomize`).
    (Some(FLUX_KUSTOMIZE), "Kustomization"),
    (Some("kustomize.config.k8s.io"), "Kustomization"),
    (Some("kustomize.config.k8s.io"), "Component"),
    (Some(ARGO), "Application"),
    (Some(ARGO), "ApplicationSet"),
    // HelmReleases (values cut by `values_path`).
    (Some(FLUX_HELM), "HelmRelease"),
    // Backends, namespaces' labels, Flux substitution, the `envoy-gateway-config` ConfigMap,
    // certificate and TLS references (`eg::backends`, `eg::index`, `flux`, `eg::install`,
    // `eg::certs`, `eg::listeners`).
    (Some(""), "Service"),
    (Some(""), "Namespace"),
    (Some(""), "ConfigMap"),
    (Some(""), "Secret"),
    (Some("cert-manager.io"), "Certificate"),
    // Looked up by kind in any group (`eg::listeners`, `eg::index`, `eg::backends`).
    (None, "ListenerSet"),
    (None, "XListenerSet"),
    (None, "ReferenceGrant"),
    (None, "BackendTLSPolicy"),
    // Workloads a Service selects, for their images (`eg::apps`).
    (None, "Deployment"),
    (None, "StatefulSet"),
    (None, "DaemonSet"),
    (None, "ReplicaSet"),
    (None, "Rollout"),
    (None, "Pod"),
    // Operator resources that make routes (`operators`).
    (Some(super::operators::GRAFANA_GROUP), "Grafana"),
];

/// Kinds of which the model reads only some keys of `spec` (`flux`, `entry`, `kustomize`
/// patches; `helm`, `eg::version`; chart sources): the others are dropped.
const SPEC_KEYS: &[(&str, &str, &[&str])] = &[
    (
        FLUX_KUSTOMIZE,
        "Kustomization",
        &[
            "sourceRef",
            "path",
            "components",
            "patches",
            "patchesStrategicMerge",
            "patchesJson6902",
            "targetNamespace",
            "namePrefix",
            "nameSuffix",
            "postBuild",
        ],
    ),
    (
        FLUX_HELM,
        "HelmRelease",
        &[
            "chart",
            "chartRef",
            "releaseName",
            "targetNamespace",
            "values",
            "valuesFrom",
            "postRenderers",
        ],
    ),
    (FLUX_SOURCE, "OCIRepository", &["url", "ref"]),
];

/// The keys of `spec` the model reads of a kind listed in [`SPEC_KEYS`].
fn spec_keys(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    SPEC_KEYS
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, keys)| *keys)
}

/// Top-level keys of a stub (every other kind).
const STUB_KEYS: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// True when the model reads documents of this group and kind beyond their stub.
pub fn keeps_whole(group: &str, kind: &str) -> bool {
    WHOLE_GROUPS.contains(&group)
        || WHOLE_KINDS
            .iter()
            .any(|(g, k)| *k == kind && g.is_none_or(|g| g == group))
}

/// Cut one parsed document of the file at `path` down to what the model reads.
pub fn document(path: &str, doc: &mut Document) {
    let name = path.rsplit('/').next().unwrap_or(path);
    if KUSTOMIZATION_NAMES.contains(&name) {
        return;
    }
    let (Some(api_version), Some(kind)) = (doc.api_version(), doc.kind()) else {
        return;
    };
    let group = group_of(api_version);
    let is_helm_release = group == FLUX_HELM && kind == "HelmRelease";
    let whole = keeps_whole(group, kind);
    let spec_keys = spec_keys(group, kind);
    let Some(root) = doc.root.as_mut() else {
        return;
    };
    if !whole {
        retain_entries(root, |k| STUB_KEYS.contains(&k));
        return;
    }
    let Some(spec) = explicit_mut(root, "spec") else {
        return;
    };
    if let Some(keys) = spec_keys {
        retain_entries(spec, |k| keys.contains(&k));
    }
    if is_helm_release && let Some(values) = explicit_mut(spec, "values") {
        prune_values(values, &mut Vec::new());
    }
}

/// True when a JSON 6902 operation at `tokens` on a resource of `group` / `kind` works on a
/// part that [`document`] drops: its failure is not a failure of the patch.
pub fn pruned_path(group: &str, kind: &str, tokens: &[String]) -> bool {
    let Some(first) = tokens.first() else {
        return false;
    };
    if let (Some(keys), [spec, key, ..]) = (spec_keys(group, kind), tokens)
        && spec == "spec"
        && !keys.contains(&key.as_str())
    {
        return true;
    }
    if group == FLUX_HELM && kind == "HelmRelease" {
        return match tokens {
            [spec, values, rest @ ..] if spec == "spec" && values == "values" => {
                let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                !rest.is_empty()
                    && values_path(&rest) == Keep::Pruned
                    && (1..rest.len()).all(|n| values_path(&rest[..n]) != Keep::Whole)
            }
            _ => false,
        };
    }
    !keeps_whole(group, kind) && !STUB_KEYS.contains(&first.as_str())
}

/// What is kept of a key of `spec.values` at a path of keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// Read: kept whole.
    Whole,
    /// On the way to what is read (`controllers.<c>.containers.<c>.image`): kept, its mapping
    /// cut by the same rule.
    Path,
    /// Kept only if its mapping holds something kept (routes searched for by `chart_values`).
    Pruned,
}

/// The rule for `spec.values`, by the path of keys from the values:
/// - `global`, `service`, `config` (the Envoy Gateway chart's `config.envoyGateway`),
///   `fullnameOverride`, `nameOverride`: read by `app_template`, `chart_values`,
///   `eg::install`;
/// - `controllers.*.containers|initContainers.*.image`: the images (`helm::images`);
/// - route keys (`route`, `httpRoute`, ...) as deep as `chart_values` looks for them.
fn values_path(path: &[&str]) -> Keep {
    const TOP: [&str; 5] = [
        "global",
        "service",
        "config",
        "fullnameOverride",
        "nameOverride",
    ];
    match path {
        [k] if TOP.contains(k) => Keep::Whole,
        [.., k] if ROUTE_KEYS.contains(k) && path.len() <= NESTED_ROUTE_DEPTH + 1 => Keep::Whole,
        [
            "controllers",
            _,
            "containers" | "initContainers",
            _,
            "image",
        ] => Keep::Whole,
        ["controllers"]
        | ["controllers", _]
        | ["controllers", _, "containers" | "initContainers"]
        | ["controllers", _, "containers" | "initContainers", _] => Keep::Path,
        _ => Keep::Pruned,
    }
}

/// Cut a values mapping at `path` (its key path) by [`values_path`]; true when something of
/// it is kept.
fn prune_values(node: &mut Node, path: &mut Vec<compact_str::CompactString>) -> bool {
    let Value::Map(map) = &mut node.value else {
        return false;
    };
    if map.entries.iter().any(|(k, _)| k.is_merge_key()) {
        return true;
    }
    map.entries.retain_mut(|(k, v)| {
        // A key that is not a scalar is rare: kept as written.
        let Some(key) = k.as_scalar().map(|s| s.value.clone()) else {
            return true;
        };
        path.push(key);
        // Paths are at most `NESTED_ROUTE_DEPTH + 2` keys deep (see the recursion below).
        let mut buf = [""; NESTED_ROUTE_DEPTH + 3];
        for (slot, key) in buf.iter_mut().zip(path.iter()) {
            *slot = key;
        }
        let keep = match values_path(&buf[..path.len().min(buf.len())]) {
            Keep::Whole => true,
            Keep::Path => {
                prune_values(v, path);
                true
            }
            // `chart_values` looks into mappings this deep for routes.
            Keep::Pruned => {
                path.len() <= NESTED_ROUTE_DEPTH && v.as_map().is_some() && prune_values(v, path)
            }
        };
        path.pop();
        keep
    });
    map.entries.shrink_to_fit();
    !map.entries.is_empty()
}

/// The value under `key` among a mapping's explicit entries, when the mapping has no merge key.
fn explicit_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let Value::Map(map) = &mut node.value else {
        return None;
    };
    if map.entries.iter().any(|(k, _)| k.is_merge_key()) {
        return None;
    }
    map.entries
        .iter_mut()
        .find(|(k, _)| k.as_scalar().is_some_and(|s| &*s.value == key))
        .map(|(_, v)| v)
}

/// Keep the entries of a mapping without merge keys that `keep` accepts.
fn retain_entries(node: &mut Node, keep: impl Fn(&str) -> bool) {
    let Value::Map(map) = &mut node.value else {
        return;
    };
    if map.entries.iter().any(|(k, _)| k.is_merge_key()) {
        return;
    }
    map.entries
        .retain(|(k, _)| k.as_scalar().is_some_and(|s| keep(&s.value)));
    map.entries.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn cut(path: &str, text: &str) -> (Document, Document) {
        let full = parse_stream(text, &Limits::default()).unwrap().remove(0);
        let mut kept = full.clone();
        document(path, &mut kept);
        (full, kept)
    }

    #[test]
    fn kinds_the_model_does_not_read_become_stubs() {
        let text = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: s\n  namespace: n\n  annotations: {a: b}\nspec:\n  target: {name: x}\n";
        let (full, kept) = cut("a/es.yaml", text);
        let root = kept.root.as_ref().unwrap();
        assert_eq!(root.get("spec"), None);
        assert_eq!(
            root.get("metadata"),
            full.root.as_ref().unwrap().get("metadata")
        );
        assert_eq!(root.span, full.root.as_ref().unwrap().span);
        assert_eq!(
            (kept.kind(), kept.name(), kept.namespace()),
            (Some("ExternalSecret"), Some("s"), Some("n"))
        );
        assert!(pruned_path(
            "external-secrets.io",
            "ExternalSecret",
            &["spec".into()]
        ));
        assert!(!pruned_path(
            "external-secrets.io",
            "ExternalSecret",
            &["metadata".into()]
        ));

        // Read kinds, kustomization files and documents without a kind stay whole.
        for (path, text) in [
            (
                "a/svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: []}\n",
            ),
            (
                "a/r.yaml",
                "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nspec: {x: 1}\n",
            ),
            (
                "a/d.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nspec: {x: 1}\n",
            ),
            (
                "a/kustomization.yaml",
                "apiVersion: x/v1\nkind: Other\nresources: [a.yaml]\n",
            ),
            ("a/patch.yaml", "- op: add\n  path: /spec/x\n  value: 1\n"),
            (
                "a/merge.yaml",
                "apiVersion: x/v1\nkind: Other\n<<: {spec: 1}\n",
            ),
        ] {
            let (full, kept) = cut(path, text);
            assert_eq!(full, kept, "{path}");
        }
    }

    #[test]
    fn helm_release_values_keep_what_is_read() {
        let text = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app}
spec:
  chart: {spec: {chart: app-template}}
  interval: 1h
  values:
    controllers:
      main:
        replicas: 1
        containers:
          app:
            image: {repository: ghcr.io/a/b, tag: '1'}
            env: {TZ: UTC}
    service:
      app: {ports: {http: {port: 80}}}
    route:
      app: {hostnames: [a.example.com]}
    persistence:
      config: {existingClaim: x}
    grafana:
      sidecar: {enabled: true}
      ingress: {enabled: false}
      route:
        main: {hostnames: [g.example.com]}
    resources: {limits: {memory: 1Gi}}
";
        let (full, kept) = cut("a/hr.yaml", text);
        let f = full.root.as_ref().unwrap();
        let k = kept.root.as_ref().unwrap();
        let same = |p: &[&str]| assert_eq!(f.path(p), k.path(p), "{p:?}");
        for p in [
            &["metadata"][..],
            &["spec", "chart"],
            &["spec", "values", "service"],
            &["spec", "values", "route"],
            &[
                "spec",
                "values",
                "controllers",
                "main",
                "containers",
                "app",
                "image",
            ],
            &["spec", "values", "grafana", "route"],
        ] {
            same(p);
        }
        for p in [
            &["spec", "values", "persistence"][..],
            &["spec", "values", "resources"],
            &["spec", "values", "controllers", "main", "replicas"],
            &[
                "spec",
                "values",
                "controllers",
                "main",
                "containers",
                "app",
                "env",
            ],
            &["spec", "values", "grafana", "sidecar"],
        ] {
            assert!(k.path(p).is_none(), "{p:?}");
        }
        assert_eq!(
            k.path(&["spec", "values"]).unwrap().span,
            f.path(&["spec", "values"]).unwrap().span
        );
        let t = |p: &str| -> Vec<String> { p.split('/').map(str::to_owned).collect() };
        assert!(pruned_path(
            FLUX_HELM,
            "HelmRelease",
            &t("spec/values/persistence/config")
        ));
        assert!(!pruned_path(
            FLUX_HELM,
            "HelmRelease",
            &t("spec/values/route/app")
        ));
        assert!(!pruned_path(FLUX_HELM, "HelmRelease", &t("spec/values")));
        assert!(pruned_path(
            FLUX_HELM,
            "HelmRelease",
            &t("spec/install/remediation")
        ));
        assert!(!pruned_path(
            FLUX_HELM,
            "HelmRelease",
            &t("spec/chart/spec")
        ));
        assert!(k.path(&["spec", "interval"]).is_none());
    }

    #[test]
    fn flux_kustomizations_keep_the_spec_keys_read() {
        let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\nspec:\n  dependsOn: [{name: b}]\n  interval: 1h\n  path: ./apps/a\n  postBuild: {substitute: {APP: a}}\n  sourceRef: {kind: GitRepository, name: flux-system}\n";
        let (full, kept) = cut("ks.yaml", text);
        let spec = kept.root.as_ref().unwrap().get("spec").unwrap();
        let keys: Vec<String> = spec
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_string())
            .collect();
        assert_eq!(keys, ["path", "postBuild", "sourceRef"]);
        assert_eq!(
            spec.span,
            full.root.as_ref().unwrap().get("spec").unwrap().span
        );
        let t = |p: &str| -> Vec<String> { p.split('/').map(str::to_owned).collect() };
        assert!(pruned_path(
            FLUX_KUSTOMIZE,
            "Kustomization",
            &t("spec/interval")
        ));
        assert!(!pruned_path(
            FLUX_KUSTOMIZE,
            "Kustomization",
            &t("spec/postBuild/substitute")
        ));
    }
}
