//! Lookup of an applied set's resources by kind, namespace and name, and the small readers
//! every part of the model shares (namespaces, labels, timestamps, ReferenceGrants).

use std::collections::HashMap;

use crate::model::{AppliedSet, Resource, ResourceKey};
use crate::yaml::{Node, Span};

/// Kubernetes API groups the model looks at.
pub(crate) const GATEWAY_API: &str = "gateway.networking.k8s.io";
pub(crate) const GATEWAY_API_X: &str = "gateway.networking.x-k8s.io";
pub(crate) const EG_API: &str = "gateway.envoyproxy.io";

/// Kinds that have no namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "GatewayClass",
    "Namespace",
    "ClusterIssuer",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
];

/// The applied set, indexed.
pub(crate) struct Index<'a> {
    /// Everything EG reads is in the set (its own test cases); see `Options::closed_world`.
    pub closed_world: bool,
    /// Namespaces that exist without a `Namespace` resource (closed world only).
    extra_namespaces: Vec<String>,
    by_kind: HashMap<&'a str, Vec<&'a Resource>>,
}

impl<'a> Index<'a> {
    pub fn new(set: &'a AppliedSet, closed_world: bool, extra_namespaces: Vec<String>) -> Self {
        let mut by_kind: HashMap<&'a str, Vec<&'a Resource>> = HashMap::new();
        for r in &set.resources {
            by_kind.entry(r.kind.as_str()).or_default().push(r);
        }
        Index {
            closed_world,
            extra_namespaces,
            by_kind,
        }
    }

    /// Every resource of `kind` (any group), in set order.
    pub fn all(&self, kind: &str) -> impl Iterator<Item = &'a Resource> + '_ {
        self.by_kind.get(kind).into_iter().flatten().copied()
    }

    /// Every resource of `kind` whose API group is one of `groups`.
    pub fn of(&self, groups: &'static [&'static str], kind: &'static str) -> Vec<&'a Resource> {
        self.all(kind)
            .filter(|r| groups.contains(&r.group()))
            .collect()
    }

    /// The resource `kind` `namespace/name` with its API group in `groups` (the last one
    /// applied wins, as in the cluster).
    pub fn get(
        &self,
        groups: &[&str],
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&'a Resource> {
        self.all(kind)
            .filter(|r| r.name == name && ns(r) == namespace && groups.contains(&r.group()))
            .last()
    }

    /// A cluster-scoped resource by name.
    pub fn get_cluster(&self, groups: &[&str], kind: &str, name: &str) -> Option<&'a Resource> {
        self.all(kind)
            .filter(|r| r.name == name && groups.contains(&r.group()))
            .last()
    }

    /// True when namespace `name` exists: always in an open world; in a closed world when the
    /// set has its `Namespace` (or it is one of the options' namespaces).
    pub fn namespace_exists(&self, name: &str) -> bool {
        !self.closed_world
            || self.extra_namespaces.iter().any(|n| n == name)
            || self.get_cluster(&[""], "Namespace", name).is_some()
    }

    /// The labels of namespace `name`: its `Namespace` resource's labels plus the automatic
    /// `kubernetes.io/metadata.name`. `None` when the namespace is not in the repo (open world).
    pub fn namespace_labels(&self, name: &str) -> Option<Vec<(String, String)>> {
        let found = self.get_cluster(&[""], "Namespace", name);
        if found.is_none() && !self.closed_world {
            return None;
        }
        let mut labels = found.map(labels).unwrap_or_default();
        labels.push(("kubernetes.io/metadata.name".into(), name.into()));
        Some(labels)
    }

    /// True when a ReferenceGrant in `to_ns` lets `from` reach `to` (`to_name` `None` = any).
    pub fn grant_allows(&self, from: &GrantFrom<'_>, to_ns: &str, to: &GrantTo<'_>) -> bool {
        if from.namespace == to_ns {
            return true;
        }
        self.all("ReferenceGrant")
            .filter(|g| (g.group() == GATEWAY_API || g.group() == GATEWAY_API_X) && ns(g) == to_ns)
            .any(|g| grant_matches(g, from, to))
    }
}

/// The `from` side of a cross-namespace reference.
pub(crate) struct GrantFrom<'s> {
    pub group: &'s str,
    pub kind: &'s str,
    pub namespace: &'s str,
}

/// The `to` side of a cross-namespace reference.
pub(crate) struct GrantTo<'s> {
    pub group: &'s str,
    pub kind: &'s str,
    pub name: &'s str,
}

fn grant_matches(grant: &Resource, from: &GrantFrom<'_>, to: &GrantTo<'_>) -> bool {
    let Some(spec) = grant.spec() else {
        return false;
    };
    let from_ok = items(spec.get("from")).any(|f| {
        text(f, "group").unwrap_or("") == from.group
            && text(f, "kind") == Some(from.kind)
            && text(f, "namespace") == Some(from.namespace)
    });
    let to_ok = items(spec.get("to")).any(|t| {
        text(t, "group").unwrap_or("") == to.group
            && text(t, "kind") == Some(to.kind)
            && text(t, "name").is_none_or(|n| n.is_empty() || n == to.name)
    });
    from_ok && to_ok
}

/// The namespace of a resource: its resolved namespace, `default` for a namespaced kind without
/// one, empty for cluster-scoped kinds.
pub(crate) fn ns(r: &Resource) -> &str {
    match r.namespace.as_deref() {
        Some(n) if !n.is_empty() => n,
        _ if CLUSTER_SCOPED.contains(&r.kind.as_str()) => "",
        _ => "default",
    }
}

/// The resource's key with its namespace defaulted like [`ns`].
pub(crate) fn key(r: &Resource) -> ResourceKey {
    ResourceKey {
        kind: r.kind.clone(),
        namespace: ns(r).to_owned(),
        name: r.name.clone(),
    }
}

/// `metadata.labels` as pairs (values as text).
pub(crate) fn labels(r: &Resource) -> Vec<(String, String)> {
    r.node
        .path(&["metadata", "labels"])
        .and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.key_string(), v.as_text()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.creationTimestamp`, when written.
pub(crate) fn created(r: &Resource) -> Option<String> {
    r.node
        .path(&["metadata", "creationTimestamp"])
        .and_then(Node::as_text)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The items of a sequence node (none for a missing node or another type).
pub(crate) fn items(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    node.and_then(Node::as_seq)
        .map(|s| s.items.as_slice())
        .unwrap_or(&[])
        .iter()
}

/// A scalar child as text.
pub(crate) fn text<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key)?.as_text()
}

/// The span of the key node of `key` in mapping `node` (the `tls:` of a policy).
pub(crate) fn key_span(node: &Node, key: &str) -> Option<Span> {
    node.as_map()?.get_entry(key).map(|(k, _)| k.span)
}
