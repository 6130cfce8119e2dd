//! Resources as Flux / Kustomize / Argo CD would apply them: the interface between the
//! "what gets applied" layer (`model::apply`) and Envoy Gateway's view (`model::eg`).

use crate::yaml::{Node, Span};

/// `kind/namespace/name` (namespace empty for cluster-scoped kinds).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ResourceKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// Where a resource comes from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum Origin {
    /// A document of a manifest file (possibly patched).
    Manifest,
    /// Built from a HelmRelease's values (a route or Service of the bjw-s app-template chart,
    /// a chart's `httpRoute` / `route.main` values). Its spans point into the values.
    HelmValues {
        release: ResourceKey,
        chart: String,
        /// Container image repositories the release deploys (for the app catalogue).
        images: Vec<String>,
    },
    /// Built from an operator resource (the grafana-operator `Grafana` CR's `spec.httpRoute`).
    Operator { owner: ResourceKey },
}

/// One applied resource.
#[derive(Clone, Debug)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Resolved namespace (metadata, Flux `targetNamespace`, Kustomize `namespace`, Argo
    /// `destination.namespace`); `None` for cluster-scoped kinds or when nothing sets one.
    pub namespace: Option<String>,
    /// The document after patches and Flux substitution. Each node's span is the text that
    /// decided it (a patch's nodes point into the patch file; substituted scalars keep the
    /// span of the `${VAR}` text and carry the substituted value).
    pub node: Node,
    /// The whole document (or, for built resources, the values node it came from).
    pub span: Span,
    pub origin: Origin,
}

impl Resource {
    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        crate::yaml::group_of(&self.api_version)
    }

    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            kind: self.kind.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            name: self.name.clone(),
        }
    }

    pub fn spec(&self) -> Option<&Node> {
        self.node.get("spec")
    }
}

/// What a Flux `Kustomization` / Argo CD `Application` entry point applies, or every
/// manifest of a repo that has no entry point.
#[derive(Clone, Debug)]
pub struct AppliedSet {
    /// `Kustomization flux-system/cluster-apps`, `Application argocd/root`, or
    /// `all manifests` when the repo has no entry point.
    pub entry_point: String,
    pub entry_span: Option<Span>,
    pub resources: Vec<Resource>,
    /// Things that are applied but cannot be analysed, with the reason (a HelmRelease whose
    /// values come from `valuesFrom`, a chart's templates, Argo Helm values, ...).
    pub not_analysed: Vec<NotAnalysed>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NotAnalysed {
    /// A file path or a resource key.
    pub what: String,
    pub reason: String,
    /// True when it is (or may hold) a route.
    pub route: bool,
}

/// Everything the apply layer found in a repo.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub sets: Vec<AppliedSet>,
    /// Parsed manifest files that no entry point applies.
    pub not_applied: Vec<String>,
}
