#!/bin/bash
# Mount manners and options.  A plain mount prints nothing when all is
# well, as root and as a user; -v says how the mount serves and, at
# unmount, what it served.  The daemon exits as soon as its mount goes,
# with the idle timer armed too.  subdir=PATH shows one directory of the
# image as the root, with the same inode numbers as a whole-image mount
# (the subdir's own is 1), and refuses a missing directory, a file and
# '..'.  timeout=S ends a mount that had no request for S seconds, as root
# and through fusermount3, but never one with a file open.  stats=FILE
# writes the JSON record of every counter, whole, into the directory
# opened at mount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
need_cmd setfacl
mkdir "$WORK/tree"
make_sample_tree "$WORK/tree"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
mnt=$WORK/mnt	# (xipfs_mount sets it too)

# Wait up to 30 s for MNT to stop being a mount point.
wait_unmounted() {
	for _ in $(seq 1 600); do
		is_mounted "$1" || return 0
		sleep 0.05
	done
	fail "$2: $1 still mounted after 30 s"
}

# 1. Quiet: nothing on stderr from a plain mount, read and unmounted; -v
# gives the one line on how it serves and the account at unmount.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt"
python3 "$TREECMP" "$WORK/tree" "$mnt" >/dev/null || fail "plain mount differs"
xipfs_unmount "$mnt"
[ ! -s "$WORK/xipfs.log" ] || fail "a plain mount said: $(cat "$WORK/xipfs.log")"
xipfs_mount "$WORK/img.xip" "$mnt" -v
cat "$mnt/hello.txt" >/dev/null
xipfs_unmount "$mnt"
# as root the daemon widens the readahead window and so reads by copy
by=splice; [ "$(id -u)" != 0 ] || by=copy
grep -q "^xipfs: $WORK/img.xip: reads by $by, passthrough off" "$WORK/xipfs.log" ||
	fail "-v: no line on how it serves: $(cat "$WORK/xipfs.log")"
# The account itself is for people (its counters are the stats= record's,
# checked in 5.): only that -v gives more than the line above.
[ "$(grep -c -F "$WORK/img.xip" "$WORK/xipfs.log")" -ge 2 ] ||
	fail "-v: no account at unmount: $(cat "$WORK/xipfs.log")"
ok "a plain mount says nothing; -v says how it serves and what it served"

# As a normal user, in the background as users mount (fusermount3).
fuse_open_to nobody
umnt=$WORK/umnt
mkdir "$umnt" && chown nobody "$umnt"
mounted="$umnt $mounted"
as_user "$XIPFS" "$WORK/img.xip" "$umnt" >"$WORK/user.out" 2>&1 ||
	fail "user mount failed: $(cat "$WORK/user.out")"
as_user cat "$umnt/hello.txt" | cmp -s - "$WORK/tree/hello.txt" || fail "user read differs"
as_user fusermount3 -u "$umnt" || fail "user unmount failed"
[ ! -s "$WORK/user.out" ] || fail "a user's plain mount said: $(cat "$WORK/user.out")"
ok "a user's plain mount says nothing"

# 2. The daemon (in the background, idle timer armed) exits as soon as
# fusermount3 -u returns.  Seen through a pidfd, which is ready when the
# process exits, not when its new parent gets round to reaping it.
"$XIPFS" -o timeout=600 "$WORK/img.xip" "$mnt" || fail "background mount failed"
mounted="$mnt $mounted"
pid=$(pgrep -x -f "$XIPFS -o timeout=600 $WORK/img.xip $mnt") ||
	fail "no daemon found for $mnt"
ls -R "$mnt" >/dev/null
took=$(python3 "$top_srcdir/tests/mount_check.py" exit-after-unmount "$pid" "$mnt") || fail "timing the exit failed"
[ "$took" != never ] || fail "the daemon did not exit within 10 s of the unmount"
awk -v t="$took" 'BEGIN { exit !(t < 1.0) }' ||
	fail "the daemon took $took s to exit after the unmount"
ok "the daemon exited $took s after fusermount3 -u returned"

# 3. subdir=: the subtree, byte for byte; inode numbers as on a mount of
# the whole image, the subdir's own shown as 1 and its '..' as itself.
xipfs_mount "$WORK/img.xip" "$mnt"
xipfs_mount "$WORK/img.xip" "$WORK/sub" -o subdir=/sub/
python3 "$TREECMP" "$WORK/tree/sub" "$WORK/sub" >/dev/null || fail "subdir=sub differs"
python3 "$top_srcdir/tests/mount_check.py" subdir-ino "$WORK/mnt/sub" "$WORK/sub" || fail "subdir=: inode numbers differ"
xipfs_unmount "$WORK/sub"
xipfs_unmount "$WORK/mnt"
mnt=$WORK/mnt	# xipfs_mount sets mnt
xipfs_mount "$WORK/img.xip" "$mnt" -o subdir=sub/deeper
cmp "$mnt/seventy-k" "$WORK/tree/sub/deeper/seventy-k" || fail "subdir=sub/deeper differs"
xipfs_unmount "$mnt"
expect_error "xipfs: $WORK/img.xip: subdir=nope: no such directory in the image" \
	"$XIPFS" -o subdir=nope "$WORK/img.xip" "$mnt"
