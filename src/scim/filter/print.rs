//! The printer: a canonical form (lower-case keywords, JSON string escapes, every
//! nested `and`/`or`/`not` operand parenthesised where precedence needs it) that
//! parses back to the same AST.

use std::fmt;

use super::{CompValue, Filter};

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Str(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
            CompValue::Num(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

/// Binding strength: or < and < not/atoms.
fn level(f: &Filter) -> u8 {
    match f {
        Filter::Or(..) => 0,
        Filter::And(..) => 1,
        _ => 2,
    }
}

/// Writes `child`, parenthesised when it binds looser than `min`.
fn operand(f: &mut fmt::Formatter<'_>, child: &Filter, min: u8) -> fmt::Result {
    if level(child) < min {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str()),
            Filter::Present(path) => write!(f, "{path} pr"),
            // Left-assocative chains print flat; a right operand of the same level
            // needs parentheses to keep its shape.
            Filter::And(l, r) => {
                operand(f, l, 1)?;
                f.write_str(" and ")?;
                operand(f, r, 2)
            }
            Filter::Or(l, r) => {
                operand(f, l, 0)?;
                f.write_str(" or ")?;
                operand(f, r, 1)
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}
