//! Splitting master-file text into entries and tokens (RFC 1035 §5.1).
//!
//! * An entry is one line, or several when parentheses are open: "Parentheses
//!   are used to group data that crosses a line boundary. In effect, line
//!   terminations are not recognized within parentheses."
//! * `;` starts a comment that runs to the end of the line.
//! * A line that starts with a blank (space or tab) has no owner: "the
//!   previous owner is assumed".
//! * `"…"` is one token that may contain blanks, `;` and parentheses; `\X`
//!   and `\DDD` escapes are kept as written, for the name and TXT parsers.
//! * Outside quotes, `\X` makes X part of the word (so `\;`, `\(` and `\ `
//!   do not end it).

/// Most tokens in one entry; an SOA needs 10, a TXT record with many
/// strings a few more.
pub(crate) const MAX_TOKENS: usize = 512;
/// Longest token, in octets.
pub(crate) const MAX_TOKEN_LEN: usize = 4096;

/// One word or quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The text, escapes unprocessed, without the quotes.
    pub(crate) text: String,
    /// Whether it was written in double quotes.
    pub(crate) quoted: bool,
    /// 1-based line it started on.
    pub(crate) line: usize,
}

/// One logical entry: a directive or a resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Line of the first token.
    pub(crate) line: usize,
    /// The entry's first line starts with a blank: no owner field.
    pub(crate) blank_owner: bool,
    /// Its tokens (never empty).
    pub(crate) tokens: Vec<Token>,
}

/// A lexical error: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

fn err(line: usize, message: impl Into<String>) -> LexError {
    LexError {
        line,
        message: message.into(),
    }
}

/// Splits `text` into entries.
pub(crate) fn entries(text: &str) -> Result<Vec<Entry>, LexError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut at_line_start = true;
    let mut open_paren: Option<usize> = None;
    let mut current: Option<Entry> = None;

    let push_token = |current: &mut Option<Entry>, token: Token, blank: bool| {
        let entry = current.get_or_insert_with(|| Entry {
            line: token.line,
            blank_owner: blank,
            tokens: Vec::new(),
        });
        if entry.tokens.len() >= MAX_TOKENS {
            return Err(err(
                token.line,
                format!("more than {MAX_TOKENS} fields in one entry"),
            ));
        }
        entry.tokens.push(token);
        Ok(())
    };
    // Whether the entry being built began with a blank; decided at the
    // start of the physical line that opens it.
    let mut line_blank = false;

    while let Some(&c) = chars.peek() {
        if at_line_start {
            at_line_start = false;
            if open_paren.is_none() && current.is_none() {
                line_blank = c == ' ' || c == '\t';
            }
        }
        match c {
            '\n' => {
                chars.next();
                if open_paren.is_none()
                    && let Some(e) = current.take()
                {
                    out.push(e);
                }
                line += 1;
                at_line_start = true;
            }
            ' ' | '\t' | '\r' => {
                chars.next();
            }
            ';' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '(' => {
                chars.next();
                if open_paren.is_some() {
                    return Err(err(line, "nested '(' (parentheses do not nest)"));
                }
                open_paren = Some(line);
            }
            ')' => {
                chars.next();
                if open_paren.take().is_none() {
                    return Err(err(line, "')' without a matching '('"));
                }
            }
            '"' => {
                chars.next();
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None | Some('\n') => {
                            return Err(err(start, "unterminated quoted string"));
                        }
                        Some('"') => break,
                        Some('\\') => {
                            s.push('\\');
                            match chars.next() {
                                None | Some('\n') => {
                                    return Err(err(start, "unterminated quoted string"));
                                }
                                Some(e) => s.push(e),
                            }
                        }
                        Some(c) => s.push(c),
                    }
                    if s.len() > MAX_TOKEN_LEN {
                        return Err(err(start, "quoted string too long"));
                    }
                }
                let token = Token {
                    text: s,
                    quoted: true,
                    line: start,
                };
                push_token(&mut current, token, line_blank)?;
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    match c {
                        ' ' | '\t' | '\r' | '\n' | ';' | '(' | ')' | '"' => break,
                        '\\' => {
                            chars.next();
                            s.push('\\');
                            match chars.peek() {
                                Some(&e) if e != '\n' => {
                                    s.push(e);
                                    chars.next();
                                }
                                _ => return Err(err(line, format!("dangling '\\' after {s:?}"))),
                            }
                        }
                        c => {
                            s.push(c);
                            chars.next();
                        }
                    }
                    if s.len() > MAX_TOKEN_LEN {
                        return Err(err(line, "field too long"));
                    }
                }
                let token = Token {
                    text: s,
                    quoted: false,
                    line,
                };
                push_token(&mut current, token, line_blank)?;
            }
        }
    }
    if let Some(open) = open_paren {
        return Err(err(open, "'(' is never closed"));
    }
    if let Some(e) = current.take() {
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(e: &Entry) -> Vec<&str> {
        e.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn lines_comments_and_blank_owners() {
        let es = entries("a IN A 1.2.3.4 ; comment\n\n  IN TXT \"x ; y\" z\n; only a comment\n")
            .expect("lex");
        assert_eq!(es.len(), 2);
        assert_eq!(words(&es[0]), ["a", "IN", "A", "1.2.3.4"]);
        assert!(!es[0].blank_owner);
        assert_eq!(es[1].line, 3);
        assert!(es[1].blank_owner);
        assert_eq!(words(&es[1]), ["IN", "TXT", "x ; y", "z"]);
        assert!(es[1].tokens[2].quoted);
    }

    #[test]
    fn parentheses_span_lines() {
        let text = "@ IN SOA ns admin (\n  1 ; serial\n  2 3\n  4 5 )\nwww A 1.1.1.1\n";
        let es = entries(text).expect("lex");
        assert_eq!(es.len(), 2);
        assert_eq!(words(&es[0]).len(), 10);
        assert_eq!(es[1].line, 5);
        assert!(!es[1].blank_owner);
    }

    #[test]
    fn escapes_stay_in_words() {
        let es = entries("a\\;b\\ c TXT \"q\\\"r\"\n").expect("lex");
        assert_eq!(words(&es[0]), ["a\\;b\\ c", "TXT", "q\\\"r"]);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(entries("a (\nb\n").unwrap_err().line, 1);
        assert_eq!(entries("a\nb )\n").unwrap_err().line, 2);
        assert_eq!(entries("x\n\"open\n").unwrap_err().line, 2);
        assert!(entries("a ( ( b ) )").is_err());
    }
}
