//! Which parts of a comment body are prose, so that commands are read only there.
//!
//! A small line-based scanner, not a Markdown parser: it knows just enough CommonMark to find
//! what is *not* prose: fenced code blocks (```` ``` ```` and `~~~`, any info string, unclosed
//! ones run to the end), indented code blocks (4+ columns after a blank line or at the start),
//! block quotes (`>` lines, nested, and their lazy continuation lines, which GitHub renders
//! inside the quote), inline code spans (which may run over several lines of one paragraph) and
//! HTML comments (`<!-- -->`, over any number of lines; an unclosed one runs to the end).
//! Where it has to guess, it guesses "not prose": ignoring a command is recoverable, running one
//! the user did not see as a command is not. Fences are recognised at any indentation for the
//! same reason (they may sit in list items).
//!
//! Cost is linear in the body apart from the search for a closing backtick run, which stops at
//! the end of the paragraph: a paragraph of n bytes has fewer than sqrt(2n) backtick runs that
//! find no closing run (their lengths all differ), so the worst case is O(n sqrt(n)).

use std::ops::Range;

/// One line that has some prose or inline code on it, with those parts as byte ranges of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProseLine {
    /// 1-based line number in the body.
    pub number: usize,
    /// Byte offset where the line starts in the body.
    pub start: usize,
    /// The visible parts, in order. HTML comments and code-span backticks are left out.
    pub pieces: Vec<Piece>,
}

/// A visible part of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    /// Byte range in the body.
    pub range: Range<usize>,
    /// Whether this is the content of an inline code span rather than prose.
    pub code: bool,
}

impl ProseLine {
    /// Whether the line's first non-blank character is prose: not in a code span, an HTML
    /// comment or anything that began on an earlier line.
    pub fn starts_with_prose(&self, body: &str) -> bool {
        match self.pieces.first() {
            Some(first) => {
                !first.code
                    && first.range.start == self.start
                    && !body[first.range.clone()].trim().is_empty()
            }
            None => false,
        }
    }
}

/// A fenced code block's opening: its character and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fence {
    ch: u8,
    len: usize,
}

/// An inline region that runs past the end of the line it started on.
#[derive(Debug, Clone, Copy)]
struct Carry {
    /// Where the region ends (after the closing `-->` or backtick run).
    end: usize,
    /// For a code span, where its content ends (the closing run's start); `None` for a comment.
    code_content_end: Option<usize>,
}

/// Block-level state between lines.
#[derive(Debug, Default)]
struct Blocks {
    fence: Option<Fence>,
    indented_code: bool,
    /// The previous line was paragraph text (so an indented line continues it).
    paragraph: bool,
    /// The previous line was a quote whose paragraph is open (so a plain line is a lazy
    /// continuation of the quote).
    quote_paragraph: bool,
    /// A fenced code block open inside the current block quote.
    quote_fence: Option<Fence>,
}

/// The lines of `body` that hold prose, with their prose and inline-code parts.
/// Lines are split at `\n`; a `\r` before it is not part of the line.
pub(crate) fn prose_lines(body: &str) -> Vec<ProseLine> {
    let mut out = Vec::new();
    let mut blocks = Blocks::default();
    let mut carry: Option<Carry> = None;
    for (index, (start, end)) in lines(body).enumerate() {
        let number = index + 1;
        let text = &body[start..end];
        let mut pieces = Vec::new();

        if let Some(c) = carry.take() {
            // The line begins inside a comment or code span that started earlier: it is a
            // continuation of that paragraph or HTML block, whatever it looks like.
            if let Some(content_end) = c.code_content_end
                && content_end.min(end) > start
            {
                pieces.push(Piece {
                    range: start..content_end.min(end),
                    code: true,
                });
            }
            if c.end > end {
                carry = Some(c);
            } else {
                blocks.paragraph = !body[c.end..end].trim().is_empty();
                carry = scan_inline(body, c.end, end, &mut pieces);
            }
            if !pieces.is_empty() {
                out.push(ProseLine {
                    number,
                    start,
                    pieces,
                });
            }
            continue;
        }

        if let Some(fence) = blocks.fence {
            if closes_fence(text, fence) {
                blocks.fence = None;
            }
            continue;
        }
        if text.trim().is_empty() {
            blocks.paragraph = false;
            blocks.quote_paragraph = false;
            blocks.quote_fence = None;
            continue;
        }
        if blocks.indented_code {
            if indent(text) >= 4 {
                continue;
            }
            blocks.indented_code = false;
        }
        if let Some(content) = quote_content(text) {
            blocks.paragraph = false;
            quote_line(&mut blocks, content);
            continue;
        }
        if blocks.quote_paragraph && !starts_block(text) {
            continue; // lazy continuation: rendered inside the quote
        }
        blocks.quote_paragraph = false;
        blocks.quote_fence = None;
        if !blocks.paragraph && indent(text) >= 4 {
            blocks.indented_code = true;
            continue;
        }
        if let Some(fence) = opens_fence(text) {
            blocks.fence = Some(fence);
            blocks.paragraph = false;
            continue;
        }
        blocks.paragraph = !(is_atx_heading(text) || is_break_or_underline(text));
        carry = scan_inline(body, start, end, &mut pieces);
        if !pieces.is_empty() {
            out.push(ProseLine {
                number,
                start,
                pieces,
            });
        }
    }
    out
}

