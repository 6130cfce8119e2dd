//! `rules/rules.yaml`: the rules (title, severities, explanation, docs) and the fix kinds.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::ids::{FixKind, RuleId, Severity};
use super::located::{Pos, Problem};

/// Why a rule fired, where the cause changes the severity (see `rules.md`, "Findings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// `upstream-h2`: Service `appProtocol: kubernetes.io/h2c` or a Backend with `h2c`.
    H2c,
    /// `upstream-h2`: a TLS backend on 1.6+, where upstream ALPN may negotiate h2.
    TlsAlpnAuto,
    /// `backend-api-disabled`: the Envoy Gateway install is not in the repo, so the flag is unknown.
    InstallNotInRepo,
}

impl Cause {
    /// Every cause, in canonical order.
    pub const ALL: &'static [Cause] = &[Cause::H2c, Cause::TlsAlpnAuto, Cause::InstallNotInRepo];

    /// The id used in `rules/rules.yaml`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Cause::H2c => "h2c",
            Cause::TlsAlpnAuto => "tls-alpn-auto",
            Cause::InstallNotInRepo => "install-not-in-repo",
        }
    }

    /// The rule this cause belongs to.
    pub const fn rule(self) -> RuleId {
        match self {
            Cause::H2c | Cause::TlsAlpnAuto => RuleId::UpstreamH2,
            Cause::InstallNotInRepo => RuleId::BackendApiDisabled,
        }
    }

    fn parse(s: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// A severity that applies when a rule fires for one particular cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseSeverity {
    /// The cause.
    pub cause: Cause,
    /// Its severity.
    pub severity: Severity,
    /// When this cause applies, in one sentence.
    pub when: String,
}

/// One rule of `rules/rules.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule id.
    pub id: RuleId,
    /// One line, used as the finding's headline.
    pub title: String,
    /// The severity when no cause-specific one applies.
    pub severity: Severity,
    /// Cause-specific severities.
    pub causes: Vec<CauseSeverity>,
    /// Why it matters, one paragraph.
    pub explanation: String,
    /// Links to the Envoy Gateway docs.
    pub docs: Vec<String>,
    /// The fix kinds that address this rule (may be empty).
    pub fixes: Vec<FixKind>,
}

impl Rule {
    /// The severity for a finding with this cause (the default one when the cause has none).
    pub fn severity_for(&self, cause: Option<Cause>) -> Severity {
        cause
            .and_then(|c| self.causes.iter().find(|cs| cs.cause == c))
            .map_or(self.severity, |cs| cs.severity)
    }
}

