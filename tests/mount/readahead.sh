#!/bin/bash
# -o readahead=SIZE: a root daemon sets its mount's readahead window
# (/sys/class/bdi/MAJ:MIN/read_ahead_kb) once INIT is answered, 2M unless
# told otherwise; readahead=0 leaves the kernel's window; bad values are
# refused before anything is mounted.  A normal user's mount keeps the
# kernel's window, says so only when readahead= was asked for, and serves
# the same bytes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

mkdir "$WORK/tree"
head -c $((8 << 20)) /dev/urandom >"$WORK/tree/big"
printf 'small\n' >"$WORK/tree/small"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
chmod 755 "$WORK"
chmod 644 "$WORK/img.xip"

# window MNT: the read_ahead_kb of the FUSE mount on MNT, found in
# mountinfo (root cannot stat a user's mount); retried while the daemon
# writes it after INIT.
bdi_of() { awk -v m="$1" '$5 == m && / - fuse/ {d = $3} END {print d}' /proc/self/mountinfo; }
window() { cat "/sys/class/bdi/$(bdi_of "$1")/read_ahead_kb"; }
wait_window() {	# wait_window MNT KB: 1 s at most
	local i
	for i in $(seq 50); do [ "$(window "$1")" = "$2" ] && return 0; sleep 0.02; done
	return 1
}

# The kernel's own window for a FUSE mount, measured with readahead=0.
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o readahead=0
stat "$WORK/mnt/big" >/dev/null
sleep 0.3	# what a write after INIT would have done by now
kernel=$(window "$WORK/mnt")
[ -n "$kernel" ] && [ "$kernel" != 2048 ] || fail "readahead=0: window $kernel KiB"
xipfs_unmount "$WORK/mnt"
ok "readahead=0 leaves the kernel's window ($kernel KiB)"

for want in default:2048 512K:512 16M:16384; do
	opt=${want%%:*} kb=${want#*:}
	if [ "$opt" = default ]; then xipfs_mount "$WORK/img.xip" "$WORK/mnt"
	else xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o readahead=$opt; fi
	wait_window "$WORK/mnt" "$kb" || fail "readahead $opt: window $(window "$WORK/mnt") KiB, not $kb"
	cmp "$WORK/mnt/big" "$WORK/tree/big" || fail "readahead $opt: bytes differ"
	xipfs_unmount "$WORK/mnt"
	ok "readahead $opt: the mount's window is $kb KiB"
done

for bad in x 3000 1K 1G -4K; do
	expect_error "readahead=" "$XIPFS" -f -o "readahead=$bad" "$WORK/img.xip" "$WORK/mnt"
	! is_mounted "$WORK/mnt" || fail "readahead=$bad mounted"
done
ok "bad readahead= values are refused"

mkdir "$WORK/umnt"
chown nobody "$WORK/umnt"
for opt in "" readahead=1M; do
	: >"$WORK/user.log"
	mounted="$WORK/umnt $mounted"
	start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f ${opt:+-o $opt} "$WORK/img.xip" "$WORK/umnt"
	upid=${daemon_pid[user]}
	as_user cmp "$WORK/umnt/big" "$WORK/tree/big" || fail "user mount $opt: bytes differ"
	got=$(window "$WORK/umnt")
	[ "$got" = "$kernel" ] || fail "user mount $opt: window $got KiB, not the kernel's $kernel"
	as_user fusermount3 -u "$WORK/umnt" || fail "user cannot unmount"
	wait "$upid" || fail "user daemon failed: $(cat "$WORK/user.log")"
	if [ -n "$opt" ]; then
		grep -q "readahead=1024K: cannot set" "$WORK/user.log" ||
			fail "user mount, $opt: no word of it: $(cat "$WORK/user.log")"
	else
		! grep -q readahead "$WORK/user.log" ||
			fail "user mount: a readahead message nobody asked for: $(cat "$WORK/user.log")"
	fi
done
ok "a normal user's mount keeps the kernel's window, and says so when asked"
