//! One step of a task's checklist at a time, as the step routes change it
//! (`/tasks/{id}/steps[/{step}]`): added at a place, its text changed,
//! checked or unchecked, moved, removed. A step is named by its id (`s3`)
//! or by its place from 1. The whole checklist can also be given at once,
//! as a task's `steps` ([`crate::task::input`]).

use serde_json::Value;

use crate::error::{FieldError, Problem, TaskError};
use crate::task::model::{Step, StepId, StepText, Steps, Task};

/// A step as a path names it: its id, or its place from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRef {
    /// `s3`.
    Id(StepId),
    /// `3`: the third step.
    Place(usize),
}

impl StepRef {
    /// Reads `s3` or `3`; `None` names no step at all.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.parse::<usize>() {
            Ok(place) if place > 0 => Some(Self::Place(place)),
            Ok(_) => None,
            Err(_) => StepId::parse(raw).ok().map(Self::Id),
        }
    }
}

/// What a step's `POST` or `PATCH` gives: `text` (required to add),
/// `done`, `position` (its place from 1 once moved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepEdit {
    /// New text.
    pub text: Option<StepText>,
    /// Checked (`true`) or unchecked.
    pub done: Option<bool>,
    /// Where it goes, from 1.
    pub position: Option<usize>,
}

impl StepEdit {
    /// Parses a step's body.
    pub fn parse(body: &Value) -> Result<Self, FieldError> {
        let Value::Object(fields) = body else {
            let expected = "a JSON object";
            return Err(FieldError::new("body", Problem::WrongType { expected }));
        };
        let mut edit = Self::default();
        for (name, value) in fields {
            let err = |problem| FieldError::new(name.as_str(), problem);
            match name.as_str() {
                "text" => {
                    let text = value.as_str().ok_or(Problem::WrongType {
                        expected: "a string",
                    });
                    edit.text = Some(text.and_then(StepText::parse).map_err(err)?);
                }
                "done" => {
                    let done = value.as_bool().ok_or(Problem::WrongType {
                        expected: "true or false",
                    });
                    edit.done = Some(done.map_err(err)?);
                }
                "position" => {
                    let position = value.as_u64().filter(|p| *p > 0).ok_or(Problem::WrongType {
                        expected: "a whole number from 1",
                    });
                    let position = position.map_err(err)?;
                    edit.position = Some(usize::try_from(position).unwrap_or(usize::MAX));
                }
                _ => {
                    let known = "text, done, position";
                    return Err(err(Problem::UnknownField { known }));
                }
            }
        }
        Ok(edit)
    }

    /// Adds the step this edit describes to `task`'s checklist, last
    /// unless its `position` says where.
    pub fn add(&self, task: &mut Task) -> Result<(), TaskError> {
        let text = (self.text.clone()).ok_or(FieldError::new("text", Problem::Missing))?;
        let step = Step {
            id: task.steps.next_id(),
            text,
            done: self.done.unwrap_or(false),
        };
        let at = place(&task.steps, self.position, 1)?.unwrap_or(task.steps.0.len());
        task.steps.0.insert(at, step);
        Ok(())
    }

    /// Changes `step` of `task` as this edit says.
    pub fn apply(&self, task: &mut Task, step: StepRef) -> Result<(), TaskError> {
        let index = find(&task.steps, step)?;
        let mut edited = task.steps.0.remove(index);
        if let Some(text) = &self.text {
            edited.text = text.clone();
        }
        edited.done = self.done.unwrap_or(edited.done);
        let at = place(&task.steps, self.position, 1)?.unwrap_or(index);
        task.steps.0.insert(at, edited);
        Ok(())
    }
}

/// Removes `step` of `task`.
pub fn remove(task: &mut Task, step: StepRef) -> Result<(), TaskError> {
    let index = find(&task.steps, step)?;
    task.steps.0.remove(index);
    Ok(())
}

/// The index of `step` in `steps`.
fn find(steps: &Steps, step: StepRef) -> Result<usize, TaskError> {
    let found = match step {
        StepRef::Id(id) => steps.0.iter().position(|s| s.id == id),
        StepRef::Place(place) => (place <= steps.0.len()).then(|| place - 1),
    };
    found.ok_or(TaskError::StepNotFound)
}

/// The index `position` (from 1) names among `steps` with `extra` more
/// places at the end (the place after the last, for a step put back or
/// added); `None` when no position is given.
fn place(
    steps: &Steps,
    position: Option<usize>,
    extra: usize,
) -> Result<Option<usize>, FieldError> {
    let Some(position) = position else {
        return Ok(None);
    };
    let max = steps.0.len() + extra;
    if !(1..=max).contains(&position) {
        return Err(FieldError::new(
            "position",
            Problem::OutOfRange {
                min: 1,
                max: i64::try_from(max).unwrap_or(i64::MAX),
                got: i64::try_from(position).unwrap_or(i64::MAX),
            },
        ));
    }
    Ok(Some(position - 1))
}

#[cfg(test)]
mod tests;
