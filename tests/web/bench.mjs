// Figures of the web app in Debian's Chromium (bench/run web): prints one
// JSON object; asserts nothing.
//
// - first render: a new browser context (nothing cached) opening the page
//   of a signed-in user with 20 tasks, until the list is shown
//   (performance mark "todo-ready"), and what it transferred; then the same
//   page again in that context (files revalidated, 304s);
// - sign-in: from the click on "Sign in" until the list is shown (argon2id
//   inside the accounts component);
// - live: a task created through the API, from the API's answer until a
//   second open page shows it (a MutationObserver stamps the moment);
// - offline: the page reloaded with the connection cut (a proxy the
//   benchmark cuts), from the service worker's copies, until the list is
//   shown, and the bytes it read from them;
// - quick add: the language engine's module (bytes, until instantiated),
//   and its reading of each keystroke of a line, as quick add reads it.

import { chromium } from "playwright-core";
import { cuttable } from "./proxy.mjs";

const URL = process.env.TODO_URL ?? "http://127.0.0.1:3000";
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const CHANGES = Number(process.env.CHANGES ?? 100);
const USER = `bench${Date.now().toString(36)}`;
const PASSWORD = "a long enough password";

async function api(method, path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${URL}${path}`, { method, headers, body: body && JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const signedIn = await api("POST", "/api/auth/signup", { username: USER, password: PASSWORD });
for (let i = 0; i < 20; i++) {
  await api("POST", `/api/${USER}/tasks`, {
    title: `task ${i}`, priority: ["low", "medium", "high"][i % 3], tags: ["bench"],
    due_at: new Date(Date.now() + (i + 1) * 86_400_000).toISOString(),
  }, signedIn.token);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
const figures = {
  first_render_ms: [], first_paint_ms: [], warm_render_ms: [], signin_ms: [], live_ms: [], offline_render_ms: [],
};

async function signedInContext() {
  const context = await browser.newContext();
  await context.addInitScript((session) => {
    if (!sessionStorage.getItem("todo.session")) sessionStorage.setItem("todo.session", session);
  }, JSON.stringify(signedIn));
  return context;
}

async function ready(page) {
  await page.waitForSelector("body[data-ready]");
  return page.evaluate(() => ({
    ready: performance.getEntriesByName("todo-ready")[0].startTime,
    paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    files: performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
      .filter((entry) => !new globalThis.URL(entry.name).pathname.startsWith("/api/"))
      .reduce((sum, entry) => sum + entry.transferSize, 0),
    api: performance.getEntriesByType("resource")
      .filter((entry) => new globalThis.URL(entry.name).pathname.startsWith("/api/"))
      .reduce((sum, entry) => sum + entry.transferSize, 0),
    requests: performance.getEntriesByType("resource").length + 1,
  }));
}

for (let i = 0; i < ROUNDS; i++) {
  const context = await signedInContext();
  const page = await context.newPage();
  await page.goto(URL);
  const cold = await ready(page);
  figures.first_render_ms.push(cold.ready);
  figures.first_paint_ms.push(cold.paint);
  Object.assign(figures, { files_bytes: cold.files, api_bytes: cold.api, requests: cold.requests });
  await page.reload();
  const warm = await ready(page);
  figures.warm_render_ms.push(warm.ready);
  figures.warm_files_bytes = warm.files;
  await context.close();
}

for (let i = 0; i < Math.min(ROUNDS, 10); i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(URL);
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  const clicked = Date.now();
  await page.locator("#auth-submit").click();
  await page.waitForSelector("body[data-ready]");
  figures.signin_ms.push(Date.now() - clicked);
  await context.close();
}

const context = await signedInContext();
const watcher = await context.newPage();
await watcher.goto(URL);
await watcher.waitForSelector("body[data-ready]");
await watcher.locator("#filter-order").selectOption("desc");
await watcher.waitForTimeout(500);
await watcher.evaluate(() => {
  globalThis.seen = {};
  new MutationObserver(() => {
    for (const title of document.querySelectorAll("#task-list .title")) {
      globalThis.seen[title.textContent] ??= Date.now();
    }
  }).observe(document.getElementById("task-list"), { childList: true, subtree: true });
});
for (let i = 0; i < CHANGES; i++) {
  const title = `live ${i}`;
  await api("POST", `/api/${USER}/tasks`, { title }, signedIn.token);
  const answered = Date.now();
  let shown;
  while (!(shown = await watcher.evaluate((t) => globalThis.seen[t], title))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  figures.live_ms.push(shown - answered);
  // The next write at a random moment of the page's polling cycle.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
}
{
  const proxy = await cuttable(URL);
  const context = await signedInContext();
  const page = await context.newPage();
  await page.goto(proxy.url);
  await ready(page);
  // Once the worker controls the page, what it reads is kept.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.reload();
  await ready(page);
  await page.waitForFunction(() => performance.getEntriesByName("todo-engine").length > 0);
  Object.assign(figures, await page.evaluate(() => {
    const [module] = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/language.wasm"));
    return { engine_bytes: module.decodedBodySize, engine_ms: performance.getEntriesByName("todo-engine")[0].startTime };
  }));
  proxy.cut();
  for (let i = 0; i < ROUNDS; i++) {
    await page.reload();
    const offline = await ready(page);
    figures.offline_render_ms.push(offline.ready);
    figures.offline_bytes = await page.evaluate(() => performance.getEntriesByType("navigation")
      .concat(performance.getEntriesByType("resource"))
      .reduce((sum, entry) => sum + entry.decodedBodySize, 0));
  }
  proxy.mend();
  figures.keystroke_ms = await page.evaluate(async () => {
    const { read } = await import("/language.js");
    const line = "pay rent tomorrow at 9am #bills p1 every month remind me 1 hour before";
    const times = [];
    for (let round = 0; round < 50; round++) {
      for (let typed = 1; typed <= line.length; typed++) {
        const started = performance.now();
        await read({ message: `add ${line.slice(0, typed)}`, zone: "Europe/Paris", projects: ["Work", "Home"] });
        times.push(performance.now() - started);
      }
    }
    return times;
  });
  await context.close();
  proxy.close();
}

await browser.close();
console.log(JSON.stringify(figures));
