#!/usr/bin/python3
"""bench_check.py OUT MEASURED WORKLOADS SKIPPED: the outputs of test 22's
whole bench-compare.sh run (OUT/compare.json, .png, .gp, .md) hold every
measured target and workload, 2 warm runs each, and say why each skipped
target was skipped.  The last three arguments are blank-separated lists."""
import json
import struct
import sys

out, measured, workloads, skipped = sys.argv[1], *(a.split() for a in sys.argv[2:])
def bad(msg):
    sys.exit(f"FAIL: {msg}")
d = json.load(open(f"{out}/compare.json"))
if d.get("schema") != "xipbench/1":
    bad(f"schema {d.get('schema')!r}")
names = [t["name"] for t in d["targets"]]
if names != measured:
    bad(f"JSON targets {names}, script measured {measured}")
o = d["options"]
if (o["workloads"], o["reps"], o["ops"], o["baseline"], o["cache"]) != \
        (workloads, 2, 200, "xipfs_splice", ["warm"]):
    bad(f"options {o}")
seen = {}
for r in d["results"]:
    k = (r["workload"], r["cache"], r["target"])
    if k in seen:
        bad(f"{k} twice in results")
    seen[k] = r
for w in workloads:
    for t in measured:
        r = seen.pop((w, "warm", t), None)
        if r is None:
            bad(f"no result for {w} on {t}")
        if t == "direct" and w in ("walk", "open", "readall"):
            if r["status"] != "n/a":
                bad(f"{w} on direct: status {r['status']}, want n/a")
        elif r["status"] != "ok" or len(r["runs"]) != 2 or not r["median"] > 0:
            bad(f"{w} on {t}: {r}")
if seen:
    bad(f"results not asked for: {sorted(seen)}")
png = open(f"{out}/compare.png", "rb").read()
if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
    bad("compare.png is not a PNG")
w, h = struct.unpack(">II", png[16:24])
if not (w and h):
    bad(f"compare.png is {w}x{h}")
gp = open(f"{out}/compare.gp").read()
for n in measured + workloads:
    if n not in gp:
        bad(f"compare.gp does not name {n}")
md = open(f"{out}/compare.md").read()
if "| workload | cache | " + " | ".join(measured) + " |" not in md:
    bad("compare.md has no table header with every target")
for w in workloads:
    if f"\n| {w} | warm | " not in md:
        bad(f"compare.md has no row for {w}")
for t in skipped:
    if f"\n- {t}: " not in md:
        bad(f"compare.md does not say why {t} was skipped")
for s in ("## Commands", "mkxipfs", "mksquashfs", "mkfs.erofs", "xipbench -r 2"):
    if s not in md:
        bad(f"compare.md lacks {s!r}")
