//! The loader: every file of a snapshot is either parsed into documents with byte spans, or
//! skipped with a reason. Nothing is dropped silently.

mod classify;
mod skip;
mod text;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use classify::{is_manifest_name, is_sops};
pub use skip::SkipReason;
pub use text::Text;

use crate::config::IgnorePaths;
use crate::snapshot::{EntryState, ReadError, Snapshot, SnapshotError};
use crate::yaml::{
    Document, FrozenDocument, Limits, LineCol, LineIndex, Span, YamlError, parse_file,
};

/// Default size limit for one file: 4 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub max_file_size: u64,
    pub limits: Limits,
    /// Paths to leave out (the repo config's `ignore-paths`).
    pub ignore_paths: IgnorePaths,
    /// Keep every node of every document. By default each document keeps only what the
    /// model can read ([`crate::model::apply::retain`]): the trees of a whole repo are held
    /// at once.
    pub full_trees: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            limits: Limits::default(),
            ignore_paths: IgnorePaths::default(),
            full_trees: false,
        }
    }
}

/// A parsed file: its text and its documents.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The id that spans of this file carry (increasing with the path).
    pub id: u32,
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// Read through [`SourceFile::text`].
    text: Text,
    /// Built on the first position asked for: most files of a repo never need one.
    lines: OnceLock<LineIndex>,
    pub documents: Vec<FrozenDocument>,
}

impl SourceFile {
    /// Parse one text as file `id`; `Err` is the reason it is skipped.
    pub fn parse(
        id: u32,
        path: &str,
        text: String,
        limits: &Limits,
    ) -> Result<SourceFile, SkipReason> {
        Self::parse_with(id, path.to_owned(), text, limits, |_, _| {}).map_err(|(_, r)| r)
    }

    /// Parse one text as file `id`, letting `keep` cut each document before it is frozen;
    /// `Err` gives the path back with the reason the file is skipped.
    fn parse_with(
        id: u32,
        path: String,
        text: String,
        limits: &Limits,
        mut keep: impl FnMut(&str, &mut Document),
    ) -> Result<SourceFile, (String, SkipReason)> {
        let frozen = parse_file(&text, id, limits).and_then(|documents| {
            let mut frozen = Vec::with_capacity(documents.len());
            for mut doc in documents {
                keep(&path, &mut doc);
                frozen.push(FrozenDocument::freeze(&doc)?);
            }
            Ok(frozen)
        });
        match frozen {
            Ok(documents) => Ok(SourceFile {
                id,
                path,
                text: Text::Plain(text.into_boxed_str()),
                lines: OnceLock::new(),
                documents,
            }),
            Err(e) => Err((path, yaml_skip(&e, &text))),
        }
    }

    /// The file's text (unpacked on the first call when the loader packed it; see [`Text`]).
    pub fn text(&self) -> &str {
        self.text.get()
    }

    /// Length of the text in bytes (without unpacking it).
    pub fn size(&self) -> usize {
        self.text.len()
    }

    /// The start of every line of the text.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(self.text()))
    }

    pub fn line_col(&self, offset: u32) -> LineCol {
        self.lines().line_col(self.text(), offset)
    }
}

