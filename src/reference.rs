//! The reference pages written from the code and `rules/`: `docs/rules.md` (the catalogue),
//! the key tables of `docs/config.md` (the repo config) and of `docs/server.md` (the server's
//! settings). `tests/model/reference_docs.rs` fails when a page in the repository differs from what
//! these functions write, and rewrites it with `WS_FIX_BLESS=1`.

use std::fmt::Write;

use clap::Args;

use crate::catalogue::Catalogue;
use crate::config::keys;
use crate::server::settings::Settings;

/// The markers around a generated part of a hand-written page.
pub fn markers(name: &str) -> (String, String) {
    (
        format!(
            "<!-- generated: {name} (from the code; `WS_FIX_BLESS=1 cargo test --test model reference_docs` rewrites it) -->\n"
        ),
        format!("<!-- end of generated: {name} -->\n"),
    )
}

/// `page` with the part between the markers of `name` replaced by `content`; `None` when the
/// page has no such markers.
pub fn replace_generated(page: &str, name: &str, content: &str) -> Option<String> {
    let (begin, end) = markers(name);
    let start = page.find(&begin)? + begin.len();
    let stop = start + page[start..].find(&end)?;
    Some(format!("{}{}{}", &page[..start], content, &page[stop..]))
}

/// One Markdown table cell: pipes and newlines would break the row.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn code_list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let list: Vec<String> = items.into_iter().map(|i| format!("`{i}`")).collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

fn key_table(out: &mut String, keys: impl Iterator<Item = &'static keys::Key>, strip: &str) {
    out.push_str("| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in keys {
        let path = k.path.strip_prefix(strip).unwrap_or(k.path);
        let _ = writeln!(
            out,
            "| `{path}` | {} | {} | {} |",
            k.kind, k.default, k.meaning
        );
    }
}

/// The key tables of `docs/config.md` (between the `config-keys` markers).
pub fn config_keys(catalogue: &Catalogue) -> String {
    let mut out = String::from("## Keys\n\n");
    key_table(&mut out, keys::under(""), "");
    out.push_str("\nRule ids: ");
    out.push_str(&code_list(catalogue.rules().iter().map(|r| r.id)));
    out.push_str(".\n\nFix kinds: ");
    out.push_str(&code_list(catalogue.fix_kinds().iter().map(|f| f.id)));
    out.push_str(".\n\n### `apps` entries\n\n");
    key_table(&mut out, keys::under("apps[]."), "apps[].");
    out.push_str("\n### `websocket-routes` entries\n\n");
    key_table(
        &mut out,
        keys::under("websocket-routes[]."),
        "websocket-routes[].",
    );
    out
}

/// The settings table of `docs/server.md` (between the `server-settings` markers): every flag
/// of `ws-fix serve` with its environment variable and default, from the clap definitions.
pub fn server_settings() -> String {
    let command = Settings::augment_args(clap::Command::new("serve"));
    let mut out = String::from("| flag | environment | default | meaning |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| format!("`{}`", v.to_string_lossy()))
            .collect();
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| cell(&h.to_string()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `--{long}` | {env} | {} | {help} |",
            if defaults.is_empty() {
                "none".to_owned()
            } else {
                defaults.join(", ")
            }
        );
    }
    out
}

/// `docs/rules.md`, whole: the rules, the fix kinds, the WebSocket apps and the Envoy Gateway
/// versions and gates of the catalogue.
pub fn rules_page(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    out.push_str(
        "# Rules reference\n\n\
         <!-- Generated from rules/*.yaml by src/reference.rs; do not edit. \
         `WS_FIX_BLESS=1 cargo test --test model reference_docs` rewrites it. -->\n\n\
         What `ws-fix scan` reports and the fixes it proposes, from the catalogue compiled into \
         the binary (`rules/`). An id is the same everywhere: in `rules/`, on the command line, \
         in the repo config (`docs/config.md`), in ignore annotations and in pull requests.\n\n\
         ## Rules\n\n\
         | rule id | severity | finding | fixed by |\n|---|---|---|---|\n",
    );
    for rule in catalogue.rules() {
        let _ = writeln!(
            out,
            "| [`{id}`](#{id}) | {} | {} | {} |",
            rule.severity,
            cell(&rule.title),
            code_list(&rule.fixes),
            id = rule.id
        );
    }
    for rule in catalogue.rules() {
        let _ = write!(
            out,
            "\n### `{}`\n\n**{}.** Severity: {}.\n\n{}\n",
            rule.id,
            rule.title,
            rule.severity,
            rule.explanation.trim()
        );
        if !rule.causes.is_empty() {
            out.push_str("\n| cause | severity | when |\n|---|---|---|\n");
            for c in &rule.causes {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    c.cause.as_str(),
                    c.severity,
                    cell(&c.when)
                );
            }
        }
        let _ = writeln!(out, "\nFixed by: {}.", code_list(&rule.fixes));
        if !rule.docs.is_empty() {
            out.push_str("\nEnvoy Gateway documentation:\n\n");
            for d in &rule.docs {
                let _ = writeln!(out, "- <{d}>");
            }
        }
    }
    out.push_str(
        "\n## Fix kinds\n\nEach fix kind is one pull request on its own branch.\n\n\
         | fix kind | branch | title | fixes |\n|---|---|---|---|\n",
    );
    for f in catalogue.fix_kinds() {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            f.id,
            f.branch,
            cell(&f.title),
            code_list(&f.fixes)
        );
    }
    for f in catalogue.fix_kinds() {
        let _ = write!(out, "\n### `{}`\n\n{}\n", f.id, f.description.trim());
    }
    out.push_str(
        "\n## WebSocket apps\n\nA route serves a WebSocket app when its backend runs one of these \
         images or charts, or is one of these operator resources. A repo adds its own with \
         `apps` in its config.\n\n\
         | id | name | images | charts | kinds | port | probe path |\n|---|---|---|---|---|---|---|\n",
    );
    for app in catalogue.apps() {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | `{}` |",
            app.id,
            cell(&app.name),
            code_list(&app.images),
            code_list(&app.charts),
            code_list(app.kinds.iter().map(|k| format!("{}/{}", k.group, k.kind))),
            app.port.map(|p| p.to_string()).unwrap_or_default(),
            app.probe_path
        );
    }
    let releases = catalogue.releases();
    let _ = write!(
        out,
        "\n## Envoy Gateway versions\n\n{} releases are known, from {} to {newest}; a repo \
         whose version cannot be read is judged as {newest}. What each release does:\n\n\
         | gate | behaviour | holds for |\n|---|---|---|\n",
        releases.len(),
        releases.first().map(|v| v.to_string()).unwrap_or_default(),
        newest = catalogue.newest_release(),
    );
    for row in gate_rows(catalogue) {
        out.push_str(&row);
    }
    let _ = writeln!(
        out,
        "\n`stream-limits` reports a stream idle timeout below {} seconds.",
        catalogue.thresholds().stream_idle_threshold_seconds
    );
    out
}

fn gate_rows(catalogue: &Catalogue) -> Vec<String> {
    crate::catalogue::Gate::ALL
        .iter()
        .map(|&gate| {
            let info = catalogue.gate(gate);
            let holds: Vec<String> = info.holds.iter().map(|r| format!("`{r}`")).collect();
            format!(
                "| `{}` | {} | {} |\n",
                gate.as_str(),
                cell(&info.description),
                if holds.is_empty() {
                    "never".to_owned()
                } else {
                    holds.join(" or ")
                }
            )
        })
        .collect()
}
