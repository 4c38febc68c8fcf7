-- wrk script for the tools/call comparison: a lean load generator, so that the figures are the
-- servers' and not the client's. Prints one JSON line like mcp-load's.
-- Environment:
--   MODE=mcp   POST a tools/call of TOOL with ARGUMENTS (JSON) in the sessions listed in
--              SESSIONS (comma-separated, one per wrk thread: run one connection per thread,
--              so that each client has its own session); a call counts only when the
--              answer is 200 with a JSON-RPC result that is not isError.
--   MODE=modern  POST the same tools/call as MCP 2026-07-28 requests: no session, the
--              revision's _meta in the body and its MCP-Protocol-Version, Mcp-Method and
--              Mcp-Name headers; the same success rule, plus "resultType":"complete".
--   MODE=get   GET the URL (the direct backend call, the floor); 200 with a body counts.
--   LABEL, CONCURRENCY  copied into the JSON line; WARMUP=1 prints nothing.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  failures = 0
  if os.getenv("MODE") == "mcp" then
    local sessions = {}
    for session in string.gmatch(os.getenv("SESSIONS") or "", "[^,]+") do table.insert(sessions, session) end
    local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. os.getenv("TOOL")
      .. '","arguments":' .. os.getenv("ARGUMENTS") .. '}}'
    req = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2025-06-18",
      ["Mcp-Session-Id"] = sessions[((index - 1) % #sessions) + 1],
    }, body)
    succeeded = function(status, body)
      return status == 200 and body:find('"result"', 1, true) ~= nil and body:find('"isError":true', 1, true) == nil
    end
  elseif os.getenv("MODE") == "modern" then
    local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. os.getenv("TOOL")
      .. '","arguments":' .. os.getenv("ARGUMENTS")
      .. ',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},'
      .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}}}'
    req = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2026-07-28",
      ["Mcp-Method"] = "tools/call",
      ["Mcp-Name"] = os.getenv("TOOL"),
    }, body)
    succeeded = function(status, body)
      return status == 200 and body:find('"resultType":"complete"', 1, true) ~= nil and body:find('"isError":true', 1, true) == nil
    end
  else
    req = wrk.format("GET")
    succeeded = function(status, body) return status == 200 and #body > 0 end
  end
end

function request()
  return req
end

function response(status, headers, body)
  if not succeeded(status, body) then failures = failures + 1 end
end

function done(summary, latency, requests)
  if os.getenv("WARMUP") == "1" then return end
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failures") end
  local errors = summary.errors
  local lost = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    '{"client":"wrk","label":"%s","concurrency":%d,"calls":%d,"failures":%d,"callsPerSecond":%.1f,"p50us":%d,"p99us":%d,"maxus":%d}\n',
    os.getenv("LABEL") or "", tonumber(os.getenv("CONCURRENCY") or "0"), summary.requests - failed, failed + lost,
    (summary.requests - failed) / (summary.duration / 1e6), latency:percentile(50.0), latency:percentile(99.0), latency.max))
end
