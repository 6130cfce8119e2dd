//! `rules/apps.yaml`: the WebSocket app catalogue, and how an image, chart or kind finds its app.
//!
//! The same app shape is accepted in the repo config's `apps` list (`crate::config`).

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::located::Problem;

/// A container image reduced to its registry and repository path (no tag, no digest).
///
/// Docker Hub forms are made canonical: `nginx`, `library/nginx`, `docker.io/nginx` and
/// `index.docker.io/library/nginx` are all `docker.io/library/nginx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRepo {
    /// The registry host (with port, if any), e.g. `ghcr.io` or `docker.io`.
    pub registry: String,
    /// The repository path inside the registry, e.g. `home-assistant/home-assistant`.
    pub path: String,
}

impl ImageRepo {
    /// Parses an image reference such as `ghcr.io/home-assistant/home-assistant:2025.1@sha256:...`.
    /// Returns `None` for an empty reference.
    pub fn parse(image: &str) -> Option<ImageRepo> {
        let s = image.trim();
        let s = s.split_once('@').map_or(s, |(repo, _digest)| repo);
        let s = match (s.rfind(':'), s.rfind('/')) {
            (Some(colon), Some(slash)) if colon > slash => &s[..colon],
            (Some(colon), None) => &s[..colon],
            _ => s,
        };
        if s.is_empty() {
            return None;
        }
        let (registry, path) = match s.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_ascii_lowercase(), rest.to_ascii_lowercase())
            }
            _ => ("docker.io".to_owned(), s.to_ascii_lowercase()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
                "docker.io".to_owned()
            }
            _ => registry,
        };
        if path.is_empty() {
            return None;
        }
        let path = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Some(ImageRepo { registry, path })
    }

    /// True when `path` ends with this repository's whole path, segment by segment
    /// (a mirror or pull-through cache that keeps the upstream path under a prefix).
    fn is_path_suffix_of(&self, path: &str) -> bool {
        path.strip_suffix(&self.path)
            .is_some_and(|prefix| prefix.is_empty() || prefix.ends_with('/'))
    }
}

impl fmt::Display for ImageRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// A Helm chart name as written in a HelmRelease, an OCI URL or a repo/chart pair: the last
/// path segment without a tag or digest, lower-cased (`oci://ghcr.io/x/charts/grafana:8.0` → `grafana`).
pub fn chart_name(chart: &str) -> String {
    let s = chart.trim();
    let s = s.split_once('@').map_or(s, |(c, _)| c);
    let last = s.rsplit('/').next().unwrap_or(s);
    let last = last.split_once(':').map_or(last, |(c, _)| c);
    last.to_ascii_lowercase()
}

/// A Kubernetes kind (of an operator) whose resources mean an app, e.g. grafana-operator's `Grafana`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppKind {
    /// The API group, e.g. `grafana.integreatly.org`.
    pub group: String,
    /// The kind, e.g. `Grafana`.
    pub kind: String,
}

/// A WebSocket app: how to recognise it and where its WebSocket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Stable id, kebab-case (e.g. `home-assistant`).
    pub id: String,
    /// Display name (e.g. `Home Assistant`).
    pub name: String,
    /// Image repositories that run this app.
    pub images: Vec<ImageRepo>,
    /// Helm chart names that install this app (see [`chart_name`]).
    pub charts: Vec<String>,
    /// Operator kinds whose resources are this app.
    pub kinds: Vec<AppKind>,
    /// The port the app listens on by default.
    pub port: Option<u16>,
    /// The path (with query, if needed) a WebSocket handshake can be tried on.
    pub probe_path: String,
    /// Remarks for maintainers and for the PR checklist.
    pub notes: Option<String>,
}

/// An app as written in YAML (`rules/apps.yaml` or the repo config's `apps`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct AppSpec {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    images: Vec<Spanned<String>>,
    #[serde(default)]
    charts: Vec<Spanned<String>>,
    #[serde(default)]
    kinds: Vec<Spanned<AppKind>>,
    port: Option<Spanned<u16>>,
    probe_path: Option<Spanned<String>>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppsFile {
    pub(crate) apps: Spanned<Vec<AppSpec>>,
}

