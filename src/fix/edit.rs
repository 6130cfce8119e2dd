//! Edits at parser spans, in the file's own style: reorder or extend a sequence, add an entry
//! to a mapping, replace a scalar, and add a new file to its folder's kustomization.

use super::render::{self, Y};
use super::splice::{Edit, line_range};
use super::style::{self, FileStyle};
use crate::load::{Loaded, SourceFile};
use crate::yaml::{Node, NodeRef, Value};

/// Why an edit cannot be made where the model points.
pub type Refusal = String;

/// The file holding `node`, when every part of `node` is in that file (a node assembled from
/// patches of several files is not edited) and the node is not an alias expansion.
pub fn file_of<'a>(loaded: &'a Loaded, node: &Node) -> Result<&'a SourceFile, Refusal> {
    if node.alias {
        return Err("the setting comes from a YAML alias".into());
    }
    let mut mixed = false;
    node.walk(&mut |n| mixed |= n.span.file != node.span.file);
    if mixed {
        return Err("the setting is assembled from several files (patches)".into());
    }
    loaded
        .by_id(node.span.file)
        .ok_or_else(|| "the setting is not in a loaded file".to_owned())
}

/// The end of the line holding byte `end` of a node (a block scalar's span may end after its
/// last line break).
fn line_end(text: &str, start: usize, end: usize) -> usize {
    let end = if end > start && text.as_bytes()[end - 1] == b'\n' {
        end - 1
    } else {
        end
    };
    line_range(text, end, end).1
}

/// The text of a flow value (`[a, b]`, `{k: v}`).
pub fn flow(v: &Y) -> String {
    match v {
        Y::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Y::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", render::scalar(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Y::Str(s) => render::scalar(s),
        Y::Bool(b) => b.to_string(),
        Y::Int(i) => i.to_string(),
    }
}

/// Adds `key: value` as the last entry of the mapping `map`.
pub fn add_entry(file: &SourceFile, map: &Node, key: &str, value: &Y) -> Result<Edit, Refusal> {
    let Value::Map(m) = &map.value else {
        return Err(format!(
            "`{key}` would go into something that is not a mapping"
        ));
    };
    let text = file.text();
    if m.flow {
        let close = map.span.end as usize - 1;
        if text.as_bytes().get(close) != Some(&b'}') {
            return Err("a flow mapping without its closing brace".into());
        }
        let sep = if m.entries.is_empty() { "" } else { ", " };
        return Ok(Edit::insert(
            close,
            format!("{sep}{}: {}", render::scalar(key), flow(value)),
        ));
    }
    let (first_key, _) = m.entries.first().ok_or("an empty block mapping")?;
    let (_, last_value) = m.entries.last().expect("not empty");
    let (last_key, _) = m.entries.last().expect("not empty");
    let col = style::column_of(file, first_key);
    let style = style::detect(file);
    let at = line_end(
        text,
        last_key.span.start as usize,
        last_value.span.end.max(last_key.span.end) as usize,
    );
    let body = render::entries(&[(key.to_owned(), value.clone())], col, &style);
    Ok(Edit::insert(at, format!("{}{body}", style.line_ending)))
}

/// Appends `item` to the sequence `seq`, after its last item, in the same form.
pub fn append_item(file: &SourceFile, seq: &Node, item: &Y) -> Result<Edit, Refusal> {
    insert_item(file, seq, None, item)
}

/// Inserts `item` before item `before` (or after the last item when `None`).
pub fn insert_item(
    file: &SourceFile,
    seq: &Node,
    before: Option<usize>,
    item: &Y,
) -> Result<Edit, Refusal> {
    let Value::Seq(s) = &seq.value else {
        return Err("not a sequence".into());
    };
    let text = file.text();
    if s.flow {
        return Ok(match (before, s.items.last()) {
            (Some(i), _) => {
                Edit::insert(s.items[i].span.start as usize, format!("{}, ", flow(item)))
            }
            (None, Some(last)) => Edit::insert(last.span.end as usize, format!(", {}", flow(item))),
            (None, None) => Edit::insert(seq.span.end as usize - 1, flow(item)),
        });
    }
    let first = s.items.first().ok_or("an empty block sequence")?;
    let dash = dash_col(file, first).ok_or("a sequence item without its dash")?;
    let style = style::detect(file);
    let body = render::items(std::slice::from_ref(item), dash, &style);
    match before {
        Some(i) => {
            let (ls, _) = line_range(
                text,
                s.items[i].span.start as usize,
                s.items[i].span.start as usize,
            );
            Ok(Edit::insert(ls, format!("{body}{}", style.line_ending)))
        }
        None => {
            let last = s.items.last().expect("not empty");
            let at = line_end(text, last.span.start as usize, last.span.end as usize);
            Ok(Edit::insert(at, format!("{}{body}", style.line_ending)))
        }
    }
}

