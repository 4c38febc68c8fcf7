#!/usr/bin/env python3
"""Reads the benchmark JSON lines on stdin; prints tables with ratios and writes results.json."""
import json
import sys
from collections import defaultdict

rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
json.dump(rows, open(sys.argv[1] if len(sys.argv) > 1 else "results.json", "w"), indent=2)

calls = defaultdict(lambda: defaultdict(dict))
for row in rows:
    if "callsPerSecond" in row:
        calls[row.get("client", "mcp-load")][row["concurrency"]][row["label"]] = row
for client in ("wrk", "mcp-load"):
    table = calls.get(client, {})
    if not any("fastmcp" in r or "direct" in r for r in table.values()):
        continue
    print(f"\ntools/call getPetById, same spec, same backend, load from {client} (calls/s; p50 / p99 in µs)")
    print(f"{'clients':>7} | {'direct':>22} | {'reshapr':>22} | {'fastmcp':>22} | {'reshapr/fastmcp':>15} | {'added p50 µs':>12} | failures")
    for c in sorted(c for c in table if "reshapr" in table[c]):
        r = table[c]
        cell = lambda k: f"{r[k]['callsPerSecond']:8.0f} {r[k]['p50us']:6.0f}/{r[k]['p99us']:6.0f}" if k in r else "-"
        ratio = f"{r['reshapr']['callsPerSecond'] / r['fastmcp']['callsPerSecond']:.1f}x" if "reshapr" in r and "fastmcp" in r else "-"
        added = f"{r['reshapr']['p50us'] - r['direct']['p50us']:.0f}" if "reshapr" in r and "direct" in r else "-"
        failures = sum(r[k]["failures"] for k in r)
        print(f"{c:>7} | {cell('direct'):>22} | {cell('reshapr'):>22} | {cell('fastmcp'):>22} | {ratio:>15} | {added:>12} | {failures}")
wrk_calls = calls.get("wrk", {})
calls = calls.get("mcp-load", {})
sdk = {c: r for c, r in calls.items() if "reshapr-mock" in r and "swift-sdk-mock" in r}
if sdk:
    print("\ntools/call, mock answer: reshapr's MCP layer vs the MCP Swift SDK's server (calls/s; p50 / p99 in µs)")
    print(f"{'clients':>7} | {'reshapr':>22} | {'swift-sdk':>22} | {'ratio':>6}")
    for c in sorted(sdk):
        r = sdk[c]
        cell = lambda k: f"{r[k]['callsPerSecond']:8.0f} {r[k]['p50us']:6.0f}/{r[k]['p99us']:6.0f}"
        print(f"{c:>7} | {cell('reshapr-mock'):>22} | {cell('swift-sdk-mock'):>22} | {r['reshapr-mock']['callsPerSecond'] / r['swift-sdk-mock']['callsPerSecond']:5.1f}x")
eras = {c: r for c, r in wrk_calls.items() if "era-legacy" in r and "era-modern" in r}
if eras:
    print("\ntools/call getPetById (mock answer), one gateway: 2025-06-18 session vs 2026-07-28 stateless (calls/s; p50 / p99 in µs)")
    print(f"{'clients':>7} | {'legacy session':>22} | {'2026-07-28':>22} | {'modern/legacy':>13} | failures")
    for c in sorted(eras):
        r = eras[c]
        cell = lambda k: f"{r[k]['callsPerSecond']:8.0f} {r[k]['p50us']:6.0f}/{r[k]['p99us']:6.0f}"
        ratio = r["era-modern"]["callsPerSecond"] / r["era-legacy"]["callsPerSecond"]
        print(f"{c:>7} | {cell('era-legacy'):>22} | {cell('era-modern'):>22} | {ratio:12.2f}x | {r['era-legacy']['failures'] + r['era-modern']['failures']}")
# Filter rounds: the median run (by calls/s) of each variant at each concurrency.
rounds = defaultdict(list)
for row in rows:
    if row.get("label", "").startswith("filter-") and "callsPerSecond" in row:
        rounds[(row["concurrency"], row["label"])].append(row)
