#!/bin/bash
# Push-ahead (-o push=on, the default): once the files of a directory are
# being read, the daemon stores the following small files' data in the
# page cache, so reading a directory of small files whole takes a handful
# of READ requests instead of one per file, and the bytes are the image's;
# again after drop_caches (the kernel forgot the files: they are pushed
# anew).  READs are counted only once the pushes are done (the daemon's
# record says so), never against the push thread's speed.
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


# The daemon counted, its record and who reads: root's mount, or a normal
# user's (as_user) in part 4.
pstats=$STATS ppid=0 reader=

# read_all MNT: every small file, in directory order, compared with the tree.
read_all() {
	$reader sh -c "cd '$1/small' && cat -- *" |
		cmp - <(cd "$WORK/tree/small" && cat -- *) ||
		fail "bytes read through the mount differ from the tree"
}

# pcounter KEY: KEY of the daemon's record, written now (SIGUSR1);
# plast KEY: KEY of the record last written.
pcounter() {
	stats_now "$pstats" "$ppid" || fail "no stats record after SIGUSR1"
	plast "$1"
}
plast() { stats_get "$pstats" "$1" || fail "no counter $1 in $pstats"; }

# one_pass MNT: the first small file (the trigger), then, once all the
# others were pushed, the directory whole; sets reads to the READs this
# took.  READs are counted only once the pushes are done, never against the
# push thread's speed.  The mount's window and budget hold the whole
# directory, so that the pushes need no reader to follow.  reads is left
# empty when the kernel forgot inodes or lost pages meanwhile (FORGET, or
# page_cache_drops moved: another drop_caches on this machine), which
# leaves nothing to count.
one_pass() {
	local reads0 pushed0 forgets0 drops0 want
	reads= reads0=$(pcounter ops.READ) pushed0=$(plast push.files)
	forgets0=$(plast ops.FORGET) drops0=$(page_cache_drops)
	want=$((pushed0 + nfiles - 1))
	$reader ls "$1/small" >/dev/null
	$reader cat "$1/small/f0000" >/dev/null
	for _ in $(seq 1 150); do
		[ "$(pcounter ops.FORGET)" = "$forgets0" ] || return 0
		[ "$(plast push.files)" -lt "$want" ] || break
		sleep 0.1
	done
	[ "$(plast push.files)" -ge "$want" ] ||
		fail "push-ahead pushed $(($(plast push.files) - pushed0)) files, not $((nfiles - 1)): $(cat "$pstats")"
	read_all "$1"
	[ "$(pcounter ops.FORGET)" = "$forgets0" ] || return 0
	[ "$(page_cache_drops)" = "$drops0" ] || return 0
	reads=$(($(plast ops.READ) - reads0))
}

# read_pushed MNT: one_pass, again while something else drops the caches.
read_pushed() {
	for _ in $(seq 1 10); do
		one_pass "$1"
		[ -z "$reads" ] || return 0
	done
	fail "the kernel forgot inodes or the caches were dropped in each of 10 passes"
}
whole_dir="push_window=$nfiles,push_budget=64M"

# 1. As root: a directory read whole takes few READs; pushed bytes are right.
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o "stats=$STATS,$whole_dir"
ppid=$XIPFS_PID
read_pushed "$WORK/mnt"
pushed=$(pcounter push.files)
[ "$reads" -lt $((nfiles / 4)) ] ||
	fail "$nfiles files read in $reads READs with push-ahead"
ok "push=on: $nfiles small files read in $reads READs, $pushed files pushed, bytes equal"

# 1b. Once the kernel has forgotten the files (drop_caches), they are
# pushed again: the second pass takes as few READs, and the pushes grow.
forgets=$(pcounter ops.FORGET)
drop_caches
[ "$(pcounter ops.FORGET)" -gt "$forgets" ] ||
	fail "drop_caches made the kernel forget nothing: $(cat "$STATS")"
read_pushed "$WORK/mnt"
[ "$reads" -lt $((nfiles / 4)) ] ||
	fail "after drop_caches, $nfiles files read in $reads READs"
now=$(pcounter push.files)
[ "$now" -ge $((pushed + nfiles - 1)) ] ||
	fail "after drop_caches, pushes stayed at $now"
ok "after drop_caches: $reads READs, pushes $pushed -> $now"
xipfs_unmount "$WORK/mnt"

# 1c. With the default window and budget the reader is followed; the
# bytes are the image's (the count of READs depends on the push thread's
# CPU time, so it is not asserted here).
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$WORK/mnt" -o "stats=$STATS"
ls "$WORK/mnt/small" >/dev/null
read_all "$WORK/mnt"
xipfs_unmount "$WORK/mnt"
ok "push=on, default window: bytes equal ($(counter push.files) pushed, $(counter ops.READ) READs)"

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
start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f -o "stats=$ustats,$whole_dir" "$WORK/img.xip" "$WORK/umnt"
upid=${daemon_pid[user]}
# as_user is a function: the daemon is the child of the shell started for it
dpid=$(pgrep -n -P "$upid") && [ "$(cat "/proc/$dpid/comm")" = xipfs ] ||
	fail "no user daemon under pid $upid"
pstats=$ustats ppid=$dpid reader=as_user
read_pushed "$WORK/umnt"
pushed=$(pcounter push.files)
as_user fusermount3 -u "$WORK/umnt" || fail "user cannot unmount"
wait "$upid" || fail "user daemon failed: $(cat "$WORK/user.log")"
[ "$reads" -lt $((nfiles / 4)) ] ||
	fail "user mount: $reads READs, $pushed pushed: $(cat "$ustats")"
ok "as a normal user: $reads READs, $pushed files pushed"

# 5. Values that are no bounds are refused before anything is mounted.
expect_error "push=maybe" "$XIPFS" -f -o push=maybe "$WORK/img.xip" "$WORK/mnt"
expect_error "push_max=2M" "$XIPFS" -f -o push_max=2M "$WORK/img.xip" "$WORK/mnt"
expect_error "push_window=-1" "$XIPFS" -f -o push_window=-1 "$WORK/img.xip" "$WORK/mnt"
expect_error "push_budget=lots" "$XIPFS" -f -o push_budget=lots "$WORK/img.xip" "$WORK/mnt"
ok "bad push options refused"
