//! Look-ups over the loaded repo, built once: folders and their files, kustomization files,
//! and documents by kind and name (ConfigMaps, source objects), so nothing is searched twice.

use std::collections::{BTreeSet, HashMap};

use crate::load::{Loaded, Skipped, SourceFile};
use crate::yaml::{FrozenDocument, Node};

/// The file names Kustomize reads as a kustomization, in its order of preference.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Default)]
struct Dir {
    /// Parsed files directly in the folder (indices into `Loaded::files`), in path order.
    files: Vec<usize>,
    /// Skipped files directly in the folder (indices into `Loaded::skipped`).
    skipped: Vec<usize>,
    /// Sub-folders (full paths), sorted.
    subdirs: BTreeSet<String>,
}

/// name → documents (file index, document index).
type ByName<'a> = HashMap<&'a str, Vec<(usize, usize)>>;

pub struct RepoIndex<'a> {
    pub loaded: &'a Loaded,
    dirs: HashMap<String, Dir>,
    /// kind → name → (file index, document index).
    by_kind_name: HashMap<&'a str, ByName<'a>>,
}

/// Kinds looked up by name from anywhere in the repo.
const INDEXED_KINDS: [&str; 6] = [
    "ConfigMap",
    "OCIRepository",
    "GitRepository",
    "HelmChart",
    "HelmRepository",
    "Secret",
];

impl<'a> RepoIndex<'a> {
    pub fn new(loaded: &'a Loaded) -> Self {
        let mut dirs: HashMap<String, Dir> = HashMap::new();
        dirs.entry(String::new()).or_default();
        let mut register = |path: &str, file: Result<usize, usize>| {
            let dir = parent(path);
            let entry = dirs.entry(dir.to_owned()).or_default();
            match file {
                Ok(i) => entry.files.push(i),
                Err(i) => entry.skipped.push(i),
            }
            // Every ancestor knows its sub-folder.
            let mut child = dir;
            while !child.is_empty() {
                let up = parent(child);
                let fresh = dirs
                    .entry(up.to_owned())
                    .or_default()
                    .subdirs
                    .insert(child.to_owned());
                if !fresh {
                    break;
                }
                child = up;
            }
        };
        for (i, f) in loaded.files.iter().enumerate() {
            register(&f.path, Ok(i));
        }
        for (i, s) in loaded.skipped.iter().enumerate() {
            register(&s.path, Err(i));
        }
        let mut by_kind_name: HashMap<&str, ByName> = HashMap::new();
        for (fi, f) in loaded.files.iter().enumerate() {
            for (di, d) in f.documents.iter().enumerate() {
                if let (Some(kind), Some(name)) = (d.kind(), d.name())
                    && INDEXED_KINDS.contains(&kind)
                {
                    by_kind_name
                        .entry(kind)
                        .or_default()
                        .entry(name)
                        .or_default()
                        .push((fi, di));
                }
            }
        }
        RepoIndex {
            loaded,
            dirs,
            by_kind_name,
        }
    }

