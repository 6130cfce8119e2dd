//! Documents as the loader holds them: every node of a document in one array of 16-byte slots,
//! every scalar value in one string.
//!
//! The loader holds the documents of every file of a repo at once, and a [`Node`] takes 56
//! bytes and an allocation per collection. A [`FrozenDocument`] keeps the same tree (spans,
//! values, styles, tags, anchors, alias flags) in a quarter of that: reading it through a
//! [`NodeRef`] costs nothing, and [`NodeRef::to_node`] gives back exactly the [`Node`] it was
//! made from, for the model's working copies and the fixer.

use compact_str::CompactString;

use super::build::{Document, YamlError};
use super::node::{Map, Meta, Node, Seq, Span, Value};
use super::scalar::{Resolved, Scalar, ScalarStyle, resolve};

/// The largest scalar (bytes) or collection (children; two per mapping entry) a slot holds.
pub const MAX_LEN: usize = (1 << 24) - 1;

// The top byte of `Slot::b`; its low 24 bits are the length.
const KIND_MASK: u32 = 3 << 24;
const KIND_SEQ: u32 = 1 << 24;
const KIND_MAP: u32 = 2 << 24;
const STYLE_SHIFT: u32 = 26;
const STYLE_MASK: u32 = 7 << STYLE_SHIFT;
const FLOW: u32 = 1 << 29;
const ALIAS: u32 = 1 << 30;
const META: u32 = 1 << 31;

/// One node: its span, and `a`/`b` = where its value is (the first child's slot, or the
/// offset of its text in the value string) and its length and flags.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Slot {
    start: u32,
    end: u32,
    a: u32,
    b: u32,
}

impl Slot {
    fn len(self) -> usize {
        (self.b & MAX_LEN as u32) as usize
    }
    fn range(self) -> std::ops::Range<usize> {
        self.a as usize..self.a as usize + self.len()
    }
}

/// A node tree frozen into slots (the root is slot 0; a collection's children are
/// contiguous, a mapping's as key, value, key, value).
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    file: u32,
    slots: Box<[Slot]>,
    values: Box<str>,
    /// Tags and anchors by slot, sorted (few nodes have one).
    metas: Box<[(u32, Meta)]>,
}

impl Tree {
    pub fn freeze(root: &Node) -> Result<Tree, YamlError> {
        let (mut nodes, mut bytes) = (0, 0);
        root.walk(&mut |n| {
            nodes += 1;
            if let Value::Scalar(s) = &n.value {
                bytes += s.value.len();
            }
        });
        let mut f = Freezer {
            slots: Vec::with_capacity(nodes),
            values: String::with_capacity(bytes),
            metas: Vec::new(),
        };
        f.slots.push(Slot::default());
        f.put(0, root)?;
        f.metas.sort_by_key(|(i, _)| *i);
        Ok(Tree {
            file: root.span.file,
            slots: f.slots.into_boxed_slice(),
            values: f.values.into_boxed_str(),
            metas: f.metas.into_boxed_slice(),
        })
    }

    pub fn root(&self) -> NodeRef<'_> {
        NodeRef { tree: self, i: 0 }
    }
}

struct Freezer {
    slots: Vec<Slot>,
    values: String,
    metas: Vec<(u32, Meta)>,
}

