// The web app in a real browser: Debian's Chromium, driven by Playwright
// (playwright-core, no browser download), against a running stack.
//
//   TODO_URL=http://127.0.0.1:3000 [CHROMIUM=/usr/bin/chromium] \
//   [TODO_SCREENSHOTS=dir] node --test app.test.mjs
//
// One user goes through what a person does: signs up, adds a task by chat
// and by the form, filters and sorts, completes a repeating task and sees
// its next occurrence arrive, edits, deletes and reopens, gets a reminder
// in the inbox, and watches a second page follow the first. Every main view
// is checked with axe-core and saved as a screenshot at desktop and phone
// widths.

import { after, before, test as nodeTest } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { cuttable } from "./proxy.mjs";

/** Each test fails after a minute rather than hang the run (a whole run takes about 30 s). */
const test = (name, body) => nodeTest(name, { timeout: 60_000 }, body);

const URL = process.env.TODO_URL ?? "http://127.0.0.1:3000";
const SHOTS = process.env.TODO_SCREENSHOTS ?? "screenshots";
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const USER = `web${Date.now().toString(36)}`;
const PASSWORD = "correct horse battery";
const ZONE = "Europe/Paris";

let browser;
let desktop;
let page;
const requested = [];
const problems = [];

/** Waits until `check` holds (polled), or fails with what it last saw. */
async function eventually(what, check, ms = 15_000) {
  const start = Date.now();
  let last;
  for (;;) {
    last = await check();
    if (last === true) return Date.now() - start;
    if (Date.now() - start > ms) assert.fail(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function titles(on = page) {
  return on.locator("#task-list .task .title").allTextContents();
}

function task(title, on = page) {
  return on.locator("#task-list .task", { has: on.locator(".title", { hasText: new RegExp(`^${title}$`) }) });
}

async function newPage(context) {
  const opened = await context.newPage();
  opened.on("request", (request) => requested.push(request.url()));
  opened.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  opened.on("console", (message) => {
    // A refused request is the test's doing (a bad input); anything else is a fault.
    if (message.type() === "error" && !/status of (4\d\d)/.test(message.text())) problems.push(message.text());
  });
  opened.on("dialog", (dialog) => {
    problems.push(`a script opened a ${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss();
  });
  return opened;
}

async function signIn(on, action) {
  await on.goto(URL);
  if (action === "signup") await on.getByRole("button", { name: "Sign up" }).click();
  await on.getByLabel("User name").fill(USER);
  await on.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await on.locator("#auth-submit").click();
  await on.waitForSelector("body[data-ready]");
}

/** No serious or critical axe-core violation on what the page shows now. */
async function accessible(on, what) {
  await on.evaluate(AXE);
  const results = await on.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  assert.deepEqual(bad, [], `${what}: accessibility violations`);
}

async function shot(on, name) {
  await on.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function token(on = page) {
  return on.evaluate(() => JSON.parse(sessionStorage.getItem("todo.session")).token);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
  desktop = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB", timezoneId: ZONE });
  desktop.setDefaultTimeout(10_000);
  page = await newPage(desktop);
});

after(async () => {
  await browser?.close();
});

test("the page is served with a strict policy and passes axe before sign-in", async () => {
  const response = await page.goto(URL);
  const policy = response.headers()["content-security-policy"];
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'/);
  // WebAssembly may be compiled; nothing else unsafe (no eval, nothing inline).
  assert.doesNotMatch(policy.replace("'wasm-unsafe-eval'", ""), /unsafe/);
  await page.getByLabel("User name").waitFor();
  await accessible(page, "sign-in");
  await shot(page, "desktop-sign-in");
});

test("signing up with a short password or a taken name says what is wrong, next to it", async () => {
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.locator("#auth-submit").click();
  await eventually("the password's error", async () => (await page.locator("#auth-password-error").textContent()) !== "");
  assert.equal(await page.getByLabel("Password", { exact: true }).getAttribute("aria-invalid"), "true");
  await signIn(page, "signup");
  assert.equal(await page.locator("#who").textContent(), USER);
  // The same name again, from a page of its own.
  const other = await newPage(desktop);
  await other.goto(URL);
  await other.getByRole("button", { name: "Sign up" }).click();
  await other.getByLabel("User name").fill(USER.toUpperCase());
  await other.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await other.locator("#auth-submit").click();
  await eventually("the taken name's error", async () => /taken/i.test(await other.locator("#auth-form").textContent()));
  // And a wrong password on sign-in.
  await other.getByRole("button", { name: "Sign in" }).last().click();
  await other.getByLabel("Password", { exact: true }).fill("wrong password");
  await other.locator("#auth-submit").click();
  await eventually("the wrong password's error", async () => (await other.locator("#auth-form .form-error").textContent()) !== "");
  await other.close();
});

test("a task added by chat shows in the list with its tag and due date in the user's zone", async () => {
  await page.getByLabel("Message").fill("add pay rent tomorrow at 9am #bills");
  await page.getByRole("button", { name: "Send" }).click();
  await eventually("the chat's answer", async () => /pay rent/.test(await page.locator("#chat-log").textContent()));
  await eventually("the task in the list", async () => (await task("pay rent").count()) === 1);
  const meta = await task("pay rent").locator(".meta").textContent();
  assert.match(meta, /#bills/);
  assert.match(meta, /Due .*09:00/, `9 am in ${ZONE}`);
  const settings = await page.evaluate(async (bearer) => {
    const user = JSON.parse(sessionStorage.getItem("todo.session")).user_id;
    return (await fetch(`/api/${user}/settings`, { headers: { authorization: `Bearer ${bearer}` } })).json();
  }, await token());
  assert.equal(settings.time_zone, ZONE, "a new account takes the browser's zone");
});

test("the form adds a repeating task; a bad field is reported next to it and changes nothing", async () => {
  const before = await titles();
  await page.locator("#add-form").getByLabel("New task").fill("   ");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await eventually("the title's error", async () => (await page.locator("#add-title-error").textContent()) !== "");
  await page.locator("#add-form").getByLabel("New task").fill("water plants");
  await page.locator("#add-form").getByLabel("Tags").fill("home, " + "x".repeat(41));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await eventually("the tag's error", async () => (await page.locator("#add-tags-error").textContent()) !== "");
  assert.deepEqual(await titles(), before);
  await page.locator("#add-form").getByLabel("Tags").fill("home");
  await page.locator("#add-form").getByLabel("Due", { exact: true }).fill("2030-01-07T08:00");
  await page.locator("#add-form").getByLabel("Repeats").selectOption({ label: "Every day" });
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await eventually("the repeating task", async () => (await task("water plants").count()) === 1);
  assert.match(await task("water plants").textContent(), /Repeats/);
  assert.match(await task("water plants").textContent(), /7 Jan 2030, 08:00/);
});

test("filters, search and sorts narrow and order the list", async () => {
  await page.locator("#filters").getByLabel("Tag").fill("bills");
  await eventually("the tag filter", async () => JSON.stringify(await titles()) === JSON.stringify(["pay rent"]));
  await page.locator("#filters").getByLabel("Tag").fill("");
  await page.locator("#filters").getByLabel("Search").fill("water");
  await eventually("the search", async () => JSON.stringify(await titles()) === JSON.stringify(["water plants"]));
  await page.locator("#filters").getByLabel("Search").fill("");
  await page.locator("#filters").getByLabel("Sort by").selectOption("title");
  await page.locator("#filters").getByLabel("Order").selectOption("desc");
  await eventually("sorted by title, descending", async () =>
    JSON.stringify(await titles()) === JSON.stringify(["water plants", "pay rent"]));
  await page.locator("#filters").getByLabel("Order").selectOption("asc");
  await eventually("ascending", async () => JSON.stringify(await titles()) === JSON.stringify(["pay rent", "water plants"]));
  await accessible(page, "the task list");
  await shot(page, "desktop-tasks");
});

test("completing a repeating task brings its next occurrence without a reload", async () => {
  let loads = 0;
  page.on("load", () => loads++);
  await task("water plants").getByRole("checkbox").check();
  await eventually("the next occurrence", async () => {
    const text = await task("water plants").textContent().catch(() => "");
    return /8 Jan 2030, 08:00/.test(text) || text;
  });
  assert.equal(loads, 0, "no reload");
  await page.locator("#filters").getByLabel("Show").selectOption("completed");
  await eventually("the completed one", async () => /7 Jan 2030/.test(await task("water plants").textContent().catch(() => "")));
  await page.locator("#filters").getByLabel("Show").selectOption("pending");
});

test("a task's history and next occurrences", async () => {
  await task("water plants").getByRole("button", { name: /History/ }).click();
  await eventually("the occurrences", async () => (await page.locator("#occurrences li").count()) === 5);
  assert.match(await page.locator("#occurrences").textContent(), /9 Jan 2030, 08:00/);
  await eventually("the history", async () => /created/.test(await page.locator("#history").textContent()));
  await accessible(page, "the history dialog");
  await page.getByRole("button", { name: "Close" }).click();
});

test("edit, delete and reopen from the list", async () => {
  await task("pay rent").getByRole("button", { name: /Edit/ }).click();
  await page.locator("#edit-title-input").fill("");
  await page.getByRole("button", { name: "Save" }).click();
  await eventually("the edit's title error", async () => (await page.locator("#edit-title-input-error").textContent()) !== "");
  await accessible(page, "the edit dialog");
  await shot(page, "desktop-edit");
  await page.locator("#edit-title-input").fill("pay the rent");
  await page.locator("#edit-priority").selectOption("high");
  await page.getByRole("button", { name: "Save" }).click();
  await eventually("the edited task", async () => /high priority/.test(await task("pay the rent").textContent().catch(() => "")));
  // Delete asks first; "Keep it" keeps it.
  await task("pay the rent").getByRole("button", { name: /Delete/ }).click();
  await page.getByRole("button", { name: "Keep it" }).click();
  assert.equal(await task("pay the rent").count(), 1);
  await task("pay the rent").getByRole("button", { name: /Delete/ }).click();
  await page.locator("#confirm-yes").click();
  await eventually("the deleted task gone", async () => (await task("pay the rent").count()) === 0);
  // Reopen the completed occurrence.
  await page.locator("#filters").getByLabel("Show").selectOption("completed");
  // The pending list shows the next occurrence until the completed one
  // replaces it: wait for the completed row itself.
  await eventually("the completed list", async () =>
    (await task("water plants").count()) === 1 && (await task("water plants").getByRole("checkbox").isChecked()));
  await task("water plants").getByRole("checkbox").uncheck();
  await eventually("gone from completed", async () => (await task("water plants").count()) === 0);
  await page.locator("#filters").getByLabel("Show").selectOption("pending");
  await eventually("both occurrences pending", async () => (await task("water plants").count()) === 2);
});

test("by keyboard alone: skip to the list, add a task, complete it", async () => {
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
  await page.keyboard.press("Enter");
  for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement.id)) !== "add-title"; i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), "add-title");
  await page.keyboard.type("typed by keyboard");
  await page.keyboard.press("Enter");
  await eventually("the typed task", async () => (await task("typed by keyboard").count()) === 1);
  await task("typed by keyboard").getByRole("checkbox").focus();
  await page.keyboard.press("Space");
  await eventually("completed by keyboard", async () => (await task("typed by keyboard").count()) === 0);
});

test("user text is shown as text, never as HTML", async () => {
  const title = `<img src=x id=injected>`;
  await page.locator("#add-form").getByLabel("New task").fill(title);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await eventually("the odd title", async () => (await titles()).includes(title));
  assert.equal(await page.locator("#injected").count(), 0);
});

test("a second page of the same user follows the first without a reload", async () => {
  const second = await newPage(desktop);
  await signIn(second, "signin");
  await page.locator("#add-form").getByLabel("New task").fill("seen on the other page");
  const written = Date.now();
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await eventually("the change on the second page", async () => (await task("seen on the other page", second).count()) === 1);
  console.log(`the second page showed the change ${Date.now() - written} ms after the click`);
  // And back: the second page completes it, the first sees it go.
  await task("seen on the other page", second).getByRole("checkbox").check();
  await eventually("the completion on the first page", async () => (await task("seen on the other page").count()) === 0);
  await second.close();
});

test("a reminder that fires arrives in the inbox with an unread count", async () => {
  const due = new Date(Date.now() + 4_000).toISOString();
  const created = await page.evaluate(async ([bearer, due]) => {
    const user = JSON.parse(sessionStorage.getItem("todo.session")).user_id;
    const response = await fetch(`/api/${user}/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "call the bank", due_at: due, reminders: [{ minutes_before: 0 }] }),
    });
    return response.status;
  }, [await token(), due]);
  assert.equal(created, 201);
  await eventually("the list says a reminder is set", async () =>
    /Reminder set/.test(await task("call the bank").textContent().catch(() => "")));
  await eventually("the unread count", async () => (await page.locator("#unread").textContent()) === "1", 30_000);
  await eventually("the list no longer says a reminder is set", async () =>
    !/Reminder set/.test(await task("call the bank").textContent()));
  await page.getByRole("button", { name: /Reminders/ }).click();
  await eventually("the reminder in the inbox", async () => /call the bank/.test(await page.locator("#inbox").textContent()));
  await accessible(page, "the inbox");
  await shot(page, "desktop-inbox");
  await page.getByRole("button", { name: /Mark read: .call the bank./ }).click();
  await eventually("no unread left", async () => (await page.locator("#unread").textContent()) === "");
  await page.locator("#inbox-dialog").getByRole("button", { name: "Close" }).click();
});

