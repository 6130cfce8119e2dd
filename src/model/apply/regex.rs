//! The small regular-expression subset Kustomize patch targets use (anchored matches of
//! names and kinds): literals, `.`, classes `[a-z]`/`[^x]`, `\` escapes, groups with `|`,
//! and the quantifiers `*`, `+`, `?`, `{m,n}`. Matching tracks sets of positions, so it is
//! polynomial whatever the pattern. A pattern outside the subset matches only itself.

use std::collections::BTreeSet;

#[derive(Debug)]
enum Atom {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Piece>>),
    Start,
    End,
}

#[derive(Debug)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

/// True when the whole of `text` matches `pattern`.
pub fn full_match(pattern: &str, text: &str) -> bool {
    if let Some(literal) = literal(pattern) {
        return literal == text;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    let parsed = parse_alternatives(&chars, &mut pos);
    match parsed {
        Some(alts) if pos == chars.len() => {
            let text: Vec<char> = text.chars().collect();
            alternatives_end(&alts, &text, 0).contains(&text.len())
        }
        _ => pattern == text,
    }
}

/// The text a pattern without special characters matches (escapes undone).
fn literal(pattern: &str) -> Option<std::borrow::Cow<'_, str>> {
    const SPECIAL: &str = ".+*?()|[]{}^$";
    if !pattern.contains('\\') {
        return (!pattern.contains(|c| SPECIAL.contains(c))).then_some(pattern.into());
    }
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if !e.is_ascii_alphanumeric() => out.push(e),
                _ => return None,
            },
            c if SPECIAL.contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out.into())
}

/// `text` escaped so that it matches only itself.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn parse_alternatives(p: &[char], pos: &mut usize) -> Option<Vec<Vec<Piece>>> {
    let mut alts = vec![Vec::new()];
    while *pos < p.len() {
        match p[*pos] {
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
            }
            ')' => break,
            _ => {
                let atom = parse_atom(p, pos)?;
                let (min, max) = parse_quantifier(p, pos)?;
                alts.last_mut()?.push(Piece { atom, min, max });
            }
        }
    }
    Some(alts)
}

fn parse_atom(p: &[char], pos: &mut usize) -> Option<Atom> {
    let c = p[*pos];
    *pos += 1;
    Some(match c {
        '.' => Atom::Any,
        '^' => Atom::Start,
        '$' => Atom::End,
        '\\' => {
            let e = *p.get(*pos)?;
            *pos += 1;
            match e {
                'd' => Atom::Class {
                    ranges: vec![('0', '9')],
                    negated: false,
                },
                'w' => Atom::Class {
                    ranges: vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
                    negated: false,
                },
                c if c.is_ascii_alphanumeric() => return None,
                c => Atom::Char(c),
            }
        }
        '(' => {
            if p.get(*pos) == Some(&'?') {
                return None;
            }
            let alts = parse_alternatives(p, pos)?;
            if p.get(*pos) != Some(&')') {
                return None;
            }
            *pos += 1;
            Atom::Group(alts)
        }
        '[' => {
            let negated = p.get(*pos) == Some(&'^');
            if negated {
                *pos += 1;
            }
            let mut ranges = Vec::new();
            let mut first = true;
            loop {
                let c = *p.get(*pos)?;
                *pos += 1;
                if c == ']' && !first {
                    break;
                }
                first = false;
                let c = if c == '\\' {
                    let e = *p.get(*pos)?;
                    *pos += 1;
                    e
                } else {
                    c
                };
                if p.get(*pos) == Some(&'-') && p.get(*pos + 1).is_some_and(|n| *n != ']') {
                    let hi = p[*pos + 1];
                    *pos += 2;
                    ranges.push((c, hi));
                } else {
                    ranges.push((c, c));
                }
            }
            Atom::Class { ranges, negated }
        }
        '*' | '+' | '?' | '{' | ')' | ']' => return None,
        c => Atom::Char(c),
    })
}

fn parse_quantifier(p: &[char], pos: &mut usize) -> Option<(usize, Option<usize>)> {
    let q = match p.get(*pos) {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            let close = p[*pos..].iter().position(|c| *c == '}')? + *pos;
            let body: String = p[*pos + 1..close].iter().collect();
            let (lo, hi) = match body.split_once(',') {
                Some((lo, "")) => (lo.trim().parse().ok()?, None),
                Some((lo, hi)) => (lo.trim().parse().ok()?, Some(hi.trim().parse().ok()?)),
                None => {
                    let n = body.trim().parse().ok()?;
                    (n, Some(n))
                }
            };
            *pos = close;
            (lo, hi)
        }
        _ => return Some((1, Some(1))),
    };
    *pos += 1;
    Some(q)
}

fn alternatives_end(alts: &[Vec<Piece>], text: &[char], start: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for alt in alts {
        let mut at = BTreeSet::from([start]);
        for piece in alt {
            at = piece_end(piece, text, &at);
            if at.is_empty() {
                break;
            }
        }
        out.extend(at);
    }
    out
}

fn piece_end(piece: &Piece, text: &[char], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut result = BTreeSet::new();
    let mut current = starts.clone();
    let mut seen = current.clone();
    if piece.min == 0 {
        result.extend(current.iter().copied());
    }
    let limit = piece.max.unwrap_or(text.len() + 1).min(text.len() + 1);
    for count in 1..=limit {
        let next: BTreeSet<usize> = current
            .iter()
            .flat_map(|&s| atom_end(&piece.atom, text, s))
            .collect();
        if count >= piece.min {
            result.extend(next.iter().copied());
        }
        let fresh: BTreeSet<usize> = next.difference(&seen).copied().collect();
        if fresh.is_empty() && count >= piece.min {
            break;
        }
        seen.extend(next.iter().copied());
        current = next;
    }
    result
}

fn atom_end(atom: &Atom, text: &[char], at: usize) -> BTreeSet<usize> {
    let one = |ok: bool| {
        if ok {
            BTreeSet::from([at + 1])
        } else {
            BTreeSet::new()
        }
    };
    match atom {
        Atom::Char(c) => one(text.get(at) == Some(c)),
        Atom::Any => one(at < text.len()),
        Atom::Class { ranges, negated } => one(text
            .get(at)
            .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)),
        Atom::Group(alts) => alternatives_end(alts, text, at),
        Atom::Start => {
            if at == 0 {
                BTreeSet::from([at])
            } else {
                BTreeSet::new()
            }
        }
        Atom::End => {
            if at == text.len() {
                BTreeSet::from([at])
            } else {
                BTreeSet::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset() {
        assert!(full_match("home-assistant", "home-assistant"));
        assert!(!full_match("home", "home-assistant"));
        assert!(full_match(".*", "anything"));
        assert!(full_match("app-.*", "app-x"));
        assert!(full_match("(a|b)-[0-9]+", "b-42"));
        assert!(!full_match("(a|b)-[0-9]+", "c-42"));
        assert!(full_match("^envoy-(internal|external)$", "envoy-internal"));
        assert!(full_match("x{2,3}", "xxx"));
        assert!(!full_match("x{2,3}", "xxxx"));
        assert!(full_match("[^-]+", "abc"));
        assert!(full_match("a.b", "a.b"));
        assert!(full_match(&escape("a.b"), "a.b"));
        assert!(!full_match(&escape("a.b"), "axb"));
        // Outside the subset: literal.
        assert!(full_match("(?i)x", "(?i)x"));
        assert!(full_match(
            "(a*)*b",
            &"a".repeat(5000).replace("aaaaa", "aaaab")[..5]
        ));
    }
}
