//! Builds documents of spanned nodes from the parser's event stream, within hard limits.

use std::collections::{HashMap, HashSet};

use granit_parser::{Event, Parser, ScanError};

use super::node::{Map, Node, Seq, Span, Value, meta};
use super::scalar::{Scalar, ScalarStyle};

/// Hard bounds on what one file may cost to parse.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Nodes in one file, alias expansions included.
    pub max_nodes: usize,
    /// Nodes created by expanding aliases in one file (the "billion laughs" bound).
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000,
            max_alias_nodes: 100_000,
        }
    }
}

/// Why a YAML text could not be read. Offsets are bytes into the text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlError {
    #[error("{message}")]
    Syntax { offset: u32, message: String },
    #[error("nesting deeper than {limit} levels")]
    TooDeep { offset: u32, limit: usize },
    #[error("aliases expand to more than {limit} nodes (alias bomb?)")]
    AliasBudget { offset: u32, limit: usize },
    #[error("more than {limit} nodes in one file")]
    TooManyNodes { offset: u32, limit: usize },
    #[error("alias refers to a node that contains it")]
    RecursiveAlias { offset: u32 },
    #[error("a scalar or collection longer than {limit} (bytes or entries)")]
    TooLong { offset: u32, limit: usize },
    #[error("duplicate mapping key `{key}`")]
    DuplicateKey { offset: u32, key: String },
}

impl YamlError {
    /// Where in the text the problem was found.
    pub fn offset(&self) -> u32 {
        match self {
            YamlError::Syntax { offset, .. }
            | YamlError::TooDeep { offset, .. }
            | YamlError::AliasBudget { offset, .. }
            | YamlError::TooManyNodes { offset, .. }
            | YamlError::TooLong { offset, .. }
            | YamlError::RecursiveAlias { offset }
            | YamlError::DuplicateKey { offset, .. } => *offset,
        }
    }

    /// True when the text is valid YAML but exceeds a bound.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            YamlError::TooDeep { .. }
                | YamlError::AliasBudget { .. }
                | YamlError::TooManyNodes { .. }
                | YamlError::TooLong { .. }
        )
    }
}

/// One document of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// From the `---` marker (or the first content) to the end of the root node.
    pub span: Span,
    /// The explicit `---` marker, if any.
    pub marker: Option<Span>,
    /// The root node; `None` for an empty document.
    pub root: Option<Node>,
}

impl Document {
    fn top_str(&self, key: &str) -> Option<&str> {
        self.root.as_ref()?.get(key)?.as_str()
    }

    /// Top-level `apiVersion`: with `kind`, the only thing that identifies a document.
    pub fn api_version(&self) -> Option<&str> {
        self.top_str("apiVersion")
    }

    pub fn kind(&self) -> Option<&str> {
        self.top_str("kind")
    }

    /// The API group (`gateway.networking.k8s.io`; empty for core `v1`).
    pub fn group(&self) -> Option<&str> {
        Some(group_of(self.api_version()?))
    }

    pub fn name(&self) -> Option<&str> {
        self.root.as_ref()?.path(&["metadata", "name"])?.as_text()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.root
            .as_ref()?
            .path(&["metadata", "namespace"])?
            .as_text()
    }
}

/// The API group of an `apiVersion` (empty for core `v1`).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Parse a whole YAML stream into documents (spans in file 0).
pub fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    parse_file(text, 0, limits)
}

/// The root node of the first document of a text (spans in file 0).
pub fn parse_root(text: &str) -> Result<Option<Node>, YamlError> {
    Ok(parse_stream(text, &Limits::default())?
        .into_iter()
        .next()
        .and_then(|d| d.root))
}

/// Parse a whole YAML stream into documents whose spans name file `file`.
pub fn parse_file(text: &str, file: u32, limits: &Limits) -> Result<Vec<Document>, YamlError> {
    let options = granit_parser::options! { emit_anchor_events: true };
    let mut builder = Builder {
        text,
        file,
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        open_anchors: HashSet::new(),
        nodes: 0,
        alias_nodes: 0,
        docs: Vec::new(),
        doc_start: None,
        root: None,
    };
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = next.map_err(scan_error)?;
        builder.event(event, span)?;
    }
    // Most files hold one document: no room for more.
    builder.docs.shrink_to_fit();
    Ok(builder.docs)
}

