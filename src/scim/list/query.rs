//! The list query: from a URL query string (`GET /Users?filter=…`, RFC 7644
//! §3.4.2) or from a `POST /.search` body (§3.4.3).

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::projection::parse_paths;
use crate::scim::error::Error;
use crate::scim::filter::{self, Filter};
use crate::scim::json::get_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::SEARCH_REQUEST_URN;

/// Largest page we serve; a larger `count` is lowered to this (RFC 7644 §3.4.2.4
/// lets the server return fewer). Advertised as `filter.maxResults`.
pub const MAX_COUNT: usize = 1000;

/// `sortOrder`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

/// A parsed list or search request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 become 1.
    pub start_index: usize,
    /// `None`: the server's page size. Negative values become 0; capped at [`MAX_COUNT`].
    pub count: Option<usize>,
    pub attributes: Vec<AttrPath>,
    pub excluded_attributes: Vec<AttrPath>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    /// RFC 9865 cursor paging: `Some("")` asks for the first page, `Some(c)` for the
    /// page `c` (a previous `nextCursor`) points at; `None`: index paging.
    pub cursor: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: None,
            start_index: 1,
            count: None,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            sort_by: None,
            sort_order: SortOrder::Ascending,
            cursor: None,
        }
    }
}

/// Decodes one query-string component: `+` and `%20` are both spaces.
pub(crate) fn decode(s: &str) -> Result<String, Error> {
    let plus = s.replace('+', " ");
    percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::invalid_syntax("query string is not valid UTF-8"))
}

/// `(name, value)` pairs of a query string (without the leading `?`), decoded.
pub(crate) fn pairs(qs: &str) -> Result<Vec<(String, String)>, Error> {
    qs.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

fn int(name: &str, s: &str) -> Result<i64, Error> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| Error::invalid_value(format!("'{name}' must be an integer")))
}

impl ListQuery {
    /// Parses a query string. Parameter names are case-insensitive; unknown ones
    /// (Entra's `aadOptscim062020`) are ignored; a bad filter is `400 invalidFilter`.
    pub fn from_query_string(qs: &str) -> Result<ListQuery, Error> {
        let mut q = ListQuery::default();
        let mut indexed = false;
        for (k, v) in pairs(qs)? {
            indexed |= k.eq_ignore_ascii_case("startIndex");
            q.set(&k, Param::Text(&v))?;
        }
        q.one_paging_method(indexed)
    }

    /// RFC 9865 §2.1: a request pages by index or by cursor, not both.
    fn one_paging_method(self, indexed: bool) -> Result<ListQuery, Error> {
        if indexed && self.cursor.is_some() {
            return Err(Error::invalid_value(
                "'startIndex' and 'cursor' cannot be combined: page by index or by cursor",
            ));
        }
        Ok(self)
    }

    /// Parses a `POST /.search` body (`SearchRequest`; a missing `schemas` is tolerated).
    pub fn from_search_body(body: &Value) -> Result<ListQuery, Error> {
        let o = body
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("SearchRequest must be an object"))?;
        if let Some(s) = get_ci(o, "schemas") {
            let ok = s.as_array().is_some_and(|a| {
                a.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST_URN))
                })
            });
            if !ok {
                return Err(Error::invalid_syntax(format!(
                    "'schemas' must contain {SEARCH_REQUEST_URN}"
                )));
            }
        }
        let mut q = ListQuery::default();
        let indexed = o
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("startIndex") && !v.is_null());
        for (k, v) in o {
            match v {
                Value::Null => {}
                Value::String(s) => q.set(k, Param::Text(s))?,
                Value::Number(n) => match n.as_i64() {
                    Some(i) => q.set(k, Param::Int(i))?,
                    None => q.set(k, Param::Text(&n.to_string()))?,
                },
                Value::Array(a) => {
                    let joined: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                    if joined.len() != a.len() {
                        return Err(Error::invalid_value(format!(
                            "'{k}' must be a list of strings"
                        )));
                    }
                    q.set(k, Param::Text(&joined.join(",")))?
                }
                _ => {}
            }
        }
        q.one_paging_method(indexed)
    }

    fn set(&mut self, name: &str, v: Param<'_>) -> Result<(), Error> {
        let text = |v: &Param<'_>| match v {
            Param::Text(s) => s.to_string(),
            Param::Int(i) => i.to_string(),
        };
        let number = |v: &Param<'_>| match v {
            Param::Int(i) => Ok(*i),
            Param::Text(s) => int(name, s),
        };
        match name.to_ascii_lowercase().as_str() {
            "filter" => {
                let f = text(&v);
                self.filter = if f.trim().is_empty() {
                    None
                } else {
                    Some(filter::parse(&f)?)
                };
            }
            "startindex" => self.start_index = number(&v)?.max(1) as usize,
            "cursor" => {
                let c = text(&v);
                // RFC 9865 §2.1: cursors hold URL-unreserved characters only.
                let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
                if !c.bytes().all(unreserved) {
                    return Err(Error::invalid_cursor(
                        "'cursor' must be empty (first page) or a nextCursor this server returned",
                    ));
                }
                self.cursor = Some(c);
            }
            "count" => self.count = Some((number(&v)?.max(0) as usize).min(MAX_COUNT)),
            "attributes" => self.attributes = parse_paths(&text(&v))?,
            "excludedattributes" => self.excluded_attributes = parse_paths(&text(&v))?,
            "sortby" => {
                let s = text(&v);
                self.sort_by = if s.trim().is_empty() {
                    None
                } else {
                    Some(AttrPath::parse(s.trim())?)
                };
            }
            "sortorder" => {
                self.sort_order = match text(&v).trim().to_ascii_lowercase().as_str() {
                    "" | "ascending" => SortOrder::Ascending,
                    "descending" => SortOrder::Descending,
                    _ => {
                        return Err(Error::invalid_value(
                            "'sortOrder' must be ascending or descending",
                        ))
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

enum Param<'a> {
    Text(&'a str),
    Int(i64),
}
