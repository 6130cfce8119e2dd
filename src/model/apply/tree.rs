//! Small helpers to read, build and edit spanned node trees (the apply layer's working copies).

use crate::yaml::{Map, Node, Scalar, ScalarStyle, Seq, Span, Value};

/// A plain scalar with `text`, located at `span`.
pub fn scalar(text: &str, span: Span) -> Node {
    Node {
        span,
        value: Value::Scalar(Scalar {
            value: text.into(),
            style: ScalarStyle::Plain,
        }),
        meta: None,
        alias: false,
    }
}

/// A double-quoted (always string) scalar with `text`, located at `span`.
pub fn string(text: &str, span: Span) -> Node {
    Node {
        span,
        value: Value::Scalar(Scalar {
            value: text.into(),
            style: ScalarStyle::DoubleQuoted,
        }),
        meta: None,
        alias: false,
    }
}

/// A block mapping of `entries` (keys are plain scalars located at `span`).
pub fn map(span: Span, entries: Vec<(&str, Node)>) -> Node {
    Node {
        span,
        value: Value::Map(Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (scalar(k, span), v))
                .collect(),
            flow: false,
        }),
        meta: None,
        alias: false,
    }
}

pub fn seq(span: Span, items: Vec<Node>) -> Node {
    Node {
        span,
        value: Value::Seq(Seq { items, flow: false }),
        meta: None,
        alias: false,
    }
}

/// Replaces merge keys (`<<`) of this mapping by the entries they bring, so that entries can
/// be edited in place; the brought nodes keep the spans of the anchored text.
pub fn make_explicit(map: &mut Map) {
    if !map.entries.iter().any(|(k, _)| k.is_merge_key()) {
        return;
    }
    let entries: Vec<(Node, Node)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    map.entries = entries;
}

/// The mapping of a node, made explicit for editing; None when the node is not a mapping.
pub fn map_mut(node: &mut Node) -> Option<&mut Map> {
    match &mut node.value {
        Value::Map(m) => {
            make_explicit(m);
            Some(m)
        }
        _ => None,
    }
}

pub fn seq_mut(node: &mut Node) -> Option<&mut Seq> {
    match &mut node.value {
        Value::Seq(s) => Some(s),
        _ => None,
    }
}

/// The position of `key` among a mapping's explicit entries.
pub fn position(map: &Map, key: &str) -> Option<usize> {
    map.entries
        .iter()
        .position(|(k, _)| !k.is_merge_key() && k.as_scalar().is_some_and(|s| &*s.value == key))
}

/// The value under `key`, for editing.
pub fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let map = map_mut(node)?;
    let i = position(map, key)?;
    Some(&mut map.entries[i].1)
}

/// Sets `key` to `value` (replacing the value and keeping the key node when present).
pub fn set(node: &mut Node, key: &str, key_span: Span, value: Node) {
    if let Some(map) = map_mut(node) {
        match position(map, key) {
            Some(i) => map.entries[i].1 = value,
            None => map.entries.push((scalar(key, key_span), value)),
        }
    }
}

/// The value under `key`, created as an empty mapping located at `span` when absent or not
/// a mapping.
pub fn child_map<'a>(node: &'a mut Node, key: &str, span: Span) -> Option<&'a mut Node> {
    let map = map_mut(node)?;
    let i = match position(map, key) {
        Some(i) => {
            if map.entries[i].1.as_map().is_none() {
                map.entries[i].1 = self::map(span, Vec::new());
            }
            i
        }
        None => {
            map.entries
                .push((scalar(key, span), self::map(span, Vec::new())));
            map.entries.len() - 1
        }
    };
    Some(&mut map.entries[i].1)
}

pub fn remove(node: &mut Node, key: &str) -> Option<Node> {
    let map = map_mut(node)?;
    let i = position(map, key)?;
    Some(map.entries.remove(i).1)
}

/// The value of annotation (or label) `key` in `metadata`.
pub fn annotation<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.path(&["metadata", "annotations", key])
        .or_else(|| node.path(&["metadata", "labels", key]))?
        .as_text()
}

/// Visit every scalar (keys included) for editing.
pub fn for_each_scalar_mut(node: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    match &mut node.value {
        Value::Scalar(_) => f(node),
        Value::Seq(s) => s.items.iter_mut().for_each(|n| for_each_scalar_mut(n, f)),
        Value::Map(m) => m.entries.iter_mut().for_each(|(k, v)| {
            for_each_scalar_mut(k, f);
            for_each_scalar_mut(v, f);
        }),
    }
}

/// Replace a scalar's value, keeping its span and style.
pub fn set_scalar_value(node: &mut Node, value: String) {
    if let Value::Scalar(s) = &mut node.value {
        s.value = value.into();
    }
}

/// The string items of a sequence (or a single string).
pub fn strings(node: Option<&Node>) -> Vec<(&str, Span)> {
    match node {
        Some(n) => match &n.value {
            Value::Seq(s) => s
                .items
                .iter()
                .filter_map(|i| Some((i.as_text()?, i.span)))
                .collect(),
            Value::Scalar(_) => n.as_text().map(|t| vec![(t, n.span)]).unwrap_or_default(),
            Value::Map(_) => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Items of a sequence node (empty for anything else).
pub fn items(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_seq).map_or(&[], |s| &s.items)
}

/// `enabled` of a values block: absent means `default`; `false` (or "false") disables.
pub fn enabled(node: &Node, default: bool) -> bool {
    match node.get("enabled") {
        None => default,
        Some(e) => match e.as_bool() {
            Some(b) => b,
            None => !matches!(e.as_text(), Some("false") | None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::yaml::parse_root(text).unwrap().unwrap()
    }

    #[test]
    fn merge_keys_become_explicit_on_edit() {
        let mut n = parse("a: &x {b: 1, c: 2}\nd:\n  <<: *x\n  c: 3\n");
        let d = get_mut(&mut n, "d").unwrap();
        set(d, "e", Span::default(), scalar("4", Span::default()));
        let d = n.get("d").unwrap();
        assert_eq!(d.to_json(), serde_json::json!({"b": 1, "c": 3, "e": 4}));
        assert!(
            !d.as_map()
                .unwrap()
                .entries
                .iter()
                .any(|(k, _)| k.is_merge_key())
        );
    }

    #[test]
    fn child_map_creates_and_replaces() {
        let mut n = parse("metadata: x\n");
        child_map(&mut n, "metadata", Span::default()).unwrap();
        child_map(&mut n, "spec", Span::default()).unwrap();
        assert_eq!(n.to_json(), serde_json::json!({"metadata": {}, "spec": {}}));
    }
}
