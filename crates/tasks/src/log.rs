//! Lists kept under one key in the order of their entries' ids, each id at
//! most once, and read newest first in cursor pages: a task's history and a
//! user's inbox. An entry delivered twice is recorded once.

use crate::error::{FieldError, Problem};

/// An entry of a log, named by an id that orders it.
pub trait Entry {
    /// The id's type: ids order entries, oldest first.
    type Id: Ord + Copy;

    /// The entry's id.
    fn id(&self) -> Self::Id;
}

/// Puts `entry` in its place in `entries` (in id order) unless one of its id
/// is there; answers whether it was put.
pub fn insert_once<E: Entry>(entries: &mut Vec<E>, entry: E) -> bool {
    let at = entries.partition_point(|e| e.id() < entry.id());
    if entries.get(at).is_some_and(|e| e.id() == entry.id()) {
        return false;
    }
    entries.insert(at, entry);
    true
}

/// A page of `entries` (in id order) newest first: at most `query.limit` of
/// those older than its cursor that `keep` keeps, and the cursor of the next
/// page when there are more.
pub fn newest_first<E: Entry>(
    mut entries: Vec<E>,
    query: &PageQuery<E::Id>,
    keep: impl Fn(&E) -> bool,
) -> (Vec<E>, Option<E::Id>) {
    let older = match query.cursor {
        Some(cursor) => entries.partition_point(|e| e.id() < cursor),
        None => entries.len(),
    };
    entries.truncate(older);
    let mut page: Vec<E> = entries
        .into_iter()
        .rev()
        .filter(keep)
        .take(query.limit.saturating_add(1))
        .collect();
    let next = (page.len() > query.limit)
        .then(|| {
            page.truncate(query.limit);
            page.last().map(Entry::id)
        })
        .flatten();
    (page, next)
}

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
                "limit" => q.limit = crate::query::limit(&value, Self::MAX_LIMIT).map_err(err)?,
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

    impl Entry for u32 {
        type Id = u32;
        fn id(&self) -> u32 {
            *self
        }
    }

    fn query(limit: usize, cursor: Option<u32>) -> PageQuery<u32> {
        PageQuery { limit, cursor }
    }

    #[test]
    fn an_entry_is_kept_once_in_its_place() {
        let mut log = vec![1, 3];
        assert!(insert_once(&mut log, 2));
        assert!(!insert_once(&mut log, 3));
        assert_eq!(log, [1, 2, 3]);
    }

    #[test]
    fn pages_go_from_the_newest_and_never_skip_or_repeat() {
        let log: Vec<u32> = (1..=7).collect();
        let (first, next) = newest_first(log.clone(), &query(3, None), |_| true);
        assert_eq!((first, next), (vec![7, 6, 5], Some(5)));
        let (second, next) = newest_first(log.clone(), &query(3, next), |_| true);
        assert_eq!((second, next), (vec![4, 3, 2], Some(2)));
        let (last, next) = newest_first(log.clone(), &query(3, next), |_| true);
        assert_eq!((last, next), (vec![1], None));
        let (exact, next) = newest_first(log, &query(7, None), |_| true);
        assert_eq!(
            (exact.len(), next),
            (7, None),
            "no next page when none is left"
        );
    }

    #[test]
    fn a_filtered_page_is_full_while_entries_are_left() {
        let log: Vec<u32> = (1..=10).collect();
        let odd = |e: &u32| e % 2 == 1;
        let (page, next) = newest_first(log.clone(), &query(2, None), odd);
        assert_eq!((page, next), (vec![9, 7], Some(7)));
        let (page, next) = newest_first(log, &query(3, next), odd);
        assert_eq!((page, next), (vec![5, 3, 1], None));
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
