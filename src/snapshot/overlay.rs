//! A snapshot with some files replaced or added: the tree a fix would leave, re-loaded to
//! verify the fix before anyone sees it.

use std::collections::BTreeMap;

use super::{Entry, EntryState, ReadError, Snapshot, SnapshotError};

pub struct Overlay<'a> {
    base: &'a dyn Snapshot,
    /// Repository-relative path → new content.
    files: BTreeMap<String, String>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn Snapshot, files: BTreeMap<String, String>) -> Self {
        Overlay { base, files }
    }
}

impl Snapshot for Overlay<'_> {
    fn entries(&self) -> Result<Vec<Entry>, SnapshotError> {
        let mut entries = self.base.entries()?;
        for (path, text) in &self.files {
            let entry = Entry {
                path: path.clone(),
                size: text.len() as u64,
                state: EntryState::File,
            };
            match entries.iter_mut().find(|e| &e.path == path) {
                Some(e) => *e = entry,
                None => entries.push(entry),
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
        match self.files.get(path) {
            Some(text) if text.len() as u64 > limit => Err(ReadError::TooLarge {
                size: text.len() as u64,
                limit,
            }),
            Some(text) => Ok(text.clone().into_bytes()),
            None => self.base.read(path, limit),
        }
    }
}
