#!/bin/bash
# -o timeout=S ends only the daemon's own mount, and never one in use:
# 1. a tmpfs stacked on the mount point stays when the timer fires (the
#    daemon keeps serving, says so once, and ends once the tmpfs is gone);
# 2. a second xipfs mount stacked on it stays and serves;
# 3. SIGTERM with a mount stacked on top takes nothing but its own;
#    without one, it unmounts its own;
# 4. a process whose working directory is inside keeps the mount (the
#    kernel refuses the unmount: EBUSY), and so does a mapping of a closed
#    file; once they end, the mount ends;
# 5. the same for a normal user's mount (fusermount3 without -z).
# Nothing here waits on a clock: a directory held open keeps the timer
# off while a step sets up; then each step waits (bounded) for the
# daemon's own word that its timer fired, or for it to end.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

mkdir "$WORK/tree"
make_sample_tree "$WORK/tree"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
chmod 644 "$WORK/img.xip"
mnt=$WORK/mnt
mkdir "$mnt"

covers=0 users=""
remove_covers() {	# the stacked tmpfs mounts and what they hid
	for _ in $(seq 1 $covers); do umount -l "$mnt" 2>/dev/null || true; done
}
stop_users() {		# the processes that keep a mount in use
	for p in $users; do kill "$p" 2>/dev/null || true; done
}
cleanup_hooks="stop_users remove_covers $cleanup_hooks"

