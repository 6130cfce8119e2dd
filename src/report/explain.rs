//! `ws-fix explain`: the model for people (Gateways → listeners → routes → backends, with the
//! effective values and where they come from) and as JSON (`schema_version` 1).

use std::fmt::Write;

use super::location::locate;
use crate::catalogue::{Catalogue, RuleId};
use crate::findings::Finding;
use crate::load::Loaded;
use crate::model::eg::{BackendKind, Decided, Listener, Model, Route, Why};
use crate::model::{Applied, ResourceKey};
use crate::rules::{is_ws_protocol, is_wss_protocol};
use crate::yaml::Span;

/// `explain --rule`: the rules to explain, and their findings over the same models. Only the
/// parts of each model those rules read are shown (see `docs/explain.md`), then the findings.
pub struct Focus<'a> {
    pub rules: &'a [RuleId],
    /// The findings of a run of (at least) `rules` over the models shown.
    pub findings: &'a [Finding],
    pub catalogue: &'a Catalogue,
}

impl Focus<'_> {
    fn has(&self, rule: RuleId) -> bool {
        self.rules.contains(&rule)
    }

    /// True when one of the rules reads route `r` on listener `l`.
    fn route(&self, r: &Route, l: &Listener) -> bool {
        let backends = || r.rules.iter().flat_map(|rule| rule.backends.iter());
        let protocol = |wanted: fn(&str) -> bool| {
            backends().any(|b| b.app_protocol.as_ref().is_some_and(|p| wanted(&p.value)))
        };
        self.rules.iter().any(|rule| match rule {
            RuleId::AlpnH2First => l.https && r.websocket.is_some(),
            RuleId::UpgradeDisabled | RuleId::UpstreamH2 | RuleId::StreamLimits => {
                r.websocket.is_some()
            }
            RuleId::BackendApiDisabled => backends().any(|b| b.kind == BackendKind::Backend),
            RuleId::WsProtocolIgnored => protocol(is_ws_protocol),
            RuleId::WssWithoutTls => protocol(is_wss_protocol),
            RuleId::PolicyConflict | RuleId::UnresolvedRef => false,
        })
    }

    /// True when one of the rules reads listener `l` (its ALPN, or a route on it).
    fn listener(&self, m: &Model, l: &Listener) -> bool {
        (self.has(RuleId::AlpnH2First) && l.https)
            || m.routes
                .iter()
                .any(|r| r.listeners().any(|a| a.listener == l.key) && self.route(r, l))
    }

    /// The findings of the rules that concern model `m`.
    fn findings_of<'f>(&'f self, m: &'f Model) -> impl Iterator<Item = &'f Finding> {
        self.findings
            .iter()
            .filter(|f| self.has(f.rule) && f.entry_points.contains(&m.entry_point))
    }

    fn ids(&self) -> String {
        self.rules
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// True when there is no focus or `pick` says yes.
fn shown(focus: Option<&Focus<'_>>, pick: impl FnOnce(&Focus<'_>) -> bool) -> bool {
    focus.is_none_or(pick)
}

/// `path:line:col` of a span, or empty.
fn at(loaded: &Loaded, span: Option<Span>) -> String {
    span.and_then(|s| locate(loaded, s))
        .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
        .unwrap_or_default()
}

fn key(k: &ResourceKey) -> String {
    if k.namespace.is_empty() {
        format!("{} {}", k.kind, k.name)
    } else {
        format!("{} {}/{}", k.kind, k.namespace, k.name)
    }
}

