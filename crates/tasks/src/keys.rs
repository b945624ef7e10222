//! The per-user layout in the key-value state store (ADR 3).
//!
//! - `task:{user}:{id}`: each task, whole, in its stored form
//!   ([`crate::stored::StoredTask`]); reading one task reads one key.
//! - `index:{user}:{shelf}:{nn}`: the index, what a listing filters, sorts
//!   and pages by, one [`Entry`] per task, in [`SHARDS`] shards per
//!   [`Shelf`]: pending tasks apart from completed ones, so that a user's
//!   history does not slow the list of what is still to do. A task's shard is
//!   `id.random_bits % SHARDS` on the shelf its state puts it on.
//!
//! - `outbox:{user}:{event}`: the record of an event not yet published
//!   (ADR 8), written with the change it reports;
//! - `outbox-net:{user}:{slot}` and `outbox-net:{user}:{slot}:{nn}`: that
//!   the safety net of the user's writes in one slot of time is armed, and
//!   the events recorded in that slot for the tasks of index shard `nn`,
//!   which the net looks for (ADR 8); kept ten minutes;
//! - `next:{user}:{id}`: the id of the task that repeats task `id`, written
//!   with that task, so that a series grows by one task per completed one;
//! - `history:{user}:{id}`: what happened to task `id`, kept after the task
//!   is deleted;
//! - `feed:{user}` and `usage:{user}`: the user's change feed and how many
//!   tasks it has counted, written together by the audit consumer.
//!
//! A write changes the task and its index entry in one transaction, each
//! conditional on the ETag it was read at, so the index and the tasks never
//! disagree. A listing reads the shards of the shelves it needs in one bulk
//! read, and then only the page's tasks.
//!
//! Every key begins with the user's own segment, so no key of one user can be
//! built from another user's path. Dapr reserves `||` for its own prefix, so the
//! separator is `:`, which user ids may not contain.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::model::{Priority, Tag};
use crate::query::{Listed, contains_lowercase};
use crate::{Task, TaskId, UserId};
use events::EventId;

/// How many shards hold one shelf of a user's index: at 5,000 pending tasks
/// about 80 entries (6 KB) a shard, so that a write rewrites little and
/// concurrent writes of one user seldom meet in a shard.
pub const SHARDS: u32 = 64;

/// The key of task `id`.
pub fn task(user: &UserId, id: TaskId) -> String {
    format!("task:{user}:{id}")
}

/// The key of the outbox record of event `id`.
pub fn outbox(user: &UserId, id: EventId) -> String {
    format!("outbox:{user}:{id}")
}

/// The key that marks the safety net of `user`'s writes in `slot` armed.
pub fn net_armed(user: &UserId, slot: i64) -> String {
    format!("outbox-net:{user}:{slot}")
}

/// The key of the events recorded in `slot` for the tasks of index shard
/// `bucket` (see [`bucket`]).
pub fn net(user: &UserId, slot: i64, bucket: u32) -> String {
    format!("outbox-net:{user}:{slot}:{bucket:02}")
}

/// The index shard number of task `id`, on whichever shelf.
pub fn bucket(id: TaskId) -> u32 {
    u32::try_from(id.random_bits() % u128::from(SHARDS)).unwrap_or(0)
}

/// The key that names the next occurrence of repeating task `id`.
pub fn next(user: &UserId, id: TaskId) -> String {
    format!("next:{user}:{id}")
}

/// The key of `user`'s change feed.
pub fn feed(user: &UserId) -> String {
    format!("feed:{user}")
}

/// The key of how many chat messages `user` sent in `minute` (since 1970).
pub fn chat_rate(user: &UserId, minute: i64) -> String {
    format!("chat-rate:{user}:{minute}")
}

/// The key of how many tasks `user` has, as the change feed counted them
/// ([`crate::limits::Usage`]).
pub fn usage(user: &UserId) -> String {
    format!("usage:{user}")
}

/// The key of `user`'s account (for signing in).
pub fn account(user: &UserId) -> String {
    format!("account:{user}")
}

/// The key of `user`'s conversation `id`.
pub fn conversation(user: &UserId, id: &str) -> String {
    format!("conversation:{user}:{id}")
}

