//! Gateway API hostname matching: which hostnames a route serves on a listener, and whether
//! two hostnames overlap.

/// A `*.` prefix means any number of labels (`*.example.com` matches `a.b.example.com`, not
/// `example.com`).
fn wildcard_suffix(h: &str) -> Option<&str> {
    h.strip_prefix('*').filter(|s| s.starts_with('.'))
}

fn norm(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// True when the wildcard `pattern` (`*.example.com`) covers the exact or wildcard `host`.
fn covers(pattern: &str, host: &str) -> bool {
    match wildcard_suffix(pattern) {
        Some(suffix) => {
            let host = wildcard_suffix(host).map_or(host, |s| &s[1..]);
            host.len() > suffix.len() && host.ends_with(suffix)
        }
        None => pattern == host,
    }
}

/// The hostnames a route serves on a listener: each route hostname that the listener accepts,
/// narrowed to the more specific of the two; the listener's hostname (or `*`) when the route
/// has none. Empty when they do not intersect (the route does not attach).
pub(crate) fn intersect(listener: Option<&str>, route: &[String]) -> Vec<String> {
    let listener = listener.map(norm).filter(|h| !h.is_empty() && h != "*");
    if route.is_empty() {
        return vec![listener.unwrap_or_else(|| "*".to_owned())];
    }
    let mut out: Vec<String> = Vec::new();
    for r in route.iter().map(|r| norm(r)) {
        let pick = match &listener {
            None => Some(r),
            Some(l) if *l == r => Some(r),
            Some(l) if covers(l, &r) => Some(r),
            Some(l) if covers(&r, l) => Some(l.clone()),
            Some(_) => None,
        };
        if let Some(p) = pick
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

/// True when two hostnames can name the same host (`None` = any host).
pub(crate) fn overlap(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.map(norm), b.map(norm)) {
        (Some(a), Some(b)) => a == b || covers(&a, &b) || covers(&b, &a),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn intersections() {
        assert_eq!(intersect(None, &[]), v(&["*"]));
        assert_eq!(intersect(Some("a.example.com"), &[]), v(&["a.example.com"]));
        assert_eq!(
            intersect(Some("*.example.com"), &v(&["a.example.com", "b.other.org"])),
            v(&["a.example.com"])
        );
        assert_eq!(
            intersect(Some("a.example.com"), &v(&["*.example.com"])),
            v(&["a.example.com"])
        );
        assert_eq!(
            intersect(Some("*.example.com"), &v(&["*.a.example.com"])),
            v(&["*.a.example.com"])
        );
        assert!(intersect(Some("foo.example.com"), &v(&["bar.example.com"])).is_empty());
        assert!(intersect(Some("*.example.com"), &v(&["example.com"])).is_empty());
        assert_eq!(
            intersect(None, &v(&["A.Example.com."])),
            v(&["a.example.com"])
        );
    }

    #[test]
    fn overlaps() {
        assert!(overlap(None, Some("a.b")));
        assert!(overlap(Some("*.example.com"), Some("x.y.example.com")));
        assert!(!overlap(
            Some("*.wildcard.example.com"),
            Some("foo.example.com")
        ));
        assert!(!overlap(Some("foo.example.com"), Some("bar.example.com")));
    }
}
