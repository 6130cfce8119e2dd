//! The pull request of a plan: a title in the repo's commit style, a Markdown body (what breaks
//! for which hosts, the root cause, the change and its cost, the version assumed, links, the
//! sibling pull requests, a verification checklist with the real hosts and probe paths) and
//! the hidden metadata line a publisher finds its pull requests by.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{Catalogue, FixKind};
use crate::fix::fingerprint::hex;
use crate::fix::{Affected, Plan};
use crate::load::Loaded;
use crate::report::location::describe;

/// The hidden metadata, the last line of every body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub v: u32,
    pub kind: String,
    pub fingerprint: String,
    pub body_sha256: String,
}

const PREFIX: &str = "<!-- ws-fix: ";
const SUFFIX: &str = " -->";

impl Metadata {
    /// The metadata of a body written by any release (unknown fields are ignored), and whether
    /// the body above it is still what the bot wrote.
    pub fn read(body: &str) -> Option<(Metadata, bool)> {
        let body = body.trim_end_matches(['\n', '\r']);
        let (content, last) = body.rsplit_once('\n').unwrap_or(("", body));
        let json = last.trim().strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let meta: Metadata = serde_json::from_str(json).ok()?;
        // The body is the content, a blank line and this line.
        let content = content.trim_end_matches(['\n', '\r']);
        let intact = hex(&Sha256::digest(content.as_bytes())) == meta.body_sha256;
        Some((meta, intact))
    }
}

/// A pull request's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub kind: FixKind,
    pub branch: String,
    pub title: String,
    /// Ends with the metadata line.
    pub body: String,
}

/// True when most of the recent commit subjects are conventional commits (`type(scope): ...`).
fn conventional(subjects: &[String]) -> Option<Option<String>> {
    let re = regex::Regex::new(r"^[a-z]+(\(([^)]+)\))?!?: ").expect("valid");
    let hits: Vec<Option<String>> = subjects
        .iter()
        .filter_map(|s| {
            re.captures(s)
                .map(|c| c.get(2).map(|m| m.as_str().to_owned()))
        })
        .collect();
    if subjects.is_empty() || hits.len() * 2 < subjects.len() {
        return None;
    }
    // The scope used most for this area of the repo, if any.
    let mut best: Option<(usize, String)> = None;
    for s in hits.iter().flatten() {
        let l = s.to_ascii_lowercase();
        if !(l.contains("envoy") || l.contains("gateway") || l.contains("network")) {
            continue;
        }
        let n = hits.iter().flatten().filter(|x| *x == s).count();
        if best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, s.clone()));
        }
    }
    Some(best.map(|(_, s)| s))
}

fn summary(plan: &Plan) -> &'static str {
    match plan.kind {
        FixKind::AlpnOrder => "prefer HTTP/1.1 in ALPN for WebSocket apps",
        FixKind::HttpUpgrade if plan.no_op => "declare the WebSocket upgrade explicitly",
        FixKind::HttpUpgrade => "allow the WebSocket upgrade for WebSocket apps",
        FixKind::WsAppProtocol => "force HTTP/1.1 upstream for WebSocket backends",
        FixKind::Backend => "route WebSocket apps through a Backend with ws",
        FixKind::EnableBackend => "enable the Envoy Gateway Backend API",
    }
}