impl Freezer {
    fn put(&mut self, i: usize, node: &Node) -> Result<(), YamlError> {
        let too_long = YamlError::TooLong {
            offset: node.span.start,
            limit: MAX_LEN,
        };
        let mut b = 0;
        if node.alias {
            b |= ALIAS;
        }
        if let Some(meta) = &node.meta {
            b |= META;
            self.metas.push((i as u32, (**meta).clone()));
        }
        let a = match &node.value {
            Value::Scalar(s) => {
                if s.value.len() > MAX_LEN {
                    return Err(too_long);
                }
                b |= s.value.len() as u32 | (style_bits(s.style) << STYLE_SHIFT);
                let a = self.values.len() as u32;
                self.values.push_str(&s.value);
                a
            }
            Value::Seq(seq) => {
                b |= KIND_SEQ | if seq.flow { FLOW } else { 0 };
                self.children(&mut b, seq.items.len(), too_long)?;
                let first = self.slots.len();
                self.slots.resize(first + seq.items.len(), Slot::default());
                for (j, item) in seq.items.iter().enumerate() {
                    self.put(first + j, item)?;
                }
                first as u32
            }
            Value::Map(map) => {
                b |= KIND_MAP | if map.flow { FLOW } else { 0 };
                self.children(&mut b, 2 * map.entries.len(), too_long)?;
                let first = self.slots.len();
                self.slots
                    .resize(first + 2 * map.entries.len(), Slot::default());
                for (j, (k, v)) in map.entries.iter().enumerate() {
                    self.put(first + 2 * j, k)?;
                    self.put(first + 2 * j + 1, v)?;
                }
                first as u32
            }
        };
        self.slots[i] = Slot {
            start: node.span.start,
            end: node.span.end,
            a,
            b,
        };
        Ok(())
    }

    fn children(&self, b: &mut u32, n: usize, too_long: YamlError) -> Result<(), YamlError> {
        if n > MAX_LEN {
            return Err(too_long);
        }
        *b |= n as u32;
        Ok(())
    }
}

fn style_bits(style: ScalarStyle) -> u32 {
    match style {
        ScalarStyle::Plain => 0,
        ScalarStyle::SingleQuoted => 1,
        ScalarStyle::DoubleQuoted => 2,
        ScalarStyle::Literal => 3,
        ScalarStyle::Folded => 4,
    }
}

fn style_of(bits: u32) -> ScalarStyle {
    match bits {
        1 => ScalarStyle::SingleQuoted,
        2 => ScalarStyle::DoubleQuoted,
        3 => ScalarStyle::Literal,
        4 => ScalarStyle::Folded,
        _ => ScalarStyle::Plain,
    }
}

/// A node of a [`Tree`], read in place.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    tree: &'a Tree,
    i: u32,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_node().fmt(f)
    }
}

impl<'a> NodeRef<'a> {
    fn slot(self) -> Slot {
        self.tree.slots[self.i as usize]
    }