fn scan_error(e: ScanError) -> YamlError {
    let m = e.marker();
    YamlError::Syntax {
        offset: m.byte_offset().unwrap_or(0) as u32,
        message: e.kind().to_string(),
    }
}

fn byte_span(file: u32, span: &granit_parser::Span) -> Span {
    let start = span.start.byte_offset().unwrap_or(0);
    let end = span.end.byte_offset().unwrap_or(start).max(start);
    Span::new(file, start, end)
}

struct Frame {
    start: u32,
    flow: bool,
    anchor_id: usize,
    anchor_name: Option<Box<str>>,
    tag: Option<Box<str>>,
    body: Body,
}

enum Body {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'t, 'l> {
    text: &'t str,
    file: u32,
    limits: &'l Limits,
    stack: Vec<Frame>,
    /// Completed anchored nodes by the parser's anchor id (a repeated name gets a new id, so
    /// the later definition wins, as in go-yaml).
    anchors: HashMap<usize, Node>,
    /// Anchors whose node is still being built (an alias to one is recursive).
    open_anchors: HashSet<usize>,
    nodes: usize,
    alias_nodes: usize,
    docs: Vec<Document>,
    doc_start: Option<(u32, Option<Span>)>,
    root: Option<Node>,
}

fn tag_string(tag: Option<std::borrow::Cow<'_, granit_parser::Tag>>) -> Option<Box<str>> {
    tag.map(|t| format!("{}{}", t.handle(), t.suffix()).into())
}

impl Builder<'_, '_> {
    fn event(&mut self, event: Event<'_>, span: granit_parser::Span) -> Result<(), YamlError> {
        let bspan = byte_span(self.file, &span);
        match event {
            Event::DocumentStart(explicit, _) => {
                let marker = explicit.then_some(bspan);
                self.doc_start = Some((bspan.start, marker));
                self.anchors.clear();
            }
            Event::DocumentEnd => self.end_document(bspan),
            Event::Anchor(id, name) => {
                // Arrives right after the anchored scalar, or after a collection's start.
                let name: Box<str> = name.as_ref().into();
                if let Some(node) = self.anchors.get_mut(&id) {
                    node.set_anchor(Some(name.clone()));
                    if let Some(last) = self.last_inserted_mut() {
                        last.set_anchor(Some(name));
                    }
                } else if let Some(frame) = self.stack.last_mut()
                    && frame.anchor_id == id
                {
                    frame.anchor_name = Some(name);
                }
            }
            Event::Alias(id) => self.alias(id, bspan)?,
            Event::Scalar(value, style, anchor_id, tag) => {
                self.count_nodes(1, bspan.start)?;
                let style = ScalarStyle::from_parser(style);
                let span = match style {
                    // An empty value is reported at its key's `:`; place it just after, so
                    // that the mapping's text ends with the colon.
                    ScalarStyle::Plain
                        if bspan.is_empty()
                            && self.text.as_bytes().get(bspan.start as usize) == Some(&b':') =>
                    {
                        Span::new(
                            self.file,
                            bspan.start as usize + 1,
                            bspan.start as usize + 1,
                        )
                    }
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        block_scalar_span(self.text, bspan)
                    }
                    _ => bspan,
                };
                // An empty value (`key:`) is reported as `~`; its own text is empty.
                let value: compact_str::CompactString =
                    if style == ScalarStyle::Plain && span.is_empty() {
                        "".into()
                    } else {
                        value.as_ref().into()
                    };
                let node = Node {
                    span,
                    value: Value::Scalar(Scalar { value, style }),
                    meta: meta(tag_string(tag), None),
                    alias: false,
                };
                if anchor_id != 0 {
                    self.anchors.insert(anchor_id, node.clone());
                }
                self.insert(node)?;
            }
            Event::SequenceStart(style, anchor_id, tag) => {
                let start = if style == granit_parser::StructureStyle::Block {
                    dash_before(self.text, bspan.start)
                } else {
                    bspan.start
                };
                self.open(start, style, anchor_id, tag, Body::Seq(Vec::new()))?
            }
            Event::MappingStart(style, anchor_id, tag) => self.open(
                bspan.start,
                style,
                anchor_id,
                tag,
                Body::Map {
                    entries: Vec::new(),
                    key: None,
                },
            )?,
            Event::SequenceEnd | Event::MappingEnd => self.close(bspan)?,
            _ => {}
        }
        Ok(())
    }

