//! Shared by the fixer's integration tests.
#![allow(dead_code)]

pub mod deliveries;
pub mod fake_github;
pub mod homelab;
pub mod postgres;

use std::path::Path;

use serde_json::Value;

/// Validates every document of `text` whose kind and version have a schema in
/// `../shared/schemas/` (Gateway API kinds: the experimental channel, which Envoy Gateway's
/// Helm chart installs); returns `(kind, errors)` for each document that fails, and the number
/// of documents checked.
pub fn validate_against_schemas(text: &str) -> (usize, Vec<(String, Vec<String>)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("schemas/INDEX.json")).unwrap())
            .unwrap();
    let docs = ws_fix::yaml::parse_stream(text, &ws_fix::yaml::Limits::default()).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for d in docs {
        let Some(node) = d.root else { continue };
        let doc = node.to_json();
        let (Some(kind), Some(api)) = (doc["kind"].as_str(), doc["apiVersion"].as_str()) else {
            continue;
        };
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let entries: Vec<&Value> = index["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == kind && e["group"] == group && e["version"] == version)
            .collect();
        let entry = entries
            .iter()
            .find(|e| e["channel"] == "experimental")
            .or_else(|| entries.first());
        let Some(entry) = entry else { continue };
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(entry["schema_file"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        checked += 1;
        if !errors.is_empty() {
            failures.push((kind.to_owned(), errors));
        }
    }
    (checked, failures)
}

/// Copies a directory tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let ty = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if ty.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if ty.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
