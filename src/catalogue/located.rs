//! Positions and messages for errors in the hand-written YAML files (`rules/`, the repo config).
//!
//! serde-saphyr reports 1-based lines and columns (Unicode code points); a position it does not
//! know is reported as 1:1 so that every message still reads `file:line:column: message`.

use serde_saphyr::{Location, MessageFormatter, Spanned};

use super::ids::closest;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub(crate) fn of(location: &Location) -> Pos {
        Pos {
            line: location.line().max(1),
            column: location.column().max(1),
        }
    }

    pub(crate) fn of_spanned<T>(spanned: &Spanned<T>) -> Pos {
        Pos::of(&spanned.referenced)
    }
}

/// A semantic problem found after deserialising: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub pos: Pos,
    pub message: String,
}

impl Problem {
    pub(crate) fn at<T>(spanned: &Spanned<T>, message: impl Into<String>) -> Problem {
        Problem::at_pos(Pos::of_spanned(spanned), message)
    }

    pub(crate) fn at_pos(pos: Pos, message: impl Into<String>) -> Problem {
        Problem {
            pos,
            message: message.into(),
        }
    }
}

/// Where a deserialisation error is, and a message without the position or a source snippet.
pub(crate) fn describe(err: &serde_saphyr::Error) -> Problem {
    let pos = err
        .location()
        .map(|l| Pos::of(&l))
        .unwrap_or(Pos { line: 1, column: 1 });
    let raw = serde_saphyr::DefaultMessageFormatter.format_message(err.without_snippet());
    Problem {
        pos,
        message: polish(&raw),
    }
}

/// Rewords the deserialiser's terse messages and adds a "did you mean" to unknown keys and values.
fn polish(raw: &str) -> String {
    let plain = match raw {
        "expected sequence start" => Some("expected a list"),
        "expected mapping start" => Some("expected a mapping"),
        "expected string scalar" => Some("expected a single value, not a list or mapping"),
        "invalid u8" => Some("expected a whole number from 0 to 255"),
        "invalid u16" => Some("expected a whole number from 0 to 65535"),
        "invalid u32" => Some("expected a whole number from 0 to 4294967295"),
        "invalid u64" => Some("expected a non-negative whole number"),
        "unexpected end of input" => Some("the file is empty; expected a mapping"),
        _ => None,
    };
    if let Some(p) = plain {
        return p.to_owned();
    }
    if raw.starts_with("multiple YAML documents detected") {
        return "expected one YAML document, found another after `---`".to_owned();
    }
    if let Some(rest) = raw.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("duplicate key `{key}`");
    }
    for prefix in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = raw.strip_prefix(prefix)
            && let Some(suggestion) = suggest_from_expected(rest)
        {
            return format!("{raw} (did you mean `{suggestion}`?)");
        }
    }
    raw.to_owned()
}

/// For "`given`, expected one of a, b, c" (serde's wording), the closest of a, b, c to `given`.
fn suggest_from_expected(rest: &str) -> Option<String> {
    let (given, tail) = rest.split_once('`')?;
    let list = tail
        .strip_prefix(", expected one of ")
        .or_else(|| tail.strip_prefix(", expected "))?;
    let candidates: Vec<&str> = list
        .split(", ")
        .map(|c| c.trim_matches('`'))
        .filter(|c| !c.is_empty())
        .collect();
    closest(given, &candidates)
        .filter(|c| *c != given)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_for_unknown_fields() {
        let msg = polish("unknown field `fail_on`, expected one of version, fail-on, rules");
        assert!(msg.ends_with("(did you mean `fail-on`?)"), "{msg}");
        let msg = polish("unknown field `zzzzzz`, expected one of version, rules");
        assert!(!msg.contains("did you mean"), "{msg}");
    }
}
