// The web app: sign-in, then the task list beside the chat, kept live by
// polling the user's change feed.

import { Api, connection, session, signIn } from "./api.js";
import { byId, clearErrors, onSubmit } from "./dom.js";
import { TaskList } from "./tasks.js";
import { Lists } from "./lists.js";
import { Pushes } from "./push.js";
import { shortcuts } from "./keys.js";
import { Chat } from "./chat.js";
import { Outbox } from "./outbox.js";
import { QuickAdd } from "./quick.js";
import { load as loadLanguage } from "./language.js";
import { Inbox, Settings } from "./panels.js";

/** How often the page asks the change feed for news, and how many polls go between reads of the unread count (which a reminder's change also triggers). */
const FEED_EVERY_MS = 1000;
const INBOX_EVERY = 15;

let signUp = false;

const NOTICE = "todo.notice";

function showAuth(notice = "") {
  byId("app").hidden = true;
  byId("auth").hidden = false;
  byId("auth-notice").textContent = notice;
  byId("auth-username").focus();
}

/** Signed out: the page starts afresh (nothing of the user stays in it), saying why. */
function signedOut(reason) {
  sessionStorage.setItem(NOTICE, reason);
  location.reload();
}

function switchAuth() {
  signUp = !signUp;
  const form = byId("auth-form");
  clearErrors(form);
  byId("auth-heading").textContent = signUp ? "Create an account" : "Sign in";
  byId("auth-submit").textContent = signUp ? "Sign up" : "Sign in";
  byId("auth-question").textContent = signUp ? "Have an account?" : "No account yet?";
  byId("auth-switch").textContent = signUp ? "Sign in" : "Sign up";
  byId("auth-password").autocomplete = signUp ? "new-password" : "current-password";
}

function confirmed(text) {
  const dialog = byId("confirm-dialog");
  byId("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

/** Follows `/api/{user}/changes` from its last cursor, so that nothing is missed across a dropped connection. */
class Feed {
  constructor(api, changed, reminded) {
    this.api = api;
    this.changed = changed;
    this.reminded = reminded;
    this.cursor = 0;
    this.ticks = 0;
  }

  /** Starts from the feed's end: what came before is in the list already read. Offline, from wherever it is once online. */
  async start() {
    try {
      const page = await this.api.get("/changes", { after: 0, limit: 200 });
      this.cursor = page.cursor;
    } catch (error) {
      if (error.status !== 0) throw error;
      this.cursor = null;
    }
    setTimeout(() => this.poll(), FEED_EVERY_MS);
  }

  async poll() {
    if (this.api.token === null) return;
    let wait = FEED_EVERY_MS;
    try {
      const unknown = this.cursor === null;
      const page = await this.api.get("/changes", { after: this.cursor ?? 0, limit: 200 });
      // Back from offline: the end of the feed, and everything read again.
      if (unknown) page.reload = true;
      this.cursor = page.cursor;
      // A reminder changes the list too: its task no longer shows one set.
      const reminded = page.changes.some((change) => change.event_type === "reminded");
      if (page.reload || page.changes.length > 0) this.changed();
      if (page.reload || reminded || ++this.ticks % INBOX_EVERY === 0) await this.reminded();
      byId("list-status").classList.remove("offline");
    } catch (error) {
      if (error.status === 0) byId("list-status").textContent = `${error.message} Retrying…`;
      wait = 5 * FEED_EVERY_MS;
    }
    setTimeout(() => this.poll(), wait);
  }
}

/** Says when the page shows the copies kept offline, and sends what waits once the server answers again. */
function offline(outbox) {
  const note = byId("offline");
  const say = (text) => {
    note.hidden = !text;
    note.textContent = text;
  };
  const time = (iso) => new Date(iso).toLocaleTimeString(undefined, { timeStyle: "short" });
  connection.addEventListener("saved", (event) => {
    say(`Offline: showing your tasks as they were at ${time(event.detail)}. What you add or complete is sent when the connection returns.`);
  });
  connection.addEventListener("lost", () => {
    if (note.hidden) say("Offline: what you add or complete is sent when the connection returns.");
  });
  connection.addEventListener("live", () => {
    say("");
    if (outbox.waiting.length > 0) outbox.send();
  });
}

async function start(signedIn) {
  byId("auth").hidden = true;
  byId("app").hidden = false;
  byId("who").textContent = signedIn.user_id;
  const api = new Api(signedIn, signedOut);
  byId("signout").onclick = () => api.signOut("You are signed out.");
  byId("keys-button").onclick = () => byId("keys-dialog").showModal();
  // One object holds the settings every part reads the zone from.
  const settings = { time_zone: "UTC", webhook_url: null };
  const list = new TaskList(api, settings, confirmed);
  list.lists = new Lists(api, (scope) => list.show(scope), (id, project) => list.moveInto(id, project));
  shortcuts(list.lists);
  const inbox = new Inbox(api, settings);
  const chat = new Chat(api, settings, () => list.load());
  new Settings(api, settings, () => list.load());
  const feed = new Feed(api, () => list.load(), () => inbox.count());
  list.outbox = new Outbox(api, () => list.load());
  new QuickAdd(list, settings);
  offline(list.outbox);
  // The feed's position first, then the list: a change in between is
  // read twice rather than missed.
  const [saved] = await Promise.all([api.get("/settings"), feed.start()]);
  Object.assign(settings, saved);
  document.documentElement.dataset.theme = settings.theme;
  const zone = signUp && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && zone !== settings.time_zone) {
    // A new account takes the browser's time zone.
    Object.assign(settings, await api.put("/settings", { time_zone: zone, theme: settings.theme }).catch(() => ({})));
  }
  const pushes = new Pushes(api);
  await Promise.all([list.load(), chat.resume(), inbox.count(), pushes.start().catch((e) => pushes.say(e.message))]);
  document.body.dataset.ready = "true";
  performance.mark("todo-ready");
  // Quick add's engine, fetched once the page is shown.
  loadLanguage().catch(() => {});
  // A reminder's notification opens its task: on this page, or a new one.
  const show = (id) => api.get(`/tasks/${encodeURIComponent(id)}`).then((task) => list.edit(task), () => {});
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.show) show(event.data.show);
  });
  const asked = new URLSearchParams(location.search).get("task");
  if (asked) {
    history.replaceState(null, "", "/");
    await show(asked);
  }
}

function main() {
  for (const button of document.querySelectorAll("dialog .close")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  byId("confirm-yes").addEventListener("click", () => byId("confirm-dialog").close("yes"));
  byId("auth-switch").addEventListener("click", switchAuth);
  onSubmit(byId("auth-form"), async (data) => {
    const signedIn = await signIn(signUp ? "signup" : "signin", data.get("username").trim(), data.get("password"));
    byId("auth-form").reset();
    await start(signedIn);
  });
  const saved = session.get();
  const notice = sessionStorage.getItem(NOTICE) ?? "";
  sessionStorage.removeItem(NOTICE);
  if (saved) start(saved);
  else showAuth(notice);
}

main();