# until_said PID WORDS WHAT: up to 60 s (a bound for a loaded machine, not
# a wait) for the log to hold WORDS (a fixed string), or for the daemon
# PID to end; 0 if it said them.
until_said() {
	for _ in $(seq 1 1200); do
		grep -qF -- "$2" "$WORK/xipfs.log" && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	grep -qF -- "$2" "$WORK/xipfs.log" ||
		fail "$3: the daemon did not say '$2' (gone: $(kill -0 "$1" 2>/dev/null && echo no || echo yes)): $(cat "$WORK/xipfs.log")"
}
# daemon_ends PID WHAT: up to 60 s for PID to exit, with status 0.
daemon_ends() {
	for _ in $(seq 1 1200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$1" 2>/dev/null || fail "$2: the daemon still runs after 60 s: $(cat "$WORK/xipfs.log")"
	set +e
	wait "$1"
	st=$?
	set -e
	[ "$st" = 0 ] || fail "$2: the daemon exited with status $st: $(cat "$WORK/xipfs.log")"
}
# top_fstype MNT: the file system type of the topmost mount on MNT.
top_fstype() {
	awk -v m="$1" '$5 == m { for (i = 7; $i != "-"; i++) ; t = $(i + 1) }
		END { print t }' /proc/self/mountinfo
}
# hold MNT / let_go: a directory of the mount open on fd 4 (OPENDIR: the
# idle timer waits while anything is open).  Programs started meanwhile
# get 4<&-, or they would hold it too.
hold() { exec 4<"$1"; }
let_go() { exec 4<&-; }
# mounts_on MNT: how many mounts are stacked on MNT.
mounts_on() { awk -v m="$1" '$5 == m { n++ } END { print n + 0 }' /proc/self/mountinfo; }
cover() {	# cover MNT: a tmpfs on top, with a marker file in it
	mount -t tmpfs xipfs-test-cover "$1"
	covers=$((covers + 1))
	echo mine >"$1/marker"
}
uncover() {
	umount "$1"
	covers=$((covers - 1))
}

# ---- 1. a tmpfs stacked on the mount point survives the timer
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o timeout=1
a=$XIPFS_PID
hold "$mnt"
cover "$mnt"
let_go
until_said $a "another mount covers $mnt" "timeout under a tmpfs"
[ "$(top_fstype "$mnt")" = tmpfs ] && [ "$(cat "$mnt/marker")" = mine ] ||
	fail "the idle timer took the tmpfs stacked on its mount point"
kill -0 $a 2>/dev/null || fail "the daemon under the tmpfs ended"
uncover "$mnt"
cmp "$mnt/hello.txt" "$WORK/tree/hello.txt" || fail "the uncovered mount does not serve"
daemon_ends $a "timeout once the tmpfs is gone"
! is_mounted "$mnt" || fail "the mount stayed after the cover went and the timer fired"
ok "timeout=: a tmpfs stacked on top stays; the mount ends once it is gone"

# ---- 2. a second xipfs mount stacked on the first
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o timeout=1
a=$XIPFS_PID
hold "$mnt"
xipfs_mount "$WORK/img.xip" "$mnt" 4<&-
b=$XIPFS_PID
for _ in $(seq 1 200); do [ "$(mounts_on "$mnt")" = 2 ] && break; sleep 0.05; done
[ "$(mounts_on "$mnt")" = 2 ] || fail "the second mount did not come"
let_go
until_said $a "another mount covers $mnt" "timeout under a second xipfs"
cmp "$mnt/three-mb" "$WORK/tree/three-mb" ||
	fail "the second mount does not serve after the first one's timer fired"
XIPFS_PID=$b xipfs_unmount "$mnt"
daemon_ends $a "timeout once the second mount is gone"
! is_mounted "$mnt" || fail "a mount is left on $mnt"
ok "timeout=: a second xipfs stacked on top keeps serving"

# ---- 3. SIGTERM takes only the daemon's own mount
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt"
a=$XIPFS_PID
cover "$mnt"
kill -TERM $a
daemon_ends $a "SIGTERM under a tmpfs"
[ "$(top_fstype "$mnt")" = tmpfs ] && [ "$(cat "$mnt/marker")" = mine ] ||
	fail "SIGTERM took the tmpfs stacked on the mount point"
grep -qF "another mount covers this one" "$WORK/xipfs.log" ||
	fail "SIGTERM under a tmpfs: no word why nothing was unmounted: $(cat "$WORK/xipfs.log")"
uncover "$mnt"
umount -l "$mnt"	# ours, left disconnected
! is_mounted "$mnt" || fail "a mount is left on $mnt"
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt"
# (SIGINT takes the same path, but a shell starts background jobs with it
# ignored, and libfuse leaves an ignored signal so)
kill -TERM $XIPFS_PID
daemon_ends $XIPFS_PID "SIGTERM"
! is_mounted "$mnt" || fail "SIGTERM left the mount"
ok "SIGTERM leaves a mount stacked on top alone, and unmounts its own"

# ---- 4. in use in ways the daemon never hears of
# (a) a working directory inside: the kernel refuses, the mount stays
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o timeout=1
a=$XIPFS_PID
hold "$mnt"
(cd "$mnt/sub" && exec sleep 600) 4<&- &
sleeper=$!
users="$sleeper"
for _ in $(seq 1 200); do
	[ "$(readlink "/proc/$sleeper/cwd")" = "$mnt/sub" ] && break
	sleep 0.05
done
[ "$(readlink "/proc/$sleeper/cwd")" = "$mnt/sub" ] || fail "the sleeper did not get into $mnt/sub"
let_go
until_said $a "still in use" "timeout with a working directory inside"
is_mounted "$mnt" || fail "timeout=1 unmounted a mount with a working directory inside"
ls "/proc/$sleeper/cwd/" | grep -qx five-k ||
	fail "the working directory inside the mount cannot be listed"
kill $sleeper
wait $sleeper 2>/dev/null || true
daemon_ends $a "timeout after the working directory left"
! is_mounted "$mnt" || fail "the mount stayed after its last user left"
# (b) a mapping whose file was closed (RELEASE comes only at munmap)
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -v -o timeout=1
a=$XIPFS_PID
hold "$mnt"
python3 "$top_srcdir/tests/mount/hold_mapping.py" "$mnt/hello.txt" >"$WORK/mapped" 4<&- &
mapjob=$!
for _ in $(seq 1 200); do [ -s "$WORK/mapped" ] && break; sleep 0.05; done
read -r mapper word <"$WORK/mapped" || fail "the mapper said nothing"
users="$mapper"
let_go
until_said $a "still in use" "timeout with a mapping"
is_mounted "$mnt" || fail "timeout=1 unmounted a mount with a mapping"
[ "$word" = hello ] || fail "the mapping read '$word'"
kill $mapper
wait $mapjob 2>/dev/null || true
daemon_ends $a "timeout after the mapping went"
ok "timeout=: a working directory or a mapping inside keeps the mount"

# ---- 5. a normal user's mount: fusermount3 without -z
umnt=$WORK/umnt
mkdir "$umnt" && chown nobody "$umnt"
chmod 755 "$WORK"
: >"$WORK/xipfs.log"
# (root cannot open a user's mount to hold it: the working directory is
# taken at once, 2 s being ample for a cd after the mount is there)
as_user "$XIPFS" -f -v -o timeout=2 "$WORK/img.xip" "$umnt" 2>>"$WORK/xipfs.log" &
a=$!
mounted="$umnt $mounted"
wait_mounted "$umnt" $a || fail "the user's mount did not come: $(cat "$WORK/xipfs.log")"
# (setpriv itself, not as_user: $! must be the sleeper's own PID)
setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	sh -c 'cd "$1" && exec sleep 600' sh "$umnt" &
sleeper=$!
users="$sleeper"
until_said $a "still in use" "a user's timeout with a working directory inside"
is_mounted "$umnt" || fail "a user's timeout=1 unmounted a mount in use"
kill $sleeper
wait $sleeper 2>/dev/null || true
daemon_ends $a "a user's timeout after the working directory left"
! is_mounted "$umnt" || fail "the user's mount stayed"
ok "a user's timeout=: in use stays, then ends (fusermount3 -u)"
