//! GitHub's REST description (`../shared/github/openapi-api.github.com.json`, OpenAPI 3.0.3) as
//! a request checker for the fake GitHub: the path must match one of the templated `paths`, the
//! method must exist there, path and query parameters must be declared (and of the declared
//! type), and a JSON body must satisfy the operation's request schema.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value};

/// How deep `$ref`s are inlined into a request schema; deeper references accept anything.
const MAX_REF_DEPTH: usize = 16;

/// The description, loaded once and shared by every fake in the test binary.
pub fn description() -> &'static RestDescription {
    static DESCRIPTION: OnceLock<RestDescription> = OnceLock::new();
    DESCRIPTION.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/github/openapi-api.github.com.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        RestDescription::new(serde_json::from_str(&text).expect("the REST description is JSON"))
    })
}

/// The operations of GitHub's REST description, with request validators compiled on first use.
pub struct RestDescription {
    doc: Value,
    paths: Vec<PathTemplate>,
    validators: Mutex<HashMap<(String, String, bool), Arc<jsonschema::Validator>>>,
}

struct PathTemplate {
    template: String,
    segments: Vec<Segment>,
}

enum Segment {
    Literal(String),
    /// `multi`: the parameter is `x-multi-segment` (its value may contain slashes).
    Param {
        name: String,
        multi: bool,
    },
}

/// The operation a request matched, with its path parameters (percent-decoded).
#[derive(Debug, Clone)]
pub struct Matched {
    /// The templated path, e.g. `/repos/{owner}/{repo}/git/ref/{ref}`.
    pub template: String,
    pub params: HashMap<String, String>,
}

impl Matched {
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }
}

