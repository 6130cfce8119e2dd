//! Envoy Gateway `StringMatch` (Exact, Prefix, Suffix, RegularExpression) against a short
//! token such as `websocket`. Regular expressions are matched by a small backtracking matcher
//! (literals, `.`, classes, `* + ?`, `|`, groups, anchors); anything it cannot read does not
//! match.

/// True when a `StringMatch` of `kind` with `value` matches `input` (case-insensitively: the
/// Upgrade header's token is).
pub(crate) fn matches(kind: &str, value: &str, input: &str) -> bool {
    let v = value.to_ascii_lowercase();
    let i = input.to_ascii_lowercase();
    match kind {
        "Exact" => v == i,
        "Prefix" => i.starts_with(&v),
        "Suffix" => i.ends_with(&v),
        "RegularExpression" => regex_full_match(&v, &i).unwrap_or(false),
        _ => false,
    }
}

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Group(Vec<Vec<Piece>>),
}

#[derive(Debug, Clone)]
struct Piece {
    atom: Atom,
    min: usize,
    max: usize,
}

/// Envoy's regex matches the whole value (RE2 full match). `None` when unreadable.
fn regex_full_match(pattern: &str, input: &str) -> Option<bool> {
    let pattern = pattern.strip_prefix("(?i)").unwrap_or(pattern);
    let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
    let pattern = pattern
        .strip_suffix('$')
        .filter(|p| !p.ends_with('\\'))
        .unwrap_or(pattern);
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    let alts = parse_alts(&chars, &mut pos, 0)?;
    if pos != chars.len() {
        return None;
    }
    let input: Vec<char> = input.chars().collect();
    let mut budget = 100_000usize;
    Some(
        alts.iter()
            .any(|seq| match_seq(seq, &input, 0, &mut budget, &mut |end| end == input.len())),
    )
}

fn parse_alts(c: &[char], pos: &mut usize, depth: usize) -> Option<Vec<Vec<Piece>>> {
    if depth > 16 {
        return None;
    }
    let mut alts = vec![Vec::new()];
    while *pos < c.len() {
        match c[*pos] {
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
            }
            ')' => break,
            _ => {
                let atom = parse_atom(c, pos, depth)?;
                let (min, max) = match c.get(*pos) {
                    Some('*') => (0, usize::MAX),
                    Some('+') => (1, usize::MAX),
                    Some('?') => (0, 1),
                    _ => (1, 1),
                };
                if (min, max) != (1, 1) {
                    *pos += 1;
                }
                alts.last_mut()?.push(Piece { atom, min, max });
            }
        }
    }
    Some(alts)
}

fn parse_atom(c: &[char], pos: &mut usize, depth: usize) -> Option<Atom> {
    let ch = c[*pos];
    *pos += 1;
    match ch {
        '.' => Some(Atom::Any),
        '\\' => {
            let e = *c.get(*pos)?;
            *pos += 1;
            match e {
                'd' => Some(Atom::Class(vec![('0', '9')], false)),
                'w' => Some(Atom::Class(vec![('a', 'z'), ('0', '9'), ('_', '_')], false)),
                's' => Some(Atom::Class(vec![(' ', ' '), ('\t', '\t')], false)),
                other if other.is_ascii_alphanumeric() => None,
                other => Some(Atom::Char(other)),
            }
        }
        '[' => {
            let negate = c.get(*pos) == Some(&'^');
            if negate {
                *pos += 1;
            }
            let mut ranges = Vec::new();
            while *c.get(*pos)? != ']' {
                let lo = c[*pos];
                *pos += 1;
                if c.get(*pos) == Some(&'-') && c.get(*pos + 1).is_some_and(|x| *x != ']') {
                    ranges.push((lo, c[*pos + 1]));
                    *pos += 2;
                } else {
                    ranges.push((lo, lo));
                }
            }
            *pos += 1;
            Some(Atom::Class(ranges, negate))
        }
        '(' => {
            if c.get(*pos) == Some(&'?') {
                // `(?:...)`
                if c.get(*pos + 1) != Some(&':') {
                    return None;
                }
                *pos += 2;
            }
            let alts = parse_alts(c, pos, depth + 1)?;
            if c.get(*pos) != Some(&')') {
                return None;
            }
            *pos += 1;
            Some(Atom::Group(alts))
        }
        '*' | '+' | '?' | '{' | '}' | '^' | '$' => None,
        other => Some(Atom::Char(other)),
    }
}

fn atom_one(
    atom: &Atom,
    input: &[char],
    at: usize,
    budget: &mut usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    match atom {
        Atom::Char(ch) => input.get(at) == Some(ch) && k(at + 1),
        Atom::Any => at < input.len() && k(at + 1),
        Atom::Class(ranges, negate) => {
            input
                .get(at)
                .is_some_and(|x| ranges.iter().any(|(lo, hi)| lo <= x && x <= hi) != *negate)
                && k(at + 1)
        }
        Atom::Group(alts) => alts.iter().any(|seq| match_seq(seq, input, at, budget, k)),
    }
}

fn match_seq(
    seq: &[Piece],
    input: &[char],
    at: usize,
    budget: &mut usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some((first, rest)) = seq.split_first() else {
        return k(at);
    };
    match_repeat(first, 0, rest, input, at, budget, k)
}

fn match_repeat(
    piece: &Piece,
    count: usize,
    rest: &[Piece],
    input: &[char],
    at: usize,
    budget: &mut usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    // Greedy: one more repetition first (only if it consumes input), then stop.
    if count < piece.max {
        let more = atom_one(&piece.atom, input, at, budget, &mut |next| {
            next > at && {
                let mut b = 10_000usize;
                match_repeat(piece, count + 1, rest, input, next, &mut b, k)
            }
        });
        if more {
            return true;
        }
    }
    count >= piece.min && match_seq(rest, input, at, budget, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert!(matches("Exact", "WebSocket", "websocket"));
        assert!(matches("Prefix", "web", "websocket"));
        assert!(matches("Suffix", "socket", "websocket"));
        assert!(!matches("Exact", "h2c", "websocket"));
    }

    #[test]
    fn regexes() {
        for (re, want) in [
            (".*", true),
            ("^websocket$", true),
            ("web.*", true),
            ("(?i)WEBSOCKET", true),
            ("h2c|websocket", true),
            ("(web|ws)socket", true),
            ("[a-z]+", true),
            ("spdy/3\\.1", false),
            ("web", false),
            ("ws.*", false),
            ("(unclosed", false),
        ] {
            assert_eq!(matches("RegularExpression", re, "websocket"), want, "{re}");
        }
    }
}
