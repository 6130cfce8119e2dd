//! The deployed Envoy Gateway release: from the repo config's pin, the `gateway-helm`
//! HelmRelease (chart version, or its OCIRepository's tag or semver range), or an Argo CD
//! Application's `targetRevision`; the newest known release when nothing says.

use semver::{Version, VersionReq};

use crate::catalogue::{Catalogue, chart_name, parse_release};
use crate::config::RepoConfig;
use crate::model::{Resource, ResourceKey};
use crate::yaml::{Node, Span};

use super::index::{Index, key, ns};
use super::types::{DeployedVersion, VersionSource};

/// Envoy Gateway's Helm chart.
pub(crate) const EG_CHART: &str = "gateway-helm";

const FLUX_HELM: &str = "helm.toolkit.fluxcd.io";
const FLUX_SOURCE: &str = "source.toolkit.fluxcd.io";
const ARGO: &str = "argoproj.io";

/// The resource that installs Envoy Gateway, and where its version is written.
pub(crate) struct InstallSource<'a> {
    pub resource: &'a Resource,
    /// The version text node (chart version, OCI tag/semver/digest, targetRevision).
    pub version_node: Option<&'a Node>,
    pub version_from: VersionSource,
    /// The resource holding `version_node` (the OCIRepository for a `chartRef`).
    pub version_resource: &'a Resource,
    /// The Helm values node (Flux `spec.values`, Argo `helm.valuesObject` / `helm.values`).
    pub values: Option<&'a Node>,
    /// True when values also come from somewhere the repo does not show (`valuesFrom`).
    pub values_hidden: bool,
}

/// Finds the Envoy Gateway install: a Flux HelmRelease of `gateway-helm` (by chart name or
/// through its `chartRef` OCIRepository) or an Argo CD Application of that chart.
pub(crate) fn find_install<'a>(index: &Index<'a>) -> Option<InstallSource<'a>> {
    index
        .of(&[FLUX_HELM], "HelmRelease")
        .into_iter()
        .find_map(|hr| flux_install(index, hr))
        .or_else(|| {
            index
                .of(&[ARGO], "Application")
                .into_iter()
                .find_map(argo_install)
        })
}

fn flux_install<'a>(index: &Index<'a>, hr: &'a Resource) -> Option<InstallSource<'a>> {
    let spec = hr.spec()?;
    let values = spec.get("values");
    let values_hidden = spec
        .get("valuesFrom")
        .and_then(Node::as_seq)
        .is_some_and(|s| !s.items.is_empty());
    if let Some(chart) = spec
        .path(&["chart", "spec", "chart"])
        .and_then(Node::as_text)
    {
        if chart_name(chart) != EG_CHART {
            return None;
        }
        return Some(InstallSource {
            resource: hr,
            version_node: spec.path(&["chart", "spec", "version"]),
            version_from: VersionSource::HelmChartVersion,
            version_resource: hr,
            values,
            values_hidden,
        });
    }
    let chart_ref = spec.get("chartRef")?;
    if chart_ref.get("kind").and_then(Node::as_text) != Some("OCIRepository") {
        return None;
    }
    let name = chart_ref.get("name").and_then(Node::as_text)?;
    let namespace = chart_ref
        .get("namespace")
        .and_then(Node::as_text)
        .unwrap_or(ns(hr));
    let oci = index.get(&[FLUX_SOURCE], "OCIRepository", namespace, name)?;
    let url = oci.spec()?.get("url").and_then(Node::as_text)?;
    if chart_name(url) != EG_CHART {
        return None;
    }
    let reference = oci.spec()?.get("ref");
    let (version_node, version_from) = match reference {
        Some(r) => match (r.get("semver"), r.get("tag"), r.get("digest")) {
            (Some(s), _, _) => (Some(s), VersionSource::OciSemver),
            // A digest next to a tag (as Renovate writes it) is that tag's digest.
            (None, Some(t), _) => (Some(t), VersionSource::OciTag),
            (None, None, Some(d)) => (Some(d), VersionSource::Unknown),
            (None, None, None) => (None, VersionSource::OciTag),
        },
        None => (None, VersionSource::OciTag),
    };
    Some(InstallSource {
        resource: hr,
        version_node,
        version_from,
        version_resource: oci,
        values,
        values_hidden,
    })
}

fn argo_install(app: &Resource) -> Option<InstallSource<'_>> {
    let spec = app.spec()?;
    let source = std::iter::once(spec.get("source"))
        .flatten()
        .chain(super::index::items(spec.get("sources")))
        .find(|s| {
            s.get("chart")
                .and_then(Node::as_text)
                .is_some_and(|c| chart_name(c) == EG_CHART)
        })?;
    let helm = source.get("helm");
    let values = helm.and_then(|h| h.get("valuesObject").or_else(|| h.get("values")));
    Some(InstallSource {
        resource: app,
        version_node: source.get("targetRevision"),
        version_from: VersionSource::ArgoTargetRevision,
        version_resource: app,
        values,
        values_hidden: false,
    })
}

