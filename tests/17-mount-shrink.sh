#!/bin/bash
# The source shrinks under a live mount, in both read modes.  Cut in the
# middle of the last file: reads of the lost part fail with EIO (an mmap
# reader gets SIGBUS), everything before the cut still reads right, and the
# daemon lives on.  Cut to nothing: looking up a name and listing a
# directory fail with EIO, quickly, and the daemon still lives.  Put the
# bytes back into the same file: everything works again; the daemon logged
# "source shrank" and exits 0 at unmount.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
need_cmd truncate
[ -c /dev/fuse ] || skip "needs /dev/fuse"

# Small files first; "z/big" is numbered last (breadth-first), so its data
# ends the image.  d1 and d2 hold only names (no data): metadata to lose.
T=$WORK/tree
mkdir -p "$T/d1" "$T/d2/sub" "$T/z"
for n in a b c; do head -c 20000 /dev/urandom >"$T/$n-small"; done
: >"$T/d1/e1"
: >"$T/d1/e2"
ln -s ../a-small "$T/d1/link"
: >"$T/d2/sub/e3"
: >"$T/d2/e4"
head -c $((8 << 20)) /dev/urandom >"$T/z/big"
"$MKXIPFS" -q "$T" "$WORK/orig.xip"
"$XIPFSCK" -l "$WORK/orig.xip" >"$WORK/list"
isz=$(stat -c %s "$WORK/orig.xip")

# Where the data of PATH starts in the image, from xipfsck -l.
data_at() { awk -v p="$1" '$NF == p { print $(NF - 2) }' "$WORK/list"; }
big_at=$(( $(data_at /z/big) ))
for f in /a-small /b-small /c-small; do
	[ $(( $(data_at $f) )) -lt "$big_at" ] || fail "$f is stored after /z/big"
done
[ $((big_at + (8 << 20))) = "$isz" ] ||
	fail "/z/big at $big_at does not end the image ($isz bytes)"
cut=$((big_at + (4 << 20)))	# half of big survives
lost_from=$((4 << 20))

cat >"$WORK/check.py" <<'PY'
"""check.py MNT TREE CMD...: reads through the mount, compared with the tree."""
import errno, mmap, os, sys

mnt, tree, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]


def pread(path, off, n):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, n, off)
    finally:
        os.close(fd)


