//! A commit read through the Git Trees and Blobs API: the tree once, then only the blobs a scan
//! reads (YAML files, `Kustomization`, the repo config). A shallow git fetch would download every
//! file of the commit; infra repos are mostly YAML, but their other files (docs, scripts, images)
//! are not needed, and the API needs no git transport or disk.
//!
//! The cost is bounded before anything is fetched: a file over the size limit is listed by its
//! size only (the loader reports it as too large), a symbolic link is listed as one and never
//! followed, and a commit with more files or bytes to read than [`MAX_FILES`] / [`MAX_BYTES`] (or
//! a tree GitHub lists only in part) is refused with the reason.

use super::AppError;
use crate::github::Repo;
use crate::snapshot::MemorySnapshot;

/// The most files read for one commit: each is one request, and an installation may make
/// 5,000 an hour.
pub const MAX_FILES: usize = 5_000;
/// The most bytes read for one commit (the loader holds them all at once).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

pub async fn fetch(
    repo: &Repo<'_>,
    tree: &str,
    max_file_size: u64,
) -> Result<MemorySnapshot, AppError> {
    let entries: Vec<_> = repo
        .tree(tree)
        .await?
        .into_iter()
        .filter(|e| super::relevant(&e.path))
        .collect();
    let read: Vec<_> = entries.iter().filter(|e| e.size <= max_file_size).collect();
    let bytes: u64 = read.iter().map(|e| e.size).sum();
    if read.len() > MAX_FILES || bytes > MAX_BYTES {
        return Err(AppError::Load(format!(
            "the commit has {} YAML files of {} bytes to read, over ws-fix's limit of {MAX_FILES} files and {MAX_BYTES} bytes",
            read.len(),
            bytes
        )));
    }
    let mut snap = MemorySnapshot::new();
    for entry in entries {
        if entry.size > max_file_size {
            snap.insert_sized(entry.path, entry.size);
            continue;
        }
        let content = repo.blob(&entry.sha).await?;
        if entry.is_symlink() {
            snap.insert_symlink(entry.path, String::from_utf8_lossy(&content));
        } else if content.len() as u64 > max_file_size {
            // The listing said otherwise; the content decides.
            snap.insert_sized(entry.path, content.len() as u64);
        } else {
            snap.insert(entry.path, content);
        }
    }
    Ok(snap)
}
