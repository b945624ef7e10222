//! Repeating tasks (ADR 9): the next occurrence of a completed task, and a
//! preview of the occurrences to come, both from the `recurrence` engine
//! (python-dateutil's rrule semantics) on the task's rule, due date and zone.
//!
//! A task's rule always describes its series from its own due date on: the
//! next task carries the rule with `COUNT` lowered by the occurrences used
//! up, so that no task needs to know where its series began.

use chrono::{DateTime, FixedOffset, Utc};

use crate::task::model::{RecurrenceMode, Reminder, ReminderTime, Step, Steps};
use crate::{Task, TaskId};

/// The most occurrences a preview shows.
pub const MAX_PREVIEW: usize = 100;

/// The task that repeats `task` once it is completed, made at `now` with id
/// `id`; `None` when `task` does not repeat or its series has ended.
///
/// - `schedule` mode: the first occurrence after the task's due date that is
///   not in the past at completion, so an overdue daily task does not spawn
///   a backlog; the skipped occurrences count towards `COUNT`.
/// - `completion` mode: the first occurrence after the completion time, the
///   series started afresh there.
pub fn next(task: &Task, id: TaskId, now: DateTime<Utc>) -> Option<Task> {
    let recurrence = task.recurrence.as_ref()?;
    let due = task.due_at?;
    let completed_at = task.completed_at.unwrap_or(now);
    let zone = task.time_zone.tz();
    let (start, after) = match task.recurrence_mode {
        RecurrenceMode::Schedule => {
            let after = completed_at.max(due.to_utc());
            // Without expanding every occurrence of a long backlog.
            let start = recurrence.rule().resumed(due.with_timezone(&zone), after);
            (start, after)
        }
        RecurrenceMode::Completion => (completed_at.with_timezone(&zone), completed_at),
    };
    let (index, at) = recurrence
        .rule()
        .occurrences(start)
        .enumerate()
        .find(|(_, at)| at.to_utc() > after)?;
    let recurrence = match recurrence.rule().count() {
        None => recurrence.clone(),
        Some(count) => {
            // What is left of the series after this task: in schedule mode
            // the task's due date is the series' first occurrence (or, when
            // the rule does not match it, none of them, as in dateutil); in
            // completion mode the task itself is the one used up.
            let used = match task.recurrence_mode {
                RecurrenceMode::Schedule => index,
                RecurrenceMode::Completion => 1,
            };
            let left = count.checked_sub(u32::try_from(used).ok()?)?;
            if left == 0 {
                return None;
            }
            recurrence.with_count(left)
        }
    };
    let due_at = at.fixed_offset();
    let shift = due_at.to_utc() - due.to_utc();
    let mut next = Task {
        id,
        title: task.title.clone(),
        description: task.description.clone(),
        completed: false,
        completed_at: None,
        priority: task.priority,
        tags: task.tags.clone(),
        project_id: task.project_id,
        due_at: Some(due_at),
        time_zone: task.time_zone,
        recurrence: Some(recurrence),
        recurrence_mode: task.recurrence_mode,
        // A reminder at a fixed time keeps its distance to the due date.
        reminders: task
            .reminders
            .iter()
            .map(|reminder| match reminder.time {
                ReminderTime::At { at } => Reminder::new(ReminderTime::At {
                    at: task.time_zone.local(at.to_utc() + shift),
                }),
                relative => Reminder::new(relative),
            })
            .collect(),
        // Last in its project, as a new task is.
        order: None,
        // The checklist again, nothing done yet.
        steps: Steps(
            (task.steps.0.iter())
                .map(|step| Step {
                    done: false,
                    ..step.clone()
                })
                .collect(),
        ),
        series_id: Some(
            task.series_id
                .clone()
                .unwrap_or_else(|| task.id.to_string()),
        ),
        created_at: now,
        updated_at: now,
    };
    next.schedule_reminders(now);
    Some(next)
}

