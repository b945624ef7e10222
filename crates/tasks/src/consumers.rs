//! What daprd delivers to the tasks context's event routes and job
//! callbacks, each handled idempotently and answered as daprd expects
//! (ADR 8, ADR 16):
//!
//! - [`Consumers::recurrence`] (`task-events`): a completed repeating task
//!   brings its next occurrence, once per completed task;
//! - [`Consumers::reminders`] (`task-events`): keeps each task's reminder
//!   jobs in step with it ([`reminders::plan`]);
//! - [`Consumers::job`] (`/job/{name}`): the reminders that fire, and the
//!   tries of webhook calls;
//! - [`Consumers::sweep`] (a cron binding): the safety net of the outbox
//!   and of the reminders;
//! - [`Consumers::notify`] (`reminders`): puts each reminder in its user's
//!   inbox and change feed, once, and schedules its webhook call.
//!
//! Only daprd may call them: a call without the app's API token (the
//! `dapr-api-token` header daprd adds) is refused with 401 and does nothing.
//!
//! An event that can never be handled (unreadable, or refused by the domain)
//! is recorded in table `dead_letters` with why, logged, and dropped; one
//! that may be handled later (the database is down, a race kept being
//! lost) is retried.

use dapr::jobs::triggered;
use dapr::subscriber::{Delivered, Delivery};
use dapr::{Dapr, Transport};
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sql::Database;

use crate::error::TaskError;
use crate::reminders::{self, Armed, Destination};
use crate::reminders::{inbox, push, sweep, user_settings, webhooks};
use crate::service::Env;
use crate::settings::Settings;
use crate::task::change::Event;
use crate::task::outbox::Outbox;
use crate::task::store::Storage;
use events::{ReminderDue, TaskEventType};

/// The longest part of an unreadable body kept in a dead letter, in bytes.
const KEPT_BODY: usize = 16 * 1024;

type Request = http::Request<Vec<u8>>;
type Response = http::Response<Vec<u8>>;

/// The last segment of `/job/{name}`.
fn job_name(request: &Request) -> &str {
    request.uri().path().rsplit('/').next().unwrap_or_default()
}

/// Whether two tokens are equal, in a time that does not tell how much of
/// them is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// An answer to daprd with `code` and no body.
fn status(code: StatusCode) -> Response {
    let mut response = http::Response::new(Vec::new());
    *response.status_mut() = code;
    response
}

/// Which consumer a component is: what it reads from its variables
/// follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// [`Consumers::recurrence`]: publishes the next occurrences' events.
    Recurrence,
    /// [`Consumers::reminders`].
    ReminderScheduler,
    /// [`Consumers::notify`].
    Notifier,
    /// [`Consumers::job`]: publishes the reminders that fire.
    JobCallback,
    /// [`Consumers::sweep`]: publishes both.
    Sweep,
}

impl Role {
    fn publishes_task_events(self) -> bool {
        matches!(self, Self::Recurrence | Self::Sweep)
    }

    fn publishes_reminders(self) -> bool {
        matches!(self, Self::JobCallback | Self::Sweep)
    }

    fn pushes(self) -> bool {
        matches!(self, Self::JobCallback)
    }
}

/// The consumers behind one sidecar.
#[derive(Debug)]
pub struct Consumers<T> {
    storage: Storage,
    dapr: Dapr<T>,
    /// For the calls to users' webhooks.
    web: T,
    /// Where task events go (the recurrence handler's next occurrences,
    /// the outbox's safety net), for the roles that publish them.
    settings: Option<Settings>,
    /// Where reminders that fire go, for the roles that publish them.
    reminders: Option<Destination>,
    /// The app's VAPID key pair, for the role that pushes (when set).
    sender: Option<push::Sender>,
    /// The token daprd presents on every call it makes to the app
    /// (`app_api_token`, daprd's `APP_API_TOKEN`): a call without it is
    /// refused, so that nobody but the sidecar can deliver an event or
    /// fire a job.
    app_api_token: String,
}

impl<T: Transport + Clone> Consumers<T> {
    /// The consumer `role` as a component's variables say (`database_url`,
    /// `dapr_url`, `dapr_api_token`, `app_api_token`, and for the roles
    /// that publish them the [`Settings`] of task events and the
    /// reminders' [`Destination`]), opening the database with `open` when
    /// first needed and reaching daprd and webhooks through `transport`.
    pub fn from_variables<E>(
        transport: T,
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
        role: Role,
    ) -> Result<Self, E> {
        let storage = Storage::new(variable("database_url")?, open);
        let dapr = Dapr::with_token(
            &variable("dapr_url")?,
            &variable("dapr_api_token")?,
            transport.clone(),
        );
        Ok(Self {
            storage,
            dapr,
            web: transport,
            settings: role
                .publishes_task_events()
                .then(|| Settings::from_variables(&variable))
                .transpose()?,
            reminders: role
                .publishes_reminders()
                .then(|| Destination::from_variables(&variable))
                .transpose()?,
            sender: match role.pushes() {
                true => push::Sender::new(
                    &variable("vapid_private_key")?,
                    &variable("vapid_subject")?,
                    &variable("auth_jwt_secret")?,
                ),
                false => None,
            },
            app_api_token: variable("app_api_token")?,
        })
    }

