#!/usr/bin/python3
"""The Python the benchmark scripts need, as commands:

  table JSON            xipbench's JSON as the Markdown table of
                        bench-compare.sh's report
  median JSON           the median of xipbench's first result
  fio JSON seq|rand     fio's JSON as one figure: MB/s for seq, else IOPS
  mapped-cache FILE IMAGE
                        map FILE shared, touch every page and print how many
                        MiB of it and of IMAGE (the image behind the mount)
                        are in the page cache, read while the mapping lives
                        (a passthrough backing file is an unnamed clone whose
                        pages go with its last close)
  tree-makeup ROOT      bench-rootfs.sh's tree: entries (the root counted),
                        regular files, their bytes, the bytes of the ELF
                        ones, the largest ELF and the largest other file
                        (paths relative to ROOT), on one line
  elf-list ROOT OUT     the ELF files under ROOT (paths relative to it),
                        NUL-separated, into OUT (bench-real.sh's sha256)
  real DIR OUT.json     bench-real.sh's raw results in DIR as JSON in
                        OUT.json and its Markdown report on standard output
"""
import ctypes
import json
import mmap
import os
import statistics
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


def resident_pages(libc, addr, length):
    """How many pages of the mapping at addr are in the page cache."""
    pages = (length + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = ctypes.create_string_buffer(pages)
    if libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(length), vec) != 0:
        raise OSError(ctypes.get_errno(), "mincore")
    return sum(b & 1 for b in vec.raw)


def map_file(libc, fd, length):
    libc.mmap.restype = ctypes.c_void_p
    addr = libc.mmap(None, ctypes.c_size_t(length), mmap.PROT_READ,
                     mmap.MAP_SHARED, fd, ctypes.c_long(0))
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    return addr


def mapped_cache(path, image):
    # Counted with mincore(2) on the two files' own pages, not from
    # /proc/meminfo's Cached: a test or program running beside the
    # benchmark (another drop_caches, a tmpfs going away) moves the global
    # figure by more than the mapping adds, even below zero. The file's
    # pages are counted through the mapping that touched them: a
    # passthrough file's backing clone goes with its last close, so a
    # second open would see another clone.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    fd = os.open(path, os.O_RDONLY)
    length = os.fstat(fd).st_size
    addr = map_file(libc, fd, length)
    try:
        for off in range(0, length, mmap.PAGESIZE):
            ctypes.string_at(addr + off, 1)
        file_pages = resident_pages(libc, addr, length)
        ifd = os.open(image, os.O_RDONLY)
        ilen = os.fstat(ifd).st_size
        iaddr = map_file(libc, ifd, ilen)
        image_pages = resident_pages(libc, iaddr, ilen)
        libc.munmap(iaddr, ilen)
        os.close(ifd)
    finally:
        libc.munmap(addr, length)
        os.close(fd)
    mib = mmap.PAGESIZE / (1 << 20)
    print(f"{round((file_pages + image_pages) * mib)} MiB "
          f"(the file's {round(file_pages * mib)} + the image's {round(image_pages * mib)})")


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


def elf_files(root):
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                if is_elf(f.read(18)):
                    yield os.path.relpath(p, root)


def elf_list(root, out):
    with open(out + ".tmp", "w") as f:
        for p in elf_files(root):
            f.write(p + "\0")
    os.rename(out + ".tmp", out)


# ---- bench-real.sh's report
XIPFS_VARIANTS = ("xipfs_user", "xipfs_zstd")
# Outputs that do not depend on how a file system allocates (du) and that
# the workload prints at all.
COMPARED = ("tar", "cat", "find", "ls", "sha256", "dpkg")


def tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def read_real(d):
    meta, versions = {}, {}
    for line in open(os.path.join(d, "meta.txt")):
        k, _, v = line.rstrip("\n").partition("=")
        if k.startswith("version "):
            versions[k[8:]] = v
        else:
            meta[k] = v
    runs = {}
    for tree, w, cache, target, rep, secs, status, *summary in tsv(os.path.join(d, "times.tsv")):
        r = runs.setdefault((tree, w, cache, target), {"times": {}, "status": "ok", "summary": None})
        if status == "ok":
            r["times"][int(rep)] = float(secs)
            if r["summary"] is None:
                r["summary"] = summary[0] if summary else ""
        else:
            r["status"] = f"{status}: {summary[0] if summary else ''}".strip()
    trees = {}
    for tree in meta["trees"].split():
        mk = os.path.join(d, "makeup." + tree)
        if os.path.exists(mk):
            e, f, b, elf, *_ = open(mk).read().split()
            trees[tree] = {"entries": int(e), "files": int(f), "bytes": int(b), "elf_bytes": int(elf)}
    return {
        "meta": meta, "versions": versions, "trees": trees,
        "loads": [{"tree": t, "pass": int(p), "loadavg": l} for t, p, l in tsv(os.path.join(d, "loads.tsv"))],
        "workloads": [{"name": n, "label": lb, "command": c} for n, lb, c in tsv(os.path.join(d, "workloads.tsv"))],
        "commands": [line.rstrip("\n") for line in open(os.path.join(d, "commands.txt"))],
        "unmeasured": {t: why for t, why in tsv(os.path.join(d, "unmeasured.tsv"))},
        "not_applicable": [{"tree": t, "workload": w} for t, w, *_ in tsv(os.path.join(d, "notapplicable"))],
        "results": [
            dict(tree=k[0], workload=k[1], cache=k[2], target=k[3], status=v["status"],
                 times=[v["times"][i] for i in sorted(v["times"])], reps=sorted(v["times"]),
                 median=statistics.median(v["times"].values()) if v["times"] else None,
                 min=min(v["times"].values(), default=None), max=max(v["times"].values(), default=None),
                 summary=v["summary"])
            for k, v in runs.items()],
    }


def fmt_secs(v):
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def ratio_cell(a, b):
    """a ÷ b as the ratio of medians, and the range of the pass-by-pass
    ratios (runs of the same pass, which met the same load)."""
    if a is None or b is None:
        return "-"
    if a["status"] != "ok" or b["status"] != "ok":
        return "failed"
    if not a["times"] or not b["times"]:
        return "-"
    rr = [x / y for i, x in zip(a["reps"], a["times"]) for j, y in zip(b["reps"], b["times"]) if i == j and y > 0]
    s = f'{a["median"] / b["median"]:.2f}'
    return s + (f" ({min(rr):.2f}-{max(rr):.2f})" if len(rr) > 1 else "")


