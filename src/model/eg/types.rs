//! The public shape of Envoy Gateway's view of an applied set: what `build` returns.

use serde::Serialize;

use crate::model::{Origin, ResourceKey};
use crate::yaml::Span;

/// A value together with the text that decides it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decided<T> {
    /// The effective value.
    pub value: T,
    /// Why it has this value.
    pub why: Why,
    /// The resource whose setting decides it (`None` for Envoy Gateway's defaults with nothing
    /// in the repo to blame, and for the repo config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
    /// The text that decides it: the setting itself when it is written, otherwise what governs
    /// (a policy's `tls:` key, a listener's `protocol: HTTPS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// True when two policies claim the same target, no creation time orders them, and they
    /// would give different values: the value shown is Envoy Gateway's name-order pick.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ambiguous: bool,
}

impl<T> Decided<T> {
    pub(crate) fn new(
        value: T,
        why: Why,
        resource: Option<ResourceKey>,
        span: Option<Span>,
    ) -> Self {
        Decided {
            value,
            why,
            resource,
            span,
            ambiguous: false,
        }
    }
}

/// Why a [`Decided`] value is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Why {
    /// Written at the span.
    Set,
    /// Envoy Gateway's default: nothing sets it (the span shows what governs, if anything).
    Default,
    /// A route policy merged (`mergeType`) into its parent's policy.
    Merged,
    /// HTTPS listeners on the same port have overlapping certificates or hostnames, so Envoy
    /// Gateway offers `[http/1.1]` only.
    OverlappingTls,
    /// An SDS-backed certificate shares the port with other HTTPS listeners (its names cannot be
    /// inspected), so Envoy Gateway offers `[http/1.1]` only.
    SdsCertificate,
    /// BackendTrafficPolicy `requestBuffer` drops the default WebSocket upgrade.
    RequestBuffer,
    /// BackendTrafficPolicy `useClientProtocol: true` keeps the client's protocol upstream.
    UseClientProtocol,
    /// A `ws`/`wss` app protocol forces HTTP/1.1 upstream.
    AppProtocol,
    /// The deployed version ignores the setting.
    IgnoredByVersion,
    /// The repo config (`envoy-gateway.version`, `websocket-routes`, `apps`).
    RepoConfig,
    /// Nothing in the repo says; an assumption is made and said.
    Unknown,
}

/// Envoy Gateway's view of one applied set.
#[derive(Clone, Debug, Serialize)]
pub struct Model {
    /// The entry point of the applied set.
    pub entry_point: String,
    /// The deployed Envoy Gateway release.
    pub version: DeployedVersion,
    /// The Envoy Gateway install and its configuration.
    pub install: Install,
    /// Every GatewayClass the repo defines or its Gateways name.
    pub gateway_classes: Vec<GatewayClass>,
    /// Every Gateway, Envoy Gateway's and others' (those are recorded, not modelled).
    pub gateways: Vec<Gateway>,
    /// Every listener of an Envoy Gateway Gateway (ListenerSet listeners included), in Envoy
    /// Gateway's order: Gateways by `namespace/name`, then each Gateway's listeners as written,
    /// then its ListenerSets' listeners.
    pub listeners: Vec<Listener>,
    /// Every route (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute), with where it attaches.
    pub routes: Vec<Route>,
    /// Every ClientTrafficPolicy and BackendTrafficPolicy with what it targets.
    pub policies: Vec<Policy>,
    /// Policies that claim the same target.
    pub conflicts: Vec<PolicyConflict>,
    /// References the repo cannot resolve.
    pub unresolved: Vec<UnresolvedRef>,
    /// Things the model could not take into account, and assumptions it made.
    pub notes: Vec<String>,
}

/// How the deployed version was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    /// The repo config's `envoy-gateway.version`.
    ConfigPin,
    /// A HelmRelease's `spec.chart.spec.version` (exact or a range).
    HelmChartVersion,
    /// An OCIRepository's `spec.ref.tag`.
    OciTag,
    /// An OCIRepository's `spec.ref.semver` range.
    OciSemver,
    /// An Argo CD Application's `targetRevision`.
    ArgoTargetRevision,
    /// Nothing says (no install, a digest-only pin, an unparsable version): the newest known
    /// release is assumed.
    Unknown,
}

/// The deployed Envoy Gateway release.
#[derive(Clone, Debug, Serialize)]
pub struct DeployedVersion {
    /// The release the model uses (`1.9.0`).
    pub version: String,
    #[serde(skip)]
    pub semver: semver::Version,
    pub source: VersionSource,
    /// The resource that states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
    /// The text that states it (the version, tag, range or targetRevision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// The text as written (`v1.9.0`, `~1.8.0`, `sha256:...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
    /// True when the version is unknown and the newest release is assumed.
    pub assumed: bool,
}

