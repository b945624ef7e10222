// The task list: filters, sorts and pages of the tasks API, of one
// project or of a saved view; add, edit, complete, reopen and delete; a
// task's checklist; the order given by hand (dragged, or moved up and down
// by keyboard); a task's history and next occurrences.

import { byId, fill, h, localInput, onSubmit, when } from "./dom.js";
import { ALL } from "./lists.js";

const PAGE = 20;

/** What "Repeats" offers: RFC 5545 RRULE bodies. */
const REPEATS = [
  ["", "Does not repeat"],
  ["FREQ=DAILY", "Every day"],
  ["FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"],
  ["FREQ=WEEKLY", "Every week"],
  ["FREQ=MONTHLY", "Every month"],
  ["FREQ=YEARLY", "Every year"],
];

/** What "Remind me" offers: minutes before the due time. */
const REMINDERS = [
  ["", "No reminder"],
  ["0", "At the due time"],
  ["15", "15 minutes before"],
  ["60", "1 hour before"],
  ["1440", "1 day before"],
];

function options(select, choices, current) {
  const known = choices.some(([value]) => value === current);
  fill(select,
    choices.map(([value, label]) => h("option", { value, selected: value === current }, label)),
    known ? null : h("option", { value: current, selected: true }, `As it is (${current})`));
}

function tags(text) {
  return text.split(",").map((tag) => tag.trim()).filter(Boolean);
}

/** The one reminder the form can show, as its value ("" for none). */
function reminderChoice(task) {
  if (task.reminders.length === 0) return "";
  const [first] = task.reminders;
  return task.reminders.length === 1 && "minutes_before" in first
    ? String(first.minutes_before)
    : "kept";
}

function remindersField(value) {
  return value === "" ? [] : [{ minutes_before: Number(value) }];
}

/** The list and its dialogs, for one signed-in user. */
export class TaskList {
  constructor(api, settings, confirm) {
    this.api = api;
    this.settings = settings;
    this.confirm = confirm;
    this.cursors = [null];
    this.scope = ALL;
    this.lists = null;
    this.opened = new Set();
    this.loading = null;
    this.again = false;
    this.list = byId("task-list");
    this.status = byId("list-status");
    this.filters = byId("filters");
    options(byId("add-recurrence"), REPEATS, "");
    options(byId("add-reminders"), REMINDERS, "");
    onSubmit(byId("add-form"), (data) => this.add(data));
    onSubmit(byId("edit-form"), (data) => this.save(data));
    onSubmit(byId("view-form"), (data) => this.saveView(data));
    byId("delete-view").addEventListener("click", () => this.deleteView());
    this.filters.addEventListener("change", () => this.first());
    this.filters.addEventListener("submit", (event) => {
      event.preventDefault();
      this.first();
    });
    let typing;
    this.filters.addEventListener("input", (event) => {
      if (event.target.tagName !== "INPUT") return;
      clearTimeout(typing);
      typing = setTimeout(() => this.first(), 300);
    });
    byId("next-page").addEventListener("click", () => this.turn(1));
    byId("prev-page").addEventListener("click", () => this.turn(-1));
  }

  get zone() {
    return this.settings.time_zone;
  }

  query() {
    if (this.scope.kind === "view") return { limit: PAGE, cursor: this.cursors.at(-1) };
    const form = new FormData(this.filters);
    return {
      project: this.scope.kind === "project" ? this.scope.id : null,
      status: form.get("status"),
      priority: form.get("priority"),
      tag: form.get("tag").trim(),
      q: form.get("q").trim(),
      sort: form.get("sort"),
      order: form.get("order"),
      limit: PAGE,
      cursor: this.cursors.at(-1),
    };
  }

  first() {
    this.cursors = [null];
    return this.load();
  }

  /** Shows every task, one project's (in the order given by hand) or one view's. */
  show(scope) {
    this.scope = scope;
    byId("tasks-title").textContent = scope.name;
    const view = scope.kind === "view";
    this.filters.hidden = view;
    byId("view-form").hidden = view;
    byId("delete-view").hidden = !view;
    const sort = this.filters.elements.sort;
    if (scope.kind === "project") {
      sort.value = "order";
      this.filters.elements.order.value = "asc";
    } else if (sort.value === "order") {
      // "My order" is a project's own: across projects it means nothing.
      sort.value = "created_at";
    }
    return this.first().then(() => byId("tasks-title").focus());
  }

  /** Whether the list shows a project's own order, which a person may change. */
  get ordering() {
    const form = this.filters.elements;
    return this.scope.kind === "project" && form.sort.value === "order" && form.order.value === "asc";
  }

  turn(step) {
    if (step > 0 && this.next) this.cursors.push(this.next);
    if (step < 0 && this.cursors.length > 1) this.cursors.pop();
    return this.load().then(() => byId("tasks-title").focus());
  }

