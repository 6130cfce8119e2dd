//! What a path is, before its bytes are read, and whether a text is SOPS-encrypted.

use std::collections::HashSet;

use super::skip::SkipReason;

/// Template extensions: the file may parse as YAML but is not a manifest.
const TEMPLATE_EXTENSIONS: [&str; 7] =
    ["j2", "jinja", "jinja2", "tmpl", "tpl", "gotmpl", "template"];

/// Decides by name and place; `chart_dirs` are the folders that hold a `Chart.yaml`.
pub fn classify_path(path: &str, chart_dirs: &HashSet<&str>) -> Option<SkipReason> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some((_, ext)) = name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if TEMPLATE_EXTENSIONS.contains(&ext.as_str()) {
            return Some(SkipReason::Template { extension: ext });
        }
    }
    if !is_manifest_name(name) {
        return Some(SkipReason::NotYaml);
    }
    // A `templates/` folder directly under a chart folder, at any depth below it.
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for i in 0..parts.len() {
        if parts[i] == "templates" {
            let chart = parts[..i].join("/");
            if chart_dirs.contains(chart.as_str()) {
                return Some(SkipReason::HelmTemplate { chart });
            }
        }
    }
    None
}

/// `*.yaml`, `*.yml`, or a file named `Kustomization`.
pub fn is_manifest_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || name == "Kustomization"
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
    }

    #[test]
    fn sops_detection() {
        assert!(is_sops(
            "data:\n  k: ENC[AES256_GCM,data:abc,type:str]\nsops:\n    mac: x\n"
        ));
        assert!(!is_sops("sops:\n  enabled: true\n"));
    }
}
