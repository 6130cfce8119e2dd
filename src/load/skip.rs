//! Why a file was not parsed.

use std::fmt;

/// The reason a file of the tree was not read as manifests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// Not `*.yaml` / `*.yml` (nor a file named `Kustomization`).
    NotYaml,
    /// A Jinja or Go template (`*.j2`, `*.tmpl`, `*.gotmpl`, ...): YAML-like but not a manifest.
    Template {
        extension: String,
    },
    /// A file under a Helm chart's `templates/` folder.
    HelmTemplate {
        chart: String,
    },
    /// SOPS-encrypted: never parsed for values, never edited.
    Sops,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// Contains NUL bytes.
    Binary,
    NotUtf8 {
        offset: u64,
    },
    InvalidYaml {
        line: u32,
        column: u32,
        message: String,
    },
    /// Valid YAML beyond a hard bound (alias expansion, nesting, node count).
    OverLimit {
        line: u32,
        column: u32,
        message: String,
    },
    Unreadable {
        message: String,
    },
    /// A symbolic link (never followed).
    Symlink {
        target: String,
        outside: bool,
    },
    NotRegular,
    /// Excluded by `.gitignore` / `.sourceignore`.
    Ignored {
        by: String,
        dir: bool,
    },
    /// Excluded by the repository config's `ignore-paths`.
    ConfigIgnored,
}

impl SkipReason {
    /// A short stable key, for counts.
    pub fn key(&self) -> &'static str {
        match self {
            SkipReason::NotYaml => "not-yaml",
            SkipReason::Template { .. } => "template",
            SkipReason::HelmTemplate { .. } => "helm-template",
            SkipReason::Sops => "sops",
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::Binary => "binary",
            SkipReason::NotUtf8 { .. } => "not-utf8",
            SkipReason::InvalidYaml { .. } => "invalid-yaml",
            SkipReason::OverLimit { .. } => "over-limit",
            SkipReason::Unreadable { .. } => "unreadable",
            SkipReason::Symlink { .. } => "symlink",
            SkipReason::NotRegular => "not-regular",
            SkipReason::Ignored { .. } => "ignored",
            SkipReason::ConfigIgnored => "config-ignored",
        }
    }

    /// True for what deserves the user's attention (broken or refused files), as opposed to
    /// files that are simply not manifests.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            SkipReason::TooLarge { .. }
                | SkipReason::Binary
                | SkipReason::NotUtf8 { .. }
                | SkipReason::InvalidYaml { .. }
                | SkipReason::OverLimit { .. }
                | SkipReason::Unreadable { .. }
                | SkipReason::Symlink { outside: true, .. }
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotYaml => write!(f, "not a YAML file"),
            SkipReason::Template { extension } => {
                write!(f, "a .{extension} template, not a manifest")
            }
            SkipReason::HelmTemplate { chart } => {
                write!(f, "a Helm template of the chart in {chart}/")
            }
            SkipReason::Sops => write!(f, "SOPS-encrypted (never read or edited)"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "too large: {size} bytes, the limit is {limit}")
            }
            SkipReason::Binary => write!(f, "binary content (NUL bytes)"),
            SkipReason::NotUtf8 { offset } => {
                write!(f, "not UTF-8 (invalid byte at offset {offset})")
            }
            SkipReason::InvalidYaml {
                line,
                column,
                message,
            } => write!(f, "invalid YAML at {line}:{column}: {message}"),
            SkipReason::OverLimit {
                line,
                column,
                message,
            } => write!(f, "refused at {line}:{column}: {message}"),
            SkipReason::Unreadable { message } => write!(f, "unreadable: {message}"),
            SkipReason::Symlink {
                target,
                outside: true,
            } => write!(f, "symlink to {target}, outside the tree (not followed)"),
            SkipReason::Symlink { target, .. } => {
                write!(
                    f,
                    "symlink to {target} (not followed; its target is read at its own path)"
                )
            }
            SkipReason::NotRegular => write!(f, "not a regular file"),
            SkipReason::Ignored { by, dir: true } => write!(f, "directory ignored by {by}"),
            SkipReason::Ignored { by, .. } => write!(f, "ignored by {by}"),
            SkipReason::ConfigIgnored => write!(f, "matched by the config's ignore-paths"),
        }
    }
}
