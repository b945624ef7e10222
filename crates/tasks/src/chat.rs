//! The chat (issue 10): a message is read by the built-in language engine
//! (`language`), its tool calls run on the same use cases as the tasks API
//! (so they publish the same events, through the outbox), and the answer is
//! a short confirmation naming what changed. A conversation (its messages,
//! the listing last shown, the last change for "undo" and "it") lives at
//! `conversation:{user}:{id}` in the Dapr state store for [`KEPT_FOR`]
//! after its last message (Dapr's TTL), readable only by its user. Beside
//! it: the LLM that may read messages instead of the built-in engine
//! ([`llm`]), the tools both call ([`tools`]), and the per-minute count of
//! a user's messages ([`rate`]).

pub mod llm;
pub mod rate;
pub mod tools;

use chrono::{DateTime, Utc};
use dapr::{Dapr, StateStore, Transport, Write};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{FieldError, Problem, ProjectError, TaskError, ViewError};
use crate::limits::Limits;
use crate::project::{Name, Project, ProjectPatch, Projects};
use crate::reminders::user_settings;
use crate::service::{Env, Written};
use crate::settings::Settings;
use crate::task::activity::{self, ActivityQuery};
use crate::task::model::{ProjectId, Step};
use crate::task::once::Once;
use crate::task::outbox::{Outbox, Relayable};
use crate::task::steps::{StepEdit, StepRef};
use crate::task::store::{Created, Place, Storage, TaskStore};
use crate::view::{View, ViewId, ViewPatch, Views};
use crate::{ListQuery, Task, TaskId, TaskPatch, TaskSpec, TimeZone, UserId};
use language::{Listed, Reading, ToolCall};
use llm::Llm;

/// How long a conversation is kept after its last message, in seconds.
pub const KEPT_FOR: u32 = 7 * 24 * 3600;
/// How many messages a conversation keeps (the oldest go).
pub const MAX_MESSAGES: usize = 100;
/// How many tasks a listing in the chat shows.
const LISTED: usize = 20;

/// The key of `user`'s conversation `id`: it begins with the user's own
/// segment, so no key of one user can be built from another user's path
/// (user ids may not hold the `:`).
fn conversation_key(user: &UserId, id: &str) -> String {
    format!("conversation:{user}:{id}")
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The chatbot.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The tools the answer called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<CallMade>,
}

/// A tool call made, with its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallMade {
    /// The tool.
    pub tool: String,
    /// Its arguments.
    pub arguments: Value,
    /// What it gave: the task(s) it touched, or `{"error": ...}`.
    pub result: Value,
}

impl CallMade {
    /// The call as a conversation keeps it: a task in its result as its id
    /// and title only, so that a conversation of a hundred listings stays
    /// small (the tasks themselves are the tasks API's to read).
    fn compact(&self) -> Self {
        let brief = |task: &Value| json!({"id": task["id"], "title": task["title"]});
        let result = match &self.result {
            Value::Object(fields) if fields.contains_key("tasks") => {
                let tasks: Vec<Value> = fields["tasks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(brief)
                    .collect();
                json!({"tasks": tasks})
            }
            Value::Object(fields) if fields.contains_key("id") && fields.contains_key("title") => {
                brief(&self.result)
            }
            other => other.clone(),
        };
        Self {
            result,
            ..self.clone()
        }
    }
}

/// A task as the conversation remembers it for "2" or "it".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    /// Its id.
    pub id: TaskId,
    /// Its title.
    pub title: String,
}

/// The last change, and how to take it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A task was added: undo deletes it.
    Added {
        /// The task.
        task: Task,
    },
    /// A task was marked done or not done: undo marks it back.
    Completed {
        /// The task before.
        task: Task,
    },
    /// A task was deleted: undo adds it again.
    Deleted {
        /// The task as it was.
        task: Task,
    },
    /// A task was changed: undo puts its fields back.
    Updated {
        /// The task before.
        task: Task,
    },
}

impl Change {
    fn task(&self) -> &Task {
        match self {
            Self::Added { task }
            | Self::Completed { task }
            | Self::Deleted { task }
            | Self::Updated { task } => task,
        }
    }
}

/// A conversation as stored and as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: String,
    /// The zone its dates are read and shown in.
    pub time_zone: TimeZone,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
    /// The listing last shown, for "complete 2".
    #[serde(default)]
    pub listing: Vec<Shown>,
    /// The last change, for "undo" and "it".
    #[serde(default)]
    pub last_change: Option<Change>,
    /// The changes before it, the latest last, for "undo the last three
    /// changes" (at most [`language::MOST_UNDONE`] less one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_changes: Vec<Change>,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When its last message was said.
    pub updated_at: DateTime<Utc>,
}

impl Conversation {
    /// A conversation with nothing said yet.
    fn new(id: String, time_zone: TimeZone, now: DateTime<Utc>) -> Self {
        Self {
            id,
            time_zone,
            messages: Vec::new(),
            listing: Vec::new(),
            last_change: None,
            earlier_changes: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

impl Conversation {
    /// Keeps `change` as the last one, the one before among the earlier.
    fn changed(&mut self, change: Change) {
        if let Some(before) = self.last_change.replace(change) {
            self.earlier_changes.push(before);
            let over = self
                .earlier_changes
                .len()
                .saturating_sub(language::MOST_UNDONE - 1);
            self.earlier_changes.drain(..over);
        }
    }
}

/// A message to the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// The conversation it continues, if any.
    pub conversation_id: Option<String>,
    /// What the user said.
    pub message: String,
    /// The zone to read it in (else the conversation's, else the user's
    /// setting).
    pub time_zone: Option<TimeZone>,
}

impl Said {
    /// Parses a chat body: `{"conversation_id"?, "message", "time_zone"?}`.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object such as {\"message\": \"add buy milk tomorrow\"}";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        if let Some(name) = fields
            .keys()
            .find(|k| !matches!(k.as_str(), "conversation_id" | "message" | "time_zone"))
        {
            let known = "conversation_id, message, time_zone";
            return Err(FieldError::new(
                name.clone(),
                Problem::UnknownField { known },
            ));
        }
        let text = |name: &str| -> Result<Option<String>, FieldError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(FieldError::new(
                    name,
                    Problem::WrongType {
                        expected: "a string",
                    },
                )),
            }
        };
        let message =
            text("message")?.ok_or_else(|| FieldError::new("message", Problem::Missing))?;
        let chars = message.chars().count();
        if message.trim().is_empty() {
            return Err(FieldError::new("message", Problem::Empty));
        }
        if message.contains('\0') {
            return Err(FieldError::new("message", Problem::Nul));
        }
        if chars > language::MAX_MESSAGE {
            let max = language::MAX_MESSAGE;
            return Err(FieldError::new(
                "message",
                Problem::TooLong { max, got: chars },
            ));
        }
        let time_zone = text("time_zone")?
            .map(|z| TimeZone::parse(&z).map_err(|p| FieldError::new("time_zone", p)))
            .transpose()?;
        Ok(Self {
            conversation_id: text("conversation_id")?,
            message,
            time_zone,
        })
    }
}

