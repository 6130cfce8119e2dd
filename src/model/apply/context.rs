//! The state one `apply` run carries: the repo index, the notes of the set being built
//! (what is not analysed), the files used so far, and guards against cycles.

use std::collections::{HashMap, HashSet};

use crate::load::{Loaded, SourceFile};
use crate::model::resource::NotAnalysed;
use crate::yaml::{Node, Span};

use super::index::RepoIndex;
use super::item::Item;

/// Deepest nesting of kustomizations, components and Flux/Argo children followed.
pub const MAX_DEPTH: usize = 64;

/// Documents and folder builds one run may take in, whatever the repo (a folder listed
/// twice at every level of a deep chain would otherwise cost an exponential number).
const WORK_BUDGET: usize = 2_000_000;

pub struct Ctx<'a> {
    pub index: &'a RepoIndex<'a>,
    /// Notes of the set being built.
    pub notes: Vec<NotAnalysed>,
    /// Ids of files read by any set (documents applied, kustomization and patch files).
    pub used: HashSet<u32>,
    /// Folders being built, innermost last (a folder that includes itself is a cycle).
    pub stack: Vec<String>,
    /// Work left (see [`WORK_BUDGET`]).
    budget: usize,
    /// Inline patches already parsed, by the span and text of their string (a substitution
    /// may change the text at the same span): a component's or a Flux Kustomization's
    /// patches are applied once per set that includes them.
    pub embedded: HashMap<(Span, String), Result<Vec<Node>, String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(index: &'a RepoIndex<'a>) -> Self {
        Ctx {
            index,
            notes: Vec::new(),
            used: HashSet::new(),
            stack: Vec::new(),
            budget: WORK_BUDGET,
            embedded: HashMap::new(),
        }
    }

    pub fn loaded(&self) -> &'a Loaded {
        self.index.loaded
    }

    pub fn note(&mut self, what: impl Into<String>, reason: impl Into<String>, route: bool) {
        self.notes.push(NotAnalysed {
            what: what.into(),
            reason: reason.into(),
            route,
        });
    }

    /// Take `cost` from the work budget; false (with a note, once) when it is spent.
    pub fn spend(&mut self, cost: usize, what: &str) -> bool {
        if self.budget >= cost {
            self.budget -= cost;
            return true;
        }
        self.note(
            what,
            "work budget spent (the repo includes too much, too often); not built",
            false,
        );
        false
    }

    pub fn use_file(&mut self, file: &SourceFile) {
        self.used.insert(file.id);
    }

    /// The applicable documents of a file (those with `apiVersion` and `kind`); the file
    /// counts as used.
    pub fn documents(&mut self, file: &SourceFile) -> Vec<Item> {
        self.use_file(file);
        if !self.spend(file.documents.len().max(1), &file.path) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, doc) in file.documents.iter().enumerate() {
            match Item::from_document(doc) {
                Some(item) => out.push(item),
                None if doc.root().is_some() => self.note(
                    file.path.clone(),
                    format!("document {} has no apiVersion and kind", i + 1),
                    false,
                ),
                None => {}
            }
        }
        out
    }
}
