//! For every node the loader reports, the bytes at its span are the node's own text: checked
//! over every file of the corpus repos and over generated YAML.

use proptest::prelude::*;
use ws_fix::load::{self, LoadOptions, SourceFile};
use ws_fix::snapshot::LocalDir;
use ws_fix::yaml::{Limits, Node, ScalarStyle, Value, parse_file, parse_stream};

/// Every node of every document (the default load keeps only what the model reads).
fn full() -> LoadOptions {
    LoadOptions {
        full_trees: true,
        ..LoadOptions::default()
    }
}

fn shared(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

/// True when no alias or tag below `node` makes its text differ from its value.
fn self_contained(node: &Node) -> bool {
    let mut ok = true;
    node.walk(&mut |n| ok &= !n.alias && n.meta.is_none());
    ok
}

/// Checks one node's span against its value; returns a description of the first mismatch.
fn check_node(file: &SourceFile, node: &Node) -> Result<(), String> {
    let text = node.span.slice(file.text());
    let at = file.line_col(node.span.start);
    let fail = |what: &str| Err(format!("{}:{at}: {what}: {text:?}", file.path));
    if node.alias {
        return if text.starts_with('*') {
            Ok(())
        } else {
            fail("alias span")
        };
    }
    match &node.value {
        Value::Scalar(s) => match s.style {
            ScalarStyle::Plain if !text.contains('\n') && text != &*s.value => fail("plain scalar"),
            ScalarStyle::SingleQuoted if !(text.starts_with('\'') && text.ends_with('\'')) => {
                fail("single-quoted scalar")
            }
            ScalarStyle::DoubleQuoted if !(text.starts_with('"') && text.ends_with('"')) => {
                fail("double-quoted scalar")
            }
            ScalarStyle::Literal if !text.starts_with('|') => fail("literal scalar"),
            ScalarStyle::Folded if !text.starts_with('>') => fail("folded scalar"),
            _ => Ok(()),
        }?,
        Value::Seq(s) if s.flow && !(text.starts_with('[') && text.ends_with(']')) => {
            return fail("flow sequence");
        }
        Value::Map(m) if m.flow && !(text.starts_with('{') && text.ends_with('}')) => {
            return fail("flow mapping");
        }
        Value::Seq(s) if !s.flow && !text.starts_with('-') => return fail("block sequence"),
        _ => {}
    }
    // The strongest check: the span's text, put back at its column, parses to the same value.
    if self_contained(node) {
        let line_start = file.lines().line_start(at.line).unwrap_or(0) as usize;
        let indent: String = file.text()[line_start..node.span.start as usize]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let reparsed = parse_stream(&format!("{indent}{text}\n"), &Limits::default())
            .map_err(|e| format!("{}:{at}: span does not re-parse ({e}): {text:?}", file.path))?;
        let value = reparsed
            .first()
            .and_then(|d| d.root.as_ref())
            .map_or(serde_json::Value::Null, Node::to_json);
        if value != node.to_json() {
            return fail("span re-parses to another value");
        }
    }
    Ok(())
}

fn check_file(file: &SourceFile) -> Result<usize, String> {
    let mut checked = 0;
    let mut result = Ok(());
    for doc in &file.documents {
        if let Some(root) = doc.root_node() {
            root.walk(&mut |n| {
                if result.is_ok() {
                    checked += 1;
                    result = check_node(file, n);
                }
            });
        }
        let dtext = doc.span.slice(file.text());
        if doc.marker.is_some() && !dtext.starts_with("---") {
            return Err(format!("{}: document span {dtext:?}", file.path));
        }
    }
    result.map(|()| checked)
}

#[test]
fn corpus_every_file_is_accounted_for_and_spans_are_exact() {
    let corpus = shared("corpus");
    let mut repos: Vec<_> = std::fs::read_dir(&corpus)
        .expect("../shared/corpus")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    repos.sort();
    assert!(repos.len() >= 3);
    for repo in repos {
        // Full trees: a kept node's text may hold what the default load drops.
        let loaded = load::load(&LocalDir::new(&repo).unwrap(), &full()).unwrap();
        println!(
            "{}: {:?}",
            repo.file_name().unwrap().to_string_lossy(),
            loaded.counts()
        );
        // Every regular file on disk is either parsed or skipped (or under an ignored folder).
        let mut on_disk = Vec::new();
        walk_files(&repo, &repo, &mut on_disk);
        for path in &on_disk {
            let accounted = loaded.file(path).is_some()
                || loaded
                    .skipped
                    .iter()
                    .any(|s| s.path == *path || path.starts_with(&format!("{}/", s.path)));
            assert!(accounted, "{path} is neither parsed nor skipped");
        }
        let mut nodes = 0;
        for file in &loaded.files {
            nodes += check_file(file).unwrap_or_else(|e| panic!("{e}"));
            // Texts are held packed in blocks: each gives back the file's bytes.
            let on_disk = std::fs::read(repo.join(&file.path)).unwrap();
            assert_eq!(file.text().as_bytes(), &on_disk[..], "{}", file.path);
            // The loader holds documents frozen: each gives back the tree the parser built.
            let parsed = parse_file(file.text(), file.id, &Limits::default()).unwrap();
            let held: Vec<_> = file.documents.iter().map(|d| d.to_document()).collect();
            assert_eq!(held, parsed, "{}", file.path);
        }
        assert!(nodes > 10_000, "only {nodes} nodes checked");
        // What the default load keeps of a document are nodes of its full tree, spans unchanged.
        let kept = load::load(&LocalDir::new(&repo).unwrap(), &LoadOptions::default()).unwrap();
        for (full, cut) in loaded.files.iter().zip(&kept.files) {
            assert_eq!(full.path, cut.path);
            for (a, b) in full.documents.iter().zip(&cut.documents) {
                assert_eq!((a.span, a.kind(), a.name()), (b.span, b.kind(), b.name()));
                let mut spans = std::collections::HashSet::new();
                a.root_node().iter().for_each(|r| {
                    r.walk(&mut |n| {
                        spans.insert(n.span);
                    })
                });
                b.root_node().iter().for_each(|r| {
                    r.walk(&mut |n| assert!(spans.contains(&n.span), "{}", full.path))
                });
            }
        }
    }
}

fn walk_files(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() && entry.file_name() != ".git" {
            walk_files(root, &path, out);
        } else if ft.is_file() || ft.is_symlink() {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
}

// ---- generated YAML -------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Gen {
    Str(String, u8),
    Int(i64),
    Bool(bool),
    Seq(Vec<Gen>, bool),
    Map(Vec<(String, Gen)>, bool),
}

fn gen_tree() -> impl Strategy<Value = Gen> {
    let word = "[a-z][a-z0-9./-]{0,8}";
    let leaf = prop_oneof![
        (word, 0u8..4).prop_map(|(s, style)| Gen::Str(s, style)),
        any::<i32>().prop_map(|i| Gen::Int(i as i64)),
        any::<bool>().prop_map(Gen::Bool),
    ];
    leaf.prop_recursive(5, 64, 5, move |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 1..5), any::<bool>())
                .prop_map(|(v, flow)| Gen::Seq(v, flow)),
            (
                prop::collection::btree_map("[a-z][a-z0-9]{0,6}", inner, 1..5),
                any::<bool>()
            )
                .prop_map(|(m, flow)| Gen::Map(m.into_iter().collect(), flow)),
        ]
    })
}

