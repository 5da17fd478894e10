//! Filter lexer: turns the input into tokens with byte positions, so parse errors can
//! point at the character where they happened.

use serde_json::Number;

use super::super::error::Error;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// An attribute path, a keyword, `true`/`false`/`null`: decided by the parser.
    Word(String),
    Str(String),
    Num(Number),
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `.sub` right after `]`.
    DotWord(String),
}

/// Splits `input` into `(position, token)` pairs.
pub(super) fn lex(input: &str) -> Result<Vec<(usize, Tok)>, Error> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => out.push((start, Tok::LParen)),
            b')' => out.push((start, Tok::RParen)),
            b'[' => out.push((start, Tok::LBracket)),
            b']' => out.push((start, Tok::RBracket)),
            b'"' => {
                let end = string_end(bytes, i)
                    .ok_or_else(|| err(start, "unterminated string literal"))?;
                let s: String = serde_json::from_str(&input[i..=end])
                    .map_err(|_| err(start, "invalid escape in string literal"))?;
                out.push((start, Tok::Str(s)));
                i = end + 1;
                continue;
            }
            b'-' | b'0'..=b'9' => {
                let end = scan(bytes, i + 1, |c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
                });
                let n = number(&input[i..end]).ok_or_else(|| err(start, "invalid number"))?;
                out.push((start, Tok::Num(n)));
                i = end;
                continue;
            }
            b'.' => {
                let end = scan(bytes, i + 1, word_byte);
                if end == i + 1 {
                    return Err(err(start, "expected a sub-attribute name after '.'"));
                }
                out.push((start, Tok::DotWord(input[i + 1..end].to_owned())));
                i = end;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'$' || c == b'_' => {
                let end = scan(bytes, i + 1, word_byte);
                out.push((start, Tok::Word(input[i..end].to_owned())));
                i = end;
                continue;
            }
            _ => return Err(err(start, "unexpected character")),
        }
        i += 1;
    }
    Ok(out)
}

/// A JSON number. Floats are re-read with the standard library's correctly rounded
/// parser: serde_json's default fast path can be one ULP off, and then a printed
/// filter would not parse back to the same value (found by the `filter_parse` fuzzer).
fn number(text: &str) -> Option<Number> {
    let n: Number = serde_json::from_str(text).ok()?;
    if n.is_f64() {
        return Number::from_f64(text.parse::<f64>().ok()?);
    }
    Some(n)
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.' | b'$')
}

fn scan(bytes: &[u8], mut i: usize, ok: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && ok(bytes[i]) {
        i += 1;
    }
    i
}

/// Index of the closing quote of the string starting at `i`.
fn string_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// An `invalidFilter` error at a byte position.
pub(super) fn err(pos: usize, what: &str) -> Error {
    Error::invalid_filter(format!("{what} at position {pos}"))
}
