// The service worker: keeps the app working without a connection and
// shows each reminder pushed to this browser.
//
// Offline: the app's files and the user's last listings are kept in the
// browser's Cache Storage. Both are read from the network first, so a
// page online always sees the server as it is; when the network fails,
// the copy kept is answered, marked with `x-todo-saved-at` (when it was
// read) so that the page can say it is offline. What the person does
// offline is queued by the page itself (`outbox.js`).
//
// Pushes: the server encrypts every push for this browser alone (Web
// Push); a click brings the app forward or opens it.

const SHELL = "todo-shell";
const LISTS = "todo-lists";

/** Every file of the app (the site crate's test keeps this in step with what it serves). */
const FILES = [
  "/", "/app.js", "/api.js", "/dom.js", "/tasks.js", "/chat.js", "/panels.js", "/lists.js",
  "/push.js", "/keys.js", "/language.js", "/outbox.js", "/quick.js", "/style.css", "/icon.svg", "/icon-192.png",
  "/icon-512.png", "/manifest.webmanifest", "/language.wasm",
];

/** The API reads kept for offline use: a user's listings and what the page needs to show them. */
const KEPT = /^\/api\/[^/]+\/(tasks|projects|views(\/[^/]+\/tasks)?|settings|notifications)$/;

/** How many listings (one per query) are kept at most. */
const MOST_KEPT = 40;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (KEPT.test(url.pathname)) {
    event.respondWith(networkFirst(request, LISTS));
  } else if (request.mode === "navigate" || FILES.includes(url.pathname)) {
    event.respondWith(networkFirst(request, SHELL, request.mode === "navigate" ? "/" : url.pathname));
  }
});

/** The network's answer (kept when it is a 200), else the copy kept, marked with when it was saved. */
async function networkFirst(request, name, key = request) {
  const cache = await caches.open(name);
  try {
    const answer = await fetch(request);
    if (answer.status === 200) await keep(cache, key, answer.clone(), name === LISTS);
    return answer;
  } catch (offline) {
    const saved = await cache.match(key);
    if (!saved) throw offline;
    return saved;
  }
}

async function keep(cache, key, answer, bounded) {
  const headers = new Headers(answer.headers);
  headers.set("x-todo-saved-at", new Date().toISOString());
  const body = await answer.blob();
  await cache.put(key, new Response(body, { status: 200, headers }));
  if (!bounded) return;
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - MOST_KEPT)).map((old) => cache.delete(old)));
}

/** Signing out forgets every listing kept (the page asks). */
self.addEventListener("message", (event) => {
  if (event.data === "forget") event.waitUntil(caches.delete(LISTS));
});

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    // Not JSON: still a reminder, without its details.
  }
  const title = message.title ? `Reminder: ${message.title}` : "Reminder";
  const body = message.due_at
    ? `Due ${new Date(message.due_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`
    : "A task you asked to be reminded of.";
  // The buttons act with the push's own token, good for this task alone.
  const actions = message.action_token ? ACTIONS : [];
  event.waitUntil(self.registration.showNotification(title, {
    body, tag: message.notification_id, data: message, icon: "/icon.svg", actions,
  }));
});

const ACTIONS = [{ action: "complete", title: "Complete" }, { action: "snooze", title: "Snooze 10 minutes" }];

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(act(event.notification, event.action));
});

/**
 * What a notification's click does: its button's action on the task, or
 * (the notification itself) the app brought forward, showing the task.
 */
async function act(notification, action) {
  notification.close();
  const { user_id: user, task_id: task, action_token: token, title } = notification.data ?? {};
  if (action === "complete" || action === "snooze") {
    const path = `/api/${encodeURIComponent(user)}/tasks/${task}/${action}`;
    const answer = await fetch(path, {
      method: action === "complete" ? "PATCH" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: action === "complete" ? JSON.stringify({ completed: true }) : "{}",
    }).catch(() => null);
    if (answer?.ok) return;
    const why = answer ? (await answer.json().catch(() => ({}))).error?.message : "the server cannot be reached";
    return self.registration.showNotification(`Could not ${action} “${title}”`, {
      body: `${why ?? "The server refused."} Open the app to try again.`, tag: `${notification.tag}-failed`,
      data: notification.data, icon: "/icon.svg",
    });
  }
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(`/?task=${task}`);
  open.postMessage({ show: task });
  // Allowed in a click on the notification, refused otherwise.
  return open.focus().catch(() => open);
}
