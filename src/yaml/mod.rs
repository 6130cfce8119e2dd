//! YAML with byte spans: a small owned node tree built from granit-parser events.
//!
//! Every node carries the byte range of its own text in the source, so that findings can
//! point at a line and column and the fixer can splice bytes without re-serialising a file.
//! Scalars are resolved the way Flux (go-yaml v3, YAML 1.2 core schema with merge keys)
//! reads them; see [`Scalar::resolve`].

mod build;
mod compact;
mod lines;
mod node;
mod scalar;

pub use build::{Document, Limits, YamlError, group_of, parse_file, parse_root, parse_stream};
pub use compact::{FrozenDocument, MAX_LEN, NodeRef};
pub use lines::{LineCol, LineIndex};
pub use node::{Map, Meta, Node, Seq, Span, Value};
pub use scalar::{Resolved, Scalar, ScalarStyle};
