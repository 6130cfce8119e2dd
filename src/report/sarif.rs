//! SARIF 2.1.0, as GitHub code scanning accepts it.

use super::location::{Located, locate};
use crate::catalogue::{Catalogue, RuleId};
use crate::findings::Finding;
use crate::load::Loaded;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn region(at: &Located) -> serde_json::Value {
    serde_json::json!({
        "startLine": at.line,
        "startColumn": at.column,
        "endLine": at.end_line,
        "endColumn": at.end_column,
        "byteOffset": at.start_byte,
        "byteLength": at.end_byte - at.start_byte,
    })
}

fn physical(at: &Located) -> serde_json::Value {
    serde_json::json!({
        "artifactLocation": {"uri": at.path, "uriBaseId": "%SRCROOT%"},
        "region": region(at),
    })
}

/// One run with every rule of the catalogue and one result per finding.
pub fn sarif(findings: &[Finding], loaded: &Loaded, catalogue: &Catalogue) -> serde_json::Value {
    let rules: Vec<_> = RuleId::ALL
        .iter()
        .map(|id| {
            let r = catalogue.rule(*id);
            let docs = r.docs.first().cloned().unwrap_or_default();
            serde_json::json!({
                "id": id.as_str(),
                "name": id.as_str(),
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.explanation.trim()},
                "help": {
                    "text": format!("{}\n\nDocs: {}", r.explanation.trim(), r.docs.join(", ")),
                    "markdown": format!(
                        "{}\n\n{}",
                        r.explanation.trim(),
                        r.docs.iter().map(|d| format!("- <{d}>")).collect::<Vec<_>>().join("\n")
                    ),
                },
                "helpUri": docs,
                "defaultConfiguration": {"level": r.severity.sarif_level()},
                "properties": {"tags": ["envoy-gateway", "websocket"]},
            })
        })
        .collect();
    let results: Vec<_> = findings
        .iter()
        .filter_map(|f| {
            let at = locate(loaded, f.location)?;
            let related: Vec<_> = f
                .related
                .iter()
                .filter_map(|r| Some((r, locate(loaded, r.span?)?)))
                .enumerate()
                .map(|(i, (r, l))| {
                    let mut loc = serde_json::json!({"id": i, "physicalLocation": physical(&l)});
                    loc["message"] = serde_json::json!({"text": r.message});
                    loc
                })
                .collect();
            let index = RuleId::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            let mut text = f.message.clone();
            let unlocated: Vec<&str> = f
                .related
                .iter()
                .filter(|r| r.span.is_none())
                .map(|r| r.message.as_str())
                .collect();
            if !unlocated.is_empty() {
                text.push_str(&format!(" Affects: {}.", unlocated.join(", ")));
            }
            let mut result = serde_json::json!({
                "ruleId": f.rule.as_str(),
                "ruleIndex": index,
                "level": f.severity.sarif_level(),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical(&at)}],
                "relatedLocations": related,
                "partialFingerprints": {
                    "wsFixLocation/v1": format!("{}:{}:{}", f.rule, at.path, at.start_byte),
                },
                "properties": {
                    "envoyGatewayVersion": f.version.version,
                    "versionSource": f.version.source,
                    "entryPoints": f.entry_points,
                },
            });
            if let Some(reason) = &f.ignored {
                result["suppressions"] =
                    serde_json::json!([{"kind": "inSource", "justification": reason}]);
            }
            Some(result)
        })
        .collect();
    serde_json::json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ws-fix",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/ws-fix/ws-fix",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
            "results": results,
        }],
    })
}