/// The key of `user`'s own settings.
pub fn settings(user: &UserId) -> String {
    format!("settings:{user}")
}

/// The key of `user`'s inbox.
pub fn inbox(user: &UserId) -> String {
    format!("inbox:{user}")
}

/// The key of the history of task `id`.
pub fn history(user: &UserId, id: TaskId) -> String {
    format!("history:{user}:{id}")
}

/// Which part of the index a task's entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Tasks still to do.
    Pending,
    /// Tasks done.
    Completed,
}

impl Shelf {
    /// The shelf of a task that is (or is not) completed.
    pub fn of(completed: bool) -> Self {
        if completed {
            Self::Completed
        } else {
            Self::Pending
        }
    }

    fn letter(self) -> char {
        match self {
            Self::Pending => 'p',
            Self::Completed => 'c',
        }
    }
}

/// The key of the index shard that holds (or will hold) the entry of task
/// `id` on `shelf`.
pub fn shard(user: &UserId, shelf: Shelf, id: TaskId) -> String {
    shard_key(user, shelf, bucket(id))
}

/// The keys of every shard of `shelf`.
pub fn shards(user: &UserId, shelf: Shelf) -> Vec<String> {
    (0..SHARDS).map(|n| shard_key(user, shelf, n)).collect()
}

fn shard_key(user: &UserId, shelf: Shelf, n: u32) -> String {
    format!("index:{user}:{}:{n:02}", shelf.letter())
}

/// The longest description the index keeps in full; of a longer one it
/// keeps only that there is one, and a search that does not find its words
/// in the title or the tags reads the task itself.
pub const INLINE_DESCRIPTION_CHARS: usize = 200;

/// What the index keeps of a task: what listings filter, sort, search and
/// page by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredEntry", into = "StoredEntry")]
pub struct Entry {
    /// The task's id.
    pub id: TaskId,
    /// Its priority.
    pub priority: Priority,
    /// Its due date, as an instant.
    pub due: Option<DateTime<Utc>>,
    /// Its tags, lower-cased.
    pub tags: Vec<String>,
    /// Its title.
    pub title: String,
    /// Its description, as far as the index keeps it.
    pub description: Indexed,
}

/// What the index keeps of a task's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexed {
    /// There is none.
    None,
    /// There is one, too long to keep here: read the task.
    Elsewhere,
    /// It is this text.
    Text(String),
}

impl Entry {
    /// The entry of `task`.
    pub fn of(task: &Task) -> Self {
        Self {
            id: task.id,
            priority: task.priority,
            due: task.due_at.map(|d| d.with_timezone(&Utc)),
            tags: task.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            title: task.title.as_str().to_owned(),
            description: match task.description.as_ref().map(|d| d.as_str()) {
                None => Indexed::None,
                Some(d) if d.chars().count() > INLINE_DESCRIPTION_CHARS => Indexed::Elsewhere,
                Some(d) => Indexed::Text(d.to_owned()),
            },
        }
    }
}

/// An entry as stored: a JSON array `[id, priority 0-3, due in microseconds
/// or null, [tags], title, description]`, where the description is `null`
/// (none), its text, or `true` (too long to keep here). The shelf says
/// whether it is completed.
#[derive(Serialize, Deserialize)]
struct StoredEntry(TaskId, u8, Option<i64>, Vec<String>, String, Indexed);