/// The column of the `-` of a block sequence item.
fn dash_col(file: &SourceFile, item: &Node) -> Option<usize> {
    let dash = super::splice::dash_of(file.text(), item)?;
    let line_start = file.text()[..dash].rfind('\n').map_or(0, |p| p + 1);
    Some(file.text()[line_start..dash].chars().count())
}

/// Replaces a scalar's text with `value`, quoted as the original was when it was quoted.
pub fn set_scalar(node: &Node, value: &str) -> Result<Edit, Refusal> {
    let Value::Scalar(s) = &node.value else {
        return Err("not a scalar".into());
    };
    let text = match s.style {
        crate::yaml::ScalarStyle::SingleQuoted => format!("'{}'", value.replace('\'', "''")),
        crate::yaml::ScalarStyle::DoubleQuoted => serde_json::to_string(value).expect("string"),
        crate::yaml::ScalarStyle::Plain => render::scalar(value),
        _ => return Err("a block scalar".into()),
    };
    Ok(Edit::replace(
        node.span.start as usize,
        node.span.end as usize,
        text,
    ))
}

/// The schema comment lines the repo puts before documents of `kind` (`# yaml-language-server:
/// $schema=...`): copied from a document of the same kind, or derived from another kind's
/// header of the same API group when its URL names that kind; empty when the repo has none.
pub fn schema_header(loaded: &Loaded, api_version: &str, kind: &str) -> Vec<String> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let mut derived = None;
    for (file, doc) in loaded.documents() {
        // Only documents of the kind or group can give a header: other files stay packed.
        if doc.kind() != Some(kind) && doc.group() != Some(group) {
            continue;
        }
        let Some(line) = header_line(file.text(), doc.span.start as usize) else {
            continue;
        };
        if doc.kind() == Some(kind) {
            return vec![line];
        }
        let other = doc.kind().unwrap_or("").to_ascii_lowercase();
        if derived.is_none()
            && doc.group() == Some(group)
            && !other.is_empty()
            && line.contains(&other)
        {
            derived = Some(line.replace(&other, &kind.to_ascii_lowercase()));
        }
    }
    derived.into_iter().collect()
}

/// The `$schema` comment line at the top of a document (after its `---`), if any.
fn header_line(text: &str, doc_start: usize) -> Option<String> {
    let rest = &text[doc_start..];
    let rest = rest
        .strip_prefix("---")
        .map_or(rest, |r| r.trim_start_matches([' ', '\t']));
    let rest = rest.trim_start_matches(['\r', '\n']);
    let line = rest.lines().next()?.trim_end();
    (line.starts_with('#') && line.contains("$schema=")).then(|| line.to_owned())
}

/// The folder of a repo-relative path (`""` for the root).
pub fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `folder/name`, or `folder/stem-2.ext` ... when the name is taken.
pub fn free_path(loaded: &Loaded, dir: &str, name: &str) -> String {
    let join = |n: &str| {
        if dir.is_empty() {
            n.to_owned()
        } else {
            format!("{dir}/{n}")
        }
    };
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "yaml"));
    let taken = |p: &str| loaded.file(p).is_some() || loaded.skipped.iter().any(|s| s.path == p);
    let mut path = join(name);
    let mut n = 2;
    while taken(&path) {
        path = join(&format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// The kustomization file of a folder, if it has one.
pub fn kustomization_of<'a>(loaded: &'a Loaded, dir: &str) -> Option<&'a SourceFile> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .find_map(|n| {
            loaded.file(&if dir.is_empty() {
                (*n).to_owned()
            } else {
                format!("{dir}/{n}")
            })
        })
}

