#!/bin/bash
# FUSE over io_uring (-o io_uring).  With the kernel switch on, a mount
# serves the sample tree byte for byte (read() and mmap), its READs came
# over the ring, and mount/tree.sh and mount/compressed.sh pass with every
# mount over the ring; with the switch off, or a libfuse without io_uring, the
# option is dropped with one line saying why and /dev/fuse serves.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
hold_uring_switch
need_cmd fusermount3
param=/sys/module/fuse/parameters/enable_uring
mkdir "$WORK/tree"
make_sample_tree "$WORK/tree"
head -c 3000000 /dev/urandom >"$WORK/tree/big"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
mnt=$WORK/mnt

check_mount() {	# compare everything, then unmount
	python3 "$TREECMP" "$WORK/tree" "$mnt" >/dev/null || fail "$1: trees differ"
	python3 "$top_srcdir/tests/mount_check.py" same "$WORK/tree" "$mnt" big || fail "$1: mmap differs"
	xipfs_unmount "$mnt"
}
uring_reads() { sed -n 's/.* \([0-9]*\) READs over io_uring.*/\1/p' "$WORK/xipfs.log" | tail -1; }

if ! "$XIPFS" --version | grep -q 'io_uring yes'; then
	xipfs_mount "$WORK/img.xip" "$mnt" -o io_uring
	check_mount "no io_uring in libfuse"
	grep -q "io_uring: this libfuse has no FUSE over io_uring" "$WORK/xipfs.log" ||
		fail "no reason logged: $(cat "$WORK/xipfs.log")"
	without io_uring "this libfuse has no io_uring: the option is dropped with the reason"
fi
[ -w "$param" ] || fail "$param missing: the kernel has no FUSE over io_uring"
saved=$(cat "$param")
restore_param() { echo "$saved" >"$param"; }
cleanup_hooks="$cleanup_hooks restore_param"

echo N >"$param"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o io_uring
check_mount "switch off"
grep -q "io_uring: the kernel has it off ($param is N)" "$WORK/xipfs.log" ||
	fail "no reason logged: $(cat "$WORK/xipfs.log")"
[ "$(uring_reads)" = 0 ] || fail "READs over io_uring with the switch off"
ok "switch off: dropped with the reason, /dev/fuse served"

echo Y >"$param"
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o io_uring,io_uring_q_depth=8
check_mount "io_uring"
n=$(uring_reads)
[ "${n:-0}" -gt 0 ] || fail "no READ came over io_uring: $(cat "$WORK/xipfs.log")"
ok "io_uring: the tree reads right, $n READs came over the ring"

# The same data tests as the /dev/fuse mounts: mount/tree.sh, every mount of it
# over the ring.
XIPFS_MOUNT_OPTS=io_uring bash "$top_srcdir/tests/mount/tree.sh" >"$WORK/tree.log" 2>&1 ||
	fail "mount/tree.sh over io_uring: $(tail -5 "$WORK/tree.log")"
ok "mount/tree.sh passes over io_uring ($(grep -c '^ok:' "$WORK/tree.log") checks)"

# Compressed files: each io_uring queue thread decompresses into its own
# buffer with its own context.
XIPFS_MOUNT_OPTS=io_uring bash "$top_srcdir/tests/mount/compressed.sh" >"$WORK/compressed.log" 2>&1 ||
	fail "mount/compressed.sh over io_uring: $(tail -5 "$WORK/compressed.log")"
ok "mount/compressed.sh passes over io_uring ($(grep -c '^ok:' "$WORK/compressed.log") checks)"
