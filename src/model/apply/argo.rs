//! What one Argo CD `Application` builds from its sources in this repository: a kustomize
//! folder or a directory of manifests, with `kustomize.patches` / `components` /
//! `namespace`, and `destination.namespace` as the default namespace. Helm sources (charts
//! from a Helm repository, or a chart folder here) are recorded as not analysed.

use crate::yaml::Node;

use super::context::Ctx;
use super::index::{join, repo_path};
use super::item::Item;
use super::kustomize::{self, Kustomization};
use super::namespace::{default_namespace, override_namespace};
use super::tree;

/// The resources an Application applies (child Applications included, not yet built).
pub fn build(ctx: &mut Ctx, app: &Item) -> Vec<Item> {
    let what = app.key().to_string();
    let Some(spec) = app.node.get("spec") else {
        ctx.note(what, "Application has no spec", false);
        return Vec::new();
    };
    let mut sources: Vec<&Node> = tree::items(spec.get("sources")).iter().collect();
    if let Some(s) = spec.get("source") {
        sources.insert(0, s);
    }
    let mut items = Vec::new();
    for source in sources {
        build_source(ctx, &what, source, &mut items);
    }
    if let Some(ns) = spec.path(&["destination", "namespace"])
        && let Some(text) = ns.as_text().filter(|t| !t.is_empty())
    {
        default_namespace(&mut items, text, ns.span);
    }
    items
}

fn build_source(ctx: &mut Ctx, what: &str, source: &Node, items: &mut Vec<Item>) {
    let repo = source.get("repoURL").and_then(Node::as_text).unwrap_or("");
    if let Some(chart) = source.get("chart").and_then(Node::as_text) {
        ctx.note(
            what,
            format!("Helm chart {chart} from {repo}: templates and values are not rendered"),
            true,
        );
        return;
    }
    let Some(raw) = source.get("path").and_then(Node::as_text) else {
        if source.get("ref").is_none() {
            ctx.note(what, format!("source {repo} has no path"), true);
        }
        return;
    };
    let Some(dir) = repo_path(raw).filter(|d| ctx.index.is_dir(d)) else {
        ctx.note(
            what,
            format!("source {repo} path `{raw}` is not in this repository"),
            true,
        );
        return;
    };
    let chart = join(&dir, "Chart.yaml");
    if ctx.index.file(&chart).is_some() || ctx.index.skipped(&chart).is_some() {
        let values = if source.path(&["helm", "valueFiles"]).is_some()
            || source.path(&["helm", "values"]).is_some()
            || source.path(&["helm", "valuesObject"]).is_some()
        {
            " with Helm values"
        } else {
            ""
        };
        ctx.note(
            what,
            format!("Helm chart in {dir}{values}: templates are not rendered"),
            true,
        );
        return;
    }
    let mut k = match ctx.index.kustomization_file(&dir) {
        Some(_) => match kustomize::read_dir(ctx, &dir) {
            Some(k) => k,
            None => return,
        },
        None => {
            let recurse = source
                .path(&["directory", "recurse"])
                .and_then(Node::as_bool)
                .unwrap_or(false);
            Kustomization {
                resources: directory(ctx, &dir, recurse),
                origin: dir.clone(),
                dir,
                ..Kustomization::default()
            }
        }
    };
    let mut built = Vec::new();
    if let Some(kz) = source.get("kustomize") {
        k.components.extend(
            tree::strings(kz.get("components"))
                .into_iter()
                .map(|(c, _)| c.to_owned()),
        );
        let patches = kustomize::read_patches(ctx, &k.dir, what, kz);
        k.patches.extend(patches);
        kustomize::run(ctx, &k, &mut built);
        if let Some(ns) = kz.get("namespace")
            && let Some(text) = ns.as_text().filter(|t| !t.is_empty())
        {
            override_namespace(&mut built, text, ns.span);
        }
    } else {
        kustomize::run(ctx, &k, &mut built);
    }
    items.extend(built);
}

/// The manifests of an Argo CD directory source (sub-folders only with `recurse: true`).
fn directory(ctx: &mut Ctx, dir: &str, recurse: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for f in ctx.index.files_in(&d) {
            let name = f.path.rsplit('/').next().unwrap_or(&f.path);
            let manifest =
                name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
            if manifest && !name.starts_with("kustomization.") {
                out.push(relative(dir, &f.path));
            }
        }
        if recurse && out.len() < 1_000_000 {
            dirs.extend(ctx.index.subdirs(&d).map(str::to_owned));
        }
    }
    out.sort();
    out
}

fn relative(base: &str, path: &str) -> String {
    if base.is_empty() {
        return path.to_owned();
    }
    path.strip_prefix(base)
        .map_or(path, |p| p.trim_start_matches('/'))
        .to_owned()
}
