//! Kustomize builds of a folder: `resources` (files and folders), `components`, patches
//! (`patches`, `patchesStrategicMerge`, `patchesJson6902`), `namespace`, `namePrefix` /
//! `nameSuffix`; and the kustomization Flux generates for a folder that has none.

use crate::load::SkipReason;
use crate::yaml::{Node, Span};

use super::context::{Ctx, MAX_DEPTH};
use super::index::{is_remote, resolve};
use super::inline::parse_embedded;
use super::item::Item;
use super::namespace::override_namespace;
use super::patch::{Patch, Target, apply_patch};
use super::tree;

/// What one kustomization says (read from a kustomization file, or put together by Flux).
#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    /// The folder its relative paths start from.
    pub dir: String,
    /// The file it was read from (for notes).
    pub origin: String,
    pub resources: Vec<String>,
    pub components: Vec<String>,
    pub patches: Patches,
    pub namespace: Option<(String, Span)>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
}

/// Patches in the three forms, in the order Kustomize applies them.
#[derive(Clone, Debug, Default)]
pub struct Patches {
    pub strategic_merge: Vec<Patch>,
    pub patches: Vec<Patch>,
    pub json6902: Vec<Patch>,
}

impl Patches {
    pub fn extend(&mut self, other: Patches) {
        self.strategic_merge.extend(other.strategic_merge);
        self.patches.extend(other.patches);
        self.json6902.extend(other.json6902);
    }
}

/// Kustomize's own build of a folder that holds a kustomization file.
pub fn build_dir(ctx: &mut Ctx, dir: &str) -> Vec<Item> {
    if ctx.stack.iter().any(|d| d == dir) || ctx.stack.len() >= MAX_DEPTH {
        ctx.note(
            dir,
            "kustomization includes itself (cycle) or nests too deep",
            false,
        );
        return Vec::new();
    }
    if !ctx.spend(16, dir) {
        return Vec::new();
    }
    let Some(k) = read_dir(ctx, dir) else {
        ctx.note(dir, "folder has no kustomization file", false);
        return Vec::new();
    };
    ctx.stack.push(dir.to_owned());
    let mut items = Vec::new();
    run(ctx, &k, &mut items);
    ctx.stack.pop();
    items
}

/// The kustomization file of a folder, read (None when there is none or it is unreadable).
pub fn read_dir(ctx: &mut Ctx, dir: &str) -> Option<Kustomization> {
    match ctx.index.kustomization_file(dir)? {
        Ok(file) => {
            ctx.use_file(file);
            let root = file.documents.iter().find_map(|d| d.root_node())?;
            Some(read(ctx, dir, &file.path, &root))
        }
        Err(path) => {
            let reason = ctx
                .index
                .skipped(&path)
                .map_or_else(|| "unreadable".to_owned(), |s| s.reason.to_string());
            ctx.note(path, format!("kustomization file skipped: {reason}"), true);
            None
        }
    }
}

/// A kustomization from its document.
pub fn read(ctx: &mut Ctx, dir: &str, origin: &str, root: &Node) -> Kustomization {
    let strings = |key: &str| -> Vec<String> {
        tree::strings(root.get(key))
            .into_iter()
            .map(|(s, _)| s.to_owned())
            .collect()
    };
    let mut resources = strings("resources");
    resources.extend(strings("bases"));
    for key in ["configMapGenerator", "secretGenerator"] {
        if root.get(key).is_some() {
            ctx.note(origin, format!("{key} is not modelled"), false);
        }
    }
    if root.get("helmCharts").is_some() {
        ctx.note(origin, "helmCharts: chart templates are not rendered", true);
    }
    if root.get("replacements").is_some() {
        ctx.note(origin, "replacements are not modelled", false);
    }
    Kustomization {
        dir: dir.to_owned(),
        origin: origin.to_owned(),
        resources,
        components: strings("components"),
        patches: read_patches(ctx, dir, origin, root),
        namespace: root
            .get("namespace")
            .and_then(|n| Some((n.as_text()?.to_owned(), n.span)))
            .filter(|(n, _)| !n.is_empty()),
        name_prefix: root
            .get("namePrefix")
            .and_then(Node::as_text)
            .map(str::to_owned),
        name_suffix: root
            .get("nameSuffix")
            .and_then(Node::as_text)
            .map(str::to_owned),
    }
}