/// What the chat answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The conversation, to continue it.
    pub conversation_id: String,
    /// What the chatbot says.
    pub response: String,
    /// The tools it called.
    pub tool_calls: Vec<CallMade>,
}

/// The chat of one user behind a sidecar.
#[derive(Debug)]
pub struct Chat<'a, T, S> {
    dapr: &'a Dapr<T>,
    /// Where conversations are kept; none for one-off tool calls (MCP).
    store: Option<&'a S>,
    storage: &'a Storage,
    settings: &'a Settings,
    user: &'a UserId,
    /// The LLM to converse with, and the transport to reach it, if one is
    /// configured.
    llm: Option<(&'a Llm, &'a T)>,
    /// The limits the chat's creates and edits keep to.
    limits: Option<Limits>,
}

impl<'a, T: Transport, S: StateStore> Chat<'a, T, S> {
    /// The chat of `user`: tasks in `storage`, their events published
    /// through `dapr` as `settings` say; it keeps no conversations until
    /// given a state store ([`Chat::with_conversations`]).
    pub fn new(
        dapr: &'a Dapr<T>,
        storage: &'a Storage,
        settings: &'a Settings,
        user: &'a UserId,
    ) -> Self {
        Self {
            dapr,
            store: None,
            storage,
            settings,
            user,
            llm: None,
            limits: None,
        }
    }

    /// The chat, its conversations kept in the state store `store`.
    pub fn with_conversations(self, store: &'a S) -> Self {
        Self {
            store: Some(store),
            ..self
        }
    }

    /// The chat, its creates and edits kept within `limits`.
    pub fn with_limits(self, limits: Limits) -> Self {
        Self {
            limits: Some(limits),
            ..self
        }
    }

    /// The chat conversing with `llm` (reached through `web`), the built-in
    /// engine answering when it cannot.
    pub fn with_llm(self, llm: &'a Llm, web: &'a T) -> Self {
        Self {
            llm: Some((llm, web)),
            ..self
        }
    }

    /// The state store conversations are kept in.
    fn conversations(&self) -> Result<&'a S, TaskError> {
        self.store
            .ok_or_else(|| TaskError::Unavailable("this chat keeps no conversations".to_owned()))
    }

    /// Conversation `id`, if `user` has it.
    pub async fn conversation(&self, id: &str) -> Result<Conversation, TaskError> {
        conversation_id(id)?;
        let read = self
            .conversations()?
            .get::<Conversation>(&conversation_key(self.user, id))
            .await?;
        read.map(|r| r.value).ok_or(TaskError::NotFound)
    }

    /// Answers `said`, acting on the user's tasks as it asks.
    pub async fn say(&self, said: &Said, env: &Env) -> Result<Answer, TaskError> {
        // Before anything is done: a chat that cannot keep the
        // conversation does nothing.
        let store = self.conversations()?;
        let (mut conversation, etag) = match &said.conversation_id {
            Some(id) => {
                conversation_id(id)?;
                let key = conversation_key(self.user, id);
                let read = store
                    .get::<Conversation>(&key)
                    .await?
                    .ok_or(TaskError::NotFound)?;
                (read.value, Some(read.etag))
            }
            None => {
                let zone = match said.time_zone {
                    Some(zone) => zone,
                    None => user_settings::get(self.storage, self.user)?.time_zone,
                };
                let id = TaskId::new(env.now, env.random).to_string();
                (Conversation::new(id, zone, env.now), None)
            }
        };
        if let Some(zone) = said.time_zone {
            conversation.time_zone = zone;
        }
        let listing: Vec<Listed> = conversation
            .listing
            .iter()
            .map(|t| Listed {
                id: t.id.to_string(),
                title: t.title.clone(),
            })
            .collect();
        let projects = Projects::new(self.storage, self.user).names()?;
        // The steps of the task "it" names, as they are now (the change
        // keeps the task as it was before, for undo).
        let last = (conversation.last_change.as_ref()).map(|change| change.task().id);
        let current = last.and_then(|id| self.storage.tasks(self.user).get(id).ok());
        let steps: Vec<String> = (current.iter().flat_map(|task| task.steps.0.iter()))
            .map(|step| step.text.as_str().to_owned())
            .collect();
        let context = language::Context::new(env.now, conversation.time_zone.tz(), &listing)
            .with_projects(&projects)
            .with_steps(&steps);
        let mut turn = Turn {
            chat: self,
            conversation: &mut conversation,
            env: *env,
            lines: Vec::new(),
            calls: Vec::new(),
        };
        let (mut answered, mut fell_back) = (false, false);
        if let Some((llm, web)) = self.llm {
            match turn.converse(llm, web, &said.message).await? {
                Ok(()) => answered = true,
                Err(why) => {
                    eprintln!(
                        "chat: the language model failed, the built-in engine answers: {why}"
                    );
                    fell_back = true;
                }
            }
        }
        let reading = if answered {
            None
        } else {
            Some(language::read(&said.message, &context))
        };
        match reading {
            None => {}
            Some(Reading::Calls { calls }) => {
                for call in calls {
                    turn.run(call).await?;
                }
            }
            Some(Reading::Undo { count }) => turn.undo(count).await?,
            Some(Reading::Help) => turn.lines.push(HELP.into()),
            Some(Reading::Unclear { question }) => turn.lines.push(question),
        }
        if fell_back {
            turn.lines.push(
                "(The language model is unavailable, so my built-in engine answered.)".into(),
            );
        }
        let (response, calls) = (turn.lines.join("\n"), turn.calls);
        self.keep_turn(conversation, etag, said, env, response, calls)
            .await
    }

    /// Adds the message and its answer to `conversation`, stores it, and
    /// answers.
    async fn keep_turn(
        &self,
        mut conversation: Conversation,
        etag: Option<String>,
        said: &Said,
        env: &Env,
        response: String,
        calls: Vec<CallMade>,
    ) -> Result<Answer, TaskError> {
        let user_message = Message {
            role: Role::User,
            text: said.message.clone(),
            at: env.now,
            tool_calls: Vec::new(),
        };
        let answer = Message {
            role: Role::Assistant,
            text: response.clone(),
            at: env.now,
            tool_calls: calls.iter().map(CallMade::compact).collect(),
        };
        conversation.messages.extend([user_message, answer]);
        let over = conversation.messages.len().saturating_sub(MAX_MESSAGES);
        conversation.messages.drain(..over);
        conversation.updated_at = env.now;
        let key = conversation_key(self.user, &conversation.id);
        let write = Write::put(&key, &conversation, etag)?.expiring(KEPT_FOR);
        self.conversations()?.commit(&[write]).await?;
        Ok(Answer {
            conversation_id: conversation.id,
            response,
            tool_calls: calls,
        })
    }
}

