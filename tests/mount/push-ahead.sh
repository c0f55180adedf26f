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


# read_all MNT: every small file, in directory order, compared with the tree.
read_all() {
	(cd "$1/small" && cat -- *) | cmp - <(cd "$WORK/tree/small" && cat -- *) ||
		fail "bytes read through the mount differ from the tree"
}

# 1. As root: a directory read whole takes few READs; pushed bytes are right.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o "stats=$STATS"
ls "$WORK/mnt/small" >/dev/null
read_all "$WORK/mnt"
xipfs_unmount "$WORK/mnt"
reads=$(counter ops.READ)
set -- "$(counter push.files)" "$(counter push.bytes)"
[ "$1" -gt 0 ] || fail "nothing pushed: $(cat "$STATS")"
[ "$reads" -lt $((nfiles / 4)) ] ||
	fail "$nfiles files read in $reads READs with push-ahead"
ok "push=on: $nfiles small files read in $reads READs, $1 files pushed, bytes equal"

# 2. push=off: one READ (at least) per file, nothing pushed.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o "push=off,stats=$STATS"
read_all "$WORK/mnt"
xipfs_unmount "$WORK/mnt"
reads=$(counter ops.READ)
[ "$reads" -ge "$nfiles" ] || fail "push=off: $nfiles files in $reads READs"
[ "$(counter push.on)" = 0 ] && [ "$(counter push.files)" = 0 ] ||
	fail "push=off still pushes: $(cat "$STATS")"
ok "push=off: $reads READs for $nfiles files"

# 3. A stat walk lists and reads nothing: nothing is pushed.  Files over
# push_max (here the default 64K: the big/ files are 64K + 1 and more)
# are read, never pushed.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o "stats=$STATS"
find "$WORK/mnt" -type f -exec stat -c '%s' {} + >/dev/null
stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
[ "$(counter when)" = SIGUSR1 ] || fail "the record is not SIGUSR1's: $(cat "$STATS")"
[ "$(counter push.files)" = 0 ] && [ "$(counter push.bytes)" = 0 ] ||
	fail "a stat walk pushed data: $(cat "$STATS")"
(cd "$WORK/mnt/big" && cat -- *) | cmp - <(cd "$WORK/tree/big" && cat -- *) ||
	fail "big files differ"
xipfs_unmount "$WORK/mnt"
set -- "$(counter push.files)"
[ "$1" = 0 ] || fail "files over push_max were pushed: $1"
ok "a stat walk pushes nothing; files over push_max are not pushed"

# 4. As a normal user, through fusermount3.
mkdir "$WORK/umnt" "$WORK/ustats"
chown nobody "$WORK/umnt" "$WORK/ustats"
ustats=$WORK/ustats/s.json
: >"$WORK/user.log"
mounted="$WORK/umnt $mounted"
start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f -o "stats=$ustats" "$WORK/img.xip" "$WORK/umnt"
upid=${daemon_pid[user]}
as_user sh -c "cd '$WORK/umnt/small' && cat -- *" |
	cmp - <(cd "$WORK/tree/small" && cat -- *) || fail "user mount: bytes differ"
as_user fusermount3 -u "$WORK/umnt" || fail "user cannot unmount"
wait "$upid" || fail "user daemon failed: $(cat "$WORK/user.log")"
reads=$(stats_get "$ustats" ops.READ) || fail "user mount: no stats record"
set -- "$(stats_get "$ustats" push.files)"
[ "$1" -gt 0 ] && [ "$reads" -lt $((nfiles / 4)) ] ||
	fail "user mount: $reads READs, $1 pushed: $(cat "$ustats")"
ok "as a normal user: $reads READs, $1 files pushed"

# 5. Values that are no bounds are refused before anything is mounted.
expect_error "push=maybe" "$XIPFS" -f -o push=maybe "$WORK/img.xip" "$WORK/mnt"
expect_error "push_max=2M" "$XIPFS" -f -o push_max=2M "$WORK/img.xip" "$WORK/mnt"
expect_error "push_window=-1" "$XIPFS" -f -o push_window=-1 "$WORK/img.xip" "$WORK/mnt"
expect_error "push_budget=lots" "$XIPFS" -f -o push_budget=lots "$WORK/img.xip" "$WORK/mnt"
ok "bad push options refused"