    /// Creates the next occurrence of a task whose `completed` event this is,
    /// if it repeats; other events are not this consumer's business.
    pub async fn recurrence(&self, request: &Request, env: &Env) -> Response {
        if let Some(refused) = self.refused(request) {
            return refused;
        }
        let repeat = async |event: &Event| {
            if event.event_type != TaskEventType::Completed || event.task.recurrence.is_none() {
                return Ok(());
            }
            let outbox = Outbox::new(&self.dapr, &self.storage, self.task_events()?);
            let next = outbox.tasks(&event.user_id).repeat(&event.task, env);
            outbox.write(next).await.map(|_| ())
        };
        let delivery = self
            .consume("recurrence", request.body(), env, repeat)
            .await;
        delivery.response()
    }

    /// Keeps the reminder jobs of the task of a delivered event in step
    /// with it: schedules one per reminder to fire, deletes the others.
    pub async fn reminders(&self, request: &Request, env: &Env) -> Response {
        if let Some(refused) = self.refused(request) {
            return refused;
        }
        let arm = async |event: &Event| {
            let Some(plan) = reminders::plan(event) else {
                return Ok(());
            };
            // In the sweep's calendar first: a job lost later is found there.
            sweep::file(&self.storage, &plan)?;
            Ok(reminders::arm(&self.dapr, &plan).await?)
        };
        let delivery = self.consume("reminders", request.body(), env, arm).await;
        delivery.response()
    }

    /// Puts a delivered reminder in its user's inbox and change feed, once
    /// however often it comes.
    pub async fn notify(&self, request: &Request, env: &Env) -> Response {
        if let Some(refused) = self.refused(request) {
            return refused;
        }
        let record = async |due: &ReminderDue| {
            let user = &due.user_id;
            let settings = user_settings::get(&self.storage, user)?;
            let webhook = settings.webhook_url.is_some();
            let devices = push::ids(&self.storage, user)?;
            let notification = inbox::record(&self.storage, due, env.now, webhook, &devices)?;
            // The first tries, unless they were scheduled or made before.
            if notification
                .webhook
                .as_ref()
                .is_some_and(|w| w.attempts == 0)
            {
                let first = webhooks::Try::first(user, notification.id);
                webhooks::schedule(&self.dapr, &first, env.now).await?;
            }
            for first in push::first_tries(user, &notification) {
                push::schedule(&self.dapr, &first, env.now).await?;
            }
            Ok(())
        };
        let delivery = self.consume("notifier", request.body(), env, record).await;
        delivery.response()
    }

