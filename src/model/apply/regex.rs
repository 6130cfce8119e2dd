//! Regular expressions in Kustomize patch targets and Envoy Gateway `StringMatch`es: both are
//! RE2 (Go's `regexp`, Envoy's RE2), matched against the whole value. The `regex` crate reads
//! the same syntax in linear time; a pattern it cannot read (or that is too large) matches
//! only itself.

/// Largest compiled program accepted for a pattern from the repository.
const SIZE_LIMIT: usize = 1 << 20;

/// True when the whole of `text` matches `pattern`; `None` when the pattern is unreadable.
pub fn try_full_match(pattern: &str, text: &str) -> Option<bool> {
    let re = ::regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(SIZE_LIMIT)
        .build()
        .ok()?;
    Some(re.is_match(text))
}

/// True when the whole of `text` matches `pattern` (an unreadable pattern matches only its
/// own text).
pub fn full_match(pattern: &str, text: &str) -> bool {
    try_full_match(pattern, text).unwrap_or(pattern == text)
}

/// `text` escaped so that it matches only itself.
pub fn escape(text: &str) -> String {
    ::regex::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_matches() {
        assert!(full_match("home-assistant", "home-assistant"));
        assert!(!full_match("home", "home-assistant"));
        assert!(full_match(".*", "anything"));
        assert!(full_match("app-.*", "app-x"));
        assert!(full_match("(a|b)-[0-9]+", "b-42"));
        assert!(!full_match("(a|b)-[0-9]+", "c-42"));
        assert!(full_match("^envoy-(internal|external)$", "envoy-internal"));
        assert!(full_match("x{2,3}", "xxx"));
        assert!(!full_match("x{2,3}", "xxxx"));
        assert!(full_match(&escape("a.b"), "a.b"));
        assert!(!full_match(&escape("a.b"), "axb"));
        assert!(full_match("(?i)X", "x"));
        // Unreadable: only itself.
        assert!(full_match("(unclosed", "(unclosed"));
        // Linear time on a pattern that makes backtracking matchers explode.
        assert!(!full_match("(a*)*b", &"a".repeat(10_000)));
    }
}