impl Serialize for Indexed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::None => serializer.serialize_none(),
            Self::Elsewhere => serializer.serialize_bool(true),
            Self::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Indexed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Indexed;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("null, true or a description")
            }

            fn visit_unit<E>(self) -> Result<Indexed, E> {
                Ok(Indexed::None)
            }

            fn visit_none<E>(self) -> Result<Indexed, E> {
                Ok(Indexed::None)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Indexed, E> {
                Ok(Indexed::Elsewhere)
            }

            fn visit_str<E>(self, text: &str) -> Result<Indexed, E> {
                Ok(Indexed::Text(text.to_owned()))
            }

            fn visit_string<E>(self, text: String) -> Result<Indexed, E> {
                Ok(Indexed::Text(text))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl From<Entry> for StoredEntry {
    fn from(entry: Entry) -> Self {
        let priority = match entry.priority {
            Priority::None => 0,
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
        };
        Self(
            entry.id,
            priority,
            entry.due.map(|d| d.timestamp_micros()),
            entry.tags,
            entry.title,
            entry.description,
        )
    }
}

impl From<StoredEntry> for Entry {
    fn from(StoredEntry(id, priority, due, tags, title, description): StoredEntry) -> Self {
        Self {
            id,
            priority: priority_of(priority),
            due: due.and_then(DateTime::from_timestamp_micros),
            tags,
            title,
            description,
        }
    }
}

/// An entry as a listing reads it: straight from its shard's JSON text,
/// borrowing the text (no string is allocated unless it holds escapes, and
/// tags are only scanned when a filter or a search asks for them). The
/// listing reads every entry of its shelves, so this is the hot path of the
/// component (`cargo run --release -p tasks --example index_parse`).
#[derive(Debug, Clone)]
pub struct EntryRef<'a> {
    /// The task's id.
    pub id: TaskId,
    /// Whether the task is done (known from its shelf).
    pub completed: bool,
    /// Its priority.
    pub priority: Priority,
    /// Its due date, as an instant.
    pub due: Option<DateTime<Utc>>,
    /// Its tags: the JSON array as stored.
    tags: &'a RawValue,
    /// Its title.
    pub title: Cow<'a, str>,
    /// Whether it has a description.
    pub described: bool,
    /// The description when the index keeps it, or once a search has read it
    /// from the task.
    pub description: Option<Cow<'a, str>>,
}

impl EntryRef<'_> {
    /// Whether a search for `words` can only be decided by reading the
    /// description, which the index does not hold.
    pub fn needs_description(&self, words: &[String]) -> bool {
        self.described
            && self.description.is_none()
            && words.iter().any(|word| !self.mentions(word))
    }

    /// Whether any tag satisfies `test`.
    fn any_tag(&self, test: impl FnMut(&str) -> bool) -> bool {
        struct Tags<F>(F);
        impl<'de, F: FnMut(&str) -> bool> Visitor<'de> for Tags<F> {
            type Value = bool;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of tags")
            }

            fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<bool, A::Error> {
                let mut found = false;
                while let Some(Text(tag)) = seq.next_element::<Text<'de>>()? {
                    found = found || (self.0)(&tag);
                }
                Ok(found)
            }
        }
        let mut tags = serde_json::Deserializer::from_str(self.tags.get());
        tags.deserialize_seq(Tags(test)).unwrap_or(false)
    }
}

impl Listed for EntryRef<'_> {
    fn id(&self) -> TaskId {
        self.id
    }

    fn completed(&self) -> bool {
        self.completed
    }

    fn priority(&self) -> Priority {
        self.priority
    }

    fn has_tag(&self, tag: &Tag) -> bool {
        self.any_tag(|t| t == tag.as_str())
    }

    fn due(&self) -> Option<DateTime<Utc>> {
        self.due
    }

    fn created_at(&self) -> DateTime<Utc> {
        self.id.created_at()
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn mentions(&self, word: &str) -> bool {
        contains_lowercase(&self.title, word)
            || self
                .description
                .as_ref()
                .is_some_and(|d| contains_lowercase(d, word))
            || self.any_tag(|tag| tag.contains(word))
    }
}

/// Text borrowed from the JSON when it holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The description of an entry read in place: `null`, `true` or the text.
struct DescriptionRef<'a>(Option<Option<Cow<'a, str>>>);

