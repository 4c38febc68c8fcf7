#!/usr/bin/env python3
"""Writes one large OpenAPI 3 document made of every OpenAPI description of the corpus.

Usage: big_spec.py CORPUS_DIR OUT.json [COPIES] [--split]

Each description's paths are prefixed with its file name (/twilio_api_v2010/...) and its
component names too, with every $ref rewritten to match, so that nothing collides. COPIES
(default 2; 1.5 takes half the files the second time) takes the corpus that many times, under /c1, /c2, ... (one copy is 6.7 MB and
868 operations). With --split, every path item goes to a file of its own beside OUT
(paths/itemN.json, its refs pointing back into OUT), as split layouts keep large APIs. The output
is indented like the published descriptions, to measure the gateway on a spec of the size real
users bring (10 MB and more, 1,000+ operations).
"""
import json
import pathlib
import sys

import yaml  # PyYAML, for the YAML descriptions of the corpus

corpus, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
arguments = [a for a in sys.argv[3:] if a != "--split"]
copies = float(arguments[0]) if arguments else 2.0
split = "--split" in sys.argv
merged = {"openapi": "3.0.3", "info": {"title": "Every API of the corpus", "version": "1"}, "paths": {}, "components": {}}


def relinked(value, prefix):
    if isinstance(value, dict):
        result = {}
        for key, member in value.items():
            if key == "$ref" and isinstance(member, str) and member.startswith("#/components/"):
                kind, name = member[len("#/components/"):].split("/", 1)
                result[key] = f"#/components/{kind}/{prefix}{name}"
            else:
                result[key] = relinked(member, prefix)
        return result
    if isinstance(value, list):
        return [relinked(item, prefix) for item in value]
    return value


files = sorted(corpus.iterdir())
# A fractional COPIES (1.5) takes that share of the files in the last copy.
chosen = [(c, p) for c in range(1, int(copies) + 1) for p in files] + [(int(copies) + 1, p) for p in files[: round((copies % 1) * len(files))]]
for copy, path in chosen:
    if path.suffix not in (".json", ".yaml", ".yml"):
        continue
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        continue
    prefix = f"c{copy}_" + path.stem.replace("-", "_") + "_"
    for route, item in (document.get("paths") or {}).items():
        merged["paths"][f"/c{copy}/{path.stem}{route}"] = relinked(item, prefix)
    for kind, members in (document.get("components") or {}).items():
        target = merged["components"].setdefault(kind, {})
        for name, member in (members or {}).items():
            target[prefix + name] = relinked(member, prefix)

if split:
    (out.parent / "paths").mkdir(exist_ok=True)
    for index, route in enumerate(list(merged["paths"])):
        item = json.dumps(merged["paths"][route], indent=2).replace('"#/components/', f'"../{out.name}#/components/')
        (out.parent / "paths" / f"item{index}.json").write_text(item, encoding="utf-8")
        merged["paths"][route] = {"$ref": f"paths/item{index}.json"}
out.write_text(json.dumps(merged, indent=2), encoding="utf-8")
operations = sum(1 for item in merged["paths"].values() for key in item if key in ("get", "put", "post", "delete", "patch", "head", "options", "trace"))
print(f"{out}: {out.stat().st_size} bytes, {len(merged['paths'])} paths, {operations} operations", file=sys.stderr)
