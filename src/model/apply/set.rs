//! One applied set: everything an entry point applies (the Kustomizations and Applications
//! it applies built in turn, each once), or every manifest of a repo without entry points;
//! then the resources built from HelmRelease values and operator CRs, duplicates dropped.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crate::model::resource::{AppliedSet, NotAnalysed};
use crate::yaml::{Node, Span};

use super::context::Ctx;
use super::helm::{self, Sources};
use super::index::{KUSTOMIZATION_NAMES, resolve};
use super::item::{FLUX_HELM, FLUX_SOURCE, Identity, Item};
use super::kustomize;
use super::operators::{self, GRAFANA_GROUP};
use super::{argo, flux, tree};

/// Most Flux Kustomizations / Argo Applications built for one set.
const MAX_OBJECTS: usize = 100_000;

/// Most builds of one Kustomization / Application document in one set: the same document may
/// rightly be applied more than once (into two namespaces), but not without end.
const MAX_BUILDS_PER_DOCUMENT: usize = 16;

/// The set of one entry point (`siblings`: the other documents of its file).
pub fn from_entry(ctx: &mut Ctx, entry: Item, siblings: Vec<Item>, label: String) -> AppliedSet {
    ctx.notes.clear();
    let entry_span = entry.span;
    let mut items = vec![entry.clone()];
    items.extend(siblings);
    let owned = |(group, kind, namespace, name): Identity| {
        [group, kind, namespace, name].map(str::to_owned)
    };
    let mut seen: HashSet<_> = HashSet::from([owned(entry.identity())]);
    let mut per_document: HashMap<Span, usize> = HashMap::from([(entry.span, 1)]);
    let mut queue = VecDeque::from([entry]);
    let mut built = 0;
    while let Some(object) = queue.pop_front() {
        built += 1;
        if built > MAX_OBJECTS {
            ctx.note(
                label.clone(),
                "too many Kustomizations/Applications; stopped",
                false,
            );
            break;
        }
        let out = if object.is_flux_kustomization() {
            flux::build(ctx, &object)
        } else {
            argo::build(ctx, &object)
        };
        for item in out {
            if (item.is_flux_kustomization() || item.is_argo_application())
                && seen.insert(owned(item.identity()))
            {
                let builds = per_document.entry(item.span).or_insert(0);
                *builds += 1;
                if *builds <= MAX_BUILDS_PER_DOCUMENT {
                    queue.push_back(item.clone());
                } else {
                    ctx.note(
                        item.key().to_string(),
                        "built too many times in one set; skipped",
                        false,
                    );
                }
            }
            items.push(item);
        }
    }
    finish(ctx, items, label, Some(entry_span))
}

/// The set of a repo without entry points: each kustomization folder that no other one
/// includes, built, plus every manifest of the files those builds did not use.
pub fn all_manifests(ctx: &mut Ctx) -> AppliedSet {
    ctx.notes.clear();
    let mut items = Vec::new();
    for dir in kustomize_roots(ctx) {
        items.extend(kustomize::build_dir(ctx, &dir));
    }
    let loaded = ctx.loaded();
    for file in &loaded.files {
        if ctx.used.contains(&file.id) || is_kustomization_file(&file.path) {
            continue;
        }
        let docs = ctx.documents(file);
        items.extend(docs.into_iter().filter(|i| i.kind() != "Component"));
    }
    finish(ctx, items, "all manifests".into(), None)
}

fn is_kustomization_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    KUSTOMIZATION_NAMES.contains(&name)
}

/// Folders with a kustomization file (not a Component) that no other kustomization lists.
fn kustomize_roots(ctx: &Ctx) -> Vec<String> {
    let loaded = ctx.loaded();
    let mut dirs = BTreeSet::new();
    let mut referenced = HashSet::new();
    for file in loaded
        .files
        .iter()
        .filter(|f| is_kustomization_file(&f.path))
    {
        let dir = super::index::parent(&file.path).to_owned();
        let Some(root) = file.documents.iter().find_map(|d| d.root_node()) else {
            continue;
        };
        for key in ["resources", "bases", "components"] {
            for (entry, _) in tree::strings(root.get(key)) {
                if let Some(p) = resolve(&dir, entry) {
                    referenced.insert(p);
                }
            }
        }
        if root.get("kind").and_then(Node::as_text) != Some("Component") {
            dirs.insert(dir);
        }
    }
    dirs.into_iter()
        .filter(|d| !referenced.contains(d))
        .collect()
}

/// Drop duplicates, add what HelmReleases and operators build, make the set.
fn finish(ctx: &mut Ctx, items: Vec<Item>, label: String, entry_span: Option<Span>) -> AppliedSet {
    // Identities borrow from the items: what is kept is settled before any item moves.
    let mut seen: HashSet<Identity> = HashSet::with_capacity(items.len());
    let kept: Vec<bool> = items.iter().map(|i| seen.insert(i.identity())).collect();

    let extras: Vec<Vec<Item>> = {
        let mut sources: Sources = Sources::new();
        for (item, _) in items.iter().zip(&kept).filter(|(_, k)| **k) {
            if item.group() == FLUX_SOURCE {
                sources.insert(
                    (item.kind(), item.namespace().unwrap_or(""), item.name()),
                    item,
                );
            }
        }
        items
            .iter()
            .zip(&kept)
            .map(|(item, kept)| {
                if !kept {
                    Vec::new()
                } else if item.is(FLUX_HELM, "HelmRelease") {
                    helm::expand(ctx, item, &sources)
                } else if item.is(GRAFANA_GROUP, "Grafana") {
                    operators::grafana(item)
                } else {
                    Vec::new()
                }
            })
            .collect()
    };
    let new_extras: Vec<Vec<bool>> = extras
        .iter()
        .map(|extra| extra.iter().map(|e| seen.insert(e.identity())).collect())
        .collect();
    drop(seen);
    let mut out = Vec::with_capacity(items.len());
    for (((item, kept), extra), new) in items.into_iter().zip(kept).zip(extras).zip(new_extras) {
        if kept {
            out.push(item);
        }
        out.extend(
            extra
                .into_iter()
                .zip(new)
                .filter_map(|(e, n)| n.then_some(e)),
        );
    }

    let mut notes: Vec<NotAnalysed> = std::mem::take(&mut ctx.notes);
    notes.sort_by(|a, b| (&a.what, &a.reason).cmp(&(&b.what, &b.reason)));
    notes.dedup();
    AppliedSet {
        entry_point: label,
        entry_span,
        resources: out.into_iter().map(Item::into_resource).collect(),
        not_analysed: notes,
    }
}