/// The first `count` occurrences of `task`'s series from its due date, with
/// the offset of its zone at each; none when it does not repeat.
pub fn preview(task: &Task, count: usize) -> Vec<DateTime<FixedOffset>> {
    let (Some(recurrence), Some(due)) = (&task.recurrence, task.due_at) else {
        return Vec::new();
    };
    recurrence
        .rule()
        .occurrences(due.with_timezone(&task.time_zone.tz()))
        .take(count.min(MAX_PREVIEW))
        .map(|at| at.fixed_offset())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::TaskSpec;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn task(body: Value) -> Task {
        let created = at("2026-01-01T00:00:00Z");
        TaskSpec::parse(&body)
            .and_then(|spec| spec.create(TaskId::new(created, 1), created))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The due dates of the tasks a series spawns when each is completed at
    /// the time `completing` gives for it.
    fn series(first: Task, completing: impl Fn(&Task) -> DateTime<Utc>) -> Vec<String> {
        let mut dues = Vec::new();
        let mut current = Some(first);
        while let Some(mut task) = current.take() {
            dues.push(task.due_at.map(|d| d.to_rfc3339()).unwrap_or_default());
            if dues.len() > 10 {
                break;
            }
            let done = completing(&task);
            task.set_completed(true, done);
            current = next(&task, TaskId::new(done, dues.len() as u128), done);
        }
        dues
    }

    fn on_time(task: &Task) -> DateTime<Utc> {
        task.due_at.map(|d| d.to_utc()).unwrap_or_default()
    }

    #[test]
    fn count_ends_the_series_at_its_third_task() {
        let first = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
            "recurrence": "FREQ=WEEKLY;COUNT=3"}));
        assert_eq!(
            series(first, on_time),
            [
                "2026-03-02T09:00:00+00:00",
                "2026-03-09T09:00:00+00:00",
                "2026-03-16T09:00:00+00:00"
            ]
        );
    }

    #[test]
    fn an_overdue_daily_task_jumps_to_the_next_future_date() {
        let first = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
            "recurrence": "FREQ=DAILY;COUNT=10"}));
        let mut late = first.clone();
        late.set_completed(true, at("2026-03-05T12:00:00Z"));
        let next = next(
            &late,
            TaskId::new(at("2026-03-05T12:00:00Z"), 2),
            at("2026-03-05T12:00:00Z"),
        )
        .expect("a next task");
        assert_eq!(
            next.due_at.map(|d| d.to_rfc3339()),
            Some("2026-03-06T09:00:00+00:00".into())
        );
        assert_eq!(
            next.recurrence.map(|r| r.as_str().to_owned()),
            Some("FREQ=DAILY;COUNT=6".into()),
            "the 2nd to 4th were skipped and used up"
        );
        assert!(!next.completed);
        assert_eq!(next.series_id, Some(first.id.to_string()));
    }

    #[test]
    fn completion_mode_counts_from_the_completion() {
        let first = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
            "recurrence": "FREQ=DAILY;INTERVAL=3;COUNT=2", "recurrence_mode": "completion"}));
        let dues = series(first, |task| on_time(task) + chrono::Duration::hours(5));
        assert_eq!(
            dues,
            ["2026-03-02T09:00:00+00:00", "2026-03-05T14:00:00+00:00"]
        );
    }

    #[test]
    fn wall_clock_time_stays_put_across_dst() {
        let first = task(json!({"title": "t", "due_at": "2026-03-27T09:00:00",
            "time_zone": "Europe/Berlin", "recurrence": "FREQ=DAILY;COUNT=3"}));
        assert_eq!(
            series(first, on_time),
            [
                "2026-03-27T09:00:00+01:00",
                "2026-03-28T09:00:00+01:00",
                "2026-03-29T09:00:00+02:00"
            ]
        );
    }

    #[test]
    fn fixed_reminders_keep_their_distance_to_the_due_date() {
        let mut first = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
            "recurrence": "FREQ=WEEKLY", "reminders": [{"at": "2026-03-01T18:00:00Z"}, {"minutes_before": 30}]}));
        first.set_completed(true, at("2026-03-02T08:00:00Z"));
        let next = next(
            &first,
            TaskId::new(at("2026-03-02T08:00:00Z"), 2),
            at("2026-03-02T08:00:00Z"),
        )
        .expect("a next task");
        let reminders = serde_json::to_value(&next.reminders).expect("json");
        assert_eq!(
            reminders,
            json!([{"at": "2026-03-08T18:00:00Z", "fires_at": "2026-03-08T18:00:00Z"},
                {"minutes_before": 30, "fires_at": "2026-03-09T08:30:00Z"}])
        );
    }

    #[test]
    fn the_next_task_places_its_own_reminders() {
        // Completed late: the next occurrence is already due, and so is one
        // of its reminders; only the one still ahead fires.
        let mut first = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z",
            "recurrence": "FREQ=DAILY", "recurrence_mode": "completion",
            "reminders": [{"minutes_before": 1440}, {"minutes_before": 60}]}));
        let now = at("2026-03-05T07:30:00Z");
        first.set_completed(true, now);
        let next = next(&first, TaskId::new(now, 2), now).expect("a next task");
        assert_eq!(
            next.due_at.map(|d| d.to_rfc3339()),
            Some("2026-03-06T07:30:00+00:00".into())
        );
        let fires: Vec<_> = next.reminders.iter().map(|r| r.fires_at).collect();
        assert_eq!(
            fires,
            [None, Some(at("2026-03-06T06:30:00Z").fixed_offset())]
        );
    }

    #[test]
    fn a_task_that_does_not_repeat_has_no_next_and_no_preview() {
        let plain = task(json!({"title": "t", "due_at": "2026-03-02T09:00:00Z"}));
        assert!(
            next(
                &plain,
                TaskId::new(at("2026-03-03T00:00:00Z"), 2),
                at("2026-03-03T00:00:00Z")
            )
            .is_none()
        );
        assert!(preview(&plain, 5).is_empty());
    }

    #[test]
    fn a_preview_starts_at_the_due_date() {
        let monthly = task(json!({"title": "t", "due_at": "2026-01-31T10:00:00Z",
            "recurrence": "FREQ=MONTHLY"}));
        let shown: Vec<String> = preview(&monthly, 3)
            .iter()
            .map(|d| d.to_rfc3339())
            .collect();
        assert_eq!(
            shown,
            [
                "2026-01-31T10:00:00+00:00",
                "2026-03-31T10:00:00+00:00",
                "2026-05-31T10:00:00+00:00"
            ],
            "months without a 31st are skipped, as in dateutil"
        );
    }
}
