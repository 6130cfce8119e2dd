//! The rule and app catalogue (`rules/`), compiled in and validated at start.
//!
//! Three hand-maintained files make the catalogue:
//! - `rules/rules.yaml`: the nine rules and the five fix kinds ([`Rule`], [`FixKindInfo`]);
//! - `rules/apps.yaml`: the WebSocket apps ([`App`]);
//! - `rules/versions.yaml`: the Envoy Gateway releases, the version [`Gate`]s and thresholds.
//!
//! [`Catalogue::embedded`] reads the copies compiled into the binary; [`Catalogue::load_dir`]
//! reads another copy (the CLI's `--rules DIR`). Either way every file is checked completely,
//! and every error names the file, line and column.

mod apps;
mod ids;
pub(crate) mod located;
mod rules;
mod versions;

use std::path::Path;

use semver::{Version, VersionReq};

pub use apps::{App, AppKind, ImageRepo, chart_name};
pub use ids::{FixKind, RuleId, Severity, UnknownId};
pub use rules::{Cause, CauseSeverity, FixKindInfo, Rule};
pub use versions::{Gate, GateInfo, Thresholds, parse_release};

pub(crate) use apps::{AppRules, AppSpec, validate_apps};
pub(crate) use ids::closest as closest_id;

use located::Problem;

/// The file names inside a rules directory.
pub const RULES_FILE: &str = "rules.yaml";
/// See [`RULES_FILE`].
pub const APPS_FILE: &str = "apps.yaml";
/// See [`RULES_FILE`].
pub const VERSIONS_FILE: &str = "versions.yaml";

const EMBEDDED_RULES: &str = include_str!("../../rules/rules.yaml");
const EMBEDDED_APPS: &str = include_str!("../../rules/apps.yaml");
const EMBEDDED_VERSIONS: &str = include_str!("../../rules/versions.yaml");

/// Why a catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A file is not valid YAML, does not fit the schema, or breaks a rule of the catalogue.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file as named to the user (`rules/apps.yaml` for the compiled-in copy).
        file: String,
        /// 1-based line.
        line: u64,
        /// 1-based column (Unicode code points).
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The reason.
        #[source]
        source: std::io::Error,
    },
}

impl CatalogueError {
    fn at(file: &str, problem: Problem) -> CatalogueError {
        CatalogueError::Invalid {
            file: file.to_owned(),
            line: problem.pos.line,
            column: problem.pos.column,
            message: problem.message,
        }
    }
}

/// One file of a rules directory: how to name it and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The name used in error messages.
    pub file: &'a str,
    /// The YAML text.
    pub text: &'a str,
}

/// The validated catalogue. Rules and fix kinds are complete (every id of [`RuleId`] and
/// [`FixKind`] is present), and so are the gates.
#[derive(Debug, Clone)]
pub struct Catalogue {
    rules: Vec<Rule>,
    fix_kinds: Vec<FixKindInfo>,
    apps: Vec<App>,
    repo_apps: Vec<App>,
    releases: Vec<Version>,
    gates: Vec<GateInfo>,
    thresholds: Thresholds,
}

fn parse<T: serde::de::DeserializeOwned>(src: Source<'_>) -> Result<T, CatalogueError> {
    serde_saphyr::from_str(src.text)
        .map_err(|e| CatalogueError::at(src.file, located::describe(&e)))
}

