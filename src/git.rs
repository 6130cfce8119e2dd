//! The local git repository around a checkout (git2): recent commit subjects (for the pull
//! request title's style) and one branch and commit per fix kind, made from HEAD without
//! touching the working tree or the index.

use std::path::{Path, PathBuf};

use git2::{FileMode, Oid, Repository, Signature, build::TreeUpdateBuilder};

use crate::fix::FileChange;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git repository")]
    NotARepository(String),
    #[error("the repository has no commit yet")]
    NoHead,
    #[error(
        "branch {0} exists and its last commit was not made by ws-fix: delete it or choose another tree"
    )]
    BranchTaken(String),
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// A checkout's repository, and where the checkout sits in it.
pub struct LocalRepo {
    repo: Repository,
    /// The scanned folder relative to the repository's top (`""` at the top).
    prefix: PathBuf,
}

/// What [`LocalRepo::commit_branch`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum BranchOutcome {
    Created(Oid),
    Updated(Oid),
    Unchanged(Oid),
}

impl std::fmt::Display for BranchOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, oid) = match self {
            BranchOutcome::Created(oid) => ("created", oid),
            BranchOutcome::Updated(oid) => ("updated", oid),
            BranchOutcome::Unchanged(oid) => ("unchanged", oid),
        };
        let hex = oid.to_string();
        write!(f, "{what} (commit {})", &hex[..hex.len().min(12)])
    }
}

impl LocalRepo {
    pub fn discover(root: &Path) -> Result<LocalRepo, GitError> {
        let repo = Repository::discover(root)
            .map_err(|_| GitError::NotARepository(root.display().to_string()))?;
        let top = repo
            .workdir()
            .ok_or_else(|| GitError::NotARepository(root.display().to_string()))?
            .canonicalize()
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
        let here = root
            .canonicalize()
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
        let prefix = here
            .strip_prefix(&top)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        Ok(LocalRepo { repo, prefix })
    }

    /// The subjects of the last `n` commits of HEAD (empty for a repo without commits).
    pub fn subjects(&self, n: usize) -> Vec<String> {
        let Ok(mut walk) = self.repo.revwalk() else {
            return Vec::new();
        };
        if walk.push_head().is_err() {
            return Vec::new();
        }
        walk.filter_map(Result::ok)
            .filter_map(|oid| self.repo.find_commit(oid).ok())
            .filter_map(|c| c.summary().ok().flatten().map(str::to_owned))
            .take(n)
            .collect()
    }

    /// Commits `files` on top of HEAD as branch `branch` with `message`. An existing branch is
    /// replaced only when its last commit is ws-fix's (its message carries the metadata line);
    /// when it already holds the same tree on the same parent, nothing changes.
    pub fn commit_branch(
        &self,
        branch: &str,
        files: &[FileChange],
        message: &str,
    ) -> Result<BranchOutcome, GitError> {
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|_| GitError::NoHead)?;
        let mut update = TreeUpdateBuilder::new();
        for f in files {
            let blob = self.repo.blob(f.after.as_bytes())?;
            let path = self.prefix.join(&f.path);
            let path = path.to_string_lossy().replace('\\', "/");
            update.upsert(path, blob, FileMode::Blob);
        }
        let tree_id = update.create_updated(&self.repo, &head.tree()?)?;
        let tree = self.repo.find_tree(tree_id)?;
        let refname = format!("refs/heads/{branch}");
        let existing = self.repo.find_reference(&refname).ok();
        if let Some(r) = &existing {
            let tip = r.peel_to_commit()?;
            let ours = tip.message().is_ok_and(|m| m.contains("<!-- ws-fix: "));
            if !ours {
                return Err(GitError::BranchTaken(branch.to_owned()));
            }
            if tip.tree_id() == tree_id
                && tip.parent_ids().eq([head.id()])
                && tip.message().ok() == Some(message)
            {
                return Ok(BranchOutcome::Unchanged(tip.id()));
            }
        }
        let sig = self
            .repo
            .signature()
            .or_else(|_| Signature::now("ws-fix", "ws-fix@localhost"))?;
        let oid = self
            .repo
            .commit(None, &sig, &sig, message, &tree, &[&head])?;
        self.repo
            .reference(&refname, oid, true, "ws-fix: fix branch")?;
        Ok(if existing.is_some() {
            BranchOutcome::Updated(oid)
        } else {
            BranchOutcome::Created(oid)
        })
    }
}
