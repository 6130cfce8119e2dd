//! What gets applied: entry points, kustomizations, patches, namespaces, substitution, and
//! resources built from HelmRelease values and operator resources.
//!
//! [`apply`] models what Flux, Kustomize and Argo CD apply from a repo: one
//! [`AppliedSet`] per entry point (a Flux `Kustomization` or Argo CD `Application` that
//! nothing else in the repo applies), or one set of every manifest when there is none.
//! [`plain`] is every document as written, for folders of manifests such as Envoy Gateway's
//! own test cases.
//!
//! How a set is made:
//! - `entry` finds the entry points; `set` builds each one's Kustomizations / Applications
//!   in turn (`flux`, `argo`), each on the folders `kustomize` reads (resources, components,
//!   `patch` with `merge` and `jsonpatch`, `namespace`), then Flux `substitute`s;
//! - `helm` (with `app_template` and `chart_values`) and `operators` add the routes and
//!   Services that HelmRelease values and operator resources make;
//! - what cannot be followed is a [`NotAnalysed`](super::resource::NotAnalysed) note of its
//!   set, and manifest files no set uses are [`Applied::not_applied`];
//! - `retain` is what the loader keeps of each document for all of the above (and `eg`) to
//!   read: a reader of a new kind or key changes it too.
//!
//! Working copies of nodes keep their spans: a node a patch brought points into the patch,
//! a substituted scalar keeps the span of the text with the `${VAR}`, and nodes built from
//! HelmRelease values point into the values (synthetic keys: the values node they come from).
//! Input is user data: wrong types, missing fields and cycles cost a note, never a panic,
//! and the work one run may do is bounded.

mod app_template;
mod argo;
mod chart_values;
mod context;
mod entry;
mod flux;
mod helm;
mod index;
mod inline;
mod item;
mod jsonpatch;
mod kustomize;
mod merge;
mod namespace;
mod operators;
mod patch;
pub(crate) mod regex;
pub mod retain;
mod set;
mod substitute;
mod tree;

use crate::load::Loaded;

use super::resource::{Applied, AppliedSet, Origin, Resource};

pub use namespace::is_cluster_scoped;

/// Every document of every parsed file as one set, namespaces from `metadata` only: the model
/// of a plain folder of manifests (and of Envoy Gateway's own test cases).
pub fn plain(loaded: &Loaded) -> AppliedSet {
    let resources = loaded
        .documents()
        .filter_map(|(_, doc)| {
            let root = doc.root_node()?;
            Some(Resource {
                api_version: doc.api_version()?.to_owned(),
                kind: doc.kind()?.to_owned(),
                name: doc.name().unwrap_or_default().to_owned(),
                namespace: doc.namespace().map(str::to_owned),
                node: root,
                span: doc.span,
                origin: Origin::Manifest,
            })
        })
        .collect();
    AppliedSet {
        entry_point: "all manifests".into(),
        entry_span: None,
        resources,
        not_analysed: Vec::new(),
    }
}

/// What a repo applies: one set per entry point (in path order), or one set of every
/// manifest when the repo has none; and the manifest files that no set applies.
pub fn apply(loaded: &Loaded) -> Applied {
    let mut sets = Vec::new();
    let not_applied = apply_each(loaded, |set| sets.push(set))
        .into_iter()
        .filter_map(|id| Some(loaded.by_id(id)?.path.clone()))
        .collect();
    Applied { sets, not_applied }
}

/// [`apply`] one set at a time: `each` gets every set as it is built, so that a caller that
/// needs one set at a time (the scan) never holds them all. Returns the ids of the manifest
/// files that no set applies.
pub fn apply_each(loaded: &Loaded, mut each: impl FnMut(AppliedSet)) -> Vec<u32> {
    let index = index::RepoIndex::new(loaded);
    let mut ctx = context::Ctx::new(&index);
    let entries = entry::entry_points(&index);
    if entries.is_empty() {
        each(set::all_manifests(&mut ctx));
        return Vec::new();
    }
    for (fi, di) in entries {
        let file = &loaded.files[fi];
        let Some(entry) = item::Item::from_document(&file.documents[di]) else {
            continue;
        };
        ctx.use_file(file);
        // Whatever applies the entry point applies the rest of its file too (a ConfigMap of
        // cluster settings next to it), except other Kustomizations and Applications.
        let siblings = file
            .documents
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != di)
            .filter_map(|(_, d)| item::Item::from_document(d))
            .filter(|i| !i.is_flux_kustomization() && !i.is_argo_application())
            .collect();
        let label = match entry.namespace() {
            Some(ns) => format!("{} {ns}/{}", entry.kind(), entry.name()),
            None => format!("{} {}", entry.kind(), entry.name()),
        };
        each(set::from_entry(&mut ctx, entry, siblings, label));
    }
    loaded
        .files
        .iter()
        .filter(|f| !ctx.used.contains(&f.id))
        .filter(|f| {
            f.documents
                .iter()
                .any(|d| d.api_version().is_some() && d.kind().is_some())
        })
        .map(|f| f.id)
        .collect()
}
