//! The `/ws-fix` commands in issue and pull-request comments: which lines of a comment body
//! are commands, and what they say. Pure: no I/O, the server decides what to do with them.
//!
//! # Grammar
//!
//! ```text
//! line     = blank* "/ws-fix" ( blank+ words )? blank*      ; "/ws-fix" case-sensitive
//! words    = ""                                     → Run       scan, open or refresh the PRs
//!          | "scan"                                 → Scan      reply with the findings only
//!          | "explain"                              → Explain
//!          | "fix" kind*                            → Fix       no kind = every kind
//!          | "recreate" kind                        → Recreate
//!          | "ignore" kind                          → Ignore
//!          | "unignore" kind                        → Unignore
//!          | "help"                                 → Help
//! kind     = a fix kind id (`alpn-order`, `http-upgrade`, `ws-app-protocol`, `backend`,
//!            `enable-backend`) or a unique prefix of one (`alpn` = `alpn-order`)
//! ```
//!
//! - One command per line; the line starts with `/ws-fix` after optional blanks, and `/ws-fix`
//!   is followed by a blank or the end of the line (`/ws-fixer` is no command). Words are
//!   separated by blanks or commas (`fix alpn, http`). Subcommands are lower case.
//! - Only prose counts (see `markdown`): nothing in fenced or indented code blocks, block quotes
//!   (nested, and their lazy continuation lines), HTML comments, or a line that starts with an
//!   inline code span. An HTML comment later on a command line is left out; an inline code span
//!   there counts as its words (``/ws-fix fix `alpn` `` = `/ws-fix fix alpn`).
//! - Every command line in a comment is returned, in order, with its 1-based line number; a line
//!   that starts with `/ws-fix` but does not follow the grammar is a [`ParseError`] (with a
//!   "did you mean" over the subcommands and the fix kinds when one is close), never dropped.
//! - An edited comment runs only its new commands: [`new_commands`] compares the commands of
//!   both versions as a multiset of their canonical text (so `fix alpn` → `fix alpn-order` is
//!   no new command, while a second `/ws-fix scan` line is).
//! - Line endings `\n` and `\r\n`.

mod grammar;
mod markdown;

use std::collections::HashMap;

use crate::catalogue::{Catalogue, FixKind};

pub use grammar::{Command, ParseError, ParseErrorKind, TRIGGER};

/// One command line of a comment body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// 1-based line number in the body.
    pub line: usize,
    /// The command as written, with its words separated by single spaces (`/ws-fix fix alpn`).
    pub text: String,
    /// The command, or what is wrong with it.
    pub result: Result<Command, ParseError>,
}

impl Parsed {
    /// What makes two command lines "the same command" for [`new_commands`]: the canonical
    /// text of a command, the written text of an error.
    fn identity(&self) -> String {
        match &self.result {
            Ok(command) => command.to_string(),
            Err(_) => self.text.clone(),
        }
    }
}

/// The most commands one comment runs; the command lines after them are one error.
pub const MAX_COMMANDS: usize = 10;
/// The most characters of one command line (the longest valid one has about 80).
pub const MAX_LINE_CHARS: usize = 500;
/// The most characters of a comment that are read: GitHub's own limit for a comment body.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// Every `/ws-fix` command line of a comment body, in order. At most [`MAX_COMMANDS`] are
/// commands: the next line is a [`ParseErrorKind::TooManyCommands`] and the rest are left
/// out. Only the first [`MAX_COMMENT_CHARS`] characters are read (cut at a line end); a
/// `/ws-fix` after the cut is a [`ParseErrorKind::CommentTooLong`].
pub fn parse(body: &str) -> Vec<Parsed> {
    let read = &body[..cut(body)];
    let mut out: Vec<Parsed> = markdown::prose_lines(read)
        .into_iter()
        .filter_map(|line| command_line(read, &line))
        .collect();
    if out.len() > MAX_COMMANDS {
        let not_run = out.len() - MAX_COMMANDS;
        out.truncate(MAX_COMMANDS + 1);
        out[MAX_COMMANDS].result =
            Err(ParseError::new(ParseErrorKind::TooManyCommands { not_run }));
    }
    if body[read.len()..].contains(TRIGGER) {
        let last_line = read.matches('\n').count();
        out.push(Parsed {
            line: last_line + 1,
            text: TRIGGER.to_owned(),
            result: Err(ParseError::new(ParseErrorKind::CommentTooLong {
                last_line,
            })),
        });
    }
    out
}