/// `patches`, `patchesStrategicMerge` and `patchesJson6902` of a kustomization or a Flux
/// Kustomization `spec` (patch files are relative to `dir`).
pub fn read_patches(ctx: &mut Ctx, dir: &str, origin: &str, root: &Node) -> Patches {
    let mut out = Patches::default();
    for (i, p) in tree::items(root.get("patches")).iter().enumerate() {
        let label = format!("{origin} patches[{i}]");
        if let Some(patch) = read_patch(ctx, dir, &label, p) {
            out.patches.push(patch);
        }
    }
    for (i, p) in tree::items(root.get("patchesStrategicMerge"))
        .iter()
        .enumerate()
    {
        let label = format!("{origin} patchesStrategicMerge[{i}]");
        let docs = match p.as_text() {
            Some(t) if !t.contains('\n') => patch_file(ctx, dir, &label, t),
            Some(_) => embedded(ctx, &label, p),
            None => Some(vec![p.clone()]),
        };
        if let Some(docs) = docs {
            out.strategic_merge.push(Patch {
                docs,
                target: None,
                origin: label,
            });
        }
    }
    for (i, p) in tree::items(root.get("patchesJson6902")).iter().enumerate() {
        let label = format!("{origin} patchesJson6902[{i}]");
        if let Some(patch) = read_patch(ctx, dir, &label, p) {
            out.json6902.push(patch);
        }
    }
    out
}

fn read_patch(ctx: &mut Ctx, dir: &str, label: &str, entry: &Node) -> Option<Patch> {
    let docs = if let Some(p) = entry.get("patch") {
        match p.as_scalar() {
            Some(_) => embedded(ctx, label, p)?,
            None => vec![p.clone()],
        }
    } else if let Some(path) = entry.get("path").and_then(Node::as_text) {
        patch_file(ctx, dir, label, path)?
    } else {
        ctx.note(label, "patch has neither `patch` nor `path`", false);
        return None;
    };
    Some(Patch {
        docs,
        target: entry.get("target").map(Target::from_node),
        origin: label.to_owned(),
    })
}

fn embedded(ctx: &mut Ctx, label: &str, scalar: &Node) -> Option<Vec<Node>> {
    let loaded = ctx.loaded();
    let text = scalar.as_scalar().map_or("", |s| &*s.value).to_owned();
    let parsed = ctx
        .embedded
        .entry((scalar.span, text))
        .or_insert_with(|| parse_embedded(loaded, scalar).map_err(|e| e.to_string()))
        .clone();
    match parsed {
        Ok(docs) => Some(docs),
        Err(e) => {
            ctx.note(label, format!("inline patch is not valid YAML: {e}"), false);
            None
        }
    }
}

fn patch_file(ctx: &mut Ctx, dir: &str, label: &str, rel: &str) -> Option<Vec<Node>> {
    let Some(path) = resolve(dir, rel) else {
        ctx.note(
            label,
            format!("patch path `{rel}` leaves the repository"),
            false,
        );
        return None;
    };
    match ctx.index.file(&path) {
        Some(file) => {
            ctx.use_file(file);
            Some(
                file.documents
                    .iter()
                    .filter_map(|d| d.root_node())
                    .collect(),
            )
        }
        None => {
            let reason = ctx
                .index
                .skipped(&path)
                .map_or_else(|| "not found".to_owned(), |s| s.reason.to_string());
            ctx.note(path, format!("patch file {reason}"), false);
            None
        }
    }
}

/// Build `k` into `items`: its resources are appended, then its components and
/// transformations apply to everything in `items` (for a component, the parent's resources).
pub fn run(ctx: &mut Ctx, k: &Kustomization, items: &mut Vec<Item>) {
    for entry in &k.resources {
        add_resource(ctx, k, entry, items);
    }
    for entry in &k.components {
        add_component(ctx, k, entry, items);
    }
    transform(ctx, k, items);
}

fn add_resource(ctx: &mut Ctx, k: &Kustomization, entry: &str, items: &mut Vec<Item>) {
    if is_remote(entry) {
        ctx.note(
            k.origin.clone(),
            format!("remote resource {entry} is not analysed"),
            true,
        );
        return;
    }
    let Some(path) = resolve(&k.dir, entry) else {
        ctx.note(
            k.origin.clone(),
            format!("resource `{entry}` leaves the repository"),
            false,
        );
        return;
    };
    if let Some(file) = ctx.index.file(&path) {
        let docs = ctx.documents(file);
        items.extend(docs);
    } else if let Some(s) = ctx.index.skipped(&path) {
        let reason = s.reason.to_string();
        ctx.note(path, reason, false);
    } else if ctx.index.is_dir(&path) {
        let built = build_dir(ctx, &path);
        items.extend(built);
    } else {
        ctx.note(
            k.origin.clone(),
            format!("resource `{entry}` not found"),
            false,
        );
    }
}