def evict(paths):
    """Drop the cached pages of these files only (no global drop_caches)."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


if cmd == "same":		# same REL OFF LEN: the bytes match the tree
    rel, off, n = args[0], int(args[1]), int(args[2])
    got = pread(os.path.join(mnt, rel), off, n)
    want = pread(os.path.join(tree, rel), off, n)
    if got != want:
        sys.exit(f"{rel}[{off}:+{n}]: {len(got)} bytes read, differ from the tree")
elif cmd == "eio":		# eio REL OFF LEN: the read fails with EIO
    rel, off, n = args[0], int(args[1]), int(args[2])
    try:
        got = pread(os.path.join(mnt, rel), off, n)
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off}:+{n}]: {e}, want EIO")
    else:
        sys.exit(f"{rel}[{off}:+{n}]: read {len(got)} bytes, want EIO")
elif cmd == "upto":		# upto REL OFF LEN CUT: a read across CUT returns
    # only bytes before CUT, and they match; reading on from there is EIO.
    rel, off, n, cut = args[0], int(args[1]), int(args[2]), int(args[3])
    path = os.path.join(mnt, rel)
    try:
        got = pread(path, off, n)
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off}:+{n}]: {e}, want EIO or a short read")
        got = b""
    if len(got) > cut - off:
        sys.exit(f"{rel}[{off}:+{n}]: read {len(got)} bytes, past the cut at {cut}")
    if got != pread(os.path.join(tree, rel), off, len(got)):
        sys.exit(f"{rel}[{off}:+{n}]: the {len(got)} bytes read differ")
    try:
        more = pread(path, off + len(got), n - len(got))
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off + len(got)}:]: {e}, want EIO")
    else:
        sys.exit(f"{rel}[{off + len(got)}:]: read {len(more)} bytes, want EIO")
elif cmd == "mmap-touch":	# mmap-touch REL OFF: read one byte through mmap
    rel, off = args[0], int(args[1])
    with open(os.path.join(mnt, rel), "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        print(m[off])
elif cmd == "race":		# race IMG ORIG REL CUT SECONDS: the image loses
    # its tail and gets it back, over and over, while REL is read across the
    # cut.  Reads may fail (EIO) or stop short, but what they return must be
    # right; afterwards the file must look as it did (size and bytes).
    import threading, time
    img, orig, rel, cut, secs = args[0], args[1], args[2], int(args[3]), float(args[4])
    with open(orig, "rb") as f:
        tail = f.read()[cut:]
    want = open(os.path.join(tree, rel), "rb").read()
    stop = time.monotonic() + secs
    def writer():
        fd = os.open(img, os.O_WRONLY)
        while time.monotonic() < stop:
            os.ftruncate(fd, cut)
            time.sleep(0.0005)
            os.pwrite(fd, tail, cut)
        os.close(fd)
    t = threading.Thread(target=writer)
    t.start()
    path = os.path.join(mnt, rel)
    reads = errors = short = 0
    sizes = set()
    while time.monotonic() < stop:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        off = len(want) - (3 << 20)
        try:
            got = os.pread(fd, 1 << 20, off)
            short += len(got) < (1 << 20)
            if got != want[off:off + len(got)]:
                sys.exit(f"race: {rel}[{off}:+{len(got)}] returned wrong bytes")
        except OSError as e:
            if e.errno != errno.EIO:
                sys.exit(f"race: {e}")
            errors += 1
        sizes.add(os.fstat(fd).st_size)
        os.close(fd)
        reads += 1
    t.join()
    print(f"{reads} reads racing the cut: {errors} EIO, {short} short")
    problems = []
    if sizes != {len(want)}:
        problems.append(f"size seen during the race: {sorted(sizes)}")
    st = os.stat(path).st_size
    if st != len(want):
        problems.append(f"after the race {rel} is {st} bytes, not {len(want)}")
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    got = os.pread(fd, len(want) + 1, 0)
    os.close(fd)
    if got != want:
        problems.append(f"after the race reading {rel} gives {len(got)} bytes, "
                        + ("a prefix" if want.startswith(got) else "wrong bytes"))
    if problems:
        sys.exit("race: " + "; ".join(problems))
elif cmd == "evict":
    evict(args)
else:
    sys.exit(f"check.py: unknown command {cmd}")
PY

problems=0
problem() { echo "FAIL: $test_name: $*" >&2; problems=$((problems + 1)); }

IMG=$WORK/img.xip
M=$WORK/mnt
check() { python3 "$WORK/check.py" "$M" "$T" "$@"; }

# Run CMD, which must fail within 20 s with "Input/output error".
expect_eio() {
	set +e
	timeout 20 "$@" >"$WORK/out" 2>"$WORK/err"
	st=$?
	set -e
	[ $st != 124 ] || fail "hangs: $*"
	[ $st != 0 ] || fail "succeeded with the source gone: $*"
	grep -q "Input/output error" "$WORK/err" || fail "$*: $(cat "$WORK/err")"
}
alive() { kill -0 "$XIPFS_PID" 2>/dev/null || fail "daemon died $*: $(tail -5 "$WORK/xipfs.log")"; }

for mode in copy splice; do
	: >"$WORK/xipfs.log"
	cp "$WORK/orig.xip" "$IMG"
	xipfs_mount "$IMG" "$M" -o read=$mode

	# Warm a little: one small file, all of big, and the names d1 and d2
	# (looked up, never listed).
	cat "$M/a-small" "$M/z/big" >/dev/null
	stat "$M/d1" "$M/d2" >/dev/null

	# --- cut big in half ------------------------------------------------
	truncate -s "$cut" "$IMG"
	check evict "$M/a-small" "$M/z/big" "$IMG"
	check eio z/big $((6 << 20)) 65536
	check eio z/big $(((8 << 20) - 4096)) 4096
	# Across the cut: a short read (the kernel retries page by page) or EIO.
	check upto z/big $((lost_from - 8192)) 65536 $lost_from
	check same z/big 0 $((1 << 20))
	check same z/big $((2 << 20)) $((1 << 20))
	for f in a-small b-small c-small; do check same "$f" 0 20000; done
	# A mapping of the lost part: the reader gets SIGBUS (7), not garbage.
	set +e
	check mmap-touch z/big $((7 << 20)) >/dev/null 2>&1
	st=$?
	set -e
	[ $st = $((128 + 7)) ] || fail "mmap of the lost part: status $st, want SIGBUS"
	check same z/big 0 4096
	alive "after reads past the cut ($mode)"
	[ "$(ls "$M" | tr '\n' ' ')" = "a-small b-small c-small d1 d2 z " ] ||
		fail "listing after the cut: $(ls "$M")"
	[ "$(readlink "$M/d1/link")" = ../a-small ] || fail "readlink after the cut"
	ok "read=$mode, cut at $cut: lost part EIO (SIGBUS through mmap), rest intact, daemon alive"

	# --- cut everything ---------------------------------------------------
	truncate -s 0 "$IMG"
	expect_eio stat "$M/d1/e2"		# never looked up
	expect_eio stat "$M/never-existed"	# negative lookups need the root too
	expect_eio ls "$M/d2"			# looked up, never listed
	check evict "$M/b-small"
	expect_eio cat "$M/b-small"		# name cached, data gone
	alive "with the source empty ($mode)"
	stat -f "$M" >/dev/null || fail "statfs with the source empty"
	ok "read=$mode, source empty: lookup, readdir and read give EIO, daemon alive"

	# --- put it back (the same file: the mapping sees it again) -----------
	ino=$(stat -c %i "$IMG")
	cat "$WORK/orig.xip" >"$IMG"
	[ "$(stat -c %i "$IMG")" = "$ino" ] || fail "the image was replaced, not rewritten"
	stat "$M/d1/e2" >/dev/null || fail "d1/e2 after the restore"
	[ "$(ls "$M/d2" | tr '\n' ' ')" = "e4 sub " ] || fail "ls d2 after the restore: $(ls "$M/d2")"
	! stat "$M/never-existed" 2>/dev/null || fail "never-existed exists"
	check same z/big 0 $((8 << 20))
	check same b-small 0 20000
	cmp "$T/z/big" "$M/z/big" || fail "big after the restore"
	alive "after the restore ($mode)"
	ok "read=$mode, restored: names, listings and data back"

	# --- the tail comes and goes while it is read -------------------------
	# A reply cut short by the shrinking source would read as end of file:
	# the kernel would then believe the file shorter, for good.
	if check race "$IMG" "$WORK/orig.xip" z/big "$cut" 4 >"$WORK/race.out" 2>&1; then
		ok "read=$mode, $(cat "$WORK/race.out"); size and bytes intact afterwards"
	else
		problem "read=$mode: $(cat "$WORK/race.out")"
	fi
	cat "$WORK/orig.xip" >"$IMG"
	alive "after the race ($mode)"
	xipfs_unmount "$M"
	grep -q "source shrank" "$WORK/xipfs.log" ||
		fail "no 'source shrank' in the log: $(cat "$WORK/xipfs.log")"
	ok "read=$mode: clean unmount; logged: $(grep -m1 "source shrank" "$WORK/xipfs.log")"
done
[ $problems = 0 ] || fail "$problems problem(s) above"