impl Catalogue {
    /// The catalogue compiled into the binary (named `rules/<file>` in errors).
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_sources(
            Source {
                file: "rules/rules.yaml",
                text: EMBEDDED_RULES,
            },
            Source {
                file: "rules/apps.yaml",
                text: EMBEDDED_APPS,
            },
            Source {
                file: "rules/versions.yaml",
                text: EMBEDDED_VERSIONS,
            },
        )
    }

    /// Reads `rules.yaml`, `apps.yaml` and `versions.yaml` from `dir` (the CLI's `--rules DIR`).
    pub fn load_dir(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let read = |name: &str| -> Result<(String, String), CatalogueError> {
            let path = dir.join(name);
            let file = path.display().to_string();
            std::fs::read_to_string(&path)
                .map(|text| (file.clone(), text))
                .map_err(|source| CatalogueError::Io { file, source })
        };
        let (rules_file, rules_text) = read(RULES_FILE)?;
        let (apps_file, apps_text) = read(APPS_FILE)?;
        let (versions_file, versions_text) = read(VERSIONS_FILE)?;
        Catalogue::from_sources(
            Source {
                file: &rules_file,
                text: &rules_text,
            },
            Source {
                file: &apps_file,
                text: &apps_text,
            },
            Source {
                file: &versions_file,
                text: &versions_text,
            },
        )
    }

    /// Builds a catalogue from the three texts.
    pub fn from_sources(
        rules: Source<'_>,
        apps: Source<'_>,
        versions: Source<'_>,
    ) -> Result<Catalogue, CatalogueError> {
        let rules_file: rules::RulesFile = parse(rules)?;
        let (rule_list, fix_kinds) = rules_file
            .validate()
            .map_err(|p| CatalogueError::at(rules.file, p))?;

        let apps_file: apps::AppsFile = parse(apps)?;
        let apps_pos = located::Pos::of_spanned(&apps_file.apps);
        let app_list = validate_apps(apps_file.apps.value, AppRules::Catalogue)
            .map_err(|p| CatalogueError::at(apps.file, p))?;
        if app_list.is_empty() {
            return Err(CatalogueError::at(
                apps.file,
                Problem::at_pos(apps_pos, "list at least one app"),
            ));
        }

        let versions_file: versions::VersionsFile = parse(versions)?;
        let v = versions_file
            .validate()
            .map_err(|p| CatalogueError::at(versions.file, p))?;

        Ok(Catalogue {
            rules: rule_list,
            fix_kinds,
            apps: app_list,
            repo_apps: Vec::new(),
            releases: v.releases,
            gates: v.gates,
            thresholds: v.thresholds,
        })
    }

    /// Adds the repo config's own apps. An app with the id of a catalogue app replaces it;
    /// lookups try the repo's apps first.
    pub fn with_repo_apps(mut self, apps: &[App]) -> Catalogue {
        self.apps.retain(|a| !apps.iter().any(|r| r.id == a.id));
        self.repo_apps = apps.to_vec();
        self
    }

    /// Every rule, in [`RuleId::ALL`] order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// One rule (always present).
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id as usize]
    }

    /// The catalogue's severity for a finding of `id` with `cause` (before the repo config).
    pub fn severity(&self, id: RuleId, cause: Option<Cause>) -> Severity {
        self.rule(id).severity_for(cause)
    }

    /// Every fix kind, in [`FixKind::ALL`] order.
    pub fn fix_kinds(&self) -> &[FixKindInfo] {
        &self.fix_kinds
    }

    /// One fix kind (always present).
    pub fn fix_kind(&self, kind: FixKind) -> &FixKindInfo {
        &self.fix_kinds[kind as usize]
    }

    /// Every app: the repo config's first, then the catalogue's.
    pub fn apps(&self) -> impl Iterator<Item = &App> + Clone {
        self.repo_apps.iter().chain(self.apps.iter())
    }

    /// The app with this id.
    pub fn app(&self, id: &str) -> Option<&App> {
        self.apps().find(|a| a.id == id)
    }

    /// The app an image runs. Tags and digests are ignored, Docker Hub forms are equal
    /// (`homeassistant/home-assistant` = `docker.io/homeassistant/home-assistant`), and a mirror
    /// on another registry that keeps the repository path matches too.
    pub fn app_for_image(&self, image: &str) -> Option<&App> {
        apps::find_by_image(self.apps(), image)
    }

    /// The app a Helm chart installs (`grafana`, `oci://.../grafana`, `grafana/grafana`).
    pub fn app_for_chart(&self, chart: &str) -> Option<&App> {
        apps::find_by_chart(self.apps(), chart)
    }

    /// The app an operator resource is, by its `apiVersion` and `kind`.
    pub fn app_for_kind(&self, api_version: &str, kind: &str) -> Option<&App> {
        apps::find_by_kind(self.apps(), api_version, kind)
    }

    /// Every known Envoy Gateway release, ascending.
    pub fn releases(&self) -> &[Version] {
        &self.releases
    }

    /// The newest known release: what findings assume when the deployed version is unknown.
    pub fn newest_release(&self) -> &Version {
        // `validate` guarantees at least one release.
        &self.releases[self.releases.len() - 1]
    }

    /// The newest known release that `req` allows (`^1.8` → the newest 1.x; `~1.7.0` → the newest 1.7.x).
    pub fn resolve_range(&self, req: &VersionReq) -> Option<Version> {
        self.releases.iter().rev().find(|v| req.matches(v)).cloned()
    }

    /// True when `version` has the behaviour of `gate`.
    pub fn gate_holds(&self, gate: Gate, version: &Version) -> bool {
        self.gate(gate).holds_for(version)
    }

    /// A gate's data (always present).
    pub fn gate(&self, gate: Gate) -> &GateInfo {
        &self.gates[gate as usize]
    }

    /// A gate by its id in `rules/versions.yaml`; an unknown name is an error.
    pub fn gate_by_name(&self, name: &str) -> Result<&GateInfo, UnknownId> {
        name.parse::<Gate>().map(|g| self.gate(g))
    }

    /// The numbers the rules use.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}
