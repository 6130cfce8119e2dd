//! The App's manifest (`app-manifest.yml`, compiled in) with its addresses filled in from the
//! server's public URL: the homepage, the webhook (`/webhook`) and where GitHub sends the
//! browser back after creating the App (`/setup/complete`).

use serde_json::Value;

/// `app-manifest.yml` as written.
pub const MANIFEST_YAML: &str = include_str!("../../app-manifest.yml");

/// The webhook's path on the server.
pub const WEBHOOK_PATH: &str = "/webhook";
/// Where GitHub redirects after creating the App.
pub const COMPLETE_PATH: &str = "/setup/complete";

/// The manifest for a server at `public_url` (no trailing slash), as JSON.
pub fn for_public_url(public_url: &str) -> Result<Value, String> {
    let mut manifest: Value = serde_saphyr::from_str(MANIFEST_YAML)
        .map_err(|e| format!("app-manifest.yml is not valid YAML: {e}"))?;
    let Some(object) = manifest.as_object_mut() else {
        return Err("app-manifest.yml is not a mapping".into());
    };
    object.insert("url".into(), Value::from(public_url));
    object.insert(
        "redirect_url".into(),
        Value::from(format!("{public_url}{COMPLETE_PATH}")),
    );
    let hook = object
        .entry("hook_attributes")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(hook) = hook.as_object_mut() else {
        return Err("app-manifest.yml: `hook_attributes` is not a mapping".into());
    };
    hook.insert(
        "url".into(),
        Value::from(format!("{public_url}{WEBHOOK_PATH}")),
    );
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_come_from_the_public_url() {
        let m = for_public_url("https://ws.example.org/gh").unwrap();
        assert_eq!(m["url"], "https://ws.example.org/gh");
        assert_eq!(
            m["hook_attributes"]["url"],
            "https://ws.example.org/gh/webhook"
        );
        assert_eq!(m["hook_attributes"]["active"], true);
        assert_eq!(
            m["redirect_url"],
            "https://ws.example.org/gh/setup/complete"
        );
        // The rest is the manifest's own.
        assert_eq!(m["name"], "ws-fix");
        assert_eq!(m["public"], false);
        assert_eq!(m["default_permissions"]["contents"], "write");
        assert_eq!(m["default_permissions"]["metadata"], "read");
        let events: Vec<&str> = m["default_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(events.contains(&"push") && events.contains(&"issue_comment"));
        assert!(!MANIFEST_YAML.is_empty() && !m.to_string().contains("example.com"));
    }
}
