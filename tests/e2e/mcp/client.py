"""An MCP client session through the official MCP Python SDK (`mcp` on PyPI),
as tests/e2e/tests/mcp.rs runs it: lists the tools, adds, lists and
completes a task as the token's user, adds one with a key twice, makes a project, moves a task into
it by name, adds and checks steps, and tries to touch that task with
another user's token. Prints one JSON line per step for the test to check.

    python client.py URL TOKEN OTHER_TOKEN
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def say(step, value):
    print(json.dumps({"step": step, "value": value}), flush=True)


def dump(result):
    return {
        "is_error": result.is_error,
        "text": " ".join(c.text for c in result.content if getattr(c, "type", "") == "text"),
        "structured": result.structured_content,
    }


async def session(url, token, work):
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await work(session, init)


async def main(url, token, other):
    async def mine(session, init):
        say("initialized", {"server": init.server_info.name, "version": init.protocol_version})
        tools = await session.list_tools()
        say("tools", [
            {"name": t.name, "read_only": t.annotations.read_only_hint, "destructive": t.annotations.destructive_hint}
            for t in tools.tools
        ])
        added = await session.call_tool("add_task", {"title": "Write the MCP test", "priority": "high",
                                                      "due_at": "2030-01-02T09:00", "time_zone": "Europe/Berlin"})
        say("added", dump(added))
        listed = await session.call_tool("list_tasks", {"priority": "high"})
        say("listed", dump(listed))
        task_id = added.structured_content["id"]
        bad = await session.call_tool("add_task", {"title": ""})
        say("bad", dump(bad))
        done = await session.call_tool("complete_task", {"task": {"task_id": task_id}})
        say("completed", dump(done))
        batch = await session.call_tool("add_task", {"tasks": [{"title": "Batch one"}, {"title": "Batch two"}]})
        say("batch_added", dump(batch))
        ids = [r["id"] for r in batch.structured_content["results"]]
        both = await session.call_tool("complete_task", {"tasks": [{"task_id": i} for i in ids]})
        say("batch_completed", dump(both))
        # A call sent again with its key makes the task once; the key with other arguments is refused.
        keyed = {"title": "Renew the passport", "idempotency_key": "mcp-passport-1"}
        say("keyed", dump(await session.call_tool("add_task", keyed)))
        say("keyed_again", dump(await session.call_tool("add_task", keyed)))
        say("keyed_other", dump(await session.call_tool("add_task", {**keyed, "title": "Renew the visa"})))
        say("keyed_bad", dump(await session.call_tool("add_task", {"title": "x", "idempotency_key": "two words"})))
        # Deleted, then brought back by words of its title.
        await session.call_tool("delete_task", {"task": {"title": "passport"}})
        say("restored", dump(await session.call_tool("restore_task", {"task": {"title": "passport"}})))
        say("activity", dump(await session.call_tool("list_activity", {"since": "2020-01-01T00:00:00Z"})))
        gym = await session.call_tool("add_project", {"name": "Gym", "color": "green"})
        say("project_added", dump(gym))
        bag = await session.call_tool("add_task", {"title": "Pack the gym bag"})
        moved = await session.call_tool("move_task", {"task": {"title": "gym bag"}, "project": "gym"})
        say("moved", dump(moved))
        say("listed_in_project", dump(await session.call_tool("list_tasks", {"project": "GYM"})))
        bag_id = {"task_id": bag.structured_content["id"]}
        stepped = await session.call_tool("add_steps", {"task": bag_id, "steps": ["shoes", "towel", "lock"]})
        say("steps_added", dump(stepped))
        say("step_checked", dump(await session.call_tool("complete_step", {"task": bag_id, "step": "towel"})))
        say("projects_listed", dump(await session.call_tool("list_projects", {})))
        bottle = await session.call_tool("add_task", {"title": "Fill the bottle", "project": "Gym"})
        say("added_in_project", dump(bottle))
        first = await session.call_tool("move_task", {"task": {"title": "bottle"}, "to": "top"})
        say("reordered", dump(first))
        view = await session.call_tool("add_view", {"name": "Gym in order",
                                                    "filter": {"project": "gym", "sort": "order"}})
        say("view_added", dump(view))
        say("view_shown", dump(await session.call_tool("show_view", {"view": "gym in order"})))
        say("views_listed", dump(await session.call_tool("list_views", {})))
        say("view_deleted", dump(await session.call_tool("delete_view", {"view": view.structured_content["id"]})))
        say("view_gone", dump(await session.call_tool("show_view", {"view": "Gym in order"})))
        archived = await session.call_tool("update_project", {"project": "Gym", "changes": {"archived": True}})
        say("project_archived", dump(archived))
        say("unknown_project", dump(await session.call_tool("move_task", {"task": bag_id, "project": "Garden"})))
        return task_id

    task_id = await session(url, token, mine)

    async def theirs(session, init):
        done = await session.call_tool("complete_task", {"task": {"task_id": task_id}, "completed": False})
        say("other_complete", dump(done))
        gone = await session.call_tool("delete_task", {"task": {"task_id": task_id}})
        say("other_delete", dump(gone))
        listed = await session.call_tool("list_tasks", {"status": "all"})
        say("other_list", dump(listed))

    await session(url, other, theirs)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
