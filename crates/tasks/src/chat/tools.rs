//! The tools the chat runs, as MCP clients and LLMs are told of them: each
//! one's name, what it does, its arguments' JSON schema and its hints (read
//! only, destructive, idempotent). The chat (`crate::chat`) runs them.

use serde_json::{Value, json};

/// The tools, with their JSON schemas and hints.
pub fn definitions() -> Vec<Value> {
    let task = json!({
        "description": "Which task: its id, or words of its title (several matches are listed back).",
        "type": "object",
        "properties": {
            "task_id": {"type": "string"},
            "title": {"type": "string"}
        }
    });
    let project = json!({
        "description": "Which project: \"inbox\", its id, or its name (whatever its case).",
        "type": "string"
    });
    let view = json!({
        "description": "Which saved view: its id, or its name (whatever its case).",
        "type": "string"
    });
    let view_filter = json!({"type": "object", "properties": {
        "status": {"type": "string", "enum": ["pending", "completed", "all"]},
        "priority": {"type": "array", "items": {"type": "string", "enum": ["none", "low", "medium", "high"]}},
        "tag": {"type": "array", "items": {"type": "string"}}, "project": project, "q": {"type": "string"},
        "due": {"type": "string", "enum": ["today", "tomorrow", "this_week", "next_7_days", "overdue", "no_date"]},
        "due_before": {"type": "string"}, "due_after": {"type": "string"}, "overdue": {"type": "boolean"},
        "sort": {"type": "string", "enum": ["created_at", "due_at", "priority", "title", "order"]},
        "order": {"type": "string", "enum": ["asc", "desc"]}}});
    let priority = json!({"type": "string", "enum": ["none", "low", "medium", "high"]});
    let when = json!({"type": "string", "description": "RFC 3339 with an offset, or a local date-time read in time_zone"});
    let tool = |name: &str,
                description: &str,
                schema: Value,
                read_only: bool,
                destructive: bool,
                idempotent: bool| {
        json!({
            "name": name,
            "description": description,
            "inputSchema": schema,
            "annotations": {"readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent, "openWorldHint": false}
        })
    };
    vec![
        tool(
            "add_task",
            "Add a task: only title is required; a repeating task (recurrence, an RFC 5545 RRULE body) needs due_at. To add several at once, pass {\"tasks\": [arguments of one task, ...]}.",
            json!({"type": "object", "properties": {
                "title": {"type": "string", "description": "Required unless tasks is given"},
                "tasks": {"type": "array", "items": {"type": "object"}, "description": "Several tasks, each with these fields"}, "description": {"type": "string"}, "due_at": when,
                "time_zone": {"type": "string", "description": "IANA name; default the user's"},
                "priority": priority, "tags": {"type": "array", "items": {"type": "string"}},
                "recurrence": {"type": "string"}, "recurrence_mode": {"type": "string", "enum": ["schedule", "completion"]},
                "reminders": {"type": "array", "items": {"type": "object"}}, "project": project,
                "steps": {"type": "array", "items": {"type": "string"}, "description": "Its checklist, in order"},
                "idempotency_key": {"type": "string", "description": "Optional, 1 to 255 visible ASCII characters: the task is made once for this key; the same call again answers the same task"}}}),
            false,
            false,
            false,
        ),
        tool(
            "list_tasks",
            "List tasks (pending unless status says otherwise), soonest due first; filters combine. Today including overdue: due_before the end of today.",
            json!({"type": "object", "properties": {
                "status": {"type": "string", "enum": ["pending", "completed", "all"]}, "priority": priority,
                "tags": {"type": "array", "items": {"type": "string"}}, "due_after": when, "due_before": when,
                "overdue": {"type": "boolean"}, "project": project}}),
            true,
            false,
            true,
        ),
        tool(
            "search_tasks",
            "Find tasks whose title, description or tags hold every word of query.",
            json!({"type": "object", "required": ["query"], "properties": {"query": {"type": "string"},
                "status": {"type": "string", "enum": ["pending", "completed", "all"]}}}),
            true,
            false,
            true,
        ),
        tool(
            "complete_task",
            "Mark a task done (completed: false reopens it); a repeating task then brings its next occurrence. Several at once: {\"tasks\": [task, ...]}.",
            json!({"type": "object", "properties": {"task": task, "completed": {"type": "boolean"},
                "tasks": {"type": "array", "items": task, "description": "Several tasks instead of one"}}}),
            false,
            false,
            true,
        ),
        tool(
            "update_task",
            "Change a task's fields (title, description, due_at, priority, tags, recurrence, reminders); add_tags adds to its tags. Moving a repeating task's due_at keeps its series.",
            json!({"type": "object", "required": ["task", "changes"], "properties": {"task": task, "changes": {"type": "object"}}}),
            false,
            false,
            false,
        ),
        tool(
            "delete_task",
            "Delete a task for good (its history stays).",
            json!({"type": "object", "required": ["task"], "properties": {"task": task}}),
            false,
            true,
            true,
        ),
        tool(
            "restore_task",
            "Bring back a deleted task as it was (same id, fields, steps, series; reminders still ahead): by task_id, or the most recently deleted whose title holds the words of title.",
            json!({"type": "object", "required": ["task"], "properties": {"task": task}}),
            false,
            false,
            false,
        ),
        tool(
            "list_activity",
            "What changed, newest first: each change of the user's tasks (added, changed which fields from what to what, completed, reopened, deleted) made at or after since and before until (RFC 3339; \"yesterday\" is the user's day before today in their zone). Deleted tasks included: restore_task brings one back.",
            json!({"type": "object", "properties": {"since": when, "until": when}}),
            true,
            false,
            true,
        ),
        tool(
            "list_projects",
            "List the Inbox and the projects (archived ones with archived: true), each with its pending and overdue counts.",
            json!({"type": "object", "properties": {"archived": {"type": "boolean"}}}),
            true,
            false,
            true,
        ),
        tool(
            "add_project",
            "Make a project: name (unique whatever its case) and an optional color from Todoist's palette (blue, red, green, ...).",
            json!({"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "color": {"type": "string"}}}),
            false,
            false,
            false,
        ),
        tool(
            "update_project",
            "Rename, recolour, archive (archived: true) or unarchive a project; the Inbox cannot be changed.",
            json!({"type": "object", "required": ["project", "changes"], "properties": {"project": project,
                "changes": {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string"}, "archived": {"type": "boolean"}}}}}),
            false,
            false,
            true,
        ),
        tool(
            "move_task",
            "Move a task to another project (\"inbox\" for the Inbox; its history, reminders and series stay), and/or reorder it in its project: to the top or bottom, or right before or after another task. Listings with sort order show that order.",
            json!({"type": "object", "required": ["task"], "properties": {"task": task, "project": project,
                "to": {"type": "string", "enum": ["top", "bottom"]}, "before": task, "after": task}}),
            false,
            false,
            false,
        ),
        tool(
            "add_steps",
            "Add steps to a task's checklist, in order, after those it has.",
            json!({"type": "object", "required": ["task", "steps"], "properties": {"task": task,
                "steps": {"type": "array", "items": {"type": "string"}}}}),
            false,
            false,
            false,
        ),
        tool(
            "complete_step",
            "Check off one step of a task's checklist (completed: false unchecks it); the step by its id (s2), its place from 1, or words of its text.",
            json!({"type": "object", "required": ["task", "step"], "properties": {"task": task,
                "step": {"type": "string"}, "completed": {"type": "boolean"}}}),
            false,
            false,
            true,
        ),
        tool(
            "list_views",
            "List the saved views (named filters), each with how many pending and overdue tasks it selects.",
            json!({"type": "object", "properties": {}}),
            true,
            false,
            true,
        ),
        tool(
            "add_view",
            "Save a view: a name and a filter of the task listing's parameters (status, priority, tag, project, q, due: today|tomorrow|this_week|next_7_days|overdue|no_date in the user's zone, due_before, due_after, overdue, sort, order).",
            json!({"type": "object", "required": ["name", "filter"], "properties": {
                "name": {"type": "string"}, "filter": view_filter}}),
            false,
            false,
            false,
        ),
        tool(
            "show_view",
            "List the tasks a saved view selects, in its order (the first 20).",
            json!({"type": "object", "required": ["view"], "properties": {"view": view}}),
            true,
            false,
            true,
        ),
        tool(
            "update_view",
            "Rename a saved view or give it another filter (which replaces the old whole).",
            json!({"type": "object", "required": ["view", "changes"], "properties": {"view": view,
                "changes": {"type": "object", "properties": {"name": {"type": "string"}, "filter": view_filter}}}}),
            false,
            false,
            true,
        ),
        tool(
            "delete_view",
            "Delete a saved view (its tasks stay).",
            json!({"type": "object", "required": ["view"], "properties": {"view": view}}),
            false,
            true,
            true,
        ),
    ]
}

/// The tools as an OpenAI-compatible chat completion takes them
/// (`{"type": "function", "function": {"name", "description", "parameters"}}`).
pub fn functions() -> Vec<Value> {
    definitions()
        .into_iter()
        .map(|tool| {
            json!({"type": "function", "function": {
                "name": tool["name"], "description": tool["description"], "parameters": tool["inputSchema"]}})
        })
        .collect()
}
