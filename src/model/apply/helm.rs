//! Flux `HelmRelease`s: the release name and namespace, the chart's name (from
//! `spec.chart.spec.chart` or the `chartRef` source), `{{ .Release.Name }}` in the values,
//! and the resources built from values (bjw-s app-template routes and Services, other
//! charts' route values). Chart templates, and values from `valuesFrom`, are not analysed.

use std::collections::HashMap;

use crate::model::resource::{Origin, ResourceKey};
use crate::yaml::Node;

use super::context::Ctx;
use super::item::Item;
use super::patch::apply_patch;
use super::{app_template, chart_values, kustomize, tree};

/// What the resources built from one release share.
pub struct Release {
    /// The HelmRelease (`HelmRelease/namespace/name`).
    pub owner: ResourceKey,
    /// The Helm release name.
    pub name: String,
    /// The namespace the chart installs into (`spec.targetNamespace`, else the
    /// HelmRelease's own).
    pub namespace: Option<String>,
    pub chart: String,
    /// Container image repositories of the values (app-template `controllers`).
    pub images: Vec<String>,
}

impl Release {
    pub fn origin(&self) -> Origin {
        Origin::HelmValues {
            release: self.owner.clone(),
            chart: self.chart.clone(),
            images: self.images.clone(),
        }
    }
}

/// Sources of charts in the set being built: (kind, namespace, name) → the object.
pub type Sources<'s> = HashMap<(&'s str, &'s str, &'s str), &'s Item>;

/// The resources built from a HelmRelease's values.
pub fn expand(ctx: &mut Ctx, hr: &Item, sources: &Sources) -> Vec<Item> {
    let owner = hr.key();
    let what = owner.to_string();
    let Some(spec) = hr.node.get("spec") else {
        return Vec::new();
    };
    let target_ns = spec
        .get("targetNamespace")
        .and_then(Node::as_text)
        .filter(|t| !t.is_empty());
    let name = spec
        .get("releaseName")
        .and_then(Node::as_text)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| match target_ns {
            Some(tn) => format!("{tn}-{}", hr.name()),
            None => hr.name().to_owned(),
        });
    let namespace = target_ns.or(hr.namespace()).map(str::to_owned);
    let chart = chart_name(ctx, hr, spec, sources);

    let values_from: Vec<String> = tree::items(spec.get("valuesFrom"))
        .iter()
        .map(|v| {
            let kind = v.get("kind").and_then(Node::as_text).unwrap_or("?");
            let name = v.get("name").and_then(Node::as_text).unwrap_or("?");
            format!("{kind} {name}")
        })
        .collect();
    let values = spec.get("values").filter(|v| v.as_map().is_some());
    if !values_from.is_empty() {
        let list = values_from.join(", ");
        match values {
            None => {
                ctx.note(
                    what,
                    format!("values come from valuesFrom ({list}) and are not read"),
                    true,
                );
                return Vec::new();
            }
            Some(_) => ctx.note(
                what.clone(),
                format!("valuesFrom ({list}) is not read; the inline values are"),
                false,
            ),
        }
    }
    let mut values = values
        .cloned()
        .unwrap_or_else(|| tree::map(hr.span, Vec::new()));
    render_release(&mut values, &name, namespace.as_deref());

    let app_template = chart == "app-template"
        || (chart.is_empty()
            && values
                .get("controllers")
                .is_some_and(|c| c.as_map().is_some()));
    let release = Release {
        owner,
        name,
        namespace,
        images: if app_template {
            images(&values)
        } else {
            Vec::new()
        },
        chart: if app_template && chart.is_empty() {
            "app-template".into()
        } else {
            chart
        },
    };
    let mut built = if app_template {
        app_template::build(ctx, &release, &values)
    } else {
        let label = if release.chart.is_empty() {
            "the chart".to_owned()
        } else {
            format!("chart {}", release.chart)
        };
        ctx.note(
            what.clone(),
            format!("{label}: templates are not rendered (only route values are read)"),
            false,
        );
        chart_values::build(ctx, &release, &values)
    };
    post_render(ctx, &what, spec, &mut built);
    built
}

/// `spec.postRenderers[].kustomize` patches, applied to the resources built from values.
fn post_render(ctx: &mut Ctx, what: &str, spec: &Node, built: &mut Vec<Item>) {
    for (i, renderer) in tree::items(spec.get("postRenderers")).iter().enumerate() {
        let Some(kustomize) = renderer.get("kustomize") else {
            continue;
        };
        let origin = format!("{what} postRenderers[{i}]");
        let patches = kustomize::read_patches(ctx, "", &origin, kustomize);
        for p in patches
            .strategic_merge
            .iter()
            .chain(&patches.patches)
            .chain(&patches.json6902)
        {
            // A post-renderer patch usually targets what the templates render, which is
            // not modelled: only patches that match a built resource are applied.
            let mut notes = Vec::new();
            apply_patch(built, p, &mut notes);
            ctx.notes.extend(
                notes
                    .into_iter()
                    .filter(|n| n.reason.starts_with("patch failed")),
            );
        }
    }
}