/// The lines of `body` as byte ranges without the line ending (`\n` or `\r\n`).
fn lines(body: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos > body.len() || (pos == body.len() && pos != 0 && body.ends_with('\n')) {
            return None;
        }
        let start = pos;
        let (mut end, next) = match body[start..].find('\n') {
            Some(i) => (start + i, start + i + 1),
            None => (body.len(), body.len() + 1),
        };
        if body[start..end].ends_with('\r') {
            end -= 1;
        }
        pos = next;
        Some((start, end))
    })
}

/// Updates the quote state for one `>` line whose content (after all markers) is `content`.
fn quote_line(blocks: &mut Blocks, content: &str) {
    if let Some(fence) = blocks.quote_fence {
        if closes_fence(content, fence) {
            blocks.quote_fence = None;
        }
        blocks.quote_paragraph = false;
    } else if content.trim().is_empty() {
        blocks.quote_paragraph = false;
    } else if let Some(fence) = opens_fence(content) {
        blocks.quote_fence = Some(fence);
        blocks.quote_paragraph = false;
    } else if !blocks.quote_paragraph && indent(content) >= 4 {
        // Indented code inside the quote: no lazy continuation after it.
    } else {
        blocks.quote_paragraph = !(is_atx_heading(content) || is_break_or_underline(content));
    }
}

/// Scans `body[from..end]` (prose of one line) for code spans and HTML comments, pushing the
/// visible parts. Returns the region that runs past `end`, if one does.
fn scan_inline(body: &str, from: usize, end: usize, pieces: &mut Vec<Piece>) -> Option<Carry> {
    let bytes = body.as_bytes();
    let push = |pieces: &mut Vec<Piece>, range: Range<usize>, code: bool| {
        if !range.is_empty() {
            pieces.push(Piece { range, code });
        }
    };
    let mut prose_start = from;
    let mut i = from;
    while i < end {
        match bytes[i] {
            b'\\' if i + 1 < end && bytes[i + 1].is_ascii_punctuation() => i += 2,
            b'`' => {
                let run = bytes[i..end].iter().take_while(|&&b| b == b'`').count();
                let content_start = i + run;
                let Some(close) = closing_run(body, content_start, run) else {
                    i = content_start; // no closing run: the backticks are literal text
                    continue;
                };
                push(pieces, prose_start..i, false);
                push(pieces, content_start..close.min(end), true);
                if close + run > end {
                    return Some(Carry {
                        end: close + run,
                        code_content_end: Some(close),
                    });
                }
                i = close + run;
                prose_start = i;
            }
            b'<' if body[i..].starts_with("<!--") => {
                push(pieces, prose_start..i, false);
                // `<!-->` and `<!--->` are complete comments too.
                let comment_end = body[i + 2..]
                    .find("-->")
                    .map_or(body.len(), |k| i + 2 + k + 3);
                if comment_end > end {
                    return Some(Carry {
                        end: comment_end,
                        code_content_end: None,
                    });
                }
                i = comment_end;
                prose_start = i;
            }
            _ => i += 1,
        }
    }
    push(pieces, prose_start..end, false);
    None
}

