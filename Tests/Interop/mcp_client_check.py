#!/usr/bin/env python3
"""Drives a reShapr MCP endpoint with the official Python MCP SDK, as an outside client would.

Usage: mcp_client_check.py URL SCENARIO.json

SCENARIO is either a JSON list of calls, {"tool": name, "arguments": {...}}, run in a legacy
session opened with initialize; or an object
  {"mode": "auto" | "legacy", "calls": [...], "edit": {"path": P, "content": C}, "elicit": V}
run with `mcp.Client` in that mode (auto: server/discover first, initialize as a fallback).
With "elicit", the client declares elicitation and answers every request with {"value": V}
(the messages it was asked are reported in "asked").
With "edit", the client opens subscriptions/listen for tool list changes, writes C to P once
the subscription is acknowledged, and reports whether tools/list_changed arrived.
With "catalog": {"prompt": {"name", "arguments"}, "reads": [URI, ...], "edits": [{"path", "content"}]},
the client also lists prompts, resources and templates, gets the prompt, reads each URI, then
makes each edit and reports the notification that followed it (on subscriptions/listen in
auto mode, on the session's GET stream in legacy mode).

Prints one JSON document: the negotiated protocol version, the tool names, and each call's result.
"""
import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def call_report(result):
    return {
        "isError": bool(result.is_error),
        "text": "".join(getattr(block, "text", "") for block in result.content),
        "structured": result.structured_content,
    }


async def legacy_session(url, calls):
    report = {}
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            report["protocolVersion"] = init.protocol_version
            report["serverName"] = init.server_info.name
            tools = await session.list_tools()
            report["tools"] = sorted(tool.name for tool in tools.tools)
            report["nextCursor"] = tools.next_cursor
            report["calls"] = [call_report(await session.call_tool(c["tool"], c.get("arguments", {}))) for c in calls]
    return report


async def client_mode(url, scenario):
    from mcp import Client

    import mcp.types as types

    report = {"asked": []}
    options = {}
    notifications = asyncio.Queue()
    catalog = scenario.get("catalog")
    if catalog and scenario.get("mode") == "legacy":

        async def on_message(message):
            if isinstance(message, types.ServerNotification):
                await notifications.put(type(message.root).__name__ if hasattr(message, "root") else type(message).__name__)

        options["message_handler"] = on_message
    if "elicit" in scenario:

        async def answer(context, params):
            report["asked"].append(params.message)
            return types.ElicitResult(action="accept", content={"value": scenario["elicit"]})

        options["elicitation_callback"] = answer
    async with Client(url, mode=scenario.get("mode", "auto"), **options) as client:
        report["protocolVersion"] = client.protocol_version
        report["serverName"] = client.server_info.name if client.server_info else None
        tools = await client.list_tools()
        report["tools"] = sorted(tool.name for tool in tools.tools)
        report["calls"] = [call_report(await client.call_tool(c["tool"], c.get("arguments", {}))) for c in scenario.get("calls", [])]
        if catalog:
            report["catalog"] = await catalog_report(client, catalog, scenario.get("mode"), notifications)
        edit = scenario.get("edit")
        if edit:
            report["listChanged"] = False
            async with client.listen(tools_list_changed=True) as subscription:
                report["honored"] = bool(getattr(subscription.honored, "tools_list_changed", False))
                with open(edit["path"], "w") as f:
                    f.write(edit["content"])

                async def first_event():
                    async for event in subscription:
                        return type(event).__name__

                report["event"] = await asyncio.wait_for(first_event(), timeout=30)
                report["listChanged"] = True
            tools = await client.list_tools(cache_mode="bypass")
            report["toolsAfterEdit"] = sorted(tool.name for tool in tools.tools)
    return report


async def catalog_report(client, catalog, mode, notifications):
    report = {}
    report["prompts"] = [p.name for p in (await client.list_prompts()).prompts]
    prompt = catalog["prompt"]
    got = await client.get_prompt(prompt["name"], prompt.get("arguments"))
    report["promptMessages"] = [{"role": m.role, "text": getattr(m.content, "text", None)} for m in got.messages]
    report["resources"] = [str(r.uri) for r in (await client.list_resources()).resources]
    report["templates"] = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    report["reads"] = []
    for uri in catalog.get("reads", []):
        result = await client.read_resource(uri)
        report["reads"].append(
            [{"uri": str(c.uri), "mimeType": c.mime_type, "text": getattr(c, "text", None), "blob": getattr(c, "blob", None)} for c in result.contents]
        )
    report["events"] = []
    if mode == "legacy":
        for edit in catalog.get("edits", []):
            with open(edit["path"], "w") as f:
                f.write(edit["content"])
            report["events"].append(await asyncio.wait_for(notifications.get(), timeout=30))
    else:
        async with client.listen(prompts_list_changed=True, resources_list_changed=True) as subscription:
            honored = subscription.honored
            report["honored"] = [bool(getattr(honored, "prompts_list_changed", False)), bool(getattr(honored, "resources_list_changed", False))]
            events = subscription.__aiter__()
            for edit in catalog.get("edits", []):
                with open(edit["path"], "w") as f:
                    f.write(edit["content"])
                report["events"].append(type(await asyncio.wait_for(events.__anext__(), timeout=30)).__name__)
    report["promptsAfterEdits"] = [p.name for p in (await client.list_prompts(cache_mode="bypass")).prompts]
    return report


async def main(url, scenario):
    if isinstance(scenario, list):
        report = await legacy_session(url, scenario)
    else:
        report = await client_mode(url, scenario)
    print(json.dumps(report))


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        scenario = json.load(f)
    asyncio.run(main(sys.argv[1], scenario))