impl<T: Transport, S: StateStore> Chat<'_, T, S> {
    /// Calls one tool outside any conversation (the MCP endpoint): answers
    /// what it says in words and its result (`{"error": ...}` when it could
    /// not act; it then changed nothing). Dates are read in the user's zone.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Value,
        env: &Env,
    ) -> Result<(String, Value), TaskError> {
        let zone = user_settings::get(self.storage, self.user)?.time_zone;
        // A conversation of one call, never stored.
        let mut conversation = Conversation::new(String::new(), zone, env.now);
        let mut turn = Turn {
            chat: self,
            conversation: &mut conversation,
            env: *env,
            lines: Vec::new(),
            calls: Vec::new(),
        };
        let call = ToolCall {
            tool: tool.to_owned(),
            arguments,
        };
        turn.run(call).await?;
        let result = turn.calls.pop().map(|c| c.result).unwrap_or(Value::Null);
        Ok((turn.lines.join("\n"), result))
    }
}

/// The key of an add whose other `arguments` are these.
fn once(key: &Value, arguments: &Value) -> Result<Once, Refusal> {
    let refused = |problem: Problem| {
        let e = FieldError::new("idempotency_key", problem);
        Refusal(format!("I couldn't add that: {e}."))
    };
    let key = key.as_str().ok_or_else(|| refused(Problem::NotAKey))?;
    match Once::of(Some(key.as_bytes()), arguments.to_string().as_bytes()) {
        Ok(Some(once)) => Ok(once),
        Ok(None) => Err(refused(Problem::NotAKey)),
        Err(e) => Err(refused(e.problem)),
    }
}

/// Refuses an id the chat never gives a conversation (ids are ULIDs): no
/// such conversation, whatever the text, and nothing asked of the store.
fn conversation_id(id: &str) -> Result<(), TaskError> {
    TaskId::parse(id).map(|_| ()).ok_or(TaskError::NotFound)
}

/// How many of the latest deletions a restore by title looks through.
const DELETED_SEARCHED: usize = 200;

/// What "help" says.
const HELP: &str = "I can manage your tasks. Try:\n\
• add buy milk tomorrow at 5pm #groceries high priority\n\
• remind me to call mom on Friday at 10, remind me 30 minutes before\n\
• add pay rent on the last day of every month\n\
• what's due today / show my overdue tasks / find dentist\n\
• complete 2 / done with milk / delete the dentist task / bring back the dentist task\n\
• what did I change yesterday? / what changed this week?\n\
• move the dentist to Friday 3pm / rename milk to oat milk / make it high priority\n\
• create a project called Garden / add seeds to Garden / what's in my Garden list?\n\
• move the report to Work / put it first / move the report above the slides\n\
• add steps to pack the gym bag: shoes, towel, lock / check off towel\n\
• show my views / show my weekly review view\n\
• undo / undo the last three changes";

/// One message's work.
struct Turn<'t, 'a, T, S> {
    chat: &'t Chat<'a, T, S>,
    conversation: &'t mut Conversation,
    env: Env,
    lines: Vec<String>,
    calls: Vec<CallMade>,
}

impl<T: Transport, S: StateStore> Turn<'_, '_, T, S> {
    fn tasks(&self) -> TaskStore<'_, dyn sql::Database + '_> {
        self.chat.storage.tasks(self.chat.user)
    }

    /// The env of the next write.
    fn next_env(&mut self) -> Env {
        let env = self.env;
        self.env = env.next();
        env
    }

    /// Runs `write` and relays its event through the outbox.
    async fn write(
        &mut self,
        write: impl FnOnce(TaskStore<'_, dyn sql::Database + '_>, Env) -> Result<Written, TaskError>,
    ) -> Result<Task, TaskError> {
        Ok(self.relay(write).await?.task)
    }

    /// Runs `write` and relays the event of what it wrote, if anything.
    async fn relay<R: Relayable>(
        &mut self,
        write: impl FnOnce(TaskStore<'_, dyn sql::Database + '_>, Env) -> Result<R, TaskError>,
    ) -> Result<R, TaskError> {
        let env = self.next_env();
        let outbox = Outbox::new(self.chat.dapr, self.chat.storage, self.chat.settings);
        let mut tasks = outbox.tasks(self.chat.user);
        if let Some(limits) = self.chat.limits {
            tasks = tasks.limited(limits);
        }
        outbox.write(write(tasks, env)).await
    }