/// The deployed version: the config pin wins; then the install's version; else unknown.
pub(crate) fn deployed(
    install: Option<&InstallSource<'_>>,
    catalogue: &Catalogue,
    config: &RepoConfig,
    notes: &mut Vec<String>,
) -> DeployedVersion {
    if let Some(v) = &config.envoy_gateway_version {
        return DeployedVersion {
            version: v.to_string(),
            semver: v.clone(),
            source: VersionSource::ConfigPin,
            resource: None,
            span: None,
            written: None,
            assumed: false,
        };
    }
    let newest = catalogue.newest_release().clone();
    let unknown = |resource: Option<ResourceKey>, span: Option<Span>, written: Option<String>| {
        DeployedVersion {
            version: newest.to_string(),
            semver: newest.clone(),
            source: VersionSource::Unknown,
            resource,
            span,
            written,
            assumed: true,
        }
    };
    let Some(install) = install else {
        notes.push(format!(
            "the Envoy Gateway install is not in the repo: assuming the newest known release, {newest} (pin it with `envoy-gateway.version` in the repo config)"
        ));
        return unknown(None, None, None);
    };
    let res_key = Some(key(install.version_resource));
    let Some(node) = install.version_node else {
        // Flux and Argo CD take the newest chart when no version is given.
        notes.push(format!(
            "{} does not pin a version: assuming the newest known release, {newest}",
            key(install.version_resource)
        ));
        return unknown(res_key, None, None);
    };
    let written = node.as_text().unwrap_or("").trim().to_owned();
    let span = Some(node.span);
    if install.version_from == VersionSource::Unknown {
        notes.push(format!(
            "{} pins Envoy Gateway by digest only: assuming the newest known release, {newest}",
            key(install.version_resource)
        ));
        return unknown(res_key, span, Some(written));
    }
    let resolved = if install.version_from == VersionSource::OciSemver {
        parse_range(&written).and_then(|reqs| newest_matching(catalogue, &reqs))
    } else {
        parse_release(&written)
            .ok()
            .or_else(|| parse_range(&written).and_then(|reqs| newest_matching(catalogue, &reqs)))
    };
    match resolved {
        Some(v) => DeployedVersion {
            version: v.to_string(),
            semver: v,
            source: install.version_from.clone(),
            resource: res_key,
            span,
            written: Some(written),
            assumed: false,
        },
        None => {
            notes.push(format!(
                "the Envoy Gateway version `{written}` of {} names no known release: assuming the newest, {newest}",
                key(install.version_resource)
            ));
            unknown(res_key, span, Some(written))
        }
    }
}

fn newest_matching(catalogue: &Catalogue, reqs: &[VersionReq]) -> Option<Version> {
    catalogue
        .releases()
        .iter()
        .rev()
        .find(|v| reqs.iter().any(|r| r.matches(v)))
        .cloned()
}

/// A version range as Flux and Argo CD write it (Masterminds semver): `||` alternatives,
/// space-separated comparators, `v` prefixes, `x` wildcards. `None` when it is not a range.
pub(crate) fn parse_range(s: &str) -> Option<Vec<VersionReq>> {
    let mut out = Vec::new();
    for alt in s.split("||") {
        let alt = alt.trim();
        if alt.is_empty() {
            return None;
        }
        let mut comparators: Vec<String> = Vec::new();
        let mut pending_op: Option<String> = None;
        for token in alt.split([' ', ',']).filter(|t| !t.is_empty()) {
            let (op, rest) = split_op(token);
            if rest.is_empty() {
                pending_op = Some(op.to_owned());
                continue;
            }
            let op = pending_op.take().unwrap_or_else(|| op.to_owned());
            let rest = rest.strip_prefix('v').unwrap_or(rest);
            // A bare version in a Masterminds range is exact.
            let op = if op.is_empty() && !rest.contains(['*', 'x', 'X']) {
                "=".to_owned()
            } else {
                op
            };
            comparators.push(format!("{op}{rest}"));
        }
        if comparators.is_empty() {
            return None;
        }
        out.push(VersionReq::parse(&comparators.join(", ")).ok()?);
    }
    Some(out)
}

fn split_op(token: &str) -> (&str, &str) {
    let end = token
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '~' | '^' | '!'))
        .unwrap_or(token.len());
    (&token[..end], &token[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newest(s: &str) -> Option<String> {
        let cat = Catalogue::embedded().unwrap();
        parse_range(s)
            .and_then(|r| newest_matching(&cat, &r))
            .map(|v| v.to_string())
    }

    #[test]
    fn ranges() {
        assert_eq!(newest("~1.7.0").as_deref(), Some("1.7.5"));
        assert_eq!(newest("1.8.x").as_deref(), Some("1.8.3"));
        assert_eq!(newest(">= 1.4.0 < 1.6.0").as_deref(), Some("1.5.9"));
        assert_eq!(newest(">=v1.2.0, <1.3").as_deref(), Some("1.2.8"));
        assert_eq!(newest("1.2.0 || 1.3.1").as_deref(), Some("1.3.1"));
        assert_eq!(newest("^1.0").as_deref(), newest("*").as_deref());
        assert_eq!(newest("2.x"), None);
        assert_eq!(parse_range(""), None);
    }
}