/// Where the read part of `body` ends: all of it, or the last line end within
/// [`MAX_COMMENT_CHARS`] characters.
fn cut(body: &str) -> usize {
    match body.char_indices().nth(MAX_COMMENT_CHARS) {
        None => body.len(),
        Some((limit, _)) => body[..limit].rfind('\n').map_or(0, |i| i + 1),
    }
}

/// The commands of an edited comment that were not in its previous version (compared as a
/// multiset of commands, not by line), in order.
pub fn new_commands(old_body: &str, new_body: &str) -> Vec<Parsed> {
    let mut old: HashMap<String, usize> = HashMap::new();
    for parsed in parse(old_body) {
        *old.entry(parsed.identity()).or_default() += 1;
    }
    parse(new_body)
        .into_iter()
        .filter(|parsed| match old.get_mut(&parsed.identity()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// The reply to `/ws-fix help`: every command and every fix kind, in Markdown.
pub fn help_text() -> String {
    render_help(&[])
}

/// [`help_text`] with each fix kind's one-line title from the catalogue.
pub fn help_text_for(catalogue: &Catalogue) -> String {
    let titles: Vec<(FixKind, &str)> = catalogue
        .fix_kinds()
        .iter()
        .map(|info| (info.id, info.title.as_str()))
        .collect();
    render_help(&titles)
}

fn render_help(titles: &[(FixKind, &str)]) -> String {
    let mut out = format!(
        "### `{TRIGGER}` commands\n\n\
         Write one command per line, at the start of the line, in a comment on an issue or a \
         pull request. Lines in code, quotes and HTML comments are not read.\n\n\
         | Command | What it does |\n|---|---|\n"
    );
    for sub in grammar::SUBCOMMANDS {
        out.push_str(&format!("| `{}` | {} |\n", sub.usage, sub.summary));
    }
    let first = FixKind::ALL[0];
    let example = first
        .as_str()
        .split('-')
        .next()
        .filter(|p| FixKind::from_unique_prefix(p) == Ok(first))
        .unwrap_or(first.as_str());
    out.push_str(&format!(
        "\nFix kinds (a unique prefix is enough: `{TRIGGER} fix {example}` means \
         `{TRIGGER} fix {first}`):\n\n"
    ));
    for kind in FixKind::ALL {
        out.push_str(&format!("- `{kind}`"));
        if let Some((_, title)) = titles.iter().find(|(k, _)| k == kind) {
            out.push_str(&format!(": {title}"));
        }
        out.push('\n');
    }
    out
}

/// The command on one prose line, if the line is a command line.
fn command_line(body: &str, line: &markdown::ProseLine) -> Option<Parsed> {
    if !line.starts_with_prose(body) {
        return None;
    }
    let first = &body[line.pieces[0].range.clone()];
    let after = first.trim_start().strip_prefix(TRIGGER)?;
    // `/ws-fix` must be followed by a blank or the end of the line (an HTML comment that
    // closes the line counts as the end).
    if !(after.starts_with(char::is_whitespace) || (after.is_empty() && line.pieces.len() == 1)) {
        return None;
    }
    let mut words: Vec<&str> = Vec::new();
    for (i, piece) in line.pieces.iter().enumerate() {
        let mut text = &body[piece.range.clone()];
        if i == 0 {
            text = after;
        }
        words.extend(
            text.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty()),
        );
    }
    let text = std::iter::once(TRIGGER)
        .chain(words.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let chars = text.chars().count();
    if chars > MAX_LINE_CHARS {
        // Echoed in replies: keep the start only.
        let shown: String = text.chars().take(MAX_LINE_CHARS).collect();
        return Some(Parsed {
            line: line.number,
            text: format!("{shown}…"),
            result: Err(ParseError::new(ParseErrorKind::LineTooLong { chars })),
        });
    }
    Some(Parsed {
        line: line.number,
        text,
        result: grammar::parse_args(&words),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(line, canonical command or error text)` for every command line.
    fn run(body: &str) -> Vec<(usize, String)> {
        parse(body)
            .into_iter()
            .map(|p| {
                let out = match p.result {
                    Ok(cmd) => cmd.to_string(),
                    Err(e) => format!("error: {e}"),
                };
                (p.line, out)
            })
            .collect()
    }

    fn cmds(body: &str) -> Vec<String> {
        run(body).into_iter().map(|(_, c)| c).collect()
    }

    #[test]
    fn plain_command() {
        assert_eq!(run("/ws-fix"), [(1, "/ws-fix".into())]);
        assert_eq!(run("/ws-fix scan"), [(1, "/ws-fix scan".into())]);
        assert_eq!(
            run("  /ws-fix   explain  "),
            [(1, "/ws-fix explain".into())]
        );
        assert_eq!(
            run("Thanks!\n\n/ws-fix help\n"),
            [(3, "/ws-fix help".into())]
        );
        assert_eq!(cmds("/ws-fix\tfix"), ["/ws-fix fix"]);
    }

    #[test]
    fn not_a_command() {
        assert_eq!(cmds("/ws-fixer scan"), Vec::<String>::new());
        assert_eq!(cmds("/WS-FIX scan"), Vec::<String>::new());
        assert_eq!(cmds("/ws-fix: scan"), Vec::<String>::new());
        assert_eq!(cmds("please /ws-fix scan"), Vec::<String>::new());
        assert_eq!(cmds("- /ws-fix scan"), Vec::<String>::new());
    }

    #[test]
    fn prefix_kinds() {
        assert_eq!(cmds("/ws-fix fix alpn"), ["/ws-fix fix alpn-order"]);
        assert_eq!(
            cmds("/ws-fix fix alpn http"),
            ["/ws-fix fix alpn-order http-upgrade"]
        );
        assert_eq!(
            cmds("/ws-fix fix ws, en,back"),
            ["/ws-fix fix ws-app-protocol backend enable-backend"]
        );
        assert_eq!(cmds("/ws-fix recreate b"), ["/ws-fix recreate backend"]);
    }

    #[test]
    fn upgrade_is_not_a_prefix() {
        // `upgrade` is not a prefix of `http-upgrade`: an error that names it.
        assert_eq!(
            cmds("/ws-fix fix alpn upgrade"),
            ["error: unknown fix kind `upgrade`; did you mean `/ws-fix fix alpn http-upgrade`?"]
        );
    }

    #[test]
    fn ambiguous_prefix() {
        // No non-empty prefix of today's kinds is ambiguous (see grammar tests); an empty
        // argument cannot occur, so the ambiguity path is covered there.
        assert_eq!(cmds("/ws-fix ignore e"), ["/ws-fix ignore enable-backend"]);
    }

    #[test]
    fn code_blocks() {
        assert_eq!(cmds("```\n/ws-fix scan\n```"), Vec::<String>::new());
        assert_eq!(cmds("```console\n/ws-fix scan\n```"), Vec::<String>::new());
        assert_eq!(cmds("~~~\n/ws-fix scan\n~~~"), Vec::<String>::new());
        assert_eq!(cmds("a\n\n    /ws-fix scan\n"), Vec::<String>::new());
    }

    #[test]
    fn resumes_after_code() {
        assert_eq!(
            run("```\n/ws-fix scan\n```\n/ws-fix help"),
            [(4, "/ws-fix help".into())]
        );
        assert_eq!(
            run("~~~\n```\n/ws-fix scan\n~~~\n/ws-fix fix"),
            [(5, "/ws-fix fix".into())]
        );
        assert_eq!(
            run("    /ws-fix scan\n/ws-fix help"),
            [(2, "/ws-fix help".into())]
        );
    }

    #[test]
    fn quotes() {
        assert_eq!(cmds("> /ws-fix scan"), Vec::<String>::new());
        assert_eq!(cmds("> > /ws-fix scan"), Vec::<String>::new());
        assert_eq!(cmds(">/ws-fix scan"), Vec::<String>::new());
        // A quote reply: the command after the blank line runs.
        assert_eq!(
            run("> /ws-fix fix\n> did not work\n\n/ws-fix scan"),
            [(4, "/ws-fix scan".into())]
        );
        // Without the blank line GitHub shows the line inside the quote.
        assert_eq!(cmds("> hello\n/ws-fix scan"), Vec::<String>::new());
    }

    #[test]
    fn inline_code() {
        assert_eq!(cmds("`/ws-fix scan`"), Vec::<String>::new());
        assert_eq!(cmds("Try `x\n/ws-fix scan` later"), Vec::<String>::new());
        assert_eq!(cmds("/ws-fix fix `alpn`"), ["/ws-fix fix alpn-order"]);
    }

    #[test]
    fn html_comments() {
        assert_eq!(cmds("<!-- /ws-fix scan -->"), Vec::<String>::new());
        assert_eq!(cmds("<!--\n/ws-fix scan\n\n-->"), Vec::<String>::new());
        assert_eq!(
            run("<!-- template -->\n/ws-fix scan <!-- why -->"),
            [(2, "/ws-fix scan".into())]
        );
        assert_eq!(cmds("/ws-fix<!-- x -->"), ["/ws-fix"]);
    }

    #[test]
    fn unknown_subcommand() {
        let parsed = parse("/ws-fix scna");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].text, "/ws-fix scna");
        let err = parsed[0].result.as_ref().unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::UnknownSubcommand {
                given: "scna".into()
            }
        );
        assert_eq!(err.suggestion.as_deref(), Some("/ws-fix scan"));
        assert!(err.to_string().contains("did you mean `/ws-fix scan`?"));
    }

    #[test]
    fn several_commands_in_order() {
        assert_eq!(
            run("/ws-fix ignore alpn\ntext\n/ws-fix scna\n/ws-fix fix http"),
            [
                (1, "/ws-fix ignore alpn-order".into()),
                (
                    3,
                    "error: `/ws-fix` has no command `scna`; did you mean `/ws-fix scan`?".into()
                ),
                (4, "/ws-fix fix http-upgrade".into()),
            ]
        );
    }

    #[test]
    fn crlf() {
        assert_eq!(
            run("Hi\r\n\r\n/ws-fix scan\r\n```\r\n/ws-fix help\r\n```\r\n/ws-fix fix alpn\r\n"),
            [
                (3, "/ws-fix scan".into()),
                (7, "/ws-fix fix alpn-order".into())
            ]
        );
        assert_eq!(parse("/ws-fix\r\n")[0].text, "/ws-fix");
    }

    #[test]
    fn edited_comment_runs_only_new_commands() {
        let old = "/ws-fix scan\n/ws-fix fix alpn";
        // Moved lines and a respelled kind are not new; a second scan and the help are.
        let new = "intro\n/ws-fix fix alpn-order\n/ws-fix scan\n/ws-fix scan\n/ws-fix help";
        let ran: Vec<(usize, String)> = new_commands(old, new)
            .into_iter()
            .map(|p| (p.line, p.text))
            .collect();
        assert_eq!(
            ran,
            [(4, "/ws-fix scan".into()), (5, "/ws-fix help".into())]
        );
        // A typo fixed by an edit runs; the same typo kept does not answer again.
        assert_eq!(new_commands("/ws-fix scna", "/ws-fix scan").len(), 1);
        assert!(new_commands("/ws-fix scna", "/ws-fix  scna").is_empty());
        // Moving a command into a code block removes it; nothing runs.
        assert!(new_commands("/ws-fix scan", "```\n/ws-fix scan\n```").is_empty());
    }

    #[test]
    fn help_lists_every_command_and_kind() {
        let help = help_text();
        for usage in [
            "`/ws-fix`",
            "`/ws-fix scan`",
            "`/ws-fix explain`",
            "`/ws-fix fix [<kind>...]`",
            "`/ws-fix recreate <kind>`",
            "`/ws-fix ignore <kind>`",
            "`/ws-fix unignore <kind>`",
            "`/ws-fix help`",
        ] {
            assert!(help.contains(usage), "{usage} missing");
        }
        for kind in FixKind::NAMES {
            assert!(help.contains(&format!("- `{kind}`")), "{kind} missing");
        }
        assert!(help.contains("`/ws-fix fix alpn` means `/ws-fix fix alpn-order`"));
        // The help's commands parse.
        for line in help.lines() {
            let cmd = line.strip_prefix("| `").and_then(|l| l.split('`').next());
            if let Some(cmd) = cmd.filter(|c| !c.contains('<')) {
                assert!(
                    parse(cmd)[0].result.is_ok(),
                    "{cmd} from the help does not parse"
                );
            }
        }
    }

    proptest::proptest! {
        /// Any body parses without a panic; quoting it all silences it; an unedited comment
        /// runs nothing new.
        #[test]
        fn any_body(
            parts in proptest::collection::vec(
                "/ws-fix|/ws-fix scan|/ws-fix fix al|```|~~~|`|<!--|-->|> |    |\t|é|a|\\|\n|\r\n",
                0..40,
            )
        ) {
            let body = parts.concat();
            let lines = body.split('\n').count();
            for parsed in parse(&body) {
                proptest::prop_assert!(parsed.line >= 1 && parsed.line <= lines);
                proptest::prop_assert!(parsed.text.starts_with(TRIGGER));
            }
            let quoted: String = body.split('\n').map(|l| format!("> {l}\n")).collect();
            proptest::prop_assert_eq!(parse(&quoted), vec![]);
            proptest::prop_assert_eq!(new_commands(&body, &body), vec![]);
        }
    }

    #[test]
    fn help_with_catalogue_titles() {
        let catalogue = Catalogue::embedded().unwrap();
        let help = help_text_for(&catalogue);
        assert!(help.contains("- `alpn-order`: Prefer HTTP/1.1 in the listener ALPN\n"));
    }
}
