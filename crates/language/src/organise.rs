//! Organising sentences: projects named in an add, a move or a listing
//! ("add milk to groceries", "move the report to Work", "what's in my Work
//! list?"), a task's checklist ("add steps to pack the gym bag: shoes,
//! towel, lock", "check off towel"), the order given by hand ("put it
//! first", "move the report above the slides") and saved views ("show my
//! weekly review view").
//!
//! A project is recognised only by a name the user has
//! ([`Context::projects`]), so "add talk to mom" stays a title unless
//! there is a project "Mom"; "my X list" names a project by part of its
//! name too, and asks back when several match.

use serde_json::{Value, json};

use crate::words::{self, Word};
use crate::{Context, Reading, ToolCall, calls, selectors, unclear};

/// What a phrase such as "to my Work list" named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Named {
    /// One of the user's projects, by its name as they wrote it.
    Project(String),
    /// "my X list" where the user has no project like X: a tag, as before
    /// there were projects.
    Tag(String),
}

/// The project a phrase of `words` names after one of `preps` ("to",
/// "in", ...; then "my" or "the" may come), or a phrase ending in "list"
/// or "project". It must end the words not yet `used`, and is marked
/// used. `Err` asks back when part of a name matches several projects.
pub(crate) fn project_in(
    words: &[Word],
    used: &mut [bool],
    context: &Context<'_>,
    preps: &[&str],
) -> Result<Option<Named>, String> {
    let mut end = (0..words.len()).rfind(|&i| !used[i]).map_or(0, |i| i + 1);
    while end > 0 && words[end - 1].is(&["please", "due", "tasks", "task", "todos"]) {
        end -= 1;
    }
    for start in 0..end {
        if used[start..end].iter().any(|u| *u) {
            continue;
        }
        let prep = words[start].is(preps);
        let possessive = words[start].is(&["my", "the", "our"]);
        let from = start
            + usize::from(prep)
            + words[start + usize::from(prep)..end]
                .iter()
                .take_while(|w| w.is(&["my", "the", "our"]))
                .count();
        let suffixed = end > from + 1 && words[end - 1].is(&["list", "project"]);
        let name_end = end - usize::from(suffixed);
        if !(prep || (possessive && suffixed)) || from >= name_end {
            continue;
        }
        let name: Vec<&Word> = words[from..name_end].iter().collect();
        let phrase = words::join(&name).to_lowercase();
        let exact = (context.projects.iter()).find(|p| p.to_lowercase() == phrase);
        let found = match exact {
            Some(project) => Some(Named::Project(project.clone())),
            None if suffixed => {
                let partial: Vec<&String> = (context.projects.iter())
                    .filter(|p| p.to_lowercase().contains(&phrase))
                    .collect();
                let listed = words[end - 1].is(&["list"]);
                match partial.as_slice() {
                    [one] => Some(Named::Project((*one).clone())),
                    [] if listed && name.len() == 1 => {
                        Some(Named::Tag(phrase.trim_start_matches('#').into()))
                    }
                    [] if listed => None,
                    [] => {
                        return Err(format!(
                            "You have no project “{phrase}”: say \"create a project called {phrase}\" first."
                        ));
                    }
                    many => {
                        let names: Vec<&str> = many.iter().map(|p| p.as_str()).collect();
                        return Err(format!(
                            "Several projects match “{phrase}”: {}. Which one?",
                            names.join(", ")
                        ));
                    }
                }
            }
            None => None,
        };
        if let Some(found) = found {
            used[start..name_end + usize::from(suffixed)]
                .iter_mut()
                .for_each(|u| *u = true);
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// "move the report to Work", "put milk in groceries", "put it first",
/// "move the report above the slides", "move it to the bottom of Work":
/// `move_task`, or `None` when the words name no project or place (a
/// move to a date, read elsewhere).
pub(crate) fn arrange(words: &[Word], context: &Context<'_>) -> Option<Reading> {
    let rest = &words[1..];
    let mut used = vec![false; rest.len()];
    let mut arguments = serde_json::Map::new();
    // "... of Work", "... in my Work list" after a place.
    let project = project_in(rest, &mut used, context, &["to", "into", "in", "of", "on"]);
    let project = match project {
        Err(question) => return Some(unclear(question)),
        Ok(Some(Named::Project(name))) => Some(name),
        Ok(_) => None,
    };
    let end = (0..rest.len()).rfind(|&i| !used[i]).map_or(0, |i| i + 1);
    let lower: Vec<&str> = rest[..end].iter().map(|w| w.lower.as_str()).collect();
    let place = |n: usize, to: &str| Some((end - n, json!(to)));
    let (cut, to) = match lower.as_slice() {
        [.., "to" | "at" | "on", "the", "top"] => place(3, "top")?,
        [.., "to" | "on", "top"] | [.., "at", "the", "start"] => place(2, "top")?,
        [.., "first"] => place(1, "top")?,
        [.., "to" | "at", "the", "bottom" | "end"] => place(3, "bottom")?,
        [.., "last"] => place(1, "bottom")?,
        _ => match (0..end).find(|&i| rest[i].is(&["above", "below", "under"])) {
            Some(at) if at > 0 && at + 1 < end => {
                let other: Vec<Word> = rest[at + 1..end].to_vec();
                let side = if rest[at].is(&["above"]) {
                    "before"
                } else {
                    "after"
                };
                let task = match selectors(&other, context) {
                    Ok(mut found) if found.len() == 1 => found.remove(0),
                    Ok(_) => return Some(unclear("Next to which one task?")),
                    Err(question) => return Some(unclear(question)),
                };
                arguments.insert(side.into(), task);
                (at, Value::Null)
            }
            _ => (end, Value::Null),
        },
    };
    if !to.is_null() {
        arguments.insert("to".into(), to);
    }
    if arguments.is_empty() && project.is_none() {
        return None;
    }
    if let Some(project) = project {
        arguments.insert("project".into(), json!(project));
    }
    let mut target: Vec<Word> = rest[..cut].to_vec();
    while target
        .last()
        .is_some_and(|w| w.is(&["to", "into", "in", "on", "of", "at"]))
    {
        target.pop();
    }
    match selectors(&target, context) {
        Ok(found) => Some(calls(
            found
                .into_iter()
                .map(|task| {
                    let mut arguments = arguments.clone();
                    arguments.insert("task".into(), task);
                    ToolCall::new("move_task", Value::Object(arguments))
                })
                .collect(),
        )),
        Err(question) => Some(unclear(question)),
    }
}

/// How many words make "add steps to" at the start ("add a checklist
/// to", "add step to"), if they do.
pub(crate) fn steps_verb(head: &[&str]) -> Option<usize> {
    match head {
        [
            "add",
            "steps" | "step" | "subtasks" | "checklist" | "items",
            "to" | "for",
            ..,
        ] => Some(3),
        ["add", "a", "checklist" | "step", "to" | "for", ..] => Some(4),
        _ => None,
    }
}

/// "add steps to pack the gym bag: shoes, towel, lock": the task up to
/// the colon, then the steps, one per comma or "and".
pub(crate) fn add_steps(words: &[Word], context: &Context<'_>) -> Reading {
    let example = "Add which steps to which task? For example \"add steps to pack the gym bag: shoes, towel, lock\".";
    let Some(colon) = words.iter().position(|w| w.stop) else {
        return unclear(example);
    };
    let mut steps: Vec<String> = Vec::new();
    let mut step: Vec<&Word> = Vec::new();
    for word in &words[colon + 1..] {
        if !word.is(&["and", "&"]) {
            step.push(word);
        }
        if word.stop || word.is(&["and", "&"]) {
            steps.push(
                step.iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            step.clear();
        }
    }
    steps.push(
        step.iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    steps.retain(|s| !s.is_empty());
    if steps.is_empty() {
        return unclear(example);
    }
    match selectors(&words[..=colon], context) {
        Ok(found) => calls(
            found
                .into_iter()
                .map(|task| ToolCall::new("add_steps", json!({"task": task, "steps": steps})))
                .collect(),
        ),
        Err(question) => unclear(question),
    }
}

/// "check off towel" when towel is a step of the task the conversation
/// last changed: `complete_step` (`completed` false to uncheck it).
pub(crate) fn step_of_last(
    words: &[Word],
    context: &Context<'_>,
    completed: bool,
) -> Option<Reading> {
    let named: Vec<&Word> = (words.iter())
        .skip_while(|w| w.is(&["the", "my", "step"]))
        .collect();
    let text = words::join(&named).to_lowercase();
    if text.is_empty() {
        return None;
    }
    let matching = (context.steps.iter())
        .filter(|s| s.to_lowercase().contains(&text))
        .count();
    (matching > 0).then(|| {
        let mut arguments = json!({"task": {"last": true}, "step": text});
        if !completed {
            arguments["completed"] = json!(false);
        }
        calls(vec![ToolCall::new("complete_step", arguments)])
    })
}

/// "show my weekly review view", "open the Focus filter", "what's in my
/// Focus view": `show_view` by name; "show my views": `list_views`.
pub(crate) fn view(words: &[Word], lower: &[&str]) -> Option<Reading> {
    let asks = matches!(
        lower.first().copied().unwrap_or_default(),
        "show" | "open" | "list" | "what" | "what's" | "whats" | "which" | "display" | "my"
    );
    if !asks {
        return None;
    }
    if lower.iter().any(|w| matches!(*w, "views" | "filters")) {
        return Some(calls(vec![ToolCall::new("list_views", json!({}))]));
    }
    if !matches!(lower.last().copied(), Some("view" | "filter")) {
        return None;
    }
    let name: Vec<&Word> = words[..words.len() - 1]
        .iter()
        .skip(1)
        .skip_while(|w| w.is(&["me", "is", "in", "on", "my", "the", "saved"]))
        .collect();
    let name = words::join(&name);
    Some(match name.is_empty() {
        true => unclear("Which view? Say \"show my views\" to see them."),
        false => calls(vec![ToolCall::new("show_view", json!({"view": name}))]),
    })
}