def real(d, out_json):
    data = read_real(d)
    with open(out_json + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
    os.rename(out_json + ".tmp", out_json)
    meta, res = data["meta"], {}
    for r in data["results"]:
        res[r["tree"], r["workload"], r["cache"], r["target"]] = r
    targets = meta["targets"].split()
    # A label such as "find | xargs cat" goes into table cells.
    labels = {w["name"]: w["label"].replace("|", "\\|") for w in data["workloads"]}
    rows = []
    for r in data["results"]:
        row = (r["workload"], r["tree"], r["cache"])
        if row not in rows:
            rows.append(row)
    order = {w["name"]: i for i, w in enumerate(data["workloads"])}
    rows.sort(key=lambda x: (x[1] != "rootfs", x[1], order.get(x[0], 99), x[2] != "cold"))
    n = meta["reps"]
    print("# Real workloads: xipfs against every peer (scripts/bench-real.sh)")
    print()
    print(f'Date: {meta["date"]}  ')
    print(f'Machine: {meta["machine"]}  ')
    print(f'Load average (1, 5, 15 min): {meta["load_before"]} before, {meta["load_after"]} after; '
          'at the start of each pass: ' + "; ".join(f'{x["tree"]} {x["pass"]}: {x["loadavg"]}' for x in data["loads"]))
    print()
    print("Versions: " + "; ".join(f"{k}: {v}" for k, v in data["versions"].items()) + ".")
    print()
    for t, m in data["trees"].items():
        what = {"rootfs": "the bookworm root filesystem of scripts/make-rootfs.sh",
                "usr": f'a copy of /usr/{{{",".join(meta["usr_dirs"].split())}}} of this machine',
                "dir": "a copy of a directory (--dir)"}.get(t, t)
        print(f'- {t}: {what}: {m["files"]:,} files, {m["bytes"] / 1e6:,.1f} MB '
              f'({m["elf_bytes"] / 1e6:,.1f} MB in ELF files), {m["entries"]:,} entries')
    print()
    drop = "caches dropped (sync; echo 3 >/proc/sys/vm/drop_caches)"
    cold = {"drop": f"{drop} right before each target's cold run, mounts kept",
            "once": f"{drop} once per workload and pass, before the cold runs of every target, "
                    "mounts kept (no target's run warms another's caches)",
            "remount": f"the target's mount made afresh (not the tmpfs tree), then {drop}, "
                       "right before each target's cold run"}[meta["cold"]]
    print(f"Every target in the same pass, the order rotated by one each pass, {n} passes; "
          f"images and the tree on tmpfs. Cold: {cold}. Warm: the same run again right after the cold one. "
          "Times are wall-clock seconds of the whole command line (below).")
    print()
    base = "xipfs"
    peers = [t for t in targets if t != base and t not in XIPFS_VARIANTS]
    if base in targets and peers:
        print(f"## Time ratios, {base} ÷ each peer (below 1: {base} faster)")
        print()
        print("Ratio of the medians; in parentheses the range of the ratios pass by pass.")
        print()
        print("| workload | tree | cache | " + " | ".join(f"÷ {p}" for p in peers) + " |")
        print("|---|---|---|" + "---|" * len(peers))
        for w, t, c in rows:
            print(f"| {labels.get(w, w)} | {t} | {c} | " +
                  " | ".join(ratio_cell(res.get((t, w, c, base)), res.get((t, w, c, p))) for p in peers) + " |")
        print()
        vs = [v for v in XIPFS_VARIANTS if v in targets]
        if vs:
            print(f"xipfs variants against {base} (root, all-XIP), same ratios:")
            print()
            print("| workload | tree | cache | " + " | ".join(f"{v} ÷ {base}" for v in vs) + " |")
            print("|---|---|---|" + "---|" * len(vs))
            for w, t, c in rows:
                print(f"| {labels.get(w, w)} | {t} | {c} | " +
                      " | ".join(ratio_cell(res.get((t, w, c, v)), res.get((t, w, c, base))) for v in vs) + " |")
            print()
    print(f"## Seconds, median (min-max) of {n}")
    print()
    print("| workload | tree | cache | " + " | ".join(targets) + " |")
    print("|---|---|---|" + "---|" * len(targets))
    for w, t, c in rows:
        cells = []
        for x in targets:
            r = res.get((t, w, c, x))
            if r is None:
                cells.append("-")
            elif r["status"] != "ok":
                cells.append("failed")
            else:
                cells.append(f'{fmt_secs(r["median"])} ({fmt_secs(r["min"])}-{fmt_secs(r["max"])})')
        print(f"| {labels.get(w, w)} | {t} | {c} | " + " | ".join(cells) + " |")
    print()
    print("## Checks")
    print()
    bad = []
    for r in data["results"]:
        if r["status"] != "ok":
            bad.append(f'- {r["tree"]} {r["workload"]} {r["cache"]} on {r["target"]}: {r["status"]}')
    ref = "tmpfs" if "tmpfs" in targets else targets[0]
    for w, t, c in rows:
        if w not in COMPARED:
            continue
        want = res.get((t, w, c, ref))
        for x in targets:
            r = res.get((t, w, c, x))
            if want and r and r["summary"] is not None and want["summary"] is not None \
                    and r["summary"] != want["summary"]:
                bad.append(f'- {t} {w} {c}: {x} printed "{r["summary"]}", {ref} "{want["summary"]}"')
    compared = [labels.get(w, w) for w in COMPARED if any(row[0] == w for row in rows)]
    print("\n".join(bad) if bad else
          "Every run succeeded" + (f", and every target printed what {ref} did ({', '.join(compared)}: "
                                   "byte, line and entry counts, digests)." if compared else "."))
    print()
    print("## Commands")
    print()
    print("CACHE is the cache directory of trees and images, WORK the run's own (removed afterwards); "
          "`&`: a daemon in the foreground, run in the background. Each workload runs as "
          "`cd ROOT && COMMAND` under `bash -o pipefail` (through "
          f'`setpriv --reuid={meta["user"]}` for xipfs_user, which also chroots through `unshare -r`, '
          "since root cannot enter a user's FUSE mount).")
    print()
    print("```sh")
    print("\n".join(data["commands"]))
    print("```")
    print()
    print("| workload | command |")
    print("|---|---|")
    for x in data["workloads"]:
        escaped = x["command"].replace("|", "\\|")
        print(f'| {labels[x["name"]]} | `{escaped}` |')
    print()
    print("## Not measured")
    print()
    na = sorted({(x["tree"], x["workload"]) for x in data["not_applicable"]})
    lines = [f"- {t}: {why}" for t, why in sorted(data["unmeasured"].items())]
    lines += [f"- {w} on the {t} tree: a chroot workload, for the root filesystem only" for t, w in na]
    print("\n".join(lines) if lines else "Nothing: every target and workload asked for was measured.")


COMMANDS = {"table": table, "median": median, "fio": fio, "mapped-cache": mapped_cache,
            "tree-makeup": tree_makeup, "elf-list": elf_list, "real": real}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: bench_report.py {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
