//! Hostile input: each case gets a clear diagnostic, bounded cost, and the rest of the tree is
//! still read.

use std::path::Path;

use ws_fix::load::{self, LoadOptions, Loaded, SkipReason};
use ws_fix::snapshot::{LocalDir, MemorySnapshot};

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n";

/// A tree with one good manifest beside whatever the test adds.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(dir.path().join("apps/good.yaml"), GOOD).unwrap();
    dir
}

fn load_dir(dir: &Path) -> Loaded {
    load::load(&LocalDir::new(dir).unwrap(), &LoadOptions::default()).unwrap()
}

fn reason<'a>(loaded: &'a Loaded, path: &str) -> &'a SkipReason {
    &loaded
        .skipped
        .iter()
        .find(|s| s.path == path)
        .unwrap_or_else(|| panic!("{path} not skipped: {:?}", loaded.skipped))
        .reason
}

fn assert_rest_read(loaded: &Loaded) {
    let good = loaded
        .file("apps/good.yaml")
        .expect("the good file is still parsed");
    assert_eq!(good.documents[0].name(), Some("fine"));
}

#[test]
fn alias_bomb() {
    let dir = tree();
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    std::fs::write(dir.path().join("bomb.yaml"), text).unwrap();
    let loaded = load_dir(dir.path());
    match reason(&loaded, "bomb.yaml") {
        SkipReason::OverLimit { message, line, .. } => {
            assert!(message.contains("alias"), "{message}");
            assert!(*line >= 5, "the line where the budget ran out: {line}");
        }
        other => panic!("{other:?}"),
    }
    assert_rest_read(&loaded);
}

#[test]
fn hundred_levels_of_nesting() {
    let dir = tree();
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!("{}level{i}:\n", "  ".repeat(i)));
    }
    std::fs::write(dir.path().join("deep.yaml"), &text).unwrap();
    let flow = format!("a: {}1{}\n", "[".repeat(100), "]".repeat(100));
    std::fs::write(dir.path().join("deep-flow.yaml"), flow).unwrap();
    let loaded = load_dir(dir.path());
    for path in ["deep.yaml", "deep-flow.yaml"] {
        match reason(&loaded, path) {
            SkipReason::OverLimit { message, .. } => {
                assert!(message.contains("nesting deeper than 64"), "{message}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_rest_read(&loaded);
}

#[test]
fn twenty_megabyte_file() {
    let dir = tree();
    let line = "key: value value value value value value value value value value\n";
    let text = line.repeat(20 * 1024 * 1024 / line.len() + 1);
    std::fs::write(dir.path().join("huge.yaml"), text).unwrap();
    let loaded = load_dir(dir.path());
    match reason(&loaded, "huge.yaml") {
        SkipReason::TooLarge { size, limit } => {
            assert!(*size > 20 * 1024 * 1024);
            assert_eq!(*limit, load::DEFAULT_MAX_FILE_SIZE);
        }
        other => panic!("{other:?}"),
    }
    assert_rest_read(&loaded);
}

#[test]
fn invalid_utf8() {
    let dir = tree();
    std::fs::write(dir.path().join("latin1.yaml"), b"name: caf\xe9\n").unwrap();
    let loaded = load_dir(dir.path());
    assert_eq!(
        reason(&loaded, "latin1.yaml"),
        &SkipReason::NotUtf8 { offset: 9 }
    );
    assert_rest_read(&loaded);
}

#[test]
fn binary_file_named_yaml() {
    let dir = tree();
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..4096).map(|i| (i % 251) as u8));
    std::fs::write(dir.path().join("logo.yaml"), bytes).unwrap();
    let loaded = load_dir(dir.path());
    assert_eq!(reason(&loaded, "logo.yaml"), &SkipReason::Binary);
    assert_rest_read(&loaded);
}

#[test]
fn symlink_outside_the_tree_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "password: hunter2\n").unwrap();
    let dir = tree();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        dir.path().join("link.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked-dir")).unwrap();
    std::os::unix::fs::symlink("apps/good.yaml", dir.path().join("inside.yaml")).unwrap();
    let loaded = load_dir(dir.path());
    assert!(matches!(
        reason(&loaded, "link.yaml"),
        SkipReason::Symlink { outside: true, .. }
    ));
    assert!(matches!(
        reason(&loaded, "linked-dir"),
        SkipReason::Symlink { outside: true, .. }
    ));
    assert!(matches!(
        reason(&loaded, "inside.yaml"),
        SkipReason::Symlink { outside: false, .. }
    ));
    assert!(loaded.files.iter().all(|f| !f.text().contains("hunter2")));
    assert_rest_read(&loaded);
}