impl<'de: 'a, 'a> Deserialize<'de> for DescriptionRef<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DescriptionVisitor;
        impl<'de> Visitor<'de> for DescriptionVisitor {
            type Value = DescriptionRef<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("null, true or a description")
            }

            fn visit_unit<E>(self) -> Result<DescriptionRef<'de>, E> {
                Ok(DescriptionRef(None))
            }

            fn visit_none<E>(self) -> Result<DescriptionRef<'de>, E> {
                Ok(DescriptionRef(None))
            }

            fn visit_bool<E>(self, _: bool) -> Result<DescriptionRef<'de>, E> {
                Ok(DescriptionRef(Some(None)))
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<DescriptionRef<'de>, E> {
                Ok(DescriptionRef(Some(Some(Cow::Borrowed(text)))))
            }

            fn visit_str<E>(self, text: &str) -> Result<DescriptionRef<'de>, E> {
                Ok(DescriptionRef(Some(Some(Cow::Owned(text.to_owned())))))
            }
        }
        deserializer.deserialize_any(DescriptionVisitor)
    }
}

/// An entry as stored (see [`StoredEntry`]), read in place.
#[derive(Deserialize)]
struct StoredEntryRef<'a>(
    TaskId,
    u8,
    Option<i64>,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] Text<'a>,
    #[serde(borrow)] DescriptionRef<'a>,
);

/// A shard read in place, for listing.
#[derive(Deserialize)]
pub struct ShardView<'a> {
    #[serde(borrow, rename = "e")]
    entries: Vec<StoredEntryRef<'a>>,
}

impl std::fmt::Debug for ShardView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShardView({} entries)", self.entries.len())
    }
}

impl<'a> ShardView<'a> {
    /// Reads a shard's JSON text in place.
    pub fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The entries, marked done or not as `shelf` says.
    pub fn into_entries(self, shelf: Shelf) -> impl Iterator<Item = EntryRef<'a>> {
        self.entries.into_iter().map(move |stored| {
            let StoredEntryRef(id, priority, due, tags, Text(title), DescriptionRef(description)) =
                stored;
            EntryRef {
                id,
                completed: shelf == Shelf::Completed,
                priority: priority_of(priority),
                due: due.and_then(DateTime::from_timestamp_micros),
                tags,
                title,
                described: description.is_some(),
                description: description.flatten(),
            }
        })
    }
}

fn priority_of(stored: u8) -> Priority {
    match stored {
        0 => Priority::None,
        1 => Priority::Low,
        2 => Priority::Medium,
        _ => Priority::High,
    }
}

/// One shard of the index: entries sorted by id, stored as `{"e": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    #[serde(rename = "e")]
    entries: Vec<Entry>,
}

impl Shard {
    /// The entries, sorted by id.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds or replaces the entry with `entry.id`.
    pub fn put(&mut self, entry: Entry) {
        match self.position(entry.id) {
            Ok(at) => self.entries[at] = entry,
            Err(at) => self.entries.insert(at, entry),
        }
    }

    /// Removes the entry of task `id`; answers whether it was there.
    pub fn remove(&mut self, id: TaskId) -> bool {
        self.position(id).map(|at| self.entries.remove(at)).is_ok()
    }

