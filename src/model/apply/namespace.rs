//! Namespaces: which kinds are cluster-scoped, and how Kustomize `namespace`, Flux
//! `targetNamespace` (both override) and Argo CD `destination.namespace` (a default) set them.

use crate::yaml::Span;

use super::item::Item;
use super::tree;

/// Cluster-scoped kinds by group (the core group is "").
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("policy", "PodSecurityPolicy"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("gateway.networking.k8s.io", "GatewayClass"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotContent"),
    ("cert-manager.io", "ClusterIssuer"),
    ("external-secrets.io", "ClusterSecretStore"),
    ("external-secrets.io", "ClusterExternalSecret"),
    ("generators.external-secrets.io", "ClusterGenerator"),
    ("kyverno.io", "ClusterPolicy"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("cilium.io", "CiliumLoadBalancerIPPool"),
    ("cilium.io", "CiliumL2AnnouncementPolicy"),
    ("cilium.io", "CiliumBGPClusterConfig"),
    ("cilium.io", "CiliumBGPPeerConfig"),
    ("cilium.io", "CiliumBGPAdvertisement"),
    ("nfd.k8s-sigs.io", "NodeFeatureRule"),
    ("resource.k8s.io", "DeviceClass"),
];

/// True for kinds that live outside namespaces (their namespace stays None).
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, k)| *g == group && *k == kind)
        || (kind.starts_with("Cluster") && !group.is_empty() && kind != "Cluster")
}

/// Kustomize's namespace transformer (also Flux `targetNamespace`): every namespaced
/// resource gets `namespace`, a core `Namespace` is renamed to it. The new nodes point at the
/// text that set the namespace (`value_span`).
pub fn override_namespace(items: &mut [Item], namespace: &str, value_span: Span) {
    for item in items {
        if item.is("", "Namespace") && item.api_version() == "v1" {
            let meta = tree::child_map(&mut item.node, "metadata", value_span);
            if let Some(meta) = meta {
                tree::set(
                    meta,
                    "name",
                    value_span,
                    tree::scalar(namespace, value_span),
                );
            }
            continue;
        }
        if is_cluster_scoped(item.group(), item.kind()) {
            continue;
        }
        set(item, namespace, value_span);
    }
}

/// Argo CD's `destination.namespace`: only for namespaced resources that have none.
pub fn default_namespace(items: &mut [Item], namespace: &str, value_span: Span) {
    for item in items {
        if is_cluster_scoped(item.group(), item.kind()) || item.namespace().is_some() {
            continue;
        }
        set(item, namespace, value_span);
    }
}

fn set(item: &mut Item, namespace: &str, value_span: Span) {
    if let Some(meta) = tree::child_map(&mut item.node, "metadata", value_span) {
        tree::set(
            meta,
            "namespace",
            value_span,
            tree::scalar(namespace, value_span),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(is_cluster_scoped("", "Namespace"));
        assert!(is_cluster_scoped(
            "gateway.networking.k8s.io",
            "GatewayClass"
        ));
        assert!(is_cluster_scoped(
            "rbac.authorization.k8s.io",
            "ClusterRole"
        ));
        assert!(!is_cluster_scoped("gateway.networking.k8s.io", "Gateway"));
        assert!(!is_cluster_scoped("", "Service"));
        assert!(!is_cluster_scoped("", "ConfigMap"));
    }
}
