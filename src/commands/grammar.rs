//! The words after `/ws-fix` on one command line: a [`Command`] or a [`ParseError`] that says
//! what was wrong and what was probably meant. The grammar is in the module docs of
//! [`crate::commands`]; the subcommands are the table [`SUBCOMMANDS`], which the help text
//! is generated from too.

use std::fmt;

use crate::catalogue::{FixKind, closest_id};

/// The word that starts every command line.
pub const TRIGGER: &str = "/ws-fix";

/// One `/ws-fix` command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// `/ws-fix`: scan and open or refresh the pull requests.
    Run,
    /// `/ws-fix scan`: reply with the findings only.
    Scan,
    /// `/ws-fix explain`: reply with what Envoy Gateway makes of the repository.
    Explain,
    /// `/ws-fix fix [<kind>...]`: open or refresh the pull requests of these kinds. The kinds
    /// are in catalogue order without duplicates; **empty means every kind** (`/ws-fix fix`).
    Fix(Vec<FixKind>),
    /// `/ws-fix recreate <kind>`: rebuild the kind's pull request, overwriting others' pushes.
    Recreate(FixKind),
    /// `/ws-fix ignore <kind>`: close the kind's open pull request and stop proposing it.
    Ignore(FixKind),
    /// `/ws-fix unignore <kind>`: let the next scan propose the kind again.
    Unignore(FixKind),
    /// `/ws-fix help`: reply with the list of commands.
    Help,
}

impl fmt::Display for Command {
    /// The canonical text: full kind ids, in catalogue order (`/ws-fix fix alpn-order`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TRIGGER)?;
        let (word, kinds): (&str, &[FixKind]) = match self {
            Command::Run => return Ok(()),
            Command::Scan => ("scan", &[]),
            Command::Explain => ("explain", &[]),
            Command::Fix(kinds) => ("fix", kinds),
            Command::Recreate(kind) => ("recreate", std::slice::from_ref(kind)),
            Command::Ignore(kind) => ("ignore", std::slice::from_ref(kind)),
            Command::Unignore(kind) => ("unignore", std::slice::from_ref(kind)),
            Command::Help => ("help", &[]),
        };
        write!(f, " {word}")?;
        for kind in kinds {
            write!(f, " {kind}")?;
        }
        Ok(())
    }
}

/// What a subcommand takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Args {
    /// Nothing.
    None,
    /// Any number of fix kinds (none = all).
    Kinds,
    /// Exactly one fix kind.
    OneKind,
}

/// One row of the grammar: how a subcommand is written and what it does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subcommand {
    /// The word after `/ws-fix`; empty for the bare `/ws-fix`.
    pub name: &'static str,
    pub args: Args,
    /// How to write it, for the help text.
    pub usage: &'static str,
    /// What it does, one sentence, for the help text.
    pub summary: &'static str,
}

/// Every command, in the order the help text lists them.
pub(crate) const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "",
        args: Args::None,
        usage: "/ws-fix",
        summary: "Scan the repository and open or refresh the pull requests.",
    },
    Subcommand {
        name: "scan",
        args: Args::None,
        usage: "/ws-fix scan",
        summary: "Reply with the findings only; change nothing.",
    },
    Subcommand {
        name: "explain",
        args: Args::None,
        usage: "/ws-fix explain",
        summary: "Reply with what Envoy Gateway makes of the repository: listeners, ALPN, \
                  routes, and the settings that decide them.",
    },
    Subcommand {
        name: "fix",
        args: Args::Kinds,
        usage: "/ws-fix fix [<kind>...]",
        summary: "Open or refresh the pull requests of these fix kinds only (every kind when \
                  none is given).",
    },
    Subcommand {
        name: "recreate",
        args: Args::OneKind,
        usage: "/ws-fix recreate <kind>",
        summary: "Rebuild the pull request of this kind from scratch, overwriting commits \
                  others pushed to its branch.",
    },
    Subcommand {
        name: "ignore",
        args: Args::OneKind,
        usage: "/ws-fix ignore <kind>",
        summary: "Close the open pull request of this kind and stop proposing it.",
    },
    Subcommand {
        name: "unignore",
        args: Args::OneKind,
        usage: "/ws-fix unignore <kind>",
        summary: "Propose this kind again: its pull requests closed without merging no longer \
                  count as a refusal.",
    },
    Subcommand {
        name: "help",
        args: Args::None,
        usage: "/ws-fix help",
        summary: "Show this list.",
    },
];

