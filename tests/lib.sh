# Shared helpers for the end-to-end shell tests; sourced, not run.
# Exit codes follow automake: 0 pass, 1 fail, 77 skip.  With
# XIPFS_TEST_STRICT=1 (CI) a skip is a failure, so nothing silently stops
# being tested.
# The mount, wait and cleanup helpers are scripts/lib.sh's.
set -eu

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
. "$top_srcdir/scripts/lib.sh"
: "${top_builddir:=$top_srcdir}"
: "${MKXIPFS:=$top_builddir/mkxipfs}"
: "${XIPFSCK:=$top_builddir/xipfsck}"
: "${XIPFS:=$top_builddir/xipfs}"
# The daemon catches SIGBUS on its image itself; ASan must let it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_sigbus=0:allow_user_segv_handler=1"
TREECMP="$top_srcdir/tests/treecmp.py"
# AREA/NAME, as tests/mount/tree.sh is mount/tree.
test_name=$(basename "$(dirname "$0")")/$(basename "$0" .sh)

fail() { echo "FAIL: $test_name: $*" >&2; exit 1; }
# scripts/lib.sh's helpers (start_daemon, need_cmds...) die through fail.
die() { fail "$@"; }
ok() { echo "ok: $*"; }
# problem MSG: a failure that lets the test go on to find the others;
# check_problems, at the end, fails when there was one.
problems=0
problem() { echo "FAIL: $test_name: $*" >&2; problems=$((problems + 1)); }
check_problems() { [ $problems = 0 ] || fail "$problems problem(s) above"; }

# The rest of the test needs FEATURE, which this build lacks: end here,
# having checked what the build does without it (a pass, not a skip).
# .ci/run names in XIPFS_TEST_REQUIRE the features each suite's build
# must have, so a build that silently lost one fails there instead of
# passing on this branch.
without() {
	local feature=$1; shift
	case " ${XIPFS_TEST_REQUIRE:-} " in
	*" $feature "*) fail "needs $feature (XIPFS_TEST_REQUIRE), which this build lacks: $*";;
	esac
	ok "$* (the rest needs $feature)"
	exit 0
}

skip() {
	if [ "${XIPFS_TEST_STRICT:-0}" = 1 ]; then
		echo "FAIL: $test_name: would skip in strict mode: $*" >&2
		exit 1
	fi
	echo "SKIP: $test_name: $*" >&2
	exit 77
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "needs $1"; }

