//! Scan vs parse benchmark (run with `cargo bench --bench scan`).
//!
//! Scans the largest corpus repo and generated trees of 1,000, 10,000 and 50,000 files (the
//! corpus repos' YAML copied into subfolders), and in the same run only reads and parses the
//! same files with the same parser. Prints ms, MB/s, peak RSS and the scan/parse ratio. Each
//! measurement runs in a child process of its own so that its peak RSS is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ws_fix::load::{LoadOptions, Loaded, load};
use ws_fix::snapshot::{LocalDir, Snapshot};
use ws_fix::yaml::{Limits, parse_stream};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn yaml_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// A tree of `n` files: the corpus repos' YAML, copied into `copy-K/` subfolders.
fn generate(n: usize, dir: &Path) -> PathBuf {
    let root = dir.join(format!("tree-{n}"));
    if root.exists() {
        return root;
    }
    let mut sources = Vec::new();
    yaml_files(&corpus(), &mut sources);
    let corpus = corpus();
    for i in 0..n {
        let src = &sources[i % sources.len()];
        let rel = src.strip_prefix(&corpus).unwrap();
        let dst = root.join(format!("copy-{}", i / sources.len())).join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(src, dst).unwrap();
    }
    root
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Read and parse every file the loader would parse, nothing else.
fn parse_only(root: &Path) -> (usize, u64) {
    let snap = LocalDir::new(root).unwrap();
    let (mut docs, mut bytes) = (0, 0);
    for e in snap.entries().unwrap() {
        if !ws_fix::load::is_manifest_name(e.path.rsplit('/').next().unwrap()) {
            continue;
        }
        let Ok(data) = snap.read(&e.path, 4 << 20) else {
            continue;
        };
        bytes += data.len() as u64;
        if let Ok(text) = String::from_utf8(data)
            && let Ok(d) = parse_stream(&text, &Limits::default())
        {
            docs += d.len();
        }
    }
    (docs, bytes)
}

/// What `ws-fix scan` does with a tree, short of printing: load, model, rules.
fn scan(root: &Path) -> (usize, u64) {
    let loaded: Loaded = load(&LocalDir::new(root).unwrap(), &LoadOptions::default()).unwrap();
    let catalogue = ws_fix::catalogue::Catalogue::embedded().unwrap();
    let config = ws_fix::config::RepoConfig::default();
    let result = ws_fix::scan::scan(&loaded, &catalogue, &config);
    let bytes = loaded.files.iter().map(|f| f.size() as u64).sum();
    (result.findings.len() + result.coverage.entry_points, bytes)
}

fn child(mode: &str, root: &Path) {
    let start = Instant::now();
    let (count, bytes) = match mode {
        "parse" => parse_only(root),
        _ => scan(root),
    };
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("{ms:.1} {bytes} {} {count}", peak_rss_kb());
}

fn measure(mode: &str, root: &Path) -> (f64, u64, u64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--child", mode, root.to_str().unwrap()])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let v: Vec<&str> = line.split_whitespace().collect();
    assert!(
        v.len() >= 3,
        "child failed: {line} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        v[0].parse().unwrap(),
        v[1].parse().unwrap(),
        v[2].parse().unwrap(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 4 && args[1] == "--child" {
        child(&args[2], Path::new(&args[3]));
        return;
    }
    let tmp = std::env::temp_dir().join("ws-fix-bench");
    let mut trees: Vec<(String, PathBuf)> = vec![(
        "corpus bjw-s-labs__home-ops".into(),
        corpus().join("bjw-s-labs__home-ops"),
    )];
    for n in [1_000, 10_000, 50_000] {
        trees.push((format!("{n} files"), generate(n, &tmp)));
    }
    println!(
        "{:<28} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9} {:>7}",
        "tree", "parse ms", "scan ms", "MB", "parse MB/s", "scan MB/s", "scan RSS", "ratio"
    );
    for (name, root) in trees {
        // Warm the page cache so both sides read from memory.
        let _ = measure("parse", &root);
        let (pms, bytes, prss) = measure("parse", &root);
        let (sms, _, srss) = measure("scan", &root);
        let mb = bytes as f64 / 1e6;
        println!(
            "{:<28} {:>10.1} {:>10.1} {:>9.2} {:>10.1} {:>10.1} {:>7}MB {:>7.2}",
            name,
            pms,
            sms,
            mb,
            mb / (pms / 1000.0),
            mb / (sms / 1000.0),
            srss.max(prss) / 1024,
            sms / pms
        );
    }
}
