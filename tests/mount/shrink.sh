#!/bin/bash
# The source shrinks under a live mount, in both read modes.  Cut in the
# middle of the last file: reads of the lost part fail with EIO (an mmap
# reader gets SIGBUS), everything before the cut still reads right, and the
# daemon lives on.  Cut to nothing: looking up a name and listing a
# directory fail with EIO, quickly, and the daemon still lives.  Put the
# bytes back into the same file: everything works again; the daemon logged
# "source shrank" and exits 0 at unmount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
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
# --no-data-crc --no-meta-crc: with CRCs their tables, not z/big, would
# end the image
"$MKXIPFS" -q --no-data-crc --no-meta-crc "$T" "$WORK/orig.xip"
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




IMG=$WORK/img.xip
M=$WORK/mnt
check() { python3 "$top_srcdir/tests/shrink_check.py" "$M" "$T" "$@"; }

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
check_problems
