//! What a page of a newest-first list asks for (a task's history, a
//! user's inbox): a size and where to start.

use crate::error::{FieldError, Problem};

/// What a page asks for: `limit` and `cursor` (the id of the last entry of
/// the page before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery<K> {
    /// How many entries at most.
    pub limit: usize,
    /// Only entries older than this one.
    pub cursor: Option<K>,
}

impl<K> PageQuery<K> {
    /// The page size when `limit` is not given.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The largest `limit` allowed.
    pub const MAX_LIMIT: usize = 200;

    /// Parses a URL query string such as `limit=20&cursor=01J...`, reading
    /// cursors with `cursor`; any other parameter goes to `other`, which
    /// answers whether it knows it, and `known` lists them all for the error.
    pub fn parse(
        query: &str,
        cursor: impl Fn(&str) -> Option<K>,
        known: &'static str,
        mut other: impl FnMut(&str, &str) -> Result<bool, Problem>,
    ) -> Result<Self, FieldError> {
        let mut q = Self {
            limit: Self::DEFAULT_LIMIT,
            cursor: None,
        };
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let err = |problem| FieldError::new(name.as_ref(), problem);
            if seen.iter().any(|s| *s == name) {
                return Err(err(Problem::GivenTwice));
            }
            seen.push(name.to_string());
            match name.as_ref() {
                "limit" => {
                    q.limit = crate::task::query::limit(&value, Self::MAX_LIMIT).map_err(err)?
                }
                "cursor" => q.cursor = Some(cursor(&value).ok_or(err(Problem::BadCursor))?),
                _ if other(&name, &value).map_err(err)? => {}
                _ => return Err(err(Problem::UnknownField { known })),
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: usize, cursor: Option<u32>) -> PageQuery<u32> {
        PageQuery { limit, cursor }
    }

    #[test]
    fn queries_name_what_is_wrong() {
        let parse = |q: &str| {
            PageQuery::parse(
                q,
                |c| c.parse().ok(),
                "limit, cursor, x",
                |name, _| Ok(name == "x"),
            )
        };
        assert_eq!(parse("limit=5&cursor=9&x=1"), Ok(query(5, Some(9))));
        assert_eq!(parse("").map(|q| q.limit), Ok(50));
        let field = |q: &str| parse(q).map_err(|e| e.field);
        assert_eq!(field("cursor=nine"), Err("cursor".into()));
        assert_eq!(field("limit=0"), Err("limit".into()));
        assert_eq!(field("limit=1&limit=2"), Err("limit".into()));
        assert_eq!(field("y=1"), Err("y".into()));
    }
}
