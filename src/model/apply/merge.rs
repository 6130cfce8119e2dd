//! Strategic-merge patches as Kustomize (kyaml) applies them to a resource: mappings merge,
//! `null` deletes a key, lists of named items merge by their key and other lists are
//! replaced, `$patch: delete` / `$patch: replace` directives. Nodes taken from the patch keep
//! the patch's spans, so a setting introduced by an overlay points at the overlay.

use crate::yaml::{Node, Value};

use super::tree;

/// Keys that make a list of mappings "associative" when no schema says otherwise, in the
/// order kyaml tries them (`name` for listeners, containers, ports; `type` for Envoy
/// Gateway's `httpUpgrade`).
const ASSOCIATIVE_KEYS: [&str; 7] = [
    "mountPath",
    "devicePath",
    "ip",
    "type",
    "topologyKey",
    "name",
    "containerPort",
];

/// What happens to the patched node.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Keep,
    /// The patch says `$patch: delete`.
    Delete,
}

/// Merge `patch` (a document) into `dest` (a resource of kind `kind`). The patch's
/// identifying fields (`apiVersion`, `kind`, `metadata.name`, `metadata.namespace`) are not
/// merged: a targeted patch names its targets through its selector.
pub fn strategic_merge(dest: &mut Node, patch: &Node, kind: &str) -> Outcome {
    let mut patch = patch.clone();
    if tree::map_mut(&mut patch).is_none() {
        return Outcome::Keep;
    }
    tree::remove(&mut patch, "apiVersion");
    tree::remove(&mut patch, "kind");
    if let Some(meta) = tree::get_mut(&mut patch, "metadata") {
        tree::remove(meta, "name");
        tree::remove(meta, "namespace");
    }
    let mut path = Vec::new();
    merge_node(dest, &patch, &mut path, kind)
}

fn directive(node: &Node) -> Option<&str> {
    node.get("$patch").and_then(Node::as_text)
}

/// A list item that is only a directive (`- $patch: replace`).
fn is_marker(node: &Node) -> bool {
    node.as_map().is_some_and(|m| m.len() == 1) && directive(node).is_some()
}

fn merge_node(dest: &mut Node, patch: &Node, path: &mut Vec<String>, kind: &str) -> Outcome {
    match &patch.value {
        Value::Map(pm) => {
            match directive(patch) {
                Some("delete") => return Outcome::Delete,
                Some("replace") => {
                    *dest = strip(patch);
                    return Outcome::Keep;
                }
                _ => {}
            }
            let Some(dm) = tree::map_mut(dest) else {
                *dest = strip(patch);
                return Outcome::Keep;
            };
            for (k, v) in pm.iter() {
                let key = k.key_string();
                if key.starts_with('$') {
                    continue;
                }
                let pos = tree::position(dm, &key);
                if v.is_null() {
                    if let Some(i) = pos {
                        dm.entries.remove(i);
                    }
                    continue;
                }
                match pos {
                    Some(i) => {
                        path.push(key);
                        let outcome = merge_node(&mut dm.entries[i].1, v, path, kind);
                        path.pop();
                        if outcome == Outcome::Delete {
                            dm.entries.remove(i);
                        }
                    }
                    None if v.as_map().is_some() && directive(v) == Some("delete") => {}
                    None => dm.entries.push((k.clone(), strip(v))),
                }
            }
            Outcome::Keep
        }
        Value::Seq(ps) => {
            let Some(ds) = dest.as_seq() else {
                *dest = strip(patch);
                return Outcome::Keep;
            };
            let Some(key) = merge_key(path, kind, &ds.items, &ps.items) else {
                *dest = strip(patch);
                return Outcome::Keep;
            };
            if ps
                .items
                .iter()
                .any(|p| is_marker(p) && directive(p) == Some("replace"))
            {
                *dest = strip(patch);
                return Outcome::Keep;
            }
            let Some(ds) = tree::seq_mut(dest) else {
                return Outcome::Keep;
            };
            for p in &ps.items {
                let Some(kv) = p.get(key).and_then(Node::as_text) else {
                    if directive(p).is_none() {
                        ds.items.push(strip(p));
                    }
                    continue;
                };
                let found = ds
                    .items
                    .iter()
                    .position(|d| d.get(key).and_then(Node::as_text) == Some(kv));
                match (found, directive(p)) {
                    (Some(i), Some("delete")) => {
                        ds.items.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => {
                        if merge_node(&mut ds.items[i], p, path, kind) == Outcome::Delete {
                            ds.items.remove(i);
                        }
                    }
                    (None, _) => ds.items.push(strip(p)),
                }
            }
            Outcome::Keep
        }
        Value::Scalar(_) => {
            *dest = patch.clone();
            Outcome::Keep
        }
    }
}

/// The merge key of a list: from the schema for the few core fields that matter here,
/// else kyaml's rule (every item is a mapping with the same one of [`ASSOCIATIVE_KEYS`]).
fn merge_key(path: &[String], kind: &str, dest: &[Node], patch: &[Node]) -> Option<&'static str> {
    let last = path.last().map(String::as_str);
    if kind == "Service" && path == ["spec", "ports"] {
        return Some("port");
    }
    let items: Vec<&Node> = dest
        .iter()
        .chain(patch.iter().filter(|p| !is_marker(p)))
        .collect();
    if items.is_empty() || items.iter().any(|n| n.as_map().is_none()) {
        return None;
    }
    if last == Some("ports") && items.iter().all(|n| n.get("containerPort").is_some()) {
        return Some("containerPort");
    }
    ASSOCIATIVE_KEYS
        .into_iter()
        .find(|k| items.iter().all(|n| n.get(k).is_some()))
}