/// The chart's name: `spec.chart.spec.chart` (the last segment of a path in a Git source),
/// or the last segment of the `chartRef` OCIRepository's URL, or a HelmChart's `spec.chart`.
fn chart_name(ctx: &Ctx, hr: &Item, spec: &Node, sources: &Sources) -> String {
    if let Some(chart) = spec
        .path(&["chart", "spec", "chart"])
        .and_then(Node::as_text)
    {
        return last_segment(chart);
    }
    let Some(chart_ref) = spec.get("chartRef") else {
        return String::new();
    };
    let kind = chart_ref.get("kind").and_then(Node::as_text).unwrap_or("");
    let name = chart_ref.get("name").and_then(Node::as_text).unwrap_or("");
    let ns = chart_ref
        .get("namespace")
        .and_then(Node::as_text)
        .or(hr.namespace())
        .unwrap_or("");
    let found;
    let source = match sources.get(&(kind, ns, name)) {
        Some(i) => Some(&i.node),
        None => {
            found = ctx.index.find(kind, name, Some(ns));
            found.as_ref()
        }
    };
    let Some(source) = source else {
        return String::new();
    };
    match kind {
        "OCIRepository" => source
            .path(&["spec", "url"])
            .and_then(Node::as_text)
            .map(last_segment)
            .unwrap_or_default(),
        "HelmChart" => source
            .path(&["spec", "chart"])
            .and_then(Node::as_text)
            .map(last_segment)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn last_segment(s: &str) -> String {
    let s = s.trim().trim_end_matches('/');
    let last = s.rsplit('/').next().unwrap_or(s);
    last.split(['@', ':']).next().unwrap_or(last).to_owned()
}

/// Every `controllers.*.containers.*.image.repository` (and `initContainers`).
fn images(values: &Node) -> Vec<String> {
    let mut out = Vec::new();
    fn maps(n: Option<&Node>) -> Vec<&Node> {
        n.and_then(Node::as_map)
            .map(|m| m.iter().map(|(_, v)| v).collect())
            .unwrap_or_default()
    }
    for controller in maps(values.get("controllers")) {
        for key in ["initContainers", "containers"] {
            for container in maps(controller.get(key)) {
                if let Some(repo) = container
                    .path(&["image", "repository"])
                    .and_then(Node::as_text)
                    && !out.iter().any(|o| o == repo)
                {
                    out.push(repo.to_owned());
                }
            }
        }
    }
    out
}

/// `{{ .Release.Name }}` and `{{ .Release.Namespace }}` in string values, replaced (spans
/// kept); other template expressions stay as written.
fn render_release(values: &mut Node, release: &str, namespace: Option<&str>) {
    tree::for_each_scalar_mut(values, &mut |n| {
        let new = n
            .as_scalar()
            .filter(|s| s.value.contains("{{"))
            .and_then(|s| render_text(&s.value, release, namespace));
        if let Some(new) = new {
            tree::set_scalar_value(n, new);
        }
    });
}

pub fn render_text(text: &str, release: &str, namespace: Option<&str>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}").map(|c| open + c) else {
            break;
        };
        let inner = rest[open + 2..close]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let value = match inner {
            ".Release.Name" => Some(release),
            ".Release.Namespace" => namespace,
            _ => None,
        };
        out.push_str(&rest[..open]);
        match value {
            Some(v) => {
                out.push_str(v);
                changed = true;
            }
            None => out.push_str(&rest[open..close + 2]),
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_templates() {
        assert_eq!(
            render_text("{{ .Release.Name }}.example.com", "hass", None).as_deref(),
            Some("hass.example.com")
        );
        assert_eq!(
            render_text(
                "{{- .Release.Name -}}-{{.Release.Namespace}}",
                "a",
                Some("b")
            )
            .as_deref(),
            Some("a-b")
        );
        assert_eq!(render_text("{{ .Values.x }}", "a", None), None);
        assert_eq!(render_text("{{ .Release.Namespace }}", "a", None), None);
        assert_eq!(
            last_segment("oci://ghcr.io/bjw-s-labs/helm/app-template"),
            "app-template"
        );
        assert_eq!(last_segment("./charts/my-app/"), "my-app");
    }
}
