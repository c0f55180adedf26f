#!/bin/bash
# One image, many readers: the way hosts share an image on a SAN, an NBD
# or iSCSI export or shared memory, tried on one machine.  The image is
# exported read-only as a loop block device; two daemons mount that one
# device at once and a third mounts a second read-only loop device over
# the same file (as a second host would see its own export).  Every mount
# reads the tree byte for byte, through read() and mmap, concurrently;
# the devices really are read-only; and each daemon exits cleanly.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd losetup
need_cmd blockdev
mkdir "$WORK/tree"
make_sample_tree "$WORK/tree"
head -c 8000000 /dev/urandom >"$WORK/tree/big"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"

loops=""
detach_loops() { for l in $loops; do losetup -d "$l" 2>/dev/null || true; done; }
cleanup_hooks="unmount_all detach_loops $cleanup_hooks"
loop1=$(losetup -f --show -r "$WORK/img.xip") || fail "losetup -r failed"
loops="$loop1"
loop2=$(losetup -f --show -r "$WORK/img.xip") || fail "second losetup -r failed"
loops="$loop1 $loop2"
for l in $loop1 $loop2; do
	[ "$(blockdev --getro "$l")" = 1 ] || fail "$l is writable"
done

xipfs_mount "$loop1" "$WORK/m1"
pid1=$XIPFS_PID
xipfs_mount "$loop1" "$WORK/m2"
pid2=$XIPFS_PID
xipfs_mount "$loop2" "$WORK/m3"
pid3=$XIPFS_PID

# All three at once, each read() and mmap compared with the tree.
check() {
	python3 "$TREECMP" "$WORK/tree" "$1" >/dev/null &&
	python3 "$top_srcdir/tests/mount_check.py" same "$WORK/tree" "$1" big
}
check "$WORK/m1" & c1=$!
check "$WORK/m2" & c2=$!
check "$WORK/m3" & c3=$!
wait $c1 || fail "the first mount of $loop1 differs from the tree"
wait $c2 || fail "the second mount of $loop1 differs from the tree"
wait $c3 || fail "the mount of $loop2 differs from the tree"
cmp "$WORK/m1/big" "$WORK/m3/big" || fail "the mounts differ from each other"
ok "two daemons on one read-only loop device and one on a second: all read the tree"

for m in m1 m2 m3; do
	fusermount3 -u "$WORK/$m" || fail "cannot unmount $m"
done
for p in $pid1 $pid2 $pid3; do
	wait "$p" || fail "a daemon exited with status $?: $(cat "$WORK/xipfs.log")"
done
[ ! -s "$WORK/xipfs.log" ] || fail "the daemons said: $(cat "$WORK/xipfs.log")"
ok "each daemon exited cleanly and quietly"
