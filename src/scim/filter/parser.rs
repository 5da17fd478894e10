//! Recursive-descent parser for the RFC 7644 §3.4.2.2 grammar. Precedence, loosest
//! first: `or`, `and`, `not`, then parentheses, comparisons and value paths. Keywords
//! are case-insensitive. Nesting and length are bounded by [`MAX_FILTER_DEPTH`] and
//! [`MAX_FILTER_LEN`].

use super::lexer::{err, lex, Tok};
use super::{AttrPath, CompValue, CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN};
use crate::scim::error::Error;

pub(super) fn parse(input: &str) -> Result<Filter, Error> {
    if input.len() > MAX_FILTER_LEN {
        return Err(Error::invalid_filter(format!(
            "filter is longer than {MAX_FILTER_LEN} bytes"
        )));
    }
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: input.len(),
        depth: 0,
        peak: 0,
        in_brackets: false,
    };
    let f = p.or_expr()?;
    match p.toks.get(p.i) {
        None => Ok(f),
        Some((pos, _)) => Err(err(*pos, "unexpected token")),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
    depth: usize,
    /// Deepest nesting reached so far (see `value_path`).
    peak: usize,
    in_brackets: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(_, t)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|(p, _)| *p).unwrap_or(self.end)
    }
    fn next(&mut self) -> Option<(usize, Tok)> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        self.peak = self.peak.max(self.depth);
        if self.depth > MAX_FILTER_DEPTH {
            return Err(err(
                self.pos(),
                &format!("nesting deeper than {MAX_FILTER_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Filter, Error> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            self.i += 1;
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, Error> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.i += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, Error> {
        // `not` is a keyword unless it is followed by an operator (an attribute named "not").
        if self.keyword("not") && !self.next_is_operator() {
            self.i += 1;
            // `not (…)` counts once: the parenthesis already counts.
            let counted = !matches!(self.peek(), Some(Tok::LParen));
            if counted {
                self.enter()?;
            }
            let inner = self.unary()?;
            if counted {
                self.depth -= 1;
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn next_is_operator(&self) -> bool {
        matches!(self.toks.get(self.i + 1), Some((_, Tok::Word(w)))
            if w.eq_ignore_ascii_case("pr") || CompareOp::from_keyword(w).is_some())
    }

    fn primary(&mut self) -> Result<Filter, Error> {
        let pos = self.pos();
        match self.next() {
            Some((_, Tok::LParen)) => {
                self.enter()?;
                let f = self.or_expr()?;
                match self.next() {
                    Some((_, Tok::RParen)) => {}
                    _ => {
                        return Err(err(
                            self.toks.get(self.i - 1).map_or(self.end, |t| t.0),
                            "expected ')'",
                        ))
                    }
                }
                self.depth -= 1;
                Ok(f)
            }
            Some((_, Tok::Word(w))) => {
                let path = AttrPath::parse(&w).map_err(|_| err(pos, "invalid attribute path"))?;
                if matches!(self.peek(), Some(Tok::LBracket)) {
                    self.value_path(path, pos)
                } else {
                    self.attr_exp(path)
                }
            }
            None => Err(err(pos, "unexpected end of filter, expected an expression")),
            Some(_) => Err(err(pos, "expected an attribute path or '('")),
        }
    }

    fn value_path(&mut self, path: AttrPath, pos: usize) -> Result<Filter, Error> {
        if self.in_brackets {
            return Err(err(pos, "value paths cannot nest"));
        }
        if path.sub.is_some() {
            return Err(err(pos, "a value path cannot follow a sub-attribute"));
        }
        self.i += 1; // '['
        self.enter()?;
        self.in_brackets = true;
        let outer_peak = std::mem::replace(&mut self.peak, self.depth);
        let inner = self.or_expr()?;
        let inner_peak = self.peak;
        self.peak = outer_peak.max(inner_peak);
        self.in_brackets = false;
        match self.next() {
            Some((_, Tok::RBracket)) => {}
            _ => {
                return Err(err(
                    self.toks.get(self.i - 1).map_or(self.end, |t| t.0),
                    "expected ']'",
                ))
            }
        }
        self.depth -= 1;
        let filter = if let Some(Tok::DotWord(sub)) = self.peek().cloned() {
            let sub_pos = self.pos();
            // Normalising `a[x or y].b …` to `a[(x or y) and b …]` adds one level;
            // refuse it here so that every printed filter parses back.
            if matches!(inner, Filter::Or(..)) && inner_peak + 1 > MAX_FILTER_DEPTH {
                return Err(err(
                    sub_pos,
                    &format!("nesting deeper than {MAX_FILTER_DEPTH}"),
                ));
            }
            self.i += 1;
            let sub = AttrPath::parse(&sub)
                .ok()
                .filter(|p| p.urn.is_none() && p.sub.is_none())
                .ok_or_else(|| err(sub_pos, "invalid sub-attribute"))?;
            let cond = self.attr_exp(sub)?;
            Filter::And(Box::new(inner), Box::new(cond))
        } else {
            inner
        };
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    fn attr_exp(&mut self, path: AttrPath) -> Result<Filter, Error> {
        let pos = self.pos();
        let op = match self.next() {
            Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(path))
            }
            Some((_, Tok::Word(w))) => CompareOp::from_keyword(&w)
                .ok_or_else(|| err(pos, "expected an operator (eq ne co sw ew gt ge lt le pr)"))?,
            _ => {
                return Err(err(
                    pos,
                    "expected an operator (eq ne co sw ew gt ge lt le pr)",
                ))
            }
        };
        let pos = self.pos();
        let value = match self.next() {
            Some((_, Tok::Str(s))) => CompValue::Str(s),
            Some((_, Tok::Num(n))) => CompValue::Num(n),
            Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => {
                return Err(err(
                    pos,
                    "expected a value (string, number, true, false, null)",
                ))
            }
        };
        Ok(Filter::Compare { path, op, value })
    }
}
