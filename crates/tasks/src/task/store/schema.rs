//! The app's tables, version by version ([`sql::migrate`], ADR 16).

use sql::Migration;

/// Every version of the schema, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    TASKS,
    OUTBOX,
    ACCOUNTS_AND_REMINDERS,
    PROJECTS,
    PROJECT_LISTINGS,
    ORDER,
    VIEWS,
    PUSH_SUBSCRIPTIONS,
    IDEMPOTENCY_KEYS,
    CALENDAR_FEEDS,
    IMPORTS,
];

/// Tasks, their changes (the history, the change feed and the outbox in
/// one), and one row per user that numbers the user's changes and counts
/// their tasks.
const TASKS: Migration = Migration {
    version: 1,
    name: "tasks, task_tags, changes, users, successors",
    both: "
-- One row per user. A write of the user's tasks updates it first: the row
-- lock puts the user's writes in one line, so that changes are numbered
-- without gaps in the order they commit, and the task count is exact.
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    last_change BIGINT NOT NULL,
    tasks BIGINT NOT NULL
);

-- A task: the whole of it in `body` (the stored form, JSON), and beside it
-- what listings filter and sort by. Instants are microseconds since 1970.
CREATE TABLE tasks (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    completed BOOLEAN NOT NULL,
    priority BIGINT NOT NULL,
    due_at BIGINT,
    title_key TEXT NOT NULL,
    search TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX tasks_by_status ON tasks (user_id, completed, id);
CREATE INDEX tasks_by_due ON tasks (user_id, completed, due_at, id);
CREATE INDEX tasks_by_priority ON tasks (user_id, completed, priority, id);
CREATE INDEX tasks_by_title ON tasks (user_id, completed, title_key, id);
CREATE INDEX tasks_all_by_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_all_by_priority ON tasks (user_id, priority, id);
CREATE INDEX tasks_all_by_title ON tasks (user_id, title_key, id);

-- A task's tags, one row each: a filter by tag is an exact match.
CREATE TABLE task_tags (
    user_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (user_id, task_id, tag)
);

-- Every change of a user's tasks, numbered per user: the change feed, each
-- task's history (kept after the task is deleted), and the event as it is
-- published (version 1 also marked it published here, `published_at`).
CREATE TABLE changes (
    user_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    task_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    published_at BIGINT,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX changes_of_task ON changes (user_id, task_id, event_id);
CREATE INDEX changes_unpublished ON changes (at) WHERE published_at IS NULL;

-- The next occurrence made for a completed repeating task: one, however
-- often its completion is delivered, and whatever was deleted since.
CREATE TABLE successors (
    user_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    next_id TEXT NOT NULL,
    PRIMARY KEY (user_id, task_id)
);
",
    sqlite: "",
    // Text compares byte by byte, as Rust compares strings (SQLite's
    // BINARY): titles sort as the listing's cursors expect, whatever the
    // database's default collation.
    postgres: "
ALTER TABLE tasks ALTER COLUMN id TYPE TEXT COLLATE \"C\";
ALTER TABLE tasks ALTER COLUMN title_key TYPE TEXT COLLATE \"C\";
ALTER TABLE task_tags ALTER COLUMN task_id TYPE TEXT COLLATE \"C\";
ALTER TABLE changes ALTER COLUMN event_id TYPE TEXT COLLATE \"C\";
",
};

/// The outbox apart from the changes: a small table of what is still to be
/// published, a row inserted with its change and deleted once its event is
/// published. `changes` so stays as written, and a publish deletes a small
/// row instead of writing a whole change's row anew.
const OUTBOX: Migration = Migration {
    version: 2,
    name: "outbox",
    both: "
-- The changes whose events are not published yet, by when they were made
-- (the safety net publishes those older than a few seconds).
CREATE TABLE outbox (
    user_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX outbox_by_age ON outbox (at);
-- What version 1 left unpublished.
INSERT INTO outbox (user_id, seq, at)
SELECT user_id, seq, at FROM changes WHERE published_at IS NULL;
-- `changes.published_at` stays for instances of version 1 still running
-- beside this one (a rolling deploy); nothing reads it any more.
DROP INDEX changes_unpublished;
",
    sqlite: "",
    postgres: "",
};

/// What was left in the Dapr state store: accounts, settings, inboxes, the
/// reminders' calendar and the dead letters. Conversations and the chat's
/// rate stay there (they expire by a TTL).
const ACCOUNTS_AND_REMINDERS: Migration = Migration {
    version: 3,
    name: "accounts, user_settings, notifications, reminders, dead_letters",
    both: "
-- An account, for signing in: the password only as its argon2id hash
-- (a PHC string), and the failed sign-ins in a row that slow it down.
CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure BIGINT
);

-- A user's own settings (JSON); a user without a row has the defaults.
CREATE TABLE user_settings (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    body TEXT NOT NULL
);

-- The reminders that reached a user: one row each however often a
-- reminder is delivered (its id orders them by when it was to fire).
CREATE TABLE notifications (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    read BOOLEAN NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX notifications_unread ON notifications (user_id, read, id);

-- Every reminder armed, by when it fires: the sweep's calendar. A row goes
-- once the sweep has seen its reminder due.
CREATE TABLE reminders (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    reminder_index BIGINT NOT NULL,
    remind_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX reminders_by_time ON reminders (remind_at);

-- Events and jobs a consumer gave up on, with why, once each.
CREATE TABLE dead_letters (
    consumer TEXT NOT NULL,
    id TEXT NOT NULL,
    reason TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (consumer, id)
);
",
    sqlite: "",
    postgres: "
ALTER TABLE notifications ALTER COLUMN id TYPE TEXT COLLATE \"C\";
",
};

/// Projects: a user's own lists of tasks. The Inbox, which every user has,
/// has no row: a task in it has no `project_id`.
const PROJECTS: Migration = Migration {
    version: 4,
    name: "projects, tasks.project_id",
    both: "
-- A project the user made. Its name is unique among the user's projects
-- whatever its case (`name_key`, lower-cased).
CREATE TABLE projects (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    color TEXT NOT NULL,
    archived BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX projects_by_name ON projects (user_id, name_key);

-- The project a task is in; NULL for the Inbox. A project's listing and
-- its counts read this index.
ALTER TABLE tasks ADD COLUMN project_id TEXT;
CREATE INDEX tasks_by_project ON tasks (user_id, project_id, completed, id);
",
    // SQLite cannot add a foreign key to a table; there a write checks the
    // project inside its transaction, which no other write can enter.
    sqlite: "",
    // The task's project must exist: a write that checked it before the
    // project was deleted fails instead of leaving the task in no project,
    // and a project cannot be deleted while tasks are in it.
    postgres: "
ALTER TABLE projects ALTER COLUMN id TYPE TEXT COLLATE \"C\";
ALTER TABLE tasks ALTER COLUMN project_id TYPE TEXT COLLATE \"C\";
ALTER TABLE tasks ADD CONSTRAINT tasks_project
    FOREIGN KEY (user_id, project_id) REFERENCES projects (user_id, id);
",
};

/// A project's listings on indexes of their own: its tasks in creation
/// order whatever their status, its pending tasks by due date, and the
/// counts of every project's pending and overdue tasks from the index alone
/// (`bench/run projects`: version 4's one index sorted a project's tasks
/// for every page but its pending ones in creation order).
const PROJECT_LISTINGS: Migration = Migration {
    version: 5,
    name: "indexes of a project's listings",
    both: "
DROP INDEX tasks_by_project;
CREATE INDEX tasks_of_project ON tasks (user_id, project_id, id);
CREATE INDEX tasks_of_project_by_due ON tasks (user_id, project_id, completed, due_at, id);
",
    sqlite: "",
    postgres: "",
};

/// The order a person gives a project's tasks: each task's key in it
/// (`crate::task::rank`), its id until it is moved by hand.
const ORDER: Migration = Migration {
    version: 6,
    name: "tasks.rank",
    both: "
ALTER TABLE tasks ADD COLUMN rank TEXT;
UPDATE tasks SET rank = id;
CREATE INDEX tasks_by_rank ON tasks (user_id, project_id, rank, id);
",
    sqlite: "",
    // Keys compare byte by byte, as Rust compares them.
    postgres: "
ALTER TABLE tasks ALTER COLUMN rank TYPE TEXT COLLATE \"C\";
",
};

/// Saved views: a user's named filters, each kept as the JSON object a
/// view answers with (`crate::view`).
const VIEWS: Migration = Migration {
    version: 7,
    name: "views",
    both: "
CREATE TABLE views (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX views_by_name ON views (user_id, name_key);
",
    sqlite: "",
    postgres: "",
};

/// The browsers a user's reminders are pushed to (`crate::reminders::push`):
/// one row per endpoint, with the keys its messages are encrypted for.
const PUSH_SUBSCRIPTIONS: Migration = Migration {
    version: 8,
    name: "push_subscriptions",
    both: "
CREATE TABLE push_subscriptions (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX push_subscriptions_by_endpoint ON push_subscriptions (user_id, endpoint);
",
    sqlite: "",
    postgres: "",
};

/// The keys of creates a client may send again (`crate::task::once`): the
/// body's fingerprint and the first answer, kept for a week.
const IDEMPOTENCY_KEYS: Migration = Migration {
    version: 9,
    name: "idempotency_keys",
    both: "
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);
",
    sqlite: "",
    postgres: "",
};

/// The secret addresses of users' calendar feeds (`crate::calendar`): the
/// SHA-256 of each user's one token, never the token.
const CALENDAR_FEEDS: Migration = Migration {
    version: 10,
    name: "calendar_feeds",
    both: "
CREATE TABLE calendar_feeds (
    user_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    made_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_by_token ON calendar_feeds (token_hash);
",
    sqlite: "",
    postgres: "",
};

/// What imports made (`crate::import`): one row per line or task of a file
/// brought in, by a key of what it says, so that importing it again makes
/// nothing twice.
const IMPORTS: Migration = Migration {
    version: 11,
    name: "imports",
    both: "
CREATE TABLE imports (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
",
    sqlite: "",
    postgres: "",
};