/// One fix kind of `rules/rules.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixKindInfo {
    /// The fix kind.
    pub id: FixKind,
    /// The branch of its pull request (`ws-fix/<kind>`).
    pub branch: String,
    /// One line.
    pub title: String,
    /// What the pull request changes and what it costs, one paragraph.
    pub description: String,
    /// The rules it fixes.
    pub fixes: Vec<RuleId>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RulesFile {
    rules: Spanned<Vec<RawRule>>,
    fix_kinds: Spanned<Vec<RawFixKind>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    id: Spanned<RuleId>,
    title: Spanned<String>,
    severity: Severity,
    #[serde(default)]
    causes: Vec<RawCause>,
    explanation: Spanned<String>,
    docs: Spanned<Vec<Spanned<String>>>,
    fixes: Vec<Spanned<FixKind>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCause {
    id: Spanned<String>,
    severity: Severity,
    when: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFixKind {
    id: Spanned<FixKind>,
    branch: Spanned<String>,
    title: Spanned<String>,
    description: Spanned<String>,
    fixes: Vec<Spanned<RuleId>>,
}

fn non_empty(s: &Spanned<String>, what: &str) -> Result<String, Problem> {
    let t = s.value.trim();
    if t.is_empty() {
        return Err(Problem::at(s, format!("{what} must not be empty")));
    }
    Ok(t.to_owned())
}

impl RulesFile {
    /// Checks the file and returns the rules in `RuleId::ALL` order and the fix kinds in
    /// `FixKind::ALL` order.
    pub(crate) fn validate(self) -> Result<(Vec<Rule>, Vec<FixKindInfo>), Problem> {
        let mut rules: BTreeMap<RuleId, Rule> = BTreeMap::new();
        // Where each rule lists each fix kind, to point at a one-sided link.
        let mut rule_links: Vec<(RuleId, Spanned<FixKind>)> = Vec::new();
        let rules_pos = Pos::of_spanned(&self.rules);
        for raw in self.rules.value {
            let id = raw.id.value;
            if rules.contains_key(&id) {
                return Err(Problem::at(&raw.id, format!("duplicate rule `{id}`")));
            }
            let mut causes: Vec<CauseSeverity> = Vec::new();
            for c in raw.causes {
                let cause = Cause::parse(&c.id.value).ok_or_else(|| {
                    let known: Vec<&str> = Cause::ALL
                        .iter()
                        .filter(|k| k.rule() == id)
                        .map(|k| k.as_str())
                        .collect();
                    Problem::at(
                        &c.id,
                        format!(
                            "unknown cause `{}` (causes of `{id}`: {})",
                            c.id.value,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                })?;
                if cause.rule() != id {
                    return Err(Problem::at(
                        &c.id,
                        format!(
                            "cause `{}` belongs to rule `{}`, not `{id}`",
                            cause.as_str(),
                            cause.rule()
                        ),
                    ));
                }
                if causes.iter().any(|cs| cs.cause == cause) {
                    return Err(Problem::at(
                        &c.id,
                        format!("duplicate cause `{}`", cause.as_str()),
                    ));
                }
                causes.push(CauseSeverity {
                    cause,
                    severity: c.severity,
                    when: non_empty(&c.when, "`when`")?,
                });
            }
            if raw.docs.value.is_empty() {
                return Err(Problem::at(
                    &raw.docs,
                    "a rule needs at least one docs link",
                ));
            }
            let mut docs = Vec::new();
            for d in &raw.docs.value {
                if !d.value.starts_with("https://") || d.value.contains(char::is_whitespace) {
                    return Err(Problem::at(
                        d,
                        format!("`{}` is not an https:// link", d.value),
                    ));
                }
                docs.push(d.value.clone());
            }
            let mut fixes = Vec::new();
            for f in raw.fixes {
                if fixes.contains(&f.value) {
                    return Err(Problem::at(
                        &f,
                        format!("fix kind `{}` listed twice", f.value),
                    ));
                }
                fixes.push(f.value);
                rule_links.push((id, f));
            }
            let rule = Rule {
                id,
                title: non_empty(&raw.title, "`title`")?,
                severity: raw.severity,
                causes,
                explanation: non_empty(&raw.explanation, "`explanation`")?,
                docs,
                fixes,
            };
            rules.insert(id, rule);
        }
        if let Some(missing) = RuleId::ALL.iter().find(|r| !rules.contains_key(r)) {
            return Err(Problem::at_pos(
                rules_pos,
                format!("missing rule `{missing}`"),
            ));
        }

        let mut kinds: BTreeMap<FixKind, FixKindInfo> = BTreeMap::new();
        let mut kind_links: Vec<(FixKind, Spanned<RuleId>)> = Vec::new();
        let kinds_pos = Pos::of_spanned(&self.fix_kinds);
        for raw in self.fix_kinds.value {
            let id = raw.id.value;
            if kinds.contains_key(&id) {
                return Err(Problem::at(&raw.id, format!("duplicate fix kind `{id}`")));
            }
            if raw.branch.value != id.branch() {
                return Err(Problem::at(
                    &raw.branch,
                    format!("the branch of `{id}` must be `{}`", id.branch()),
                ));
            }
            let mut fixes = Vec::new();
            for r in raw.fixes {
                if fixes.contains(&r.value) {
                    return Err(Problem::at(&r, format!("rule `{}` listed twice", r.value)));
                }
                fixes.push(r.value);
                kind_links.push((id, r));
            }
            if fixes.is_empty() {
                return Err(Problem::at(
                    &raw.id,
                    format!("fix kind `{id}` fixes no rule"),
                ));
            }
            kinds.insert(
                id,
                FixKindInfo {
                    id,
                    branch: raw.branch.value,
                    title: non_empty(&raw.title, "`title`")?,
                    description: non_empty(&raw.description, "`description`")?,
                    fixes,
                },
            );
        }
        if let Some(missing) = FixKind::ALL.iter().find(|k| !kinds.contains_key(k)) {
            return Err(Problem::at_pos(
                kinds_pos,
                format!("missing fix kind `{missing}`"),
            ));
        }

        // The two directions of "rule R is fixed by kind K" must agree.
        for (rule, kind) in &rule_links {
            if !kinds[&kind.value].fixes.contains(rule) {
                return Err(Problem::at(
                    kind,
                    format!(
                        "rule `{rule}` lists fix kind `{}`, but that fix kind does not list `{rule}` in its `fixes`",
                        kind.value
                    ),
                ));
            }
        }
        for (kind, rule) in &kind_links {
            if !rules[&rule.value].fixes.contains(kind) {
                return Err(Problem::at(
                    rule,
                    format!(
                        "fix kind `{kind}` lists rule `{}`, but that rule does not list `{kind}` in its `fixes`",
                        rule.value
                    ),
                ));
            }
        }

        let rules = rules.into_values().collect();
        let kinds = kinds.into_values().collect();
        Ok((rules, kinds))
    }
}
