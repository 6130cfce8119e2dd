//! Every manifest under `deploy/` is checked: Gateway API and Envoy Gateway kinds against the
//! real CRD schemas, core kinds by deserialising into the `k8s-openapi` types and requiring the
//! typed value to serialise back to the same document (a misspelt or unknown field fails), the
//! `ServiceMonitor` by hand, the kustomizations by resolving them; and `ws-fix scan deploy/`
//! reports nothing at warning or above.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::{apps, core, policy};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// The YAML files under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn documents(text: &str) -> Vec<Value> {
    ws_fix::yaml::parse_stream(text, &ws_fix::yaml::Limits::default())
        .unwrap()
        .into_iter()
        .filter_map(|d| d.root.map(|node| node.to_json()))
        .collect()
}

/// The places where `a` and `b` differ, as JSON pointers.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (u, v) = (x.get(key), y.get(key));
                match (u, v) {
                    (Some(u), Some(v)) => differences(u, v, &format!("{at}/{key}"), out),
                    _ => out.push(format!("{at}/{key}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{at}/{i}"), out);
            }
        }
        _ if a != b => out.push(at.to_owned()),
        _ => {}
    }
}

/// `doc` read as a `T` and written back must be `doc` again: `k8s-openapi` ignores unknown
/// fields, so a field it drops (misspelt, misplaced, unknown) is a difference.
fn typed<T: DeserializeOwned + Serialize>(doc: &Value) -> Result<(), String> {
    let value: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&value).unwrap();
    let mut diff = Vec::new();
    differences(doc, &back, "", &mut diff);
    if diff.is_empty() {
        Ok(())
    } else {
        Err(format!("not read by k8s-openapi: {}", diff.join(", ")))
    }
}

/// The core kinds ws-fix's manifests use; `None` for any other kind.
fn core_kind(api: &str, kind: &str, doc: &Value) -> Option<Result<(), String>> {
    Some(match (api, kind) {
        ("v1", "Namespace") => typed::<core::v1::Namespace>(doc),
        ("v1", "Service") => typed::<core::v1::Service>(doc),
        ("v1", "PersistentVolumeClaim") => typed::<core::v1::PersistentVolumeClaim>(doc),
        ("v1", "Secret") => typed::<core::v1::Secret>(doc),
        ("v1", "ConfigMap") => typed::<core::v1::ConfigMap>(doc),
        ("apps/v1", "Deployment") => typed::<apps::v1::Deployment>(doc),
        ("policy/v1", "PodDisruptionBudget") => typed::<policy::v1::PodDisruptionBudget>(doc),
        _ => return None,
    })
}

/// No published schema for the Prometheus Operator's CRD here: its required fields and the
/// endpoint keys ws-fix uses, with `/metrics` on a named port.
fn service_monitor(doc: &Value) -> Result<(), String> {
    let spec = &doc["spec"];
    if !doc["metadata"]["name"].is_string() {
        return Err("metadata.name is missing".into());
    }
    if !spec["selector"]["matchLabels"].is_object() {
        return Err("spec.selector.matchLabels is missing".into());
    }
    let endpoints = spec["endpoints"].as_array().filter(|e| !e.is_empty());
    let endpoints = endpoints.ok_or("spec.endpoints is empty")?;
    const KNOWN: [&str; 5] = ["port", "path", "interval", "scrapeTimeout", "scheme"];
    for endpoint in endpoints {
        let keys = endpoint.as_object().ok_or("an endpoint is not a map")?;
        if let Some(unknown) = keys.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("unknown endpoint field {unknown}"));
        }
        if !endpoint["port"].is_string() || endpoint["path"] != "/metrics" {
            return Err("an endpoint needs a named port and path /metrics".into());
        }
    }
    Ok(())
}

