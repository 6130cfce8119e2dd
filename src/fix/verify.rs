//! Every draft is checked before it is offered: the edited files parse strictly; each document
//! changed exactly at the fields the draft declares (and new files hold only the declared new
//! resources); new and changed resources pass [`super::checks`]; the tree re-loaded with the
//! change gives models that differ only as the fix kind intends, no longer has the findings
//! the draft addresses and has no new ones; and planning again proposes nothing more.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Change, Cx, Draft, FileChange, Plan, checks, fingerprint, splice};
use crate::catalogue::FixKind;
use crate::findings::Finding;
use crate::load::{self, LoadOptions};
use crate::model::eg::Model;
use crate::snapshot::{Overlay, Snapshot};
use crate::yaml::{Limits, parse_stream};

pub(crate) fn verify(
    cx: &Cx,
    snapshot: &dyn Snapshot,
    options: &LoadOptions,
    draft: Draft,
) -> Result<Plan, (FixKind, String)> {
    let kind = draft.kind;
    check(cx, snapshot, options, &draft).map_err(|e| (kind, e))
}

fn check(
    cx: &Cx,
    snapshot: &dyn Snapshot,
    options: &LoadOptions,
    draft: &Draft,
) -> Result<Plan, String> {
    let version = cx
        .models
        .first()
        .map(|m| m.version.semver.clone())
        .unwrap_or_else(|| cx.catalogue.newest_release().clone());
    let mut files = Vec::new();
    let mut overlay = BTreeMap::new();
    let mut seen: Vec<&Change> = Vec::new();
    for (id, edits) in &draft.edits {
        let file = cx.loaded.by_id(*id).ok_or("an edit of an unknown file")?;
        let after =
            splice::apply_checked(file.text(), edits).map_err(|e| format!("{}: {e}", file.path))?;
        let before_docs =
            parse_stream(file.text(), &Limits::default()).map_err(|e| e.to_string())?;
        let after_docs =
            parse_stream(&after, &Limits::default()).map_err(|e| format!("{}: {e}", file.path))?;
        if before_docs.len() != after_docs.len() {
            return Err(format!("{}: the number of documents changed", file.path));
        }
        for (b, a) in before_docs.iter().zip(&after_docs) {
            let bj = b.root.as_ref().map_or(Value::Null, |r| r.to_json());
            let aj = a.root.as_ref().map_or(Value::Null, |r| r.to_json());
            if bj == aj {
                continue;
            }
            let mine: Vec<&Change> = draft.changes.iter().filter(|c| names(c, &aj)).collect();
            let mut paths = Vec::new();
            diff(&bj, &aj, &mut Vec::new(), &mut paths);
            if paths == ["resources"] && lists_new_files(&file.path, &bj, &aj, draft) {
                continue;
            }
            for p in &paths {
                if !mine.iter().any(|c| related(&c.field, p)) {
                    return Err(format!(
                        "{}: `{p}` changed, which the fix does not declare",
                        file.path
                    ));
                }
            }
            for c in &mine {
                if at(&aj, &c.field).map(value_text).as_deref() != Some(c.value.as_str()) {
                    return Err(format!(
                        "{}: `{}` is not `{}` after the edit",
                        file.path, c.field, c.value
                    ));
                }
                seen.push(c);
            }
            typed(&aj, cx, &version)?;
        }
        files.push(FileChange {
            path: file.path.clone(),
            before: Some(file.text().to_owned()),
            after: after.clone(),
        });
        overlay.insert(file.path.clone(), after);
    }
    for (path, text) in &draft.new_files {
        let docs = parse_stream(text, &Limits::default()).map_err(|e| format!("{path}: {e}"))?;
        for d in &docs {
            let j = d.root.as_ref().map_or(Value::Null, |r| r.to_json());
            let declared: Vec<&Change> = draft
                .changes
                .iter()
                .filter(|c| {
                    names(c, &j)
                        && at(&j, &c.field).map(value_text).as_deref() == Some(c.value.as_str())
                })
                .collect();
            if declared.is_empty() {
                return Err(format!("{path}: a document the fix does not declare"));
            }
            seen.extend(declared);
            typed(&j, cx, &version)?;
        }
        files.push(FileChange {
            path: path.clone(),
            before: None,
            after: text.clone(),
        });
        overlay.insert(path.clone(), text.clone());
    }
    if let Some(c) = draft.changes.iter().find(|c| !seen.contains(c)) {
        return Err(format!(
            "the declared change {} is not in the edited files",
            c.entry()
        ));
    }

    // The tree with the change, re-loaded, re-modelled and re-scanned.
    let over = Overlay::new(snapshot, overlay);
    let loaded = load::load(&over, options).map_err(|e| e.to_string())?;
    for f in &files {
        if loaded.file(&f.path).is_none() {
            return Err(format!("{} is not loaded after the change", f.path));
        }
    }
    let (applied, models) = crate::model::build(&loaded, cx.catalogue, cx.config);
    let findings = crate::rules::run_with_ignores(&models, &applied.sets, cx.catalogue, cx.config);
    models_differ_as_intended(draft.kind, cx.models, &models)?;
    findings_resolved(&draft.findings, cx.findings, &findings)?;
    let again = super::Cx {
        loaded: &loaded,
        applied: &applied,
        models: &models,
        findings: &findings,
        catalogue: cx.catalogue,
        config: cx.config,
    };
    let (more, _) = super::drafts(&again, &[draft.kind]);
    if let Some(d) = more.first() {
        return Err(format!(
            "planning again on the fixed tree changes more: {}",
            d.changes
                .iter()
                .map(Change::entry)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut changes = draft.changes.clone();
    changes.sort();
    let mut affected = draft.affected.clone();
    affected.sort();
    let mut to_check = draft.to_check.clone();
    to_check.sort();
    Ok(Plan {
        kind: draft.kind,
        fingerprint: fingerprint::fingerprint(draft.kind, &changes),
        files,
        changes,
        findings: draft.findings.clone(),
        affected,
        listeners: draft.listeners.clone(),
        to_check,
        version: draft
            .findings
            .first()
            .map(|f| f.version.clone())
            .unwrap_or_else(|| crate::findings::AssumedVersion {
                version: String::new(),
                source: String::new(),
                span: None,
            }),
        notes: draft.notes.clone(),
        no_op: draft.no_op,
    })
}

/// True when `path` is a kustomization file whose `resources` list only gained the draft's new
/// files of its folder (the listing that goes with a new file, not a change of its own).
fn lists_new_files(path: &str, before: &Value, after: &Value, draft: &Draft) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if !matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) {
        return false;
    }
    let list = |v: &Value| -> Vec<String> {
        v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap_or("").trim_start_matches("./").to_owned())
            .collect()
    };
    let (b, a) = (list(before), list(after));
    let added = a.len().saturating_sub(b.len());
    added > 0
        && a[..b.len()] == b[..]
        && a[b.len()..].iter().all(|n| {
            let p = if dir.is_empty() {
                n.clone()
            } else {
                format!("{dir}/{n}")
            };
            draft.new_files.contains_key(&p)
        })
}

