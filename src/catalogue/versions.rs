//! `rules/versions.yaml`: the known Envoy Gateway releases, the version gates and thresholds.
//!
//! A gate names one behaviour of Envoy Gateway and the semver ranges of releases that have it,
//! so a new release is a data change. Code refers to gates through [`Gate`] only.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use semver::{Version, VersionReq};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_saphyr::Spanned;

use super::ids::{UnknownId, closest, id_enum};
use super::located::{Pos, Problem};

id_enum! {
    /// A named Envoy Gateway behaviour whose presence depends on the release.
    Gate, "gate" {
        /// Service `appProtocol: kubernetes.io/ws|wss` forces HTTP/1.1 upstream (#9138).
        ServiceWsAppProtocol => "service-ws-app-protocol",
        /// Backend `appProtocols` ws/wss force HTTP/1.1 upstream (#8699).
        BackendWsAppProtocol => "backend-ws-app-protocol",
        /// TLS backends negotiate upstream ALPN automatically (h2 possible) (#6792).
        UpstreamAlpnAuto => "upstream-alpn-auto",
        /// Backend `spec.tls` and `spec.type` exist.
        BackendTls => "backend-tls",
        /// Backend `spec.tls.alpnProtocols` exists.
        BackendTlsAlpn => "backend-tls-alpn",
        /// Backend TLS `alpnProtocols: []` disables upstream ALPN instead of inheriting defaults.
        BackendTlsEmptyAlpnDisables => "backend-tls-empty-alpn-disables",
        /// The `Backend` kind and `extensionApis.enableBackend` exist.
        BackendApi => "backend-api",
        /// BackendTrafficPolicy `httpUpgrade` exists (#5300).
        HttpUpgradeField => "http-upgrade-field",
        /// BackendTrafficPolicy `httpUpgrade[].connect.terminate` exists.
        HttpUpgradeConnectTerminate => "http-upgrade-connect-terminate",
        /// BackendTrafficPolicy `requestBuffer` exists.
        RequestBufferField => "request-buffer-field",
        /// WebSockets on a route with `requestBuffer` hang.
        RequestBufferHangsUpgrade => "request-buffer-hangs-upgrade",
        /// `requestBuffer` drops the default upgrade (403), and CEL rejects it next to `httpUpgrade`.
        RequestBufferBlocksUpgrade403 => "request-buffer-blocks-upgrade-403",
        /// ClientTrafficPolicy `http1.ignoredUpgradeTypes` exists.
        IgnoredUpgradeTypes => "ignored-upgrade-types",
        /// ClientTrafficPolicy `targetRefs` and `targetSelectors` exist.
        CtpTargetrefs => "ctp-targetrefs",
        /// A ClientTrafficPolicy's single `targetRef` gets a deprecation warning in its status.
        CtpTargetRefWarning => "ctp-target-ref-warning",
        /// `targetSelectors[].matchExpressions` exists.
        TargetSelectorMatchExpressions => "target-selector-match-expressions",
        /// `targetSelectors[].namespaces` (cross-namespace with a ReferenceGrant) exists.
        TargetSelectorNamespaces => "target-selector-namespaces",
        /// `ListenerSet` is a policy target kind.
        Listenerset => "listenerset",
        /// BackendTrafficPolicy `targetRefs` exists.
        BtpTargetrefs => "btp-targetrefs",
        /// BackendTrafficPolicy targets may carry `sectionName`.
        BtpSectionName => "btp-section-name",
        /// BackendTrafficPolicy `mergeType` exists.
        BtpMergeType => "btp-merge-type",
        /// CEL rejects `mergeType: Replace`.
        MergeTypeRejectsReplace => "merge-type-rejects-replace",
        /// CEL allows `mergeType` only on xRoute targets.
        MergeTypeRouteOnly => "merge-type-route-only",
        /// ClientTrafficPolicy `tls.alpnProtocols` accepts any string (before: http/1.0, http/1.1, h2).
        AlpnAnyString => "alpn-any-string",
        /// `alpnProtocols: []` disables ALPN.
        AlpnEmptyDisables => "alpn-empty-disables",
        /// A terminating TLS listener for TCPRoute/TLSRoute has no ALPN by default.
        TlsListenerAlpnEmpty => "tls-listener-alpn-empty",
        /// Listeners with overlapping certificates get ALPN `[http/1.1]` when no policy sets ALPN.
        OverlappingCertsHttp11 => "overlapping-certs-http11",
        /// The overlap check looks at overlapping certificate SANs.
        OverlappingCertsSanNarrowed => "overlapping-certs-san-narrowed",
        /// An explicit ClientTrafficPolicy ALPN wins over the automatic `[http/1.1]` for overlaps.
        ExplicitAlpnWinsOverOverlap => "explicit-alpn-wins-over-overlap",
        /// SDS-backed listener certificates switch h2 off when no policy sets ALPN.
        SdsDisablesH2 => "sds-disables-h2",
        /// ClientTrafficPolicy `timeout.http.streamIdleTimeout` exists.
        StreamIdleTimeoutField => "stream-idle-timeout-field",
        /// ClientTrafficPolicy `connection.connectionLimit.maxConnectionDuration|maxStreamDuration` exist.
        CtpMaxStreamDuration => "ctp-max-stream-duration",
        /// BackendTrafficPolicy `timeout.http.maxStreamDuration` exists.
        BtpMaxStreamDuration => "btp-max-stream-duration",
        /// BackendTrafficPolicy `timeout.http.streamIdleTimeout` exists.
        BtpStreamIdleTimeout => "btp-stream-idle-timeout",
        /// BackendTrafficPolicy `timeout.http.requestTimeout` exists.
        BtpRequestTimeout => "btp-request-timeout",
        /// The route idle timeout derived from a request timeout yields to a CTP `streamIdleTimeout`.
        RouteIdleTimeoutYieldsToCtp => "route-idle-timeout-yields-to-ctp",
        /// A ClientTrafficPolicy translation error makes the listener's HTTP routes answer 500.
        CtpErrorReturns500 => "ctp-error-returns-500",
        /// BackendTrafficPolicy `useClientProtocol` exists.
        UseClientProtocol => "use-client-protocol",
        /// WebSockets work on routes with a URL rewrite.
        UrlRewriteWebsocket => "urlrewrite-websocket",
    }
}