    fn end_document(&mut self, at: Span) {
        let (start, marker) = self.doc_start.take().unwrap_or((at.start, None));
        // An empty document reads as an empty plain scalar: no root.
        let root = self.root.take().filter(|r| {
            !(r.span.is_empty()
                && r.tag().is_none()
                && r.as_scalar()
                    .is_some_and(|s| s.value.is_empty() || &*s.value == "~"))
        });
        let start = match (&marker, &root) {
            (None, Some(r)) => r.span.start,
            _ => start,
        };
        let end = root
            .as_ref()
            .map_or(marker.map_or(start, |m| m.end), |r| r.span.end);
        self.docs.push(Document {
            span: Span {
                file: self.file,
                start,
                end: end.max(start),
            },
            marker,
            root,
        });
    }

    fn count_nodes(&mut self, n: usize, offset: u32) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.limits.max_nodes {
            return Err(YamlError::TooManyNodes {
                offset,
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    fn alias(&mut self, id: usize, at: Span) -> Result<(), YamlError> {
        if self.open_anchors.contains(&id) {
            return Err(YamlError::RecursiveAlias { offset: at.start });
        }
        let Some(target) = self.anchors.get(&id) else {
            return Err(YamlError::Syntax {
                offset: at.start,
                message: "alias to an unknown anchor".into(),
            });
        };
        let cost = target.count();
        self.alias_nodes += cost;
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err(YamlError::AliasBudget {
                offset: at.start,
                limit: self.limits.max_alias_nodes,
            });
        }
        let mut node = target.clone();
        self.count_nodes(cost, at.start)?;
        node.span = at;
        node.alias = true;
        node.set_anchor(None);
        self.insert(node)
    }

    fn open(
        &mut self,
        start: u32,
        style: granit_parser::StructureStyle,
        anchor_id: usize,
        tag: Option<std::borrow::Cow<'_, granit_parser::Tag>>,
        body: Body,
    ) -> Result<(), YamlError> {
        self.count_nodes(1, start)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError::TooDeep {
                offset: start,
                limit: self.limits.max_depth,
            });
        }
        if anchor_id != 0 {
            self.open_anchors.insert(anchor_id);
        }
        self.stack.push(Frame {
            start,
            flow: style == granit_parser::StructureStyle::Flow,
            anchor_id,
            anchor_name: None,
            tag: tag_string(tag),
            body,
        });
        Ok(())
    }

    fn close(&mut self, at: Span) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        // Collections are shrunk to their length: the trees of every file are held at once,
        // and the growth slack of their vectors weighed as much as the nodes.
        let (value, last_end) = match frame.body {
            Body::Seq(mut items) => {
                items.shrink_to_fit();
                let last = items.last().map(|n| n.span.end);
                (
                    Value::Seq(Seq {
                        items,
                        flow: frame.flow,
                    }),
                    last,
                )
            }
            Body::Map { mut entries, key } => {
                entries.shrink_to_fit();
                if key.is_some() {
                    return Err(YamlError::Syntax {
                        offset: at.start,
                        message: "mapping key without a value".into(),
                    });
                }
                check_duplicate_keys(&entries)?;
                let last = entries.last().map(|(k, v)| k.span.end.max(v.span.end));
                (
                    Value::Map(Map {
                        entries,
                        flow: frame.flow,
                    }),
                    last,
                )
            }
        };
        // Flow collections end at their bracket; block ones at the end of their last entry.
        let end = if frame.flow {
            at.end
        } else {
            last_end.unwrap_or(frame.start)
        };
        let node = Node {
            span: Span {
                file: self.file,
                start: frame.start,
                end: end.max(frame.start),
            },
            value,
            meta: meta(frame.tag, frame.anchor_name),
            alias: false,
        };
        if frame.anchor_id != 0 {
            self.open_anchors.remove(&frame.anchor_id);
            self.anchors.insert(frame.anchor_id, node.clone());
        }
        self.insert(node)
    }

    fn insert(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(frame) => match &mut frame.body {
                Body::Seq(items) => items.push(node),
                Body::Map { entries, key } => match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                },
            },
        }
        Ok(())
    }

    /// The node inserted last (where an anchor event for a scalar belongs).
    fn last_inserted_mut(&mut self) -> Option<&mut Node> {
        match self.stack.last_mut() {
            None => self.root.as_mut(),
            Some(frame) => match &mut frame.body {
                Body::Seq(items) => items.last_mut(),
                Body::Map { entries, key } => match key {
                    Some(k) => Some(k),
                    None => entries.last_mut().map(|(_, v)| v),
                },
            },
        }
    }
}