/// The edit that lists `name` (a file in the kustomization's folder) in its `resources`, in
/// the style of the entries already there (`./name` when they start with `./`).
pub fn list_resource(kustomization: &SourceFile, name: &str) -> Result<Edit, Refusal> {
    let root = kustomization
        .documents
        .first()
        .and_then(|d| d.root_node())
        .ok_or("an empty kustomization")?;
    match root.get("resources") {
        Some(list) if list.as_seq().is_some() => {
            let items = &list.as_seq().expect("seq").items;
            let dotted = items
                .iter()
                .filter_map(Node::as_str)
                .any(|s| s.starts_with("./"));
            let entry = if dotted {
                format!("./{name}")
            } else {
                name.to_owned()
            };
            if items.is_empty() {
                return Err("an empty `resources: []`".into());
            }
            append_item(kustomization, list, &Y::Str(entry))
        }
        Some(_) => Err("its `resources` is not a list".into()),
        None => add_entry(
            kustomization,
            &root,
            "resources",
            &Y::Seq(vec![Y::str(name)]),
        ),
    }
}

/// The style of the file that will receive a new document: the style of `near` (a file in the
/// same folder) when given.
pub fn style_near(near: Option<&SourceFile>) -> FileStyle {
    near.map(style::detect).unwrap_or_default()
}

/// A node of a loaded file, found by its span, with the document it is in and its path from
/// the document root (`spec.ports.0`).
pub struct Located<'a> {
    pub file: &'a SourceFile,
    pub doc: &'a crate::yaml::FrozenDocument,
    /// A copy of the node.
    pub node: Node,
    pub path: Vec<String>,
    /// The span of the mapping key whose value the node is, if it is one.
    pub key: Option<crate::yaml::Span>,
}

impl Located<'_> {
    /// The dotted path of a field under this node.
    pub fn field(&self, key: &str) -> String {
        let mut p = self.path.clone();
        if !key.is_empty() {
            p.push(key.to_owned());
        }
        p.join(".")
    }

    /// `kind/namespace/name` of the document (the namespace as written, else `fallback`).
    pub fn resource(&self, fallback_namespace: &str) -> crate::model::ResourceKey {
        crate::model::ResourceKey {
            kind: self.doc.kind().unwrap_or("").to_owned(),
            namespace: self
                .doc
                .namespace()
                .unwrap_or(fallback_namespace)
                .to_owned(),
            name: self.doc.name().unwrap_or("").to_owned(),
        }
    }
}

/// The source node whose span is exactly `span` (the first in document order; mappings and
/// sequences before scalars of the same span).
pub fn locate(loaded: &Loaded, span: crate::yaml::Span) -> Option<Located<'_>> {
    let file = loaded.by_id(span.file)?;
    for doc in &file.documents {
        let Some(root) = doc.root() else { continue };
        if !(doc.span.start <= span.start && span.end <= doc.span.end.max(root.span().end)) {
            continue;
        }
        let mut path = Vec::new();
        let mut key = None;
        if let Some(node) = find(root, span, &mut path, &mut key) {
            return Some(Located {
                file,
                doc,
                node: node.to_node(),
                path,
                key,
            });
        }
    }
    None
}

fn find<'a>(
    node: NodeRef<'a>,
    span: crate::yaml::Span,
    path: &mut Vec<String>,
    key: &mut Option<crate::yaml::Span>,
) -> Option<NodeRef<'a>> {
    if node.is_alias() {
        return None;
    }
    let here = node.span().start == span.start && node.span().end == span.end;
    if let Some(entries) = node.entries() {
        if here {
            return Some(node);
        }
        for (k, v) in entries {
            path.push(k.key_string());
            *key = Some(k.span());
            if let Some(n) = find(v, span, path, key) {
                return Some(n);
            }
            *key = None;
            path.pop();
        }
    } else if let Some(items) = node.items() {
        if here {
            return Some(node);
        }
        for (i, v) in items.enumerate() {
            path.push(i.to_string());
            *key = None;
            if let Some(n) = find(v, span, path, key) {
                return Some(n);
            }
            path.pop();
        }
    } else {
        return here.then_some(node);
    }
    None
}

