//! One document being applied: a working copy of its node tree that patches, namespaces and
//! substitution edit, until it becomes a [`Resource`].

use crate::model::resource::{Origin, Resource, ResourceKey};
use crate::yaml::{FrozenDocument, Node, Span};

use super::namespace::is_cluster_scoped;

#[derive(Clone, Debug)]
pub struct Item {
    pub node: Node,
    /// The whole document (or the values node a built resource came from).
    pub span: Span,
    pub origin: Origin,
}

/// Group, kind, namespace and name: what makes a resource one within an applied set.
pub type Identity<'a> = (&'a str, &'a str, &'a str, &'a str);

pub const FLUX_KUSTOMIZE: &str = "kustomize.toolkit.fluxcd.io";
pub const FLUX_HELM: &str = "helm.toolkit.fluxcd.io";
pub const FLUX_SOURCE: &str = "source.toolkit.fluxcd.io";
pub const ARGO: &str = "argoproj.io";

impl Item {
    /// A manifest document; None unless it has a top-level `apiVersion` and `kind`.
    pub fn from_document(doc: &FrozenDocument) -> Option<Item> {
        doc.api_version()?;
        doc.kind()?;
        Some(Item {
            node: doc.root_node()?,
            span: doc.span,
            origin: Origin::Manifest,
        })
    }

    pub fn api_version(&self) -> &str {
        self.node
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.node.get("kind").and_then(Node::as_str).unwrap_or("")
    }

    pub fn group(&self) -> &str {
        group_of(self.api_version())
    }

    pub fn name(&self) -> &str {
        self.node
            .path(&["metadata", "name"])
            .and_then(Node::as_text)
            .unwrap_or("")
    }

    /// `metadata.namespace` as written or set so far (None for cluster-scoped kinds).
    pub fn namespace(&self) -> Option<&str> {
        self.node
            .path(&["metadata", "namespace"])
            .and_then(Node::as_text)
            .filter(|n| !n.is_empty() && !is_cluster_scoped(self.group(), self.kind()))
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind() == kind && self.group() == group
    }

    pub fn is_flux_kustomization(&self) -> bool {
        self.is(FLUX_KUSTOMIZE, "Kustomization")
    }

    pub fn is_argo_application(&self) -> bool {
        self.is(ARGO, "Application")
    }

    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            kind: self.kind().to_owned(),
            namespace: self.namespace().unwrap_or_default().to_owned(),
            name: self.name().to_owned(),
        }
    }

    /// Identity within one applied set: group, kind, namespace and name.
    pub fn identity(&self) -> Identity<'_> {
        (
            self.group(),
            self.kind(),
            self.namespace().unwrap_or_default(),
            self.name(),
        )
    }

    pub fn into_resource(self) -> Resource {
        Resource {
            api_version: self.api_version().to_owned(),
            kind: self.kind().to_owned(),
            name: self.name().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            span: self.span,
            origin: self.origin,
            node: self.node,
        }
    }
}

pub use crate::yaml::group_of;
