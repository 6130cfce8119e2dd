//! Gateways, ListenerSets and their listeners: which are Envoy Gateway's, which listeners are
//! programmed (protocol, TLS, certificates, client-certificate validation, conflicts), and
//! which routes each may take.

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, Gate};
use crate::model::{Resource, ResourceKey};
use crate::yaml::Node;

use super::certs::{self, CertOwner};
use super::index::{
    GATEWAY_API, GATEWAY_API_X, GrantFrom, GrantTo, Index, items, key, labels, ns, text,
};
use super::selector::LabelSelector;
use super::types::{
    AllowedNamespaces, AllowedRoutes, Gateway, GatewayClass, Install, Listener, ListenerState,
    Management,
};

/// A ListenerSet and the Gateway it joins.
pub(crate) struct ListenerSetInfo {
    pub key: ResourceKey,
    pub gateway: ResourceKey,
    /// False when its Gateway does not allow it (or is not Envoy Gateway's).
    pub accepted: bool,
}

/// Everything this module finds.
pub(crate) struct Gateways {
    pub gateways: Vec<Gateway>,
    pub listeners: Vec<Listener>,
    pub listener_sets: Vec<ListenerSetInfo>,
}

/// Reads the Gateways and ListenerSets of the set.
pub(crate) fn read(
    index: &Index<'_>,
    classes: &BTreeMap<String, GatewayClass>,
    install: &Install,
    catalogue: &Catalogue,
    version: &semver::Version,
    notes: &mut Vec<String>,
) -> Gateways {
    let mut gws: Vec<&Resource> = index.of(&[GATEWAY_API], "Gateway");
    gws.sort_by_key(|g| format!("{}/{}", ns(g), g.name));
    let ls_enabled = catalogue.gate_holds(Gate::Listenerset, version);
    let all_sets: Vec<&Resource> = index
        .all("ListenerSet")
        .chain(index.all("XListenerSet"))
        .filter(|r| r.group() == GATEWAY_API || r.group() == GATEWAY_API_X)
        .collect();
    if !ls_enabled && !all_sets.is_empty() {
        notes.push(format!(
            "Envoy Gateway {version} does not support ListenerSets: {} ignored",
            all_sets.len()
        ));
    }

    let mut out = Gateways {
        gateways: Vec::new(),
        listeners: Vec::new(),
        listener_sets: Vec::new(),
    };
    for gw in gws {
        let class = gw
            .spec()
            .and_then(|s| text(s, "gatewayClassName"))
            .unwrap_or("")
            .to_owned();
        let management = classes
            .get(&class)
            .map(|c| c.management.clone())
            .unwrap_or(Management::AssumedEnvoyGateway);
        let gw_key = key(gw);
        let mut gateway = Gateway {
            key: gw_key.clone(),
            class,
            management: management.clone(),
            span: gw.span,
            listeners: Vec::new(),
            labels: labels(gw),
        };
        if !management.is_eg() {
            out.gateways.push(gateway);
            continue;
        }
        let shim = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"]
            .iter()
            .any(|a| gw.node.path(&["metadata", "annotations", a]).is_some());
        let mut own: Vec<Listener> = Vec::new();
        for l in items(gw.spec().and_then(|s| s.get("listeners"))) {
            own.push(listener(
                index,
                install,
                l,
                &gw_key,
                None,
                ns(gw),
                shim,
                Some(gw),
            ));
        }
        // ListenerSets that join this Gateway, by namespace/name.
        let mut sets: Vec<&Resource> = all_sets
            .iter()
            .copied()
            .filter(|s| parent_of(s).as_ref() == Some(&gw_key))
            .collect();
        sets.sort_by_key(|s| format!("{}/{}", ns(s), s.name));
        for s in sets {
            let accepted = ls_enabled && allows_listener_set(index, gw, ns(s));
            out.listener_sets.push(ListenerSetInfo {
                key: key(s),
                gateway: gw_key.clone(),
                accepted,
            });
            if !accepted {
                continue;
            }
            let s_key = key(s);
            for l in items(s.spec().and_then(|sp| sp.get("listeners"))) {
                own.push(listener(
                    index,
                    install,
                    l,
                    &gw_key,
                    Some(&s_key),
                    ns(s),
                    shim,
                    None,
                ));
            }
        }
        mark_conflicts(&mut own);
        certs::mark_overlaps(&mut own, catalogue, version);
        gateway.listeners = own.iter().map(|l| l.key.clone()).collect();
        out.gateways.push(gateway);
        out.listeners.extend(own);
    }
    // ListenerSets whose Gateway is not modelled.
    for s in all_sets {
        if !out.listener_sets.iter().any(|i| i.key == key(s))
            && let Some(gateway) = parent_of(s)
        {
            out.listener_sets.push(ListenerSetInfo {
                key: key(s),
                gateway,
                accepted: false,
            });
        }
    }
    out
}