/// Why a command line is not a command, with the command that was probably meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// The whole corrected command line (`/ws-fix scan`), when one is a likely fix.
    pub suggestion: Option<String>,
}

/// What is wrong with a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The word after `/ws-fix` is not a subcommand.
    UnknownSubcommand {
        /// The word as written.
        given: String,
    },
    /// An argument is neither a fix kind nor a unique prefix of one.
    UnknownFixKind {
        /// The argument as written.
        given: String,
    },
    /// An argument is a prefix of several fix kinds.
    AmbiguousFixKind {
        /// The argument as written.
        given: String,
        /// The kinds it is a prefix of, in catalogue order.
        candidates: Vec<FixKind>,
    },
    /// A subcommand that needs one fix kind got none.
    MissingFixKind {
        /// The subcommand (`recreate`, `ignore`, `unignore`).
        subcommand: &'static str,
    },
    /// A subcommand that takes one fix kind got several.
    TooManyFixKinds {
        /// The subcommand (`recreate`, `ignore`, `unignore`).
        subcommand: &'static str,
        /// The arguments as written.
        given: Vec<String>,
    },
    /// A subcommand that takes no arguments got some.
    UnexpectedArgument {
        /// The subcommand (`scan`, `explain`, `help`).
        subcommand: &'static str,
        /// The first argument as written.
        given: String,
    },
    /// The command line is longer than [`crate::commands::MAX_LINE_CHARS`].
    LineTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// The comment has more command lines than [`crate::commands::MAX_COMMANDS`]: this one
    /// and the rest do not run.
    TooManyCommands {
        /// How many command lines did not run (this one included).
        not_run: usize,
    },
    /// The comment is longer than [`crate::commands::MAX_COMMENT_CHARS`]: the lines after the
    /// cut were not read.
    CommentTooLong {
        /// The last line that was read.
        last_line: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::UnknownSubcommand { given } => {
                write!(f, "`{TRIGGER}` has no command {}", code(given))?;
            }
            ParseErrorKind::UnknownFixKind { given } => {
                write!(f, "unknown fix kind {}", code(given))?;
            }
            ParseErrorKind::AmbiguousFixKind { given, candidates } => {
                write!(
                    f,
                    "{} could be any of {}",
                    code(given),
                    code_list(candidates)
                )?;
            }
            ParseErrorKind::MissingFixKind { subcommand } => {
                write!(f, "`{TRIGGER} {subcommand}` needs a fix kind")?;
            }
            ParseErrorKind::TooManyFixKinds { subcommand, given } => write!(
                f,
                "`{TRIGGER} {subcommand}` takes one fix kind, not {} ({})",
                given.len(),
                code_list(given)
            )?,
            ParseErrorKind::UnexpectedArgument { subcommand, given } => {
                write!(
                    f,
                    "`{TRIGGER} {subcommand}` takes no arguments (got {})",
                    code(given)
                )?;
            }
            ParseErrorKind::LineTooLong { chars } => write!(
                f,
                "a command line has at most {} characters, this one {chars}",
                super::MAX_LINE_CHARS
            )?,
            ParseErrorKind::TooManyCommands { not_run } => write!(
                f,
                "one comment runs at most {} commands: this one and the rest ({not_run} in all) did not run; write them in another comment",
                super::MAX_COMMANDS
            )?,
            ParseErrorKind::CommentTooLong { last_line } => write!(
                f,
                "the comment is longer than {} characters: the commands after line {last_line} were not read",
                super::MAX_COMMENT_CHARS
            )?,
        }
        if let Some(suggestion) = &self.suggestion {
            write!(f, "; did you mean {}?", code(suggestion))
        } else if self.is_about_kinds() {
            write!(f, "; the fix kinds are {}", code_list(FixKind::ALL))
        } else if matches!(self.kind, ParseErrorKind::UnknownSubcommand { .. }) {
            let names: Vec<&str> = SUBCOMMANDS
                .iter()
                .map(|s| s.name)
                .filter(|n| !n.is_empty())
                .collect();
            write!(f, "; the commands are {}", code_list(&names))
        } else {
            Ok(())
        }
    }
}