    fn at(self, i: usize) -> NodeRef<'a> {
        NodeRef {
            tree: self.tree,
            i: i as u32,
        }
    }

    pub fn span(self) -> Span {
        let s = self.slot();
        Span {
            file: self.tree.file,
            start: s.start,
            end: s.end,
        }
    }

    fn meta(self) -> Option<&'a Meta> {
        if self.slot().b & META == 0 {
            return None;
        }
        let metas = &self.tree.metas;
        let k = metas.binary_search_by_key(&self.i, |(i, _)| *i).ok()?;
        Some(&metas[k].1)
    }

    /// The explicit tag, resolved.
    pub fn tag(self) -> Option<&'a str> {
        self.meta()?.tag.as_deref()
    }

    /// A scalar's value and style.
    pub fn scalar(self) -> Option<(&'a str, ScalarStyle)> {
        let s = self.slot();
        (s.b & KIND_MASK == 0).then(|| {
            (
                &self.tree.values[s.range()],
                style_of((s.b & STYLE_MASK) >> STYLE_SHIFT),
            )
        })
    }

    /// The typed value of a scalar node.
    pub fn resolved(self) -> Option<Resolved<'a>> {
        let (v, style) = self.scalar()?;
        Some(resolve(v, style, self.tag()))
    }

    /// The string value of a scalar that Flux reads as a string (see [`Node::as_str`]).
    pub fn as_str(self) -> Option<&'a str> {
        match self.resolved()? {
            Resolved::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar's text whatever its type; None for null and collections (see
    /// [`Node::as_text`]).
    pub fn as_text(self) -> Option<&'a str> {
        match self.resolved()? {
            Resolved::Null => None,
            _ => self.scalar().map(|(v, _)| v),
        }
    }

    /// The items of a sequence.
    pub fn items(self) -> Option<impl Iterator<Item = NodeRef<'a>>> {
        let s = self.slot();
        (s.b & KIND_MASK == KIND_SEQ).then(move || s.range().map(move |i| self.at(i)))
    }

    /// The entries of a mapping as written (merge keys included).
    pub fn entries(self) -> Option<impl Iterator<Item = (NodeRef<'a>, NodeRef<'a>)>> {
        let s = self.slot();
        (s.b & KIND_MASK == KIND_MAP).then(move || {
            s.range()
                .step_by(2)
                .map(move |i| (self.at(i), self.at(i + 1)))
        })
    }

    /// True when this node is the expansion of an alias.
    pub fn is_alias(self) -> bool {
        self.slot().b & ALIAS != 0
    }

    /// A mapping key as a string (see [`Node::key_string`]).
    pub fn key_string(self) -> String {
        match self.scalar() {
            Some((v, _)) => v.to_owned(),
            None => self.to_node().key_string(),
        }
    }

    /// A `<<` key (see [`Node::is_merge_key`]).
    fn is_merge_key(self) -> bool {
        let Some((v, style)) = self.scalar() else {
            return false;
        };
        match self.tag() {
            None => style == ScalarStyle::Plain && v == "<<",
            Some(tag) => tag == "tag:yaml.org,2002:merge",
        }
    }

    /// The value under `key` of a mapping, following merge keys as [`Map::get`] does.
    pub fn get(self, key: &str) -> Option<NodeRef<'a>> {
        let mut merges = false;
        for (k, v) in self.entries()? {
            let Some((text, _)) = k.scalar() else {
                continue;
            };
            if k.is_merge_key() {
                merges = true;
            } else if text == key {
                return Some(v);
            }
        }
        if !merges {
            return None;
        }
        self.entries()?
            .filter(|(k, _)| k.is_merge_key())
            .flat_map(|(_, v)| match v.items() {
                Some(items) => items.collect(),
                None => vec![v],
            })
            .find_map(|source| source.get(key))
    }

    /// The node at a path of mapping keys.
    pub fn path(self, keys: &[&str]) -> Option<NodeRef<'a>> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The [`Node`] this was frozen from.
    pub fn to_node(self) -> Node {
        let s = self.slot();
        let value = match s.b & KIND_MASK {
            KIND_SEQ => Value::Seq(Seq {
                items: s.range().map(|i| self.at(i).to_node()).collect(),
                flow: s.b & FLOW != 0,
            }),
            KIND_MAP => Value::Map(Map {
                entries: s
                    .range()
                    .step_by(2)
                    .map(|i| (self.at(i).to_node(), self.at(i + 1).to_node()))
                    .collect(),
                flow: s.b & FLOW != 0,
            }),
            _ => Value::Scalar(Scalar {
                value: CompactString::from(&self.tree.values[s.range()]),
                style: style_of((s.b & STYLE_MASK) >> STYLE_SHIFT),
            }),
        };
        Node {
            span: self.span(),
            value,
            meta: self.meta().map(|m| Box::new(m.clone())),
            alias: self.is_alias(),
        }
    }
}

/// A [`Document`] whose root is a frozen [`Tree`]: how the loader holds documents.
#[derive(Clone, Debug, PartialEq)]
pub struct FrozenDocument {
    /// From the `---` marker (or the first content) to the end of the root node.
    pub span: Span,
    /// The explicit `---` marker, if any.
    pub marker: Option<Span>,
    tree: Option<Tree>,
}