/// The Gateway a ListenerSet names in `spec.parentRef`.
fn parent_of(set: &Resource) -> Option<ResourceKey> {
    let p = set.spec()?.get("parentRef")?;
    if text(p, "kind").is_some_and(|k| k != "Gateway") {
        return None;
    }
    Some(ResourceKey {
        kind: "Gateway".into(),
        namespace: text(p, "namespace").unwrap_or(ns(set)).to_owned(),
        name: text(p, "name")?.to_owned(),
    })
}

/// `spec.allowedListeners` of a Gateway: may a ListenerSet of `set_ns` join?
fn allows_listener_set(index: &Index<'_>, gw: &Resource, set_ns: &str) -> bool {
    let from_node = gw
        .spec()
        .and_then(|s| s.path(&["allowedListeners", "namespaces"]));
    match from_node.and_then(|n| text(n, "from")).unwrap_or("None") {
        "All" => true,
        "Same" => set_ns == ns(gw),
        "Selector" => {
            let sel = from_node
                .and_then(|n| n.get("selector"))
                .map(LabelSelector::parse)
                .unwrap_or_default();
            index
                .namespace_labels(set_ns)
                .is_some_and(|l| sel.matches(&l))
        }
        _ => false,
    }
}

/// Route kinds a listener of `protocol` (and TLS mode) can take.
fn supported_kinds(protocol: &str, tls_mode: Option<&str>) -> &'static [&'static str] {
    match protocol {
        "HTTP" | "HTTPS" => &["HTTPRoute", "GRPCRoute"],
        "TLS" if tls_mode == Some("Passthrough") => &["TLSRoute"],
        "TLS" => &["TCPRoute", "TLSRoute"],
        "TCP" => &["TCPRoute"],
        "UDP" => &["UDPRoute"],
        _ => &[],
    }
}