impl DeployedVersion {
    /// True when the version comes from the repo config's pin.
    pub fn pinned(&self) -> bool {
        self.source == VersionSource::ConfigPin
    }
}

/// The Envoy Gateway install, as far as the repo shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Install {
    /// True when the repo installs Envoy Gateway (a `gateway-helm` HelmRelease or Argo CD
    /// Application, or the `envoy-gateway-config` ConfigMap).
    pub in_repo: bool,
    /// The install resource (HelmRelease or Application).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
    /// `extensionApis.enableBackend` (default false).
    pub enable_backend: Decided<bool>,
    /// `extensionApis.enableSDSSecretRef` (default false).
    pub enable_sds_secret_ref: Decided<bool>,
    /// The controller name Envoy Gateway claims GatewayClasses with.
    pub controller_name: String,
    /// True when the configuration comes from `valuesFrom` or another place the repo does not
    /// show, so the flags above may be wrong.
    pub config_hidden: bool,
}

/// Who runs a GatewayClass's Gateways.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Management {
    /// Envoy Gateway: the class's `controllerName` is Envoy Gateway's.
    EnvoyGateway,
    /// Envoy Gateway, assumed: the class is not in the repo, and nothing else claims it.
    AssumedEnvoyGateway,
    /// Another implementation (`controllerName` given, or a well-known class name).
    Other { controller: String },
}

impl Management {
    pub fn is_eg(&self) -> bool {
        !matches!(self, Management::Other { .. })
    }
}

/// A GatewayClass.
#[derive(Clone, Debug, Serialize)]
pub struct GatewayClass {
    pub name: String,
    pub management: Management,
    /// False when only Gateways name it.
    pub in_repo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// A Gateway.
#[derive(Clone, Debug, Serialize)]
pub struct Gateway {
    pub key: ResourceKey,
    pub class: String,
    pub management: Management,
    pub span: Span,
    /// The listener keys (see [`Listener::key`]) of this Gateway and its ListenerSets; empty
    /// for other implementations' Gateways.
    pub listeners: Vec<String>,
    /// Labels (for policy `targetSelectors`).
    #[serde(skip)]
    pub labels: Vec<(String, String)>,
}

/// Whether a listener is programmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ListenerState {
    /// Programmed: Envoy serves it.
    Ready,
    /// Not programmed: Envoy Gateway rejects it (reason given).
    Invalid { reason: String },
}

/// How a certificate reference resolves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertState {
    /// A `kubernetes.io/tls` Secret with `tls.crt` and `tls.key`.
    Valid,
    /// A `gateway.envoyproxy.io/sds` Secret (certificate names cannot be inspected).
    Sds,
    /// Not in the repo, but a cert-manager Certificate writes it.
    FromCertManager,
    /// Not in the repo; assumed to exist (cert-manager, SOPS, an operator).
    Assumed,
    /// In the repo but unusable (missing data, wrong type, SDS while SDS references are off).
    Invalid,
    /// Not found (closed world).
    NotFound,
    /// In another namespace without a ReferenceGrant.
    NotPermitted,
    /// Not a Secret.
    InvalidKind,
}

impl CertState {
    /// True when Envoy Gateway serves this certificate.
    pub fn usable(&self) -> bool {
        matches!(
            self,
            CertState::Valid | CertState::Sds | CertState::FromCertManager | CertState::Assumed
        )
    }
}

/// One `certificateRefs` entry of a listener.
#[derive(Clone, Debug, Serialize)]
pub struct CertificateRef {
    pub namespace: String,
    pub name: String,
    pub state: CertState,
    /// DNS names of the certificate, where the repo shows them (cert-manager `dnsNames`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    pub span: Span,
}

/// Why a listener's automatic ALPN is `[http/1.1]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum TlsOverlap {
    /// Listener hostnames overlap on the same port (before certificate SANs were used).
    Hostnames { other: String },
    /// Certificate names overlap on the same port.
    CertificateNames { other: String, name: String },
    /// An SDS certificate shares the port with other HTTPS listeners.
    SdsCertificate,
}