impl FrozenDocument {
    pub fn freeze(doc: &Document) -> Result<FrozenDocument, YamlError> {
        Ok(FrozenDocument {
            span: doc.span,
            marker: doc.marker,
            tree: doc.root.as_ref().map(Tree::freeze).transpose()?,
        })
    }

    /// The root node, read in place; `None` for an empty document.
    pub fn root(&self) -> Option<NodeRef<'_>> {
        self.tree.as_ref().map(Tree::root)
    }

    /// A copy of the root node, to change or to keep.
    pub fn root_node(&self) -> Option<Node> {
        self.root().map(NodeRef::to_node)
    }

    /// The document as [`parse_file`](super::parse_file) gave it.
    pub fn to_document(&self) -> Document {
        Document {
            span: self.span,
            marker: self.marker,
            root: self.root_node(),
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.tree.as_ref().map_or(0, |t| t.slots.len())
    }

    fn top_str(&self, key: &str) -> Option<&str> {
        self.root()?.get(key)?.as_str()
    }

    /// Top-level `apiVersion` (see [`Document::api_version`]).
    pub fn api_version(&self) -> Option<&str> {
        self.top_str("apiVersion")
    }

    pub fn kind(&self) -> Option<&str> {
        self.top_str("kind")
    }

    /// The API group (`gateway.networking.k8s.io`; empty for core `v1`).
    pub fn group(&self) -> Option<&str> {
        Some(super::build::group_of(self.api_version()?))
    }

    pub fn name(&self) -> Option<&str> {
        self.root()?.path(&["metadata", "name"])?.as_text()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.root()?.path(&["metadata", "namespace"])?.as_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn round_trip(text: &str) {
        for doc in parse_stream(text, &Limits::default()).unwrap() {
            let frozen = FrozenDocument::freeze(&doc).unwrap();
            assert_eq!(frozen.to_document(), doc, "{text}");
            if let Some(root) = &doc.root {
                assert_eq!(frozen.nodes(), root.count());
            }
        }
    }

    #[test]
    fn gives_back_the_tree_it_was_made_from() {
        round_trip("a: 1\nb: [x, 'y', \"z\"]\nc: {d: e}\nf: |\n  text\ng: >\n  folded\n");
        round_trip("---\nbase: &b {x: 1}\nuse: *b\nt: !!str 3\ncustom: !env_var X\n");
        round_trip("- &a one\n- *a\n- [[], {}]\n- ? [complex]\n  : key\n");
        round_trip("---\n...\n---\nempty: \n");
    }

    #[test]
    fn a_scalar_too_long_for_a_slot_is_an_error_not_a_wrong_tree() {
        let long = Node::new(
            Span::new(0, 7, 9),
            Value::Scalar(Scalar {
                value: "x".repeat(MAX_LEN + 1).into(),
                style: ScalarStyle::Plain,
            }),
        );
        let err = Tree::freeze(&long).unwrap_err();
        assert!(err.is_limit() && err.offset() == 7, "{err}");
    }

    #[test]
    fn reads_in_place_as_the_node_does() {
        let text = "base: &b {name: n, k: v}\nmetadata:\n  <<: *b\n  namespace: ns\n";
        let doc = parse_stream(text, &Limits::default()).unwrap().remove(0);
        let frozen = FrozenDocument::freeze(&doc).unwrap();
        let (node, r) = (doc.root.as_ref().unwrap(), frozen.root().unwrap());
        for path in [
            &["metadata", "name"][..],
            &["metadata", "namespace"],
            &["base", "k"],
        ] {
            assert_eq!(
                node.path(path).map(|n| (n.span, n.as_str())),
                r.path(path).map(|n| (n.span(), n.as_str())),
                "{path:?}"
            );
        }
        assert_eq!(frozen.name(), doc.name());
        assert_eq!(frozen.namespace(), Some("ns"));
        assert!(r.get("missing").is_none());
        let anchored = r.get("base").unwrap();
        assert_eq!(anchored.to_node().anchor(), Some("b"));
    }
}
