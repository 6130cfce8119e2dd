//! The setup server's HTML pages: the form that posts the manifest to GitHub, the page after
//! the App was created, and the pages that refuse. Every value is HTML-escaped.

use std::path::Path;

use super::credentials::{AppCredentials, Written};

/// `&`, `<`, `>`, `"` and `'` as character references.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · ws-fix</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         code,pre{{background:#f3f3f3;padding:.1rem .3rem}}button{{font-size:1.1rem;padding:.5rem 1rem}}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n{body}</body>\n</html>\n",
        title = escape(title)
    )
}

/// The form: `manifest` (JSON) posted to `action` (GitHub's "new App" page with the state).
pub fn form(action: &str, manifest: &serde_json::Value, owner: Option<&str>) -> String {
    let under = match owner {
        Some(org) => format!("the organisation <strong>{}</strong>", escape(org)),
        None => "your personal account".to_owned(),
    };
    let permissions = manifest["default_permissions"]
        .as_object()
        .map(|p| {
            p.iter()
                .map(|(k, v)| format!("{}: {}", escape(k), escape(v.as_str().unwrap_or(""))))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let events = manifest["default_events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|v| v.as_str())
                .map(escape)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let hook = manifest["hook_attributes"]["url"].as_str().unwrap_or("");
    document(
        "Register the ws-fix GitHub App",
        &format!(
            "<p>This registers a new GitHub App under {under} from ws-fix's manifest. GitHub \
             shows the App before creating it; you may change its name there.</p>\n\
             <ul>\n<li>Webhook: <code>{hook}</code></li>\n<li>Permissions: {permissions}</li>\n\
             <li>Events: {events}</li>\n</ul>\n\
             <form id=\"register\" method=\"post\" action=\"{action}\">\n\
             <input type=\"hidden\" name=\"manifest\" value=\"{manifest}\">\n\
             <button type=\"submit\" id=\"create\">Create the App on GitHub</button>\n</form>\n",
            hook = escape(hook),
            action = escape(action),
            manifest = escape(&manifest.to_string()),
        ),
    )
}

/// After the exchange: what was written, and what to do next.
pub fn done(app: &AppCredentials, written: &Written, data_dir: &Path) -> String {
    let install = format!("{}/installations/new", app.html_url.trim_end_matches('/'));
    let secret_note = if app.webhook_secret.is_some() {
        ""
    } else {
        "<p><strong>GitHub gave no webhook secret:</strong> set one in the App's settings and \
         pass it to <code>ws-fix serve</code> with <code>--webhook-secret</code>.</p>\n"
    };
    document(
        "The App is registered",
        &format!(
            "<p>GitHub created the App <a href=\"{html_url}\">{name}</a> (ID <code id=\"app-id\">{id}</code>).</p>\n\
             <p>Written, readable by this user only (mode 0600):</p>\n<ul>\n\
             <li><code>{app_file}</code>: the App's ID, slug, client ID and secret, webhook secret</li>\n\
             <li><code>{key_file}</code>: the App's private key</li>\n</ul>\n{secret_note}\
             <h2>Next</h2>\n<ol>\n\
             <li><a id=\"install\" href=\"{install}\">Install the App</a> on the repositories ws-fix should fix.</li>\n\
             <li>Start the server: <code>ws-fix serve --data-dir {data_dir}</code> (it reads both files).</li>\n\
             <li>Stop this setup server (Ctrl-C).</li>\n</ol>\n",
            html_url = escape(&app.html_url),
            name = escape(&app.name),
            id = app.id,
            app_file = escape(&written.app_file.display().to_string()),
            key_file = escape(&written.key_file.display().to_string()),
            install = escape(&install),
            data_dir = escape(&data_dir.display().to_string()),
        ),
    )
}

/// A page that says why the request was refused.
pub fn refusal(title: &str, message: &str) -> String {
    document(title, &format!("<p id=\"error\">{}</p>\n", escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let manifest =
            serde_json::json!({"name": "a\"b<c>", "hook_attributes": {"url": "https://x/webhook"}});
        let html = form(
            "https://github.com/settings/apps/new?state=s&x=1",
            &manifest,
            Some("acme"),
        );
        assert!(
            html.contains(r#"action="https://github.com/settings/apps/new?state=s&amp;x=1""#),
            "{html}"
        );
        assert!(
            html.contains(r#"&quot;name&quot;:&quot;a\&quot;b&lt;c&gt;&quot;"#),
            "{html}"
        );
        assert!(html.contains("<strong>acme</strong>"));
    }
}