/// The start of the backtick run of exactly `run` backticks that closes a code span opened
/// just before `from`, searching to the end of the paragraph (the next blank line). The cost is
/// the distance searched: the paragraph's end is found on the way, not beforehand.
fn closing_run(body: &str, from: usize, run: usize) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => {
                let len = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                if len == run {
                    return Some(i);
                }
                i += len;
            }
            b'\n' if is_blank_line(body, i + 1) => return None,
            _ => i += 1,
        }
    }
    None
}

/// True when the line that starts at `start` is blank (or the body ends there).
fn is_blank_line(body: &str, start: usize) -> bool {
    let rest = &body[start..];
    rest[..rest.find('\n').unwrap_or(rest.len())]
        .trim()
        .is_empty()
}

/// Leading indentation in columns (a tab advances to the next multiple of 4).
fn indent(text: &str) -> usize {
    let mut col = 0;
    for b in text.bytes() {
        match b {
            b' ' => col += 1,
            b'\t' => col += 4 - col % 4,
            _ => break,
        }
    }
    col
}

/// The text after the quote markers if `text` is a block-quote line (`>` after at most 3
/// columns, nested markers included).
fn quote_content(text: &str) -> Option<&str> {
    if indent(text) > 3 || !text.trim_start().starts_with('>') {
        return None;
    }
    let mut rest = text;
    while indent(rest) <= 3
        && let Some(after) = rest.trim_start_matches([' ', '\t']).strip_prefix('>')
    {
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    Some(rest)
}

/// A fence opening: 3+ backticks (no backtick in the info string) or 3+ tildes.
fn opens_fence(text: &str) -> Option<Fence> {
    let trimmed = text.trim_start_matches([' ', '\t']);
    let ch = *trimmed.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = trimmed.bytes().take_while(|&b| b == ch).count();
    if len < 3 || (ch == b'`' && trimmed[len..].contains('`')) {
        return None;
    }
    Some(Fence { ch, len })
}

/// Whether `text` closes `fence`: at least as many of the same character, then only blanks.
fn closes_fence(text: &str, fence: Fence) -> bool {
    let trimmed = text.trim_matches([' ', '\t']);
    trimmed.len() >= fence.len && trimmed.bytes().all(|b| b == fence.ch)
}

/// `# heading` (1 to 6 `#`, then a blank or the end).
fn is_atx_heading(text: &str) -> bool {
    if indent(text) > 3 {
        return false;
    }
    let trimmed = text.trim_start();
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes)
        && trimmed[hashes..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
}

/// A thematic break (`***`, `- - -`, `___`) or a setext underline (`===`, `---`).
fn is_break_or_underline(text: &str) -> bool {
    if indent(text) > 3 {
        return false;
    }
    let marks: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t'))
        .collect();
    match marks.first() {
        Some(&c @ (b'-' | b'*' | b'_')) => marks.len() >= 3 && marks.iter().all(|&b| b == c),
        Some(b'=') => marks.iter().all(|&b| b == b'='),
        _ => false,
    }
}

/// Whether `text` starts a block that ends a paragraph instead of continuing it lazily.
fn starts_block(text: &str) -> bool {
    if opens_fence(text).is_some() || is_atx_heading(text) || is_break_or_underline(text) {
        return true;
    }
    if indent(text) > 3 {
        return false;
    }
    let trimmed = text.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let marker = if (1..=9).contains(&digits) {
        trimmed[digits..].strip_prefix(['.', ')'])
    } else {
        trimmed.strip_prefix(['-', '+', '*'])
    };
    marker.is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The visible text of each prose line, code spans in backticks, as `(line, text)`.
    fn visible(body: &str) -> Vec<(usize, String)> {
        prose_lines(body)
            .into_iter()
            .map(|line| {
                let text = line
                    .pieces
                    .iter()
                    .map(|p| {
                        let s = &body[p.range.clone()];
                        if p.code {
                            format!("`{s}`")
                        } else {
                            s.to_owned()
                        }
                    })
                    .collect::<String>();
                (line.number, text)
            })
            .collect()
    }

    fn lines_of(body: &str) -> Vec<usize> {
        visible(body).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn plain_lines() {
        assert_eq!(
            visible("a\nb\r\n\nc"),
            [(1, "a".into()), (2, "b".into()), (4, "c".into())]
        );
        assert_eq!(visible(""), []);
        assert_eq!(visible("a\n"), [(1, "a".into())]);
    }

    #[test]
    fn fences() {
        assert_eq!(lines_of("a\n```\nb\n```\nc"), [1, 5]);
        assert_eq!(lines_of("a\n~~~rust\nb\n```\nc\n~~~\nd"), [1, 7]);
        // A closing fence needs at least as many characters.
        assert_eq!(lines_of("````\n```\nb\n````\nc"), [5]);
        // Info string with a backtick: not a fence.
        assert_eq!(lines_of("``` a`b\nc"), [1, 2]);
        // Unclosed: to the end.
        assert_eq!(lines_of("a\n```\nb\nc"), [1]);
        // Indented fence (in a list item).
        assert_eq!(lines_of("- x\n  ```\n  b\n  ```\nc"), [1, 5]);
    }

    #[test]
    fn indented_code() {
        assert_eq!(lines_of("a\n\n    b\n\n    c\nd"), [1, 6]);
        assert_eq!(lines_of("    a\nb"), [2]);
        assert_eq!(lines_of("\ta\nb"), [2]);
        // An indented line continues a paragraph.
        assert_eq!(lines_of("a\n    b"), [1, 2]);
    }

    #[test]
    fn quotes() {
        assert_eq!(lines_of("> a\n>> b\n > > c\n\nd"), [5]);
        // Lazy continuation is inside the quote; a blank line or a quote blank ends it.
        assert_eq!(lines_of("> a\nb\n\nc"), [4]);
        assert_eq!(lines_of("> a\n>\nb"), [3]);
        // A fence inside a quote neither leaks out nor makes a lazy line.
        assert_eq!(lines_of("> ```\n> x\nb\n```\nc"), [3]);
        // A list item after a quote is not lazy.
        assert_eq!(lines_of("> a\n- b"), [2]);
    }

    #[test]
    fn code_spans() {
        assert_eq!(visible("a `b` c"), [(1, "a `b` c".into())]);
        assert_eq!(visible("a ``b ` c`` d"), [(1, "a `b ` c` d".into())]);
        // Unmatched backticks are text.
        assert_eq!(visible("a ` b"), [(1, "a ` b".into())]);
        assert_eq!(visible("a \\`b` c"), [(1, "a \\`b` c".into())]);
        // Over two lines of a paragraph, but not over a blank line.
        assert_eq!(
            visible("a `b\nc` d"),
            [(1, "a `b`".into()), (2, "`c` d".into())]
        );
        assert_eq!(
            visible("a `b\n\nc` d"),
            [(1, "a `b".into()), (3, "c` d".into())]
        );
        let line = &prose_lines("`x` y")[0];
        assert!(!line.starts_with_prose("`x` y"));
        let line = &prose_lines("a `b\nc` d")[1];
        assert!(!line.starts_with_prose("a `b\nc` d"));
    }

    #[test]
    fn html_comments() {
        assert_eq!(visible("a <!-- b --> c"), [(1, "a  c".into())]);
        assert_eq!(
            visible("<!-- a\n\n```\nb -->c\nd"),
            [(4, "c".into()), (5, "d".into())]
        );
        assert_eq!(visible("a <!--> b"), [(1, "a  b".into())]);
        assert_eq!(visible("a <!-- b\nc"), [(1, "a ".into())]);
        // Not a comment inside a code span, nor a code span inside a comment.
        assert_eq!(visible("`<!--` a"), [(1, "`<!--` a".into())]);
        assert_eq!(visible("<!-- ` -->a`"), [(1, "a`".into())]);
        let body = "<!-- x -->/ws-fix";
        assert!(!prose_lines(body)[0].starts_with_prose(body));
    }

    #[test]
    fn blocks_close_paragraphs() {
        assert_eq!(lines_of("# h\n    code\nb"), [1, 3]);
        assert_eq!(lines_of("a\n---\n    code"), [1, 2]);
    }
}
