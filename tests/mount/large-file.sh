#!/bin/bash
# A mounted file larger than 4 GiB (sparse, so cheap) gives the right bytes
# on either side of 4 GiB, through read() by copy and by splice and through
# a mapping at an offset past 4 GiB.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd fusermount3
[ -w /dev/fuse ] || skip "needs /dev/fuse"

G=1073741824
avail=$(df -Pk "$WORK" | awk 'NR == 2 {print $4}')
[ "$avail" -gt 1048576 ] || skip "less than 1 GiB free in $WORK"

mkdir "$WORK/t"
f="$WORK/t/big"
truncate -s $((5 * G)) "$f"
put() { printf '%s' "$2" | dd of="$f" bs=1 seek="$1" conv=notrunc status=none; }
put 0 'start'
put $((4 * G - 1)) 'B'
put $((4 * G)) 'C'
put $((4 * G + 12345)) 'past four gib'
put $((5 * G - 1)) 'E'
printf 'small\n' >"$WORK/t/after"
used=$(du -k "$f" | cut -f1)
[ "$used" -lt 65536 ] || skip "$WORK does not keep files sparse"
"$MKXIPFS" -q "$WORK/t" "$WORK/big.xip"
used=$(du -k "$WORK/big.xip" | cut -f1)
[ "$used" -lt 65536 ] || fail "image uses $used KiB on disk: not sparse"
mnt="$WORK/mnt"

# The expected bytes of each probe (tests/mount_check.py past-4g) come from
# the source file, read the same way; the literal checks make sure the
# probes are where the marks are.
MOUNT_CHECK="python3 $top_srcdir/tests/mount_check.py"

for mode in copy splice; do
	xipfs_mount "$WORK/big.xip" "$mnt" -o read=$mode
	[ "$(stat -c %s "$mnt/big")" = $((5 * G)) ] || fail "$mode: st_size wrong"
	$MOUNT_CHECK past-4g "$f" "$mnt/big" || fail "read=$mode: wrong bytes"
	# dd too: a plain read(2) loop with a byte offset, crossing 4 GiB.
	got=$(dd if="$mnt/big" iflag=skip_bytes,count_bytes skip=$((4 * G + 12345)) \
		count=13 status=none)
	[ "$got" = "past four gib" ] || fail "read=$mode: dd past 4 GiB: '$got'"
	# Long reads over a hole, the 4 GiB mark and back into a hole.
	for src in "$f" "$mnt/big"; do
		dd if="$src" iflag=skip_bytes skip=$((4 * G - 4194304)) bs=1M \
			count=8 status=none | md5sum
	done | uniq | [ "$(wc -l)" = 1 ] || fail "read=$mode: 8 MiB at 4 GiB differ"
	cmp -s "$WORK/t/after" "$mnt/after" || fail "read=$mode: file after the big one differs"
	xipfs_unmount "$mnt"
	ok "read=$mode: bytes around and past 4 GiB, st_size"
done
daemon_quiet
