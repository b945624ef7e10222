// The inbox of reminders (with its unread count) and the settings.

import { byId, fill, h, onSubmit, when } from "./dom.js";

const UNREAD_SHOWN = 100;

export class Inbox {
  constructor(api, settings) {
    this.api = api;
    this.settings = settings;
    this.dialog = byId("inbox-dialog");
    byId("inbox-button").addEventListener("click", () => this.open());
    byId("inbox-all-read").addEventListener("click", () => this.markAll());
  }

  /** Reads how many reminders are unread; shown beside "Reminders". */
  async count() {
    const page = await this.api.get("/notifications", { unread: "true", limit: UNREAD_SHOWN });
    const count = page.notifications.length;
    const text = count === 0 ? "" : page.next_cursor ? `${count}+` : String(count);
    const badge = byId("unread");
    if (badge.textContent !== text) {
      badge.textContent = text;
      byId("inbox-button").setAttribute("aria-label", count ? `Reminders, ${text} unread` : "Reminders");
    }
  }

  async open() {
    this.dialog.showModal();
    await this.refresh();
  }

  async refresh() {
    byId("inbox-error").textContent = "";
    try {
      const page = await this.api.get("/notifications", { limit: 50 });
      this.shown = page.notifications;
      fill(byId("inbox"), page.notifications.length === 0
        ? h("li", { class: "empty" }, "No reminders yet.")
        : page.notifications.map((note) => this.item(note)));
      await this.count();
    } catch (error) {
      byId("inbox-error").textContent = error.message;
    }
  }

  item(note) {
    return h("li", { class: `note${note.read ? "" : " unread"}` },
      h("span", { class: "title" }, note.title),
      h("span", { class: "meta" }, `Reminder for ${when(note.remind_at, this.settings.time_zone)}`,
        note.due_at ? ` · due ${when(note.due_at, this.settings.time_zone)}` : "",
        note.webhook ? ` · webhook ${note.webhook.status}` : ""),
      h("button", {
        type: "button",
        "aria-label": `${note.read ? "Mark unread" : "Mark read"}: “${note.title}”`,
        onclick: () => this.mark([note], !note.read),
      }, note.read ? "Mark unread" : "Mark read"));
  }

  async mark(notes, read) {
    try {
      await Promise.all(notes.map((note) => this.api.patch(`/notifications/${note.id}`, { read })));
    } catch (error) {
      byId("inbox-error").textContent = error.message;
    }
    await this.refresh();
  }

  markAll() {
    return this.mark((this.shown ?? []).filter((note) => !note.read), true);
  }
}

export class Settings {
  /** `settings` is the shared object the other parts read the zone from. */
  constructor(api, settings, changed) {
    this.api = api;
    this.settings = settings;
    this.changed = changed;
    this.form = byId("settings-form");
    byId("settings-button").addEventListener("click", () => this.open());
    onSubmit(this.form, (data) => this.save(data));
    this.calendar = new CalendarFeed(api);
    this.imports = new Import(api, changed);
  }

  open() {
    const zones = byId("zones");
    if (!zones.firstChild) fill(zones, Intl.supportedValuesOf("timeZone").map((zone) => h("option", { value: zone })));
    this.form.reset();
    this.form.elements.time_zone.value = this.settings.time_zone;
    this.form.elements.theme.value = this.settings.theme ?? "system";
    this.form.elements.webhook_url.value = this.settings.webhook_url ?? "";
    byId("settings-secret").textContent = "";
    byId("settings-dialog").showModal();
    this.calendar.show();
    this.imports.reset();
  }

  async save(data) {
    const saved = await this.api.put("/settings", {
      time_zone: data.get("time_zone").trim(),
      theme: data.get("theme"),
      webhook_url: data.get("webhook_url").trim() || null,
      rotate_webhook_secret: data.get("rotate_webhook_secret") === "on",
    });
    const { webhook_secret: secret, ...kept } = saved;
    Object.assign(this.settings, kept);
    document.documentElement.dataset.theme = kept.theme;
    byId("settings-secret").textContent = secret
      ? `Saved. Your webhook secret, shown only now: ${secret}`
      : "Saved.";
    this.changed();
  }
}