/// How strict [`validate_apps`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppRules {
    /// `rules/apps.yaml`: `port` and `probe-path` are required.
    Catalogue,
    /// The repo config: `port` is optional and `probe-path` defaults to `/`.
    RepoConfig,
}

fn is_kebab_id(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Checks a list of apps and turns it into [`App`]s: ids unique and kebab-case, at least one
/// way to recognise each app, image repositories without tag or digest, probe paths absolute,
/// no image or chart claimed by two apps.
pub(crate) fn validate_apps(
    specs: Vec<AppSpec>,
    strictness: AppRules,
) -> Result<Vec<App>, Problem> {
    let mut apps: Vec<App> = Vec::new();
    let mut owners = Owners::default();
    for spec in specs {
        let id = spec.id.value.trim().to_owned();
        if !is_kebab_id(&id) {
            return Err(Problem::at(
                &spec.id,
                format!("app id `{id}` must be kebab-case (a-z, 0-9 and single dashes)"),
            ));
        }
        if apps.iter().any(|a| a.id == id) {
            return Err(Problem::at(&spec.id, format!("duplicate app `{id}`")));
        }
        let name = spec.name.value.trim().to_owned();
        if name.is_empty() {
            return Err(Problem::at(&spec.name, "`name` must not be empty"));
        }
        if spec.images.is_empty() && spec.charts.is_empty() && spec.kinds.is_empty() {
            return Err(Problem::at(
                &spec.id,
                format!("app `{id}` needs at least one of `images`, `charts` or `kinds`"),
            ));
        }
        let images = spec
            .images
            .iter()
            .map(|img| owners.claim_image(img, &id))
            .collect::<Result<_, _>>()?;
        let charts = spec
            .charts
            .iter()
            .map(|chart| owners.claim_chart(chart, &id))
            .collect::<Result<_, _>>()?;
        let kinds = spec
            .kinds
            .iter()
            .map(check_kind)
            .collect::<Result<_, _>>()?;
        let port = match (&spec.port, strictness) {
            (Some(p), _) if p.value == 0 => return Err(Problem::at(p, "`port` must be 1-65535")),
            (Some(p), _) => Some(p.value),
            (None, AppRules::Catalogue) => {
                return Err(Problem::at(&spec.id, format!("app `{id}` needs a `port`")));
            }
            (None, AppRules::RepoConfig) => None,
        };
        let probe_path = match (&spec.probe_path, strictness) {
            (Some(p), _) => check_probe_path(p)?,
            (None, AppRules::Catalogue) => {
                return Err(Problem::at(
                    &spec.id,
                    format!("app `{id}` needs a `probe-path`"),
                ));
            }
            (None, AppRules::RepoConfig) => "/".to_owned(),
        };
        apps.push(App {
            id,
            name,
            images,
            charts,
            kinds,
            port,
            probe_path,
            notes: spec
                .notes
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        });
    }
    Ok(apps)
}

/// Which app each image repository and chart already belongs to.
#[derive(Default)]
struct Owners {
    images: HashMap<ImageRepo, String>,
    charts: HashMap<String, String>,
}

impl Owners {
    fn claim_image(&mut self, img: &Spanned<String>, app: &str) -> Result<ImageRepo, Problem> {
        let written = img.value.trim();
        if written.is_empty() || written.contains(char::is_whitespace) {
            return Err(Problem::at(
                img,
                "an image repository must be one non-empty word",
            ));
        }
        let has_tag = written
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        if written.contains('@') || has_tag {
            return Err(Problem::at(
                img,
                format!("write the image repository `{written}` without a tag or digest"),
            ));
        }
        if written.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(Problem::at(
                img,
                format!("image repository `{written}` must be lower-case"),
            ));
        }
        let Some(repo) = ImageRepo::parse(written) else {
            return Err(Problem::at(img, "an image repository must not be empty"));
        };
        if let Some(owner) = self.images.get(&repo) {
            return Err(Problem::at(
                img,
                format!("image repository `{repo}` is already listed for app `{owner}`"),
            ));
        }
        self.images.insert(repo.clone(), app.to_owned());
        Ok(repo)
    }

    fn claim_chart(&mut self, chart: &Spanned<String>, app: &str) -> Result<String, Problem> {
        let written = chart.value.trim();
        if written.is_empty() || written.contains([' ', '\t', '/', ':', '@']) {
            return Err(Problem::at(
                chart,
                format!("`{written}` is not a chart name (write the bare name, e.g. `grafana`)"),
            ));
        }
        let name = chart_name(written);
        if let Some(owner) = self.charts.get(&name) {
            return Err(Problem::at(
                chart,
                format!("chart `{name}` is already listed for app `{owner}`"),
            ));
        }
        self.charts.insert(name.clone(), app.to_owned());
        Ok(name)
    }
}