expect_error "xipfs: $WORK/img.xip: subdir=hello.txt: not a directory in the image" \
	"$XIPFS" -o subdir=hello.txt "$WORK/img.xip" "$mnt"
expect_error "xipfs: $WORK/img.xip: subdir=sub/../..: '..' is not allowed" \
	"$XIPFS" -o subdir=sub/../.. "$WORK/img.xip" "$mnt"
! is_mounted "$mnt" || fail "a refused subdir= mounted"
ok "subdir=: the subtree, inode numbers kept; missing, file and '..' refused"

# 4. timeout=: an idle mount ends by itself (the daemon exits 0 and the
# mount is gone); a file held open keeps it, its close lets it go.
xipfs_mount "$WORK/img.xip" "$mnt" -o timeout=1
ls "$mnt" >/dev/null
wait_gone "$XIPFS_PID" 30 || fail "timeout=1: the daemon still runs after 30 s"
wait "$XIPFS_PID" || fail "timeout=1: the daemon exited with status $?"
wait_unmounted "$mnt" "timeout=1"
xipfs_mount "$WORK/img.xip" "$mnt" -o timeout=1
exec 3<"$mnt/three-mb"
sleep 3
is_mounted "$mnt" || fail "timeout=1 unmounted with a file open"
head -c 10 <&3 >/dev/null || fail "the open file cannot be read after 3 s"
exec 3<&-
wait_gone "$XIPFS_PID" 30 || fail "timeout=1 after the close: the daemon still runs after 30 s"
wait "$XIPFS_PID" || fail "timeout=1: the daemon exited with status $?"
wait_unmounted "$mnt" "timeout=1 after the close"
as_user "$XIPFS" -o timeout=1 "$WORK/img.xip" "$umnt" 2>"$WORK/user.out" ||
	fail "user mount with timeout=1 failed: $(cat "$WORK/user.out")"
is_mounted "$umnt" || fail "the user's timeout=1 mount is not there"
wait_unmounted "$umnt" "a user's timeout=1"
ok "timeout=: idle mounts end, as root and through fusermount3; an open file keeps one"

# 5. stats=FILE: the JSON record of every counter, on SIGUSR1 and at
# unmount, each a whole file (no temporary left beside it); refused where
# it cannot be written.  Written into the directory opened at mount even
# when a user has since swapped a symlink in for it (issue 23, defect 5).
rec=$WORK/rec
mkdir "$rec"
xipfs_mount "$WORK/img.xip" "$mnt" -o "stats=$rec/s.json"
cat "$mnt/hello.txt" >/dev/null
stats_now "$rec/s.json" "$XIPFS_PID" || fail "stats=: no record after SIGUSR1"
[ "$(stats_get "$rec/s.json" version)" = 1 ] || fail "stats=: version is not 1"
[ "$(stats_get "$rec/s.json" when)" = SIGUSR1 ] || fail "stats=: not written on SIGUSR1"
[ "$(stats_get "$rec/s.json" ops.READ)" -ge 1 ] || fail "stats=: no READ counted"
served=0
for k in copy_bytes splice_bytes packed_bytes compressed_bytes; do
	served=$((served + $(stats_get "$rec/s.json" read.$k)))
done
[ "$served" = "$(stat -c %s "$WORK/tree/hello.txt")" ] ||
	fail "stats=: READ served $served bytes, hello.txt has $(stat -c %s "$WORK/tree/hello.txt")"
xipfs_unmount "$mnt"
[ "$(stats_get "$rec/s.json" when)" = unmount ] || fail "stats=: not written at unmount"
[ "$(ls -A "$rec")" = s.json ] || fail "stats=: left beside the record: $(ls -A "$rec")"
expect_error "xipfs: stats=$WORK/nodir/s.json: its directory cannot be opened" \
	"$XIPFS" -o "stats=$WORK/nodir/s.json" "$WORK/img.xip" "$mnt"
expect_error "xipfs: stats=$rec/: not a file name" \
	"$XIPFS" -o "stats=$rec/" "$WORK/img.xip" "$mnt"
mkdir "$rec/dir"
expect_error "xipfs: stats=$rec/dir: not a regular file" \
	"$XIPFS" -o "stats=$rec/dir" "$WORK/img.xip" "$mnt"
# the user's directory is swapped for a symlink to one only root may
# write while the root daemon runs: the record must not land there
upriv=$WORK/user-dir
mkdir -p "$upriv/out" "$WORK/root-only" && chown -R nobody "$upriv"
chmod 700 "$WORK/root-only"
xipfs_mount "$WORK/img.xip" "$mnt" -o "stats=$upriv/out/s.json"
as_user mv "$upriv/out" "$upriv/moved" || fail "cannot move the user's directory"
as_user ln -s "$WORK/root-only" "$upriv/out" || fail "cannot plant the symlink"
xipfs_unmount "$mnt"
[ -z "$(ls -A "$WORK/root-only")" ] ||
	fail "stats=: the root daemon wrote through the swapped symlink: $(ls -A "$WORK/root-only")"
[ -f "$upriv/moved/s.json" ] || fail "stats=: no record in the directory opened at mount"
ok "stats=: whole JSON records on SIGUSR1 and at unmount, in the directory opened at mount"
