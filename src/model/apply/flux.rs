//! What one Flux `Kustomization` builds: its `spec.path` in this repository (a kustomization
//! folder, or every manifest below it), with `spec.patches`, `spec.components`,
//! `targetNamespace` and name prefix/suffix merged in as Flux does, then `postBuild`
//! substitution on everything it built.

use crate::yaml::Node;

use super::context::{Ctx, MAX_DEPTH};
use super::index::{RepoIndex, repo_path};
use super::item::Item;
use super::kustomize::{self, Kustomization};
use super::substitute::{Vars, valid_name};
use super::tree;

/// The annotation (or label) that turns substitution off for one object.
const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// The resources a Flux Kustomization applies (children included, not yet built).
pub fn build(ctx: &mut Ctx, ks: &Item) -> Vec<Item> {
    let what = ks.key().to_string();
    let Some(spec) = ks.node.get("spec").filter(|s| s.as_map().is_some()) else {
        ctx.note(what, "Kustomization has no spec", false);
        return Vec::new();
    };
    if let Some(src) = other_source(ctx.index, spec.get("sourceRef"), ks.namespace()) {
        ctx.note(what, format!("source {src} is not this repository"), true);
        return Vec::new();
    }
    // No path is the source's root; a path that is not a string cannot be followed.
    let raw_path = match spec.get("path") {
        None => "",
        Some(p) => p.as_text().unwrap_or("${?}"),
    };
    let Some(dir) = repo_path(raw_path).filter(|d| !d.contains("${")) else {
        ctx.note(what, format!("path `{raw_path}` cannot be resolved"), true);
        return Vec::new();
    };
    if !ctx.index.is_dir(&dir) {
        ctx.note(
            what,
            format!("path `{raw_path}` is not in the repository"),
            true,
        );
        return Vec::new();
    }
    if ctx.stack.len() >= MAX_DEPTH {
        ctx.note(what, "Kustomizations nest too deep", false);
        return Vec::new();
    }

    let mut k = match ctx.index.kustomization_file(&dir) {
        Some(_) => match kustomize::read_dir(ctx, &dir) {
            Some(k) => k,
            None => return Vec::new(),
        },
        None => Kustomization {
            resources: kustomize::generate(ctx, &dir),
            dir: dir.clone(),
            origin: if dir.is_empty() {
                ".".into()
            } else {
                dir.clone()
            },
            ..Kustomization::default()
        },
    };
    // Flux writes its own settings into the kustomization before building it.
    k.components.extend(
        tree::strings(spec.get("components"))
            .into_iter()
            .map(|(c, _)| c.to_owned()),
    );
    let patches = kustomize::read_patches(ctx, &dir, &what, spec);
    k.patches.extend(patches);
    if let Some(ns) = spec.get("targetNamespace")
        && let Some(text) = ns.as_text().filter(|t| !t.is_empty())
    {
        k.namespace = Some((text.to_owned(), ns.span));
    }
    for (key, field) in [
        ("namePrefix", &mut k.name_prefix),
        ("nameSuffix", &mut k.name_suffix),
    ] {
        if let Some(v) = spec.get(key).and_then(Node::as_text) {
            *field = Some(v.to_owned());
        }
    }

    ctx.stack.push(format!("flux:{what}"));
    let mut items = Vec::new();
    kustomize::run(ctx, &k, &mut items);
    ctx.stack.pop();

    if let Some(post_build) = spec.get("postBuild") {
        let vars = vars(ctx, &what, post_build, ks.namespace());
        for item in &mut items {
            substitute(item, &vars);
        }
    }
    items
}

/// Substitute `vars` in every scalar of `item`, unless the object opts out.
pub fn substitute(item: &mut Item, vars: &Vars) {
    if tree::annotation(&item.node, SUBSTITUTE_ANNOTATION) == Some("disabled") {
        return;
    }
    tree::for_each_scalar_mut(&mut item.node, &mut |n| {
        let new = n.as_scalar().and_then(|s| vars.apply(&s.value));
        if let Some(new) = new {
            tree::set_scalar_value(n, new);
        }
    });
}

/// The variables of a `postBuild`: `substituteFrom` ConfigMaps found in the repo (Secrets and
/// missing ConfigMaps make the set opaque), then `substitute`, which wins.
fn vars(ctx: &mut Ctx, what: &str, post_build: &Node, namespace: Option<&str>) -> Vars {
    let mut vars = Vars::default();
    for source in tree::items(post_build.get("substituteFrom")) {
        let kind = source.get("kind").and_then(Node::as_text).unwrap_or("");
        let name = source.get("name").and_then(Node::as_text).unwrap_or("");
        let found = (kind == "ConfigMap")
            .then(|| ctx.index.find("ConfigMap", name, namespace))
            .flatten();
        match found {
            Some(cm) => {
                for (k, v) in cm
                    .get("data")
                    .and_then(Node::as_map)
                    .into_iter()
                    .flat_map(|m| m.iter())
                {
                    let key = k.key_string();
                    if valid_name(&key) {
                        let value = v.as_text().unwrap_or("").replace('\n', "");
                        vars.known.insert(key, value);
                    }
                }
            }
            None => {
                vars.opaque = true;
                let reason = if kind == "Secret" {
                    format!("substitution variables from Secret {name} are not read (symbolic)")
                } else {
                    format!(
                        "substitution variables from {kind} {name}: not in the repository (symbolic)"
                    )
                };
                ctx.note(what, reason, false);
            }
        }
    }
    for (k, v) in post_build
        .get("substitute")
        .and_then(Node::as_map)
        .into_iter()
        .flat_map(|m| m.iter())
    {
        let key = k.key_string();
        if valid_name(&key) {
            vars.known
                .insert(key, v.as_text().unwrap_or("").replace('\n', ""));
        }
    }
    vars
}

/// `Some(description)` when a `sourceRef` names something other than this repository: this
/// repository is the GitRepository `flux-system` (what `flux bootstrap` and the Flux Operator
/// create), or a GitRepository of the repo with the same URL as that one.
pub fn other_source(
    index: &RepoIndex,
    source_ref: Option<&Node>,
    namespace: Option<&str>,
) -> Option<String> {
    let source_ref = source_ref?;
    let kind = source_ref
        .get("kind")
        .and_then(Node::as_text)
        .unwrap_or("GitRepository");
    let name = source_ref.get("name").and_then(Node::as_text).unwrap_or("");
    let ns = source_ref
        .get("namespace")
        .and_then(Node::as_text)
        .or(namespace)
        .unwrap_or("");
    let description = format!("{kind} {ns}/{name}");
    if kind != "GitRepository" {
        return Some(description);
    }
    if name == "flux-system" {
        return None;
    }
    let url = |n: &str| {
        index
            .find("GitRepository", n, None)?
            .path(&["spec", "url"])
            .and_then(Node::as_text)
            .map(|u| u.trim_end_matches('/').trim_end_matches(".git").to_owned())
    };
    match (url(name), url("flux-system")) {
        (Some(a), Some(b)) if a == b => None,
        _ => Some(description),
    }
}
