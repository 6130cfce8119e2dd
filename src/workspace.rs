//! A local repository opened for the command line: its files, its config and the catalogue.

use std::path::{Path, PathBuf};

use crate::catalogue::{Catalogue, CatalogueError};
use crate::config::{ConfigError, RepoConfig};
use crate::load::{self, LoadError, LoadOptions, Loaded};
use crate::snapshot::{LocalDir, SnapshotError};

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("repo config: {0}")]
    Config(#[from] ConfigError),
    #[error("rules catalogue: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Load(#[from] LoadError),
}

pub struct Workspace {
    pub root: PathBuf,
    pub snapshot: LocalDir,
    /// The config file found (repo-relative), if any.
    pub config_path: Option<String>,
    pub config: RepoConfig,
    pub catalogue: Catalogue,
}

impl Workspace {
    /// Open a checkout: list it, read and validate its config, load the catalogue (embedded,
    /// or from `rules_dir`) with the repo's extra apps.
    pub fn open(path: &Path, rules_dir: Option<&Path>) -> Result<Workspace, WorkspaceError> {
        let snapshot = LocalDir::new(path)?;
        let (config_path, config) = RepoConfig::discover(snapshot.root())?;
        let catalogue = match rules_dir {
            Some(dir) => Catalogue::load_dir(dir)?,
            None => Catalogue::embedded()?,
        }
        .with_repo_apps(&config.apps);
        Ok(Workspace {
            root: path.to_path_buf(),
            snapshot,
            config_path,
            config,
            catalogue,
        })
    }

    /// Load every file, honouring the config's `ignore-paths`.
    pub fn load(&self, max_file_size: u64) -> Result<Loaded, WorkspaceError> {
        Ok(load::load(
            &self.snapshot,
            &self.load_options(max_file_size),
        )?)
    }

    /// The options [`Workspace::load`] uses.
    pub fn load_options(&self, max_file_size: u64) -> LoadOptions {
        LoadOptions {
            max_file_size,
            ignore_paths: self.config.ignore_paths.clone(),
            ..LoadOptions::default()
        }
    }
}