fn typed(doc: &Value, cx: &Cx, version: &semver::Version) -> Result<(), String> {
    let errors = checks::check(doc, cx.catalogue, version);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {}: {}",
            doc["kind"].as_str().unwrap_or("?"),
            doc["metadata"]["name"].as_str().unwrap_or("?"),
            errors.join("; ")
        ))
    }
}

/// True when the change is about this document (kind and name).
fn names(c: &Change, doc: &Value) -> bool {
    doc["kind"].as_str() == Some(c.resource.kind.as_str())
        && doc["metadata"]["name"].as_str() == Some(c.resource.name.as_str())
}

/// True when one dotted path is the other or lies under it.
fn related(a: &str, b: &str) -> bool {
    let under = |x: &str, y: &str| x == y || x.starts_with(&format!("{y}."));
    under(a, b) || under(b, a)
}

/// The value at a dotted path (array indices as numbers).
fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| match v {
        Value::Object(m) => m.get(k),
        Value::Array(a) => a.get(k.parse::<usize>().ok()?),
        _ => None,
    })
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The dotted paths where two JSON values differ (the deepest common container of a change).
fn diff(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                path.push(k.clone());
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff(p, q, path, out),
                    _ => out.push(path.join(".")),
                }
                path.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                path.push(i.to_string());
                diff(p, q, path, out);
                path.pop();
            }
        }
        _ if a == b => {}
        _ => out.push(path.join(".")),
    }
}

