//! The YAML shape of the repo config and its checks; `RawConfig::validate` makes a `RepoConfig`.

use std::collections::BTreeMap;
use std::fmt;

use ignore::gitignore::GitignoreBuilder;
use semver::Version;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::{
    ChecksConfig, CommandsConfig, Conclusion, FixSettings, FixesConfig, IgnorePaths, Mode,
    Permission, Prefer, RepoConfig, RouteKind, RuleSettings, SCHEMA_VERSION, WebSocketRoute,
};
use crate::catalogue::located::Problem;
use crate::catalogue::{
    AppRules, AppSpec, FixKind, RuleId, Severity, closest_id, parse_release, validate_apps,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawConfig {
    version: Option<Spanned<u32>>,
    rules: Option<BTreeMap<RuleId, Option<RuleSettings>>>,
    fail_on: Option<Severity>,
    apps: Option<Vec<AppSpec>>,
    websocket_routes: Option<Vec<Spanned<RawWebSocketRoute>>>,
    ignore_paths: Option<Spanned<Vec<Spanned<String>>>>,
    envoy_gateway: Option<RawEnvoyGateway>,
    fixes: Option<RawFixes>,
    mode: Option<Mode>,
    paused: Option<bool>,
    commands: Option<RawCommands>,
    checks: Option<RawChecks>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWebSocketRoute {
    kind: Option<RouteKind>,
    namespace: Option<String>,
    name: Option<Spanned<String>>,
    hostname: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvoyGateway {
    version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCommands {
    min_permission: Option<Permission>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawChecks {
    enabled: Option<bool>,
    new_finding_conclusion: Option<Conclusion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixToggle {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpUpgradeFix {
    enabled: Option<bool>,
    explicit: Option<bool>,
}

/// `fixes` mixes fix-kind keys with `prefer`, so it is read key by key.
#[derive(Debug, Default)]
struct RawFixes {
    kinds: BTreeMap<FixKind, FixSettings>,
    http_upgrade_explicit: Option<bool>,
    prefer: Option<Prefer>,
}

/// A key of `fixes`: `prefer` or a fix kind. An unknown key fails here, so the error carries
/// the key's position.
enum FixesKey {
    Prefer,
    Kind(FixKind),
}

impl<'de> Deserialize<'de> for FixesKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s == "prefer" {
            return Ok(FixesKey::Prefer);
        }
        s.parse().map(FixesKey::Kind).map_err(|_| {
            let mut known: Vec<&str> = FixKind::NAMES.to_vec();
            known.push("prefer");
            let hint = match closest_id(&s, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("expected a fix kind or `prefer`: {}", known.join(", ")),
            };
            de::Error::custom(format!("unknown fix kind `{s}` ({hint})"))
        })
    }
}

impl<'de> Deserialize<'de> for RawFixes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FixesVisitor;

        impl<'de> Visitor<'de> for FixesVisitor {
            type Value = RawFixes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of fix kinds and `prefer`")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFixes, A::Error> {
                let mut out = RawFixes::default();
                while let Some(key) = map.next_key::<FixesKey>()? {
                    match key {
                        FixesKey::Prefer => out.prefer = map.next_value()?,
                        FixesKey::Kind(FixKind::HttpUpgrade) => {
                            let v: Option<RawHttpUpgradeFix> = map.next_value()?;
                            let v = v.unwrap_or_default();
                            out.http_upgrade_explicit = v.explicit;
                            let settings = FixSettings { enabled: v.enabled };
                            out.kinds.insert(FixKind::HttpUpgrade, settings);
                        }
                        FixesKey::Kind(kind) => {
                            let v: Option<RawFixToggle> = map.next_value()?;
                            let settings = FixSettings {
                                enabled: v.unwrap_or_default().enabled,
                            };
                            out.kinds.insert(kind, settings);
                        }
                    }
                }
                Ok(out)
            }
        }

        deserializer.deserialize_map(FixesVisitor)
    }
}

impl RawConfig {
    pub(super) fn validate(self) -> Result<RepoConfig, Problem> {
        if let Some(v) = &self.version
            && v.value != SCHEMA_VERSION
        {
            return Err(Problem::at(
                v,
                format!(
                    "unsupported config version {} (this ws-fix reads version {SCHEMA_VERSION})",
                    v.value
                ),
            ));
        }
        let defaults = RepoConfig::default();
        let apps = match self.apps {
            Some(specs) => validate_apps(specs, AppRules::RepoConfig)?,
            None => Vec::new(),
        };
        let websocket_routes = self
            .websocket_routes
            .unwrap_or_default()
            .into_iter()
            .map(websocket_route)
            .collect::<Result<_, _>>()?;
        let ignore_paths = match self.ignore_paths {
            Some(list) => ignore_paths(list)?,
            None => IgnorePaths::default(),
        };
        let envoy_gateway_version = match self.envoy_gateway.and_then(|e| e.version) {
            Some(v) => Some(pinned_version(&v)?),
            None => None,
        };
        let fixes = self.fixes.unwrap_or_default();
        let commands = self.commands.map_or(defaults.commands, |c| CommandsConfig {
            min_permission: c.min_permission.unwrap_or_default(),
        });
        let checks = self.checks.map_or(defaults.checks, |c| ChecksConfig {
            enabled: c.enabled.unwrap_or(defaults.checks.enabled),
            new_finding_conclusion: c.new_finding_conclusion.unwrap_or_default(),
        });
        let rules = self
            .rules
            .unwrap_or_default()
            .into_iter()
            .map(|(id, s)| (id, s.unwrap_or_default()))
            .collect();

        Ok(RepoConfig {
            rules,
            fail_on: self.fail_on.unwrap_or(defaults.fail_on),
            apps,
            websocket_routes,
            ignore_paths,
            envoy_gateway_version,
            fixes: FixesConfig {
                kinds: fixes.kinds,
                http_upgrade_explicit: fixes.http_upgrade_explicit.unwrap_or(false),
                prefer: fixes.prefer,
            },
            mode: self.mode.unwrap_or(defaults.mode),
            paused: self.paused.unwrap_or(defaults.paused),
            commands,
            checks,
        })
    }
}

fn websocket_route(entry: Spanned<RawWebSocketRoute>) -> Result<WebSocketRoute, Problem> {
    let r = &entry.value;
    match (&r.name, &r.hostname) {
        (Some(name), None) => {
            let n = name.value.trim();
            if n.is_empty() {
                return Err(Problem::at(name, "`name` must not be empty"));
            }
            Ok(WebSocketRoute::Resource {
                kind: r.kind.unwrap_or(RouteKind::HttpRoute),
                namespace: r.namespace.clone().filter(|ns| !ns.trim().is_empty()),
                name: n.to_owned(),
            })
        }
        (None, Some(host)) => {
            if r.kind.is_some() || r.namespace.is_some() {
                return Err(Problem::at(
                    &entry,
                    "a `hostname` entry takes no `kind` or `namespace`",
                ));
            }
            let h = host.value.trim().trim_end_matches('.').to_ascii_lowercase();
            if !is_hostname(&h) {
                return Err(Problem::at(
                    host,
                    format!("`{h}` is not a hostname (e.g. `ha.example.com` or `*.example.com`)"),
                ));
            }
            Ok(WebSocketRoute::Hostname(h))
        }
        _ => Err(Problem::at(
            &entry,
            "a websocket-routes entry needs either a `name` (with optional `kind` and `namespace`) or a `hostname`",
        )),
    }
}

fn is_hostname(s: &str) -> bool {
    let body = s.strip_prefix("*.").unwrap_or(s);
    !body.is_empty()
        && body.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

fn ignore_paths(list: Spanned<Vec<Spanned<String>>>) -> Result<IgnorePaths, Problem> {
    let mut patterns = Vec::new();
    let mut builder = GitignoreBuilder::new(".");
    for p in &list.value {
        let pattern = p.value.trim().to_owned();
        if pattern.is_empty() || pattern.starts_with('#') {
            return Err(Problem::at(
                p,
                "an ignore pattern must not be empty or a comment",
            ));
        }
        builder
            .add_line(None, &pattern)
            .map_err(|e| Problem::at(p, format!("bad ignore pattern `{pattern}`: {e}")))?;
        patterns.push(pattern);
    }
    let matcher = builder
        .build()
        .map_err(|e| Problem::at(&list, format!("bad ignore-paths: {e}")))?;
    Ok(IgnorePaths::new(patterns, matcher))
}

fn pinned_version(v: &Spanned<String>) -> Result<Version, Problem> {
    parse_release(&v.value).map_err(|e| {
        Problem::at(
            v,
            format!(
                "`{}` is not a release version such as 1.9.0 or v1.9.0: {e}",
                v.value
            ),
        )
    })
}