/// Makes `keys` (a path below `start`, an applied node whose spans point into the source)
/// hold `value`: replaces the scalar when the whole path exists, else adds the missing part
/// as nested mappings under the deepest mapping that exists. Returns the file id, the edit and
/// the document key and dotted field of the change.
pub fn ensure(
    loaded: &Loaded,
    start: &Node,
    keys: &[&str],
    value: &Y,
    fallback_namespace: &str,
) -> Result<(u32, Edit, crate::model::ResourceKey, String), Refusal> {
    let mut cur = start;
    for (i, k) in keys.iter().enumerate() {
        match cur.get(k) {
            Some(next) if i + 1 == keys.len() => {
                let at = locate(loaded, next.span).ok_or("the setting is not in a loaded file")?;
                let Y::Bool(b) = value else {
                    return Err("only flags are replaced".into());
                };
                let e = set_scalar(&at.node, &b.to_string())?;
                return Ok((
                    at.file.id,
                    e,
                    at.resource(fallback_namespace),
                    at.path.join("."),
                ));
            }
            Some(next) if next.as_map().is_some() => cur = next,
            Some(_) => return Err(format!("`{k}` is not a mapping")),
            None => {
                let mut nested = value.clone();
                for k in keys[i + 1..].iter().rev() {
                    nested = Y::Map(vec![((*k).to_owned(), nested)]);
                }
                let at = locate(loaded, cur.span).ok_or("the mapping is not in a loaded file")?;
                let e = add_entry(at.file, &at.node, k, &nested)?;
                let mut field = at.path.clone();
                field.extend(keys[i..].iter().map(|k| (*k).to_owned()));
                return Ok((
                    at.file.id,
                    e,
                    at.resource(fallback_namespace),
                    field.join("."),
                ));
            }
        }
    }
    Err("an empty path".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::splice::apply_checked;
    use crate::yaml::Limits;

    fn file(text: &str) -> SourceFile {
        SourceFile::parse(0, "f.yaml", text.into(), &Limits::default()).unwrap()
    }

    fn root(f: &SourceFile) -> Node {
        f.documents[0].root_node().unwrap()
    }

    #[test]
    fn entries_go_after_the_last_one_with_its_comment() {
        let f = file("spec:\n    tls:\n        minVersion: \"1.2\" # keep\n    other: 1\n");
        let r = root(&f);
        let tls = r.path(&["spec", "tls"]).unwrap();
        let e = add_entry(&f, tls, "alpnProtocols", &Y::strs(&["http/1.1", "h2"])).unwrap();
        assert_eq!(
            apply_checked(f.text(), &[e]).unwrap(),
            "spec:\n    tls:\n        minVersion: \"1.2\" # keep\n        alpnProtocols:\n            - http/1.1\n            - h2\n    other: 1\n"
        );
        let f = file("spec: {tls: {minVersion: '1.2'}}\n");
        let r = root(&f);
        let tls = r.path(&["spec", "tls"]).unwrap();
        let e = add_entry(&f, tls, "alpnProtocols", &Y::strs(&["http/1.1", "h2"])).unwrap();
        assert_eq!(
            apply_checked(f.text(), &[e]).unwrap(),
            "spec: {tls: {minVersion: '1.2', alpnProtocols: [http/1.1, h2]}}\n"
        );
    }

    #[test]
    fn items_keep_the_dash_column() {
        let f = file("resources:\n- ./a.yaml # a\n- ./b.yaml\nnamespace: x\n");
        let e = list_resource(&f, "c.yaml").unwrap();
        assert_eq!(
            apply_checked(f.text(), &[e]).unwrap(),
            "resources:\n- ./a.yaml # a\n- ./b.yaml\n- ./c.yaml\nnamespace: x\n"
        );
        let f = file("up:\n  - type: spdy/3.1\n");
        let r = root(&f);
        let seq = r.get("up").unwrap();
        let e = append_item(&f, seq, &Y::map([("type", Y::str("websocket"))])).unwrap();
        assert_eq!(
            apply_checked(f.text(), &[e]).unwrap(),
            "up:\n  - type: spdy/3.1\n  - type: websocket\n"
        );
        let f = file("up: [{type: spdy/3.1}]\n");
        let r = root(&f);
        let seq = r.get("up").unwrap();
        let e = append_item(&f, seq, &Y::map([("type", Y::str("websocket"))])).unwrap();
        assert_eq!(
            apply_checked(f.text(), &[e]).unwrap(),
            "up: [{type: spdy/3.1}, {type: websocket}]\n"
        );
    }

    #[test]
    fn schema_headers_are_copied_or_derived() {
        let mut loaded = Loaded::default();
        loaded.files.push(file(
            "---\n# yaml-language-server: $schema=https://example.com/gateway.envoyproxy.io/backendtrafficpolicy_v1alpha1.json\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\n",
        ));
        assert_eq!(
            schema_header(
                &loaded,
                "gateway.envoyproxy.io/v1alpha1",
                "ClientTrafficPolicy"
            ),
            [
                "# yaml-language-server: $schema=https://example.com/gateway.envoyproxy.io/clienttrafficpolicy_v1alpha1.json"
            ]
        );
        assert!(schema_header(&loaded, "v1", "Service").is_empty());
    }
}