/// A listener of an Envoy Gateway Gateway or ListenerSet.
#[derive(Clone, Debug, Serialize)]
pub struct Listener {
    /// `<ns>/<gateway>/<listener>`, or `<ns>/<gateway>/<ls-ns>/<listenerset>/<listener>` for a
    /// ListenerSet listener: the key Envoy Gateway gives it.
    pub key: String,
    pub gateway: ResourceKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_set: Option<ResourceKey>,
    pub name: String,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `tls.mode` (`Terminate` when TLS is set without a mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_mode: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateRef>,
    pub state: ListenerState,
    /// True for a programmed HTTPS listener: TLS terminated by Envoy for HTTP.
    pub https: bool,
    /// The effective ALPN list of a programmed HTTPS listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<Decided<Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_overlap: Option<TlsOverlap>,
    /// The ClientTrafficPolicy that governs this listener.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_policy: Option<ResourceKey>,
    /// The ClientTrafficPolicy `http1.ignoredUpgradeTypes` entry that matches `websocket`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strips_websocket: Option<Decided<bool>>,
    /// The whole listener.
    pub span: Span,
    /// The `protocol` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_span: Option<Span>,
    #[serde(skip)]
    pub(crate) allowed: AllowedRoutes,
    #[serde(skip)]
    pub(crate) namespace: String,
}

/// `allowedRoutes` of a listener, resolved.
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowedRoutes {
    /// Route kinds it accepts.
    pub kinds: Vec<String>,
    pub namespaces: AllowedNamespaces,
}

#[derive(Clone, Debug, Default)]
pub(crate) enum AllowedNamespaces {
    #[default]
    Same,
    All,
    Selector(crate::model::eg::selector::LabelSelector),
}

/// A route kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RouteKind {
    #[serde(rename = "HTTPRoute")]
    Http,
    #[serde(rename = "GRPCRoute")]
    Grpc,
    #[serde(rename = "TCPRoute")]
    Tcp,
    #[serde(rename = "TLSRoute")]
    Tls,
}

impl RouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Tls => "TLSRoute",
        }
    }
}

/// A route.
#[derive(Clone, Debug, Serialize)]
pub struct Route {
    pub kind: RouteKind,
    pub key: ResourceKey,
    pub origin: Origin,
    pub span: Span,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// One entry per `parentRefs` item.
    pub parents: Vec<ParentRef>,
    pub rules: Vec<RouteRule>,
    /// Set when the route serves a WebSocket app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocketApp>,
}

impl Route {
    /// The attachments of all its parentRefs (a listener named twice appears twice).
    pub fn listeners(&self) -> impl Iterator<Item = &Attachment> {
        self.parents.iter().flat_map(|p| p.attached.iter())
    }
}

/// One `parentRefs` entry and where it attaches.
#[derive(Clone, Debug, Serialize)]
pub struct ParentRef {
    /// `Gateway` or `ListenerSet`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    pub span: Span,
    pub attached: Vec<Attachment>,
    /// Why it attaches to no listener (when `attached` is empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_attached: Option<String>,
}

/// A route attached to one listener.
#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    /// The listener's key.
    pub listener: String,
    /// The hostnames the route serves on that listener (listener and route hostnames
    /// intersected; `*` for any).
    pub hostnames: Vec<String>,
}

/// One rule of a route.
#[derive(Clone, Debug, Serialize)]
pub struct RouteRule {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub span: Span,
    pub backends: Vec<BackendRef>,
    /// What the rule does on each listener the route attaches to.
    pub on_listeners: Vec<RuleOnListener>,
}

/// A rule on one listener: the values that depend on the policies of that listener's Gateway.
#[derive(Clone, Debug, Serialize)]
pub struct RuleOnListener {
    pub listener: String,
    /// The upgrade types of the route's upgrade config (as Envoy Gateway writes them).
    pub upgrade: Decided<Vec<String>>,
    /// True when a WebSocket upgrade can pass end to end: the upgrade list allows it and the
    /// listener does not strip the header.
    pub websocket: Decided<bool>,
    /// True when any backend of the rule is forced to HTTP/1.1 upstream.
    #[serde(rename = "forceHTTP1Upstream")]
    pub force_http1_upstream: Decided<bool>,
    /// The BackendTrafficPolicy that governs the rule here (after merging).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<ResourceKey>,
    /// `useClientProtocol: true` applies.
    pub use_client_protocol: bool,
    /// Backends (by index into [`RouteRule::backends`]) that can be reached over HTTP/2
    /// upstream on this listener, with the cause.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstream_h2: Vec<UpstreamH2>,
    /// The written limits that bound a stream of the rule on this listener: the effective
    /// max stream duration and the effective stream idle timeout (each only when a setting in
    /// the repo decides it; Envoy's defaults are not listed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stream_limits: Vec<StreamLimit>,
}

/// Which stream limit a [`StreamLimit`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamLimitKind {
    /// The stream is reset after this time, even while data flows (0: no limit).
    MaxStreamDuration,
    /// The stream is closed after this time without data (0: disabled).
    StreamIdleTimeout,
}

/// An effective stream limit and the setting that decides it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamLimit {
    pub kind: StreamLimitKind,
    /// The effective limit in seconds (0: none).
    pub seconds: f64,
    /// The setting that decides it (`BackendTrafficPolicy timeout.http.maxStreamDuration`).
    pub setting: String,
    /// The duration as written (`30m`).
    pub written: String,
    /// The resource that holds the setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
    /// The setting's value.
    pub span: Span,
}

