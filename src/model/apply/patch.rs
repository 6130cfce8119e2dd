//! Patches and the resources they select: Kustomize `patches` (with `target`), legacy
//! `patchesStrategicMerge` / `patchesJson6902`, Flux `spec.patches`. A patch document is a
//! strategic merge when it is a mapping and JSON 6902 when it is a list of operations.

use crate::model::resource::NotAnalysed;
use crate::yaml::Node;

use super::item::{Item, group_of};
use super::merge::{Outcome, strategic_merge};
use super::{jsonpatch, regex, retain};

/// One patch, parsed, with where it was written (for notes).
#[derive(Clone, Debug)]
pub struct Patch {
    /// Parsed documents: mappings (strategic merge) or one list of operations (JSON 6902).
    pub docs: Vec<Node>,
    pub target: Option<Target>,
    /// `path/to/kustomization.yaml patches[2]`.
    pub origin: String,
}

/// A patch `target`: every field is optional; `name`, `namespace`, `kind`, `group` and
/// `version` are anchored regular expressions as in Kustomize.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

impl Target {
    pub fn from_node(node: &Node) -> Target {
        let s = |k: &str| node.get(k).and_then(Node::as_text).map(str::to_owned);
        Target {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: s("name"),
            namespace: s("namespace"),
            label_selector: s("labelSelector"),
            annotation_selector: s("annotationSelector"),
        }
    }

    /// The target a strategic-merge patch names by itself (its kind, group and name).
    fn of_patch(doc: &Node) -> Target {
        let text = |p: &[&str]| doc.path(p).and_then(Node::as_text).map(str::to_owned);
        let api_version = text(&["apiVersion"]).unwrap_or_default();
        Target {
            group: Some(regex::escape(group_of(&api_version))),
            kind: text(&["kind"]).map(|k| regex::escape(&k)),
            name: text(&["metadata", "name"]).map(|n| regex::escape(&n)),
            namespace: text(&["metadata", "namespace"]).map(|n| regex::escape(&n)),
            ..Target::default()
        }
    }

    pub fn matches(&self, item: &Item) -> bool {
        // The item's value is read only when the target has a pattern for it.
        fn re<'a>(pattern: &Option<String>, value: impl FnOnce() -> &'a str) -> bool {
            pattern
                .as_deref()
                .is_none_or(|p| p.is_empty() || regex::full_match(p, value()))
        }
        re(&self.group, || item.group())
            && re(&self.version, || {
                item.api_version().rsplit('/').next().unwrap_or("")
            })
            && re(&self.kind, || item.kind())
            && re(&self.name, || item.name())
            && re(&self.namespace, || item.namespace().unwrap_or(""))
            && self
                .label_selector
                .as_deref()
                .is_none_or(|s| selector_matches(s, item.node.path(&["metadata", "labels"])))
            && self
                .annotation_selector
                .as_deref()
                .is_none_or(|s| selector_matches(s, item.node.path(&["metadata", "annotations"])))
    }
}

/// Apply one patch to `items` (resources a `$patch: delete` removes are dropped).
pub fn apply_patch(items: &mut Vec<Item>, patch: &Patch, notes: &mut Vec<NotAnalysed>) {
    for doc in &patch.docs {
        let note = |reason: String| NotAnalysed {
            what: patch.origin.clone(),
            reason,
            route: false,
        };
        if doc.as_seq().is_some() {
            let Some(target) = &patch.target else {
                notes.push(note("JSON 6902 patch without a target".into()));
                continue;
            };
            for item in items.iter_mut().filter(|i| target.matches(i)) {
                let (group, kind) = (item.group().to_owned(), item.kind().to_owned());
                let pruned = |path: &[String]| retain::pruned_path(&group, &kind, path);
                if let Err(e) = jsonpatch::apply_ops(&mut item.node, doc, &pruned) {
                    notes.push(note(format!("patch failed on {}: {e}", item.key())));
                }
            }
            continue;
        }
        if doc.as_map().is_none() {
            notes.push(note(
                "patch is neither a mapping nor a list of operations".into(),
            ));
            continue;
        }
        let own;
        let target = match &patch.target {
            Some(t) => t,
            None => {
                own = Target::of_patch(doc);
                &own
            }
        };
        let mut matched = false;
        items.retain_mut(|item| {
            if !target.matches(item) {
                return true;
            }
            matched = true;
            let kind = item.kind().to_owned();
            strategic_merge(&mut item.node, doc, &kind) == Outcome::Keep
        });
        if !matched && patch.target.is_none() {
            notes.push(note("strategic-merge patch matches no resource".into()));
        }
    }
}

/// A Kubernetes label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
/// `a notin (x,y)`, comma-separated) against a labels mapping.
fn selector_matches(selector: &str, labels: Option<&Node>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_text);
    split_requirements(selector).iter().all(|req| {
        let req = req.trim();
        if req.is_empty() {
            return true;
        }
        if let Some(k) = req.strip_prefix('!') {
            return get(k.trim()).is_none();
        }
        if let Some((k, v)) = req.split_once("!=") {
            return get(k.trim()) != Some(v.trim());
        }
        if let Some((k, v)) = req.split_once("==").or_else(|| req.split_once('=')) {
            return get(k.trim()) == Some(v.trim());
        }
        for (op, want) in [(" notin ", false), (" in ", true)] {
            if let Some((k, set)) = req.split_once(op) {
                let values: Vec<&str> = set
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(str::trim)
                    .collect();
                let found = get(k.trim()).is_some_and(|v| values.contains(&v));
                return found == want;
            }
        }
        get(req).is_some()
    })
}

/// Requirements of a selector, split at commas outside parentheses.
fn split_requirements(selector: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&selector[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{FrozenDocument, Limits, parse_stream};

    fn item(text: &str) -> Item {
        let doc = &parse_stream(text, &Limits::default()).unwrap()[0];
        Item::from_document(&FrozenDocument::freeze(doc).unwrap()).unwrap()
    }

    #[test]
    fn targets() {
        let hr = item(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app-x, labels: {tier: web}}\n",
        );
        let t = |k: &str, n: Option<&str>, l: Option<&str>| Target {
            group: Some("helm.toolkit.fluxcd.io".into()),
            kind: Some(k.into()),
            name: n.map(Into::into),
            label_selector: l.map(Into::into),
            ..Target::default()
        };
        assert!(t("HelmRelease", None, None).matches(&hr));
        assert!(t("HelmRelease", Some("app-.*"), None).matches(&hr));
        assert!(!t("HelmRelease", Some("app"), None).matches(&hr));
        assert!(t("HelmRelease", None, Some("tier=web")).matches(&hr));
        assert!(t("HelmRelease", None, Some("tier in (db, web),!x")).matches(&hr));
        assert!(!t("HelmRelease", None, Some("tier!=web")).matches(&hr));
        assert!(!t("Kustomization", None, None).matches(&hr));
    }
}
