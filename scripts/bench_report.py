#!/usr/bin/python3
"""The Python the benchmark scripts need, as commands:

  table JSON            xipbench's JSON as the Markdown table of
                        bench-compare.sh's report
  median JSON           the median of xipbench's first result
  fio JSON seq|rand     fio's JSON as one figure: MB/s for seq, else IOPS
  mapped-cache FILE     map FILE shared, touch every page and print by how
                        many MiB the page cache grew, read while the mapping
                        lives (a passthrough backing file is an unnamed clone
                        whose pages go with its last close)
  tree-makeup ROOT      bench-rootfs.sh's tree: entries (the root counted),
                        regular files, their bytes, the bytes of the ELF
                        ones, the largest ELF and the largest other file
                        (paths relative to ROOT), on one line
"""
import json
import mmap
import os
import sys


def table(path):
    d = json.load(open(path))
    o = d["options"]
    names = [t["name"] for t in d["targets"]]
    rows, res = [], {}
    for r in d["results"]:
        if (r["workload"], r["cache"]) not in rows:
            rows.append((r["workload"], r["cache"]))
        res[r["workload"], r["cache"], r["target"]] = r

    def num(v):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"

    def cell(r):
        if r is None:
            return "missing"
        if r["status"] != "ok":
            return r["status"]
        s = f'{num(r["median"])} {r["unit"]}'
        return s if r.get("ratio") is None else s + f' ({r["ratio"]:.2f}x)'
    cold = f'  Caches dropped before cold runs by {o.get("cold_method")}.' if "cold" in o["cache"] else ""
    print(f'Median of {o["reps"]} runs; in parentheses the ratio to {o["baseline"]} '
          f'(every unit is a rate: higher is better).{cold}  '
          f'seq in {o["bs"]}-byte reads, rand and uring {o["rand_bs"]} bytes '
          f'(uring at queue depth {o["qd"]}), {o["ops"]} ops per random run, seed {o["seed"]}.')
    print()
    print("| workload | cache | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for w, c in rows:
        print(f"| {w} | {c} | " + " | ".join(cell(res.get((w, c, t))) for t in names) + " |")
    bad = [r for r in d["results"] if r["status"] == "failed"]
    if bad:
        print()
        print("Failed:")
        for r in bad:
            print(f'- {r["workload"]} {r["cache"]} on {r["target"]}: {r.get("error", "?")}')


def median(path):
    print(json.load(open(path))["results"][0]["median"])


def fio(path, workload):
    r = json.load(open(path))["jobs"][0]["read"]
    print(r["bw_bytes"] / 1e6 if workload == "seq" else r["iops"])


def cached_kib():
    for line in open("/proc/meminfo"):
        if line.startswith("Cached:"):
            return int(line.split()[1])
    raise SystemExit("no Cached: in /proc/meminfo")


def mapped_cache(path):
    before = cached_kib()
    with open(path, "rb") as f:
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
            sum(m[i] for i in range(0, len(m), mmap.PAGESIZE))
            print((cached_kib() - before) // 1024)


def is_elf(head):
    """An executable or shared object: what mkxipfs --xip=elf keeps in place."""
    return len(head) == 18 and head[:4] == b"\x7fELF" and head[16] in (2, 3) and head[17] == 0


def tree_makeup(root):
    entries = files = size = elf = 0
    big = {True: (0, ""), False: (0, "")}
    for d, dirs, names in os.walk(root):
        entries += len(dirs) + len(names)
        for n in names:
            p = os.path.join(d, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                x = is_elf(f.read(18))
            s = os.path.getsize(p)
            files += 1
            size += s
            elf += s if x else 0
            big[x] = max(big[x], (s, os.path.relpath(p, root)))
    print(entries + 1, files, size, elf, big[True][1], big[False][1])


COMMANDS = {"table": table, "median": median, "fio": fio, "mapped-cache": mapped_cache,
            "tree-makeup": tree_makeup}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: bench_report.py {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
