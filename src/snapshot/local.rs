//! A local directory: walked in sorted order, honouring `.gitignore` and Flux's
//! `.sourceignore`, never following a symbolic link.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{Entry, EntryState, ReadError, Snapshot, SnapshotError};

/// Ignore files read in every directory, in this order.
const IGNORE_FILES: [&str; 2] = [".gitignore", ".sourceignore"];

#[derive(Clone, Debug)]
pub struct LocalDir {
    root: PathBuf,
}

struct Matcher {
    rules: Gitignore,
    /// The ignore file's repository-relative path, for messages.
    label: String,
}

impl LocalDir {
    pub fn new(root: impl AsRef<Path>) -> Result<Self, SnapshotError> {
        let given = root.as_ref();
        let root = given.canonicalize().map_err(|source| SnapshotError::Root {
            path: given.display().to_string(),
            source,
        })?;
        if !root.is_dir() {
            return Err(SnapshotError::NotADirectory {
                path: given.display().to_string(),
            });
        }
        Ok(LocalDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn matchers_for(&self, dir: &Path, rel: &str, inherited: &[Arc<Matcher>]) -> Vec<Arc<Matcher>> {
        let mut out = inherited.to_vec();
        for name in IGNORE_FILES {
            let file = dir.join(name);
            if !file.is_file() {
                continue;
            }
            let mut builder = GitignoreBuilder::new(dir);
            // A malformed line is skipped by the builder; the rest still applies.
            let _ = builder.add(&file);
            if let Ok(rules) = builder.build() {
                out.push(Arc::new(Matcher {
                    rules,
                    label: join(rel, name),
                }));
            }
        }
        out
    }

    fn symlink_state(&self, path: &Path) -> EntryState {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let outside = match path.canonicalize() {
            Ok(resolved) => !resolved.starts_with(&self.root),
            // Dangling: judge the link text itself.
            Err(_) => {
                let joined = path.parent().unwrap_or(&self.root).join(&target);
                !normalize(&joined).starts_with(&self.root)
            }
        };
        EntryState::Symlink { target, outside }
    }
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_owned()
    } else {
        format!("{rel}/{name}")
    }
}

/// Lexical `..` and `.` removal (for link targets that do not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn ignored_by(matchers: &[Arc<Matcher>], path: &Path, is_dir: bool) -> Option<String> {
    for m in matchers.iter().rev() {
        match m.rules.matched(path, is_dir) {
            Match::Ignore(_) => return Some(m.label.clone()),
            Match::Whitelist(_) => return None,
            Match::None => {}
        }
    }
    None
}

impl Snapshot for LocalDir {
    fn entries(&self) -> Result<Vec<Entry>, SnapshotError> {
        let mut out = Vec::new();
        let top = self.matchers_for(&self.root, "", &[]);
        let mut stack = vec![(self.root.clone(), String::new(), top)];
        while let Some((dir, rel, matchers)) = stack.pop() {
            let listing = match std::fs::read_dir(&dir) {
                Ok(listing) => listing,
                Err(source) if rel.is_empty() => {
                    return Err(SnapshotError::Root {
                        path: dir.display().to_string(),
                        source,
                    });
                }
                Err(e) => {
                    out.push(Entry {
                        path: rel.clone(),
                        size: 0,
                        state: EntryState::Unreadable {
                            message: e.to_string(),
                        },
                    });
                    continue;
                }
            };
            let mut children: Vec<_> = listing.filter_map(Result::ok).collect();
            children.sort_by_key(|c| c.file_name());
            let mut subdirs = Vec::new();
            for child in children {
                let name = child.file_name().to_string_lossy().into_owned();
                if name == ".git" {
                    continue; // version-control metadata, not a file of the commit
                }
                let path = child.path();
                let child_rel = join(&rel, &name);
                let meta = match std::fs::symlink_metadata(&path) {
                    Ok(meta) => meta,
                    Err(e) => {
                        out.push(Entry {
                            path: child_rel,
                            size: 0,
                            state: EntryState::Unreadable {
                                message: e.to_string(),
                            },
                        });
                        continue;
                    }
                };
                let ft = meta.file_type();
                let state = if ft.is_symlink() {
                    self.symlink_state(&path)
                } else if let Some(by) = ignored_by(&matchers, &path, ft.is_dir()) {
                    EntryState::Ignored {
                        by,
                        dir: ft.is_dir(),
                    }
                } else if ft.is_dir() {
                    subdirs.push((path, child_rel));
                    continue;
                } else if ft.is_file() {
                    EntryState::File
                } else {
                    EntryState::NotRegular
                };
                out.push(Entry {
                    path: child_rel,
                    size: meta.len(),
                    state,
                });
            }
            for (path, child_rel) in subdirs.into_iter().rev() {
                let m = self.matchers_for(&path, &child_rel, &matchers);
                stack.push((path, child_rel, m));
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        use std::io::Read;
        let full = self.root.join(path);
        let file = std::fs::File::open(&full).map_err(|e| ReadError::Io(e.to_string()))?;
        let size = file
            .metadata()
            .map_err(|e| ReadError::Io(e.to_string()))?
            .len();
        if size > limit {
            return Err(ReadError::TooLarge { size, limit });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| ReadError::Io(e.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(ReadError::TooLarge {
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes)
    }
}
