//! Regular expressions in Kustomize patch targets and Envoy Gateway `StringMatch`es: both are
//! RE2 (Go's `regexp`, Envoy's RE2), matched against the whole value. The `regex` crate reads
//! the same syntax in linear time; a pattern it cannot read (or that is too large) matches
//! only itself.

use std::cell::RefCell;
use std::collections::HashMap;

/// Largest compiled program accepted for a pattern from the repository.
const SIZE_LIMIT: usize = 1 << 20;

/// Compiled patterns kept per thread: a repository repeats the same few patch targets and
/// string matches thousands of times, and compiling is what costs.
const CACHE_ENTRIES: usize = 512;

thread_local! {
    static COMPILED: RefCell<HashMap<String, Option<::regex::Regex>>> = RefCell::new(HashMap::new());
}

/// True when the whole of `text` matches `pattern`; `None` when the pattern is unreadable.
pub fn try_full_match(pattern: &str, text: &str) -> Option<bool> {
    if let Some(equal) = literal_match(pattern, text) {
        return Some(equal);
    }
    COMPILED.with_borrow_mut(|cache| {
        if !cache.contains_key(pattern) {
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            let re = ::regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .size_limit(SIZE_LIMIT)
                .build()
                .ok();
            cache.insert(pattern.to_owned(), re);
        }
        cache[pattern].as_ref().map(|re| re.is_match(text))
    })
}

/// Whether `text` is the text a pattern matches when the pattern is a plain string (names,
/// and names escaped by [`escape`]): compared without a regex, and without allocating (patch
/// targets are matched against every resource). `None` when the pattern is not plain.
fn literal_match(pattern: &str, text: &str) -> Option<bool> {
    let mut chars = pattern.chars();
    let mut rest = text.chars();
    let mut equal = true;
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => e,
                _ => return None,
            },
            '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                return None;
            }
            c => c,
        };
        // The whole pattern is read even after a difference: it may yet not be plain.
        equal = equal && rest.next() == Some(c);
    }
    Some(equal && rest.next().is_none())
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
        assert!(full_match("a#b-c~d&e", "a#b-c~d&e"));
        assert!(!full_match("a\\d", "a\\d"));
        assert!(full_match("a\\d", "a7"));
        assert_eq!(literal_match(&escape("x.y-z"), "x.y-z"), Some(true));
        assert_eq!(literal_match(&escape("x.y-z"), "x.y-"), Some(false));
        assert_eq!(literal_match(&escape("x.y-z"), "x.y-zz"), Some(false));
        assert_eq!(literal_match("x.y", "x.y"), None);
        assert_eq!(literal_match("ab(", "x"), None);
        // Linear time on a pattern that makes backtracking matchers explode.
        assert!(!full_match("(a*)*b", &"a".repeat(10_000)));
    }
}