/// The facts of the models before and after may differ only as `kind` intends.
fn models_differ_as_intended(
    kind: FixKind,
    before: &[Model],
    after: &[Model],
) -> Result<(), String> {
    let flat = |models: &[Model]| -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for m in models {
            let facts = m.facts();
            let mut paths = Vec::new();
            leaves(&facts, &mut vec![m.entry_point.clone()], &mut paths);
            out.extend(paths);
        }
        out
    };
    let (b, a) = (flat(before), flat(after));
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for k in keys {
        let (old, new) = (b.get(k), a.get(k));
        if old == new {
            continue;
        }
        let ok = match (old, new) {
            (Some(old), Some(new)) => allowed(kind, k, old, new),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "Envoy Gateway's behaviour would change beyond the fix: {k} from {} to {}",
                old.map_or("(none)".into(), Value::to_string),
                new.map_or("(none)".into(), Value::to_string)
            ));
        }
    }
    Ok(())
}

/// One model fact (`<entry>.listeners.<key>.alpn`, `<entry>.routes.<l>.<rule>.upgrade`) as a
/// leaf; lists are leaves.
fn leaves(v: &Value, path: &mut Vec<String>, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        other => out.push((path.join("\u{1f}"), other.clone())),
    }
}

fn allowed(kind: FixKind, key: &str, old: &Value, new: &Value) -> bool {
    let field = key.rsplit('\u{1f}').next().unwrap_or("");
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_ascii_lowercase))
            .collect()
    };
    match (kind, field) {
        (FixKind::AlpnOrder, "alpn") => {
            let (mut o, n) = (list(old), list(new));
            let mut sorted = n.clone();
            sorted.sort();
            o.sort();
            o == sorted && !crate::rules::h2_first(&n)
        }
        (FixKind::HttpUpgrade, "upgrade") => {
            let (o, n) = (list(old), list(new));
            n.contains(&"websocket".to_owned())
                && n.iter()
                    .filter(|t| *t != "websocket")
                    .eq(o.iter().filter(|t| *t != "websocket"))
        }
        (
            FixKind::WsAppProtocol | FixKind::Backend | FixKind::EnableBackend,
            "forceHTTP1Upstream",
        ) => old == &Value::Bool(false) && new == &Value::Bool(true),
        _ => false,
    }
}

/// The findings the draft addresses are gone and no rule has more findings than before.
fn findings_resolved(
    addressed: &[Finding],
    before: &[Finding],
    after: &[Finding],
) -> Result<(), String> {
    let count = |fs: &[Finding]| -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for f in fs.iter().filter(|f| f.ignored.is_none()) {
            *m.entry(f.rule.as_str()).or_default() += 1;
        }
        m
    };
    let (b, a) = (count(before), count(after));
    for (rule, n) in &a {
        if *n > b.get(rule).copied().unwrap_or(0) {
            return Err(format!("the change adds a `{rule}` finding"));
        }
    }
    let mut gone: BTreeMap<&'static str, usize> = BTreeMap::new();
    for f in addressed {
        *gone.entry(f.rule.as_str()).or_default() += 1;
    }
    for (rule, n) in gone {
        let left = a.get(rule).copied().unwrap_or(0);
        if left + n > b.get(rule).copied().unwrap_or(0) {
            return Err(format!("`{rule}` is still reported after the change"));
        }
    }
    Ok(())
}
