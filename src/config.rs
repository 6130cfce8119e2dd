//! The repository configuration (`.github/ws-fix.yml` or `.ws-fix.yml`), schema version 1.
//!
//! The schema is documented key by key in `keys` (written into `docs/config.md`; a test keeps
//! the table, the parser and the page in step). Every key is
//! optional, a missing or empty file means the defaults, and anything the schema does not know
//! (a key, a rule id, a fix kind, a value of the wrong type) is an error that names the file,
//! line and column.

pub mod keys;
mod raw;

use std::collections::BTreeMap;
use std::path::Path;

use ignore::Match;
use ignore::gitignore::Gitignore;
use semver::Version;
use serde::Deserialize;

use crate::catalogue::located::{self, Problem};
use crate::catalogue::{App, FixKind, RuleId, Severity};

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the config may live, relative to the repository root, in the order they are named.
pub const CONFIG_PATHS: [&str; 2] = [".github/ws-fix.yml", ".ws-fix.yml"];

/// Why a repo config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid YAML or does not fit the schema.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file, relative to the repository root.
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column (Unicode code points).
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// Both config files exist; which one counts would be a guess.
    #[error(
        "both {first} and {second} exist; ws-fix reads only one, so merge them into one file and delete the other"
    )]
    BothPresent {
        /// The first path of [`CONFIG_PATHS`].
        first: String,
        /// The second path of [`CONFIG_PATHS`].
        second: String,
    },
    /// The file exists but could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file, relative to the repository root.
        file: String,
        /// The reason.
        #[source]
        source: std::io::Error,
    },
}

impl ConfigError {
    fn at(file: &str, problem: Problem) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_owned(),
            line: problem.pos.line,
            column: problem.pos.column,
            message: problem.message,
        }
    }
}

/// `rules.<rule id>`: switch a rule off or change its severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `severity` (default: the catalogue's, per cause).
    pub severity: Option<Severity>,
}

/// `fixes.<fix kind>`: switch a fix kind off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FixSettings {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
}

/// `fixes.prefer`: which fix to propose for `upstream-h2` when both would work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prefer {
    /// Set `appProtocol: kubernetes.io/ws` on the Service port.
    WsAppProtocol,
    /// Route through a `Backend` with ws/wss.
    Backend,
}

impl Prefer {
    /// The fix kind this preference names.
    pub const fn fix_kind(self) -> FixKind {
        match self {
            Prefer::WsAppProtocol => FixKind::WsAppProtocol,
            Prefer::Backend => FixKind::Backend,
        }
    }
}

/// `fixes`: per-kind switches and the two fix options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixesConfig {
    /// `fixes.<fix kind>` as written (kinds not written are absent).
    pub kinds: BTreeMap<FixKind, FixSettings>,
    /// `fixes.http-upgrade.explicit` (default false): also write the explicit
    /// `httpUpgrade: [{type: websocket}]` where the upgrade is already on by default.
    pub http_upgrade_explicit: bool,
    /// `fixes.prefer` (default: chosen by the deployed version and the app).
    pub prefer: Option<Prefer>,
}

/// `mode`: what the App does with findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Open one pull request per fix kind (and report).
    #[default]
    PullRequests,
    /// Only report (check runs, comments); open no pull requests.
    Report,
}

/// `commands.min-permission`: who may run `/ws-fix` commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// Write access and above.
    #[default]
    Write,
    /// Maintain access and above.
    Maintain,
    /// Admins only.
    Admin,
}

impl Permission {
    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::Write => "write",
            Permission::Maintain => "maintain",
            Permission::Admin => "admin",
        }
    }
}

/// `commands`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandsConfig {
    /// `commands.min-permission` (default write).
    pub min_permission: Permission,
}

/// `checks.new-finding-conclusion`: the check-run conclusion when a pull request adds a finding
/// at or above `fail-on`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conclusion {
    /// The check fails.
    #[default]
    Failure,
    /// The check is neutral (visible, not blocking).
    Neutral,
}

/// `checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksConfig {
    /// `checks.enabled` (default true).
    pub enabled: bool,
    /// `checks.new-finding-conclusion` (default failure).
    pub new_finding_conclusion: Conclusion,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        ChecksConfig {
            enabled: true,
            new_finding_conclusion: Conclusion::Failure,
        }
    }
}