test("projects: a task moved in by drag and by keyboard, ordered by hand, its steps checked, a view saved and opened", async () => {
  const sidebar = page.locator("nav.lists");
  const garden = sidebar.locator("#project-list button", { hasText: "Garden" });
  await page.getByLabel("New project").fill("Garden");
  await page.getByRole("button", { name: "Make" }).click();
  await eventually("the project in the sidebar", async () => /^Garden0 to do$/.test(await garden.textContent().catch(() => "")));
  for (const title of ["rake leaves", "weed the beds"]) {
    await page.locator("#add-form").getByLabel("New task").fill(title);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await eventually(`${title} added`, async () => (await task(title).count()) === 1);
  }
  // By drag: a task dropped on the project moves there.
  // Searched for, the task shows near the top, beside the sidebar.
  await page.locator("#filters").getByLabel("Search").fill("rake");
  await eventually("only the task to drag", async () => JSON.stringify(await titles()) === JSON.stringify(["rake leaves"]));
  await task("rake leaves").dragTo(garden);
  await eventually("the project's count", async () => /^Garden1 to do$/.test(await garden.textContent()));
  await page.locator("#filters").getByLabel("Search").fill("");
  // By keyboard: the edit dialog's project.
  await task("weed the beds").getByRole("button", { name: /Edit/ }).focus();
  await page.keyboard.press("Enter");
  await page.locator("#edit-project_id").focus();
  await page.locator("#edit-project_id").selectOption({ label: "Garden" });
  await page.locator("#edit-form").getByRole("button", { name: "Save" }).focus();
  await page.keyboard.press("Enter");
  await eventually("two in the project", async () => /^Garden2 to do$/.test(await garden.textContent()));
  await garden.click();
  await eventually("the project's own list", async () => {
    const seen = [await page.locator("#tasks-title").textContent(), ...await titles()];
    return JSON.stringify(seen) === JSON.stringify(["Garden", "rake leaves", "weed the beds"]) || seen;
  });
  await page.locator("#add-form").getByLabel("New task").fill("buy seeds");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const order = (expected) => async () => JSON.stringify(await titles()) === JSON.stringify(expected) || (await titles());
  await eventually("a task added in the project lands last", order(["rake leaves", "weed the beds", "buy seeds"]));
  // Dragged onto the upper half of the first: first.
  await task("buy seeds").dragTo(task("rake leaves"), { targetPosition: { x: 20, y: 4 } });
  await eventually("dragged to the top", order(["buy seeds", "rake leaves", "weed the beds"]));
  // Moved down by keyboard, keeping the focus on it.
  await task("buy seeds").getByRole("button", { name: "Move “buy seeds” down" }).focus();
  await page.keyboard.press("Enter");
  await eventually("moved down", order(["rake leaves", "buy seeds", "weed the beds"]));
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Move “buy seeds” down");
  // A checklist inside the task, with its progress.
  await task("buy seeds").locator("summary").click();
  for (const step of ["tomatoes", "basil"]) {
    await task("buy seeds").getByLabel("New step of “buy seeds”").fill(step);
    await page.keyboard.press("Enter");
    await eventually(`the step ${step}`, async () => (await task("buy seeds").getByLabel(step, { exact: true }).count()) === 1);
  }
  await task("buy seeds").getByLabel("tomatoes", { exact: true }).check();
  await eventually("the progress", async () => (await task("buy seeds").locator("summary").textContent()) === "Steps 1/2");
  await accessible(page, "a project with steps");
  await shot(page, "desktop-project");
  // The project and its order saved as a view, then opened from the sidebar.
  await page.getByLabel("Save these filters as a view").fill("Garden plan");
  await page.getByRole("button", { name: "Create view" }).click();
  const view = sidebar.locator("#view-list button", { hasText: "Garden plan" });
  await eventually("the view shown", async () =>
    (await page.locator("#tasks-title").textContent()) === "Garden plan" && /^Garden plan3 to do$/.test(await view.textContent()));
  await eventually("the view lists as the project did", order(["rake leaves", "buy seeds", "weed the beds"]));
  await sidebar.getByRole("button", { name: "All tasks" }).click();
  await eventually("every task again", async () => (await titles()).includes("water plants"));
  await view.click();
  await eventually("the view again", order(["rake leaves", "buy seeds", "weed the beds"]));
  await accessible(page, "a view");
  await page.getByRole("button", { name: "Delete this view" }).click();
  await page.locator("#confirm-yes").click();
  await eventually("the view gone, every task shown", async () =>
    (await view.count()) === 0 && (await page.locator("#tasks-title").textContent()) === "Tasks");
});

