#!/bin/bash
# Push-ahead (-o push=on, the default): once the files of a directory are
# being read, the daemon stores the following small files' data in the
# page cache, so reading a directory of small files whole takes a handful
# of READ requests instead of one per file, and the bytes are the image's.
# A stat walk (listing, no reads) pushes nothing; files over push_max are
# never pushed; push=off pushes nothing; bad values are refused.  As root
# and as a normal user through fusermount3.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

nfiles=400
python3 "$top_srcdir/tests/mount/push_tree.py" "$WORK/tree" "$nfiles"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
chmod 755 "$WORK"
chmod 644 "$WORK/img.xip"

# stat_of LOG NAME: a number from the unmount report.
requests() { sed -n "s/.*stats (unmount).*requests:.* $2=\([0-9]*\).*/\1/p" "$1"; }
pushed() {
	sed -n 's/.*push-ahead: \([0-9]*\) files, \([0-9]*\) bytes.*/\1 \2/p' "$1"
}

# read_all MNT: every small file, in directory order, compared with the tree.
read_all() {
	(cd "$1/small" && cat -- *) | cmp - <(cd "$WORK/tree/small" && cat -- *) ||
		fail "bytes read through the mount differ from the tree"
}

# 1. As root: a directory read whole takes few READs; pushed bytes are right.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -v
ls "$WORK/mnt/small" >/dev/null
read_all "$WORK/mnt"
xipfs_unmount "$WORK/mnt"
reads=$(requests "$WORK/xipfs.log" READ)
set -- $(pushed "$WORK/xipfs.log")
[ -n "$reads" ] && [ "${1:-0}" -gt 0 ] ||
	fail "no push-ahead report, or nothing pushed: $(cat "$WORK/xipfs.log")"
[ "$reads" -lt $((nfiles / 4)) ] ||
	fail "$nfiles files read in $reads READs with push-ahead"
ok "push=on: $nfiles small files read in $reads READs, $1 files pushed, bytes equal"

# 2. push=off: one READ (at least) per file, nothing pushed.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -v -o push=off
read_all "$WORK/mnt"
xipfs_unmount "$WORK/mnt"
reads=$(requests "$WORK/xipfs.log" READ)
[ "${reads:-0}" -ge "$nfiles" ] || fail "push=off: $nfiles files in ${reads:-0} READs"
! grep -q "push-ahead:" "$WORK/xipfs.log" || fail "push=off still reports pushes"
ok "push=off: $reads READs for $nfiles files"

# 3. A stat walk lists and reads nothing: nothing is pushed.  Files over
# push_max (here the default 64K: the big/ files are 64K + 1 and more)
# are read, never pushed.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -v
find "$WORK/mnt" -type f -exec stat -c '%s' {} + >/dev/null
kill -USR1 "$XIPFS_PID"
for _ in $(seq 1 100); do
	grep -q "stats (SIGUSR1).*push-ahead" "$WORK/xipfs.log" && break
	sleep 0.05
done
grep -q "stats (SIGUSR1).*push-ahead: 0 files, 0 bytes" "$WORK/xipfs.log" ||
	fail "a stat walk pushed data: $(grep push-ahead "$WORK/xipfs.log")"
(cd "$WORK/mnt/big" && cat -- *) | cmp - <(cd "$WORK/tree/big" && cat -- *) ||
	fail "big files differ"
xipfs_unmount "$WORK/mnt"
set -- $(pushed "$WORK/xipfs.log")
[ "$1" = 0 ] || fail "files over push_max were pushed: $1"
ok "a stat walk pushes nothing; files over push_max are not pushed"

# 4. As a normal user, through fusermount3.
mkdir "$WORK/umnt"
chown nobody "$WORK/umnt"
: >"$WORK/user.log"
mounted="$WORK/umnt $mounted"
start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f -v "$WORK/img.xip" "$WORK/umnt"
upid=${daemon_pid[user]}
as_user sh -c "cd '$WORK/umnt/small' && cat -- *" |
	cmp - <(cd "$WORK/tree/small" && cat -- *) || fail "user mount: bytes differ"
as_user fusermount3 -u "$WORK/umnt" || fail "user cannot unmount"
wait "$upid" || fail "user daemon failed: $(cat "$WORK/user.log")"
reads=$(requests "$WORK/user.log" READ)
set -- $(pushed "$WORK/user.log")
[ "${1:-0}" -gt 0 ] && [ "${reads:-$nfiles}" -lt $((nfiles / 4)) ] ||
	fail "user mount: ${reads:-?} READs, ${1:-0} pushed: $(cat "$WORK/user.log")"
ok "as a normal user: $reads READs, $1 files pushed"

# 5. Values that are no bounds are refused before anything is mounted.
expect_error "push=maybe" "$XIPFS" -f -o push=maybe "$WORK/img.xip" "$WORK/mnt"
expect_error "push_max=2M" "$XIPFS" -f -o push_max=2M "$WORK/img.xip" "$WORK/mnt"
expect_error "push_window=-1" "$XIPFS" -f -o push_window=-1 "$WORK/img.xip" "$WORK/mnt"
expect_error "push_budget=lots" "$XIPFS" -f -o push_budget=lots "$WORK/img.xip" "$WORK/mnt"
ok "bad push options refused"