fn add_component(ctx: &mut Ctx, k: &Kustomization, entry: &str, items: &mut Vec<Item>) {
    if is_remote(entry) {
        ctx.note(
            k.origin.clone(),
            format!("remote component {entry} is not analysed"),
            true,
        );
        return;
    }
    let Some(dir) = resolve(&k.dir, entry) else {
        ctx.note(
            k.origin.clone(),
            format!("component `{entry}` leaves the repository"),
            false,
        );
        return;
    };
    if ctx.stack.contains(&dir) || ctx.stack.len() >= MAX_DEPTH {
        ctx.note(
            dir,
            "component includes itself (cycle) or nests too deep",
            false,
        );
        return;
    }
    let Some(component) = read_dir(ctx, &dir) else {
        ctx.note(
            k.origin.clone(),
            format!("component `{entry}` not found"),
            false,
        );
        return;
    };
    ctx.stack.push(dir);
    run(ctx, &component, items);
    ctx.stack.pop();
}

/// Patches, namespace and name prefix/suffix, in Kustomize's order.
fn transform(ctx: &mut Ctx, k: &Kustomization, items: &mut Vec<Item>) {
    for p in &k.patches.strategic_merge {
        apply_patch(items, p, &mut ctx.notes);
    }
    for p in &k.patches.patches {
        apply_patch(items, p, &mut ctx.notes);
    }
    if let Some((ns, span)) = &k.namespace {
        override_namespace(items, ns, *span);
    }
    if k.name_prefix.is_some() || k.name_suffix.is_some() {
        rename(items, k.name_prefix.as_deref(), k.name_suffix.as_deref());
    }
    for p in &k.patches.json6902 {
        apply_patch(items, p, &mut ctx.notes);
    }
}

/// `namePrefix` / `nameSuffix` on every resource but Namespaces and CRDs (references to the
/// renamed resources are not rewritten).
fn rename(items: &mut [Item], prefix: Option<&str>, suffix: Option<&str>) {
    for item in items {
        if item.kind() == "Namespace" || item.kind() == "CustomResourceDefinition" {
            continue;
        }
        let name = format!(
            "{}{}{}",
            prefix.unwrap_or(""),
            item.name(),
            suffix.unwrap_or("")
        );
        if let Some(node) =
            tree::get_mut(&mut item.node, "metadata").and_then(|m| tree::get_mut(m, "name"))
        {
            tree::set_scalar_value(node, name);
        }
    }
}

/// The resources of the kustomization Flux generates for a folder without one: every
/// `*.yaml` / `*.yml` file below it, and each sub-folder that has a kustomization file as a
/// whole (it is not descended into), in path order.
pub fn generate(ctx: &mut Ctx, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(ctx, dir, dir, &mut out, 0);
    out.sort();
    out
}

fn walk(ctx: &mut Ctx, base: &str, dir: &str, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let index = ctx.index;
    for file in index.files_in(dir) {
        if is_yaml_name(&file.path) {
            out.push(relative(base, &file.path));
        }
    }
    // Flux would apply (SOPS) or reject (invalid YAML) these; say so.
    for s in index.skipped_in(dir) {
        if is_yaml_name(&s.path) && !matches!(s.reason, SkipReason::Ignored { .. }) {
            ctx.note(s.path.clone(), s.reason.to_string(), false);
        }
    }
    let subdirs: Vec<String> = index.subdirs(dir).map(str::to_owned).collect();
    for sub in subdirs {
        if index.kustomization_file(&sub).is_some() {
            out.push(relative(base, &sub));
        } else {
            walk(ctx, base, &sub, out, depth + 1);
        }
    }
}

fn is_yaml_name(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

fn relative(base: &str, path: &str) -> String {
    if base.is_empty() {
        path.to_owned()
    } else {
        path.strip_prefix(base)
            .map(|p| p.trim_start_matches('/').to_owned())
            .unwrap_or_else(|| path.to_owned())
    }
}
