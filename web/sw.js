// The service worker: shows each reminder pushed to this browser (Web Push;
// the server encrypts every push for this browser alone) and, on a click,
// brings the app forward or opens it.

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
  event.waitUntil(self.registration.showNotification(title, {
    body, tag: message.notification_id, data: message, icon: "/icon.svg",
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
    return open ? open.focus() : self.clients.openWindow("/");
  })());
});