# A scratch directory removed on any exit (scripts/lib.sh runs
# $cleanup_hooks); tests keep everything in it.  Under make check it is
# the one tests/run-test.sh made for this test (which checks afterwards
# that nothing stays mounted in it); a test run by hand makes its own.  A
# test that runs another (mount/io-uring.sh) must not pass it on.
if [ -n "${XIPFS_TEST_WORK:-}" ]; then
	WORK=$XIPFS_TEST_WORK
	unset XIPFS_TEST_WORK
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/xipfs-${test_name//\//-}.XXXXXX")
fi
chmod 755 "$WORK"
remove_work() { rm -rf "$WORK"; }
cleanup_hooks="remove_work"

# Run a command as an unprivileged user (the machine's "nobody").
as_user() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

# fuse_open_to USER...: libfuse opens /dev/fuse itself before it turns to
# fusermount3, so a user who mounts needs to read and write it, which most
# systems give everyone (mode 0666).  Where a USER cannot, it gets an ACL
# entry for the rest of the test, removed on exit (only the entries added
# here, so that tests running at once do not undo each other's).
fuse_acl_added=""
fuse_open_to() {
	local u
	for u in "$@"; do
		setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
			test -r /dev/fuse -a -w /dev/fuse && continue
		need_cmd setfacl
		echo "note: /dev/fuse is $(stat -c '%a %U:%G' /dev/fuse): an ACL entry added for $u"
		setfacl -m "u:$u:rw" /dev/fuse || skip "/dev/fuse is root's only and takes no ACL"
		fuse_acl_added="$fuse_acl_added $u"
	done
}
fuse_acl_remove() {
	local u
	for u in $fuse_acl_added; do
		setfacl -x "u:$u" /dev/fuse || echo "could not remove $u's entry from /dev/fuse's ACL" >&2
	done
}
cleanup_hooks="$cleanup_hooks fuse_acl_remove"

# Mounts.  xipfs_mount runs the daemon in the foreground in the background,
# so the test knows its PID ($XIPFS_PID) and its exit status; every mount is
# undone on exit, whatever happened.  The daemon's stderr goes to
# $WORK/xipfs.log.
# is_mounted asks mountinfo, not mountpoint(1): root cannot stat another
# user's FUSE mount (no allow_other), but it can see it listed.
mounted=""
unmount_all() {
	for m in $mounted; do
		is_mounted "$m" || continue
		unmount "$m" lazy || true
	done
}
cleanup_hooks="unmount_all $cleanup_hooks"

# xipfs_mount SOURCE MNT [xipfs options...]
xipfs_mount() {
	src=$1 mnt=$2; shift 2
	mounted="$mnt $mounted"
	# A record left by an earlier mount must not pass for this one's.
	case " $* " in *"stats=$STATS"*) rm -f "$STATS";; esac
	# XIPFS_MOUNT_OPTS: added to every mount (mount/io-uring.sh reruns
	# mount/tree.sh so).
	start_daemon xipfs "$WORK/xipfs.log" "$mnt" \
		"$XIPFS" -f ${XIPFS_MOUNT_OPTS:+-o "$XIPFS_MOUNT_OPTS"} "$@" "$src" "$mnt"
	XIPFS_PID=${daemon_pid[xipfs]}
}

# xipfs_unmount MNT: unmount and check the daemon exited cleanly.
xipfs_unmount() {
	unmount "$1" clean || fail "cannot unmount $1"
	set +e
	wait "$XIPFS_PID"
	st=$?
	set -e
	[ "$st" = 0 ] || fail "daemon exited with status $st: $(cat "$WORK/xipfs.log")"
}

# The daemon's counters come from its machine-readable record, never from
# the "xipfs stats" lines, which are for people: mount with
# -o stats=$STATS, then counter KEY prints one counter of the last record
# written (KEY as xipfs(1) lists them: ops.READ, read.copy_bytes...).
STATS=$WORK/stats.json
counter() { stats_get "$STATS" "$1" || fail "no counter $1 in $STATS"; }

# page_cache_drops: how many times anyone dropped the page cache since boot
# (drop_pagecache of /proc/vmstat).  Tests run two at a time and several
# drop caches: a count of requests made while the kernel should have kept
# pages or listings is void when this moved (a FORGET does not always come:
# the kernel may keep the inode and lose only its pages).
page_cache_drops() { awk '$1 == "drop_pagecache" { print $2 }' /proc/vmstat; }

# daemon_quiet [WHAT]: without -v a daemon logs nothing when all is well
# but why passthrough is off (where it cannot be had); anything else in
# $WORK/xipfs.log is a complaint, and fails the test.
daemon_quiet() {
	! grep -v -e ': passthrough off: ' "$WORK/xipfs.log" | grep -q . ||
		fail "${1:+$1: }the daemon complained: $(head -20 "$WORK/xipfs.log")"
}

# Expect a command to fail with status 1 or 2 (not a crash) and to print a
# message on stderr that names what was wrong.
expect_error() {
	pattern=$1; shift
	set +e
	"$@" >"$WORK/stdout" 2>"$WORK/err"
	st=$?
	set -e
	[ $st -ne 0 ] || fail "expected failure: $*"
	[ $st -lt 128 ] || fail "crashed ($st): $*"
	grep -q -- "$pattern" "$WORK/err" ||
		fail "message for '$*' lacks '$pattern': $(cat "$WORK/err")"
}

