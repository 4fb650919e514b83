//! Protobuf's text format, as far as TensorFlow Serving's config files use
//! it (`ModelServerConfig`, `MonitoringConfig`): field names, quoted
//! strings, scalars, nested messages and lists, `#` comments, with the line
//! of each token for error messages.

/// A token of the text format.
#[derive(Debug, PartialEq)]
pub(crate) enum Token<'a> {
    Name(&'a str),
    Str(String),
    Scalar(&'a str),
    Colon,
    Open,
    Close,
    ListOpen,
    ListClose,
}

impl std::fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Name(n) | Token::Scalar(n) => write!(f, "{n:?}"),
            Token::Str(s) => write!(f, "the string {s:?}"),
            Token::Colon => f.write_str("':'"),
            Token::Open => f.write_str("'{'"),
            Token::Close => f.write_str("'}'"),
            Token::ListOpen => f.write_str("'['"),
            Token::ListClose => f.write_str("']'"),
        }
    }
}

/// The tokens of the text format, with their line numbers.
pub(crate) struct Tokens<'a> {
    rest: &'a str,
    line: usize,
    peeked: Option<(usize, Token<'a>)>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(text: &'a str) -> Tokens<'a> {
        Tokens { rest: text, line: 1, peeked: None }
    }

    pub(crate) fn next(&mut self) -> Result<Option<(usize, Token<'a>)>, String> {
        if let Some(t) = self.peeked.take() {
            return Ok(Some(t));
        }
        loop {
            let trimmed = self.rest.trim_start_matches([' ', '\t', '\r', ',', ';']);
            self.rest = trimmed;
            if let Some(after) = trimmed.strip_prefix('\n') {
                self.line += 1;
                self.rest = after;
            } else if trimmed.starts_with('#') {
                self.rest = trimmed.find('\n').map_or("", |i| &trimmed[i..]);
            } else {
                break;
            }
        }
        let line = self.line;
        let Some(c) = self.rest.chars().next() else { return Ok(None) };
        let token = match c {
            ':' => self.take(1, Token::Colon),
            '{' | '<' => self.take(1, Token::Open),
            '}' | '>' => self.take(1, Token::Close),
            '[' => self.take(1, Token::ListOpen),
            ']' => self.take(1, Token::ListClose),
            '"' | '\'' => Token::Str(self.string(c)?),
            c if c.is_ascii_alphabetic() || c == '_' => Token::Name(self.word()),
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => Token::Scalar(self.word()),
            other => return Err(format!("line {line}: unexpected character {other:?}")),
        };
        Ok(Some((line, token)))
    }

    fn take(&mut self, n: usize, token: Token<'a>) -> Token<'a> {
        self.rest = &self.rest[n..];
        token
    }

    fn word(&mut self) -> &'a str {
        let end =
            self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-+".contains(c))).unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        word
    }

    /// A quoted string (C escapes for quotes, backslash, n, t).
    fn string(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.rest[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                c if c == quote => {
                    self.rest = &self.rest[1 + i + 1..];
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, c)) => out.push(c),
                    None => break,
                },
                '\n' => break,
                c => out.push(c),
            }
        }
        Err(format!("line {}: unterminated string", self.line))
    }

    pub(crate) fn expect_next(&mut self, what: &str) -> Result<(usize, Token<'a>), String> {
        self.next()?.ok_or_else(|| format!("line {}: expected {what}, got the end of the file", self.line))
    }

    pub(crate) fn name(&mut self) -> Result<(usize, &'a str), String> {
        match self.expect_next("a field name")? {
            (line, Token::Name(n)) => Ok((line, n)),
            (line, other) => Err(format!("line {line}: expected a field name, got {other}")),
        }
    }

    /// `{`, optionally after a `:`.
    pub(crate) fn open(&mut self, line: usize) -> Result<(), String> {
        match self.expect_next("'{'")? {
            (_, Token::Open) => Ok(()),
            (_, Token::Colon) => self.open(line),
            (at, other) => Err(format!("line {at}: expected '{{' after the field of line {line}, got {other}")),
        }
    }

    /// Whether the next token closes the current message (consumed if so).
    pub(crate) fn close_next(&mut self) -> Result<bool, String> {
        let token = self.expect_next("'}'")?;
        if token.1 == Token::Close {
            return Ok(true);
        }
        self.peeked = Some(token);
        Ok(false)
    }

    /// `: "value"`.
    pub(crate) fn string_field(&mut self, line: usize) -> Result<String, String> {
        match (self.expect_next("':'")?, self.expect_next("a string")?) {
            ((_, Token::Colon), (_, Token::Str(s))) => Ok(s),
            (_, (at, other)) => {
                Err(format!("line {at}: expected a quoted string for the field of line {line}, got {other}"))
            }
        }
    }

    /// `: true` or `: false` (or 1 / 0, as protobuf's text format allows).
    pub(crate) fn bool_field(&mut self, line: usize, field: &str) -> Result<bool, String> {
        match (self.expect_next("':'")?, self.expect_next("true or false")?) {
            ((_, Token::Colon), (_, Token::Name("true" | "True" | "t") | Token::Scalar("1"))) => Ok(true),
            ((_, Token::Colon), (_, Token::Name("false" | "False" | "f") | Token::Scalar("0"))) => Ok(false),
            (_, (at, other)) => {
                Err(format!("line {at}: expected true or false for {field} of line {line}, got {other}"))
            }
        }
    }

    /// `: N`, a number for the field `field` of `line`.
    pub(crate) fn number_field<T: std::str::FromStr>(&mut self, line: usize, field: &str) -> Result<T, String> {
        match (self.expect_next("':'")?, self.expect_next("a number")?) {
            ((_, Token::Colon), (at, Token::Scalar(n))) => {
                n.parse().map_err(|_| format!("line {at}: {field} must be a non-negative integer, got {n:?}"))
            }
            (_, (at, other)) => Err(format!("line {at}: expected a number for {field} of line {line}, got {other}")),
        }
    }

    /// `: N` or `: [N, M, ...]`, numbers for the repeated field `field`.
    pub(crate) fn numbers_field<T: std::str::FromStr>(&mut self, line: usize, field: &str) -> Result<Vec<T>, String> {
        match self.expect_next("':'")? {
            (_, Token::Colon) => {}
            (at, other) => return Err(format!("line {at}: expected ':' after {field} of line {line}, got {other}")),
        }
        let parse = |at: usize, n: &str| {
            n.parse().map_err(|_| format!("line {at}: {field} must be non-negative integers, got {n:?}"))
        };
        match self.expect_next("a number or '['")? {
            (at, Token::Scalar(n)) => Ok(vec![parse(at, n)?]),
            (_, Token::ListOpen) => {
                let mut out = Vec::new();
                loop {
                    match self.expect_next("a number or ']'")? {
                        (_, Token::ListClose) => return Ok(out),
                        (at, Token::Scalar(n)) => out.push(parse(at, n)?),
                        (at, other) => return Err(format!("line {at}: expected a number in {field}, got {other}")),
                    }
                }
            }
            (at, other) => Err(format!("line {at}: expected a number for {field} of line {line}, got {other}")),
        }
    }

    /// A field's value: `: scalar`, `: "string"`, or a message `{ ... }`.
    pub(crate) fn skip_value(&mut self) -> Result<(), String> {
        let (line, token) = self.expect_next("a value")?;
        let token = if token == Token::Colon { self.expect_next("a value")?.1 } else { token };
        match token {
            Token::Str(_) | Token::Scalar(_) | Token::Name(_) => Ok(()),
            Token::ListOpen => {
                while self.expect_next("']'")?.1 != Token::ListClose {}
                Ok(())
            }
            Token::Open => {
                let mut depth = 1;
                while depth > 0 {
                    match self.expect_next("'}'")?.1 {
                        Token::Open => depth += 1,
                        Token::Close => depth -= 1,
                        _ => {}
                    }
                }
                Ok(())
            }
            other => Err(format!("line {line}: expected a value, got {other}")),
        }
    }
}