    pub fn file(&self, path: &str) -> Option<&'a SourceFile> {
        self.loaded.file(path)
    }

    pub fn skipped(&self, path: &str) -> Option<&'a Skipped> {
        self.loaded
            .skipped
            .binary_search_by(|s| s.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.loaded.skipped[i])
    }

    pub fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains_key(path)
    }

    /// Parsed files directly in `dir`.
    pub fn files_in(&self, dir: &str) -> impl Iterator<Item = &'a SourceFile> + '_ {
        self.dirs
            .get(dir)
            .into_iter()
            .flat_map(|d| d.files.iter().map(|&i| &self.loaded.files[i]))
    }

    /// Skipped files directly in `dir`.
    pub fn skipped_in(&self, dir: &str) -> impl Iterator<Item = &'a Skipped> + '_ {
        self.dirs
            .get(dir)
            .into_iter()
            .flat_map(|d| d.skipped.iter().map(|&i| &self.loaded.skipped[i]))
    }

    pub fn subdirs(&self, dir: &str) -> impl Iterator<Item = &str> + '_ {
        self.dirs
            .get(dir)
            .into_iter()
            .flat_map(|d| d.subdirs.iter().map(String::as_str))
    }

    /// The kustomization file of a folder: Ok(parsed file), or Err(path) when it exists but
    /// was skipped (invalid YAML, too large, ...).
    pub fn kustomization_file(&self, dir: &str) -> Option<Result<&'a SourceFile, String>> {
        for name in KUSTOMIZATION_NAMES {
            let path = join(dir, name);
            if let Some(f) = self.file(&path) {
                return Some(Ok(f));
            }
            if self.skipped(&path).is_some() {
                return Some(Err(path));
            }
        }
        None
    }

    /// Documents of `kind` named `name`, anywhere in the repo, in path order.
    pub fn by_kind_name(
        &self,
        kind: &str,
        name: &str,
    ) -> impl Iterator<Item = (&'a SourceFile, &'a FrozenDocument)> + '_ {
        self.by_kind_name
            .get(kind)
            .and_then(|m| m.get(name))
            .into_iter()
            .flatten()
            .map(|&(f, d)| {
                let file = &self.loaded.files[f];
                (file, &file.documents[d])
            })
    }

    /// The root of the first document of `kind` named `name`, preferring one whose own
    /// `metadata.namespace` is `namespace`.
    pub fn find(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<Node> {
        let mut first = None;
        for (_, d) in self.by_kind_name(kind, name) {
            if namespace.is_some() && d.namespace() == namespace {
                return d.root_node();
            }
            first = first.or(d.root());
        }
        first.map(|r| r.to_node())
    }
}

/// The folder of a path ("" for the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// `rel` resolved against folder `base`, `.` and `..` applied; None when it leaves the repo
/// or is absolute.
pub fn resolve(base: &str, rel: &str) -> Option<String> {
    let rel = rel.trim();
    if rel.starts_with('/') {
        return None;
    }
    // Built in place (called for every entry of every kustomization): the parts are
    // non-empty and hold no `/`, so the last one starts after the last `/`.
    let mut out = String::with_capacity(base.len() + rel.len() + 1);
    let push = |out: &mut String, part: &str| {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part);
    };
    for part in base.split('/').filter(|p| !p.is_empty()) {
        push(&mut out, part);
    }
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." if out.is_empty() => return None,
            ".." => out.truncate(out.rfind('/').unwrap_or(0)),
            p => push(&mut out, p),
        }
    }
    Some(out)
}

/// A Flux `spec.path` (relative to the repo root, `./` or not).
pub fn repo_path(path: &str) -> Option<String> {
    resolve("", path.trim().trim_start_matches('/'))
}

/// Remote resources: URLs, `github.com/...` and git SSH addresses.
pub fn is_remote(entry: &str) -> bool {
    let e = entry.trim();
    e.contains("://")
        || e.starts_with("git@")
        || e.starts_with("github.com/")
        || e.starts_with("gitlab.com/")
        || e.starts_with("bitbucket.org/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(resolve("a/b", "../c/./d").as_deref(), Some("a/c/d"));
        assert_eq!(resolve("a", "../../x"), None);
        assert_eq!(resolve("/a//b/", "./../../c/").as_deref(), Some("c"));
        assert_eq!(resolve("", "x/..").as_deref(), Some(""));
        assert_eq!(resolve("a", " ./b ").as_deref(), Some("a/b"));
        assert_eq!(resolve("a", "/b"), None);
        assert_eq!(resolve("", "./x/"), Some("x".into()));
        assert_eq!(
            repo_path("./kubernetes/apps").as_deref(),
            Some("kubernetes/apps")
        );
        assert_eq!(repo_path("./").as_deref(), Some(""));
        assert_eq!(repo_path("").as_deref(), Some(""));
        assert!(is_remote("https://github.com/x/y//base?ref=v1"));
        assert!(is_remote("github.com/x/y/base"));
        assert!(!is_remote("../base"));
        assert_eq!(parent("a/b/c.yaml"), "a/b");
        assert_eq!(parent("c.yaml"), "");
    }
}