#[test]
fn unreadable_file() {
    // Through a snapshot whose read fails (root can read a mode-000 file, so this is the
    // portable way to make a read fail) ...
    let mut snapshot = MemorySnapshot::new();
    snapshot.insert("apps/good.yaml", GOOD);
    snapshot.insert_unreadable("apps/locked.yaml", "Permission denied (os error 13)");
    let loaded = load::load(&snapshot, &LoadOptions::default()).unwrap();
    assert_eq!(
        reason(&loaded, "apps/locked.yaml"),
        &SkipReason::Unreadable {
            message: "Permission denied (os error 13)".into()
        }
    );
    assert_rest_read(&loaded);

    // ... and on disk, where the permission bits are honoured (not as root).
    use std::os::unix::fs::PermissionsExt;
    let dir = tree();
    let locked = dir.path().join("locked.yaml");
    std::fs::write(&locked, GOOD).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&locked).is_err() {
        let loaded = load_dir(dir.path());
        assert!(matches!(
            reason(&loaded, "locked.yaml"),
            SkipReason::Unreadable { .. }
        ));
        assert_rest_read(&loaded);
    }
}

#[test]
fn invalid_yaml_names_line_and_column() {
    let dir = tree();
    std::fs::write(dir.path().join("broken.yaml"), "a: 1\nb: [1, 2\nc: 3\n").unwrap();
    std::fs::write(dir.path().join("dup.yaml"), "a: 1\nb: 2\na: 3\n").unwrap();
    let loaded = load_dir(dir.path());
    match reason(&loaded, "broken.yaml") {
        SkipReason::InvalidYaml { line, .. } => assert!(*line >= 2, "line {line}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        reason(&loaded, "dup.yaml"),
        &SkipReason::InvalidYaml {
            line: 3,
            column: 1,
            message: "duplicate mapping key `a`".into()
        }
    );
    assert_rest_read(&loaded);
}

#[test]
fn templates_sops_gitignore_and_config_ignores() {
    let dir = tree();
    let p = dir.path();
    std::fs::create_dir_all(p.join("charts/app/templates")).unwrap();
    std::fs::write(
        p.join("charts/app/Chart.yaml"),
        "apiVersion: v2\nname: app\n",
    )
    .unwrap();
    std::fs::write(
        p.join("charts/app/templates/svc.yaml"),
        "name: {{ .Release.Name }}\n",
    )
    .unwrap();
    std::fs::write(p.join("talos.yaml.j2"), "a: #{ x }#\n").unwrap();
    std::fs::write(
        p.join("secret.yaml"),
        "data:\n    k: ENC[AES256_GCM,data:Zm9v,iv:x,tag:y,type:str]\nsops:\n    mac: ENC[AES256_GCM,data:x]\n",
    )
    .unwrap();
    std::fs::write(p.join(".gitignore"), "build/\n*.local.yaml\n").unwrap();
    std::fs::create_dir_all(p.join("build")).unwrap();
    std::fs::write(p.join("build/out.yaml"), GOOD).unwrap();
    std::fs::write(p.join("mine.local.yaml"), GOOD).unwrap();
    std::fs::create_dir_all(p.join("archive")).unwrap();
    std::fs::write(p.join("archive/old.yaml"), GOOD).unwrap();
    std::fs::write(p.join("Kustomization"), "resources: [apps/good.yaml]\n").unwrap();

    let options = LoadOptions {
        ignore_paths: ws_fix::config::RepoConfig::parse(
            ".ws-fix.yml",
            "ignore-paths: [archive/]\n",
        )
        .unwrap()
        .ignore_paths,
        ..LoadOptions::default()
    };
    let loaded = load::load(&LocalDir::new(p).unwrap(), &options).unwrap();
    assert!(matches!(
        reason(&loaded, "charts/app/templates/svc.yaml"),
        SkipReason::HelmTemplate { chart } if chart == "charts/app"
    ));
    assert!(loaded.file("charts/app/Chart.yaml").is_some());
    assert!(matches!(
        reason(&loaded, "talos.yaml.j2"),
        SkipReason::Template { .. }
    ));
    assert_eq!(reason(&loaded, "secret.yaml"), &SkipReason::Sops);
    assert_eq!(
        reason(&loaded, "build"),
        &SkipReason::Ignored {
            by: ".gitignore".into(),
            dir: true
        }
    );
    assert!(matches!(
        reason(&loaded, "mine.local.yaml"),
        SkipReason::Ignored { dir: false, .. }
    ));
    assert_eq!(
        reason(&loaded, "archive/old.yaml"),
        &SkipReason::ConfigIgnored
    );
    assert_eq!(reason(&loaded, ".gitignore"), &SkipReason::NotYaml);
    assert!(loaded.file("Kustomization").is_some());
    assert_rest_read(&loaded);
}

#[test]
fn unreadable_root_is_an_error() {
    let err = LocalDir::new("/nonexistent/ws-fix-test").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/ws-fix-test"),
        "{err}"
    );
}