filters = defaultdict(dict)
for (c, label), runs in rounds.items():
    runs.sort(key=lambda row: row["callsPerSecond"])
    filters[c][label] = dict(runs[len(runs) // 2], failures=sum(row["failures"] for row in runs))
if filters:
    count = max(len(runs) for runs in rounds.values())
    print(f"\ntools/call getPetById over HTTP, 2026-07-28: no filter vs retain+patch vs TOON, median of {count} interleaved runs (calls/s; p50 / p99 in µs)")
    print(f"{'clients':>7} | {'no filter':>22} | {'retain+patch':>22} | {'TOON':>22} | {'cost retain':>11} | {'cost TOON':>9} | failures")
    for c in sorted(filters):
        r = filters[c]
        cell = lambda k: f"{r[k]['callsPerSecond']:8.0f} {r[k]['p50us']:6.0f}/{r[k]['p99us']:6.0f}" if k in r else "-"
        cost = lambda k: f"{(r['filter-none']['callsPerSecond'] / r[k]['callsPerSecond'] - 1) * 100:+.1f}%" if k in r else "-"
        failures = sum(r[k]["failures"] for k in r)
        print(f"{c:>7} | {cell('filter-none'):>22} | {cell('filter-retained'):>22} | {cell('filter-toon'):>22} | {cost('filter-retained'):>11} | {cost('filter-toon'):>9} | {failures}")
cpu = defaultdict(list)
for row in rows:
    if row.get("benchmark") == "filterCPU":
        cpu[(row["concurrency"], row["label"])].append(row["cpuUsPerCall"])
if cpu:
    print("\ngateway CPU per tools/call (µs, median of the rounds): no filter vs retain+patch vs TOON")
    print(f"{'clients':>7} | {'no filter':>9} | {'retain+patch':>12} | {'TOON':>6} | {'cost retain':>11} | {'cost TOON':>9}")
    median = lambda values: sorted(values)[len(values) // 2]
    for c in sorted({c for c, _ in cpu}):
        none, retained, toon = (median(cpu[(c, label)]) for label in ("filter-none", "filter-retained", "filter-toon"))
        print(f"{c:>7} | {none:>9} | {retained:>12} | {toon:>6} | {(retained / none - 1) * 100:+10.1f}% | {(toon / none - 1) * 100:+8.1f}%")
for row in rows:
    if row.get("benchmark") == "answerSize":
        print(f"size: {row['label']}: {row['bytes']} bytes")
    elif row.get("benchmark") == "filterCost":
        print(f"filter cost, one Petstore answer, no HTTP: {row['step']}: {row['nsPerAnswer']:.0f} ns")
    elif row.get("benchmark") == "toonSize":
        saved = 100 * (1 - row["toonBytes"] / row["jsonBytes"]) if row["jsonBytes"] else 0
        print(f"TOON vs compact JSON, {row['set']}: {row['jsonBytes']} -> {row['toonBytes']} bytes ({saved:+.1f}% saved), "
              f"median ratio {row['medianRatio']}, smaller for {row['smaller']} of {row['values']}")
for row in rows:
    if row.get("benchmark", "").startswith("coldStart"):
        print(f"{row['benchmark']}: {row['expositions']} expositions ready in {row['readyMs']:.0f} ms, {row['rssMB']:.0f} MB resident")
    elif row.get("benchmark") == "toolsList":
        print(f"tools/list on {row['tools']} tools: first page p50 {row['firstPageP50us']:.0f} µs, full listing p50 {row['fullListingP50ms']:.1f} ms / p99 {row['fullListingP99ms']:.1f} ms")
    elif row.get("benchmark") == "syncPropagation":
        print(f"sync: REST change -> new tools served by the gateway: median {row['medianMs']:.0f} ms, p99 {row['p99Ms']:.0f} ms over {row['changes']} changes")
    elif "medianMs" in row:
        print(f"reload: rename -> new tools served: median {row['medianMs']:.1f} ms, p99 {row['p99Ms']:.1f} ms; {row['failedCalls']} failed of {row['callsDuringReloads']} calls during {row['changes']} reloads")