fn check_kind(k: &Spanned<AppKind>) -> Result<AppKind, Problem> {
    let AppKind { group, kind } = &k.value;
    if group.trim().is_empty() || kind.trim().is_empty() {
        return Err(Problem::at(
            k,
            "an app kind needs a non-empty `group` and `kind`",
        ));
    }
    if let Some((g, _version)) = group.split_once('/') {
        return Err(Problem::at(
            k,
            format!("`group` is the API group without a version (`{g}`)"),
        ));
    }
    Ok(k.value.clone())
}

fn check_probe_path(p: &Spanned<String>) -> Result<String, Problem> {
    if !p.value.starts_with('/') || p.value.contains(char::is_whitespace) {
        return Err(Problem::at(
            p,
            format!(
                "probe path `{}` must start with `/` and contain no spaces",
                p.value
            ),
        ));
    }
    Ok(p.value.clone())
}

/// The app an image runs: an exact registry and path first, then the same path on another
/// registry (a mirror), then a path that ends with a known one (a pull-through cache prefix).
pub(crate) fn find_by_image<'a>(
    apps: impl Iterator<Item = &'a App> + Clone,
    image: &str,
) -> Option<&'a App> {
    let repo = ImageRepo::parse(image)?;
    apps.clone()
        .find(|a| a.images.contains(&repo))
        .or_else(|| {
            apps.clone()
                .find(|a| a.images.iter().any(|i| i.path == repo.path))
        })
        .or_else(|| {
            apps.clone()
                .find(|a| a.images.iter().any(|i| i.is_path_suffix_of(&repo.path)))
        })
}

/// The app a chart installs.
pub(crate) fn find_by_chart<'a>(
    mut apps: impl Iterator<Item = &'a App>,
    chart: &str,
) -> Option<&'a App> {
    let name = chart_name(chart);
    apps.find(|a| a.charts.contains(&name))
}

/// The app an operator resource is: `api_version` is `group/version` (as in a manifest).
pub(crate) fn find_by_kind<'a>(
    mut apps: impl Iterator<Item = &'a App>,
    api_version: &str,
    kind: &str,
) -> Option<&'a App> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    apps.find(|a| a.kinds.iter().any(|k| k.group == group && k.kind == kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_forms() {
        let hub = ImageRepo::parse("nginx:1.27").unwrap();
        assert_eq!(hub.to_string(), "docker.io/library/nginx");
        assert_eq!(
            ImageRepo::parse("index.docker.io/library/nginx@sha256:abc").unwrap(),
            hub
        );
        let ha =
            ImageRepo::parse("ghcr.io/home-operations/home-assistant:2025.5.1@sha256:0f").unwrap();
        assert_eq!(ha.to_string(), "ghcr.io/home-operations/home-assistant");
        let local = ImageRepo::parse("localhost:5000/team/app:v1").unwrap();
        assert_eq!(local.to_string(), "localhost:5000/team/app");
        assert_eq!(ImageRepo::parse("  "), None);
        assert_eq!(ImageRepo::parse("ghcr.io/x/y:${TAG}").unwrap().path, "x/y");
    }

    #[test]
    fn charts() {
        assert_eq!(
            chart_name("oci://ghcr.io/grafana/helm-charts/grafana:8.0.0"),
            "grafana"
        );
        assert_eq!(chart_name("bitnami/Grafana"), "grafana");
        assert_eq!(chart_name("n8n"), "n8n");
    }
}