/// A copy of a patch node without strategic-merge directives.
fn strip(node: &Node) -> Node {
    let mut out = node.clone();
    strip_in_place(&mut out);
    out
}

fn strip_in_place(node: &mut Node) {
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(s) => {
            s.items
                .retain(|i| directive(i) != Some("delete") && directive(i) != Some("replace"));
            s.items.iter_mut().for_each(strip_in_place);
        }
        Value::Map(m) => {
            m.entries
                .retain(|(k, _)| !k.as_scalar().is_some_and(|s| s.value.starts_with('$')));
            m.entries.iter_mut().for_each(|(_, v)| strip_in_place(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::yaml::parse_root(text).unwrap().unwrap()
    }

    fn merged(base: &str, patch: &str, kind: &str) -> serde_json::Value {
        let mut d = parse(base);
        assert_eq!(strategic_merge(&mut d, &parse(patch), kind), Outcome::Keep);
        d.to_json()
    }

    #[test]
    fn listeners_merge_by_name() {
        let got = merged(
            "kind: Gateway\nmetadata: {name: gw}\nspec:\n  listeners:\n  - {name: http, port: 80}\n",
            "kind: Gateway\nmetadata: {name: _}\nspec:\n  listeners:\n  - {name: https, port: 443}\n  - {name: http, port: 8080}\n",
            "Gateway",
        );
        assert_eq!(
            got["spec"]["listeners"],
            serde_json::json!([{"name": "http", "port": 8080}, {"name": "https", "port": 443}])
        );
        assert_eq!(got["metadata"]["name"], "gw");
    }

    #[test]
    fn scalar_lists_are_replaced_and_null_deletes() {
        let got = merged(
            "spec:\n  tls: {alpnProtocols: [h2, http/1.1], minVersion: '1.2'}\n",
            "spec:\n  tls: {alpnProtocols: [http/1.1], minVersion: null}\n",
            "ClientTrafficPolicy",
        );
        assert_eq!(
            got["spec"]["tls"],
            serde_json::json!({"alpnProtocols": ["http/1.1"]})
        );
    }

    #[test]
    fn upgrade_types_merge_by_type_and_delete() {
        let got = merged(
            "spec:\n  httpUpgrade: [{type: websocket}, {type: spdy/3.1}]\n",
            "spec:\n  httpUpgrade: [{type: spdy/3.1, $patch: delete}, {type: CONNECT}]\n",
            "BackendTrafficPolicy",
        );
        assert_eq!(
            got["spec"]["httpUpgrade"],
            serde_json::json!([{"type": "websocket"}, {"type": "CONNECT"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_replace_directive() {
        let got = merged(
            "spec:\n  ports: [{port: 80, name: http}]\n  x: {a: 1}\n",
            "spec:\n  ports: [{port: 80, appProtocol: kubernetes.io/ws}]\n  x: {$patch: replace, b: 2}\n",
            "Service",
        );
        assert_eq!(
            got["spec"],
            serde_json::json!({"ports": [{"port": 80, "name": "http", "appProtocol": "kubernetes.io/ws"}], "x": {"b": 2}})
        );
    }

    #[test]
    fn delete_directive_deletes_the_resource() {
        let mut d = parse("kind: X\n");
        assert_eq!(
            strategic_merge(&mut d, &parse("$patch: delete\n"), "X"),
            Outcome::Delete
        );
    }
}
