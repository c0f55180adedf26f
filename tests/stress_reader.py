#!/usr/bin/python3
"""stress_reader.py MNT TREE MANIFEST FLAG SEED GRACE OUT: random checked reads until
GRACE seconds after FLAG appears.  Before FLAG any error or mismatch fails;
after it, path operations may fail with ENOENT/ENOTCONN/ENODEV (the mount is
detached) but whatever is read must still be right.

stress_reader.py tally WORK N: the counts of readers 1..N (WORK/readerI.json)
summed and printed; fails when they are too few or none read a file held
open across the unmount."""
import errno
import json
import mmap
import os
import random
import stat
import sys
import time


def tally(work, n):
    """The readers' counts, summed; fails when there were too few."""
    n = int(n)
    total, errors, per, after = 0, 0, {}, {}
    for i in range(1, n + 1):
        r = json.load(open(f"{work}/reader{i}.json"))
        for k, v in r["ops"].items():
            per[k] = per.get(k, 0) + v
            total += v
        for k, v in r["after"].items():
            after[k] = after.get(k, 0) + v
        errors += r["errors_after_unmount"]
    print(f"ok: {total} checked operations before the unmount (" +
          ", ".join(f"{k} {v}" for k, v in sorted(per.items())) + ")")
    print(f"ok: after the lazy unmount: {sum(after.values())} checked operations (" +
          ", ".join(f"{k} {v}" for k, v in sorted(after.items())) +
          f"), {errors} clean errors")
    if total < 1000:
        return f"FAIL: only {total} operations"
    if after.get("held", 0) == 0:
        return "FAIL: no read from a file held open across the unmount"
    return 0


if sys.argv[1:2] == ["tally"]:
    sys.exit(tally(*sys.argv[2:]))

mnt, tree, manifest, flag, seed, grace, out = sys.argv[1:8]
grace = float(grace)
rng = random.Random(int(seed))
m = json.load(open(manifest))
files, dirs, links = m["files"], m["dirs"], m["links"]
sizes = {f: os.stat(os.path.join(tree, f)).st_size for f in files}
listing = {d: sorted(os.listdir(os.path.join(tree, d))) for d in dirs}
ALLOWED = {errno.ENOENT, errno.ENOTCONN, errno.ENODEV}
ops = {"pread": 0, "read": 0, "mmap": 0, "stat": 0, "listdir": 0,
       "readlink": 0, "held": 0}
errors_after = 0
after = {}	# operations that succeeded after the unmount, by kind
held = []	# (rel, fd, mmap or None): kept open across the unmount
unmounted_at = None


def src(rel, off, n):
    with open(os.path.join(tree, rel), "rb") as f:
        f.seek(off)
        return f.read(n)


def die(msg):
    print(f"reader {seed}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def span(size):
    if size == 0:
        return 0, 0
    off = rng.randrange(0, size)
    n = rng.choice([1, 4096, 65536, 131072, 1 << 20, size])
    return off, n


def op_pread():
    rel = rng.choice(files)
    off, n = span(sizes[rel])
    fd = os.open(os.path.join(mnt, rel), os.O_RDONLY)
    try:
        if rng.random() < 0.5:	# make the daemon answer, not the cache
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        got = os.pread(fd, n, off)
    finally:
        os.close(fd)
    if got != src(rel, off, n):
        die(f"pread {rel}[{off}:+{n}] differs ({len(got)} bytes)")


def op_read():
    rel = rng.choice(files)
    with open(os.path.join(mnt, rel), "rb") as f:
        got = f.read()
    if got != src(rel, 0, sizes[rel] + 1):
        die(f"read {rel} differs ({len(got)} of {sizes[rel]} bytes)")


def op_mmap():
    rel = rng.choice(files)
    if sizes[rel] == 0:
        return
    off, n = span(sizes[rel])
    with open(os.path.join(mnt, rel), "rb") as f:
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mm:
            got = mm[off:off + n]
    if got != src(rel, off, n):
        die(f"mmap {rel}[{off}:+{n}] differs")


def op_stat():
    rel = rng.choice(files + dirs[1:] + links)
    a = os.lstat(os.path.join(mnt, rel))
    b = os.lstat(os.path.join(tree, rel))
    keys = ["st_mode", "st_mtime_ns", "st_uid", "st_gid"]
    if not stat.S_ISDIR(b.st_mode):
        keys.append("st_size")	# a directory's size is the format's own
    for k in keys:
        if getattr(a, k) != getattr(b, k):
            die(f"stat {rel}: {k} {getattr(a, k)} != {getattr(b, k)}")


def op_listdir():
    d = rng.choice(dirs)
    got = sorted(os.listdir(os.path.join(mnt, d)))
    if got != listing[d]:
        if unmounted_at is not None and got == [] and d == "":
            return	# the empty directory under the detached mount
        die(f"listdir {d or '.'}: {len(got)} names, want {len(listing[d])}")


def op_readlink():
    rel = rng.choice(links)
    if os.readlink(os.path.join(mnt, rel)) != os.readlink(os.path.join(tree, rel)):
        die(f"readlink {rel} differs")


def op_held():
    """Open a file and keep it (with a mapping), or read from a kept one."""
    if len(held) < 4 and (not held or rng.random() < 0.3):
        if unmounted_at is not None:
            return
        rel = rng.choice([f for f in files[:200] if sizes[f]] or files)
        fd = os.open(os.path.join(mnt, rel), os.O_RDONLY)
        mm = mmap.mmap(fd, 0, prot=mmap.PROT_READ) if sizes[rel] else None
        held.append((rel, fd, mm))
        return
    rel, fd, mm = rng.choice(held)
    off, n = span(sizes[rel])
    got = os.pread(fd, n, off) if (mm is None or rng.random() < 0.5) \
        else mm[off:off + n]
    if got != src(rel, off, n):
        die(f"held {rel}[{off}:+{n}] differs"
            + (" after the unmount" if unmounted_at else ""))
    if os.fstat(fd).st_size != sizes[rel]:
        die(f"held {rel}: fstat size")


OPS = [(op_pread, "pread", 30), (op_read, "read", 10), (op_mmap, "mmap", 15),
       (op_stat, "stat", 20), (op_listdir, "listdir", 8),
       (op_readlink, "readlink", 5), (op_held, "held", 12)]
choices = [o for o in OPS for _ in range(o[2])]

while True:
    now = time.monotonic()
    if unmounted_at is None and os.path.exists(flag):
        unmounted_at = now
    if unmounted_at is not None and now - unmounted_at > grace:
        break
    fn, name, _ = rng.choice(choices)
    try:
        fn()
        if unmounted_at is None:
            ops[name] += 1
        else:
            after[name] = after.get(name, 0) + 1
    except OSError as e:
        # The flag is written before the unmount starts: an error caused by
        # the unmount always finds it.
        if unmounted_at is None and os.path.exists(flag):
            unmounted_at = time.monotonic()
        if unmounted_at is None:
            die(f"{name}: {e}")
        if e.errno not in ALLOWED:
            die(f"{name} after the unmount: {e}")
        errors_after += 1
        time.sleep(0.001)
for rel, fd, mm in held:
    if mm is not None:
        mm.close()
    os.close(fd)
json.dump({"ops": ops, "after": after, "errors_after_unmount": errors_after},
          open(out, "w"))
