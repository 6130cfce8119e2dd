//! Flux post-build substitution (drone/envsubst syntax) on scalar text: `${VAR}`,
//! `${VAR:=default}`, `${VAR:-default}`, `${VAR/a/b}`, `${VAR//a/b}`, trims, case changes,
//! substrings, `$${` escapes. A variable that cannot be resolved stays as written (symbolic).

use std::collections::BTreeMap;

/// The variables one Flux Kustomization substitutes.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub known: BTreeMap<String, String>,
    /// True when some values come from a source that cannot be read (a Secret, a ConfigMap
    /// that is not in the repo): an unknown variable may then be defined, so even its
    /// default stays symbolic.
    pub opaque: bool,
}

impl Vars {
    /// Substitute in `text`; None when nothing changed.
    pub fn apply(&self, text: &str) -> Option<String> {
        if !text.contains('$') {
            return None;
        }
        let out = self.expand(text);
        (out != text).then_some(out)
    }

    fn expand(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                let next = text[i..].find('$').map_or(text.len(), |n| i + n);
                out.push_str(&text[i..next]);
                i = next;
                continue;
            }
            match bytes.get(i + 1) {
                // `$$` is an escaped `$`: `$${VAR}` is the literal `${VAR}`.
                Some(b'$') => {
                    out.push('$');
                    i += 2;
                }
                Some(b'{') => match closing_brace(text, i + 2) {
                    Some(end) => {
                        let expr = &text[i + 2..end];
                        match self.eval(expr) {
                            Some(v) => out.push_str(&v),
                            None => out.push_str(&text[i..=end]),
                        }
                        i = end + 1;
                    }
                    None => {
                        out.push_str(&text[i..]);
                        i = bytes.len();
                    }
                },
                Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                    let len = name_len(&text[i + 1..]);
                    let name = &text[i + 1..i + 1 + len];
                    match self.known.get(name) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&text[i..i + 1 + len]),
                    }
                    i += 1 + len;
                }
                _ => {
                    out.push('$');
                    i += 1;
                }
            }
        }
        out
    }

    /// The value of one `${...}` expression; None when it stays symbolic.
    fn eval(&self, expr: &str) -> Option<String> {
        if let Some(name) = expr.strip_prefix('#') {
            if !valid_name(name) {
                return None;
            }
            return self.known.get(name).map(|v| v.chars().count().to_string());
        }
        let len = name_len(expr);
        if len == 0 {
            return None;
        }
        let (name, op) = expr.split_at(len);
        let value = self.known.get(name);
        if op.is_empty() {
            return value.cloned();
        }
        // Defaults: `:=`/`:-` apply when unset or empty, `=`/`-` when unset.
        for (prefix, on_empty) in [(":=", true), (":-", true), ("=", false), ("-", false)] {
            if let Some(default) = op.strip_prefix(prefix) {
                return match value {
                    Some(v) if !(on_empty && v.is_empty()) => Some(v.clone()),
                    _ if self.opaque => None,
                    _ => {
                        let d = self.expand(default);
                        // A default that still holds an unresolved variable stays symbolic.
                        (!d.contains("${") || !default.contains("${")).then_some(d)
                    }
                };
            }
        }
        transform(value?, op)
    }
}

/// Bash-style operations on a known value.
fn transform(value: &str, op: &str) -> Option<String> {
    let first = op.chars().next()?;
    match first {
        '/' => {
            let rest = &op[1..];
            let (mode, rest) = match rest.chars().next() {
                Some('/') => ('a', &rest[1..]),
                Some('#') => ('p', &rest[1..]),
                Some('%') => ('s', &rest[1..]),
                _ => ('1', rest),
            };
            let (pattern, replacement) = rest.split_once('/').unwrap_or((rest, ""));
            if pattern.is_empty() {
                return Some(value.to_owned());
            }
            Some(match mode {
                'a' => value.replace(pattern, replacement),
                'p' => match value.strip_prefix(pattern) {
                    Some(r) => format!("{replacement}{r}"),
                    None => value.to_owned(),
                },
                's' => match value.strip_suffix(pattern) {
                    Some(r) => format!("{r}{replacement}"),
                    None => value.to_owned(),
                },
                _ => value.replacen(pattern, replacement, 1),
            })
        }
        '#' => {
            let (longest, pattern) = match op.strip_prefix("##") {
                Some(p) => (true, p),
                None => (false, &op[1..]),
            };
            Some(trim_prefix(value, pattern, longest).to_owned())
        }
        '%' => {
            let (longest, pattern) = match op.strip_prefix("%%") {
                Some(p) => (true, p),
                None => (false, &op[1..]),
            };
            Some(trim_suffix(value, pattern, longest).to_owned())
        }
        '^' => Some(if op == "^^" {
            value.to_uppercase()
        } else {
            let mut c = value.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }),
        ',' => Some(if op == ",," {
            value.to_lowercase()
        } else {
            let mut c = value.chars();
            c.next()
                .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }),
        ':' => {
            let (pos, len) = match op[1..].split_once(':') {
                Some((p, l)) => (p, Some(l)),
                None => (&op[1..], None),
            };
            let chars: Vec<char> = value.chars().collect();
            let pos: i64 = pos.trim().parse().ok()?;
            let start = if pos < 0 {
                chars.len().saturating_sub(pos.unsigned_abs() as usize)
            } else {
                (pos as usize).min(chars.len())
            };
            let end = match len {
                Some(l) => {
                    let l: usize = l.trim().parse().ok()?;
                    (start + l).min(chars.len())
                }
                None => chars.len(),
            };
            Some(chars[start..end].iter().collect())
        }
        _ => None,
    }
}

