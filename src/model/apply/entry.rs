//! Entry points: the Flux `Kustomization`s and Argo CD `Application`s that nothing else in
//! the repo applies. Which object applies which is decided at the level of files (the files
//! each one's path takes in, through kustomization `resources` and `components`, or Flux's
//! every-manifest rule), so finding entry points costs one pass over the folders. Objects
//! that only apply each other (a cycle) get the first of them, in path order, as entry point.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::yaml::Node;

use super::context::MAX_DEPTH;
use super::flux::other_source;
use super::index::{RepoIndex, is_remote, repo_path, resolve};
use super::item::{ARGO, FLUX_KUSTOMIZE, group_of};

/// A document: (index into `Loaded::files`, index of the document in the file).
pub type DocId = (usize, usize);

/// Entry points in path order.
pub fn entry_points(index: &RepoIndex) -> Vec<DocId> {
    let loaded = index.loaded;
    let mut candidates: Vec<DocId> = Vec::new();
    let mut by_file: HashMap<usize, Vec<DocId>> = HashMap::new();
    for (fi, f) in loaded.files.iter().enumerate() {
        for (di, d) in f.documents.iter().enumerate() {
            let (Some(av), Some(kind)) = (d.api_version(), d.kind()) else {
                continue;
            };
            let group = group_of(av);
            if (group == FLUX_KUSTOMIZE && kind == "Kustomization")
                || (group == ARGO && kind == "Application")
            {
                candidates.push((fi, di));
                by_file.entry(fi).or_default().push((fi, di));
            }
        }
    }
    if candidates.is_empty() {
        return Vec::new();
    }

    let mut includes = Includes {
        index,
        memo: HashMap::new(),
        stack: Vec::new(),
    };
    let mut edges: HashMap<DocId, Vec<DocId>> = HashMap::new();
    let mut applied: HashSet<DocId> = HashSet::new();
    for &c in &candidates {
        let root = loaded.files[c.0].documents[c.1].root_node();
        let files = root.map(|r| includes.of_object(&r)).unwrap_or_default();
        for f in files {
            for &other in by_file.get(&f).into_iter().flatten() {
                if other != c {
                    edges.entry(c).or_default().push(other);
                    applied.insert(other);
                }
            }
        }
    }

    let mut entries: Vec<DocId> = candidates
        .iter()
        .copied()
        .filter(|c| !applied.contains(c))
        .collect();
    let mut reached: HashSet<DocId> = HashSet::new();
    let reach = |from: DocId, reached: &mut HashSet<DocId>| {
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            if reached.insert(n) {
                todo.extend(edges.get(&n).into_iter().flatten().copied());
            }
        }
    };
    for &e in &entries {
        reach(e, &mut reached);
    }
    for &c in &candidates {
        if !reached.contains(&c) {
            entries.push(c);
            reach(c, &mut reached);
        }
    }
    entries.sort();
    entries
}

/// The files a folder takes in, by Kustomize's and Flux's rules, memoised per folder.
struct Includes<'i, 'a> {
    index: &'i RepoIndex<'a>,
    memo: HashMap<(String, bool), BTreeSet<usize>>,
    stack: Vec<String>,
}

impl Includes<'_, '_> {
    /// The files a Flux Kustomization's or Argo Application's sources in this repo take in.
    fn of_object(&mut self, root: &Node) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let Some(spec) = root.get("spec") else {
            return out;
        };
        let kind = root.get("kind").and_then(Node::as_text).unwrap_or("");
        if kind == "Kustomization" {
            let ns = root
                .path(&["metadata", "namespace"])
                .and_then(Node::as_text);
            if other_source(self.index, spec.get("sourceRef"), ns).is_some() {
                return out;
            }
            let path = spec.get("path").and_then(Node::as_text).unwrap_or("");
            if let Some(dir) = repo_path(path) {
                out.extend(self.of_dir(&dir, true));
                for c in super::tree::strings(spec.get("components")) {
                    if let Some(c) = resolve(&dir, c.0) {
                        out.extend(self.of_dir(&c, false));
                    }
                }
            }
        } else {
            let mut sources: Vec<&Node> = super::tree::items(spec.get("sources")).iter().collect();
            sources.extend(spec.get("source"));
            for s in sources {
                let Some(dir) = s.get("path").and_then(Node::as_text).and_then(repo_path) else {
                    continue;
                };
                if self.index.kustomization_file(&dir).is_some() {
                    out.extend(self.of_dir(&dir, false));
                } else {
                    let recurse = s
                        .path(&["directory", "recurse"])
                        .and_then(Node::as_bool)
                        .unwrap_or(false);
                    self.directory(&dir, recurse, &mut out, 0);
                }
            }
        }
        out
    }

    /// Files of a folder: through its kustomization file, or (`flux`) every manifest below.
    fn of_dir(&mut self, dir: &str, flux: bool) -> BTreeSet<usize> {
        let key = (dir.to_owned(), flux);
        if let Some(m) = self.memo.get(&key) {
            return m.clone();
        }
        if self.stack.iter().any(|d| d == dir) || self.stack.len() >= MAX_DEPTH {
            return BTreeSet::new();
        }
        self.stack.push(dir.to_owned());
        let mut out = BTreeSet::new();
        match self.index.kustomization_file(dir) {
            Some(Ok(file)) => {
                out.insert(self.file_index(&file.path));
                if let Some(root) = file.documents.iter().find_map(|d| d.root_node()) {
                    for key in ["resources", "bases", "components"] {
                        for (entry, _) in super::tree::strings(root.get(key)) {
                            if is_remote(entry) {
                                continue;
                            }
                            let Some(path) = resolve(dir, entry) else {
                                continue;
                            };
                            if self.index.file(&path).is_some() {
                                out.insert(self.file_index(&path));
                            } else if self.index.is_dir(&path) {
                                out.extend(self.of_dir(&path, false));
                            }
                        }
                    }
                }
            }
            Some(Err(_)) => {}
            None if flux => self.flux_walk(dir, &mut out, 0),
            None => {}
        }
        self.stack.pop();
        self.memo.insert(key, out.clone());
        out
    }

    fn flux_walk(&mut self, dir: &str, out: &mut BTreeSet<usize>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let index = self.index;
        for f in index.files_in(dir) {
            if f.path.ends_with(".yaml") || f.path.ends_with(".yml") {
                out.insert(self.file_index(&f.path));
            }
        }
        let subdirs: Vec<String> = index.subdirs(dir).map(str::to_owned).collect();
        for sub in subdirs {
            if index.kustomization_file(&sub).is_some() {
                out.extend(self.of_dir(&sub, false));
            } else {
                self.flux_walk(&sub, out, depth + 1);
            }
        }
    }

    fn directory(&mut self, dir: &str, recurse: bool, out: &mut BTreeSet<usize>, depth: usize) {
        let index = self.index;
        for f in index.files_in(dir) {
            out.insert(self.file_index(&f.path));
        }
        if recurse && depth < MAX_DEPTH {
            let subdirs: Vec<String> = index.subdirs(dir).map(str::to_owned).collect();
            for sub in subdirs {
                self.directory(&sub, true, out, depth + 1);
            }
        }
    }

    fn file_index(&self, path: &str) -> usize {
        self.index
            .loaded
            .files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .unwrap_or(usize::MAX)
    }
}