fn yaml_skip(e: &YamlError, text: &str) -> SkipReason {
    let LineCol { line, column } = LineIndex::new(text).line_col(text, e.offset());
    let message = e.to_string();
    if e.is_limit() {
        SkipReason::OverLimit {
            line,
            column,
            message,
        }
    } else {
        SkipReason::InvalidYaml {
            line,
            column,
            message,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub path: String,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// Everything the loader found in a snapshot.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Parsed files, sorted by path.
    pub files: Vec<SourceFile>,
    /// Skipped files (and ignored folders), sorted by path.
    pub skipped: Vec<Skipped>,
}

impl Loaded {
    /// How many files were parsed (`parsed`) and skipped, by reason key.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        counts.insert("parsed", self.files.len());
        for s in &self.skipped {
            *counts.entry(s.reason.key()).or_insert(0) += 1;
        }
        counts
    }

    /// Every document of every parsed file, in path order.
    pub fn documents(&self) -> impl Iterator<Item = (&SourceFile, &FrozenDocument)> {
        self.files
            .iter()
            .flat_map(|f| f.documents.iter().map(move |d| (f, d)))
    }

    /// The parsed file with this id (the `file` of its spans).
    pub fn by_id(&self, id: u32) -> Option<&SourceFile> {
        self.files
            .binary_search_by(|f| f.id.cmp(&id))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The text and 1-based position of a span.
    pub fn locate(&self, span: Span) -> Option<(&SourceFile, LineCol)> {
        let file = self.by_id(span.file)?;
        Some((file, file.line_col(span.start)))
    }

    pub fn file(&self, path: &str) -> Option<&SourceFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Load every file of a snapshot.
pub fn load(snapshot: &dyn Snapshot, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let entries = snapshot.entries()?;
    let reasons: Vec<Option<SkipReason>> = {
        let chart_dirs = classify::chart_dirs(
            entries
                .iter()
                .filter(|e| e.state == EntryState::File)
                .map(|e| e.path.as_str()),
        );
        entries
            .iter()
            .map(|entry| skip_reason(entry, &chart_dirs, options))
            .collect()
    };

    let mut loaded = Loaded::default();
    // Paths move from the listing into the files: the listing is gone before parsing starts.
    let mut to_read = Vec::new();
    for (entry, reason) in entries.into_iter().zip(reasons) {
        match reason {
            Some(reason) => loaded.skipped.push(Skipped {
                path: entry.path,
                reason,
            }),
            None => to_read.push(entry.path),
        }
    }

    let parts = read_and_parse_all(snapshot, to_read, options);
    // Held for the whole scan: no growth slack.
    loaded
        .files
        .reserve_exact(parts.iter().map(|(files, _)| files.len()).sum());
    for (files, skipped) in parts {
        loaded.files.extend(files);
        loaded.skipped.extend(skipped);
    }
    loaded.files.sort_by(|a, b| a.path.cmp(&b.path));
    loaded.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(loaded)
}

/// Why an entry of the listing is not read, if it is not.
fn skip_reason(
    entry: &crate::snapshot::Entry,
    chart_dirs: &std::collections::HashSet<&str>,
    options: &LoadOptions,
) -> Option<SkipReason> {
    match &entry.state {
        EntryState::Ignored { by, dir } => Some(SkipReason::Ignored {
            by: by.clone(),
            dir: *dir,
        }),
        EntryState::Symlink { target, outside } => Some(SkipReason::Symlink {
            target: target.clone(),
            outside: *outside,
        }),
        EntryState::NotRegular => Some(SkipReason::NotRegular),
        EntryState::Unreadable { message } => Some(SkipReason::Unreadable {
            message: message.clone(),
        }),
        EntryState::File if options.ignore_paths.is_ignored(&entry.path, false) => {
            Some(SkipReason::ConfigIgnored)
        }
        EntryState::File => classify::classify_path(&entry.path, chart_dirs).or_else(|| {
            (entry.size > options.max_file_size).then_some(SkipReason::TooLarge {
                size: entry.size,
                limit: options.max_file_size,
            })
        }),
    }
}

/// The files parsed and skipped by one worker.
type Part = (Vec<SourceFile>, Vec<Skipped>);

/// Reads and parses files on every core; the parts keep the input order.
fn read_and_parse_all(
    snapshot: &dyn Snapshot,
    paths: Vec<String>,
    options: &LoadOptions,
) -> Vec<Part> {
    let mut paths: Vec<(u32, String)> = paths
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as u32, p))
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    if workers <= 1 {
        return vec![read_and_parse_part(snapshot, paths, options)];
    }
    let chunk = paths.len().div_ceil(workers);
    let mut parts = Vec::with_capacity(workers);
    while paths.len() > chunk {
        let rest = paths.split_off(chunk);
        parts.push(std::mem::replace(&mut paths, rest));
    }
    parts.push(paths);
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || read_and_parse_part(snapshot, part, options)))
            .collect();
        handles
            .into_iter()
            // A worker that panicked would lose its files silently: re-raise instead.
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Reads and parses files in order, packing their texts a block at a time.
fn read_and_parse_part(
    snapshot: &dyn Snapshot,
    part: Vec<(u32, String)>,
    options: &LoadOptions,
) -> Part {
    let (mut files, mut skipped) = (Vec::<SourceFile>::with_capacity(part.len()), Vec::new());
    let (mut unpacked_from, mut unpacked) = (0, 0);
    for (id, path) in part {
        match read_and_parse(snapshot, id, path, options) {
            Ok(file) => {
                unpacked += file.size();
                files.push(file);
            }
            Err(s) => skipped.push(s),
        }
        if unpacked >= text::BLOCK {
            text::pack(files[unpacked_from..].iter_mut().map(|f| &mut f.text));
            (unpacked_from, unpacked) = (files.len(), 0);
        }
    }
    text::pack(files[unpacked_from..].iter_mut().map(|f| &mut f.text));
    files.shrink_to_fit();
    (files, skipped)
}

fn read_and_parse(
    snapshot: &dyn Snapshot,
    id: u32,
    path: String,
    options: &LoadOptions,
) -> Result<SourceFile, Skipped> {
    let text = match snapshot.read(&path, options.max_file_size) {
        Ok(bytes) => decode(bytes).and_then(|text| {
            if is_sops(&text) {
                Err(SkipReason::Sops)
            } else {
                Ok(text)
            }
        }),
        Err(ReadError::TooLarge { size, limit }) => Err(SkipReason::TooLarge { size, limit }),
        Err(ReadError::Io(message)) => Err(SkipReason::Unreadable { message }),
    };
    let text = match text {
        Ok(text) => text,
        Err(reason) => return Err(Skipped { path, reason }),
    };
    let full = options.full_trees;
    SourceFile::parse_with(id, path, text, &options.limits, |path, doc| {
        if !full {
            crate::model::apply::retain::document(path, doc);
        }
    })
    .map_err(|(path, reason)| Skipped { path, reason })
}

/// Text of a file: UTF-8 (with or without a BOM), else the reason it is not text.
fn decode(bytes: Vec<u8>) -> Result<String, SkipReason> {
    if bytes.contains(&0) {
        return Err(SkipReason::Binary);
    }
    String::from_utf8(bytes).map_err(|e| SkipReason::NotUtf8 {
        offset: e.utf8_error().valid_up_to() as u64,
    })
}
