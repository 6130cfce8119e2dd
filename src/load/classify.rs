//! What a path is, before its bytes are read, and whether a text is SOPS-encrypted.

use std::collections::HashSet;

use super::skip::SkipReason;

/// Template extensions: the file may parse as YAML but is not a manifest.
const TEMPLATE_EXTENSIONS: [&str; 7] =
    ["j2", "jinja", "jinja2", "tmpl", "tpl", "gotmpl", "template"];

/// Decides by name and place; `chart_dirs` are the folders that hold a `Chart.yaml`.
/// (Called for every file of a repo: it does not allocate unless it skips.)
pub fn classify_path(path: &str, chart_dirs: &HashSet<&str>) -> Option<SkipReason> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some((_, ext)) = name.rsplit_once('.')
        && TEMPLATE_EXTENSIONS
            .iter()
            .any(|t| t.eq_ignore_ascii_case(ext))
    {
        return Some(SkipReason::Template {
            extension: ext.to_ascii_lowercase(),
        });
    }
    if !is_manifest_name(name) {
        return Some(SkipReason::NotYaml);
    }
    // A `templates/` folder directly under a chart folder, at any depth below it.
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut start = 0;
    for part in dir.split('/') {
        if part == "templates" {
            let chart = if start == 0 { "" } else { &path[..start - 1] };
            if chart_dirs.contains(chart) {
                return Some(SkipReason::HelmTemplate {
                    chart: chart.to_owned(),
                });
            }
        }
        start += part.len() + 1;
    }
    None
}

/// `*.yaml`, `*.yml` (in any case), or a file named `Kustomization`.
pub fn is_manifest_name(name: &str) -> bool {
    let ends_with = |suffix: &str| {
        name.len() >= suffix.len()
            && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    ends_with(".yaml") || ends_with(".yml") || name == "Kustomization"
}

/// The folders (repository-relative, "" for the root) that contain a `Chart.yaml`.
pub fn chart_dirs<'a>(paths: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
    paths
        .filter_map(|p| match p.rsplit_once('/') {
            Some((dir, "Chart.yaml" | "Chart.yml")) => Some(dir),
            None if p == "Chart.yaml" || p == "Chart.yml" => Some(""),
            _ => None,
        })
        .collect()
}

/// SOPS writes a top-level `sops:` mapping and `ENC[AES256_GCM,...]` values.
pub fn is_sops(text: &str) -> bool {
    if text.contains("ENC[AES256_GCM,") {
        return true;
    }
    // Most files have no `sops:` at all: one substring search rules them out before any
    // line is looked at.
    text.contains("sops:")
        && text.lines().any(|l| l.trim_end() == "sops:")
        && (text.contains("\n    mac:")
            || text.contains("lastmodified:")
            || text.contains("encrypted_regex:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let charts: HashSet<&str> = ["charts/app"].into_iter().collect();
        assert_eq!(classify_path("a/b.yaml", &charts), None);
        assert_eq!(classify_path("a/Kustomization", &charts), None);
        assert_eq!(
            classify_path("README.md", &charts),
            Some(SkipReason::NotYaml)
        );
        assert_eq!(
            classify_path("x/values.yaml.j2", &charts),
            Some(SkipReason::Template {
                extension: "j2".into()
            })
        );
        assert_eq!(
            classify_path("charts/app/templates/deploy.yaml", &charts),
            Some(SkipReason::HelmTemplate {
                chart: "charts/app".into()
            })
        );
        assert_eq!(classify_path("other/templates/x.yaml", &charts), None);
        assert_eq!(classify_path("charts/app/values.yaml", &charts), None);
        assert_eq!(
            classify_path("x/A.TPL", &charts),
            Some(SkipReason::Template {
                extension: "tpl".into()
            })
        );
        assert_eq!(classify_path("x/A.YML", &charts), None);
        assert_eq!(
            classify_path("x/a.yamlx", &charts),
            Some(SkipReason::NotYaml)
        );
        let root: HashSet<&str> = [""].into_iter().collect();
        assert_eq!(
            classify_path("templates/x.yaml", &root),
            Some(SkipReason::HelmTemplate { chart: "".into() })
        );
        assert_eq!(
            classify_path("a/templates", &root),
            Some(SkipReason::NotYaml)
        );
    }

    #[test]
    fn sops_detection() {
        assert!(is_sops(
            "data:\n  k: ENC[AES256_GCM,data:abc,type:str]\nsops:\n    mac: x\n"
        ));
        assert!(!is_sops("sops:\n  enabled: true\n"));
    }
}
