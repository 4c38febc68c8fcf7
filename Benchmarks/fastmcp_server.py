"""FastMCP's OpenAPI server on the same spec and backend as the gateway, for the comparison.

Usage: fastmcp_server.py SPEC.yaml BACKEND_BASE_URL PORT
"""
import sys

import httpx2
import yaml
from fastmcp import FastMCP

spec_path, backend, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(spec_path) as f:
    spec = yaml.safe_load(f)
client = httpx2.AsyncClient(base_url=backend, timeout=30)
mcp = FastMCP.from_openapi(openapi_spec=spec, client=client, name="petstore")
mcp.run(transport="http", host="127.0.0.1", port=port, show_banner=False, log_level="warning")