#[allow(clippy::too_many_arguments)]
fn listener(
    index: &Index<'_>,
    install: &Install,
    l: &Node,
    gateway: &ResourceKey,
    set: Option<&ResourceKey>,
    owner_ns: &str,
    cert_manager_shim: bool,
    gw: Option<&Resource>,
) -> Listener {
    let name = text(l, "name").unwrap_or("").to_owned();
    let protocol = text(l, "protocol").unwrap_or("").to_owned();
    let port = l
        .get("port")
        .and_then(|p| p.as_i64().or_else(|| p.as_text()?.trim().parse().ok()));
    let hostname = text(l, "hostname")
        .map(str::to_owned)
        .filter(|h| !h.is_empty());
    let tls = l.get("tls").filter(|t| !t.is_null());
    let tls_mode = tls.map(|t| text(t, "mode").unwrap_or("Terminate").to_owned());
    let key = match set {
        None => format!("{}/{}/{}", gateway.namespace, gateway.name, name),
        Some(s) => format!(
            "{}/{}/{}/{}/{}",
            gateway.namespace, gateway.name, s.namespace, s.name, name
        ),
    };
    let owner = CertOwner {
        kind: if set.is_some() {
            "ListenerSet"
        } else {
            "Gateway"
        },
        namespace: owner_ns,
        hostname: hostname.as_deref(),
        cert_manager_shim,
    };
    let certificates = match tls {
        Some(t) if tls_mode.as_deref() == Some("Terminate") => {
            certs::resolve(index, install, &owner, t.get("certificateRefs"))
        }
        _ => Vec::new(),
    };

    let supported = supported_kinds(&protocol, tls_mode.as_deref());
    let mut invalid: Option<String> = None;
    let mut kinds: Vec<String> = supported.iter().map(|s| (*s).to_owned()).collect();
    let allowed_kinds: Vec<&Node> = items(l.path(&["allowedRoutes", "kinds"])).collect();
    if !allowed_kinds.is_empty() {
        kinds = allowed_kinds
            .iter()
            .filter(|k| text(k, "group").unwrap_or(GATEWAY_API) == GATEWAY_API)
            .filter_map(|k| text(k, "kind"))
            .filter(|k| supported.contains(k))
            .map(str::to_owned)
            .collect();
        if kinds.is_empty() {
            invalid = Some("none of its allowedRoutes.kinds fits its protocol".into());
        }
    }
    let ns_node = l.path(&["allowedRoutes", "namespaces"]);
    let namespaces = match ns_node.and_then(|n| text(n, "from")).unwrap_or("Same") {
        "All" => AllowedNamespaces::All,
        "Selector" => {
            let sel = ns_node
                .and_then(|n| n.get("selector"))
                .map(LabelSelector::parse);
            match sel {
                Some(s) if !s.invalid => AllowedNamespaces::Selector(s),
                _ => {
                    invalid.get_or_insert("allowedRoutes.namespaces.selector is invalid".into());
                    AllowedNamespaces::Same
                }
            }
        }
        _ => AllowedNamespaces::Same,
    };

    let state_reason = invalid.or_else(|| {
        validate(
            &protocol,
            tls,
            tls_mode.as_deref(),
            &certificates,
            hostname.is_some(),
        )
    });
    let state_reason = state_reason.or_else(|| {
        let gw = gw?;
        if protocol != "HTTPS" {
            return None;
        }
        frontend_validation(index, gw, port)
    });
    let state = match state_reason {
        Some(reason) => ListenerState::Invalid { reason },
        None => ListenerState::Ready,
    };
    let https = protocol == "HTTPS" && state == ListenerState::Ready;
    Listener {
        key,
        gateway: gateway.clone(),
        listener_set: set.cloned(),
        name,
        protocol,
        port,
        hostname,
        tls_mode,
        certificates,
        state,
        https,
        alpn: None,
        tls_overlap: None,
        client_policy: None,
        strips_websocket: None,
        span: l.span,
        protocol_span: l.get("protocol").map(|p| p.span),
        allowed: AllowedRoutes { kinds, namespaces },
        namespace: owner_ns.to_owned(),
    }
}

/// Why a listener is not programmed, from its protocol and TLS settings.
fn validate(
    protocol: &str,
    tls: Option<&Node>,
    tls_mode: Option<&str>,
    certificates: &[super::types::CertificateRef],
    has_hostname: bool,
) -> Option<String> {
    let no_cert = || {
        (!certificates.iter().any(|c| c.state.usable()))
            .then(|| "no usable certificate among its certificateRefs".to_owned())
    };
    match protocol {
        "HTTP" | "TCP" | "UDP" if tls.is_some() => {
            Some(format!("a {protocol} listener must not set tls"))
        }
        "TCP" | "UDP" if has_hostname => {
            Some(format!("a {protocol} listener must not set hostname"))
        }
        "HTTP" | "TCP" | "UDP" => None,
        "HTTPS" => match tls_mode {
            None => Some("an HTTPS listener needs tls".into()),
            Some("Terminate") => no_cert(),
            Some(m) => Some(format!("TLS mode {m} is not supported on HTTPS")),
        },
        "TLS" => match tls_mode {
            None => Some("a TLS listener needs tls".into()),
            Some("Passthrough")
                if tls
                    .and_then(|t| t.get("certificateRefs"))
                    .and_then(Node::as_seq)
                    .is_some_and(|s| !s.items.is_empty()) =>
            {
                Some("a Passthrough listener must not have certificateRefs".into())
            }
            Some("Passthrough") => None,
            _ => no_cert(),
        },
        other => Some(format!("protocol `{other}` is not supported")),
    }
}

