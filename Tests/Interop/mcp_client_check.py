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
