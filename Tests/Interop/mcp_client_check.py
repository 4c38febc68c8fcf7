#!/usr/bin/env python3
"""Drives a reShapr MCP endpoint with the official Python MCP SDK, as an outside client would.

Usage: mcp_client_check.py URL SCENARIO.json
SCENARIO is a JSON list of calls: {"tool": name, "arguments": {...}}. Prints one JSON document:
the negotiated protocol version, the tool names, and each call's result.
"""
import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url, calls):
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
            results = []
            for call in calls:
                result = await session.call_tool(call["tool"], call.get("arguments", {}))
                results.append({
                    "isError": bool(result.is_error),
                    "text": "".join(getattr(block, "text", "") for block in result.content),
                    "structured": result.structured_content,
                })
            report["calls"] = results
    print(json.dumps(report))


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        scenario = json.load(f)
    asyncio.run(main(sys.argv[1], scenario))
