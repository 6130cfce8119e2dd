//! Findings: what a rule reports, pointing at the setting that decides.

use crate::catalogue::{Cause, RuleId, Severity};
use crate::yaml::Span;

/// Another place a finding concerns: an affected route or hostname, a conflicting policy.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Related {
    /// None when the place is not in the repo (a hostname built from a Secret, say).
    pub span: Option<Span>,
    pub message: String,
}

/// The Envoy Gateway version a finding assumed, and where that came from.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AssumedVersion {
    pub version: String,
    /// `detected` (read from the repo), `pinned` (repo config) or `unknown` (the newest known
    /// release was assumed).
    pub source: String,
    pub span: Option<Span>,
}

/// One finding: one rule at one deciding span.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub cause: Option<Cause>,
    /// The setting that decides (or, when the cause is a missing setting, what is there).
    pub location: Span,
    /// One line: what is wrong, here.
    pub message: String,
    pub related: Vec<Related>,
    pub version: AssumedVersion,
    /// The entry points (clusters) whose model has this finding.
    pub entry_points: Vec<String>,
    /// The reason of an ignore annotation, when the finding is ignored.
    pub ignored: Option<String>,
}

impl Finding {
    /// True when the finding counts (not ignored) at or above `threshold`.
    pub fn reaches(&self, threshold: Severity) -> bool {
        self.ignored.is_none() && self.severity >= threshold
    }
}