/// Gateway `spec.tls.frontend` client-certificate validation for an HTTPS listener on `port`:
/// the per-port entry, else the default. A validation whose CA references all fail makes the
/// listener invalid.
fn frontend_validation(index: &Index<'_>, gw: &Resource, port: Option<i64>) -> Option<String> {
    let frontend = gw.spec()?.path(&["tls", "frontend"])?;
    let per_port = items(frontend.get("perPort")).find(|p| {
        p.get("port")
            .and_then(|n| n.as_i64())
            .is_some_and(|p| Some(p) == port)
    });
    let validation = match per_port {
        Some(p) => p.path(&["tls", "validation"]),
        None => frontend.path(&["default", "validation"]),
    }?;
    let refs: Vec<&Node> = items(validation.get("caCertificateRefs")).collect();
    if refs.is_empty() {
        return None;
    }
    let gw_ns = ns(gw);
    let valid = refs.iter().any(|r| {
        let kind = text(r, "kind").unwrap_or("ConfigMap");
        if !text(r, "group").unwrap_or("").is_empty() || !matches!(kind, "ConfigMap" | "Secret") {
            return false;
        }
        let name = text(r, "name").unwrap_or("");
        let namespace = text(r, "namespace").unwrap_or(gw_ns);
        let from = GrantFrom {
            group: GATEWAY_API,
            kind: "Gateway",
            namespace: gw_ns,
        };
        let to = GrantTo {
            group: "",
            kind,
            name,
        };
        index.grant_allows(&from, namespace, &to)
            && (!index.closed_world || index.get(&[""], kind, namespace, name).is_some())
    });
    (!valid).then(|| "no valid CA certificate for client-certificate validation".to_owned())
}

/// Protocol and hostname conflicts among the programmed listeners of one Gateway and its
/// ListenerSets: a Gateway's own listener wins over a ListenerSet's; two of the Gateway's own
/// listeners that clash are both rejected; among ListenerSets the first wins.
fn mark_conflicts(listeners: &mut [Listener]) {
    let family = |p: &str| match p {
        "HTTPS" | "TLS" => "https/tls".to_owned(),
        other => other.to_owned(),
    };
    let mut reject: Vec<(usize, &'static str)> = Vec::new();
    let ready: Vec<usize> = (0..listeners.len())
        .filter(|&i| listeners[i].state == ListenerState::Ready)
        .collect();
    let mut ports: Vec<Option<i64>> = ready.iter().map(|&i| listeners[i].port).collect();
    ports.sort();
    ports.dedup();
    for port in ports {
        let on: Vec<usize> = ready
            .iter()
            .copied()
            .filter(|&i| listeners[i].port == port && listeners[i].protocol != "UDP")
            .collect();
        // Protocols.
        let mut fams: Vec<String> = on.iter().map(|&i| family(&listeners[i].protocol)).collect();
        fams.sort();
        fams.dedup();
        if fams.len() > 1 {
            let own: Vec<usize> = on
                .iter()
                .copied()
                .filter(|&i| listeners[i].listener_set.is_none())
                .collect();
            let winner = match own.as_slice() {
                [one] => Some(family(&listeners[*one].protocol)),
                [] => on.first().map(|&i| family(&listeners[i].protocol)),
                _ => None,
            };
            for &i in &on {
                if winner.as_deref() != Some(family(&listeners[i].protocol).as_str()) {
                    reject.push((i, "another listener on its port uses another protocol"));
                }
            }
        }
        // Hostnames (HTTP, HTTPS, TLS).
        let l7: Vec<usize> = on
            .iter()
            .copied()
            .filter(|&i| matches!(listeners[i].protocol.as_str(), "HTTP" | "HTTPS" | "TLS"))
            .collect();
        for (a, &i) in l7.iter().enumerate() {
            for &j in &l7[a + 1..] {
                if listeners[i].hostname != listeners[j].hostname
                    || family(&listeners[i].protocol) != family(&listeners[j].protocol)
                {
                    continue;
                }
                let (i_own, j_own) = (
                    listeners[i].listener_set.is_none(),
                    listeners[j].listener_set.is_none(),
                );
                let why = "another listener on its port has the same hostname";
                match (i_own, j_own) {
                    (true, true) => {
                        reject.push((i, why));
                        reject.push((j, why));
                    }
                    (false, true) => reject.push((i, why)),
                    _ => reject.push((j, why)),
                }
            }
        }
    }
    for (i, why) in reject {
        if listeners[i].state == ListenerState::Ready {
            listeners[i].state = ListenerState::Invalid {
                reason: why.to_owned(),
            };
            listeners[i].https = false;
        }
    }
}
