// Reminders on this device: the page's service worker, and this browser's
// push subscription (made with the app's VAPID public key, sent to the
// server, which then pushes each reminder here, encrypted for it alone).

import { byId } from "./dom.js";

/** The VAPID key as `applicationServerKey` takes it: the point's bytes. */
function bytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export class Pushes {
  constructor(api) {
    this.api = api;
    this.button = byId("push-toggle");
    this.status = byId("push-status");
    this.button.addEventListener("click", () => (this.mine ? this.disable() : this.enable()));
  }

  /** Registers the service worker and finds out whether this browser is subscribed. */
  async start() {
    if (!("serviceWorker" in navigator)) return this.say("This browser cannot show reminders.");
    this.registration = await navigator.serviceWorker.register("/sw.js");
    const state = await this.api.get("/push-subscriptions");
    this.publicKey = state.public_key;
    if (!this.publicKey || !("PushManager" in window)) {
      return this.say(this.publicKey ? "This browser cannot take pushes." : "Reminders are not pushed by this server.");
    }
    const subscription = await this.registration.pushManager.getSubscription();
    this.mine = subscription && state.subscriptions.find((s) => s.endpoint === subscription.endpoint);
    this.render();
  }

  render(note = "") {
    this.button.hidden = false;
    this.button.textContent = this.mine ? "Stop reminding this browser" : "Remind me in this browser";
    this.say(note || (this.mine ? "This browser shows your reminders." : "This browser does not show your reminders."));
  }

  say(text) {
    this.status.textContent = text;
  }

  async enable() {
    this.button.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        return this.say("Notifications are blocked for this site; allow them in the browser's settings.");
      }
      const subscription = await this.registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: bytes(this.publicKey),
      });
      this.mine = await this.api.post("/push-subscriptions", subscription.toJSON());
      this.render("Done: reminders will show on this browser.");
    } catch (error) {
      this.say(`This browser could not subscribe: ${error.message}`);
    } finally {
      this.button.disabled = false;
    }
  }

  async disable() {
    this.button.disabled = true;
    try {
      const subscription = await this.registration.pushManager.getSubscription();
      await subscription?.unsubscribe();
      await this.api.delete(`/push-subscriptions/${this.mine.id}`);
      this.mine = null;
      this.render("Done: reminders no longer show on this browser.");
    } catch (error) {
      this.say(error.message);
    } finally {
      this.button.disabled = false;
    }
  }
}
