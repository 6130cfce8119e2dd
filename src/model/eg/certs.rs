//! Listener certificates: how each `certificateRefs` entry resolves, the certificate names the
//! repo shows, and the HTTPS listeners whose certificates overlap (Envoy Gateway then offers
//! `[http/1.1]` only).

use crate::catalogue::{Catalogue, Gate};
use crate::yaml::Node;

use super::hostname;
use super::index::{GATEWAY_API, GrantFrom, GrantTo, Index, items, text};
use super::types::{CertState, CertificateRef, Install, Listener, ListenerState, TlsOverlap};

const CERT_MANAGER: &str = "cert-manager.io";
const SDS_TYPE: &str = "gateway.envoyproxy.io/sds";

/// Who references the certificates.
pub(crate) struct CertOwner<'s> {
    /// `Gateway` or `ListenerSet`.
    pub kind: &'s str,
    pub namespace: &'s str,
    /// The listener's hostname (what cert-manager's gateway-shim writes into a Certificate).
    pub hostname: Option<&'s str>,
    /// The Gateway carries a cert-manager issuer annotation.
    pub cert_manager_shim: bool,
}

/// Resolves a listener's `tls.certificateRefs`.
pub(crate) fn resolve(
    index: &Index<'_>,
    install: &Install,
    owner: &CertOwner<'_>,
    refs: Option<&Node>,
) -> Vec<CertificateRef> {
    items(refs)
        .map(|r| resolve_one(index, install, owner, r))
        .collect()
}

fn resolve_one(
    index: &Index<'_>,
    install: &Install,
    owner: &CertOwner<'_>,
    r: &Node,
) -> CertificateRef {
    let name = text(r, "name").unwrap_or("").to_owned();
    let namespace = text(r, "namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or(owner.namespace)
        .to_owned();
    let cert = |state, dns_names| CertificateRef {
        namespace: namespace.clone(),
        name: name.clone(),
        state,
        dns_names,
        span: r.span,
    };
    if !text(r, "group").unwrap_or("").is_empty() || text(r, "kind").unwrap_or("Secret") != "Secret"
    {
        return cert(CertState::InvalidKind, Vec::new());
    }
    let from = GrantFrom {
        group: GATEWAY_API,
        kind: owner.kind,
        namespace: owner.namespace,
    };
    let to = GrantTo {
        group: "",
        kind: "Secret",
        name: &name,
    };
    if !index.grant_allows(&from, &namespace, &to) {
        return cert(CertState::NotPermitted, Vec::new());
    }
    if let Some(secret) = index.get(&[""], "Secret", &namespace, &name) {
        let kind = text(&secret.node, "type").unwrap_or("");
        if kind == SDS_TYPE {
            let state = if install.enable_sds_secret_ref.value {
                CertState::Sds
            } else {
                CertState::Invalid
            };
            return cert(state, Vec::new());
        }
        let has = |k: &str| {
            ["data", "stringData"].iter().any(|d| {
                secret
                    .node
                    .path(&[d, k])
                    .and_then(Node::as_text)
                    .is_some_and(|v| !v.trim().is_empty())
            })
        };
        let state = if has("tls.crt") && has("tls.key") {
            CertState::Valid
        } else {
            CertState::Invalid
        };
        return cert(state, Vec::new());
    }
    if let Some(names) = cert_manager_names(index, &namespace, &name) {
        return cert(CertState::FromCertManager, names);
    }
    if owner.cert_manager_shim {
        let names = owner
            .hostname
            .map(|h| vec![h.to_owned()])
            .unwrap_or_default();
        return cert(CertState::FromCertManager, names);
    }
    if index.closed_world {
        cert(CertState::NotFound, Vec::new())
    } else {
        cert(CertState::Assumed, Vec::new())
    }
}

/// The DNS names of the cert-manager Certificate that writes Secret `namespace/name`.
fn cert_manager_names(index: &Index<'_>, namespace: &str, name: &str) -> Option<Vec<String>> {
    let c = index
        .of(&[CERT_MANAGER], "Certificate")
        .into_iter()
        .filter(|c| super::index::ns(c) == namespace)
        .find(|c| c.spec().and_then(|s| text(s, "secretName")) == Some(name))?;
    let spec = c.spec()?;
    let mut names: Vec<String> = items(spec.get("dnsNames"))
        .filter_map(|n| n.as_text().map(str::to_owned))
        .collect();
    if names.is_empty() {
        names.extend(text(spec, "commonName").map(str::to_owned));
    }
    Some(names)
}

/// Marks the programmed HTTPS listeners of one Gateway (with its ListenerSets) whose TLS
/// overlaps another's on the same port.
pub(crate) fn mark_overlaps(
    listeners: &mut [Listener],
    catalogue: &Catalogue,
    version: &semver::Version,
) {
    if !catalogue.gate_holds(Gate::OverlappingCertsHttp11, version) {
        return;
    }
    let by_hostname = !catalogue.gate_holds(Gate::OverlappingCertsSanNarrowed, version);
    let sds = catalogue.gate_holds(Gate::SdsDisablesH2, version);
    let https: Vec<usize> = (0..listeners.len())
        .filter(|&i| listeners[i].protocol == "HTTPS" && listeners[i].state == ListenerState::Ready)
        .collect();
    let mut found: Vec<Option<TlsOverlap>> = vec![None; listeners.len()];
    for (a, &i) in https.iter().enumerate() {
        for &j in &https[a + 1..] {
            if listeners[i].port != listeners[j].port {
                continue;
            }
            if by_hostname
                && hostname::overlap(
                    listeners[i].hostname.as_deref(),
                    listeners[j].hostname.as_deref(),
                )
            {
                found[i].get_or_insert(TlsOverlap::Hostnames {
                    other: listeners[j].key.clone(),
                });
                found[j].get_or_insert(TlsOverlap::Hostnames {
                    other: listeners[i].key.clone(),
                });
            }
            if let Some(name) = names_overlap(&listeners[i], &listeners[j]) {
                found[i].get_or_insert(TlsOverlap::CertificateNames {
                    other: listeners[j].key.clone(),
                    name: name.clone(),
                });
                found[j].get_or_insert(TlsOverlap::CertificateNames {
                    other: listeners[i].key.clone(),
                    name,
                });
            }
            for x in [i, j] {
                if sds
                    && listeners[x]
                        .certificates
                        .iter()
                        .any(|c| c.state == CertState::Sds)
                {
                    found[x].get_or_insert(TlsOverlap::SdsCertificate);
                }
            }
        }
    }
    for (l, f) in listeners.iter_mut().zip(found) {
        if f.is_some() {
            l.tls_overlap = f;
        }
    }
}

fn names_overlap(a: &Listener, b: &Listener) -> Option<String> {
    let names = |l: &Listener| -> Vec<String> {
        l.certificates
            .iter()
            .filter(|c| c.state.usable())
            .flat_map(|c| c.dns_names.iter().cloned())
            .collect()
    };
    let (na, nb) = (names(a), names(b));
    na.iter()
        .find(|x| nb.iter().any(|y| hostname::overlap(Some(x), Some(y))))
        .cloned()
}
