//! The fixer: findings + model → one plan per fix kind, each a set of byte splices (and new
//! files) in the files' own style, verified before anyone sees it.
//!
//! Each fix kind has its planner module; they write [`Draft`]s through the helpers of
//! [`edit`]. [`verify`] then applies a draft to a copy of the tree and checks it: every edited
//! file parses, the documents changed exactly where the draft says, new and changed resources
//! pass the typed checks of [`checks`], the re-built model changed only as the fix kind
//! intends, the findings it addresses are gone and no finding appeared, and planning again on
//! the fixed tree proposes nothing more.

pub mod checks;
pub mod edit;
pub mod fingerprint;
pub mod render;
pub mod splice;
pub mod style;
pub mod verify;

mod alpn;
mod app_protocol;
mod backend;
mod enable_backend;
mod upgrade;

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, FixKind, RuleId};
use crate::config::RepoConfig;
use crate::findings::{AssumedVersion, Finding};
use crate::load::{LoadOptions, Loaded};
use crate::model::eg::Model;
use crate::model::{Applied, Resource, ResourceKey};
use crate::snapshot::Snapshot;
use crate::yaml::Span;

/// One field a fix sets: `kind/namespace/name#field.path=value` in the fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub resource: ResourceKey,
    /// Dotted path from the document root (`spec.tls.alpnProtocols`); for a new resource, the
    /// whole `spec` (or `data`).
    pub field: String,
    pub value: String,
}

impl Change {
    pub fn new(resource: &ResourceKey, field: &str, value: &serde_json::Value) -> Change {
        Change {
            resource: resource.clone(),
            field: field.to_owned(),
            value: match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        }
    }

    /// The fingerprint entry.
    pub fn entry(&self) -> String {
        format!(
            "{}/{}/{}#{}={}",
            self.resource.kind, self.resource.namespace, self.resource.name, self.field, self.value
        )
    }
}

/// One file a plan writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// Repository-relative.
    pub path: String,
    /// `None` for a new file.
    pub before: Option<String>,
    pub after: String,
}

/// A route a plan concerns, for the pull request text and its checklist.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Affected {
    /// `HTTPRoute default/home-assistant`.
    pub route: String,
    pub hosts: Vec<String>,
    pub app: Option<String>,
    /// Where a WebSocket handshake can be tried (`/api/websocket`).
    pub probe_path: Option<String>,
}

/// A resource whose status a reviewer should read after the change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ToCheck {
    pub resource: ResourceKey,
    /// `Accepted=True`, `ResolvedRefs=True`.
    pub conditions: Vec<String>,
}

/// A verified fix: the content of one pull request.
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: FixKind,
    pub files: Vec<FileChange>,
    /// Sorted; what the fingerprint is made of.
    pub changes: Vec<Change>,
    /// `sha256:...` of the changes (see [`fingerprint`]).
    pub fingerprint: String,
    /// The findings it addresses.
    pub findings: Vec<Finding>,
    pub affected: Vec<Affected>,
    /// Listener keys whose behaviour changes (alpn-order), for the cost paragraph.
    pub listeners: Vec<String>,
    pub to_check: Vec<ToCheck>,
    pub version: AssumedVersion,
    /// Sentences for the body: what the change does here and what it costs.
    pub notes: Vec<String>,
    /// True when the change is a declaration that changes no behaviour.
    pub no_op: bool,
}

/// A finding no fix is proposed for, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Declined {
    pub rule: RuleId,
    pub kind: Option<FixKind>,
    pub location: Span,
    pub reason: String,
}

/// What the fixer proposes for a tree.
#[derive(Clone, Debug, Default)]
pub struct Fixes {
    pub plans: Vec<Plan>,
    pub declined: Vec<Declined>,
    /// Every finding of the scan the plans were made from (ignored ones marked), as
    /// [`crate::scan::scan`] reports them.
    pub findings: Vec<Finding>,
}

/// What a planner produces before verification.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub kind: FixKind,
    /// Edits per file id.
    pub edits: BTreeMap<u32, Vec<splice::Edit>>,
    /// New files: path → text.
    pub new_files: BTreeMap<String, String>,
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
    pub affected: Vec<Affected>,
    pub listeners: Vec<String>,
    pub to_check: Vec<ToCheck>,
    pub notes: Vec<String>,
    pub no_op: bool,
}