/// The kind of resource a `websocket-routes` entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RouteKind {
    /// A Gateway API `HTTPRoute` (the default).
    #[serde(rename = "HTTPRoute")]
    HttpRoute,
    /// A Flux `HelmRelease`: every route in its values.
    HelmRelease,
}

impl RouteKind {
    /// The kind as written in manifests.
    pub const fn as_str(self) -> &'static str {
        match self {
            RouteKind::HttpRoute => "HTTPRoute",
            RouteKind::HelmRelease => "HelmRelease",
        }
    }
}

/// One `websocket-routes` entry: routes to treat as WebSocket routes even when no app of the
/// catalogue is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebSocketRoute {
    /// `{kind, namespace, name}`: a route resource (or every route of a HelmRelease).
    Resource {
        /// `kind` (default `HTTPRoute`).
        kind: RouteKind,
        /// `namespace`; absent means any namespace.
        namespace: Option<String>,
        /// `name`.
        name: String,
    },
    /// `{hostname}`: every route that serves this hostname (`*.example.com` is allowed).
    Hostname(String),
}

impl WebSocketRoute {
    /// True when this entry names the resource `kind`/`namespace`/`name`.
    pub fn matches_resource(&self, kind: &str, namespace: &str, name: &str) -> bool {
        match self {
            WebSocketRoute::Resource {
                kind: k,
                namespace: ns,
                name: n,
            } => k.as_str() == kind && n == name && ns.as_deref().is_none_or(|ns| ns == namespace),
            WebSocketRoute::Hostname(_) => false,
        }
    }

    /// True when this entry names `hostname` (case-insensitive; a `*.` entry matches exactly one
    /// more label, as in Gateway API, and a route's own `*.` hostname matches the same entry).
    pub fn matches_hostname(&self, hostname: &str) -> bool {
        let WebSocketRoute::Hostname(want) = self else {
            return false;
        };
        let host = hostname.trim_end_matches('.').to_ascii_lowercase();
        if *want == host {
            return true;
        }
        match want.strip_prefix("*.") {
            Some(suffix) => host
                .strip_suffix(suffix)
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
            None => false,
        }
    }
}

/// `ignore-paths`: gitignore-style patterns of files ws-fix must not read.
#[derive(Debug, Clone)]
pub struct IgnorePaths {
    patterns: Vec<String>,
    matcher: Gitignore,
}

impl IgnorePaths {
    fn new(patterns: Vec<String>, matcher: Gitignore) -> IgnorePaths {
        IgnorePaths { patterns, matcher }
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when the repo-relative `path` (or one of its parent directories) is ignored.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        let rel = path.trim_start_matches("./").trim_start_matches('/');
        if rel.is_empty() {
            return false;
        }
        matches!(
            self.matcher.matched_path_or_any_parents(rel, is_dir),
            Match::Ignore(_)
        )
    }
}

impl Default for IgnorePaths {
    fn default() -> Self {
        IgnorePaths::new(Vec::new(), Gitignore::empty())
    }
}

impl PartialEq for IgnorePaths {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for IgnorePaths {}

/// The repository's config. [`RepoConfig::default`] is what a repo without a config gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoConfig {
    /// `rules.<rule id>` as written (rules not written are absent).
    pub rules: BTreeMap<RuleId, RuleSettings>,
    /// `fail-on` (default warning): the lowest severity that fails a check run.
    pub fail_on: Severity,
    /// `apps`: the repo's own WebSocket apps.
    pub apps: Vec<App>,
    /// `websocket-routes`.
    pub websocket_routes: Vec<WebSocketRoute>,
    /// `ignore-paths`.
    pub ignore_paths: IgnorePaths,
    /// `envoy-gateway.version`: the deployed Envoy Gateway release; replaces what the repo shows.
    pub envoy_gateway_version: Option<Version>,
    /// `fixes`.
    pub fixes: FixesConfig,
    /// `mode` (default pull-requests).
    pub mode: Mode,
    /// `paused` (default false): the App does nothing for this repo until unpaused.
    pub paused: bool,
    /// `commands`.
    pub commands: CommandsConfig,
    /// `checks`.
    pub checks: ChecksConfig,
}

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            rules: BTreeMap::new(),
            fail_on: Severity::Warning,
            apps: Vec::new(),
            websocket_routes: Vec::new(),
            ignore_paths: IgnorePaths::default(),
            envoy_gateway_version: None,
            fixes: FixesConfig::default(),
            mode: Mode::PullRequests,
            paused: false,
            commands: CommandsConfig::default(),
            checks: ChecksConfig::default(),
        }
    }
}

