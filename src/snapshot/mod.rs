//! Snapshots: the files of one commit, behind one small trait, so that the CLI (a local
//! directory) and the App (a GitHub tree) feed the same loader.

mod local;
mod memory;
mod overlay;

pub use local::LocalDir;
pub use memory::MemorySnapshot;
pub use overlay::Overlay;

/// One path of a snapshot, with what the walk already knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Repository-relative, `/`-separated.
    pub path: String,
    pub size: u64,
    pub state: EntryState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryState {
    /// A regular file to read.
    File,
    /// Excluded by an ignore file (`.gitignore`, `.sourceignore`); `dir` when a whole
    /// directory was left out (its files are not listed one by one).
    Ignored { by: String, dir: bool },
    /// A symbolic link; never followed. `outside` when its target leaves the tree.
    Symlink { target: String, outside: bool },
    /// A FIFO, socket or device.
    NotRegular,
    /// The walk could not look at it.
    Unreadable { message: String },
}

/// Why a snapshot could not be listed at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {path}: {source}")]
    Root {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a directory")]
    NotADirectory { path: String },
}

/// Why one file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{size} bytes, over the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    Io(String),
}

/// The files of one commit.
pub trait Snapshot: Sync {
    /// Every path, sorted, with ignore rules and symlinks already decided.
    fn entries(&self) -> Result<Vec<Entry>, SnapshotError>;
    /// The bytes of a file listed as [`EntryState::File`], refusing more than `limit` bytes.
    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, ReadError>;
}