    /// Converses with `llm` about `message`: the model calls tools (run
    /// here, their results sent back) until it answers, for at most
    /// [`llm::MAX_ROUNDS`] completions. `Err` when its first completion
    /// fails (nothing was done, the built-in engine may answer instead).
    async fn converse(
        &mut self,
        llm: &Llm,
        web: &T,
        message: &str,
    ) -> Result<Result<(), String>, TaskError> {
        let zone = self.conversation.time_zone;
        let now = self.env.now.with_timezone(&zone.tz());
        let system = format!(
            "You manage the user's tasks with the tools given. Now is {} in their time zone, {}: \
             read dates in it and give due_at with its offset. When a title matches several \
             tasks, the tool lists them: ask which. Answer in one or two short, friendly \
             sentences naming what changed.",
            now.to_rfc3339(),
            zone
        );
        let mut messages = vec![json!({"role": "system", "content": system})];
        let history = self.conversation.messages.len().saturating_sub(20);
        for said in &self.conversation.messages[history..] {
            let role = match said.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({"role": role, "content": said.text}));
        }
        messages.push(json!({"role": "user", "content": message}));
        let functions = tools::functions();
        for round in 0..llm::MAX_ROUNDS {
            let reply = match llm.complete(web, &messages, &functions).await {
                Ok(reply) => reply,
                Err(why) if round == 0 => return Ok(Err(why)),
                Err(why) => {
                    self.lines
                        .push(format!("(The language model stopped answering: {why}.)"));
                    return Ok(Ok(()));
                }
            };
            let calls = match reply {
                llm::Reply::Text(text) => {
                    // Its words, not the tools' own confirmations.
                    self.lines = vec![text];
                    return Ok(Ok(()));
                }
                llm::Reply::Calls(calls) => calls,
            };
            let asked: Vec<Value> = calls
                .iter()
                .map(|(id, name, arguments)| {
                    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
                })
                .collect();
            messages.push(json!({"role": "assistant", "content": null, "tool_calls": asked}));
            for (id, name, arguments) in calls {
                let result = match serde_json::from_str::<Value>(&arguments) {
                    Ok(arguments) if arguments.is_object() => {
                        self.run(ToolCall {
                            tool: name,
                            arguments,
                        })
                        .await?;
                        self.calls
                            .last()
                            .map(|c| c.compact().result)
                            .unwrap_or(Value::Null)
                    }
                    _ => {
                        let why = "the arguments are not a JSON object; nothing was done";
                        let result = json!({"error": why});
                        self.calls.push(CallMade {
                            tool: name,
                            arguments: json!({"unparsed": arguments}),
                            result: result.clone(),
                        });
                        result
                    }
                };
                messages.push(
                    json!({"role": "tool", "tool_call_id": id, "content": result.to_string()}),
                );
            }
        }
        self.lines
            .push("(I stopped after too many rounds of tool calls.)".into());
        Ok(Ok(()))
    }

    fn record(&mut self, call: &ToolCall, result: Value) {
        self.calls.push(CallMade {
            tool: call.tool.clone(),
            arguments: call.arguments.clone(),
            result,
        });
    }

    /// Runs one tool call; a call that cannot be done says why and changes
    /// nothing.
    async fn run(&mut self, call: ToolCall) -> Result<(), TaskError> {
        let batch = call
            .arguments
            .get("tasks")
            .and_then(Value::as_array)
            .cloned();
        let outcome = match (call.tool.as_str(), batch) {
            // Several at once (MCP clients): `{"tasks": [...]}`, each item
            // the arguments of one add, or the task of one completion.
            ("add_task", Some(items)) => {
                self.each(items, async |turn, item| turn.add(&item).await)
                    .await
            }
            ("complete_task", Some(items)) => {
                let completed = call
                    .arguments
                    .get("completed")
                    .cloned()
                    .unwrap_or(json!(true));
                self.each(items, async |turn, task| {
                    turn.complete(&json!({"task": task, "completed": completed}))
                        .await
                })
                .await
            }
            ("add_task", None) => self.add(&call.arguments).await,
            ("list_tasks" | "search_tasks", _) => self.list(&call.arguments).await,
            ("complete_task", None) => self.complete(&call.arguments).await,
            ("delete_task", _) => self.delete(&call.arguments).await,
            ("restore_task", _) => self.restore(&call.arguments).await,
            ("list_activity", _) => self.activity(&call.arguments),
            ("update_task", _) => self.update(&call.arguments).await,
            ("list_projects", _) => self.list_projects(&call.arguments),
            ("add_project", _) => self.add_project(&call.arguments),
            ("update_project", _) => self.update_project(&call.arguments),
            ("move_task", _) => self.move_task(&call.arguments).await,
            ("add_steps", _) => self.add_steps(&call.arguments).await,
            ("complete_step", _) => self.complete_step(&call.arguments).await,
            ("list_views", _) => self.list_views(),
            ("add_view", _) => self.add_view(&call.arguments),
            ("show_view", _) => self.show_view(&call.arguments),
            ("update_view", _) => self.update_view(&call.arguments),
            ("delete_view", _) => self.delete_view(&call.arguments),
            (other, _) => Err(Refusal(format!("There's no tool {other}."))),
        };
        match outcome {
            Ok(result) => self.record(&call, result),
            Err(Refusal(why)) => {
                self.record(&call, json!({"error": why}));
                self.lines.push(why);
            }
        }
        Ok(())
    }

    /// Runs `one` on each item: answers `{"results": [...]}`, each a task
    /// or `{"error"}`; one that fails does not stop the others.
    async fn each(
        &mut self,
        items: Vec<Value>,
        one: impl AsyncFn(&mut Self, Value) -> Result<Value, Refusal>,
    ) -> Result<Value, Refusal> {
        let mut results = Vec::new();
        for item in items {
            results.push(match one(self, item).await {
                Ok(result) => result,
                Err(Refusal(why)) => {
                    self.lines.push(why.clone());
                    json!({"error": why})
                }
            });
        }
        Ok(json!({"results": results}))
    }

    async fn add(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let mut arguments = arguments.clone();
        // `idempotency_key`: the task is made once for it (an MCP client
        // that sends a call again), as with the API's `Idempotency-Key`.
        let key = arguments
            .as_object_mut()
            .and_then(|a| a.remove("idempotency_key"));
        let once = key.map(|key| once(&key, &arguments)).transpose()?;
        // `project`: a project by name (or id), as `list_tasks` takes it.
        if let Some(named) = arguments.as_object_mut().and_then(|a| a.remove("project")) {
            let project = self.project(&named)?;
            arguments["project_id"] = json!(project.id);
        }
        let spec = TaskSpec::parse(&arguments)
            .map_err(|e| Refusal(format!("I couldn't add that: {e}.")))?;
        let task = match once {
            None => self.write(move |tasks, env| tasks.create(spec, &env)).await,
            Some(once) => {
                let created = self.relay(move |tasks, env| tasks.create_once(spec, &once, &env));
                created.await.and_then(Created::task)
            }
        }
        .map_err(refusal)?;
        self.lines.push(format!(
            "Added “{}”{}.",
            task.title.as_str(),
            details(&task)
        ));
        self.conversation
            .changed(Change::Added { task: task.clone() });
        Ok(json!(task))
    }

    async fn list(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let object = arguments.as_object().cloned().unwrap_or_default();
        for (name, value) in &object {
            match (name.as_str(), value) {
                ("project", project) => {
                    let project = self.project(project)?;
                    query.append_pair("project", &project.id.to_string());
                }
                ("query", Value::String(q)) => {
                    query.append_pair("q", q);
                }
                ("tags", Value::Array(tags)) => {
                    for tag in tags.iter().filter_map(Value::as_str) {
                        query.append_pair("tag", tag);
                    }
                }
                (name, Value::String(v)) => {
                    query.append_pair(name, v);
                }
                (name, Value::Bool(v)) => {
                    query.append_pair(name, &v.to_string());
                }
                _ => {}
            }
        }
        if !object.contains_key("status") && !object.contains_key("query") {
            query.append_pair("status", "pending");
        }
        query.append_pair("sort", "due_at");
        query.append_pair("limit", &LISTED.to_string());
        let query = ListQuery::parse(&query.finish())
            .map_err(|e| Refusal(format!("I couldn't list that: {e}.")))?;
        let listing = self.tasks().list(&query, self.env.now).map_err(refusal)?;
        Ok(self.show(listing.tasks))
    }

    /// Shows `tasks`, numbered, as the listing "complete 2" picks from.
    fn show(&mut self, tasks: Vec<Task>) -> Value {
        let zone = self.conversation.time_zone;
        if tasks.is_empty() {
            self.lines.push("Nothing matches.".into());
        } else {
            let lines: Vec<String> = (tasks.iter().enumerate())
                .map(|(i, t)| format!("{}. {}{}", i + 1, t.title.as_str(), short_details(t, zone)))
                .collect();
            self.lines.push(lines.join("\n"));
        }
        self.conversation.listing = (tasks.iter())
            .map(|t| Shown {
                id: t.id,
                title: t.title.as_str().to_owned(),
            })
            .collect();
        json!({"tasks": tasks})
    }

    /// The one task `selector` names: `{"task_id"}`, `{"title"}` (it must
    /// match one pending task, or the answer lists those it matches) or
    /// `{"last": true}`.
    async fn resolve(&mut self, selector: &Value) -> Result<Task, Refusal> {
        if selector.get("last").is_some() {
            let last = self.conversation.last_change.as_ref().map(|c| c.task().id);
            let id = last.ok_or_else(|| {
                Refusal("Which task? There's no task in this conversation yet.".into())
            })?;
            return self.tasks().get(id).map_err(refusal);
        }
        if let Some(id) = selector.get("task_id").and_then(Value::as_str) {
            let id = TaskId::parse(id).ok_or_else(|| Refusal("There's no such task.".into()))?;
            return self.tasks().get(id).map_err(refusal);
        }
        let words = selector
            .get("title")
            .and_then(Value::as_str)
            .ok_or_else(|| Refusal("Which task?".into()))?;
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("status", "all")
            .append_pair("q", words)
            .append_pair("limit", "50");
        let query = ListQuery::parse(&query.finish()).map_err(|e| Refusal(format!("{e}")))?;
        let found = self
            .tasks()
            .list(&query, self.env.now)
            .map_err(refusal)?
            .tasks;
        // Pending ones first; an exact title beats a partial one.
        let pending: Vec<&Task> = found.iter().filter(|t| !t.completed).collect();
        let candidates = if pending.is_empty() {
            found.iter().collect()
        } else {
            pending
        };
        let exact: Vec<&Task> = candidates
            .iter()
            .copied()
            .filter(|t| t.title.as_str().eq_ignore_ascii_case(words))
            .collect();
        match (candidates.as_slice(), exact.as_slice()) {
            ([], _) => Err(Refusal(format!(
                "No task matches “{words}”; nothing changed."
            ))),
            ([one], _) | (_, [one]) => Ok((*one).clone()),
            (many, _) => {
                let zone = self.conversation.time_zone;
                let lines: Vec<String> = many
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        format!("{}. {}{}", i + 1, t.title.as_str(), short_details(t, zone))
                    })
                    .collect();
                self.conversation.listing = many
                    .iter()
                    .map(|t| Shown {
                        id: t.id,
                        title: t.title.as_str().to_owned(),
                    })
                    .collect();
                Err(Refusal(format!(
                    "Several tasks match “{words}”; which one? Say its number:\n{}",
                    lines.join("\n")
                )))
            }
        }
    }

    async fn complete(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        let completed = arguments
            .get("completed")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let id = task.id;
        let done = self
            .write(move |tasks, env| tasks.complete(id, completed, &env))
            .await
            .map_err(refusal)?;
        self.lines.push(match completed {
            true => format!("Marked “{}” as done.", done.title.as_str()),
            false => format!("Marked “{}” as not done.", done.title.as_str()),
        });
        self.conversation.changed(Change::Completed { task });
        Ok(json!(done))
    }

    async fn delete(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        let id = task.id;
        self.write(move |tasks, env| tasks.delete(id, &env))
            .await
            .map_err(refusal)?;
        self.lines
            .push(format!("Deleted “{}”.", task.title.as_str()));
        let result = json!({"deleted": task.id});
        self.conversation.changed(Change::Deleted { task });
        Ok(result)
    }

    /// Brings back a deleted task: by id, or the most recently deleted
    /// whose title holds the words given.
    async fn restore(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let selector = &arguments["task"];
        let id = match selector["task_id"].as_str() {
            Some(id) => TaskId::parse(id).ok_or_else(|| refusal(TaskError::NotFound))?,
            None => {
                let words = selector["title"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase();
                let words: Vec<&str> = words.split_whitespace().collect();
                if words.is_empty() {
                    return Err(Refusal(
                        "Which deleted task? Give a few words of its title.".into(),
                    ));
                }
                let deleted = self.tasks().deleted(DELETED_SEARCHED).map_err(refusal)?;
                let found = deleted.into_iter().find(|task| {
                    let title = task.title.as_str().to_lowercase();
                    words.iter().all(|word| title.contains(word))
                });
                let missing = || {
                    Refusal(format!(
                        "You have no deleted task “{}”; nothing changed.",
                        words.join(" ")
                    ))
                };
                found.ok_or_else(missing)?.id
            }
        };
        let task = self
            .write(move |tasks, env| tasks.restore(id, &env))
            .await
            .map_err(refusal)?;
        self.lines.push(format!(
            "Brought back “{}”{}.",
            task.title.as_str(),
            details(&task)
        ));
        self.conversation
            .changed(Change::Added { task: task.clone() });
        Ok(json!(task))
    }

    /// What changed between `since` and `until` (RFC 3339), newest first.
    fn activity(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for name in ["since", "until"] {
            if let Some(at) = arguments[name].as_str() {
                query.append_pair(name, at);
            }
        }
        query.append_pair("limit", &LISTED.to_string());
        let query = ActivityQuery::parse(&query.finish())
            .map_err(|e| Refusal(format!("I couldn't read that span: {e}.")))?;
        let page = activity::page(self.chat.storage, self.chat.user, &query).map_err(refusal)?;
        let zone = self.conversation.time_zone;
        if page.activity.is_empty() {
            self.lines.push("Nothing changed then.".into());
        }
        for change in &page.activity {
            let at = when_text(change.entry.timestamp.fixed_offset(), zone);
            let what = match change.entry.event_type {
                events::TaskEventType::Created => "added".to_owned(),
                events::TaskEventType::Completed => "completed".to_owned(),
                events::TaskEventType::Reopened => "reopened".to_owned(),
                events::TaskEventType::Deleted => "deleted".to_owned(),
                events::TaskEventType::Updated => {
                    let fields: Vec<&str> = change
                        .entry
                        .changes
                        .iter()
                        .map(|c| c.field.as_str())
                        .collect();
                    format!("changed {} of", fields.join(", "))
                }
            };
            self.lines
                .push(format!("• {at}: {what} “{}”", change.title));
        }
        if page.next_cursor.is_some() {
            self.lines
                .push(format!("(the latest {LISTED}; there is more)"));
        }
        Ok(json!(page))
    }

    fn projects(&self) -> Projects<'_, Storage> {
        Projects::new(self.chat.storage, self.chat.user)
    }

    /// The project `named` names: `"inbox"`, an id, or a name (whatever
    /// its case; else the one project whose name holds it; several are
    /// listed back to choose from).
    fn project(&self, named: &Value) -> Result<Project, Refusal> {
        let named = named.as_str().map(str::trim).unwrap_or_default();
        if named.is_empty() {
            return Err(Refusal("Which project?".into()));
        }
        let now = self.env.now;
        if let Ok(id) = ProjectId::parse(named) {
            return self.projects().get(id, now).map_err(project_refusal);
        }
        let all = self.projects().list(false, now).map_err(project_refusal)?;
        let missing = format!("You have no project “{named}”; nothing changed.");
        by_name(all, |p| &p.name, named, "projects", missing)
    }

    fn list_projects(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let archived = arguments
            .get("archived")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let projects = (self.projects().list(archived, self.env.now)).map_err(project_refusal)?;
        let lines: Vec<String> = projects
            .iter()
            .map(|p| {
                format!(
                    "• {} ({} to do, {} overdue)",
                    p.name.as_str(),
                    p.pending,
                    p.overdue
                )
            })
            .collect();
        self.lines.push(lines.join("\n"));
        Ok(json!({"projects": projects}))
    }

    fn add_project(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let (name, patch) = ProjectPatch::parse_new(arguments)
            .map_err(|e| Refusal(format!("I couldn't make that project: {e}.")))?;
        let env = self.next_env();
        let project = (self.projects().create(name, patch, &env)).map_err(project_refusal)?;
        self.lines
            .push(format!("Made the project “{}”.", project.name.as_str()));
        Ok(json!(project))
    }

    fn update_project(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let project = self.project(&arguments["project"])?;
        let patch = ProjectPatch::parse(&arguments["changes"])
            .map_err(|e| Refusal(format!("I couldn't change that project: {e}.")))?;
        let changed =
            (self.projects().update(project.id, patch, self.env.now)).map_err(project_refusal)?;
        self.lines
            .push(format!("Updated the project “{}”.", changed.name.as_str()));
        Ok(json!(changed))
    }

    /// Moves a task to another project (`project`), to a place in its
    /// project's order (`to`: top or bottom, `before` or `after` another
    /// task), or both.
    async fn move_task(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        let project = match arguments.get("project") {
            Some(named) => Some(self.project(named)?),
            None => None,
        };
        let place = match (
            arguments.get("to"),
            arguments.get("before"),
            arguments.get("after"),
        ) {
            (Some(to), None, None) => Some(match to.as_str() {
                Some("top") => Place::Top,
                Some("bottom") => Place::Bottom,
                _ => return Err(Refusal("Move it to the top or the bottom?".into())),
            }),
            (None, Some(other), None) => Some(Place::Before(self.resolve(other).await?.id)),
            (None, None, Some(other)) => Some(Place::After(self.resolve(other).await?.id)),
            (None, None, None) => None,
            _ => return Err(Refusal("Give one place: to, before or after.".into())),
        };
        let (id, to) = (task.id, project.as_ref().map(|p| p.id));
        let moved = match (to, place) {
            (None, None) => {
                return Err(Refusal(
                    "Move it where? Name a project, or the top, the bottom, or a task to put it next to."
                        .into(),
                ));
            }
            (Some(to), None) => {
                let patch = TaskPatch {
                    project_id: Some(to),
                    ..TaskPatch::default()
                };
                self.write(move |tasks, env| tasks.patch(id, patch, &env)).await
            }
            (to, Some(place)) => {
                self.write(move |tasks, env| tasks.place(id, to, place, &env))
                    .await
            }
        }
        .map_err(refusal)?;
        let whose = project.map_or(String::new(), |p| format!(" of {}", p.name.as_str()));
        let (title, over) = (moved.title.as_str(), whose.trim_start_matches(" of "));
        self.lines.push(match place {
            None => format!("Moved “{title}” to {over}."),
            Some(Place::Top) => format!("Moved “{title}” to the top{whose}."),
            Some(Place::Bottom) => format!("Moved “{title}” to the bottom{whose}."),
            Some(Place::Before(_)) => format!("Moved “{title}” up, before the task named{whose}."),
            Some(Place::After(_)) => format!("Moved “{title}” down, after the task named{whose}."),
        });
        self.conversation.changed(Change::Updated { task });
        Ok(json!(moved))
    }

    fn views(&self) -> Views<'_, Storage> {
        Views::new(
            self.chat.storage,
            self.chat.user,
            self.conversation.time_zone,
        )
    }

    /// The view `named` names: its id, or its name (whatever its case;
    /// else the one view whose name holds it; several are listed back).
    fn view(&self, named: &Value) -> Result<View, Refusal> {
        let named = named.as_str().map(str::trim).unwrap_or_default();
        if named.is_empty() {
            return Err(Refusal("Which view?".into()));
        }
        let now = self.env.now;
        if let Some(id) = ViewId::parse(named) {
            return self.views().get(id, now).map_err(view_refusal);
        }
        let all = self.views().list(now).map_err(view_refusal)?;
        let missing = format!("You have no view “{named}”; say \"show my views\" to see them.");
        by_name(all, |v| &v.name, named, "views", missing)
    }

    /// A view's filter from a tool's arguments, its project named by
    /// name too.
    fn view_filter(&self, given: &Value) -> Result<ListQuery, Refusal> {
        let mut given = given.clone();
        if let Some(named) = given.get("project").filter(|p| {
            p.as_str()
                .is_some_and(|name| ProjectId::parse(name).is_err())
        }) {
            given["project"] = json!(self.project(named)?.id);
        }
        ListQuery::parse_filter(&given, "filter")
            .map_err(|e| Refusal(format!("I couldn't use that filter: {e}.")))
    }

    fn list_views(&mut self) -> Result<Value, Refusal> {
        let views = self.views().list(self.env.now).map_err(view_refusal)?;
        let lines: Vec<String> = (views.iter())
            .map(|v| {
                format!(
                    "• {} ({} to do, {} overdue)",
                    v.name.as_str(),
                    v.pending,
                    v.overdue
                )
            })
            .collect();
        self.lines.push(match lines.is_empty() {
            true => "You have no saved views yet.".into(),
            false => lines.join("\n"),
        });
        Ok(json!({"views": views}))
    }

    fn add_view(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let name = arguments["name"].as_str().unwrap_or_default();
        let name = Name::parse(name)
            .map_err(|e| Refusal(format!("I couldn't save that view: name: {e}.")))?;
        let filter = self.view_filter(arguments.get("filter").unwrap_or(&json!({})))?;
        let env = self.next_env();
        let view = (self.views().create(name, filter, &env)).map_err(view_refusal)?;
        self.lines.push(format!(
            "Saved the view “{}” ({} to do).",
            view.name.as_str(),
            view.pending
        ));
        Ok(json!(view))
    }

    fn show_view(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let view = self.view(&arguments["view"])?;
        let page = format!("limit={LISTED}");
        let listing = (self.views().tasks(view.id, &page, self.env.now)).map_err(view_refusal)?;
        self.lines.push(format!("{}:", view.name.as_str()));
        Ok(self.show(listing.tasks))
    }

    fn update_view(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let view = self.view(&arguments["view"])?;
        let changes = &arguments["changes"];
        let name = (changes.get("name").and_then(Value::as_str))
            .map(Name::parse)
            .transpose()
            .map_err(|e| Refusal(format!("I couldn't rename that view: {e}.")))?;
        let filter = (changes.get("filter"))
            .map(|f| self.view_filter(f))
            .transpose()?;
        let patch = ViewPatch { name, filter };
        let changed = (self.views().update(view.id, patch, self.env.now)).map_err(view_refusal)?;
        self.lines
            .push(format!("Updated the view “{}”.", changed.name.as_str()));
        Ok(json!(changed))
    }

    fn delete_view(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let view = self.view(&arguments["view"])?;
        self.views().delete(view.id).map_err(view_refusal)?;
        self.lines.push(format!(
            "Deleted the view “{}”; its tasks stay.",
            view.name.as_str()
        ));
        Ok(json!({"deleted": view.id}))
    }

    async fn add_steps(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        // The steps it has (by id), then the new ones: one checklist.
        let mut steps: Vec<Value> = (task.steps.0.iter())
            .map(|s| json!({"id": s.id, "text": s.text, "done": s.done}))
            .collect();
        steps.extend(arguments["steps"].as_array().cloned().unwrap_or_default());
        let patch = TaskPatch::parse(&json!({"steps": steps}))
            .map_err(|e| Refusal(format!("I couldn't add those steps: {e}.")))?;
        let id = task.id;
        let changed = self
            .write(move |tasks, env| tasks.patch(id, patch, &env))
            .await
            .map_err(refusal)?;
        self.lines.push(format!(
            "“{}” has {} steps now.",
            changed.title.as_str(),
            changed.steps.0.len()
        ));
        self.conversation.changed(Change::Updated { task });
        Ok(json!(changed))
    }

    async fn complete_step(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        let named = arguments["step"].as_str().unwrap_or_default().trim();
        let wanted = named.to_lowercase();
        let by_text: Vec<&Step> = (task.steps.0.iter())
            .filter(|s| s.text.as_str().to_lowercase().contains(&wanted))
            .collect();
        let step = match (StepRef::parse(named), by_text.as_slice()) {
            (Some(step), _) => step,
            (None, [one]) if !wanted.is_empty() => StepRef::Id(one.id),
            (None, []) | (None, [_]) => {
                return Err(Refusal(format!(
                    "“{}” has no step “{named}”; nothing changed.",
                    task.title.as_str()
                )));
            }
            (None, many) => {
                let texts: Vec<&str> = many.iter().map(|s| s.text.as_str()).collect();
                return Err(Refusal(format!(
                    "Several steps match “{named}”: {}. Which one?",
                    texts.join(", ")
                )));
            }
        };
        let edit = StepEdit {
            done: Some(
                arguments
                    .get("completed")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
            ),
            ..StepEdit::default()
        };
        let id = task.id;
        let changed = self
            .write(move |tasks, env| tasks.update(id, &env, |t| edit.apply(t, step)))
            .await
            .map_err(refusal)?;
        self.lines.push(format!(
            "{} of {} steps of “{}” done.",
            changed.steps.done(),
            changed.steps.0.len(),
            changed.title.as_str()
        ));
        self.conversation.changed(Change::Updated { task });
        Ok(json!(changed))
    }

    async fn update(&mut self, arguments: &Value) -> Result<Value, Refusal> {
        let task = self.resolve(&arguments["task"]).await?;
        let mut changes = arguments["changes"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if let Some(Value::Array(added)) = changes.remove("add_tags") {
            let mut tags: Vec<Value> = task.tags.iter().map(|t| json!(t)).collect();
            tags.extend(added);
            changes.insert("tags".into(), Value::Array(tags));
        }
        let patch = TaskPatch::parse(&Value::Object(changes.clone()))
            .map_err(|e| Refusal(format!("I couldn't change that: {e}.")))?;
        let id = task.id;
        let changed = self
            .write(move |tasks, env| tasks.patch(id, patch, &env))
            .await
            .map_err(refusal)?;
        let zone = self.conversation.time_zone;
        let mut said = Vec::new();
        if changes.contains_key("title") {
            said.push(format!("renamed it “{}”", changed.title.as_str()));
        }
        if let Some(due) = changed.due_at.filter(|_| changes.contains_key("due_at")) {
            said.push(format!("moved it to {}", when_text(due, zone)));
        }
        if changes.contains_key("priority") {
            said.push(format!("set its priority to {}", priority_text(&changed)));
        }
        if changes.contains_key("tags") {
            let tags: Vec<String> = changed
                .tags
                .iter()
                .map(|t| format!("#{}", t.as_str()))
                .collect();
            said.push(format!("tagged it {}", tags.join(" ")));
        }
        self.lines.push(format!(
            "For “{}”, I {}.",
            task.title.as_str(),
            said.join(" and ")
        ));
        self.conversation.changed(Change::Updated { task });
        Ok(json!(changed))
    }

    /// Takes back the conversation's last `count` changes, the latest
    /// first.
    async fn undo(&mut self, count: usize) -> Result<(), TaskError> {
        for undone in 0..count {
            let Some(change) = self.conversation.last_change.take() else {
                self.lines.push(if undone == 0 {
                    "There's nothing to undo in this conversation.".into()
                } else {
                    "That was all there was to undo.".into()
                });
                return Ok(());
            };
            self.conversation.last_change = self.conversation.earlier_changes.pop();
            self.undo_one(change).await?;
        }
        Ok(())
    }

    /// Takes back `change`.
    async fn undo_one(&mut self, change: Change) -> Result<(), TaskError> {
        let outcome = match &change {
            Change::Added { task } => {
                let id = task.id;
                self.write(move |tasks, env| tasks.delete(id, &env))
                    .await
                    .map(|_| format!("Undone: removed “{}” again.", task.title.as_str()))
            }
            Change::Completed { task } => {
                let (id, completed) = (task.id, task.completed);
                self.write(move |tasks, env| tasks.complete(id, completed, &env))
                    .await
                    .map(|_| {
                        format!(
                            "Undone: “{}” is {} again.",
                            task.title.as_str(),
                            if completed { "done" } else { "not done" }
                        )
                    })
            }
            Change::Deleted { task } => {
                let id = task.id;
                self.write(move |tasks, env| tasks.restore(id, &env))
                    .await
                    .map(|_| format!("Undone: “{}” is back.", task.title.as_str()))
            }
            Change::Updated { task } => {
                let before = json!(task);
                let fields = [
                    "title",
                    "description",
                    "priority",
                    "tags",
                    "due_at",
                    "time_zone",
                    "recurrence",
                    "recurrence_mode",
                    "reminders",
                    "project_id",
                    "steps",
                ];
                let back: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|f| ((*f).to_owned(), before[*f].clone()))
                    .collect();
                let patch = TaskPatch::parse(&Value::Object(back)).map_err(TaskError::Invalid)?;
                let id = task.id;
                self.write(move |tasks, env| tasks.patch(id, patch, &env))
                    .await
                    .map(|_| format!("Undone: “{}” is as it was.", task.title.as_str()))
            }
        };
        match outcome {
            Ok(line) => self.lines.push(line),
            Err(TaskError::NotFound) => self
                .lines
                .push("That task is gone; there's nothing to undo.".into()),
            Err(err) => return Err(err),
        }
        Ok(())
    }
}