impl RepoConfig {
    /// Parses a config. `file` is only used in error messages (e.g. `.github/ws-fix.yml`).
    /// An empty file, or one with only comments, gives the defaults.
    pub fn parse(file: &str, text: &str) -> Result<RepoConfig, ConfigError> {
        let raw: Option<raw::RawConfig> = serde_saphyr::from_str(text)
            .map_err(|e| ConfigError::at(file, located::describe(&e)))?;
        match raw {
            None => Ok(RepoConfig::default()),
            Some(raw) => raw.validate().map_err(|p| ConfigError::at(file, p)),
        }
    }

    /// Finds and parses the config of the repository checked out at `root`. Returns the
    /// repo-relative path of the file it read, if any.
    pub fn discover(root: &Path) -> Result<(Option<String>, RepoConfig), ConfigError> {
        discover_impl(|rel| match std::fs::read_to_string(root.join(rel)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Io {
                file: rel.to_owned(),
                source,
            }),
        })
    }

    /// Like [`RepoConfig::discover`], reading repo-relative paths with `read` (which returns
    /// `None` for a file that does not exist), e.g. from a GitHub tree.
    pub fn discover_with(
        read: impl Fn(&str) -> Option<String>,
    ) -> Result<(Option<String>, RepoConfig), ConfigError> {
        discover_impl(|rel| Ok(read(rel)))
    }

    /// Like [`RepoConfig::discover_with`], for a reader that can fail on a file that exists
    /// (too large, not UTF-8, unreadable): that is an error, never "no config" (which would
    /// quietly drop `paused: true`).
    pub fn discover_with_errors(
        read: impl Fn(&str) -> Result<Option<String>, String>,
    ) -> Result<(Option<String>, RepoConfig), ConfigError> {
        discover_impl(|rel| {
            read(rel).map_err(|reason| ConfigError::Io {
                file: rel.to_owned(),
                source: std::io::Error::other(reason),
            })
        })
    }

    /// Whether a rule runs (default true).
    pub fn rule_enabled(&self, rule: RuleId) -> bool {
        self.rules
            .get(&rule)
            .and_then(|r| r.enabled)
            .unwrap_or(true)
    }

    /// The severity of a finding: the config's override, else `default` (the catalogue's).
    pub fn severity_for(&self, rule: RuleId, default: Severity) -> Severity {
        self.rules
            .get(&rule)
            .and_then(|r| r.severity)
            .unwrap_or(default)
    }

    /// Whether a fix kind may be proposed (default true).
    pub fn fix_enabled(&self, kind: FixKind) -> bool {
        self.fixes
            .kinds
            .get(&kind)
            .and_then(|f| f.enabled)
            .unwrap_or(true)
    }

    /// Whether the repo-relative `path` is excluded by `ignore-paths`.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        self.ignore_paths.is_ignored(path, is_dir)
    }
}

fn discover_impl(
    read: impl Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<(Option<String>, RepoConfig), ConfigError> {
    let [first, second] = CONFIG_PATHS;
    let found: Vec<(&str, String)> = [first, second]
        .into_iter()
        .filter_map(|p| read(p).transpose().map(|r| r.map(|t| (p, t))))
        .collect::<Result<_, _>>()?;
    match found.as_slice() {
        [] => Ok((None, RepoConfig::default())),
        [(path, text)] => Ok((Some((*path).to_owned()), RepoConfig::parse(path, text)?)),
        _ => Err(ConfigError::BothPresent {
            first: first.to_owned(),
            second: second.to_owned(),
        }),
    }
}