    /// A job that fired (`POST /job/{name}`): a reminder's job publishes
    /// the reminder if it still stands; a webhook's tries the call. Answers
    /// 200 when done or when there is nothing it could ever do, and 500 for
    /// the scheduler to try again.
    pub async fn job(&self, request: &Request, env: &Env) -> Response {
        if let Some(refused) = self.refused(request) {
            return refused;
        }
        let (name, body) = (job_name(request), request.body());
        let done = if name.starts_with(reminders::JOB_PREFIX) {
            match triggered::<Armed>(body) {
                Ok(armed) => self.fire(&armed).await,
                Err(err) => return self.unreadable_job(name, body, &err, env).await,
            }
        } else if name.starts_with(push::JOB_PREFIX) {
            match triggered::<push::Try>(body) {
                Ok(try_) => {
                    let sender = self.sender.as_ref();
                    push::attempt(&self.dapr, &self.web, &self.storage, sender, &try_, env).await
                }
                Err(err) => return self.unreadable_job(name, body, &err, env).await,
            }
        } else if name.starts_with(webhooks::JOB_PREFIX) {
            match triggered::<webhooks::Try>(body) {
                Ok(call) => {
                    webhooks::attempt(&self.dapr, &self.web, &self.storage, &call, env.now).await
                }
                Err(err) => return self.unreadable_job(name, body, &err, env).await,
            }
        } else {
            // daprd counts a 404 as done: a job of no known kind is dropped.
            eprintln!("jobs: {name}: no such kind of job; dropped");
            return status(StatusCode::NOT_FOUND);
        };
        match done {
            Ok(()) => status(StatusCode::OK),
            Err(err) if err.delivery() == Delivery::Drop => {
                let reason = format!("a job it cannot do: {err}");
                self.dead_letter("jobs", name, body, &reason, env).await;
                status(StatusCode::OK)
            }
            Err(err) => {
                eprintln!("jobs: {name}: will try again: {err}");
                status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// The cron binding's tick (`/cron/reminder-sweep`): the outbox's
    /// safety net ([`Outbox::recover`]) and the reminders'
    /// ([`sweep::sweep`]). daprd first asks with `OPTIONS` whether the app
    /// takes the binding's calls.
    pub async fn sweep(&self, request: &Request, env: &Env) -> Response {
        if request.method() == http::Method::OPTIONS {
            return status(StatusCode::OK);
        }
        if let Some(refused) = self.refused(request) {
            return refused;
        }
        let recovered = match self.task_events() {
            Ok(settings) => {
                let outbox = Outbox::new(&self.dapr, &self.storage, settings);
                outbox.recover(env.now).await.map(|_| ())
            }
            Err(err) => Err(err),
        };
        if let Err(err) = recovered {
            eprintln!("outbox: the safety net will try at the next tick: {err}");
        }
        let swept = match self.destination() {
            Ok(destination) => sweep::sweep(&self.dapr, &self.storage, destination, env.now).await,
            Err(err) => Err(err),
        };
        match swept {
            Ok(swept) => {
                let mut response = status(StatusCode::OK);
                *response.body_mut() = serde_json::to_vec(&swept).unwrap_or_default();
                response
            }
            Err(err) => {
                eprintln!("sweep: will try at the next tick: {err}");
                status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// Publishes reminder `armed` if it still stands.
    async fn fire(&self, armed: &Armed) -> Result<(), TaskError> {
        let destination = self.destination()?;
        reminders::fire(&self.dapr, &self.storage, destination, armed).await?;
        Ok(())
    }

    /// Where task events go, if this role publishes them.
    fn task_events(&self) -> Result<&Settings, TaskError> {
        self.settings.as_ref().ok_or_else(|| {
            TaskError::Unavailable("this consumer is not given where task events go".into())
        })
    }

    /// Where reminders go, if this role publishes them.
    fn destination(&self) -> Result<&Destination, TaskError> {
        self.reminders.as_ref().ok_or_else(|| {
            TaskError::Unavailable("this consumer is not given where reminders go".into())
        })
    }

    /// Records a job whose data cannot be read, and answers it done: no try
    /// could ever do it.
    async fn unreadable_job(
        &self,
        name: &str,
        body: &[u8],
        err: &serde_json::Error,
        env: &Env,
    ) -> Response {
        let reason = format!("unreadable job data: {err}");
        self.dead_letter("jobs", name, body, &reason, env).await;
        status(StatusCode::OK)
    }

    /// 401 for a call that does not carry the app's API token.
    fn refused(&self, request: &Request) -> Option<Response> {
        let given = request
            .headers()
            .get("dapr-api-token")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let expected = self.app_api_token.as_bytes();
        if !expected.is_empty() && same(given, expected) {
            return None;
        }
        let mut response = http::Response::new(b"only the Dapr sidecar calls this route".to_vec());
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        Some(response)
    }

    /// Reads a delivered event (a task event, a reminder) and hands it to
    /// `handle`, answering daprd by the outcome.
    async fn consume<E: DeserializeOwned>(
        &self,
        consumer: &str,
        body: &[u8],
        env: &Env,
        handle: impl AsyncFn(&E) -> Result<(), TaskError>,
    ) -> Delivery {
        // The envelope first, for the id to record a poison event under.
        let (id, event) = match Delivered::<Box<RawValue>>::parse(body) {
            Ok(envelope) => {
                let event = serde_json::from_str::<E>(envelope.data.get());
                (envelope.id, event)
            }
            Err(err) => (env.event_id.to_string(), Err(err)),
        };
        let event = &match event {
            Ok(event) => event,
            Err(err) => {
                let reason = format!("not what the {consumer} consumer reads: {err}");
                return self.dead_letter(consumer, &id, body, &reason, env).await;
            }
        };
        match handle(event).await {
            Ok(()) => Delivery::Success,
            Err(err) if err.delivery() == Delivery::Drop => {
                self.dead_letter(consumer, &id, body, &err.to_string(), env)
                    .await
            }
            Err(err) => {
                eprintln!("{consumer}: event {id}: will retry: {err:?}");
                Delivery::Retry
            }
        }
    }

    /// Records `body`, delivered as `id`, as given up by `consumer` (in
    /// table `dead_letters`), and says to drop it; if it cannot be
    /// recorded now, it is retried rather than lost.
    async fn dead_letter(
        &self,
        consumer: &str,
        id: &str,
        body: &[u8],
        reason: &str,
        env: &Env,
    ) -> Delivery {
        eprintln!("{consumer}: event {id} dropped: {reason}");
        let kept = &body[..body.len().min(KEPT_BODY)];
        let recorded = self.storage.execute(
            "INSERT INTO dead_letters (consumer, id, reason, received_at, body) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer, id) DO NOTHING",
            &[
                consumer.into(),
                id.into(),
                reason.into(),
                env.now.timestamp_micros().into(),
                String::from_utf8_lossy(kept).into_owned().into(),
            ],
        );
        match recorded {
            // Recorded now, or before when it came the first time.
            Ok(_) => Delivery::Drop,
            Err(err) => {
                eprintln!("{consumer}: event {id}: cannot record it yet, will retry: {err}");
                Delivery::Retry
            }
        }
    }
}