/// A block sequence starts at its first `-`; the parser may report the first item instead
/// (for sequences flush with their key).
fn dash_before(text: &str, start: u32) -> u32 {
    let bytes = text.as_bytes();
    let mut i = start as usize;
    if bytes.get(i) == Some(&b'-') {
        return start;
    }
    while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i > 0 && bytes[i - 1] == b'-' {
        (i - 1) as u32
    } else {
        start
    }
}

fn check_duplicate_keys(entries: &[(Node, Node)]) -> Result<(), YamlError> {
    if entries.len() < 2 {
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(entries.len());
    for (k, _) in entries {
        if k.is_merge_key() {
            continue;
        }
        if let Value::Scalar(s) = &k.value
            && !seen.insert(&*s.value)
        {
            return Err(YamlError::DuplicateKey {
                offset: k.span.start,
                key: s.value.to_string(),
            });
        }
    }
    Ok(())
}

/// A block scalar's own text: from its `|` / `>` indicator to the end of its last content
/// line (the parser's span starts at the content and runs into the following blank lines).
fn block_scalar_span(text: &str, content: Span) -> Span {
    let bytes = text.as_bytes();
    let mut end = content.end as usize;
    while end > content.start as usize && matches!(bytes[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    // The header is the content's own line when something precedes the content there (an
    // empty scalar), else the nearest non-blank line above it.
    let pos = content.start as usize;
    let mut line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let mut header = None;
    if !text[line_start..pos].trim().is_empty() {
        header = Some((line_start, pos));
    }
    while header.is_none() && line_start > 0 {
        let mut prev_end = line_start - 1;
        if prev_end > 0 && bytes[prev_end - 1] == b'\r' {
            prev_end -= 1;
        }
        let prev_start = text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
        if !text[prev_start..prev_end].trim().is_empty() {
            header = Some((prev_start, prev_end));
        }
        line_start = prev_start;
    }
    let start = header
        .and_then(|(ls, le)| indicator_in(&text[ls..le]).map(|i| ls + i))
        .unwrap_or(content.start as usize);
    Span::new(content.file, start, end.max(start))
}

/// The offset of a block scalar indicator in its header line: `|` or `>` after whitespace or
/// the line start, followed by at most two indentation/chomping characters, then only
/// whitespace or a comment.
fn indicator_in(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    (0..b.len()).find(|&i| {
        if b[i] != b'|' && b[i] != b'>' {
            return false;
        }
        if i > 0 && !matches!(b[i - 1], b' ' | b'\t') {
            return false;
        }
        let mut j = i + 1;
        while j < b.len() && j <= i + 2 && matches!(b[j], b'0'..=b'9' | b'+' | b'-') {
            j += 1;
        }
        let rest = &line[j..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Document> {
        parse_stream(text, &Limits::default()).expect("parses")
    }

    fn root(text: &str) -> Node {
        parse(text).remove(0).root.expect("root")
    }

    #[test]
    fn spans_are_the_nodes_own_text() {
        let text = "a: &app \"home\"   # c\nlist:\n  - x\n  - y  # z\nflow: [h2, http/1.1] # t\nm: {a: 1}\n";
        let r = root(text);
        let span = |k: &str| r.get(k).unwrap().span.slice(text).to_owned();
        assert_eq!(span("a"), "\"home\"");
        assert_eq!(span("list"), "- x\n  - y");
        assert_eq!(span("flow"), "[h2, http/1.1]");
        assert_eq!(span("m"), "{a: 1}");
        assert_eq!(r.span.slice(text), text.trim_end());
        assert_eq!(r.get("a").unwrap().anchor(), Some("app"));
    }

    #[test]
    fn block_scalars_span_from_indicator_to_last_line() {
        let text = "a: |  # note | x\n  one\n\n  two\n\nb: >-\n\n  x\nc:\n- |\n  q\n";
        let r = root(text);
        assert_eq!(
            r.get("a").unwrap().span.slice(text),
            "|  # note | x\n  one\n\n  two"
        );
        assert_eq!(r.get("a").unwrap().as_str(), Some("one\n\ntwo\n"));
        assert_eq!(r.get("b").unwrap().span.slice(text), ">-\n\n  x");
        let c = r.get("c").unwrap().as_seq().unwrap();
        assert_eq!(c.items[0].span.slice(text), "|\n  q");
    }

    #[test]
    fn aliases_as_keys_keep_their_own_span() {
        let text = "name: &app home\ndata:\n  *app : value\n  other: *app\n";
        let r = root(text);
        let data = r.get("data").unwrap().as_map().unwrap();
        let (k, _) = &data.entries[0];
        assert_eq!(k.span.slice(text), "*app");
        assert!(k.alias);
        assert_eq!(k.as_str(), Some("home"));
        assert_eq!(data.get("home").unwrap().as_str(), Some("value"));
        assert_eq!(data.get("other").unwrap().span.slice(text), "*app");
    }

    #[test]
    fn duplicate_anchors_later_wins() {
        let text = "a: &x one\nb: &x two\nc: *x\n";
        assert_eq!(root(text).get("c").unwrap().as_str(), Some("two"));
    }

    #[test]
    fn merge_keys() {
        let text = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\nn:\n  !!merge <<: [*b]\n";
        let r = root(text);
        let m = r.get("m").unwrap();
        assert_eq!(m.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(m.get("y").unwrap().as_i64(), Some(3));
        assert_eq!(r.path(&["n", "x"]).unwrap().as_i64(), Some(1));
        assert_eq!(m.to_json(), serde_json::json!({"y": 3, "x": 1}),);
    }

    #[test]
    fn documents_and_markers() {
        let text = "# c\n---\n# schema\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\nx: 1\n";
        let docs = parse(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].marker.unwrap().slice(text), "---");
        assert_eq!(docs[0].kind(), Some("ConfigMap"));
        assert_eq!(docs[0].group(), Some(""));
        assert_eq!(docs[0].name(), Some("a"));
        assert!(docs[1].root.is_none());
        assert_eq!(docs[2].span.slice(text), "---\nx: 1");
    }

    #[test]
    fn unknown_tags_are_strings() {
        let r = root("t: !env_var FOO\nn: !!str 12\n");
        assert_eq!(r.get("t").unwrap().as_str(), Some("FOO"));
        assert_eq!(r.get("t").unwrap().tag(), Some("!env_var"));
        assert_eq!(r.get("n").unwrap().as_str(), Some("12"));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_stream(&text, &Limits::default()).unwrap_err();
        assert!(matches!(err, YamlError::AliasBudget { .. }), "{err:?}");
    }

    #[test]
    fn nesting_is_bounded() {
        let text = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let err = parse_stream(&text, &Limits::default()).unwrap_err();
        assert!(
            err.is_limit() || matches!(err, YamlError::Syntax { .. }),
            "{err:?}"
        );
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        let err = parse_stream(&block, &Limits::default()).unwrap_err();
        assert!(
            matches!(err, YamlError::TooDeep { limit: 64, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn recursive_alias_and_duplicates_are_errors() {
        let err = parse_stream("a: &x [*x]\n", &Limits::default()).unwrap_err();
        assert!(
            matches!(err, YamlError::RecursiveAlias { offset: 7 }),
            "{err:?}"
        );
        let err = parse_stream("a: 1\nb: 2\na: 3\n", &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            YamlError::DuplicateKey {
                offset: 10,
                key: "a".into()
            }
        );
    }

    #[test]
    fn syntax_errors_have_offsets() {
        let err = parse_stream("a: 1\nb: \"open\n", &Limits::default()).unwrap_err();
        assert!(matches!(err, YamlError::Syntax { .. }));
        assert!(err.offset() >= 5, "{err:?}");
    }
}
