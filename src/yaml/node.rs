//! The node tree: scalars, sequences and mappings, each with the byte span of its own text.

use super::scalar::{Resolved, Scalar};

/// A byte range `start..end` in the text of file `file` (the loader's file id; 0 for a text
/// parsed on its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: u32, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end as u32,
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The text of this span (empty when out of range).
    pub fn slice(self, text: &str) -> &str {
        text.get(self.range()).unwrap_or("")
    }

    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

/// One YAML node.
///
/// `span` is the node's own text: a scalar's token (with its quotes, or from a block scalar's
/// `|`/`>` indicator to its last content line), a flow collection from bracket to bracket, a
/// block collection from its first entry to the end of its last. An alias is expanded to a copy
/// of the anchored node whose own `span` is the `*alias` token (its children keep the spans of
/// the anchored text) and whose `alias` flag is set.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
    /// The explicit tag and the anchor, boxed because few nodes have either (a node is kept
    /// small: trees of every file of a repo are held at once).
    pub meta: Option<Box<Meta>>,
    /// True when this node is the expansion of an alias.
    pub alias: bool,
}

/// What few nodes carry besides their value.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Meta {
    /// The explicit tag, resolved (`tag:yaml.org,2002:str`, `!env_var`).
    pub tag: Option<Box<str>>,
    /// The anchor defined on this node, if any (its name without `&`).
    pub anchor: Option<Box<str>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Seq),
    Map(Map),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Seq {
    pub items: Vec<Node>,
    pub flow: bool,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    /// Entries in source order, merge keys (`<<`) included as written.
    pub entries: Vec<(Node, Node)>,
    pub flow: bool,
}

impl Node {
    /// A node without tag or anchor.
    pub fn new(span: Span, value: Value) -> Node {
        Node {
            span,
            value,
            meta: None,
            alias: false,
        }
    }

    /// The explicit tag, resolved.
    pub fn tag(&self) -> Option<&str> {
        self.meta.as_ref()?.tag.as_deref()
    }

    /// The anchor defined on this node (its name without `&`).
    pub fn anchor(&self) -> Option<&str> {
        self.meta.as_ref()?.anchor.as_deref()
    }

    pub(crate) fn set_anchor(&mut self, anchor: Option<Box<str>>) {
        let tag = self.meta.take().and_then(|m| m.tag);
        self.meta = meta(tag, anchor);
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Seq> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The typed value of a scalar node.
    pub fn resolved(&self) -> Option<Resolved<'_>> {
        self.as_scalar().map(|s| s.resolve(self.tag()))
    }

    /// The string value of a scalar that Flux reads as a string (not null, bool or number).
    pub fn as_str(&self) -> Option<&str> {
        match self.resolved()? {
            Resolved::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar's text whatever its type (`8123`, `true`, `h2`): how it reads as a string
    /// field. None for null and for collections.
    pub fn as_text(&self) -> Option<&str> {
        match self.resolved()? {
            Resolved::Null => None,
            _ => self.as_scalar().map(|s| &*s.value),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.resolved()? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.resolved()? {
            Resolved::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Some(Resolved::Null))
    }

    /// The value under `key` of a mapping, following merge keys (see [`Map::get`]).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }

    /// The node at a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The JSON value of this node, merge keys applied (for schema checks and typed views).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar(_) => match self.resolved() {
                Some(Resolved::Null) | None => J::Null,
                Some(Resolved::Bool(b)) => J::Bool(b),
                Some(Resolved::Int(i)) => J::from(i),
                Some(Resolved::Float(f)) => serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .unwrap_or(J::Null),
                Some(Resolved::Str(s)) => J::String(s.to_owned()),
            },
            Value::Seq(s) => J::Array(s.items.iter().map(Node::to_json).collect()),
            Value::Map(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m.iter() {
                    out.insert(k.key_string(), v.to_json());
                }
                J::Object(out)
            }
        }
    }

    /// A mapping key as a string (scalars by their text; other keys by their JSON text).
    pub fn key_string(&self) -> String {
        match &self.value {
            Value::Scalar(s) => s.value.to_string(),
            _ => self.to_json().to_string(),
        }
    }

    /// Visit this node and every node below it, depth first, keys before values.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.value {
            Value::Scalar(_) => {}
            Value::Seq(s) => s.items.iter().for_each(|n| n.walk(f)),
            Value::Map(m) => m.entries.iter().for_each(|(k, v)| {
                k.walk(f);
                v.walk(f);
            }),
        }
    }

    /// Number of nodes in this subtree.
    pub fn count(&self) -> usize {
        let mut n = 0;
        self.walk(&mut |_| n += 1);
        n
    }

    /// A `<<` key (plain, or tagged `!!merge`).
    pub fn is_merge_key(&self) -> bool {
        let Value::Scalar(s) = &self.value else {
            return false;
        };
        match self.tag() {
            None => s.style == super::ScalarStyle::Plain && &*s.value == "<<",
            Some(tag) => tag == "tag:yaml.org,2002:merge",
        }
    }
}

impl Map {
    /// The value under `key`: an explicit entry first, then the merged mappings of `<<` in
    /// order (the first that has it wins), as go-yaml applies merge keys.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under `key` (see [`Map::get`]).
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        // One pass over the entries, which also tells whether there are merge keys to follow
        // (lookups are the model's most frequent operation).
        let mut merges = false;
        for (k, v) in &self.entries {
            let Value::Scalar(s) = &k.value else {
                continue;
            };
            if k.is_merge_key() {
                merges = true;
            } else if &*s.value == key {
                return Some((k, v));
            }
        }
        if !merges {
            return None;
        }
        self.merged_sources().find_map(|m| m.get_entry(key))
    }

    /// Effective entries: explicit ones in order, then merged ones not overridden.
    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        let mut seen: Vec<String> = Vec::new();
        let mut out: Vec<(&Node, &Node)> = Vec::new();
        for (k, v) in &self.entries {
            if !k.is_merge_key() {
                seen.push(k.key_string());
                out.push((k, v));
            }
        }
        for m in self.merged_sources() {
            for (k, v) in m.iter() {
                let ks = k.key_string();
                if !seen.contains(&ks) {
                    seen.push(ks);
                    out.push((k, v));
                }
            }
        }
        out.into_iter()
    }

    fn merged_sources(&self) -> impl Iterator<Item = &Map> {
        self.entries
            .iter()
            .filter(|(k, _)| k.is_merge_key())
            .flat_map(|(_, v)| match &v.value {
                Value::Map(m) => vec![m],
                Value::Seq(s) => s.items.iter().filter_map(Node::as_map).collect(),
                Value::Scalar(_) => vec![],
            })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `Some` only when there is a tag or an anchor.
pub(crate) fn meta(tag: Option<Box<str>>, anchor: Option<Box<str>>) -> Option<Box<Meta>> {
    (tag.is_some() || anchor.is_some()).then(|| Box::new(Meta { tag, anchor }))
}
