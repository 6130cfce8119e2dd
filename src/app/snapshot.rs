//! A commit read through the Git Trees and Blobs API: the tree once, then only the blobs a scan
//! reads (YAML files, `Kustomization`, the repo config). A shallow git fetch would download every
//! file of the commit; infra repos are mostly YAML, but their other files (docs, scripts, images)
//! are not needed, and the API needs no git transport or disk.

use crate::github::{GitHubError, Repo};
use crate::snapshot::MemorySnapshot;

pub async fn fetch(
    repo: &Repo<'_>,
    tree: &str,
    max_file_size: u64,
) -> Result<MemorySnapshot, GitHubError> {
    let mut snap = MemorySnapshot::new();
    for entry in repo.tree(tree).await? {
        if !super::relevant(&entry.path) {
            continue;
        }
        if entry.size > max_file_size {
            // The loader reports it as too large from its size alone.
            snap.insert_sized(entry.path, entry.size);
            continue;
        }
        let bytes = repo.blob(&entry.sha).await?;
        snap.insert(entry.path, bytes);
    }
    Ok(snap)
}
