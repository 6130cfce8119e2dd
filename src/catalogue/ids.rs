//! The ids every part of the project shares: rule ids, fix kinds and severities.
//!
//! The strings are fixed by `reference/rules.md` ("Names used everywhere"): they appear in
//! `rules/`, the CLI, `/ws-fix` commands, the repo config, ignore annotations, branch names
//! and PR metadata. Never rename one.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// An id that is not one of the known ones, with the closest known id when one is close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`{}", suggestion_suffix(.suggestion.as_deref(), .known))]
pub struct UnknownId {
    /// What kind of id was expected ("rule id", "fix kind", "severity", ...).
    pub what: &'static str,
    /// The id as given.
    pub given: String,
    /// The closest known id, if one is close enough to be a likely typo.
    pub suggestion: Option<&'static str>,
    /// Every known id, in their canonical order.
    pub known: &'static [&'static str],
}

fn suggestion_suffix(suggestion: Option<&str>, known: &[&str]) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => format!(" (known: {})", known.join(", ")),
    }
}

/// The known id closest to `given`, if it is close enough to be a typo or a prefix of it.
pub fn closest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    let given_lc = given.to_ascii_lowercase();
    if let Some(exact_ci) = known.iter().find(|k| k.eq_ignore_ascii_case(&given_lc)) {
        return Some(exact_ci);
    }
    let prefixed: Vec<&&str> = known
        .iter()
        .filter(|k| !given_lc.is_empty() && k.starts_with(&given_lc))
        .collect();
    if let [only] = prefixed.as_slice() {
        return Some(only);
    }
    let limit = (given_lc.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (edit_distance(&given_lc, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Defines a closed set of kebab-case ids with `as_str`, `FromStr`, `Display` and serde.
macro_rules! id_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $s:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in canonical order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every id string, in canonical order.
            pub const NAMES: &'static [&'static str] = &[$($s),+];

            /// The id exactly as written in `rules.md`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownId;

            fn from_str(s: &str) -> Result<Self, UnknownId> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(UnknownId {
                        what: $what,
                        given: s.to_owned(),
                        suggestion: closest(s, Self::NAMES),
                        known: Self::NAMES,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(de::Error::custom)
            }
        }
    };
}

pub(crate) use id_enum;

id_enum! {
    /// A finding's rule (the first table of "Names used everywhere").
    RuleId, "rule id" {
        /// ALPN prefers h2 on an HTTPS listener that serves WebSocket routes.
        AlpnH2First => "alpn-h2-first",
        /// The WebSocket upgrade is switched off for a WebSocket route.
        UpgradeDisabled => "upgrade-disabled",
        /// A WebSocket route's backend can be reached over HTTP/2.
        UpstreamH2 => "upstream-h2",
        /// A `Backend` is referenced while the Backend API is off.
        BackendApiDisabled => "backend-api-disabled",
        /// A ws/wss app protocol that the deployed version ignores.
        WsProtocolIgnored => "ws-protocol-ignored",
        /// `wss` declared where nothing configures TLS to the backend.
        WssWithoutTls => "wss-without-tls",
        /// A limit that cuts long-lived WebSocket streams.
        StreamLimits => "stream-limits",
        /// Two policies claim the same target; which wins depends on creation time.
        PolicyConflict => "policy-conflict",
        /// A reference the repo cannot resolve.
        UnresolvedRef => "unresolved-ref",
    }
}

id_enum! {
    /// A kind of proposed fix; one pull request per kind (the second table of "Names used everywhere").
    FixKind, "fix kind" {
        /// Reorder or set the listener ALPN (like #2924).
        AlpnOrder => "alpn-order",
        /// Add `websocket` to a BackendTrafficPolicy `httpUpgrade` list (like #2922).
        HttpUpgrade => "http-upgrade",
        /// Set `appProtocol: kubernetes.io/ws` on the Service port.
        WsAppProtocol => "ws-app-protocol",
        /// Add a `Backend` with ws/wss app protocols and point the route at it (like #2923).
        Backend => "backend",
        /// Set `extensionApis.enableBackend: true`.
        EnableBackend => "enable-backend",
    }
}

impl FixKind {
    /// The branch the bot pushes this kind's pull request to: `ws-fix/<kind>`.
    pub fn branch(self) -> String {
        format!("ws-fix/{}", self.as_str())
    }

    /// Resolves a kind from a unique prefix, as `/ws-fix fix alpn` means `alpn-order`.
    /// An exact id always wins; an ambiguous or unknown prefix is an error.
    pub fn from_unique_prefix(s: &str) -> Result<FixKind, UnknownId> {
        if let Ok(kind) = s.parse() {
            return Ok(kind);
        }
        let matches: Vec<FixKind> = FixKind::ALL
            .iter()
            .copied()
            .filter(|k| !s.is_empty() && k.as_str().starts_with(s))
            .collect();
        match matches.as_slice() {
            [only] => Ok(*only),
            _ => Err(UnknownId {
                what: "fix kind",
                given: s.to_owned(),
                suggestion: closest(s, FixKind::NAMES),
                known: FixKind::NAMES,
            }),
        }
    }
}

id_enum! {
    /// How serious a finding is. Ordered: `Notice < Warning < Error`.
    Severity, "severity" {
        /// Worth knowing; nothing is broken for certain.
        Notice => "notice",
        /// Likely broken for some clients or versions.
        Warning => "warning",
        /// Broken.
        Error => "error",
    }
}

impl Severity {
    /// The SARIF `level` for this severity.
    pub const fn sarif_level(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "note",
        }
    }

    /// The GitHub check-run annotation level for this severity.
    pub const fn annotation_level(self) -> &'static str {
        match self {
            Severity::Error => "failure",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for r in RuleId::ALL {
            assert_eq!(r.as_str().parse::<RuleId>(), Ok(*r));
        }
        for k in FixKind::ALL {
            assert_eq!(k.as_str().parse::<FixKind>(), Ok(*k));
        }
    }

    #[test]
    fn suggestions() {
        let err = "alpn".parse::<RuleId>().unwrap_err();
        assert_eq!(err.suggestion, Some("alpn-h2-first"));
        let err = "upgrade-disbled".parse::<RuleId>().unwrap_err();
        assert_eq!(err.suggestion, Some("upgrade-disabled"));
        assert_eq!(closest("zzzzzzzz", RuleId::NAMES), None);
    }

    #[test]
    fn unique_prefix() {
        assert_eq!(FixKind::from_unique_prefix("alpn"), Ok(FixKind::AlpnOrder));
        assert_eq!(FixKind::from_unique_prefix("backend"), Ok(FixKind::Backend));
        assert_eq!(
            FixKind::from_unique_prefix("en"),
            Ok(FixKind::EnableBackend)
        );
        assert!(FixKind::from_unique_prefix("").is_err());
    }

    #[test]
    fn severity_order() {
        assert!(Severity::Notice < Severity::Warning && Severity::Warning < Severity::Error);
    }
}