# A tree exercising every node type and attribute the format stores.
make_sample_tree() {
	d=$1
	mkdir -p "$d/sub/deeper" "$d/empty-dir"
	printf 'hello, xip\n' >"$d/hello.txt"
	: >"$d/empty"
	: >"$d/sub/also-empty"
	head -c 5000 /dev/urandom >"$d/sub/five-k"
	head -c 70000 /dev/urandom >"$d/sub/deeper/seventy-k"
	head -c 3000000 /dev/urandom >"$d/three-mb"
	cp "$d/sub/five-k" "$d/dup-of-five-k"	# identical contents
	ln "$d/hello.txt" "$d/sub/hardlink"
	ln "$d/hello.txt" "$d/sub/deeper/hardlink2"
	ln -s hello.txt "$d/link"
	ln -s "$(printf 'x%.0s' $(seq 1 300))" "$d/longlink"
	ln -s /nonexistent/dangling "$d/dangling"
	mkfifo "$d/fifo"
	long=$(printf 'n%.0s' $(seq 1 255))
	printf 'long name\n' >"$d/$long"
	chmod 4755 "$d/hello.txt"
	chmod 1777 "$d/empty-dir"
	chmod 640 "$d/sub/five-k"
	setfattr -n user.comment -v "made by a test" "$d/hello.txt"
	setfattr -n user.bin -v 0x00ff00ff "$d/sub"
	setfattr -n user.empty "$d/sub/five-k"
	touch -h -d '2021-02-03 04:05:06.123456789' "$d/link"
	touch -d '2020-01-01 00:00:00.5' "$d/sub/deeper/seventy-k"
	touch -d '1969-12-31 23:59:59' "$d/empty"	# before the epoch
	if [ "$(id -u)" = 0 ]; then
		mknod "$d/chr" c 5 1
		mknod "$d/blk" b 7 200
		chown 1234:5678 "$d/sub/five-k"
		chown -h 42:43 "$d/link"
		setfattr -n security.capability \
			-v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= "$d/three-mb"
		setfattr -n trusted.note -v secret "$d/empty"
		if command -v setfacl >/dev/null; then
			setfacl -m u:1000:r-x,g:100:rwx "$d/sub/deeper"
			setfacl -d -m u:1000:rwx "$d/sub/deeper"
		fi
	fi
	touch -d '2022-06-07 08:09:10.987654321' "$d/sub/deeper" "$d/sub" "$d"
}

# copy_programs TREE PROG...: each program into TREE/bin, with every
# library ldd names at its own path, so that TREE works as a root
# directory (chroot TREE /bin/ls).  Sets $loader (the dynamic loader's
# path) and $libpath (the directories of the libraries).
copy_programs() {
	local tree=$1 prog lib
	shift
	mkdir -p "$tree/bin"
	for prog in "$@"; do
		cp -L "$prog" "$tree/bin/"
		for lib in $(ldd "$prog" | awk '{for (i = 1; i <= NF; i++)
				if ($i ~ /^\//) print $i}'); do
			mkdir -p "$tree$(dirname "$lib")"
			cp -L "$lib" "$tree$lib"
		done
	done
	loader=$(ldd "$1" | awk '$1 ~ /^\// {print $1}')
	[ -n "$loader" ] && [ -f "$tree$loader" ] || fail "no dynamic loader in: $(ldd "$1")"
	libpath=$(ldd "$1" | awk '$3 ~ /^\// {print $3}' | xargs -n1 dirname | sort -u)
	[ -n "$libpath" ] || fail "ldd $1 names no library: $(ldd "$1")"
}

# Tests that switch /sys/module/fuse/parameters/enable_uring (21, 22) hold
# this lock for their whole run, so that under make -j one never flips the
# switch under the other.  Daemons they start inherit it and drop it when
# they end; the wait is bounded so a stray one cannot hang the suite.
hold_uring_switch() {
	exec 9>"${TMPDIR:-/tmp}/xipfs-tests-enable-uring.lock"
	flock -w 600 9 || fail "waited 10 minutes for the enable_uring lock"
}
