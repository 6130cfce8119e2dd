//! Envoy Gateway `StringMatch` (Exact, Prefix, Suffix, RegularExpression) against a short
//! token such as `websocket`. Regular expressions are RE2, matched by the `regex` crate;
//! anything it cannot read does not match.

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

/// Envoy's regex matches the whole value (RE2 full match). `None` when unreadable.
fn regex_full_match(pattern: &str, input: &str) -> Option<bool> {
    crate::model::apply::regex::try_full_match(pattern, input)
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