impl ParseError {
    /// An error with no suggestion.
    pub(crate) fn new(kind: ParseErrorKind) -> ParseError {
        ParseError {
            kind,
            suggestion: None,
        }
    }

    /// The reply to post: what was wrong, what was probably meant, and where the list is.
    pub fn markdown(&self) -> String {
        let mut text = self.to_string();
        if let Some(first) = text.get(..1) {
            let upper = first.to_uppercase();
            text.replace_range(..1, &upper);
        }
        if !text.ends_with('?') {
            text.push('.');
        }
        format!("{text}\n\nWrite `{TRIGGER} help` for the list of commands.\n")
    }

    fn is_about_kinds(&self) -> bool {
        matches!(
            self.kind,
            ParseErrorKind::UnknownFixKind { .. }
                | ParseErrorKind::AmbiguousFixKind { .. }
                | ParseErrorKind::MissingFixKind { .. }
                | ParseErrorKind::TooManyFixKinds { .. }
        )
    }
}

fn code_list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| code(&i.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The longest user text quoted in a message, in characters.
const MAX_QUOTED: usize = 60;

/// `text` as an inline code span that stays one: fenced with more backticks than it holds, so
/// that nothing a user wrote (an `@mention`, a link) escapes it in the reply, and shortened.
fn code(text: &str) -> String {
    let mut chars = text.chars();
    let mut text: String = chars.by_ref().take(MAX_QUOTED).collect();
    if chars.next().is_some() {
        text.push('…');
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Parses the words after `/ws-fix` (already split at blanks and commas).
pub(crate) fn parse_args(words: &[&str]) -> Result<Command, ParseError> {
    let Some((&first, rest)) = words.split_first() else {
        return Ok(Command::Run);
    };
    let Some(sub) = SUBCOMMANDS
        .iter()
        .find(|s| !s.name.is_empty() && s.name == first)
    else {
        return Err(unknown_subcommand(first, rest));
    };
    match sub.args {
        Args::None => {
            if let Some(given) = rest.first() {
                return Err(ParseError {
                    kind: ParseErrorKind::UnexpectedArgument {
                        subcommand: sub.name,
                        given: (*given).to_owned(),
                    },
                    suggestion: Some(format!("{TRIGGER} {}", sub.name)),
                });
            }
            Ok(match sub.name {
                "scan" => Command::Scan,
                "explain" => Command::Explain,
                _ => Command::Help,
            })
        }
        Args::Kinds => {
            let mut kinds = Vec::new();
            for (i, word) in rest.iter().enumerate() {
                kinds.push(resolve_kind(word).map_err(|e| with_correction(e, words, i + 1))?);
            }
            kinds.sort();
            kinds.dedup();
            Ok(Command::Fix(kinds))
        }
        Args::OneKind => match rest {
            [] => Err(ParseError {
                kind: ParseErrorKind::MissingFixKind {
                    subcommand: sub.name,
                },
                suggestion: None,
            }),
            [word] => {
                let kind = resolve_kind(word).map_err(|e| with_correction(e, words, 1))?;
                Ok(match sub.name {
                    "recreate" => Command::Recreate(kind),
                    "ignore" => Command::Ignore(kind),
                    _ => Command::Unignore(kind),
                })
            }
            _ => Err(ParseError {
                kind: ParseErrorKind::TooManyFixKinds {
                    subcommand: sub.name,
                    given: rest.iter().map(|w| (*w).to_owned()).collect(),
                },
                suggestion: None,
            }),
        },
    }
}

/// A fix kind from its id or a unique prefix of it (`alpn` = `alpn-order`).
fn resolve_kind(word: &str) -> Result<FixKind, (ParseErrorKind, Option<&'static str>)> {
    FixKind::from_unique_prefix(word).map_err(|_| {
        let candidates = prefixed(word, FixKind::NAMES);
        if candidates.len() > 1 {
            let candidates = candidates
                .iter()
                .filter_map(|name| name.parse().ok())
                .collect();
            let kind = ParseErrorKind::AmbiguousFixKind {
                given: word.to_owned(),
                candidates,
            };
            (kind, None)
        } else {
            let kind = ParseErrorKind::UnknownFixKind {
                given: word.to_owned(),
            };
            (kind, suggest(word, FixKind::NAMES))
        }
    })
}

/// Turns a kind error at `words[index]` into a [`ParseError`] whose suggestion is the whole
/// line with that word replaced.
fn with_correction(
    (kind, replacement): (ParseErrorKind, Option<&'static str>),
    words: &[&str],
    index: usize,
) -> ParseError {
    let suggestion = replacement.map(|r| {
        let mut corrected = words.to_vec();
        corrected[index] = r;
        command_line(&corrected)
    });
    ParseError { kind, suggestion }
}

/// The error for an unknown first word, suggesting the closest subcommand or, for something
/// close to a fix kind, `fix <kind>`.
fn unknown_subcommand(first: &str, rest: &[&str]) -> ParseError {
    let mut names: Vec<&'static str> = SUBCOMMANDS
        .iter()
        .map(|s| s.name)
        .filter(|n| !n.is_empty())
        .collect();
    names.extend(FixKind::NAMES);
    let suggestion = suggest(first, &names).map(|name| {
        let mut corrected = Vec::with_capacity(rest.len() + 2);
        if FixKind::NAMES.contains(&name) {
            corrected.push("fix");
        }
        corrected.push(name);
        corrected.extend(rest);
        command_line(&corrected)
    });
    ParseError {
        kind: ParseErrorKind::UnknownSubcommand {
            given: first.to_owned(),
        },
        suggestion,
    }
}

/// `/ws-fix` followed by `words`.
fn command_line(words: &[&str]) -> String {
    std::iter::once(TRIGGER)
        .chain(words.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names that start with `given` (case-sensitive, as the grammar is).
pub(crate) fn prefixed<'a>(given: &str, names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| !given.is_empty() && n.starts_with(given))
        .collect()
}

/// The name the user probably meant: a case-insensitive match, a unique prefix or a close
/// typo (the catalogue's `closest`), else the only name with a `-`-separated part that starts
/// with it (`upgrade` → `http-upgrade`).
fn suggest(given: &str, names: &[&'static str]) -> Option<&'static str> {
    closest_id(given, names).or_else(|| {
        let lower = given.to_ascii_lowercase();
        let parts: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| n.split('-').skip(1).any(|part| part.starts_with(&lower)))
            .collect();
        match parts.as_slice() {
            [only] if lower.len() >= 2 => Some(*only),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, ParseError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_args(&words)
    }

    fn suggestion(line: &str) -> Option<String> {
        parse(line).unwrap_err().suggestion
    }

    #[test]
    fn subcommands() {
        assert_eq!(parse(""), Ok(Command::Run));
        assert_eq!(parse("scan"), Ok(Command::Scan));
        assert_eq!(parse("explain"), Ok(Command::Explain));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse("fix"), Ok(Command::Fix(vec![])));
        assert_eq!(
            parse("recreate backend"),
            Ok(Command::Recreate(FixKind::Backend))
        );
        assert_eq!(
            parse("ignore ws"),
            Ok(Command::Ignore(FixKind::WsAppProtocol))
        );
        assert_eq!(
            parse("unignore enable-backend"),
            Ok(Command::Unignore(FixKind::EnableBackend))
        );
    }

    #[test]
    fn fix_kinds_sorted_and_deduplicated() {
        assert_eq!(
            parse("fix http alpn alpn-order"),
            Ok(Command::Fix(vec![FixKind::AlpnOrder, FixKind::HttpUpgrade]))
        );
    }

    #[test]
    fn every_kind_has_a_one_letter_prefix() {
        // Today no two kinds share a first letter, so no non-empty prefix is ambiguous.
        for kind in FixKind::ALL {
            let first = &kind.as_str()[..1];
            assert_eq!(FixKind::from_unique_prefix(first), Ok(*kind));
        }
    }

    #[test]
    fn ambiguous_prefix() {
        // Ambiguity is judged over the names, so a made-up list shows it.
        assert_eq!(
            prefixed("ba", &["backend", "backend-tls", "alpn"]),
            ["backend", "backend-tls"]
        );
        assert_eq!(prefixed("", &["backend"]), Vec::<&str>::new());
        let err = ParseError {
            kind: ParseErrorKind::AmbiguousFixKind {
                given: "x".into(),
                candidates: vec![FixKind::Backend, FixKind::EnableBackend],
            },
            suggestion: None,
        };
        assert!(
            err.to_string()
                .starts_with("`x` could be any of `backend`, `enable-backend`")
        );
    }

    #[test]
    fn unknown_subcommand_suggestions() {
        assert_eq!(suggestion("scna"), Some("/ws-fix scan".into()));
        assert_eq!(suggestion("Scan"), Some("/ws-fix scan".into()));
        assert_eq!(suggestion("scan."), Some("/ws-fix scan".into()));
        assert_eq!(suggestion("explian"), Some("/ws-fix explain".into()));
        assert_eq!(
            suggestion("unigore alpn"),
            Some("/ws-fix unignore alpn".into())
        );
        // Something close to a fix kind suggests fixing it.
        assert_eq!(
            suggestion("alpn-order"),
            Some("/ws-fix fix alpn-order".into())
        );
        assert_eq!(
            suggestion("upgrade"),
            Some("/ws-fix fix http-upgrade".into())
        );
        let err = parse("frobnicate").unwrap_err();
        assert_eq!(err.suggestion, None);
        assert!(
            err.to_string()
                .contains("the commands are `scan`, `explain`")
        );
    }

    #[test]
    fn bad_kinds() {
        let err = parse("fix alpn upgrade").unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::UnknownFixKind {
                given: "upgrade".into()
            }
        );
        assert_eq!(
            err.suggestion.as_deref(),
            Some("/ws-fix fix alpn http-upgrade")
        );
        assert_eq!(
            suggestion("recreate alpn-ordr"),
            Some("/ws-fix recreate alpn-order".into())
        );
        assert_eq!(
            suggestion("ignore ALPN"),
            Some("/ws-fix ignore alpn-order".into())
        );
        let err = parse("fix zzz").unwrap_err();
        assert_eq!(err.suggestion, None);
        assert!(err.to_string().ends_with(
            "the fix kinds are `alpn-order`, `http-upgrade`, `ws-app-protocol`, `backend`, `enable-backend`"
        ));
    }

    #[test]
    fn argument_counts() {
        assert_eq!(
            parse("recreate").unwrap_err().kind,
            ParseErrorKind::MissingFixKind {
                subcommand: "recreate"
            }
        );
        assert_eq!(
            parse("ignore alpn http").unwrap_err().kind,
            ParseErrorKind::TooManyFixKinds {
                subcommand: "ignore",
                given: vec!["alpn".into(), "http".into()]
            }
        );
        let err = parse("scan now").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`/ws-fix scan` takes no arguments (got `now`); did you mean `/ws-fix scan`?"
        );
    }

    #[test]
    fn canonical_text() {
        assert_eq!(Command::Run.to_string(), "/ws-fix");
        assert_eq!(
            Command::Fix(vec![FixKind::AlpnOrder, FixKind::Backend]).to_string(),
            "/ws-fix fix alpn-order backend"
        );
        assert_eq!(
            Command::Recreate(FixKind::HttpUpgrade).to_string(),
            "/ws-fix recreate http-upgrade"
        );
        // Every canonical text parses back to its command.
        for kind in FixKind::ALL {
            for cmd in [
                Command::Fix(vec![*kind]),
                Command::Recreate(*kind),
                Command::Ignore(*kind),
                Command::Unignore(*kind),
            ] {
                let text = cmd.to_string();
                assert_eq!(parse(text.strip_prefix(TRIGGER).unwrap()), Ok(cmd));
            }
        }
    }

    #[test]
    fn quoted_text_stays_code() {
        assert_eq!(code("scan"), "`scan`");
        assert_eq!(code("a`@org/team"), "``a`@org/team``");
        assert_eq!(code("`x"), "`` `x ``");
        let long = "x".repeat(100);
        assert_eq!(code(&long), format!("`{}…`", "x".repeat(MAX_QUOTED)));
        let err = parse("x`@org/team").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`/ws-fix` has no command ``x`@org/team``")
        );
    }

    #[test]
    fn markdown_reply() {
        assert_eq!(
            parse("scna").unwrap_err().markdown(),
            "`/ws-fix` has no command `scna`; did you mean `/ws-fix scan`?\n\n\
             Write `/ws-fix help` for the list of commands.\n"
        );
        assert!(
            parse("fix zzz")
                .unwrap_err()
                .markdown()
                .starts_with("Unknown fix kind `zzz`")
        );
    }
}
