//! The fingerprint of a proposed fix (rules.md): `sha256:` + the SHA-256 of the canonical JSON
//! (sorted keys, no spaces) of `{"kind": <fix kind>, "changes": [sorted entries]}`, each entry
//! `kind/namespace/name#field.path=value`. No line numbers, hosts, versions or PR text: it
//! survives unrelated edits and changes when the fix itself would.

use sha2::{Digest, Sha256};

use super::Change;
use crate::catalogue::FixKind;

pub fn fingerprint(kind: FixKind, changes: &[Change]) -> String {
    let mut entries: Vec<String> = changes.iter().map(Change::entry).collect();
    entries.sort();
    entries.dedup();
    // serde_json's map is ordered by key: the output is canonical.
    let canonical = serde_json::json!({"kind": kind.as_str(), "changes": entries}).to_string();
    format!("sha256:{}", hex(&Sha256::digest(canonical.as_bytes())))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceKey;

    fn change(field: &str, value: &str) -> Change {
        Change {
            resource: ResourceKey {
                kind: "ClientTrafficPolicy".into(),
                namespace: "network".into(),
                name: "envoy".into(),
            },
            field: field.into(),
            value: value.into(),
        }
    }

    #[test]
    fn canonical_and_order_free() {
        let a = change("spec.tls.alpnProtocols", r#"["http/1.1","h2"]"#);
        let b = change("spec.x", "1");
        let f = fingerprint(FixKind::AlpnOrder, &[a.clone(), b.clone()]);
        assert_eq!(f, fingerprint(FixKind::AlpnOrder, &[b.clone(), a.clone()]));
        assert_ne!(f, fingerprint(FixKind::HttpUpgrade, &[a.clone(), b]));
        // The canonical text, hashed independently.
        let text = r#"{"changes":["ClientTrafficPolicy/network/envoy#spec.tls.alpnProtocols=[\"http/1.1\",\"h2\"]"],"kind":"alpn-order"}"#;
        assert_eq!(
            fingerprint(FixKind::AlpnOrder, &[a]),
            format!("sha256:{}", hex(&Sha256::digest(text.as_bytes())))
        );
    }
}
