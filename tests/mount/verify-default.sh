#!/bin/bash
# Verify is the default, and every door checks: an image with one flipped
# byte in one small file, d/f05 (one of twenty in a directory).
# - A mount with no options answers EIO for d/f05 and serves every other
#   file exactly; push-ahead, reading the directory ahead of the reader,
#   leaves d/f05 out (push.damaged), so its READ still gets EIO; one
#   complaint in the log, naming /d/f05, however often it is met.
# - -o noverify (the documented opt-out) serves the stored bytes, the
#   flipped one included.
# - xipfsck -x extracts the nineteen intact files and the big one, names
#   d/f05 as damaged, leaves no file of that name, and exits 1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

T=$WORK/tree
mkdir -p "$T/d"
for i in $(seq -w 0 19); do head -c $((5000 + 100 * 10#$i)) /dev/urandom >"$T/d/f$i"; done
head -c 1500000 /dev/urandom >"$T/big"
"$MKXIPFS" -q "$T" "$WORK/good.xip"
python3 "$top_srcdir/tests/stored_at.py" "$WORK/good.xip" /d/f05 >"$WORK/at"
flip=$(( $(awk '$1 == "/d/f05" {print $2}' "$WORK/at") + 1234 ))
cp "$WORK/good.xip" "$WORK/bad.xip"
python3 "$top_srcdir/tests/xipimg.py" "$WORK/bad.xip" flip "$flip"
others="$(cd "$T" && ls d/* | grep -v '^d/f05$') big"
mnt=$WORK/mnt

# 1. The default mount.  A READ of d/f00 (direct: a READ whatever the
# page cache holds) starts push-ahead over the entries after it; wait (the
# push thread is its own) until it has met d/f05, starting it again should
# the kernel have dropped the entries meanwhile (a drop_caches elsewhere).
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/bad.xip" "$mnt" -o "stats=$STATS"
for _ in $(seq 1 100); do
	ls "$mnt/d" >/dev/null
	dd if="$mnt/d/f00" of=/dev/null bs=64k iflag=direct status=none
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	damaged=$(counter push.damaged)
	[ "$damaged" = 0 ] || break
	sleep 0.1
done
[ "$damaged" = 1 ] || fail "push-ahead did not leave d/f05 out: $(cat "$STATS")"
for i in 1 2; do
	expect_error "Input/output error" cat "$mnt/d/f05"
done
for f in $others; do
	cmp "$T/$f" "$mnt/$f" || fail "default: undamaged $f reads wrong"
done
xipfs_unmount "$mnt"
[ "$(counter verify.on)" = 1 ] || fail "verify is not on by default: $(cat "$STATS")"
pushed=$(counter push.files)
[ "$pushed" -gt 0 ] || fail "nothing pushed: $(cat "$STATS")"
complaints=$(grep -c "fails its checksum" "$WORK/xipfs.log" || true)
[ "$complaints" = 1 ] && grep -q "inode [0-9]* (/d/f05): data block" "$WORK/xipfs.log" ||
	fail "want one complaint naming /d/f05, got $complaints: $(cat "$WORK/xipfs.log")"
ok "default mount: EIO for d/f05 (not pushed; $pushed files pushed), $(echo $others | wc -w) other files exact, one complaint"

# 2. -o noverify serves the stored bytes.
xipfs_mount "$WORK/bad.xip" "$mnt" -o noverify
set +e
cmp "$T/d/f05" "$mnt/d/f05" >"$WORK/cmp.out" 2>&1
st=$?
set -e
[ $st = 1 ] && grep -q "differ: byte 1235" "$WORK/cmp.out" ||
	fail "noverify: cmp status $st: $(cat "$WORK/cmp.out")"
for f in $others; do cmp "$T/$f" "$mnt/$f" || fail "noverify: $f reads wrong"; done
xipfs_unmount "$mnt"
ok "noverify serves the flipped byte: $(cat "$WORK/cmp.out")"

# 3. xipfsck -x: the rest extracted, d/f05 named and not written, exit 1.
set +e
"$XIPFSCK" -x "$WORK/out" "$WORK/bad.xip" >"$WORK/x.out" 2>&1
st=$?
set -e
[ $st = 1 ] || fail "xipfsck -x exit status $st: $(cat "$WORK/x.out")"
grep -q "inode [0-9]* (.*/out/d/f05): .*checksum.*file not extracted" "$WORK/x.out" ||
	fail "xipfsck -x does not name d/f05: $(cat "$WORK/x.out")"
[ ! -e "$WORK/out/d/f05" ] || fail "xipfsck -x left a d/f05"
for f in $others; do cmp "$T/$f" "$WORK/out/$f" || fail "xipfsck -x: $f differs"; done
[ "$(find "$WORK/out" -type f | wc -l)" = 20 ] || fail "xipfsck -x: $(find "$WORK/out" -type f | wc -l) files"
ok "xipfsck -x: 20 files extracted, d/f05 left out: $(grep -m1 f05 "$WORK/x.out")"