  /** Reads the page shown again (at most one read at a time; a change meanwhile reads once more). */
  async load() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const path = this.scope.kind === "view" ? `/views/${this.scope.id}/tasks` : "/tasks";
          // The sidebar's counts (and project names) are read beside the page.
          const [page] = await Promise.all([this.api.get(path, this.query()), this.lists?.load()]);
          this.next = page.next_cursor;
          this.render(page.tasks);
          this.filters.querySelector(".form-error").textContent = "";
        } catch (error) {
          if (error.field) {
            const slot = this.filters.querySelector(`[data-error-for="${error.field.split(/[.[]/)[0]}"]`);
            (slot || this.filters.querySelector(".form-error")).textContent = error.message;
          } else {
            this.status.textContent = error.message;
          }
        }
      } while (this.again);
      this.loading = null;
    })();
    return this.loading;
  }

  render(tasks) {
    // A drag under way keeps its tasks: the page changes once it ends.
    if (this.dragging) {
      this.held = tasks;
      return;
    }
    // The same page as shown (a change elsewhere, read again) stays as it
    // is: no flicker, no focus or drag lost.
    const names = this.lists?.projects.map((p) => [p.id, p.name]);
    // What the clock changes: overdue marks, reminders still to come.
    const now = Date.now();
    const timely = tasks.map((t) => [Date.parse(t.due_at) < now, t.reminders.some((r) => Date.parse(r.fires_at) > now)]);
    const shown = JSON.stringify([tasks, timely, this.zone, this.scope, this.ordering, this.next, names]);
    if (shown === this.shownAs) return;
    this.shownAs = shown;
    const page = this.cursors.length;
    byId("prev-page").disabled = page === 1;
    byId("next-page").disabled = !this.next;
    byId("page-number").textContent = `Page ${page}`;
    this.status.textContent = tasks.length === 0
      ? "No tasks here."
      : `${tasks.length} task${tasks.length === 1 ? "" : "s"} on this page.`;
    const focused = document.activeElement?.closest("[data-id]");
    const restore = focused && [focused.dataset.id, document.activeElement.dataset.action];
    this.shown = tasks;
    fill(this.list, tasks.map((task, at) => this.item(task, at, tasks.length)));
    if (restore) {
      this.list.querySelector(`[data-id="${restore[0]}"] [data-action="${restore[1]}"]`)?.focus();
    }
  }

  item(task, at, count) {
    const overdue = !task.completed && task.due_at && Date.parse(task.due_at) < Date.now();
    const label = `${task.completed ? "Reopen" : "Complete"} “${task.title}”`;
    const ordering = this.ordering;
    const project = this.scope.kind !== "project" && task.project_id !== "inbox" ? this.lists?.projectName(task.project_id) : null;
    const item = h("li", {
      class: `task${task.completed ? " done" : ""}${overdue ? " overdue" : ""}`, dataset: { id: task.id }, draggable: "true",
    },
      h("input", {
        type: "checkbox", checked: task.completed, "aria-label": label, dataset: { action: "complete" },
        onchange: (event) => this.complete(task, event.target.checked),
      }),
      h("div", { class: "body" },
        h("span", { class: "title" }, task.title),
        h("div", { class: "meta" },
          project ? h("span", { class: "badge in-project" }, project) : null,
          task.priority !== "none" ? h("span", { class: `badge priority-${task.priority}` }, `${task.priority} priority`) : null,
          task.tags.map((tag) => h("span", { class: "badge tag" }, `#${tag}`)),
          task.due_at ? h("span", { class: "due" }, `Due ${when(task.due_at, this.zone)}`) : null,
          overdue ? h("span", { class: "badge overdue-mark" }, "Overdue") : null,
          task.recurrence ? h("span", { class: "badge repeats", title: task.recurrence }, "↻ Repeats") : null,
          task.reminders.some((r) => Date.parse(r.fires_at) > Date.now()) ? h("span", { class: "badge" }, "Reminder set") : null),
        this.checklist(task)),
      h("div", { class: "actions" },
        ordering ? h("button", {
          type: "button", dataset: { action: "up" }, disabled: at === 0, "aria-label": `Move “${task.title}” up`,
          onclick: () => this.move(task, { before: this.shown[at - 1]?.id }, "up"),
        }, "↑") : null,
        ordering ? h("button", {
          type: "button", dataset: { action: "down" }, disabled: at === count - 1, "aria-label": `Move “${task.title}” down`,
          onclick: () => this.move(task, { after: this.shown[at + 1]?.id }, "down"),
        }, "↓") : null,
        h("button", { type: "button", dataset: { action: "edit" }, "aria-label": `Edit “${task.title}”`, onclick: () => this.edit(task) }, "Edit"),
        h("button", { type: "button", dataset: { action: "history" }, "aria-label": `History of “${task.title}”`, onclick: () => this.history(task) }, "History"),
        h("button", { type: "button", class: "danger", dataset: { action: "delete" }, "aria-label": `Delete “${task.title}”`, onclick: () => this.remove(task) }, "Delete")));
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/x-task", task.id);
      event.dataTransfer.effectAllowed = "move";
      this.dragging = true;
    });
    item.addEventListener("dragend", () => {
      this.dragging = false;
      if (this.held) this.render(this.held);
      this.held = null;
    });
    item.addEventListener("dragover", (event) => {
      if (this.ordering && event.dataTransfer.types.includes("text/x-task")) event.preventDefault();
    });
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      const dragged = this.shown.find((shown) => shown.id === event.dataTransfer.getData("text/x-task"));
      if (!dragged || dragged.id === task.id) return;
      // The upper half of a task puts the dragged one above it.
      const box = item.getBoundingClientRect();
      const above = event.clientY < box.top + box.height / 2;
      this.move(dragged, above ? { before: task.id } : { after: task.id }, above ? "above" : "below", task);
    });
    return item;
  }

  /** A task's steps: checked and unchecked, added and removed, with its progress in the summary. */
  checklist(task) {
    const done = task.steps.filter((step) => step.done).length;
    const summary = task.steps.length ? `Steps ${done}/${task.steps.length}` : "Steps";
    const details = h("details", { class: "steps", open: this.opened.has(task.id) },
      h("summary", { dataset: { action: "steps" }, "aria-label": `${summary} of “${task.title}”` }, summary),
      h("ul", {}, task.steps.map((step) => h("li", { class: step.done ? "done" : null },
        h("label", { class: "check" },
          h("input", {
            type: "checkbox", checked: step.done, dataset: { action: `step-${step.id}` },
            onchange: (event) => this.step(task, step, { done: event.target.checked }),
          }),
          step.text),
        h("button", {
          type: "button", class: "link", dataset: { action: `remove-${step.id}` }, "aria-label": `Remove the step “${step.text}”`,
          onclick: () => this.step(task, step, null),
        }, "Remove")))),
      h("form", { class: "add-step", onsubmit: (event) => this.addStep(event, task) },
        h("input", { name: "text", maxlength: 500, autocomplete: "off", "aria-label": `New step of “${task.title}”`, dataset: { action: "new-step" } }),
        h("button", { type: "submit" }, "Add step")));
    details.addEventListener("toggle", () => {
      if (details.open) this.opened.add(task.id);
      else this.opened.delete(task.id);
    });
    return details;
  }

  async step(task, step, change) {
    try {
      if (change) await this.api.patch(`/tasks/${task.id}/steps/${step.id}`, change);
      else await this.api.delete(`/tasks/${task.id}/steps/${step.id}`);
      this.status.textContent = change
        ? `${change.done ? "Checked" : "Unchecked"} “${step.text}”.`
        : `Removed the step “${step.text}”.`;
    } catch (error) {
      this.status.textContent = error.message;
    }
    await this.load();
  }

  async addStep(event, task) {
    event.preventDefault();
    const text = new FormData(event.target).get("text");
    try {
      await this.api.post(`/tasks/${task.id}/steps`, { text });
      this.status.textContent = `Added the step “${text.trim()}” to “${task.title}”.`;
    } catch (error) {
      this.status.textContent = error.message;
    }
    await this.load();
    this.list.querySelector(`[data-id="${task.id}"] [data-action="new-step"]`)?.focus();
  }

  /** Moves `task` in its project's order (`{before}` or `{after}` another task), saying where. */
  async move(task, place, where, next) {
    try {
      await this.api.post(`/tasks/${task.id}/move`, place);
      this.status.textContent = next ? `Moved “${task.title}” ${where} “${next.title}”.` : `Moved “${task.title}” ${where}.`;
    } catch (error) {
      this.status.textContent = error.message;
    }
    await this.load();
  }

  /** Moves the task `id` into `project` (dropped on it in the sidebar). */
  async moveInto(id, project) {
    try {
      const task = await this.api.patch(`/tasks/${id}`, { project_id: project.id });
      this.status.textContent = `Moved “${task.title}” to ${project.name}.`;
    } catch (error) {
      this.status.textContent = error.message;
    }
    await this.load();
  }

  /** Saves the list's filters (and project) as a view, and shows it. */
  async saveView(data) {
    const query = this.query();
    const filter = {};
    for (const name of ["status", "project", "q", "sort", "order"]) {
      if (query[name]) filter[name] = query[name];
    }
    if (query.priority) filter.priority = [query.priority];
    if (query.tag) filter.tag = [query.tag];
    const view = await this.lists.saveView(data.get("name"), filter);
    byId("view-form").reset();
    this.status.textContent = `Saved the view “${view.name}”.`;
  }

  async deleteView() {
    const view = this.scope;
    if (!(await this.confirm(`Delete the view “${view.name}”? Its tasks stay.`))) return;
    await this.lists.deleteView(view);
    this.status.textContent = `Deleted the view “${view.name}”.`;
  }

  async add(data) {
    const form = byId("add-form");
    const body = {
      title: data.get("title"),
      priority: data.get("priority"),
      tags: tags(data.get("tags")),
      time_zone: this.zone,
      due_at: data.get("due_at") || null,
      recurrence: data.get("recurrence") || null,
      reminders: remindersField(data.get("reminders")),
    };
    if (this.scope.kind === "project") body.project_id = this.scope.id;
    await this.create(body);
    form.reset();
    byId("add-title").focus();
  }

  /** Keeps a write the server could not be reached for in the outbox, and says so. */
  hold(method, path, body, what) {
    this.outbox.hold(method, path, body, what);
    this.status.textContent = `Offline: will ${what} when the connection returns.`;
  }

  /** Creates the task of `body` (a create that cannot reach the server waits in the outbox). */
  async create(body) {
    let task;
    try {
      task = await this.api.post("/tasks", body);
    } catch (error) {
      if (error.status !== 0) throw error;
      return this.hold("POST", "/tasks", body, `add “${body.title.trim()}”`);
    }
    this.status.textContent = `Added “${task.title}”.`;
    await this.load();
  }

  async complete(task, completed) {
    try {
      await this.api.patch(`/tasks/${task.id}/complete`, { completed });
      this.status.textContent = `${completed ? "Completed" : "Reopened"} “${task.title}”.`;
    } catch (error) {
      if (error.status !== 0) {
        this.status.textContent = error.message;
      } else {
        const what = `${completed ? "complete" : "reopen"} “${task.title}”`;
        return this.hold("PATCH", `/tasks/${task.id}/complete`, { completed }, what);
      }
    }
    await this.load();
  }

  async remove(task) {
    if (!(await this.confirm(`Delete “${task.title}”?`))) return;
    try {
      await this.api.delete(`/tasks/${task.id}`);
      this.status.textContent = `Deleted “${task.title}”.`;
    } catch (error) {
      this.status.textContent = error.message;
    }
    await this.load();
  }

  edit(task) {
    const form = byId("edit-form");
    this.editing = task;
    form.reset();
    form.elements.title.value = task.title;
    form.elements.description.value = task.description ?? "";
    form.elements.due_at.value = task.due_at ? localInput(task.due_at, task.time_zone) : "";
    byId("edit-zone").textContent = `(${task.time_zone})`;
    form.elements.priority.value = task.priority;
    form.elements.tags.value = task.tags.join(", ");
    options(form.elements.project_id, (this.lists?.projects ?? []).map((p) => [p.id, p.name]), task.project_id);
    options(form.elements.recurrence, REPEATS, task.recurrence ?? "");
    const reminder = reminderChoice(task);
    options(form.elements.reminders, reminder === "kept" ? [...REMINDERS, ["kept", "As they are"]] : REMINDERS, reminder);
    byId("edit-dialog").showModal();
  }

  async save(data) {
    const task = this.editing;
    const body = {
      title: data.get("title"),
      description: data.get("description") || null,
      due_at: data.get("due_at") || null,
      priority: data.get("priority"),
      tags: tags(data.get("tags")),
      project_id: data.get("project_id"),
      recurrence: data.get("recurrence") || null,
    };
    if (data.get("reminders") !== "kept") body.reminders = remindersField(data.get("reminders"));
    await this.api.patch(`/tasks/${task.id}`, body);
    byId("edit-dialog").close();
    this.status.textContent = `Saved “${body.title.trim()}”.`;
    await this.load();
  }

  async history(task) {
    const dialog = byId("history-dialog");
    byId("history-title").textContent = `History of “${task.title}”`;
    fill(byId("history"));
    fill(byId("occurrences"));
    byId("history-error").textContent = "";
    byId("occurrences-section").hidden = !task.recurrence;
    dialog.showModal();
    try {
      const [page, series] = await Promise.all([
        this.api.get(`/tasks/${task.id}/history`, { limit: 50 }),
        task.recurrence && task.due_at ? this.api.get(`/tasks/${task.id}/occurrences`, { count: 5 }) : null,
      ]);
      fill(byId("history"), page.history.map((entry) => h("li", {},
        h("strong", {}, entry.event_type), ` ${when(entry.timestamp, this.zone)}`,
        entry.changes.length ? h("ul", {}, entry.changes.map((change) => h("li", {},
          `${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`))) : null)));
      if (series) fill(byId("occurrences"), series.occurrences.map((at) => h("li", {}, when(at, this.zone))));
    } catch (error) {
      byId("history-error").textContent = error.message;
    }
  }
}
