// What the person does while the server cannot be reached: tasks added and
// completed are kept in this browser (localStorage, per user, so a closed
// tab keeps them) and sent, in order, when the connection returns. Each add
// carries its own Idempotency-Key: an add whose answer was lost is sent
// again and still makes one task.

import { byId } from "./dom.js";

export class Outbox {
  constructor(api, sent) {
    this.api = api;
    this.sent = sent;
    this.key = `todo.outbox.${api.user}`;
    addEventListener("online", () => this.send());
    this.show();
  }

  get waiting() {
    try {
      return JSON.parse(localStorage.getItem(this.key)) ?? [];
    } catch {
      return [];
    }
  }

  save(waiting) {
    if (waiting.length === 0) localStorage.removeItem(this.key);
    else localStorage.setItem(this.key, JSON.stringify(waiting));
    this.show();
  }

  /** Keeps a request to send later; `what` says it to the person. */
  hold(method, path, body, what) {
    this.save([...this.waiting, { id: crypto.randomUUID(), method, path, body, what }]);
  }

  /** Sends what waits, oldest first; stops at the first that cannot reach the server. */
  async send() {
    if (this.sending) return this.sending;
    this.sending = (async () => {
      let done = 0;
      for (const item of this.waiting) {
        try {
          await this.api.call(item.method, item.path, { body: item.body, key: item.id });
        } catch (error) {
          if (error.status === 0) break;
          // Refused for good (a rule the server keeps): said, then dropped.
          byId("list-status").textContent = `Could not ${item.what}: ${error.message}`;
        }
        this.save(this.waiting.filter((other) => other.id !== item.id));
        done += 1;
      }
      this.sending = null;
      if (done > 0) await this.sent();
    })();
    return this.sending;
  }

  show() {
    const waiting = this.waiting;
    const list = byId("outbox");
    list.hidden = waiting.length === 0;
    byId("outbox-items").replaceChildren(...waiting.map((item) => {
      const entry = document.createElement("li");
      entry.textContent = item.what;
      return entry;
    }));
  }
}