/** What the API's own secret signs: a token for `claims` (HS256, as the server issues them). */
function jwt(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${body}.${createHmac("sha256", process.env.TODO_JWT_SECRET ?? "").update(body).digest("base64url")}`;
}

/** `method` `path` of the signed-in user's API, from the page. */
async function call(method, path, body) {
  return page.evaluate(async ([method, path, body, bearer]) => {
    const answer = await fetch(path, {
      method, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return answer.json();
  }, [method, path, body, await token()]);
}

test("the service worker shows a reminder pushed to it; its buttons snooze and complete the task, and a click opens it", async () => {
  await desktop.grantPermissions(["notifications"], { origin: URL });
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
  assert.match(script, /\/sw\.js$/);
  await page.getByRole("button", { name: "Settings" }).click();
  await eventually("the device's push state", async () => /browser/.test(await page.locator("#push-status").textContent()));
  assert.equal(await page.getByRole("button", { name: "Remind me in this browser" }).isVisible(), true);
  await accessible(page, "the settings dialog, with pushes");
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  // A push delivered to the service worker through the DevTools protocol,
  // as the browser's push service would deliver it.
  const cdp = await desktop.newCDPSession(page);
  const registrations = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", (event) => registrations.push(...event.registrations));
  await cdp.send("ServiceWorker.enable");
  await eventually("the registration", async () => registrations.length > 0);
  const { registrationId, scopeURL } = registrations[0];
  // Installable: nothing stands in the way but the test's own context,
  // which Chromium counts as incognito.
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  assert.deepEqual(installabilityErrors.map((e) => e.errorId), ["in-incognito"]);
  const task = await call("POST", `/api/${USER}/tasks`, { title: "water the ferns", due_at: "2030-01-07T08:00:00", time_zone: ZONE });
  const message = {
    user_id: USER, notification_id: "01KBQ0000000000000000000AA", task_id: task.id,
    title: "water the ferns", due_at: "2030-01-07T08:00:00+01:00", remind_at: "2030-01-07T07:50:00Z",
    // As the server signs it: good for this task alone.
    action_token: jwt({ sub: USER, exp: Math.floor(Date.now() / 1000) + 3600, scope: `task:${task.id}` }),
  };
  const deliver = () => cdp.send("ServiceWorker.deliverPushMessage", {
    origin: new globalThis.URL(scopeURL).origin, registrationId, data: JSON.stringify(message),
  });
  /** Delivers the push until its notification shows (a push that reached the worker before it ran is delivered again). */
  const notified = async () => {
    await deliver();
    let delivered = Date.now();
    let shown;
    await eventually("the notification shown", async () => {
      if (Date.now() - delivered > 2000) {
        await deliver();
        delivered = Date.now();
      }
      shown = await page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => [n.title, n.tag, n.actions.map((a) => a.title)]));
      return shown.length === 1 || shown;
    });
    return shown[0];
  };
  assert.deepEqual(await notified(), ["Reminder: water the ferns", message.notification_id, ["Complete", "Snooze 10 minutes"]]);
  // The buttons: what the worker does when one is pressed (the test cannot
  // press a system notification's button, so it runs the worker's handler).
  const [worker] = desktop.serviceWorkers();
  const press = (action) => worker.evaluate(async (action) => {
    const [notification] = await self.registration.getNotifications();
    await act(notification, action);
  }, action);
  await press("snooze");
  const snoozed = await call("GET", `/api/${USER}/tasks/${task.id}`);
  assert.equal(snoozed.reminders.length, 1, "snoozed: a reminder ten minutes from now");
  assert.ok(Math.abs(Date.parse(snoozed.reminders[0].fires_at) - Date.now() - 600_000) < 60_000, snoozed.reminders[0].fires_at);
  await notified();
  await press("complete");
  assert.equal((await call("GET", `/api/${USER}/tasks/${task.id}`)).completed, true);
  // The notification itself opens the task in the page.
  await notified();
  await press("");
  await eventually("the task opened", async () =>
    await page.locator("#edit-dialog").isVisible() && await page.locator("#edit-form").getByLabel("Title").inputValue() === "water the ferns");
  await page.locator("#edit-dialog").getByRole("button", { name: "Cancel" }).click();
  await cdp.detach();
});

test("settings: a refused webhook is reported next to it; the zone is saved", async () => {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByLabel("Webhook for reminders").fill("https://10.0.0.1/hook");
  await page.getByRole("button", { name: "Save" }).click();
  await eventually("the webhook's error", async () => (await page.locator("#settings-webhook_url-error").textContent()) !== "");
  await accessible(page, "the settings dialog");
  await page.getByLabel("Webhook for reminders").fill("");
  await page.getByLabel("Time zone").fill("America/New_York");
  await page.getByRole("button", { name: "Save" }).click();
  await eventually("saved", async () => /Saved/.test(await page.locator("#settings-secret").textContent()));
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  await eventually("due dates in the new zone", async () =>
    /7 Jan 2030, 02:00|8 Jan 2030, 02:00/.test(await page.locator("#task-list").textContent()));
});

test("settings: a calendar feed address is made, shown once, read by anyone who has it, and turned off", async () => {
  await page.getByRole("button", { name: "Settings" }).click();
  const status = page.locator("#calendar-status");
  await eventually("the feed is off", async () => /^Off\./.test(await status.textContent()));
  await page.getByRole("button", { name: "Make an address" }).click();
  const address = page.locator("#calendar-url");
  await eventually("the address shown", async () => await address.isVisible());
  const url = await address.inputValue();
  assert.match(url, /^http:\/\/[^/]+\/ical\/[0-9a-f]{64}\.ics$/);
  await accessible(page, "the settings dialog with a calendar address");
  // A calendar app sends no token: the address is enough.
  const read = (href) => page.evaluate(async (href) => {
    const answer = await fetch(href, { credentials: "omit" });
    return { status: answer.status, type: answer.headers.get("content-type"), body: await answer.text() };
  }, href);
  const feed = await read(url);
  assert.equal(feed.status, 200);
  assert.equal(feed.type, "text/calendar; charset=utf-8");
  assert.match(feed.body, /^BEGIN:VCALENDAR\r\n/);
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Settings" }).click();
  await eventually("on, the address not shown again", async () =>
    /^On since/.test(await status.textContent()) && !(await address.isVisible()));
  await page.getByRole("button", { name: "Turn off" }).click();
  await eventually("off again", async () => /^Off\./.test(await status.textContent()));
  assert.equal((await read(url)).status, 404);
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
});

test("keyboard shortcuts move through the list and act, but never while typing", async () => {
  await page.keyboard.press("Escape");
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("?");
  await eventually("the shortcuts listed", async () => await page.locator("#keys-dialog").isVisible());
  assert.match(await page.locator("#keys-list").textContent(), /Next task/);
  await accessible(page, "the shortcuts dialog");
  await page.keyboard.press("Escape");
  await page.keyboard.press("n");
  assert.equal(await page.evaluate(() => document.activeElement.id), "quick-input");
  await page.keyboard.type("jk x");
  assert.equal(await page.locator("#quick-input").inputValue(), "jk x", "typed, not obeyed");
  await page.locator("#quick-input").fill("");
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  const focused = () => page.evaluate(() => document.activeElement.closest("[data-id]")?.dataset.id);
  const ids = await page.locator("#task-list [data-id]").evaluateAll((items) => items.map((i) => i.dataset.id));
  await page.keyboard.press("j");
  assert.equal(await focused(), ids[0]);
  await page.keyboard.press("j");
  assert.equal(await focused(), ids[1]);
  await page.keyboard.press("ArrowDown");
  assert.equal(await focused(), ids[2]);
  await page.keyboard.press("k");
  assert.equal(await focused(), ids[1]);
  const second = (await titles())[1];
  await page.keyboard.press("e");
  await eventually("the edit dialog", async () => await page.locator("#edit-dialog").isVisible());
  assert.equal(await page.locator("#edit-title-input").inputValue(), second);
  await page.keyboard.press("Escape");
  await page.keyboard.press("g");
  await page.keyboard.press("i");
  await eventually("the Inbox", async () => (await page.locator("#tasks-title").textContent()) === "Inbox");
  await page.keyboard.press("g");
  await page.keyboard.press("a");
  await eventually("every task", async () => (await page.locator("#tasks-title").textContent()) === "Tasks");
});

test("dark mode follows the system unless the settings choose, and passes axe in both", async () => {
  const ground = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  await page.emulateMedia({ colorScheme: "dark" });
  assert.equal(await ground(), "rgb(18, 18, 22)", "dark, as the system is");
  await accessible(page, "the task list, dark");
  await shot(page, "desktop-dark");
  const choose = async (theme) => {
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByLabel("Theme").selectOption(theme);
    await page.locator("#settings-form").getByRole("button", { name: "Save" }).click();
    await eventually("saved", async () => /Saved/.test(await page.locator("#settings-secret").textContent()));
    await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  };
  await choose("light");
  assert.equal(await ground(), "rgb(243, 244, 248)", "light, as chosen, on a dark system");
  await page.emulateMedia({ colorScheme: "light" });
  await choose("dark");
  assert.equal(await ground(), "rgb(18, 18, 22)", "dark, as chosen, on a light system");
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  assert.equal(await ground(), "rgb(18, 18, 22)", "the choice is the user's setting, kept");
  await page.getByRole("button", { name: "Settings" }).click();
  await accessible(page, "the settings dialog, dark");
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  await choose("system");
});

test("quick add shows what it will create as the person types, sends nothing until Enter, then creates it", async () => {
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("n");
  const before = requested.length;
  await page.keyboard.type("pay rent tomorrow at 9am #bills p1 every month");
  const preview = () => page.locator("#quick-preview").textContent();
  await eventually("the preview", async () => /Repeatsevery month/.test(await preview()) || await preview());
  const shown = await preview();
  // The user's zone, as an earlier test left it.
  const zone = (await call("GET", `/api/${USER}/settings`)).time_zone;
  for (const part of ["Titlepay rent", `(${zone})`, "PriorityHigh", "Tags#bills", "ProjectInbox"]) {
    assert.ok(shown.includes(part), `${part} in ${shown}`);
  }
  const typing = requested.slice(before).filter((url) => /\/api\/[^/]+\/tasks/.test(url));
  assert.deepEqual(typing, [], "no request while typing");
  await accessible(page, "quick add with its preview");
  await shot(page, "quick-add");
  await page.keyboard.press("Enter");
  await eventually("the task listed", async () => (await task("pay rent").count()) === 1);
  // The field is emptied once the list has been read again, which the
  // change feed's live update may beat.
  await eventually("the field emptied", async () => (await page.locator("#quick-input").inputValue()) === "");
  const [made] = (await call("GET", `/api/${USER}/tasks?q=${encodeURIComponent("pay rent")}`)).tasks;
  const tomorrow = new Date(Date.now() + 86_400_000).toLocaleDateString("en-CA", { timeZone: zone });
  assert.ok(made.due_at.startsWith(`${tomorrow}T09:00:00`), `${made.due_at}: 9 am tomorrow in ${zone}`);
  assert.deepEqual([made.priority, made.tags, made.recurrence, made.time_zone], ["high", ["bills"], "FREQ=MONTHLY", zone]);
  // A line that is not a task yet says so, and Enter creates nothing.
  await page.locator("#quick-input").fill("tomorrow");
  await page.keyboard.press("Enter");
  await eventually("the question", async () => /^Not yet/.test(await preview()) || await preview());
});

test("the page reads every message of the language engine's golden corpus as the chat does", async () => {
  const corpus = JSON.parse(readFileSync(new globalThis.URL("../language/corpus.json", import.meta.url), "utf8"));
  const { read, differing } = await page.evaluate(async (corpus) => {
    const { read } = await import("/language.js");
    const canonical = (value) => {
      if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
      if (value && typeof value === "object") {
        return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
      }
      return JSON.stringify(value);
    };
    const differing = [];
    let count = 0;
    for (const section of corpus.sections) {
      for (const { message, expect } of section.cases) {
        let got = await read({
          message, now: new Date(section.now), zone: section.zone,
          listing: section.listing ?? [], projects: section.projects ?? [], steps: section.steps ?? [],
        });
        // The corpus keeps a question's kind, not its wording.
        if (got.kind === "unclear") got = { kind: "unclear" };
        count += 1;
        if (canonical(got) !== canonical(expect)) differing.push({ message, expect, got });
      }
    }
    return { read: count, differing };
  }, corpus);
  assert.equal(read, corpus.sections.reduce((sum, section) => sum + section.cases.length, 0));
  assert.ok(read > 200, `${read} messages`);
  assert.deepEqual(differing, []);
});

test("offline: the app and its last listing load with the network cut; a task added then is created once when it returns", async () => {
  const proxy = await cuttable(URL);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB", timezoneId: ZONE });
  context.setDefaultTimeout(10_000);
  const away = await context.newPage();
  away.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await away.goto(proxy.url);
  await away.getByLabel("User name").fill(USER);
  await away.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await away.locator("#auth-submit").click();
  await away.waitForSelector("body[data-ready]");
  // Once the worker controls the page, the listing it reads is kept.
  await away.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await away.reload();
  await away.waitForSelector("body[data-ready]");
  const online = await titles(away);
  assert.ok(online.length > 0, "the user has tasks");

  proxy.cut();
  await away.reload();
  await away.waitForSelector("body[data-ready]");
  assert.deepEqual(await titles(away), online, "the last listing, from the copy kept");
  assert.match(await away.locator("#offline").textContent(), /^Offline: showing your tasks as they were at/);
  await away.locator("#add-form").getByLabel("New task").fill("Buy stamps offline");
  await away.locator("#add-form").getByRole("button", { name: "Add" }).click();
  const waiting = () => away.locator("#outbox-items li").allTextContents();
  await eventually("the task waiting", async () => (await waiting()).join() === "add “Buy stamps offline”" || await waiting());
  await accessible(away, "the page offline, with a task waiting");
  await shot(away, "offline");

  proxy.mend();
  await eventually("the waiting task sent", async () => (await titles(away)).includes("Buy stamps offline") || await titles(away));
  assert.equal(await away.locator("#outbox").isHidden(), true);
  assert.equal(await away.locator("#offline").isHidden(), true);
  const bearer = await token(away);
  const made = await away.evaluate(async ([user, bearer]) => {
    const answer = await fetch(`/api/${user}/tasks?q=${encodeURIComponent("stamps offline")}`, { headers: { authorization: `Bearer ${bearer}` } });
    return (await answer.json()).tasks.map((t) => t.title);
  }, [USER, bearer]);
  assert.deepEqual(made, ["Buy stamps offline"], "created once");
  await context.close();
  proxy.close();
});

test("at phone width the page reads without sideways scrolling and passes axe", async () => {
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "en-GB", timezoneId: ZONE,
  });
  const small = await newPage(phone);
  await small.goto(URL);
  await shot(small, "phone-sign-in");
  await signIn(small, "signin");
  await eventually("the list", async () => (await titles(small)).length > 0);
  const wide = await small.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(wide, false, "no sideways scrolling");
  await accessible(small, "the phone page");
  await shot(small, "phone-tasks");
  await phone.close();
});

test("settings: a Todoist export is checked, then imported once, with the lines it could not read", async () => {
  await page.getByRole("button", { name: "Settings" }).click();
  const home = new globalThis.URL("../e2e/fixtures/todoist/Home.csv", import.meta.url).pathname;
  await page.locator("#import-file").setInputFiles(home);
  assert.equal(await page.getByLabel("Into the project").inputValue(), "Home", "named after the file");
  const status = page.locator("#import-status");
  await page.getByRole("button", { name: "Check" }).click();
  await eventually("the dry run's report", async () =>
    /^7 tasks would be made; in Home \(new\); 5 parts not read:/.test(await status.textContent()));
  assert.match(await page.locator("#import-problems").textContent(), /line 12: PRIORITY must be 1 to 4/);
  await accessible(page, "the settings dialog with an import checked");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await eventually("the import's report", async () => /^7 tasks made; in Home \(new\)/.test(await status.textContent()));
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await eventually("nothing twice", async () => /^0 tasks made; 7 tasks imported before/.test(await status.textContent()));
  await page.locator("#settings-dialog").getByRole("button", { name: "Close" }).click();
  await eventually("the imported tasks listed", async () => /Pay rent/.test(await page.locator("#task-list").textContent()));
});

test("signing out forgets the token; no token ever went into a URL", async () => {
  const bearer = await token();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("User name").waitFor();
  assert.match(await page.locator("#auth-notice").textContent(), /signed out/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.deepEqual(requested.filter((url) => url.includes(bearer.split(".")[2])), []);
  assert.deepEqual(problems, []);
});
