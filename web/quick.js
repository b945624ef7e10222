// Quick add: one line ("pay rent tomorrow at 9am #bills p1 every month"),
// read on every keystroke by the chat's own language engine running in the
// page (language.js), which shows what Enter will create. Nothing is sent
// until Enter.

import { read } from "./language.js";
import { byId } from "./dom.js";

const PRIORITY = { none: "None", low: "Low", medium: "Medium", high: "High" };
const FREQUENCY = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" };

export class QuickAdd {
  constructor(list, settings) {
    this.list = list;
    this.settings = settings;
    this.input = byId("quick-input");
    this.preview = byId("quick-preview");
    this.typed = 0;
    this.input.addEventListener("input", () => this.show());
    byId("quick-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
  }

  /** The line read: the task it makes (the tasks API's fields, its project by name), or the question back. */
  async understood() {
    const text = this.input.value.trim();
    if (!text) return null;
    const projects = (this.list.lists?.projects ?? []).map((project) => project.name);
    const reading = await read({ message: `add ${text}`, zone: this.settings.time_zone, projects });
    const [call] = reading.kind === "calls" ? reading.calls : [];
    if (call?.tool !== "add_task" || reading.calls.length !== 1) {
      return { question: reading.question ?? "Write a task, such as “pay rent tomorrow at 9am #bills”." };
    }
    // The project by name, as the chat finds it; else the one shown.
    const { project: named, ...task } = call.arguments;
    const project = named
      ? this.list.lists?.projects.find((p) => p.name.toLowerCase() === named.toLowerCase())
      : this.list.scope.kind === "project" ? this.list.scope : null;
    if (named && !project) return { question: `You have no project “${named}”.` };
    if (project) task.project_id = project.id;
    return { task, project: project?.name ?? "Inbox" };
  }

  async show() {
    const typed = ++this.typed;
    const got = await this.understood().catch((error) => ({ question: `Quick add cannot read yet: ${error.message}` }));
    // A later keystroke's reading wins.
    if (typed !== this.typed) return;
    if (!got) return this.preview.replaceChildren();
    if (!got.task) return this.preview.replaceChildren(line("Not yet", got.question));
    this.preview.replaceChildren(...this.describe(got).map(([name, value]) => line(name, value)));
  }

  describe({ task, project }) {
    const zone = this.settings.time_zone;
    const shown = [["Title", task.title]];
    if (task.due_at) {
      const due = new Date(task.due_at).toLocaleString(undefined, { dateStyle: "full", timeStyle: "short", timeZone: zone });
      shown.push(["Due", `${due} (${zone})`]);
    }
    if (task.priority) shown.push(["Priority", PRIORITY[task.priority] ?? task.priority]);
    if (task.tags?.length) shown.push(["Tags", task.tags.map((tag) => `#${tag}`).join(" ")]);
    shown.push(["Project", project]);
    if (task.recurrence) shown.push(["Repeats", repeats(task.recurrence, task.recurrence_mode)]);
    for (const reminder of task.reminders ?? []) {
      shown.push(["Reminder", reminder.minutes_before !== undefined
        ? `${reminder.minutes_before} minutes before`
        : new Date(reminder.at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: zone })]);
    }
    return shown;
  }

  async create() {
    const got = await this.understood().catch((error) => ({ question: `Quick add cannot read yet: ${error.message}` }));
    if (!got?.task) {
      this.preview.replaceChildren(line("Not yet", got?.question ?? "Write a task first."));
      return this.input.focus();
    }
    try {
      await this.list.create(got.task);
      this.input.value = "";
      this.preview.replaceChildren();
    } catch (error) {
      this.preview.replaceChildren(line("Not added", error.message));
    }
    this.input.focus();
  }
}

function line(name, value) {
  const item = document.createElement("div");
  const term = document.createElement("dt");
  const detail = document.createElement("dd");
  term.textContent = name;
  detail.textContent = value;
  item.append(term, detail);
  return item;
}

/** "FREQ=MONTHLY;INTERVAL=2" as "every 2 months"; anything else as written. */
function repeats(rule, mode) {
  const parts = Object.fromEntries(rule.split(";").map((part) => part.split("=")));
  const unit = FREQUENCY[parts.FREQ];
  const every = !unit ? rule : parts.INTERVAL > 1 ? `every ${parts.INTERVAL} ${unit}s` : `every ${unit}`;
  const days = parts.BYDAY ? ` on ${parts.BYDAY}` : "";
  return `${every}${days}${mode === "completion" ? ", from completion" : ""}`;
}