/// One gate of `rules/versions.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateInfo {
    /// The gate.
    pub gate: Gate,
    /// What the behaviour is and where that is known from.
    pub description: String,
    /// The releases that have the behaviour: any range matching means it holds.
    pub holds: Vec<VersionReq>,
}

impl GateInfo {
    /// True when `version` has this behaviour. A pre-release is judged as its release
    /// (`1.9.0-rc.1` as `1.9.0`).
    pub fn holds_for(&self, version: &Version) -> bool {
        let release = Version::new(version.major, version.minor, version.patch);
        self.holds.iter().any(|r| r.matches(&release))
    }
}

/// Numbers the rules use, kept with the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// `stream-limits` fires for a stream idle timeout below this many seconds.
    pub stream_idle_threshold_seconds: u64,
}

/// Parses an Envoy Gateway release as written in repos: `v1.9.0` or `1.9.0`.
pub fn parse_release(s: &str) -> Result<Version, semver::Error> {
    let t = s.trim();
    Version::parse(t.strip_prefix('v').unwrap_or(t))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct VersionsFile {
    releases: Spanned<Vec<Spanned<String>>>,
    gates: Spanned<Vec<RawGate>>,
    thresholds: RawThresholds,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGate {
    id: Spanned<Gate>,
    description: Spanned<String>,
    holds: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawThresholds {
    stream_idle_threshold_seconds: Spanned<u64>,
}

/// The validated content of `rules/versions.yaml`.
pub(crate) struct Versions {
    pub releases: Vec<Version>,
    pub gates: Vec<GateInfo>,
    pub thresholds: Thresholds,
}

impl VersionsFile {
    pub(crate) fn validate(self) -> Result<Versions, Problem> {
        let mut releases: Vec<Version> = Vec::new();
        for r in &self.releases.value {
            let v = Version::parse(r.value.trim()).map_err(|e| {
                Problem::at(r, format!("`{}` is not a semver version: {e}", r.value))
            })?;
            if !v.pre.is_empty() || !v.build.is_empty() {
                return Err(Problem::at(r, format!("list releases only, not `{v}`")));
            }
            if let Some(prev) = releases.last()
                && *prev >= v
            {
                return Err(Problem::at(
                    r,
                    format!(
                        "releases must be in ascending order without repeats (`{v}` after `{prev}`)"
                    ),
                ));
            }
            releases.push(v);
        }
        if releases.is_empty() {
            return Err(Problem::at(&self.releases, "list at least one release"));
        }

        let mut gates: BTreeMap<Gate, GateInfo> = BTreeMap::new();
        let gates_pos = Pos::of_spanned(&self.gates);
        for raw in self.gates.value {
            let gate = raw.id.value;
            if gates.contains_key(&gate) {
                return Err(Problem::at(&raw.id, format!("duplicate gate `{gate}`")));
            }
            let description = raw.description.value.trim().to_owned();
            if description.is_empty() {
                return Err(Problem::at(
                    &raw.description,
                    "`description` must not be empty",
                ));
            }
            if raw.holds.value.is_empty() {
                return Err(Problem::at(
                    &raw.holds,
                    "list at least one range in `holds`",
                ));
            }
            let mut holds = Vec::new();
            for h in &raw.holds.value {
                let req = VersionReq::parse(h.value.trim()).map_err(|e| {
                    Problem::at(h, format!("`{}` is not a semver range: {e}", h.value))
                })?;
                if !releases.iter().any(|v| req.matches(v)) {
                    return Err(Problem::at(
                        h,
                        format!("`{}` matches no known release", h.value),
                    ));
                }
                holds.push(req);
            }
            gates.insert(
                gate,
                GateInfo {
                    gate,
                    description,
                    holds,
                },
            );
        }
        if let Some(missing) = Gate::ALL.iter().find(|g| !gates.contains_key(g)) {
            return Err(Problem::at_pos(
                gates_pos,
                format!("missing gate `{missing}`"),
            ));
        }

        let idle = &self.thresholds.stream_idle_threshold_seconds;
        if idle.value == 0 {
            return Err(Problem::at(
                idle,
                "`stream-idle-threshold-seconds` must be above 0",
            ));
        }
        Ok(Versions {
            releases,
            gates: gates.into_values().collect(),
            thresholds: Thresholds {
                stream_idle_threshold_seconds: idle.value,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_forms() {
        assert_eq!(parse_release("v1.9.0").unwrap(), Version::new(1, 9, 0));
        assert_eq!(parse_release("1.6.3").unwrap(), Version::new(1, 6, 3));
        assert!(parse_release("1.9").is_err());
    }
}
