#!/bin/bash
# Eight concurrent readers for XIPFS_STRESS_SECONDS (default 30) on a tree
# of a few thousand files of 0 to 1 MiB: random read, pread, mmap, stat,
# listdir and readlink, every answer compared with the source tree.  Then,
# with the readers still busy and holding files open, a plain unmount is
# refused (busy) and a lazy one succeeds: files already open keep reading
# right, new lookups fail cleanly, the readers finish, the daemon exits 0
# once the last file is closed, and nothing stays mounted.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

SECONDS_=${XIPFS_STRESS_SECONDS:-30}
READERS=8
GRACE=3		# seconds the readers go on after the lazy unmount

# 2500 files in nested directories, about 120 MB: a tenth empty, most
# small, some up to exactly 1 MiB; a few symlinks.  Seeded.
python3 "$top_srcdir/scripts/gen-tree.py" --kind stress "$WORK/tree" \
	--manifest "$WORK/manifest.json" >/dev/null
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
echo "tree: $(du -sh "$WORK/tree" | cut -f1), image $(du -sh "$WORK/img.xip" | cut -f1)"

READER=$top_srcdir/tests/stress_reader.py

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
	python3 "$READER" "$M" "$WORK/tree" "$WORK/manifest.json" \
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
daemon_quiet
[ -z "$(ls -A "$M")" ] || fail "$M not empty after the unmount"

python3 "$READER" tally "$WORK" "$READERS" || fail "operation counts"
ok "lazy unmount under load: readers finished, daemon exited 0, nothing mounted"
