#!/bin/bash
# Eight concurrent readers for XIPFS_STRESS_SECONDS (default 30) on a tree
# of a few thousand files of 0 to 1 MiB: random read, pread, mmap, stat,
# listdir and readlink, every answer compared with the source tree.  Then,
# with the readers still busy and holding files open, a plain unmount is
# refused (busy) and a lazy one succeeds: files already open keep reading
# right, new lookups fail cleanly, the readers finish, the daemon exits 0
# once the last file is closed, and nothing stays mounted.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

SECONDS_=${XIPFS_STRESS_SECONDS:-30}
READERS=8
GRACE=3		# seconds the readers go on after the lazy unmount

# 2500 files in nested directories, about 120 MB: a tenth empty, most
# small, some up to exactly 1 MiB; a few symlinks.  Seeded.
python3 - "$WORK/tree" "$WORK/manifest.json" <<'PY'
import json, os, random, sys
root, manifest = sys.argv[1], sys.argv[2]
rng = random.Random(1808)
pool = rng.randbytes(8 << 20)
dirs = [""]
for i in range(60):
    parent = rng.choice(dirs) if i >= 10 else ""
    d = os.path.join(parent, f"dir{i:02d}")
    if d.count("/") < 4:
        dirs.append(d)
for d in dirs:
    os.makedirs(os.path.join(root, d), exist_ok=True)
def size():
    r = rng.random()
    if r < 0.10:
        return 0
    if r < 0.65:
        return rng.randrange(1, 16384)
    if r < 0.97:
        return rng.randrange(16384, 131072)
    if r < 0.995:
        return rng.randrange(131072, 1 << 20)
    return 1 << 20
files, links = [], []
for i in range(2500):
    rel = os.path.join(rng.choice(dirs), f"f{i:04d}")
    n = size()
    off = rng.randrange(0, len(pool) - n + 1)
    with open(os.path.join(root, rel), "wb") as f:
        f.write(pool[off:off + n])
    files.append(rel)
for i in range(40):
    rel = os.path.join(rng.choice(dirs), f"l{i:02d}")
    os.symlink(os.path.relpath(os.path.join(root, rng.choice(files)),
                               os.path.dirname(os.path.join(root, rel))),
               os.path.join(root, rel))
    links.append(rel)
json.dump({"files": files, "dirs": dirs, "links": links}, open(manifest, "w"))
PY
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
echo "tree: $(du -sh "$WORK/tree" | cut -f1), image $(du -sh "$WORK/img.xip" | cut -f1)"

cat >"$WORK/reader.py" <<'PY'
"""reader.py MNT TREE MANIFEST FLAG SEED GRACE OUT: random checked reads until
GRACE seconds after FLAG appears.  Before FLAG any error or mismatch fails;
after it, path operations may fail with ENOENT/ENOTCONN/ENODEV (the mount is
detached) but whatever is read must still be right."""
import errno, json, mmap, os, random, stat, sys, time

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
PY

# No caching of names and attributes: every path walk and stat reaches the
# daemon, so its threads serve many requests at once.
M=$WORK/mnt
xipfs_mount "$WORK/img.xip" "$M" -o entry_timeout=0,attr_timeout=0,negative_timeout=0

reader_pids=""
stop_readers() {
	for p in $reader_pids; do kill "$p" 2>/dev/null || true; done
}
cleanup_hooks="stop_readers $cleanup_hooks"
for i in $(seq 1 $READERS); do
	python3 "$WORK/reader.py" "$M" "$WORK/tree" "$WORK/manifest.json" \
		"$WORK/unmounting" "$i$$" "$GRACE" "$WORK/reader$i.json" \
		2>"$WORK/reader$i.err" &
	reader_pids="$reader_pids $!"
done

# Let them run; stop early if one fails or the daemon dies.
end=$((SECONDS + SECONDS_))
while [ $SECONDS -lt $end ]; do
	sleep 1
	kill -0 "$XIPFS_PID" 2>/dev/null ||
		fail "the daemon died under load: $(tail -5 "$WORK/xipfs.log")"
	for i in $(seq 1 $READERS); do
		[ -s "$WORK/reader$i.err" ] && fail "$(cat "$WORK/reader$i.err")"
	done
	true
done
running=0
for p in $reader_pids; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
[ $running = $READERS ] || fail "only $running of $READERS readers still running"
ok "$READERS readers ran ${SECONDS_} s without a mismatch"
# The daemon keeps no per-file state: its private memory stays small
# (file-backed pages of the image mapping are not counted).
anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$XIPFS_PID/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$XIPFS_PID/status")
echo "daemon: RssAnon ${anon} kB, $threads threads"
# An ASan build keeps shadow memory and a quarantine of freed blocks, so
# the bound means something only for a plain build.
if grep -q __asan_init "$XIPFS"; then
	echo "daemon built with ASan: its memory is not bounded here"
else
	[ "$anon" -lt $((64 * 1024)) ] || fail "daemon uses ${anon} kB of anonymous memory"
fi

# Busy: a plain unmount is refused while the readers hold files open.
if umount "$M" 2>"$WORK/umount.err"; then
	fail "umount of a busy mount succeeded"
fi
grep -qi "busy" "$WORK/umount.err" || fail "busy umount: $(cat "$WORK/umount.err")"
mountpoint -q "$M" || fail "refused umount left $M unmounted"

# Lazy unmount with the readers in flight.
: >"$WORK/unmounting"
umount -l "$M" || fail "umount -l failed"
! mountpoint -q "$M" || fail "$M still a mount point after umount -l"

# Readers stop GRACE seconds later; give them 20 s more before calling it
# a hang.
deadline=$((SECONDS + GRACE + 20))
for p in $reader_pids; do
	while kill -0 "$p" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || fail "reader $p hangs after the unmount"
		sleep 0.2
	done
done
status=0
for p in $reader_pids; do wait "$p" || status=$?; done
for i in $(seq 1 $READERS); do
	[ ! -s "$WORK/reader$i.err" ] || fail "$(cat "$WORK/reader$i.err")"
done
[ $status = 0 ] || fail "a reader exited with status $status"
reader_pids=""

# The last file is closed: the daemon must go within 10 s, status 0.
for _ in $(seq 1 100); do
	kill -0 "$XIPFS_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$XIPFS_PID" 2>/dev/null &&
	fail "daemon still running 10 s after the last reader closed its files"
set +e
wait "$XIPFS_PID"
st=$?
set -e
[ $st = 0 ] || fail "daemon exited with status $st: $(tail -5 "$WORK/xipfs.log")"
! grep -q " $M " /proc/self/mounts || fail "$M still in /proc/mounts"
# Nothing went wrong that the daemon noticed.
! grep -v -e '^xipfs stats' -e ': passthrough off: ' "$WORK/xipfs.log" | grep -q . || fail "the daemon complained: $(head -5 "$WORK/xipfs.log")"
[ -z "$(ls -A "$M")" ] || fail "$M not empty after the unmount"

python3 - "$WORK" "$READERS" <<'PY' || fail "operation counts"
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
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
    sys.exit(f"FAIL: only {total} operations")
if after.get("held", 0) == 0:
    sys.exit("FAIL: no read from a file held open across the unmount")
PY
ok "lazy unmount under load: readers finished, daemon exited 0, nothing mounted"