    fn position(&self, id: TaskId) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.id.cmp(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskSpec;
    use serde_json::json;

    fn task(seconds: i64, random: u128) -> Task {
        let at = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
        TaskSpec::parse(&json!({"title": "t"}))
            .and_then(|spec| spec.create(TaskId::new(at, random), at))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn keys_are_scoped_by_user_and_shelf() {
        let alice = UserId::parse("alice").expect("valid");
        let id = TaskId::new(DateTime::from_timestamp(0, 0).unwrap_or_default(), 33);
        assert_eq!(task_key_text(&alice, id), format!("task:alice:{id}"));
        assert_eq!(shard(&alice, Shelf::Pending, id), "index:alice:p:33");
        assert_eq!(shard(&alice, Shelf::Completed, id), "index:alice:c:33");
        assert_eq!(shards(&alice, Shelf::Pending).len(), 64);
        assert!(
            shards(&alice, Shelf::Completed)
                .iter()
                .all(|k| k.starts_with("index:alice:c:"))
        );
    }

    fn task_key_text(user: &UserId, id: TaskId) -> String {
        super::task(user, id)
    }

    #[test]
    fn ids_spread_over_the_shards() {
        let alice = UserId::parse("alice").expect("valid");
        let mut counts = std::collections::BTreeMap::new();
        for n in 0..6_400u128 {
            let id = TaskId::new(
                DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
                n * 0x9E37_79B9_7F4A_7C15,
            );
            *counts.entry(shard(&alice, Shelf::Pending, id)).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 64);
        assert!(counts.values().all(|&c| c > 50), "{counts:?}");
    }

    #[test]
    fn a_shard_keeps_its_entries_sorted_and_unique() {
        let mut shard = Shard::default();
        let (a, b, c) = (task(3, 0), task(1, 0), task(2, 0));
        for t in [&a, &b, &c, &a] {
            shard.put(Entry::of(t));
        }
        let ids: Vec<TaskId> = shard.entries().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![b.id, c.id, a.id]);
        assert!(shard.remove(c.id));
        assert!(!shard.remove(c.id));
        assert_eq!(shard.entries().len(), 2);
    }

    fn created(body: serde_json::Value) -> Task {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        TaskSpec::parse(&body)
            .and_then(|spec| spec.create(TaskId::new(at, 7), at))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The entries of `tasks` as a listing reads them, from their stored text.
    fn read_back(text: &str) -> Vec<EntryRef<'_>> {
        ShardView::parse(text)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
            .into_entries(Shelf::Pending)
            .collect()
    }

    #[test]
    fn an_entry_is_stored_as_a_short_array_and_read_back() {
        let task = created(
            json!({"title": "Pay rent", "description": "by transfer", "priority": "high",
            "tags": ["Home", "money"], "due_at": "2026-12-01T09:00:00+01:00"}),
        );
        let entry = Entry::of(&task);
        let text = serde_json::to_string(&entry).unwrap_or_default();
        assert_eq!(
            text,
            format!(
                r#"["{}",3,1796112000000000,["home","money"],"Pay rent","by transfer"]"#,
                task.id
            )
        );
        let back: Entry = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, entry);
        let mut shard = Shard::default();
        shard.put(entry);
        let text = serde_json::to_string(&shard).unwrap_or_default();
        let listed = &read_back(&text)[0];
        assert_eq!(
            (
                listed.id,
                listed.priority,
                listed.due,
                listed.title.as_ref()
            ),
            (task.id, task.priority, Listed::due(&task), "Pay rent")
        );
        assert_eq!(listed.description.as_deref(), Some("by transfer"));
        assert_eq!(Listed::created_at(listed), task.created_at);
        let home = Tag::parse("home").unwrap_or_else(|e| panic!("{e}"));
        assert!(listed.has_tag(&home) && !listed.completed);
    }

    #[test]
    fn an_entry_lists_like_its_task_escapes_and_all() {
        let long = format!(
            "Numbers for the BOARD {}",
            "x".repeat(INLINE_DESCRIPTION_CHARS)
        );
        let tasks = [
            created(
                json!({"title": "Quarterly \"Report\"", "description": long, "tags": ["work"]}),
            ),
            created(
                json!({"title": "Tab\there", "description": "short été NOTE", "tags": ["a\"b"]}),
            ),
        ];
        let mut shard = Shard::default();
        for (n, task) in tasks.iter().enumerate() {
            let mut entry = Entry::of(task);
            entry.id = TaskId::new(task.created_at, n as u128);
            shard.put(entry);
        }
        let text = serde_json::to_string(&shard).unwrap_or_default();
        let entries = read_back(&text);
        let words = |w: &[&str]| w.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let (long, short) = (&entries[0], &entries[1]);
        assert_eq!(long.title, "Quarterly \"Report\"");
        assert!(long.mentions("\"report\"") && long.mentions("wor"));
        assert!(!long.needs_description(&words(&["report", "work"])));
        assert!(
            long.needs_description(&words(&["board"])),
            "too long to be in the index"
        );
        assert!(text.contains(r#",true]"#), "{text}");
        assert_eq!(short.title, "Tab\there");
        assert!(short.mentions("été") && short.mentions("note") && short.mentions("a\"b"));
        assert!(!short.needs_description(&words(&["nothing"])));
        let quoted = Tag::parse("a\"b").unwrap_or_else(|e| panic!("{e}"));
        assert!(short.has_tag(&quoted) && !long.has_tag(&quoted));
    }
}