impl RestDescription {
    pub fn new(doc: Value) -> Self {
        let mut paths = Vec::new();
        let items = doc["paths"].as_object().expect("`paths` is an object");
        for (template, item) in items {
            let mut multi_names = Vec::new();
            if let Some(item) = item.as_object() {
                for (key, op) in item {
                    let params = if key == "parameters" {
                        op
                    } else {
                        &op["parameters"]
                    };
                    for p in params.as_array().into_iter().flatten() {
                        let p = resolve(&doc, p);
                        if p["in"] == "path" && p["x-multi-segment"] == true {
                            multi_names.push(p["name"].as_str().unwrap_or("").to_owned());
                        }
                    }
                }
            }
            let segments = template
                .trim_start_matches('/')
                .split('/')
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param {
                            name: name.to_owned(),
                            multi: multi_names.iter().any(|m| m == name),
                        },
                        None => Segment::Literal(s.to_owned()),
                    },
                )
                .collect();
            paths.push(PathTemplate {
                template: template.clone(),
                segments,
            });
        }
        Self {
            doc,
            paths,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// Checks one request. `path` is the raw (percent-encoded) path, `query` the decoded query
    /// pairs, `body` the parsed JSON body (`None` when the request has none). Returns the
    /// matched operation, or why GitHub's description does not allow the request.
    ///
    /// GitHub's request schemas do not forbid unknown properties; with `strict_bodies` every
    /// object schema that lists `properties` (outside `allOf`) is closed, so a misspelt field
    /// is refused too (octocrab's `pulls().update()` sends `pull_number` and fails this).
    pub fn check(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        strict_bodies: bool,
    ) -> Result<Matched, String> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // The template with the most literal segments wins, as GitHub's router prefers
        // `/issues/comments/{id}` to `/issues/{issue_number}/comments`.
        let mut best: Option<(usize, &PathTemplate, HashMap<String, String>)> = None;
        for t in &self.paths {
            let mut params = HashMap::new();
            if match_segments(&t.segments, &parts, &mut params) {
                let literals = t
                    .segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count();
                if best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                    best = Some((literals, t, params));
                }
            }
        }
        let Some((_, template, params)) = best else {
            return Err(format!(
                "no path of GitHub's REST description matches `{path}`"
            ));
        };
        let method_lc = method.to_ascii_lowercase();
        let item = &self.doc["paths"][&template.template];
        let op = &item[&method_lc];
        if !op.is_object() {
            let allowed: Vec<String> = item
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| *k != "parameters")
                .map(|k| k.to_ascii_uppercase())
                .collect();
            return Err(format!(
                "{method} is not an operation of `{}` (allowed: {})",
                template.template,
                allowed.join(", ")
            ));
        }
        let declared: Vec<&Value> = item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(op["parameters"].as_array().into_iter().flatten())
            .map(|p| resolve(&self.doc, p))
            .collect();

        let mut decoded = HashMap::new();
        for (name, raw) in params {
            let value = percent_decode(&raw);
            if let Some(p) = declared
                .iter()
                .find(|p| p["in"] == "path" && p["name"] == name.as_str())
                && let Err(e) = check_scalar(&self.doc, &p["schema"], &value)
            {
                return Err(format!("path parameter `{name}` = `{value}`: {e}"));
            }
            decoded.insert(name, value);
        }
        for (name, value) in query {
            let Some(p) = declared
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name.as_str())
            else {
                let names: Vec<&str> = declared
                    .iter()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                return Err(format!(
                    "query parameter `{name}` is not declared for {method} `{}` (declared: {})",
                    template.template,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            if let Err(e) = check_scalar(&self.doc, &p["schema"], value) {
                return Err(format!("query parameter `{name}` = `{value}`: {e}"));
            }
        }

        let request_body = resolve(&self.doc, &op["requestBody"]);
        match (body, request_body.is_object()) {
            (Some(_), false) => {
                return Err(format!(
                    "{method} `{}` takes no request body",
                    template.template
                ));
            }
            (None, true) if request_body["required"] == true => {
                return Err(format!(
                    "{method} `{}` requires a request body",
                    template.template
                ));
            }
            (Some(body), true) => {
                let schema = &request_body["content"]["application/json"]["schema"];
                if schema.is_object() {
                    let validator =
                        self.validator(&template.template, &method_lc, schema, strict_bodies)?;
                    let errors: Vec<String> = validator
                        .iter_errors(body)
                        .map(|e| {
                            let at = e.instance_path().to_string();
                            format!("{e} (at `{}`)", if at.is_empty() { "/" } else { &at })
                        })
                        .collect();
                    if !errors.is_empty() {
                        return Err(format!(
                            "the body of {method} `{}` does not match its schema: {}",
                            template.template,
                            errors.join("; ")
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(Matched {
            template: template.template.clone(),
            params: decoded,
        })
    }

    /// Checks an answer the fake gives against the operation's response schema for `status`
    /// (`template` as [`Matched::template`]).
    pub fn check_response(
        &self,
        method: &str,
        template: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let op = &self.doc["paths"][template][method.to_ascii_lowercase()];
        let response = resolve(&self.doc, &op["responses"][status.to_string()]);
        let schema = &response["content"]["application/json"]["schema"];
        if !schema.is_object() {
            return Err(format!(
                "{method} `{template}` does not answer {status} with JSON"
            ));
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&inline(&self.doc, schema, 0, false, false))
            .map_err(|e| format!("the response schema of {method} `{template}`: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{e} (at `{}`)", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the fake's {status} answer to {method} `{template}` does not match GitHub's schema: {}",
                errors.join("; ")
            ))
        }
    }

    fn validator(
        &self,
        template: &str,
        method: &str,
        schema: &Value,
        strict: bool,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        let key = (template.to_owned(), method.to_owned(), strict);
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        let inlined = inline(&self.doc, schema, 0, strict, false);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&inlined)
            .map_err(|e| format!("the request schema of {method} `{template}` is invalid: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        Ok(validator)
    }
}

fn match_segments(
    segments: &[Segment],
    parts: &[&str],
    params: &mut HashMap<String, String>,
) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return parts.is_empty();
    };
    match first {
        Segment::Literal(l) => {
            parts.first().is_some_and(|p| p == l) && match_segments(rest, &parts[1..], params)
        }
        Segment::Param { name, multi } => {
            let most = if *multi {
                parts.len()
            } else {
                parts.len().min(1)
            };
            for n in (1..=most).rev() {
                if parts[..n].iter().any(|p| p.is_empty()) {
                    continue;
                }
                if match_segments(rest, &parts[n..], params) {
                    params.insert(name.clone(), parts[..n].join("/"));
                    return true;
                }
            }
            false
        }
    }
}

/// Follows a `$ref` into `#/components/...` (one level).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or(&Value::Null),
        None => v,
    }
}

/// Checks a path or query value against a scalar parameter schema (type and enum).
fn check_scalar(doc: &Value, schema: &Value, value: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    let ok = match schema["type"].as_str() {
        Some("integer") => value.parse::<i64>().is_ok(),
        Some("number") => value.parse::<f64>().is_ok(),
        Some("boolean") => value == "true" || value == "false",
        _ => true,
    };
    if !ok {
        return Err(format!("not a {}", schema["type"].as_str().unwrap_or("?")));
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.iter().any(|a| match a {
            Value::String(s) => s == value,
            other => other.to_string().as_str() == value,
        })
    {
        return Err(format!("not one of {}", Value::Array(allowed.clone())));
    }
    Ok(())
}

/// Inlines `$ref`s (depth-limited) and turns OpenAPI 3.0's `nullable` into JSON Schema. With
/// `close`, object schemas with `properties` get `additionalProperties: false` unless they are
/// branches of an `allOf` (`in_all_of`), where closing would refuse the other branches' fields.
fn inline(doc: &Value, v: &Value, depth: usize, close: bool, in_all_of: bool) -> Value {
    match v {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                if depth >= MAX_REF_DEPTH {
                    return Value::Object(Map::new());
                }
                let target = doc
                    .pointer(r.trim_start_matches('#'))
                    .unwrap_or(&Value::Null);
                return inline(doc, target, depth + 1, close, in_all_of);
            }
            let mut out = Map::new();
            for (k, v) in map {
                if matches!(k.as_str(), "description" | "example" | "examples") && !v.is_object() {
                    continue;
                }
                out.insert(k.clone(), inline(doc, v, depth, close, k == "allOf"));
            }
            if close
                && !in_all_of
                && out.contains_key("properties")
                && !out.contains_key("additionalProperties")
            {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            if out.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    values.push(Value::Null);
                }
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), serde_json::json!([t, "null"]));
                    }
                    Some(_) => {}
                    None => {
                        return serde_json::json!({"anyOf": [{"type": "null"}, out]});
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| inline(doc, i, depth, close, in_all_of))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Decodes `%XX` escapes (and leaves invalid ones as they are).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a query string into decoded pairs (`+` is a space).
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}