impl Gen {
    fn json(&self) -> serde_json::Value {
        match self {
            Gen::Str(s, _) => s.clone().into(),
            Gen::Int(i) => (*i).into(),
            Gen::Bool(b) => (*b).into(),
            Gen::Seq(v, _) => v.iter().map(Gen::json).collect(),
            Gen::Map(m, _) => m.iter().map(|(k, v)| (k.clone(), v.json())).collect(),
        }
    }

    fn is_flow(&self) -> bool {
        matches!(self, Gen::Seq(_, true) | Gen::Map(_, true))
    }

    /// Flow text of a node (used inside flow collections and for flow nodes).
    fn flow(&self) -> String {
        match self {
            Gen::Seq(v, _) => format!(
                "[{}]",
                v.iter().map(Gen::flow).collect::<Vec<_>>().join(", ")
            ),
            Gen::Map(m, _) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{k}: {}", v.flow()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => other.scalar(false),
        }
    }

    fn scalar(&self, block_ok: bool) -> String {
        match self {
            Gen::Str(s, 1) => format!("'{s}'"),
            Gen::Str(s, 2) => format!("\"{s}\""),
            Gen::Str(s, _) if block_ok && s.len() > 3 => format!("\"{s}\""),
            // Plain only when it would not read as another type.
            Gen::Str(s, _) => {
                if serde_json::from_str::<serde_json::Value>(s).is_ok()
                    || ["true", "false", "null", "~"].contains(&s.to_lowercase().as_str())
                    || s.parse::<f64>().is_ok()
                    || s.starts_with('.')
                {
                    format!("'{s}'")
                } else {
                    s.clone()
                }
            }
            Gen::Int(i) => i.to_string(),
            Gen::Bool(b) => b.to_string(),
            _ => unreachable!(),
        }
    }

