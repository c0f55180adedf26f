#!/usr/bin/python3
"""Checks of xipbench's and bench-compare.sh's outputs, for tests/bench/compare.sh and xipbench.sh.
Each is a command; a failed check exits nonzero with its reason.

  compare OUT MEASURED WORKLOADS SKIPPED
                        bench/compare.sh's whole bench-compare.sh run: OUT/compare.json,
                        .png, .gp and .md hold every measured target and
                        workload, 2 warm runs each, and say why each skipped
                        target was skipped (the last three: blank-separated)
  all FILE CACHES TARGET...
                        every workload, cache mode (comma-separated) and
                        target once, each ok (n/a only for direct targets'
                        tree workloads)
  failing FILE          rand and uring failed on 'small', the rest ran
  lost FILE             on a lost source the file workloads failed, the
                        tree workloads ran
  plain FILE            plain PATH targets named x, x-2, a, each reading its
                        own largest file
"""
import json
import struct
import sys


def bad(msg):
    sys.exit(f"FAIL: {msg}")


def compare(out, measured, workloads, skipped):
    measured, workloads, skipped = measured.split(), workloads.split(), skipped.split()
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


def all_ok(path, caches, *targets):
    caches, targets = caches.split(","), list(targets)
    d = json.load(open(path))
    assert d["schema"] == "xipbench/1", d["schema"]
    wl = ["seq", "rand", "uring", "mmap-seq", "mmap-rand", "walk", "open", "readall"]
    assert d["options"]["workloads"] == wl
    assert [t["name"] for t in d["targets"]] == targets
    direct = {t["name"] for t in d["targets"] if t["direct"]}
    got = {(r["workload"], r["cache"], r["target"]): r for r in d["results"]}
    assert len(got) == len(d["results"]) == len(wl) * len(caches) * len(targets)
    for w in wl:
        for c in caches:
            for t in targets:
                r = got[(w, c, t)]
                tree = w in ("walk", "open", "readall")
                if t in direct and tree:
                    assert r["status"] == "n/a", r
                    continue
                assert r["status"] == "ok", r
                assert len(r["runs"]) == d["options"]["reps"]
                assert all(v > 0 for v in r["runs"]) and r["min"] <= r["median"] <= r["max"]
                assert ("latency_ns" in r) == w.startswith("mmap")


def failing(path):
    d = json.load(open(path))
    st = {(r["workload"], r["target"]): (r["status"], r.get("error", "")) for r in d["results"]}
    assert st[("rand", "small")][0] == "failed" and "smaller than" in st[("rand", "small")][1]
    assert st[("uring", "small")][0] == "failed"
    assert st[("seq", "small")][0] == "ok" and st[("walk", "small")][0] == "ok"
    assert all(s == "ok" for (w, t), (s, e) in st.items() if t == "ok")


def lost(path):
    st = {r["workload"]: r["status"] for r in json.load(open(path))["results"]}
    assert st == {"seq": "failed", "rand": "failed", "uring": "failed", "mmap-seq": "failed",
                  "mmap-rand": "failed", "walk": "ok", "readall": "ok"}, st


def plain(path):
    d = json.load(open(path))
    assert [(t["name"], t["file"]) for t in d["targets"]] == \
        [("x", "large"), ("x-2", "other"), ("a", "big")], d["targets"]
    assert d["options"]["file"] == "large"
    assert all(r["status"] == "ok" for r in d["results"]), d["results"]


COMMANDS = {"compare": compare, "all": all_ok, "failing": failing, "lost": lost, "plain": plain}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: bench_check.py {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
