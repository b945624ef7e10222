// Keyboard shortcuts. None fires while typing in a field, with a modifier
// held, or while a dialog is open; "?" lists them.

import { byId } from "./dom.js";

/** What the dialog lists, in order: keys and what they do. */
const SHORTCUTS = [
  ["n", "New task: quick add"],
  ["/", "Search"],
  ["j or ↓", "Next task"],
  ["k or ↑", "Previous task"],
  ["x", "Complete or reopen the task"],
  ["e", "Edit the task"],
  ["Delete", "Delete the task (asks first)"],
  ["g then i", "Go to the Inbox"],
  ["g then a", "Go to all tasks"],
  ["?", "This list"],
];

/** Whether `target` takes text (a task's checkbox does not). */
function typing(target) {
  if (target.closest("textarea, select, [contenteditable]")) return true;
  const input = target.closest("input");
  return input !== null && !["checkbox", "radio", "button", "submit", "reset"].includes(input.type);
}

/** The task that has the focus, if any. */
function current() {
  return document.activeElement?.closest("#task-list [data-id]") ?? null;
}

/** Moves the focus `step` tasks down (or up), to the task's checkbox. */
function move(step) {
  const tasks = [...document.querySelectorAll("#task-list [data-id]")];
  if (tasks.length === 0) return;
  const at = tasks.indexOf(current());
  const next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), tasks.length - 1);
  tasks[next].querySelector('[data-action="complete"]').focus();
}

/** The action button of the focused task. */
function act(action) {
  current()?.querySelector(`[data-action="${action}"]`)?.click();
}

export function shortcuts(lists) {
  const list = byId("keys-list");
  list.replaceChildren(...SHORTCUTS.flatMap(([keys, what]) => {
    const dt = document.createElement("dt");
    dt.textContent = keys;
    const dd = document.createElement("dd");
    dd.textContent = what;
    return [dt, dd];
  }));
  let pending = "";
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const key = pending + event.key;
    pending = "";
    // The arrows scroll the page unless a task has the focus.
    if (key.startsWith("Arrow") && !current()) return;
    const run = {
      n: () => byId("quick-input").focus(),
      "/": () => byId("filter-q").focus(),
      j: () => move(1),
      ArrowDown: () => move(1),
      k: () => move(-1),
      ArrowUp: () => move(-1),
      x: () => act("complete"),
      e: () => act("edit"),
      Delete: () => act("delete"),
      gi: () => lists.pick("inbox"),
      ga: () => lists.pick(null),
      "?": () => byId("keys-dialog").showModal(),
    }[key];
    if (key === "g") {
      pending = "g";
      event.preventDefault();
    } else if (run) {
      event.preventDefault();
      run();
    }
  });
}
