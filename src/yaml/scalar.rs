//! Scalars and how Flux reads them.
//!
//! Flux's kustomize reads manifests with go-yaml v3: the YAML 1.2 core schema, so `yes`, `no`,
//! `on` and `off` are strings, while `true`/`True`/`TRUE`, `null`/`~`/empty, integers in
//! decimal, `0x`, `0o`, `0b` (and old-style leading-zero octal) and floats are typed. Quoted
//! scalars are always strings. A core-schema tag (`!!str`, `!!int`, ...) forces its type; a
//! custom tag (`!env_var`) leaves the scalar a string.

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl ScalarStyle {
    pub(crate) fn from_parser(style: granit_parser::ScalarStyle) -> Self {
        match style {
            granit_parser::ScalarStyle::Plain => ScalarStyle::Plain,
            granit_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            granit_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            granit_parser::ScalarStyle::Literal => ScalarStyle::Literal,
            granit_parser::ScalarStyle::Folded => ScalarStyle::Folded,
        }
    }

    pub fn is_quoted(self) -> bool {
        matches!(self, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
    }
}

/// A scalar's value after escapes, with its style and explicit tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// Inline up to 24 bytes (most keys and values): no allocation of its own.
    pub value: compact_str::CompactString,
    pub style: ScalarStyle,
}

/// The typed value of a scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    /// The typed value as Flux (go-yaml v3) reads it; `tag` is the node's explicit tag.
    pub fn resolve(&self, tag: Option<&str>) -> Resolved<'_> {
        resolve(&self.value, self.style, tag)
    }
}

/// The typed value of a scalar's text `v` written in `style` with explicit tag `tag`, as Flux
/// (go-yaml v3) reads it.
pub(crate) fn resolve<'a>(v: &'a str, style: ScalarStyle, tag: Option<&str>) -> Resolved<'a> {
    match tag.and_then(core_suffix) {
        Some("str") => return Resolved::Str(v),
        Some("null") => return Resolved::Null,
        Some("bool") => return bool_of(v).map_or(Resolved::Str(v), Resolved::Bool),
        Some("int") => return int_of(v).map_or(Resolved::Str(v), Resolved::Int),
        Some("float") => {
            return float_of(v)
                .or_else(|| int_of(v).map(|i| i as f64))
                .map_or(Resolved::Str(v), Resolved::Float);
        }
        _ => {}
    }
    if tag.is_some() || style != ScalarStyle::Plain {
        return Resolved::Str(v);
    }
    // Only these first bytes can begin a null, a bool or a number: any other plain scalar
    // (most keys and values) is a string without trying the readers below.
    if !matches!(
        v.as_bytes().first(),
        None | Some(b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'~' | b'.' | b'-' | b'+')
            | Some(b'0'..=b'9')
    ) {
        return Resolved::Str(v);
    }
    if matches!(v, "" | "~" | "null" | "Null" | "NULL") {
        return Resolved::Null;
    }
    if let Some(b) = bool_of(v) {
        return Resolved::Bool(b);
    }
    if let Some(i) = int_of(v) {
        return Resolved::Int(i);
    }
    if let Some(f) = float_of(v) {
        return Resolved::Float(f);
    }
    Resolved::Str(v)
}

fn core_suffix(tag: &str) -> Option<&str> {
    tag.strip_prefix("tag:yaml.org,2002:")
}

fn bool_of(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Integers as Go's `strconv.ParseInt(s, 0, 64)` reads them (go-yaml v3's resolver).
fn int_of(v: &str) -> Option<i64> {
    let (neg, digits) = match v.as_bytes().first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body, prefixed) = if let Some(r) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, r, true)
    } else if let Some(r) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, r, true)
    } else if let Some(r) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, r, true)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..], true)
    } else {
        (10, digits, false)
    };
    // Go allows underscores only with a base prefix, between digits.
    let cleaned: std::borrow::Cow<'_, str> = if prefixed && body.contains('_') {
        if body.starts_with('_') || body.ends_with('_') || body.contains("__") {
            return None;
        }
        body.replace('_', "").into()
    } else {
        body.into()
    };
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&cleaned, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// Floats matching go-yaml v3's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` and
/// the `.inf` / `.nan` spellings.
fn float_of(v: &str) -> Option<f64> {
    match v {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let b = v.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - s;
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let _ = frac_digits;
    v.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(v: &str) -> Scalar {
        Scalar {
            value: v.into(),
            style: ScalarStyle::Plain,
        }
    }

    #[test]
    fn flux_reads_yaml_1_2_core() {
        assert_eq!(plain("yes").resolve(None), Resolved::Str("yes"));
        assert_eq!(plain("off").resolve(None), Resolved::Str("off"));
        assert_eq!(plain("True").resolve(None), Resolved::Bool(true));
        assert_eq!(plain("~").resolve(None), Resolved::Null);
        assert_eq!(plain("").resolve(None), Resolved::Null);
        assert_eq!(plain("8123").resolve(None), Resolved::Int(8123));
        assert_eq!(plain("0x1F").resolve(None), Resolved::Int(31));
        assert_eq!(plain("0o17").resolve(None), Resolved::Int(15));
        assert_eq!(plain("017").resolve(None), Resolved::Int(15));
        assert_eq!(plain("-12").resolve(None), Resolved::Int(-12));
        assert_eq!(plain("1.2").resolve(None), Resolved::Float(1.2));
        assert_eq!(plain("1e3").resolve(None), Resolved::Float(1000.0));
        assert_eq!(plain("1.2.3").resolve(None), Resolved::Str("1.2.3"));
        assert_eq!(plain("0s").resolve(None), Resolved::Str("0s"));
        assert_eq!(plain("http/1.1").resolve(None), Resolved::Str("http/1.1"));
        // go-yaml v3: not an octal int, but it matches the float pattern.
        assert_eq!(plain("089").resolve(None), Resolved::Float(89.0));
        assert_eq!(plain("1_000").resolve(None), Resolved::Str("1_000"));
    }

    #[test]
    fn first_byte_shortcut_agrees_with_the_readers() {
        for v in [
            "apps/v1",
            "HelmRelease",
            "Yes",
            "~",
            "",
            "null",
            "NULL",
            "nil",
            "True",
            "FALSE",
            "0x1F",
            "-12",
            "+7",
            ".5",
            "-.inf",
            ".NaN",
            "1e3",
            "_1",
            "é",
            "1.2.3",
            "tru",
        ] {
            let slow = match v {
                "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
                _ => bool_of(v).map(Resolved::Bool).unwrap_or_else(|| {
                    int_of(v)
                        .map(Resolved::Int)
                        .unwrap_or_else(|| float_of(v).map_or(Resolved::Str(v), Resolved::Float))
                }),
            };
            match (plain(v).resolve(None), slow) {
                (Resolved::Float(a), Resolved::Float(b)) if a.is_nan() => assert!(b.is_nan()),
                (fast, slow) => assert_eq!(fast, slow, "{v:?}"),
            }
        }
    }

    #[test]
    fn quotes_and_tags() {
        let quoted = Scalar {
            value: "true".into(),
            style: ScalarStyle::DoubleQuoted,
        };
        assert_eq!(quoted.resolve(None), Resolved::Str("true"));
        assert_eq!(
            plain("12").resolve(Some("tag:yaml.org,2002:str")),
            Resolved::Str("12")
        );
        assert_eq!(plain("FOO").resolve(Some("!env_var")), Resolved::Str("FOO"));
    }
}