/// The one of `all` that `named` names: by its name whatever its case,
/// else the one whose name holds `named`; `missing` when none does, and
/// the names to choose from (of `kind`, "projects") when several do.
fn by_name<T>(
    all: Vec<T>,
    name: impl Fn(&T) -> &Name,
    named: &str,
    kind: &str,
    missing: String,
) -> Result<T, Refusal> {
    let wanted = named.to_lowercase();
    let exact = all.iter().position(|item| name(item).key() == wanted);
    let mut partial: Vec<T> = all;
    if let Some(at) = exact {
        return Ok(partial.swap_remove(at));
    }
    partial.retain(|item| name(item).key().contains(&wanted));
    match partial.len() {
        0 => Err(Refusal(missing)),
        1 => Ok(partial.swap_remove(0)),
        _ => {
            let names: Vec<&str> = partial.iter().map(|item| name(item).as_str()).collect();
            Err(Refusal(format!(
                "Several {kind} match “{named}”: {}. Which one?",
                names.join(", ")
            )))
        }
    }
}

/// Why a tool call was not done, in words for the user.
struct Refusal(String);

fn project_refusal(err: ProjectError) -> Refusal {
    match err {
        ProjectError::Task(err) => refusal(err),
        other => Refusal(format!("I couldn't do that: {other}.")),
    }
}

