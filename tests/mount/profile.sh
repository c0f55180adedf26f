#!/bin/bash
# -o profile=FILE: a program run from the mount (with its loader and
# libraries) and files read show up in the profile written on SIGUSR1 and
# at unmount (replaced whole, no temporary file left), what was run marked
# exec, libraries marked elf, plain files read only in comments, untouched
# files not at all; odd names come out so that mkxipfs reads them back;
# fed to mkxipfs --xip-list, the listed files come out in place and the
# rest compressed.  The same as a normal user; a profile in a directory
# that cannot be written refuses the mount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd ldd
[ -c /dev/fuse ] || skip "needs /dev/fuse"
ZIMG="$top_srcdir/tests/zimg.py"

T=$WORK/tree
copy_programs "$T" /bin/ls /bin/sh
cp /bin/true "$T/bin/odd [x]*?"		# fnmatch characters in a name
cp /bin/true "$T/#hash"			# a line that would look like a comment
mkdir "$T/data"
seq 1 5000 >"$T/data/read-me"
seq 1 6000 >"$T/data/untouched"
"$MKXIPFS" -q --compress=zstd --xip=none "$T" "$WORK/all-z.xip"
libc=$(cd "$T" && ls lib*/*/libc.so.* lib*/libc.so.* 2>/dev/null | head -1)
ld=${loader#/}
[ -n "$libc" ] || fail "no libc in the tree"
mnt=$WORK/mnt
prof=$WORK/prof/xip.list
mkdir -p "$WORK/prof"

# The paths the profile lists, and its comment lines.
listed() { grep -v '^[[:space:]]*#' "$1" | grep . || true; }
wait_profile() {	# wait_profile FILE WORD: until its header says WORD
	for _ in $(seq 1 100); do
		grep -q "^# xipfs profile of .*, written $2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no profile written $2: $(cat "$WORK/xipfs.log")"
}
check_profile() {	# check_profile FILE WHEN
	listed "$1" >"$WORK/listed"
	for want in bin/ls "$ld" "$libc" 'bin/odd \[x]\*\?' '/#hash'; do
		grep -qxF -- "$want" "$WORK/listed" || fail "$2: $want not listed: $(cat "$1")"
	done
	for no in bin/sh data/read-me data/untouched; do
		! grep -qF -- "$no" "$WORK/listed" || fail "$2: $no listed: $(cat "$1")"
	done
	grep -B1 -xF bin/ls "$1" | head -1 | grep -q '^# exec elf read=[1-9]' ||
		fail "$2: bin/ls not marked exec elf: $(cat "$1")"
	grep -B1 -xF "$libc" "$1" | head -1 | grep -q '^# elf read=[1-9]' ||
		fail "$2: $libc not marked elf (read, not run): $(cat "$1")"
	grep -q '^# read=[1-9][0-9]*, not ELF: data/read-me$' "$1" ||
		fail "$2: data/read-me not in a comment: $(cat "$1")"
	! grep -q 'untouched' "$1" || fail "$2: data/untouched is in the profile"
	[ -z "$(find "$(dirname "$1")" -name "$(basename "$1").*")" ] ||
		fail "$2: a temporary file was left: $(ls "$(dirname "$1")")"
}
use_mount() {	# run programs and read a file from the mount at $1
	out=$(chroot "$1" /bin/ls /data)
	[ "$out" = "$(printf 'read-me\nuntouched')" ] || fail "chroot ls printed: $out"
	chroot "$1" "/bin/odd [x]*?" || fail "cannot run 'odd [x]*?'"
	chroot "$1" "/#hash" || fail "cannot run '#hash'"
	cmp "$T/data/read-me" "$1/data/read-me" || fail "read-me reads wrong"
}

: >"$WORK/xipfs.log"
xipfs_mount "$WORK/all-z.xip" "$mnt" -o "profile=$prof"
use_mount "$mnt"
kill -USR1 "$XIPFS_PID"
wait_profile "$prof" "on SIGUSR1"
check_profile "$prof" SIGUSR1
ok "SIGUSR1: profile lists $(listed "$prof" | wc -l) files: $(listed "$prof" | paste -sd ' ')"
xipfs_unmount "$mnt"
wait_profile "$prof" "at unmount"
check_profile "$prof" unmount
ok "unmount: the profile is written again, whole"

# Fed back to mkxipfs: exactly the listed files stay in place.
"$MKXIPFS" -q --compress=zstd --xip=none --xip-list="$prof" "$T" "$WORK/guided.xip" ||
	fail "mkxipfs --xip-list does not take the profile"
for f in /bin/ls "/$ld" "/$libc" "/bin/odd [x]*?" "/#hash"; do
	[ "$(python3 "$ZIMG" "$WORK/guided.xip" storage "$f" | sed 's/.* //')" = xip ] ||
		fail "--xip-list: $f is not in place: $(python3 "$ZIMG" "$WORK/guided.xip" storage "$f")"
done
for f in /bin/sh /data/read-me /data/untouched; do
	[ "$(python3 "$ZIMG" "$WORK/guided.xip" storage "$f" | sed 's/.* //')" = zstd ] ||
		fail "--xip-list: $f is not compressed"
done
xipfs_mount "$WORK/guided.xip" "$mnt"
use_mount "$mnt"
xipfs_unmount "$mnt"
ok "mkxipfs --xip-list=PROFILE: the listed files in place, the rest zstd; the programs run"

# A normal user's mount, with a profile in a directory of the user's.
fuse_open_to nobody
um=$WORK/user-mnt up=$WORK/user-prof
mkdir "$um" "$up"
chown nobody "$um" "$up"
mounted="$um $mounted"
start_daemon user "$WORK/xipfs.log" "$um" as_user "$XIPFS" -f -o "profile=$up/p.list" "$WORK/all-z.xip" "$um"
upid=${daemon_pid[user]}
as_user cat "$um/data/read-me" >/dev/null
as_user "$um$loader" --library-path "$(for d in $libpath; do printf '%s:' "$um$d"; done)" "$um/bin/ls" "$um/data" >/dev/null ||
	fail "nobody cannot run ls from the mount"
as_user fusermount3 -u "$um" || fail "nobody cannot unmount"
wait "$upid" || fail "nobody's daemon exited $?"
wait_profile "$up/p.list" "at unmount"
[ "$(stat -c %U "$up/p.list")" = nobody ] || fail "the user's profile is $(stat -c %U "$up/p.list")'s"
listed "$up/p.list" | grep -qxF "$libc" || fail "user: $libc not listed: $(cat "$up/p.list")"
listed "$up/p.list" | grep -qxF bin/ls || fail "user: bin/ls not listed: $(cat "$up/p.list")"
grep -q '^# read=[1-9][0-9]*, not ELF: data/read-me$' "$up/p.list" || fail "user: read-me: $(cat "$up/p.list")"
ok "a normal user's mount writes its profile: $(listed "$up/p.list" | wc -l) files listed"

# Where the profile cannot be written, the mount is refused at once.
expect_error "profile=/nonexistent/x.list: its directory cannot be opened" \
	"$XIPFS" -f -o profile=/nonexistent/x.list "$WORK/all-z.xip" "$mnt"
expect_error "profile=$WORK/prof: not a regular file" \
	"$XIPFS" -f -o "profile=$WORK/prof" "$WORK/all-z.xip" "$mnt"
expect_error "profile= and passthrough=on" \
	"$XIPFS" -f -o "profile=$prof,passthrough=on" "$WORK/all-z.xip" "$mnt"
ok "unwritable profile, a directory as the profile, and profile with passthrough=on are refused"
