//! A snapshot held in memory (files fetched from the GitHub API, and tests).

use std::collections::BTreeMap;

use super::{Entry, EntryState, ReadError, Snapshot, SnapshotError};

/// Paths to contents; a content of `Err(message)` is a file that cannot be read.
#[derive(Clone, Debug, Default)]
pub struct MemorySnapshot {
    files: BTreeMap<String, Result<Vec<u8>, String>>,
    /// Files known by their size only (too large to fetch).
    sized: BTreeMap<String, u64>,
    /// Symbolic links: path to target.
    symlinks: BTreeMap<String, String>,
}

impl MemorySnapshot {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(path.into(), Ok(content.into()));
        self
    }

    /// A file known only by its size: listed, and refused as too large when read.
    pub fn insert_sized(&mut self, path: impl Into<String>, size: u64) {
        self.sized.insert(path.into(), size);
    }

    /// A symbolic link to `target` (as git stores it): listed, never followed.
    pub fn insert_symlink(&mut self, path: impl Into<String>, target: impl Into<String>) {
        self.symlinks.insert(path.into(), target.into());
    }

    pub fn insert_unreadable(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.files.insert(path.into(), Err(message.into()));
    }
}

impl Snapshot for MemorySnapshot {
    fn entries(&self) -> Result<Vec<Entry>, SnapshotError> {
        let mut entries: Vec<Entry> = self
            .files
            .iter()
            .map(|(path, content)| Entry {
                path: path.clone(),
                size: content.as_ref().map_or(0, |c| c.len() as u64),
                state: EntryState::File,
            })
            .chain(self.sized.iter().map(|(path, size)| Entry {
                path: path.clone(),
                size: *size,
                state: EntryState::File,
            }))
            .chain(self.symlinks.iter().map(|(path, target)| Entry {
                path: path.clone(),
                size: 0,
                state: EntryState::Symlink {
                    target: target.clone(),
                    outside: leaves_tree(path, target),
                },
            }))
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        if let Some(size) = self.sized.get(path) {
            return Err(ReadError::TooLarge { size: *size, limit });
        }
        match self.files.get(path) {
            None => Err(ReadError::Io("no such file".into())),
            Some(Err(message)) => Err(ReadError::Io(message.clone())),
            Some(Ok(bytes)) if bytes.len() as u64 > limit => Err(ReadError::TooLarge {
                size: bytes.len() as u64,
                limit,
            }),
            Some(Ok(bytes)) => Ok(bytes.clone()),
        }
    }
}

/// True when the link at `path` to `target` points outside the tree: an absolute target, or
/// one that climbs above the root.
fn leaves_tree(path: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut depth = path.split('/').count() as i64 - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}