fn why<T>(loaded: &Loaded, d: &Decided<T>) -> String {
    let how = match d.why {
        Why::Set => "set",
        Why::Default => "default",
        Why::Merged => "merged",
        Why::OverlappingTls => "overlapping certificates",
        Why::SdsCertificate => "SDS certificate",
        Why::RequestBuffer => "requestBuffer",
        Why::UseClientProtocol => "useClientProtocol",
        Why::AppProtocol => "app protocol",
        Why::IgnoredByVersion => "ignored by this version",
        Why::RepoConfig => "repo config",
        Why::Unknown => "unknown",
    };
    let mut s = how.to_owned();
    if let Some(r) = &d.resource {
        s.push_str(&format!(" by {}", key(r)));
    }
    let place = at(loaded, d.span);
    if !place.is_empty() {
        s.push_str(&format!(" at {place}"));
    }
    if d.ambiguous {
        s.push_str(", AMBIGUOUS: policies conflict and no creation time orders them");
    }
    s
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

/// The human form of every model; with a focus, only what its rules read, then their findings.
pub fn human(
    models: &[Model],
    applied: &Applied,
    loaded: &Loaded,
    focus: Option<&Focus<'_>>,
) -> String {
    let mut out = String::new();
    if let Some(f) = focus {
        let _ = writeln!(
            out,
            "Only what {} read{}, and the findings.\n",
            f.ids(),
            if f.rules.len() == 1 { "s" } else { "" }
        );
    }
    for m in models {
        write_model(&mut out, m, loaded, focus);
        if let Some(set) = applied.sets.iter().find(|s| s.entry_point == m.entry_point) {
            let routes = set.not_analysed.iter().filter(|n| n.route).count();
            if !set.not_analysed.is_empty() {
                let _ = writeln!(
                    out,
                    "  not analysed: {} item(s), {} of which may hold routes",
                    set.not_analysed.len(),
                    routes
                );
                for n in &set.not_analysed {
                    let _ = writeln!(out, "    {}: {}", n.what, n.reason);
                }
            }
        }
        if let Some(f) = focus {
            write_findings(&mut out, f, m, loaded);
        }
        out.push('\n');
    }
    if !applied.not_applied.is_empty() {
        let _ = writeln!(
            out,
            "{} parsed file(s) are applied by no entry point (not modelled)",
            applied.not_applied.len()
        );
    }
    out
}

fn write_model(out: &mut String, m: &Model, loaded: &Loaded, focus: Option<&Focus<'_>>) {
    let _ = writeln!(out, "Entry point: {}", m.entry_point);
    let v = &m.version;
    let _ = writeln!(
        out,
        "  Envoy Gateway {}{} ({:?}{}{})",
        v.version,
        if v.assumed {
            " (assumed: the newest known release)"
        } else {
            ""
        },
        v.source,
        v.resource
            .as_ref()
            .map(|r| format!(", {}", key(r)))
            .unwrap_or_default(),
        {
            let p = at(loaded, v.span);
            if p.is_empty() { p } else { format!(" at {p}") }
        }
    );
    if shown(focus, |f| f.has(RuleId::BackendApiDisabled)) {
        let _ = writeln!(
            out,
            "  Backend API: {} ({})",
            if m.install.enable_backend.value {
                "on"
            } else {
                "off"
            },
            why(loaded, &m.install.enable_backend)
        );
    }
    for g in &m.gateways {
        let listeners: Vec<&Listener> = g
            .listeners
            .iter()
            .filter_map(|lk| m.listeners.iter().find(|l| &l.key == lk))
            .filter(|l| shown(focus, |f| f.listener(m, l)))
            .collect();
        if focus.is_some() && listeners.is_empty() {
            continue;
        }
        if !g.management.is_eg() {
            let _ = writeln!(
                out,
                "  {} (class {}): not Envoy Gateway, not modelled",
                key(&g.key),
                g.class
            );
            continue;
        }
        let _ = writeln!(
            out,
            "  Gateway {}/{} (class {}) at {}",
            g.key.namespace,
            g.key.name,
            g.class,
            at(loaded, Some(g.span))
        );
        for l in listeners {
            write_listener(out, m, l, loaded, focus);
        }
    }
    let conflicts = if shown(focus, |f| f.has(RuleId::PolicyConflict)) {
        &m.conflicts[..]
    } else {
        &[]
    };
    for c in conflicts {
        let _ = writeln!(
            out,
            "  conflict: {:?} on {}: {} wins over {} ({:?})",
            c.kind,
            c.target,
            key(&c.winner),
            c.losers.iter().map(key).collect::<Vec<_>>().join(", "),
            c.order
        );
    }
    let unresolved = if shown(focus, |f| f.has(RuleId::UnresolvedRef)) {
        &m.unresolved[..]
    } else {
        &[]
    };
    for u in unresolved {
        let _ = writeln!(
            out,
            "  unresolved: {} → {}: {} at {}",
            key(&u.from),
            u.to,
            u.reason,
            at(loaded, Some(u.span))
        );
    }
    for n in &m.notes {
        let _ = writeln!(out, "  note: {n}");
    }
}

fn write_findings(out: &mut String, focus: &Focus<'_>, m: &Model, loaded: &Loaded) {
    let findings: Vec<&Finding> = focus.findings_of(m).collect();
    if findings.is_empty() {
        let _ = writeln!(out, "  findings: none");
        return;
    }
    let _ = writeln!(out, "  findings:");
    for f in findings {
        let _ = writeln!(
            out,
            "    {}  {}  {}  {}",
            at(loaded, Some(f.location)),
            f.severity,
            f.rule,
            f.message
        );
        if let Some(reason) = &f.ignored {
            let _ = writeln!(out, "      ignored: {reason}");
            continue;
        }
        for r in &f.related {
            let place = at(loaded, r.span);
            let place = if place.is_empty() {
                place
            } else {
                format!(" ({place})")
            };
            let _ = writeln!(out, "      affects: {}{place}", r.message);
        }
    }
}

fn write_listener(
    out: &mut String,
    m: &Model,
    l: &Listener,
    loaded: &Loaded,
    focus: Option<&Focus<'_>>,
) {
    let _ = writeln!(
        out,
        "    listener {} {}{}{}",
        l.name,
        l.protocol,
        l.port.map(|p| format!(" :{p}")).unwrap_or_default(),
        l.hostname
            .as_ref()
            .map(|h| format!(" {h}"))
            .unwrap_or_default()
    );
    if let Some(alpn) = l
        .alpn
        .as_ref()
        .filter(|_| shown(focus, |f| f.has(RuleId::AlpnH2First)))
    {
        let _ = writeln!(
            out,
            "      ALPN {} ({})",
            list(&alpn.value),
            why(loaded, alpn)
        );
    }
    if let Some(s) = l
        .strips_websocket
        .as_ref()
        .filter(|s| s.value && shown(focus, |f| f.has(RuleId::UpgradeDisabled)))
    {
        let _ = writeln!(
            out,
            "      strips the WebSocket upgrade ({})",
            why(loaded, s)
        );
    }
    for r in m
        .routes
        .iter()
        .filter(|r| r.listeners().any(|a| a.listener == l.key))
        .filter(|r| shown(focus, |f| f.route(r, l)))
    {
        write_route(out, r, l, loaded);
    }
}

fn write_route(out: &mut String, r: &Route, l: &Listener, loaded: &Loaded) {
    let hosts: Vec<String> = r
        .listeners()
        .filter(|a| a.listener == l.key)
        .flat_map(|a| a.hostnames.iter().cloned())
        .collect();
    let origin = match &r.origin {
        crate::model::Origin::Manifest => String::new(),
        crate::model::Origin::HelmValues { release, .. } => {
            format!(" (from the values of {})", key(release))
        }
        crate::model::Origin::Operator { owner } => format!(" (from {})", key(owner)),
    };
    let _ = writeln!(
        out,
        "      {} {}/{}{origin} hosts {} at {}",
        r.kind.as_str(),
        r.key.namespace,
        r.key.name,
        list(&hosts),
        at(loaded, Some(r.span))
    );
    if let Some(ws) = &r.websocket {
        let _ = writeln!(
            out,
            "        WebSocket app: {}{} ({:?})",
            ws.app.as_deref().unwrap_or("(declared)"),
            ws.probe_path
                .as_ref()
                .map(|p| format!(", probe {p}"))
                .unwrap_or_default(),
            ws.reason
        );
    }
    for rule in &r.rules {
        let Some(on) = rule.on_listeners.iter().find(|o| o.listener == l.key) else {
            continue;
        };
        let backends: Vec<String> = rule
            .backends
            .iter()
            .map(|b| {
                let mut s = format!("{:?} {}/{}", b.kind, b.namespace, b.name).to_lowercase();
                if let Some(p) = b.port {
                    s.push_str(&format!(":{p}"));
                }
                if let Some(ap) = &b.app_protocol {
                    s.push_str(&format!(" appProtocol {}", ap.value));
                }
                s
            })
            .collect();
        let backends = if backends.is_empty() {
            "(no backends)".to_owned()
        } else {
            backends.join(", ")
        };
        let _ = writeln!(
            out,
            "        rule {} → {}; upgrade {} ({}); HTTP/1.1 upstream forced: {} ({})",
            rule.index,
            backends,
            list(&on.upgrade.value),
            why(loaded, &on.upgrade),
            on.force_http1_upstream.value,
            why(loaded, &on.force_http1_upstream)
        );
        for h in &on.upstream_h2 {
            let _ = writeln!(
                out,
                "          backend {} may be reached over HTTP/2 ({:?}) {}",
                h.backend,
                h.cause,
                at(loaded, h.span)
            );
        }
    }
}

/// The JSON form: per model the facts keyed as `../shared/egw-cases/*/expected.json`, plus the
/// whole model. With a focus, the facts keep only the listeners and route rules its rules read,
/// each model gets its `findings`, and the top level lists the `rules`.
pub fn json(
    models: &[Model],
    applied: &Applied,
    loaded: &Loaded,
    focus: Option<&Focus<'_>>,
) -> serde_json::Value {
    let items: Vec<_> = models
        .iter()
        .map(|m| {
            let mut facts = m.facts();
            if let Some(f) = focus {
                narrow_facts(&mut facts, m, f);
            }
            let set = applied.sets.iter().find(|s| s.entry_point == m.entry_point);
            let mut item = serde_json::json!({
                "entry_point": m.entry_point,
                "listeners": facts["listeners"],
                "routes": facts["routes"],
                "version": m.version,
                "not_analysed": set.map(|s| &s.not_analysed),
                "model": m,
            });
            if let Some(f) = focus {
                item["findings"] = f
                    .findings_of(m)
                    .map(|x| super::scan::finding_json(x, loaded, f.catalogue))
                    .collect();
            }
            item
        })
        .collect();
    let mut out = serde_json::json!({
        "schema_version": 1,
        "models": items,
        "not_applied": applied.not_applied,
    });
    if let Some(f) = focus {
        out["rules"] = serde_json::json!(f.rules);
    }
    resolve_spans(&mut out, loaded);
    out
}

/// Drops from `facts` the listeners and route rules the focus's rules do not read.
fn narrow_facts(facts: &mut serde_json::Value, m: &Model, focus: &Focus<'_>) {
    let keep: Vec<&Listener> = m
        .listeners
        .iter()
        .filter(|l| focus.listener(m, l))
        .collect();
    if let Some(ls) = facts["listeners"].as_object_mut() {
        ls.retain(|k, _| keep.iter().any(|l| l.key == *k));
    }
    let Some(routes) = facts["routes"].as_object_mut() else {
        return;
    };
    routes.retain(|k, _| keep.iter().any(|l| l.key == *k));
    for (lk, rules) in routes.iter_mut() {
        let Some(l) = keep.iter().find(|l| l.key == *lk) else {
            continue;
        };
        let prefixes: Vec<String> = m
            .routes
            .iter()
            .filter(|r| focus.route(r, l))
            .map(|r| {
                format!(
                    "{}/{}/{}/rule/",
                    r.kind.as_str().to_ascii_lowercase(),
                    r.key.namespace,
                    r.key.name
                )
            })
            .collect();
        if let Some(rules) = rules.as_object_mut() {
            rules.retain(|k, _| prefixes.iter().any(|p| k.starts_with(p)));
        }
    }
}

/// Replaces every serialised span (`{"file", "start", "end"}`) by its path, line, column and
/// byte offsets, so that the JSON stands on its own.
fn resolve_spans(v: &mut serde_json::Value, loaded: &Loaded) {
    match v {
        serde_json::Value::Object(map) => {
            let is_span = map.len() == 3
                && ["file", "start", "end"]
                    .iter()
                    .all(|k| map.get(*k).is_some_and(|x| x.is_u64()));
            if is_span {
                let n = |k: &str| map[k].as_u64().unwrap_or(0) as u32;
                let span = Span {
                    file: n("file"),
                    start: n("start"),
                    end: n("end"),
                };
                if let Some(at) = locate(loaded, span) {
                    *v = serde_json::to_value(at).unwrap_or_default();
                }
                return;
            }
            map.values_mut().for_each(|x| resolve_spans(x, loaded));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|x| resolve_spans(x, loaded)),
        _ => {}
    }
}