impl Draft {
    pub fn new(kind: FixKind) -> Draft {
        Draft {
            kind,
            edits: BTreeMap::new(),
            new_files: BTreeMap::new(),
            changes: Vec::new(),
            findings: Vec::new(),
            affected: Vec::new(),
            listeners: Vec::new(),
            to_check: Vec::new(),
            notes: Vec::new(),
            no_op: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.edits.values().all(Vec::is_empty) && self.new_files.is_empty()
    }

    /// Adds an edit unless the same edit is already there (several entry points, several
    /// listeners governed by one policy).
    pub fn edit(&mut self, file: u32, edit: splice::Edit) {
        let list = self.edits.entry(file).or_default();
        if !list.contains(&edit) {
            list.push(edit);
        }
    }

    pub fn change(&mut self, change: Change) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    pub fn finding(&mut self, f: &Finding) {
        if !self.findings.contains(f) {
            self.findings.push(f.clone());
        }
    }

    /// Records a route the plan concerns (once).
    pub fn affect(&mut self, route: &crate::model::eg::Route, listener: Option<&str>) {
        let a = affected(route, listener);
        if !self.affected.contains(&a) {
            self.affected.push(a);
        }
    }

    /// Records a resource whose conditions the checklist names (once).
    pub fn check(&mut self, resource: ResourceKey, conditions: &[&str]) {
        let check = ToCheck {
            resource,
            conditions: conditions.iter().map(|c| (*c).to_owned()).collect(),
        };
        if !self.to_check.contains(&check) {
            self.to_check.push(check);
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// What every planner reads.
pub(crate) struct Cx<'a> {
    pub loaded: &'a Loaded,
    pub applied: &'a Applied,
    pub models: &'a [Model],
    pub findings: &'a [Finding],
    pub catalogue: &'a Catalogue,
    pub config: &'a RepoConfig,
}

impl<'a> Cx<'a> {
    /// The findings of `rule` that count (not ignored) at `location`.
    pub fn finding_at(&self, rule: RuleId, location: Span) -> Option<&'a Finding> {
        self.findings
            .iter()
            .find(|f| f.rule == rule && f.location == location && f.ignored.is_none())
    }

    /// The applied resource `key` in the set of `model`.
    pub fn resource(&self, model: &Model, key: &ResourceKey) -> Option<&'a Resource> {
        let set = self
            .applied
            .sets
            .iter()
            .find(|s| s.entry_point == model.entry_point)?;
        set.resources.iter().find(|r| &r.key() == key)
    }
}

/// Plans the fixes of the loaded tree, verifies each against `snapshot`, and returns the
/// verified plans (in fix-kind order) and the findings left without a fix.
pub fn plan(
    snapshot: &dyn Snapshot,
    loaded: &Loaded,
    options: &LoadOptions,
    catalogue: &Catalogue,
    config: &RepoConfig,
    only: &[FixKind],
) -> Fixes {
    let (applied, models) = crate::model::build(loaded, catalogue, config);
    let findings = crate::rules::run_with_ignores(&models, &applied.sets, catalogue, config);
    let cx = Cx {
        loaded,
        applied: &applied,
        models: &models,
        findings: &findings,
        catalogue,
        config,
    };
    let (drafts, mut declined) = drafts(&cx, only);
    let mut plans = Vec::new();
    for draft in drafts {
        let locations: Vec<(RuleId, Span)> = draft
            .findings
            .iter()
            .map(|f| (f.rule, f.location))
            .collect();
        match verify::verify(&cx, snapshot, options, draft) {
            Ok(plan) => plans.push(plan),
            Err((kind, reason)) => {
                for (rule, location) in locations {
                    declined.push(Declined {
                        rule,
                        kind: Some(kind),
                        location,
                        reason: format!("the change failed verification: {reason}"),
                    });
                }
            }
        }
    }
    let version = assumed(&findings, &models);
    for p in &mut plans {
        if p.version.version.is_empty() {
            p.version = version.clone();
        }
    }
    Fixes {
        plans,
        declined,
        findings,
    }
}

/// Every planner's drafts (non-empty, enabled, selected), and what they declined.
pub(crate) fn drafts(cx: &Cx, only: &[FixKind]) -> (Vec<Draft>, Vec<Declined>) {
    let mut out = Vec::new();
    let mut declined = Vec::new();
    let wanted = |k: FixKind| cx.config.fix_enabled(k) && (only.is_empty() || only.contains(&k));
    if wanted(FixKind::AlpnOrder) {
        out.push(alpn::plan(cx, &mut declined));
    }
    if wanted(FixKind::HttpUpgrade) {
        out.push(upgrade::plan(cx, &mut declined));
    }
    let (ws, backend) = app_protocol::plan(cx, &wanted, &mut declined);
    out.extend(ws);
    out.extend(backend);
    if wanted(FixKind::EnableBackend) {
        let carried = out
            .iter()
            .any(|d| d.kind == FixKind::Backend && !d.is_empty());
        out.push(enable_backend::plan(cx, carried, &mut declined));
    }
    out.retain(|d| !d.is_empty());
    (out, declined)
}

fn assumed(findings: &[Finding], models: &[Model]) -> AssumedVersion {
    findings
        .first()
        .map(|f| f.version.clone())
        .or_else(|| {
            models.first().map(|m| AssumedVersion {
                version: m.version.version.clone(),
                source: if m.version.pinned() {
                    "pinned"
                } else if m.version.assumed {
                    "unknown"
                } else {
                    "detected"
                }
                .into(),
                span: m.version.span,
            })
        })
        .unwrap_or(AssumedVersion {
            version: String::new(),
            source: "unknown".into(),
            span: None,
        })
}

/// The route as a plan's body shows it, with the hosts it serves on `listener` (all of its
/// hosts when `None`).
pub(crate) fn affected(route: &crate::model::eg::Route, listener: Option<&str>) -> Affected {
    let hosts = crate::rules::route_hosts(route, listener);
    let ws = route.websocket.as_ref();
    Affected {
        route: format!(
            "{} {}/{}",
            route.kind.as_str(),
            route.key.namespace,
            route.key.name
        ),
        hosts,
        app: ws.and_then(|w| w.app.clone()),
        probe_path: ws.and_then(|w| w.probe_path.clone()),
    }
}
