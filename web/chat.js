// The chat panel: messages to `/api/{user}/chat`, one conversation kept
// for this tab.

import { byId, fill, h, onSubmit } from "./dom.js";

const CONVERSATION = "todo.conversation";

export class Chat {
  /** `changed` is called after an answer whose tools changed tasks. */
  constructor(api, settings, changed) {
    this.api = api;
    this.settings = settings;
    this.changed = changed;
    this.log = byId("chat-log");
    this.form = byId("chat-form");
    this.conversation = sessionStorage.getItem(CONVERSATION);
    onSubmit(this.form, (data) => this.say(data.get("message")));
    byId("chat-new").addEventListener("click", () => this.restart());
  }

  /** Shows the kept conversation, if it is still there. */
  async resume() {
    if (!this.conversation) return this.greet();
    try {
      const conversation = await this.api.get(`/conversations/${encodeURIComponent(this.conversation)}`);
      fill(this.log, conversation.messages.map((message) => this.line(message.role, message.text)));
      this.log.lastElementChild?.scrollIntoView({ block: "end" });
    } catch (error) {
      // Offline, the conversation waits; gone or refused, a new one starts.
      if (error.status === 0) this.greet();
      else this.restart();
    }
  }

  restart() {
    this.conversation = null;
    sessionStorage.removeItem(CONVERSATION);
    this.greet();
  }

  greet() {
    fill(this.log, this.line("assistant",
      "Hi! Tell me what to do: “add call mum tomorrow at 6pm”, “what’s due this week?”, “complete 2”, “undo”."));
  }

  line(role, text) {
    return h("li", { class: `message ${role}` },
      h("span", { class: "visually-hidden" }, role === "user" ? "You: " : "Assistant: "), text);
  }

  async say(message) {
    const text = message.trim();
    if (!text) throw { field: "message", message: "Write a message first." };
    this.log.append(this.line("user", text));
    this.form.reset();
    const answer = await this.api.post("/chat", {
      conversation_id: this.conversation, message: text, time_zone: this.settings.time_zone,
    });
    this.conversation = answer.conversation_id;
    sessionStorage.setItem(CONVERSATION, this.conversation);
    this.log.append(this.line("assistant", answer.response));
    this.log.lastElementChild.scrollIntoView({ block: "end" });
    byId("chat-message").focus();
    if (answer.tool_calls.some((call) => call.tool !== "list_tasks" && call.tool !== "search_tasks")) this.changed();
  }
}
