//! Every manifest under `deploy/` is checked: Gateway API and Envoy Gateway kinds against the
//! real CRD schemas, core kinds by deserialising into the `k8s-openapi` types and requiring the
//! typed value to serialise back to the same document (a misspelt or unknown field fails), the
//! `ServiceMonitor` by hand, the kustomizations by resolving them; and `ws-fix scan deploy/`
//! reports nothing at warning or above.

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
        let (checked, invalid) = crate::common::validate_against_schemas(&text);
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

/// The stages of the Containerfile: each `FROM` line with the instructions under it, joined
/// across line continuations, comments dropped.
fn containerfile_stages() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(deploy_dir().join("Containerfile")).unwrap();
    let mut stages: Vec<(String, Vec<String>)> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                let instruction = std::mem::take(&mut current);
                if let Some(from) = instruction.strip_prefix("FROM ") {
                    stages.push((from.to_owned(), Vec::new()));
                } else {
                    stages.last_mut().expect("FROM first").1.push(instruction);
                }
            }
        }
    }
    stages
}

/// No image builder can reach a registry from these machines, so the image definition is
/// checked as far as it can be without building it.
#[test]
fn the_image_is_multi_stage_small_non_root_and_checks_its_health() {
    let stages = containerfile_stages();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    for (from, _) in &stages {
        let image = from.split_whitespace().next().unwrap();
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(
            !tag.is_empty() && tag != "latest" && !tag.contains('/'),
            "pin the base image: {image}"
        );
    }
    let (build_from, build) = &stages[0];
    let stage_name = build_from.split_whitespace().last().unwrap();
    assert!(
        build
            .iter()
            .any(|i| i.contains("cargo build --release --locked"))
    );
    let (run_from, run) = &stages[1];
    assert!(run_from.starts_with("gcr.io/distroless/"), "{run_from}");
    let has = |prefix: &str| run.iter().find(|i| i.starts_with(prefix)).cloned();
    let user = has("USER ").expect("USER");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    assert!(
        run.iter()
            .filter(|i| i.starts_with("COPY"))
            .all(|i| i.contains(&format!("--from={stage_name}"))),
        "the runtime stage only takes what the build stage made"
    );
    assert!(!run.iter().any(|i| i.starts_with("ADD ")));
    assert_eq!(has("EXPOSE ").as_deref(), Some("EXPOSE 8080"));
    let health = has("HEALTHCHECK ").expect("HEALTHCHECK");
    assert!(
        health.contains(r#"CMD ["/usr/local/bin/ws-fix", "healthcheck""#),
        "exec form: the image has no shell: {health}"
    );
    assert!(
        has("ENTRYPOINT ")
            .unwrap()
            .contains("/usr/local/bin/ws-fix")
    );
    assert!(has("ENV ").unwrap().contains("WS_FIX_DATA_DIR=/data"));

    // The Deployment runs the image as the same user, read-only, with the data dir mounted.
    let deployment =
        std::fs::read_to_string(deploy_dir().join("kubernetes/base/deployment.yaml")).unwrap();
    assert!(deployment.contains("readOnlyRootFilesystem: true"));
    assert!(deployment.contains("runAsUser: 65532"), "{deployment}");
    assert!(deployment.contains("mountPath: /data"));
}

/// The runtime image (distroless `cc`) has glibc, libgcc and OpenSSL 3; the binary must not
/// need more. zlib is linked statically in the image (`LIBZ_SYS_STATIC=1`).
#[test]
fn the_binary_needs_only_what_the_runtime_image_has() {
    let Ok(out) = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_ws-fix"))
        .output()
    else {
        eprintln!("skipped: no ldd on this machine");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let allowed = [
        "linux-vdso",
        "libc.so",
        "libm.so",
        "libdl.so",
        "librt.so",
        "libpthread.so",
        "libgcc_s.so",
        "ld-linux",
        "libssl.so.3",
        "libcrypto.so.3",
        "libz.so",
    ];
    for lib in text.lines().filter_map(|l| l.split_whitespace().next()) {
        assert!(
            allowed.iter().any(|a| lib.contains(a)),
            "{lib} is not in the runtime image:\n{text}"
        );
        if lib.contains("libz.so") {
            let (_, build) = &containerfile_stages()[0];
            assert!(build.iter().any(|i| i.contains("LIBZ_SYS_STATIC=1")));
        }
    }
}

/// Serves one connection with `reply` (nothing when `None`, keeping the socket open) and
/// returns the address.
fn one_answer(reply: Option<&'static str>) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        match reply {
            Some(reply) => stream.write_all(reply.as_bytes()).unwrap(),
            // Hold the connection until the client gives up.
            None => while stream.read(&mut buf).is_ok_and(|n| n > 0) {},
        }
    });
    (addr, handle)
}

#[test]
fn healthcheck_exits_zero_only_on_a_2xx_answer() {
    let run = |addr: &str| {
        Command::new(env!("CARGO_BIN_EXE_ws-fix"))
            .args(["healthcheck", "--timeout", "1", "--url"])
            .arg(format!("http://{addr}/healthz"))
            .output()
            .unwrap()
    };
    let (addr, served) = one_answer(Some("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n"));
    let out = run(&addr);
    served.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (addr, served) = one_answer(Some("HTTP/1.1 503 Service Unavailable\r\n\r\n"));
    let out = run(&addr);
    served.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("answered 503"));

    let (addr, served) = one_answer(None);
    let out = run(&addr);
    served.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no answer"));

    let out = run(&crate::common::deliveries::unreachable_addr().to_string());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