/// Every `resources:` entry exists (a folder with a `kustomization.yaml`, or a file), and every
/// other manifest beside the kustomization is listed (none left out of the deployment).
fn kustomization(dir: &Path, doc: &Value) -> Result<(), String> {
    let resources: Vec<&str> = doc["resources"]
        .as_array()
        .ok_or("no resources")?
        .iter()
        .map(|r| r.as_str().ok_or("a resource is not a string"))
        .collect::<Result<_, _>>()?;
    for resource in &resources {
        let path = dir.join(resource);
        if !(path.is_file() || path.join("kustomization.yaml").is_file()) {
            return Err(format!("resource {resource} does not exist"));
        }
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") && name != "kustomization.yaml" && !resources.contains(&&*name) {
            return Err(format!("{name} is not listed in resources"));
        }
    }
    Ok(())
}

/// The check for one document; Gateway API and Envoy Gateway kinds are checked per file.
fn check(file: &Path, doc: &Value) -> Result<(), String> {
    let api = doc["apiVersion"].as_str().unwrap_or_default();
    let kind = doc["kind"].as_str().unwrap_or_default();
    if let Some(result) = core_kind(api, kind, doc) {
        return result;
    }
    match (api, kind) {
        ("monitoring.coreos.com/v1", "ServiceMonitor") => service_monitor(doc),
        ("kustomize.config.k8s.io/v1beta1", "Kustomization") => {
            kustomization(file.parent().unwrap(), doc)
        }
        _ => Err(format!("no check for {api} {kind}")),
    }
}

fn is_gateway_kind(doc: &Value) -> bool {
    let api = doc["apiVersion"].as_str().unwrap_or_default();
    api.starts_with("gateway.networking.k8s.io/") || api.starts_with("gateway.envoyproxy.io/")
}

#[test]
fn every_manifest_under_deploy_is_valid() {
    let files = yaml_files(&deploy_dir());
    let mut failures = Vec::new();
    let mut kinds = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let docs = documents(&text);
        let gateway_docs = docs.iter().filter(|d| is_gateway_kind(d)).count();
        let (checked, invalid) = common::validate_against_schemas(&text);
        if checked != gateway_docs {
            failures.push(format!(
                "{}: {gateway_docs} Gateway API documents, {checked} with a schema",
                file.display()
            ));
        }
        failures.extend(
            invalid
                .into_iter()
                .map(|(kind, errors)| format!("{}: {kind}: {errors:?}", file.display())),
        );
        for doc in docs.iter().filter(|d| !is_gateway_kind(d)) {
            if let Err(e) = check(file, doc) {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
        kinds.extend(docs.iter().map(|d| d["kind"].as_str().unwrap().to_owned()));
    }
    assert_eq!(failures, Vec::<String>::new());
    kinds.sort();
    kinds.dedup();
    for expected in [
        "Deployment",
        "HTTPRoute",
        "Kustomization",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "Service",
        "ServiceMonitor",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "no {expected} in deploy/"
        );
    }
}

#[test]
fn the_typed_check_refuses_a_misspelt_field() {
    let text = std::fs::read_to_string(deploy_dir().join("kubernetes/base/deployment.yaml"))
        .unwrap()
        .replace("readinessProbe:", "readinesProbe:");
    let doc = &documents(&text)[0];
    let error = typed::<apps::v1::Deployment>(doc).unwrap_err();
    assert!(error.contains("/readinesProbe"), "{error}");
}

#[test]
fn the_route_exposes_only_the_webhook() {
    let text =
        std::fs::read_to_string(deploy_dir().join("kubernetes/base/httproute.yaml")).unwrap();
    let route = &documents(&text)[0];
    let rules = route["spec"]["rules"].as_array().unwrap();
    let paths: Vec<&Value> = rules
        .iter()
        .flat_map(|r| r["matches"].as_array().unwrap())
        .map(|m| &m["path"])
        .collect();
    assert!(!paths.is_empty());
    for path in paths {
        assert_eq!(path["type"], "PathPrefix");
        assert_eq!(path["value"], "/webhook");
    }
}

#[test]
fn scanning_deploy_finds_nothing_at_warning_or_above() {
    let out = Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(["scan", "deploy"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 error(s), 0 warning(s)"), "{stdout}");
}

#[test]
fn version_shows_the_version_and_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        text.trim(),
        format!("ws-fix {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}