fn view_refusal(err: ViewError) -> Refusal {
    match err {
        ViewError::Task(err) => refusal(err),
        other => Refusal(format!("I couldn't do that: {other}.")),
    }
}

fn refusal(err: TaskError) -> Refusal {
    Refusal(match err {
        TaskError::NotFound => "There's no such task; nothing changed.".into(),
        TaskError::StepNotFound => "That task has no such step; nothing changed.".into(),
        TaskError::Invalid(e) => format!("I couldn't do that: {e}."),
        TaskError::Conflict => "That task kept changing; try again.".into(),
        TaskError::Unavailable(_) => {
            "I can't reach your tasks right now; try again in a moment.".into()
        }
        TaskError::Exceeded(e) => format!("I couldn't do that: {e}."),
        TaskError::KeyReused => format!("I couldn't do that: {err}.", err = TaskError::KeyReused),
        TaskError::NotDeleted => "That task isn't deleted; nothing changed.".into(),
    })
}

fn when_text(at: chrono::DateTime<chrono::FixedOffset>, zone: TimeZone) -> String {
    at.with_timezone(&zone.tz())
        .format("%a %b %-d, %-I:%M %p")
        .to_string()
}

fn priority_text(task: &Task) -> String {
    serde_json::to_value(task.priority)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// ", due Sat Mar 7, 5:00 PM, high priority, #groceries, repeats".
fn details(task: &Task) -> String {
    let mut parts = Vec::new();
    if let Some(due) = task.due_at {
        parts.push(format!("due {}", when_text(due, task.time_zone)));
    }
    if task.priority != crate::Priority::None {
        parts.push(format!("{} priority", priority_text(task)));
    }
    for tag in &task.tags {
        parts.push(format!("#{}", tag.as_str()));
    }
    if let Some(rule) = &task.recurrence {
        parts.push(format!("repeating ({})", rule.as_str()));
    }
    let reminders = task
        .reminders
        .iter()
        .filter(|r| r.fires_at.is_some())
        .count();
    if reminders > 0 {
        parts.push(format!(
            "{reminders} reminder{}",
            if reminders == 1 { "" } else { "s" }
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

/// " (due Sat Mar 7, 5:00 PM)" for a listing, in the conversation's zone.
fn short_details(task: &Task, zone: TimeZone) -> String {
    let mut parts = Vec::new();
    if let Some(due) = task.due_at {
        parts.push(format!("due {}", when_text(due, zone)));
    }
    if task.completed {
        parts.push("done".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}
