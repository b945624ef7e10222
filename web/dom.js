// Building the page from data: elements and text nodes only. User text
// goes in as text, never as HTML.

/** An element: `h("li", {class: "task", dataset: {id}}, child, "text")`. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

/** The element with this id (the page's own markup, so it is there). */
export function byId(id) {
  return document.getElementById(id);
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined));
}

/** Clears a form's messages and marks. */
export function clearErrors(form) {
  for (const message of form.querySelectorAll("[data-error-for], .form-error")) message.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * Shows an error next to what caused it: the API names the field as a JSON
 * path (`title`, `tags[2]`, `reminders[0].at`); its first name picks the
 * form's `[data-error-for]` message, anything else goes to `.form-error`.
 */
export function showError(form, error) {
  clearErrors(form);
  const root = (error.field || "").split(/[.[]/)[0];
  const slot = root && form.querySelector(`[data-error-for="${CSS.escape(root)}"]`);
  if (slot) {
    slot.textContent = error.message;
    const input = form.querySelector(`#${CSS.escape(slot.id.replace(/-error$/, ""))}`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  } else {
    form.querySelector(".form-error").textContent = error.message;
  }
}

/** Runs `work` for a form's submit, its button busy meanwhile; errors shown in the form. */
export function onSubmit(form, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    clearErrors(form);
    try {
      await work(new FormData(form));
    } catch (error) {
      showError(form, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

const formats = new Map();

/** An instant shown in `zone`: "Tue 3 Mar 2026, 09:00". */
export function when(iso, zone) {
  if (!formats.has(zone)) {
    formats.set(zone, new Intl.DateTimeFormat(undefined, {
      timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit",
    }));
  }
  return formats.get(zone).format(new Date(iso));
}

/** An instant as the wall time of `zone`, for `<input type=datetime-local>`: "2026-03-03T09:00". */
export function localInput(iso, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso)).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}