    /// Block text at `indent`, as the value after `key:` or `-`.
    fn block(&self, indent: usize, out: &mut String, comment: bool) {
        let pad = " ".repeat(indent);
        match self {
            Gen::Seq(v, false) => {
                out.push('\n');
                for item in v {
                    out.push_str(&format!("{pad}-"));
                    item.block_value(indent + 2, out, comment);
                }
            }
            Gen::Map(m, false) => {
                out.push('\n');
                for (k, v) in m {
                    out.push_str(&format!("{pad}{k}:"));
                    v.block_value(indent + 2, out, comment);
                }
            }
            other => unreachable!("{other:?}"),
        }
    }

    fn block_value(&self, indent: usize, out: &mut String, comment: bool) {
        match self {
            Gen::Seq(_, false) | Gen::Map(_, false) => self.block(indent, out, comment),
            flow if flow.is_flow() => out.push_str(&format!(" {}\n", flow.flow())),
            scalar => {
                out.push(' ');
                out.push_str(&scalar.scalar(true));
                if comment {
                    out.push_str("  # note");
                }
                out.push('\n');
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn generated_yaml_spans_are_exact(tree in gen_tree(), comment in any::<bool>()) {
        let wrapped = Gen::Map(vec![("root".into(), tree.clone())], false);
        let mut body = String::new();
        wrapped.block(0, &mut body, comment);
        let text = format!("---\n# header{body}");
        let file = SourceFile::parse(0, "gen.yaml", text.clone(), &Limits::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let root = file.documents[0].root_node().unwrap();
        prop_assert_eq!(root.get("root").unwrap().to_json(), tree.json(), "{}", text);
        check_file(&file).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    }
}

#[test]
fn crlf_bom_and_tabs_keep_exact_spans() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let loaded = load::load(&LocalDir::new(&dir).unwrap(), &full()).unwrap();
    assert!(!loaded.files.is_empty());
    for (i, file) in loaded.files.iter().enumerate() {
        let crlf = format!("\u{feff}{}", file.text().replace('\n', "\r\n"));
        let parsed = SourceFile::parse(i as u32, &file.path, crlf, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.path));
        check_file(&parsed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.documents.len(), file.documents.len());
        for (a, b) in parsed.documents.iter().zip(&file.documents) {
            assert_eq!(
                a.root_node().as_ref().map(Node::to_json),
                b.root_node().as_ref().map(Node::to_json)
            );
        }
    }
    // A tab after a value is white space, not content.
    let file = SourceFile::parse(
        0,
        "t.yaml",
        "a:\tb\t# c\nc: [x,\td]\n".into(),
        &Limits::default(),
    )
    .unwrap();
    check_file(&file).unwrap();
    assert_eq!(
        file.documents[0]
            .root_node()
            .unwrap()
            .get("a")
            .unwrap()
            .as_str(),
        Some("b")
    );
}
