//! The `ws-fix` binary as a user runs it: the README's quick start and its exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn ws_fix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ws-fix"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs ws-fix")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn quick_start_inventory_of_the_example_repo() {
    let out = ws_fix(&["inventory", "examples/homelab"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let summary = text.lines().last().unwrap();
    assert!(summary.contains("files parsed"), "{text}");
    assert!(summary.contains("1 sops"), "{summary}");

    let out = ws_fix(&["inventory", "examples/homelab", "--all"]);
    let text = stdout(&out);
    assert!(text.contains("parsed   kubernetes/apps/network/envoy-gateway/config/envoy.yaml  (7 documents: EnvoyProxy, GatewayClass, Gateway, Gateway, BackendTrafficPolicy, ClientTrafficPolicy, HTTPRoute)"), "{text}");
    assert!(text.contains("secret.sops.yaml: SOPS-encrypted"), "{text}");
}

#[test]
fn json_inventory_has_a_schema_version_and_byte_offsets() {
    let out = ws_fix(&["inventory", "examples/homelab", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    let parsed = v["parsed"].as_array().unwrap();
    let envoy = parsed
        .iter()
        .find(|f| f["path"] == "kubernetes/apps/network/envoy-gateway/config/envoy.yaml")
        .unwrap();
    let docs = envoy["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 7);
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/homelab/kubernetes/apps/network/envoy-gateway/config/envoy.yaml"),
    )
    .unwrap();
    for d in docs {
        let (s, e) = (
            d["start_byte"].as_u64().unwrap(),
            d["end_byte"].as_u64().unwrap(),
        );
        assert!(text[s as usize..e as usize].starts_with("---"));
    }
    assert_eq!(v["skipped"][1]["reason"], "sops");
}

#[test]
fn unreadable_root_exits_2() {
    let out = ws_fix(&["inventory", "/nonexistent/ws-fix"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/ws-fix"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn broken_repo_config_exits_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "a: 1\n").unwrap();
    std::fs::write(
        dir.path().join(".ws-fix.yml"),
        "version: 1\nfail-on: loud\n",
    )
    .unwrap();
    let out = ws_fix(&["inventory", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(".ws-fix.yml:2:10"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_ignore_paths_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("old")).unwrap();
    std::fs::write(dir.path().join("old/a.yaml"), "a: 1\n").unwrap();
    std::fs::write(dir.path().join(".ws-fix.yml"), "ignore-paths: [old/]\n").unwrap();
    let out = ws_fix(&["inventory", dir.path().to_str().unwrap(), "--all"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("skipped  old/a.yaml: matched by the config's ignore-paths"));
}

#[test]
fn broken_rules_dir_exits_2_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["rules.yaml", "apps.yaml", "versions.yaml"] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(f))
                .unwrap();
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    std::fs::write(
        dir.path().join("apps.yaml"),
        "apps:\n  - id: x\n    colour: blue\n",
    )
    .unwrap();
    let out = ws_fix(&[
        "--rules",
        dir.path().to_str().unwrap(),
        "inventory",
        "examples/homelab",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("apps.yaml:"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let out = ws_fix(&["inventory", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_without_credentials_says_how_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ws-fix"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(extra);
        for var in [
            "WS_FIX_APP_ID",
            "WS_FIX_PRIVATE_KEY",
            "WS_FIX_PRIVATE_KEY_FILE",
            "WS_FIX_WEBHOOK_SECRET",
            "WS_FIX_DATABASE_URL",
        ] {
            cmd.env_remove(var);
        }
        cmd.output().expect("runs ws-fix")
    };
    let out = serve(&[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no App ID") && err.contains("ws-fix setup") && !err.contains("repo config"),
        "{err}"
    );
    let out = serve(&["--app-id", "3"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no private key") && err.contains("private-key.pem"),
        "{err}"
    );
}
