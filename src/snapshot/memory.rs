//! A snapshot held in memory (files fetched from the GitHub API, and tests).

use std::collections::BTreeMap;

use super::{Entry, EntryState, ReadError, Snapshot, SnapshotError};

/// Paths to contents; a content of `Err(message)` is a file that cannot be read.
#[derive(Clone, Debug, Default)]
pub struct MemorySnapshot {
    files: BTreeMap<String, Result<Vec<u8>, String>>,
}

impl MemorySnapshot {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(path.into(), Ok(content.into()));
        self
    }

    pub fn insert_unreadable(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.files.insert(path.into(), Err(message.into()));
    }
}

impl Snapshot for MemorySnapshot {
    fn entries(&self) -> Result<Vec<Entry>, SnapshotError> {
        Ok(self
            .files
            .iter()
            .map(|(path, content)| Entry {
                path: path.clone(),
                size: content.as_ref().map_or(0, |c| c.len() as u64),
                state: EntryState::File,
            })
            .collect())
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
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