/// The title in the repo's style: `fix(scope): ...` where recent commits are conventional.
pub fn title(plan: &Plan, subjects: &[String]) -> String {
    let s = summary(plan);
    match conventional(subjects) {
        Some(Some(scope)) => format!("fix({scope}): {s}"),
        Some(None) => format!("fix: {s}"),
        None => {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

fn root_cause(kind: FixKind) -> &'static str {
    match kind {
        FixKind::AlpnOrder => {
            "Envoy Gateway offers `h2` before `http/1.1` on these HTTPS listeners, so browsers speak HTTP/2 to them, and Envoy Gateway never enables WebSockets over HTTP/2 (RFC 8441). Chrome opens a separate HTTP/1.1 connection for the WebSocket; other clients (reported for Firefox) fail."
        }
        FixKind::HttpUpgrade => {
            "The `httpUpgrade` list of the BackendTrafficPolicy replaces Envoy Gateway's default upgrade types, and it does not name `websocket`. Envoy therefore refuses the `Upgrade: websocket` handshake on these routes."
        }
        FixKind::WsAppProtocol | FixKind::Backend => {
            "The backend of these WebSocket routes can be reached over HTTP/2 (h2c, or TLS with automatic upstream ALPN), and a WebSocket upgrade cannot pass over an HTTP/2 upstream connection. A ws app protocol makes Envoy Gateway use HTTP/1.1 to that backend."
        }
        FixKind::EnableBackend => {
            "A route references a `Backend`, and Envoy Gateway only accepts that kind when `extensionApis.enableBackend` is true. Until then the route answers 500 for all traffic."
        }
    }
}

/// The body of a plan's pull request; `siblings` are the other pull requests of the same scan.
pub fn body(
    plan: &Plan,
    loaded: &Loaded,
    catalogue: &Catalogue,
    siblings: &[PullRequest],
) -> String {
    let mut b = String::new();
    let info = catalogue.fix_kind(plan.kind);
    b.push_str(&format!(
        "**{}** (ws-fix `{}`)\n\n",
        info.title,
        plan.kind.as_str()
    ));

    b.push_str("### What breaks\n\n");
    if plan.no_op {
        b.push_str("Nothing: this is the explicit declaration the repo config asks for.\n");
    }
    for f in &plan.findings {
        b.push_str(&format!(
            "- `{}` at `{}`: {}\n",
            f.rule.as_str(),
            describe(loaded, f.location),
            f.message
        ));
    }
    if !plan.affected.is_empty() {
        b.push_str("\nAffected routes:\n\n");
        for a in &plan.affected {
            b.push_str(&format!("- {}: {}{}\n", a.route, hosts(a), app(a)));
        }
    }

    if !plan.no_op {
        b.push_str("\n### Root cause\n\n");
        b.push_str(root_cause(plan.kind));
        b.push('\n');
    }

    b.push_str("\n### What this changes\n\n");
    b.push_str(&info.description);
    b.push_str("\n\n");
    for c in &plan.changes {
        b.push_str(&format!(
            "- `{} {}/{}`: `{}` = `{}`\n",
            c.resource.kind,
            c.resource.namespace,
            c.resource.name,
            c.field,
            short(&c.value)
        ));
    }
    for f in &plan.files {
        let what = if f.before.is_none() {
            "new file"
        } else {
            "edited"
        };
        b.push_str(&format!("- {what}: `{}`\n", f.path));
    }
    if plan.kind == FixKind::AlpnOrder && !plan.listeners.is_empty() {
        b.push_str(&format!(
            "\nCost: browsers use HTTP/1.1 instead of HTTP/2 on {} (every host they serve, not only the WebSocket apps); clients that only speak h2, such as gRPC, keep h2.\n",
            plan.listeners
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for n in &plan.notes {
        b.push_str(&format!("\n{n}\n"));
    }

    b.push_str("\n### Envoy Gateway version\n\n");
    let v = &plan.version;
    let whence = match (v.source.as_str(), v.span) {
        ("pinned", _) => "pinned in the repo config".to_owned(),
        ("detected", Some(span)) => format!("read from `{}`", describe(loaded, span)),
        ("detected", None) => "read from the repo".to_owned(),
        _ => "not found in the repo: the newest known release was assumed".to_owned(),
    };
    b.push_str(&format!("{} ({whence}).\n", v.version));

    let docs: Vec<&String> = plan
        .findings
        .iter()
        .flat_map(|f| &catalogue.rule(f.rule).docs)
        .collect();
    if !docs.is_empty() {
        b.push_str("\n### References\n\n");
        let mut seen = Vec::new();
        for d in docs {
            if !seen.contains(&d) {
                b.push_str(&format!("- {d}\n"));
                seen.push(d);
            }
        }
    }

    let others: Vec<&PullRequest> = siblings.iter().filter(|s| s.kind != plan.kind).collect();
    if !others.is_empty() {
        b.push_str("\n### Related pull requests of this scan\n\n");
        for s in others {
            b.push_str(&format!("- `{}`: {}\n", s.branch, s.title));
        }
    }

    b.push_str("\n### Verification checklist\n\n");
    b.push_str(&checklist(plan));
    b
}

/// The whole pull request: title, body with the metadata line.
pub fn pull_request(
    plan: &Plan,
    loaded: &Loaded,
    catalogue: &Catalogue,
    subjects: &[String],
    siblings: &[PullRequest],
) -> PullRequest {
    let content = body(plan, loaded, catalogue, siblings);
    let content = content.trim_end_matches('\n').to_owned();
    let meta = Metadata {
        v: 1,
        kind: plan.kind.as_str().to_owned(),
        fingerprint: plan.fingerprint.clone(),
        body_sha256: hex(&Sha256::digest(content.as_bytes())),
    };
    let line = format!(
        "{PREFIX}{}{SUFFIX}",
        serde_json::to_string(&meta).expect("metadata serialises")
    );
    PullRequest {
        kind: plan.kind,
        branch: catalogue.fix_kind(plan.kind).branch.clone(),
        title: title(plan, subjects),
        body: format!("{content}\n\n{line}\n"),
    }
}

/// The pull requests of a scan, each linking the others.
pub fn pull_requests(
    plans: &[Plan],
    loaded: &Loaded,
    catalogue: &Catalogue,
    subjects: &[String],
) -> Vec<PullRequest> {
    let first: Vec<PullRequest> = plans
        .iter()
        .map(|p| pull_request(p, loaded, catalogue, subjects, &[]))
        .collect();
    plans
        .iter()
        .map(|p| pull_request(p, loaded, catalogue, subjects, &first))
        .collect()
}

fn hosts(a: &Affected) -> String {
    if a.hosts.is_empty() {
        return "(no hostname)".into();
    }
    a.hosts
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn app(a: &Affected) -> String {
    a.app
        .as_deref()
        .map_or(String::new(), |x| format!(" ({x})"))
}

fn short(v: &str) -> String {
    if v.len() > 120 {
        format!("{}...", &v[..v.floor_char_boundary(117)])
    } else {
        v.to_owned()
    }
}

fn checklist(plan: &Plan) -> String {
    let mut c = String::new();
    let mut symbolic = false;
    for a in &plan.affected {
        for h in &a.hosts {
            symbolic |= h.contains("${");
            let host = h.replacen("*.", "www.", 1);
            if plan.kind == FixKind::AlpnOrder {
                c.push_str(&format!(
                    "- [ ] `curl -sv 'https://{host}/' -o /dev/null 2>&1 | grep ALPN` prints `ALPN: server accepted http/1.1`\n"
                ));
            }
            let path = a.probe_path.as_deref().unwrap_or("/");
            c.push_str(&format!(
                "- [ ] `curl -sv --http1.1 'https://{host}{path}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -o /dev/null 2>&1 | grep '^< HTTP'` prints `HTTP/1.1 101 Switching Protocols`{}\n",
                a.app.as_deref().map_or(String::new(), |x| format!(" ({x})"))
            ));
        }
    }
    for t in &plan.to_check {
        let k = &t.resource;
        let ns = if k.namespace.is_empty() {
            String::new()
        } else {
            format!(" -n {}", k.namespace)
        };
        let conditions = if t.conditions.is_empty() {
            "shows the new value".to_owned()
        } else {
            format!(
                "shows the conditions {}",
                t.conditions
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        c.push_str(&format!(
            "- [ ] `kubectl get {} {}{ns} -o yaml` {conditions}\n",
            k.kind.to_ascii_lowercase(),
            k.name
        ));
    }
    if !plan.affected.is_empty() {
        c.push_str("- [ ] In the browser, DevTools → Network → WS: the app's WebSocket shows `101 Switching Protocols` and stays open\n");
    }
    if symbolic {
        c.push_str("\nHosts written as `${VAR}` are filled in by Flux post-build substitution (`postBuild.substitute` / `substituteFrom`) from a ConfigMap or Secret the repo does not show: use the value from there.\n");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_style_is_followed_with_its_scope() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            conventional(&s(&[
                "fix(envoy): a",
                "feat(container): b",
                "fix(envoy): c"
            ])),
            Some(Some("envoy".into()))
        );
        assert_eq!(conventional(&s(&["feat: a", "chore: b"])), Some(None));
        assert_eq!(conventional(&s(&["Update x", "Add y", "fix: z"])), None);
    }

    #[test]
    fn metadata_reads_back_and_detects_edits() {
        let content = "hello\nworld";
        let meta = Metadata {
            v: 1,
            kind: "alpn-order".into(),
            fingerprint: "sha256:00".into(),
            body_sha256: hex(&Sha256::digest(content.as_bytes())),
        };
        let body = format!(
            "{content}\n\n{PREFIX}{}{SUFFIX}\n",
            serde_json::to_string(&meta).unwrap()
        );
        let (m, intact) = Metadata::read(&body).unwrap();
        assert_eq!(m.kind, "alpn-order");
        assert!(intact);
        let edited = body.replace("hello", "HELLO");
        assert!(!Metadata::read(&edited).unwrap().1);
        let future = body.replace("\"v\":1", "\"v\":1,\"extra\":true");
        assert!(Metadata::read(&future).is_some());
    }
}