/// A backend of a rule reached over HTTP/2.
#[derive(Clone, Debug, Serialize)]
pub struct UpstreamH2 {
    pub backend: usize,
    pub cause: UpstreamH2Cause,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// Why a backend can be reached over HTTP/2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamH2Cause {
    /// Service `appProtocol: kubernetes.io/h2c` or Backend `gateway.envoyproxy.io/h2c`.
    H2c,
    /// A TLS backend whose upstream ALPN is negotiated automatically (h2 possible).
    TlsAlpnAuto,
}

/// The kind of a backend reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    Service,
    /// `gateway.envoyproxy.io` `Backend`.
    Backend,
    /// `multicluster.x-k8s.io` `ServiceImport`.
    ServiceImport,
    /// Anything else (Envoy Gateway rejects it).
    Other {
        group: String,
        kind: String,
    },
}

/// How a backend reference resolves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendState {
    Found,
    /// Not in the repo (it may come from a chart the repo does not show).
    NotInRepo,
    /// In another namespace without a ReferenceGrant.
    NotPermitted,
    /// A `Backend` while the Backend API is off: the rule answers 500.
    BackendApiDisabled,
    /// A kind Envoy Gateway does not accept.
    InvalidKind,
    /// The Service has no port with that number.
    PortNotFound,
}

/// One `backendRefs` entry.
#[derive(Clone, Debug, Serialize)]
pub struct BackendRef {
    pub kind: BackendKind,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    pub span: Span,
    pub state: BackendState,
    /// The Service port's `appProtocol` or the Backend's `appProtocols` (the WebSocket or h2c
    /// one when there are several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<Decided<String>>,
    /// True when the app protocol is ws/wss and the deployed version honours it.
    pub forces_http1: Decided<bool>,
    /// Where TLS to this backend is configured (BackendTLSPolicy or `Backend.spec.tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Decided<bool>>,
    /// A backend TLS `alpnProtocols` without `h2` (Backend `spec.tls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_alpn_http1: Option<Span>,
    /// The resolved resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
}

/// How a route was recognised as serving a WebSocket app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebSocketReason {
    /// A container image of the app's catalogue entry.
    Image { image: String },
    /// A Helm chart of the app's catalogue entry.
    Chart { chart: String },
    /// An operator resource of the app's kind.
    OperatorKind { kind: String },
    /// A Service port `appProtocol` of `kubernetes.io/ws` or `kubernetes.io/wss`.
    ServiceAppProtocol,
    /// A Backend with `gateway.envoyproxy.io/ws` or `/wss`.
    BackendAppProtocol,
    /// The repo config's `websocket-routes`.
    RepoConfig,
}

/// The WebSocket app a route serves.
#[derive(Clone, Debug, Serialize)]
pub struct WebSocketApp {
    /// The catalogue id (`home-assistant`), when an app was recognised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Where a WebSocket handshake can be tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_path: Option<String>,
    pub reason: WebSocketReason,
    /// The resource that shows it (the workload, Service, Backend, HelmRelease, operator CR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// The kind of a traffic policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PolicyKind {
    ClientTrafficPolicy,
    BackendTrafficPolicy,
}

/// A resolved policy target.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyTarget {
    /// `Gateway`, `ListenerSet`, `HTTPRoute`, ...
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// False when the target is not in the repo (or the section does not exist).
    pub found: bool,
    pub span: Span,
}

/// A ClientTrafficPolicy or BackendTrafficPolicy.
#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    pub kind: PolicyKind,
    pub key: ResourceKey,
    pub span: Span,
    /// `metadata.creationTimestamp`, when the manifest carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub targets: Vec<PolicyTarget>,
    /// Why Envoy Gateway would not accept it at all (schema or CEL rules of the deployed version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// How a conflict between policies is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictOrder {
    /// The manifests carry creation timestamps: the oldest wins.
    CreationTimestamp,
    /// No timestamps: the winner depends on which was created first in the cluster, which git
    /// does not record. Envoy Gateway's tie-break (namespace/name) is shown.
    Unknown,
}

/// Two or more policies that claim the same target.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyConflict {
    pub kind: PolicyKind,
    /// The target (`Gateway envoy-gateway/eg`, `Gateway envoy-gateway/eg section https`).
    pub target: String,
    /// The policy Envoy Gateway applies.
    pub winner: ResourceKey,
    /// The others (`Conflicted`).
    pub losers: Vec<ResourceKey>,
    pub order: ConflictOrder,
    /// The competing policies' target spans.
    pub spans: Vec<Span>,
}

/// A reference the repo cannot resolve.
#[derive(Clone, Debug, Serialize)]
pub struct UnresolvedRef {
    /// The resource that holds the reference.
    pub from: ResourceKey,
    /// What it refers to (`Gateway network/envoy-external`).
    pub to: String,
    pub reason: String,
    pub span: Span,
}