/**
 * The calendar feed's secret address: made (and shown) once, made again to
 * rotate it, turned off. Calendar apps subscribe to it.
 */
class CalendarFeed {
  constructor(api) {
    this.api = api;
    this.path = "/settings/calendar-feed";
    this.status = byId("calendar-status");
    this.url = byId("calendar-url");
    this.make = byId("calendar-make");
    this.revoke = byId("calendar-revoke");
    this.make.addEventListener("click", () => this.act(() => this.api.post(this.path, {})));
    this.revoke.addEventListener("click", () => this.act(async () => {
      await this.api.delete(this.path);
      return { active: false };
    }));
  }

  async show() {
    this.url.hidden = true;
    this.url.value = "";
    await this.act(() => this.api.get(this.path));
  }

  async act(call) {
    try {
      this.render(await call());
    } catch (error) {
      this.status.textContent = error.message;
    }
  }

  render({ active, made_at: madeAt, url }) {
    this.revoke.hidden = !active;
    this.make.textContent = active ? "Make a new address" : "Make an address";
    if (url) {
      this.url.value = url;
      this.url.hidden = false;
      this.status.textContent = "Subscribe to this address in your calendar app. It is shown only now; "
        + "anyone who has it can read your tasks' dates. A new address stops this one working.";
    } else if (active) {
      this.url.hidden = true;
      this.status.textContent = `On since ${new Date(madeAt).toLocaleString()}. Its address was shown `
        + "when it was made; make a new one to see one again (the old one stops working).";
    } else {
      this.url.hidden = true;
      this.status.textContent = "Off. Your tasks with due dates can appear in Google Calendar, Apple "
        + "Calendar or Outlook through a secret address.";
    }
  }
}

/**
 * An import: a Todoist CSV export or this app's own export, checked first
 * (a dry run saying what would be made and which lines were not read),
 * then made.
 */
class Import {
  constructor(api, changed) {
    this.api = api;
    this.changed = changed;
    this.file = byId("import-file");
    this.project = byId("import-project");
    this.status = byId("import-status");
    this.problems = byId("import-problems");
    this.file.addEventListener("change", () => {
      const name = this.file.files[0]?.name ?? "";
      if (/\.csv$/i.test(name)) this.project.value = name.replace(/\.csv$/i, "");
    });
    byId("import-check").addEventListener("click", () => this.run(true));
    byId("import-run").addEventListener("click", () => this.run(false));
  }

  reset() {
    this.file.value = "";
    this.project.value = "";
    this.status.textContent = "";
    fill(this.problems, []);
  }

  async run(dryRun) {
    const file = this.file.files[0];
    if (!file) {
      this.status.textContent = "Choose a file first.";
      return;
    }
    const json = /\.json$/i.test(file.name) || file.type === "application/json";
    const query = json
      ? { from: "export", dry_run: dryRun }
      : { from: "todoist", project: this.project.value.trim() || undefined, dry_run: dryRun };
    try {
      const report = await this.api.upload("/import", query, file);
      this.render(report);
      if (!dryRun) this.changed();
    } catch (error) {
      this.status.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
      fill(this.problems, []);
    }
  }

  render({ dry_run: dryRun, projects, tasks, already_imported: already, problems }) {
    const count = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
    const made = dryRun ? "would be made" : "made";
    const parts = [`${count(tasks.length, "task")} ${made}`];
    if (projects.length) parts.push(`in ${projects.join(", ")} (new)`);
    if (already) parts.push(`${count(already, "task")} imported before`);
    if (problems.length) parts.push(`${count(problems.length, "part")} not read:`);
    this.status.textContent = `${parts.join("; ")}${problems.length ? "" : "."}`;
    fill(this.problems, problems.map((problem) => h("li", {}, `${problem.at}: ${problem.message}`)));
  }
}
