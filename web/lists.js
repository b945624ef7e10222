// The sidebar: all tasks, the Inbox and the projects, and the saved views,
// each with its counts. Choosing one narrows the task list to it; a task
// dropped on a project moves there. New projects and views are made here.

import { byId, fill, h, onSubmit } from "./dom.js";

/** What the task list shows: every task, one project's, or one view's. */
export const ALL = { kind: "all", name: "Tasks" };

function counted(name, pending, overdue) {
  return [
    h("span", { class: "name" }, name),
    h("span", { class: "tally" },
      String(pending), h("span", { class: "visually-hidden" }, " to do"),
      overdue ? h("span", { class: "late" }, ` · ${overdue}`, h("span", { class: "visually-hidden" }, " overdue")) : null),
  ];
}

export class Lists {
  /** `choose(scope)` when one is picked; `moveInto(taskId, project)` when a task is dropped on one. */
  constructor(api, choose, moveInto) {
    this.api = api;
    this.choose = choose;
    this.moveInto = moveInto;
    this.scope = ALL;
    this.projects = [];
    this.views = [];
    onSubmit(byId("project-form"), (data) => this.addProject(data));
  }

  /** The project's name by id ("inbox" too), for the list's badges. */
  projectName(id) {
    return this.projects.find((project) => project.id === id)?.name ?? "";
  }

  async load() {
    try {
      const [projects, views] = await Promise.all([this.api.get("/projects"), this.api.get("/views")]);
      this.projects = projects.projects;
      this.views = views.views;
      this.render();
      byId("lists-error").textContent = "";
    } catch (error) {
      byId("lists-error").textContent = error.message;
    }
  }

  render() {
    const current = (kind, id) => this.scope.kind === kind && this.scope.id === id ? "true" : null;
    const pick = (scope) => () => {
      this.scope = scope;
      this.render();
      this.choose(scope);
    };
    fill(byId("all-tasks"), h("li", {},
      h("button", { type: "button", "aria-current": this.scope === ALL ? "true" : null, onclick: pick(ALL) }, "All tasks")));
    fill(byId("project-list"), this.projects.map((project) => {
      const button = h("button", {
        type: "button", "aria-current": current("project", project.id), dataset: { project: project.id },
        class: `project color-${project.color}`, onclick: pick({ kind: "project", id: project.id, name: project.name }),
      }, counted(project.name, project.pending, project.overdue));
      // A task dragged from the list lands here.
      button.addEventListener("dragover", (event) => {
        if (event.dataTransfer.types.includes("text/x-task")) event.preventDefault();
      });
      button.addEventListener("drop", (event) => {
        event.preventDefault();
        this.moveInto(event.dataTransfer.getData("text/x-task"), project);
      });
      return h("li", {}, button);
    }));
    fill(byId("view-list"), this.views.length === 0
      ? h("li", { class: "hint" }, "None yet: filter the list, then save it as a view.")
      : this.views.map((view) => h("li", {}, h("button", {
        type: "button", "aria-current": current("view", view.id), dataset: { view: view.id },
        onclick: pick({ kind: "view", id: view.id, name: view.name }),
      }, counted(view.name, view.pending, view.overdue)))));
  }

  /** Shows project `id` ("inbox"), or every task when `id` is null. */
  pick(id) {
    const project = this.projects.find((p) => p.id === id);
    this.scope = project ? { kind: "project", id: project.id, name: project.name } : ALL;
    this.render();
    this.choose(this.scope);
  }

  async addProject(data) {
    const project = await this.api.post("/projects", { name: data.get("name") });
    byId("project-form").reset();
    await this.load();
    byId("list-status").textContent = `Made the project “${project.name}”.`;
  }

  /** Saves `filter` as a view named `name`, and shows it. */
  async saveView(name, filter) {
    const view = await this.api.post("/views", { name, filter });
    await this.load();
    this.scope = { kind: "view", id: view.id, name: view.name };
    this.render();
    this.choose(this.scope);
    return view;
  }

  async deleteView(view) {
    await this.api.delete(`/views/${view.id}`);
    this.scope = ALL;
    await this.load();
    this.choose(ALL);
  }
}
