#!/usr/bin/env python3
"""Reads the benchmark JSON lines on stdin; prints tables with ratios and writes results.json."""
import json
import random
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
# Filter rounds: each filtered run against the unfiltered run of the same round and clients.
def paired(pairs):
    """The median ratio of (filtered, unfiltered) pairs, and a 90% bootstrap interval for it."""
    ratios = sorted(a / b for a, b in pairs)
    median = lambda values: sorted(values)[len(values) // 2]
    rng = random.Random(17)
    medians = sorted(median([rng.choice(ratios) for _ in ratios]) for _ in range(2000))
    return median(ratios), medians[100], medians[1899]

runs = defaultdict(dict)
for row in rows:
    if row.get("label", "").startswith("filter-") and "round" in row:
        key = "cpu" if row.get("benchmark") == "filterCPU" else "run"
        runs[(row["concurrency"], row["round"])].setdefault(row["label"], {})[key] = row
if runs:
    count = len({r for _, r in runs})
    print(f"\ntools/call getPetById over HTTP, 2026-07-28: the cost of an output filter, {count} rounds of interleaved runs")
    print("(cost = filtered / unfiltered - 1 in the same round: median, and 90% bootstrap interval; calls/s and CPU are medians)")
    print(f"{'clients':>7} | {'variant':>12} | {'calls/s':>8} | {'p50 µs':>6} | {'CPU µs/call':>11} | {'cost in time per call':>24} | {'cost in gateway CPU':>24} | failures")
    fmt = lambda t: f"{(t[0] - 1) * 100:+5.1f}% [{(t[1] - 1) * 100:+5.1f}, {(t[2] - 1) * 100:+5.1f}]"
    for c in sorted({c for c, _ in runs}):
        rounds = [v for (cc, _), v in sorted(runs.items()) if cc == c]
        for label, name in (("filter-none", "no filter"), ("filter-retained", "retain+patch"), ("filter-toon", "TOON")):
            mine = [r[label] for r in rounds if label in r]
            cps = sorted(m["run"]["callsPerSecond"] for m in mine)[len(mine) // 2]
            p50 = sorted(m["run"]["p50us"] for m in mine)[len(mine) // 2]
            cpu = sorted(m["cpu"]["cpuUsPerCall"] for m in mine)[len(mine) // 2]
            failures = sum(m["run"]["failures"] for m in mine)
            both = [r for r in rounds if label in r and "filter-none" in r]
            if label == "filter-none":
                time_cost = cpu_cost = "-"
            else:
                time_cost = fmt(paired([(r["filter-none"]["run"]["callsPerSecond"], r[label]["run"]["callsPerSecond"]) for r in both]))
                cpu_cost = fmt(paired([(r[label]["cpu"]["cpuUsPerCall"], r["filter-none"]["cpu"]["cpuUsPerCall"]) for r in both]))
            print(f"{c:>7} | {name:>12} | {cps:8.0f} | {p50:6.0f} | {cpu:11.0f} | {time_cost:>24} | {cpu_cost:>24} | {failures}")
for row in rows:
    if row.get("benchmark") == "answerSize":
        print(f"size: {row['label']}: {row['bytes']} bytes")
    elif row.get("benchmark") == "filterCost":
        print(f"filter cost, one Petstore answer, no HTTP: {row['step']}: {row['nsPerAnswer']:.0f} ns")
    elif row.get("benchmark") == "toonSize":
        saved = 100 * (1 - row["toonBytes"] / row["jsonBytes"]) if row["jsonBytes"] else 0
        print(f"TOON vs compact JSON, {row['set']}: {row['jsonBytes']} -> {row['toonBytes']} bytes ({saved:+.1f}% saved), "
              f"median ratio {row['medianRatio']}, smaller for {row['smaller']} of {row['values']}")
big = defaultdict(list)
for row in rows:
    if row.get("benchmark") == "bigSpec":
        big[(row["layout"], row["bytes"])].append(row)
for (layout, _), runs in big.items():
    runs.sort(key=lambda row: row["readyMs"])
    mid = runs[len(runs) // 2]
    print(f"one large description ({layout}: {mid['bytes'] / 1e6:.1f} MB in {mid['files']} file(s), {mid['tools']} tools): "
          f"ready in {mid['readyMs']} ms (median of {len(runs)}, {runs[0]['readyMs']} to {runs[-1]['readyMs']}), {mid['rssMB']} MB resident")
for row in rows:
    if row.get("benchmark", "").startswith("coldStart"):
        print(f"{row['benchmark']}: {row['expositions']} expositions ready in {row['readyMs']:.0f} ms, {row['rssMB']:.0f} MB resident")
    elif row.get("benchmark") == "toolsList":
        print(f"tools/list on {row['tools']} tools: first page p50 {row['firstPageP50us']:.0f} µs, full listing p50 {row['fullListingP50ms']:.1f} ms / p99 {row['fullListingP99ms']:.1f} ms")
    elif row.get("benchmark") == "syncLoad":
        print(f"sync load ({row.get('store', 'sqlite')}, {row.get('replicas', 1)} ctrl replica(s)): {row['gateways']} syncs, {'each on its own connection' if row.get('perConnection', 1) == 1 else str(row['perConnection']) + ' per connection'}: all snapshots in {row['allSnapshotsMs']:.0f} ms, "
              f"{row['ctrlMemoryPerGatewayKB']:.0f} KB of ctrl memory per gateway, ctrl idle CPU {row['ctrlIdleCPUPercent']:.1f}%, "
              f"a change reaches all: median {row['changeMedianMs']:.0f} ms, p99 {row['changeP99Ms']:.0f} ms ({row['changes']} changes)")
    elif row.get("benchmark") == "syncPropagation":
        print(f"sync: REST change -> new tools served by the gateway: median {row['medianMs']:.0f} ms, p99 {row['p99Ms']:.0f} ms over {row['changes']} changes")
    elif "medianMs" in row:
        print(f"reload: rename -> new tools served: median {row['medianMs']:.1f} ms, p99 {row['p99Ms']:.1f} ms; {row['failedCalls']} failed of {row['callsDuringReloads']} calls during {row['changes']} reloads")
