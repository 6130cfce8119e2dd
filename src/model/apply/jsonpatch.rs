//! JSON 6902 patches (`op`/`path`/`value`) on spanned nodes: add, remove, replace, move,
//! copy (test is not checked). Values come from the patch text and keep its spans.

use crate::yaml::{Node, Value};

use super::tree;

/// Apply every operation of `ops` (a sequence of mappings) to `dest`; Err names the first
/// operation that could not be applied (later ones are not applied, as Kustomize stops).
/// `pruned` says which paths of `dest` the loader dropped (see `retain`): an operation there
/// that fails is passed over, a `replace` there is an `add`.
pub fn apply_ops(
    dest: &mut Node,
    ops: &Node,
    pruned: &dyn Fn(&[String]) -> bool,
) -> Result<(), String> {
    for op in tree::items(Some(ops)) {
        if let Err(e) = apply_op(dest, op, false) {
            let in_pruned = |key: &str| {
                let path = op.get(key).and_then(Node::as_text).unwrap_or("");
                pointer(path).is_some_and(|t| pruned(&t))
            };
            let name = op.get("op").and_then(Node::as_text).unwrap_or("");
            let passed_over = match name {
                "move" | "copy" => in_pruned("from"),
                _ => in_pruned("path"),
            };
            if !passed_over {
                return Err(e);
            }
            if name == "replace" {
                let _ = apply_op(dest, op, true);
            }
        }
    }
    Ok(())
}

fn apply_op(dest: &mut Node, op: &Node, replace_adds: bool) -> Result<(), String> {
    let name = op.get("op").and_then(Node::as_text).unwrap_or("");
    let path = op.get("path").and_then(Node::as_text).unwrap_or("");
    let tokens = pointer(path).ok_or_else(|| format!("invalid path `{path}`"))?;
    let fail = |what: &str| Err(format!("{name} {path}: {what}"));
    match name {
        "add" | "replace" => {
            let Some(value) = op.get("value") else {
                return fail("no value");
            };
            if name == "replace" && !replace_adds && lookup(dest, &tokens).is_none() {
                return fail("nothing to replace");
            }
            insert(dest, &tokens, value.clone(), name == "add").or_else(|e| fail(&e))
        }
        "remove" => take(dest, &tokens).map(|_| ()).or_else(|e| fail(&e)),
        "move" | "copy" => {
            let from = op.get("from").and_then(Node::as_text).unwrap_or("");
            let Some(from_tokens) = pointer(from) else {
                return fail("invalid from");
            };
            let value = if name == "move" {
                take(dest, &from_tokens)
            } else {
                lookup(dest, &from_tokens)
                    .cloned()
                    .ok_or_else(|| "source not found".to_owned())
            };
            match value {
                Ok(v) => insert(dest, &tokens, v, true).or_else(|e| fail(&e)),
                Err(e) => fail(&e),
            }
        }
        "test" => Ok(()),
        _ => fail("unknown op"),
    }
}

/// The tokens of a JSON pointer (`~1` is `/`, `~0` is `~`); "" is the whole document.
fn pointer(path: &str) -> Option<Vec<String>> {
    if path.is_empty() {
        return Some(Vec::new());
    }
    let rest = path.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

fn lookup<'a>(node: &'a Node, tokens: &[String]) -> Option<&'a Node> {
    tokens.iter().try_fold(node, |n, t| match &n.value {
        Value::Map(_) => n.get(t),
        Value::Seq(s) => s.items.get(t.parse::<usize>().ok()?),
        Value::Scalar(_) => None,
    })
}

fn lookup_mut<'a>(node: &'a mut Node, tokens: &[String]) -> Option<&'a mut Node> {
    let mut n = node;
    for t in tokens {
        n = match n.value {
            Value::Map(_) => tree::get_mut(n, t)?,
            Value::Seq(ref mut s) => s.items.get_mut(t.parse::<usize>().ok()?)?,
            Value::Scalar(_) => return None,
        };
    }
    Some(n)
}

fn insert(dest: &mut Node, tokens: &[String], value: Node, add: bool) -> Result<(), String> {
    let Some((last, parent)) = tokens.split_last() else {
        *dest = value;
        return Ok(());
    };
    let parent = lookup_mut(dest, parent).ok_or("parent not found")?;
    match &mut parent.value {
        Value::Map(_) => {
            let span = value.span;
            tree::set(parent, last, span, value);
            Ok(())
        }
        Value::Seq(s) => {
            if last == "-" {
                s.items.push(value);
                return Ok(());
            }
            let i: usize = last.parse().map_err(|_| "not an index")?;
            if add && i <= s.items.len() {
                s.items.insert(i, value);
                Ok(())
            } else if !add && i < s.items.len() {
                s.items[i] = value;
                Ok(())
            } else {
                Err("index out of range".into())
            }
        }
        Value::Scalar(_) => Err("parent is a scalar".into()),
    }
}

fn take(dest: &mut Node, tokens: &[String]) -> Result<Node, String> {
    let (last, parent) = tokens.split_last().ok_or("cannot remove the document")?;
    let parent = lookup_mut(dest, parent).ok_or("parent not found")?;
    match &mut parent.value {
        Value::Map(_) => tree::remove(parent, last).ok_or_else(|| "not found".to_owned()),
        Value::Seq(s) => {
            let i: usize = last.parse().map_err(|_| "not an index")?;
            if i < s.items.len() {
                Ok(s.items.remove(i))
            } else {
                Err("index out of range".into())
            }
        }
        Value::Scalar(_) => Err("parent is a scalar".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        crate::yaml::parse_root(text).unwrap().unwrap()
    }

    #[test]
    fn ops() {
        let mut d = parse(
            "metadata: {name: x}\nspec:\n  listeners: [{name: http}]\n  tls: {alpnProtocols: [h2, http/1.1]}\n",
        );
        let ops = parse(
            "- {op: add, path: /metadata/labels, value: {a: b}}\n\
             - {op: add, path: /spec/listeners/-, value: {name: https}}\n\
             - {op: replace, path: /spec/tls/alpnProtocols/0, value: http/1.1}\n\
             - {op: remove, path: /spec/tls/alpnProtocols/1}\n\
             - {op: copy, from: /metadata/name, path: /metadata/x~1y}\n",
        );
        apply_ops(&mut d, &ops, &|_| false).unwrap();
        assert_eq!(
            d.to_json(),
            serde_json::json!({
                "metadata": {"name": "x", "labels": {"a": "b"}, "x/y": "x"},
                "spec": {"listeners": [{"name": "http"}, {"name": "https"}],
                         "tls": {"alpnProtocols": ["http/1.1"]}}
            })
        );
        assert!(
            apply_ops(
                &mut d,
                &parse("- {op: replace, path: /nope/x, value: 1}\n"),
                &|_| false
            )
            .is_err()
        );
        // In a part the loader dropped, a failing operation is passed over and a replace adds.
        let pruned = |t: &[String]| t.first().is_some_and(|t| t == "nope");
        let ops = parse(
            "- {op: remove, path: /nope/x}\n- {op: replace, path: /nope, value: 1}\n- {op: add, path: /y, value: 2}\n",
        );
        apply_ops(&mut d, &ops, &pruned).unwrap();
        assert_eq!(d.get("nope").and_then(Node::as_i64), Some(1));
        assert_eq!(d.get("y").and_then(Node::as_i64), Some(2));
    }
}
