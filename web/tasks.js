// The task list: filters, sorts and pages of the tasks API; add, edit,
// complete, reopen and delete; a task's history and next occurrences.

import { byId, fill, h, localInput, onSubmit, when } from "./dom.js";

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
    this.loading = null;
    this.again = false;
    this.list = byId("task-list");
    this.status = byId("list-status");
    this.filters = byId("filters");
    options(byId("add-recurrence"), REPEATS, "");
    options(byId("add-reminders"), REMINDERS, "");
    onSubmit(byId("add-form"), (data) => this.add(data));
    onSubmit(byId("edit-form"), (data) => this.save(data));
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
    const form = new FormData(this.filters);
    return {
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
          const page = await this.api.get("/tasks", this.query());
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
    const page = this.cursors.length;
    byId("prev-page").disabled = page === 1;
    byId("next-page").disabled = !this.next;
    byId("page-number").textContent = `Page ${page}`;
    this.status.textContent = tasks.length === 0
      ? "No tasks here."
      : `${tasks.length} task${tasks.length === 1 ? "" : "s"} on this page.`;
    const focused = document.activeElement?.closest("[data-id]");
    const restore = focused && [focused.dataset.id, document.activeElement.dataset.action];
    fill(this.list, tasks.map((task) => this.item(task)));
    if (restore) {
      this.list.querySelector(`[data-id="${restore[0]}"] [data-action="${restore[1]}"]`)?.focus();
    }
  }

  item(task) {
    const overdue = !task.completed && task.due_at && Date.parse(task.due_at) < Date.now();
    const label = `${task.completed ? "Reopen" : "Complete"} “${task.title}”`;
    return h("li", { class: `task${task.completed ? " done" : ""}${overdue ? " overdue" : ""}`, dataset: { id: task.id } },
      h("input", {
        type: "checkbox", checked: task.completed, "aria-label": label, dataset: { action: "complete" },
        onchange: (event) => this.complete(task, event.target.checked),
      }),
      h("div", { class: "body" },
        h("span", { class: "title" }, task.title),
        h("div", { class: "meta" },
          task.priority !== "none" ? h("span", { class: `badge priority-${task.priority}` }, `${task.priority} priority`) : null,
          task.tags.map((tag) => h("span", { class: "badge tag" }, `#${tag}`)),
          task.due_at ? h("span", { class: "due" }, `Due ${when(task.due_at, this.zone)}`) : null,
          overdue ? h("span", { class: "badge overdue-mark" }, "Overdue") : null,
          task.recurrence ? h("span", { class: "badge repeats", title: task.recurrence }, "↻ Repeats") : null,
          task.reminders.some((r) => Date.parse(r.fires_at) > Date.now()) ? h("span", { class: "badge" }, "Reminder set") : null)),
      h("div", { class: "actions" },
        h("button", { type: "button", dataset: { action: "edit" }, "aria-label": `Edit “${task.title}”`, onclick: () => this.edit(task) }, "Edit"),
        h("button", { type: "button", dataset: { action: "history" }, "aria-label": `History of “${task.title}”`, onclick: () => this.history(task) }, "History"),
        h("button", { type: "button", class: "danger", dataset: { action: "delete" }, "aria-label": `Delete “${task.title}”`, onclick: () => this.remove(task) }, "Delete")));
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
    const task = await this.api.post("/tasks", body);
    form.reset();
    this.status.textContent = `Added “${task.title}”.`;
    byId("add-title").focus();
    await this.load();
  }

  async complete(task, completed) {
    try {
      await this.api.patch(`/tasks/${task.id}/complete`, { completed });
      this.status.textContent = `${completed ? "Completed" : "Reopened"} “${task.title}”.`;
    } catch (error) {
      this.status.textContent = error.message;
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