/// Shell glob match of a whole string (`*`, `?`, literal otherwise). Patterns with many
/// stars are matched literally (the backtracking would cost too much on hostile input).
fn glob(pattern: &[char], text: &[char]) -> bool {
    if pattern.iter().filter(|c| **c == '*').count() > 4 {
        return pattern == text;
    }
    glob_at(pattern, text)
}

fn glob_at(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|i| glob_at(rest, &text[i..])),
        Some(('?', rest)) => !text.is_empty() && glob_at(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob_at(rest, &text[1..]),
    }
}

/// Byte offsets where a character starts, and the end.
fn cuts(value: &str) -> Vec<usize> {
    value
        .char_indices()
        .map(|(i, _)| i)
        .chain([value.len()])
        .collect()
}

fn trim_prefix<'v>(value: &'v str, pattern: &str, longest: bool) -> &'v str {
    let p: Vec<char> = pattern.chars().collect();
    let cuts = cuts(value);
    let pick = |end: usize| glob(&p, &value[..end].chars().collect::<Vec<_>>());
    let found = if longest {
        cuts.iter().rev().copied().find(|&e| pick(e))
    } else {
        cuts.iter().copied().find(|&e| pick(e))
    };
    found.map_or(value, |e| &value[e..])
}

fn trim_suffix<'v>(value: &'v str, pattern: &str, longest: bool) -> &'v str {
    let p: Vec<char> = pattern.chars().collect();
    let cuts = cuts(value);
    let pick = |start: usize| glob(&p, &value[start..].chars().collect::<Vec<_>>());
    let found = if longest {
        cuts.iter().copied().find(|&s| pick(s))
    } else {
        cuts.iter().rev().copied().find(|&s| pick(s))
    };
    found.map_or(value, |s| &value[..s])
}

/// The index of the `}` that closes an expression starting at `from`, nested `${` counted.
fn closing_brace(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn name_len(s: &str) -> usize {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        n = i + c.len_utf8();
    }
    n
}

/// Flux accepts only these variable names in `substitute`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name_len(name) == name.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)], opaque: bool) -> Vars {
        Vars {
            known: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            opaque,
        }
    }

    #[test]
    fn forms() {
        let v = vars(
            &[("SECRET_DOMAIN", "example.com"), ("APP", "hass"), ("E", "")],
            false,
        );
        let s = |t: &str| v.apply(t).unwrap_or_else(|| t.to_owned());
        assert_eq!(s("${APP}.${SECRET_DOMAIN}"), "hass.example.com");
        assert_eq!(
            s("${SECRET_DOMAIN/./-}-production-tls"),
            "example-com-production-tls"
        );
        assert_eq!(s("${SECRET_DOMAIN//e/E}"), "ExamplE.com");
        assert_eq!(s("${REPLICAS:=1}"), "1");
        assert_eq!(s("${REPLICAS:-2}"), "2");
        assert_eq!(s("${E:=x}"), "x");
        assert_eq!(s("${E=x}"), "");
        assert_eq!(s("${APP:=x}"), "hass");
        assert_eq!(s("${CLAIM:-${APP}}"), "hass");
        assert_eq!(s("$${APP}"), "${APP}");
        assert_eq!(s("${UNKNOWN}.x"), "${UNKNOWN}.x");
        assert_eq!(s("${APP^^}"), "HASS");
        assert_eq!(s("${SECRET_DOMAIN%.*}"), "example");
        assert_eq!(s("${SECRET_DOMAIN#*.}"), "com");
        assert_eq!(s("${APP:1:2}"), "as");
        assert_eq!(s("${#APP}"), "4");
        assert_eq!(s("cost $5 ${APP"), "cost $5 ${APP");
        assert_eq!(s("$APP-x"), "hass-x");
        assert_eq!(v.apply("no vars"), None);
    }

    #[test]
    fn opaque_sources_keep_defaults_symbolic() {
        let v = vars(&[("APP", "hass")], true);
        assert_eq!(v.apply("${SECRET_DOMAIN:=x}"), None);
        assert_eq!(v.apply("${APP:=x}").as_deref(), Some("hass"));
    }
}
