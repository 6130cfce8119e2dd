//! Kubernetes label selectors (`matchLabels`, `matchExpressions`).

use crate::yaml::Node;

use super::index::{items, text};

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// A label selector. An empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
    /// Set when the selector could not be read (an unknown operator, a wrong type): it then
    /// matches nothing, as the API server would refuse it.
    pub invalid: bool,
}

impl LabelSelector {
    /// Reads a selector node (`matchLabels` / `matchExpressions`). A node that is not a mapping
    /// gives an invalid selector.
    pub fn parse(node: &Node) -> LabelSelector {
        let Some(map) = node.as_map() else {
            return LabelSelector {
                invalid: !node.is_null(),
                ..LabelSelector::default()
            };
        };
        let mut sel = LabelSelector::default();
        if let Some(ml) = map.get("matchLabels") {
            match ml.as_map() {
                Some(m) => {
                    for (k, v) in m.iter() {
                        match v.as_text() {
                            Some(v) => sel.match_labels.push((k.key_string(), v.to_owned())),
                            None => sel.invalid = true,
                        }
                    }
                }
                None if ml.is_null() => {}
                None => sel.invalid = true,
            }
        }
        sel.expressions = parse_expressions(map.get("matchExpressions"), &mut sel.invalid);
        sel
    }

    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        if self.invalid {
            return false;
        }
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        self.match_labels
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
            && self.expressions.iter().all(|r| {
                let value = get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
                    "NotIn" => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

fn parse_expressions(node: Option<&Node>, invalid: &mut bool) -> Vec<Requirement> {
    let mut out = Vec::new();
    for e in items(node) {
        let (Some(key), Some(operator)) = (text(e, "key"), text(e, "operator")) else {
            *invalid = true;
            continue;
        };
        if !matches!(operator, "In" | "NotIn" | "Exists" | "DoesNotExist") {
            *invalid = true;
        }
        let values = items(e.get("values"))
            .filter_map(|v| v.as_text().map(str::to_owned))
            .collect();
        out.push(Requirement {
            key: key.to_owned(),
            operator: operator.to_owned(),
            values,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn sel(text: &str) -> LabelSelector {
        let docs = parse_stream(text, &Limits::default()).unwrap();
        LabelSelector::parse(docs[0].root.as_ref().unwrap())
    }

    fn l(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn labels_and_expressions() {
        let s = sel(
            "matchLabels: {a: '1'}\nmatchExpressions:\n- {key: b, operator: In, values: [x, y]}\n- {key: c, operator: DoesNotExist}\n",
        );
        assert!(s.matches(&l(&[("a", "1"), ("b", "y")])));
        assert!(!s.matches(&l(&[("a", "1"), ("b", "z")])));
        assert!(!s.matches(&l(&[("a", "1"), ("b", "x"), ("c", "")])));
        assert!(!s.matches(&l(&[("b", "x")])));
    }

    #[test]
    fn empty_matches_all_and_bad_matches_none() {
        assert!(sel("{}").matches(&[]));
        assert!(!sel("matchExpressions:\n- {key: a, operator: Near}\n").matches(&l(&[("a", "1")])));
        assert!(!sel("matchLabels: [a]").matches(&[]));
    }
}
