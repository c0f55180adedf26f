#!/bin/bash
# Every kind of source the daemon takes: a window inside a bigger file
# (offset=/size=, and phys= through the same code on a file), a loop block
# device, mount(8) -t fuse.xipfs and an fstab line through mount.fuse3.  Then
# every way a source or a command line can be wrong: a one-line message that
# starts with "xipfs: " and names the source, exit status 1, nothing mounted.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd losetup
need_cmd mount.fuse3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

# Problems are collected, so that one run reports all of them.

T=$WORK/tree
mkdir -p "$T/sub/deeper" "$T/empty-dir"
printf 'hello, xip\n' >"$T/hello.txt"
: >"$T/empty"
head -c 5000 /dev/urandom >"$T/sub/five-k"
head -c 70001 /dev/urandom >"$T/sub/deeper/seventy-k"
head -c 3000000 /dev/urandom >"$T/big"
ln -s hello.txt "$T/link"
"$MKXIPFS" -q "$T" "$WORK/img.xip"
IMG=$WORK/img.xip
isz=$(stat -c %s "$IMG")

# Compare what a mount shows with the tree: bytes of every file, a symlink,
# the listings, and the size statfs reports (the image's, not the window's).
compare_mount() {
	m=$1 what=$2
	for f in hello.txt empty sub/five-k sub/deeper/seventy-k big; do
		cmp -s "$T/$f" "$m/$f" || fail "$what: $f differs"
	done
	[ "$(readlink "$m/link")" = hello.txt ] || fail "$what: symlink target"
	[ "$(cd "$T" && find . | sort)" = "$(cd "$m" && find . | sort)" ] ||
		fail "$what: listing differs"
	fs=$(stat -f -c '%b %S' "$m")
	[ $(( ${fs% *} * ${fs#* } )) = "$isz" ] ||
		fail "$what: statfs says ${fs% *} blocks of ${fs#* }, image is $isz bytes"
}

# Reads that bypass the page cache: the kernel asks for up to 1 MiB at once
# and cannot fall back to single pages when a large read fails.
direct_check() {
	m=$1 what=$2
	for f in big sub/deeper/seventy-k; do
		dd if="$m/$f" bs=1M iflag=direct status=none 2>"$WORK/dd.err" |
			cmp -s - "$T/$f" ||
			problem "$what: $f differs when read with O_DIRECT: $(cat "$WORK/dd.err")"
	done
}

# The source column of /proc/mounts: the absolute path of the source.
mounted_from() {
	awk -v m="$1" '$2 == m { print $1 " " $3 }' /proc/self/mounts
}

head -c 200000 /dev/urandom >"$WORK/random.bin"

# --- (a) an image inside a bigger file -----------------------------------
WIN=$WORK/window.bin
{ head -c 1048576 /dev/urandom; cat "$IMG"; head -c 300544 /dev/urandom; } >"$WIN"
M=$WORK/mnt
xipfs_mount "$WIN" "$M" -o offset=1M,size=$isz
compare_mount "$M" "offset=1M,size=$isz"
direct_check "$M" "offset=1M,size=$isz"
[ "$(mounted_from "$M")" = "$WIN fuse.xipfs" ] ||
	fail "/proc/mounts: $(mounted_from "$M")"
xipfs_unmount "$M"
ok "offset=1M,size=$isz inside a file with junk on both sides"

# Without size= the window runs to the end: trailing junk is accepted, since
# the superblock says where the image ends.
xipfs_mount "$WIN" "$M" -o offset=1048576
compare_mount "$M" "offset=1048576"
xipfs_unmount "$M"
ok "offset=1048576 without size=: trailing junk ignored"

# phys= is offset= for /dev/mem; on a file it runs the same code.
xipfs_mount "$WIN" "$M" -o phys=0x100000,size=$isz
compare_mount "$M" "phys=0x100000"
xipfs_unmount "$M"
ok "phys=0x100000,size=$isz on a file"

# A window that does not start on a page boundary, read by copy and by
# splice (whose file position must add the window's offset).
ODD=$WORK/odd.bin
{ head -c 12345 /dev/urandom; cat "$IMG"; head -c 777 /dev/urandom; } >"$ODD"
for mode in copy splice; do
	xipfs_mount "$ODD" "$M" -o offset=12345,read=$mode
	compare_mount "$M" "offset=12345,read=$mode"
	direct_check "$M" "offset=12345,read=$mode"
	xipfs_unmount "$M"
done
ok "offset=12345 (not page-aligned), read=copy and read=splice"

# --- (b) a loop block device ---------------------------------------------
loops=""
detach_loops() { for l in $loops; do losetup -d "$l"; done; }
cleanup_hooks="$cleanup_hooks detach_loops"
LOOP=$(losetup -f --show -r "$IMG") || skip "no loop device available"
loops="$LOOP $loops"
[ "$(blockdev --getsize64 "$LOOP")" = "$isz" ] || fail "loop device size"
for mode in copy splice; do
	xipfs_mount "$LOOP" "$M" -o read=$mode
	compare_mount "$M" "loop device, read=$mode"
	direct_check "$M" "loop device, read=$mode"
	[ "$(mounted_from "$M")" = "$LOOP fuse.xipfs" ] ||
		fail "/proc/mounts: $(mounted_from "$M")"
	xipfs_unmount "$M"
done
LOOPW=$(losetup -f --show -r "$WIN")
loops="$LOOPW $loops"
xipfs_mount "$LOOPW" "$M" -o offset=1M
compare_mount "$M" "loop device of the window file, offset=1M"
xipfs_unmount "$M"
losetup -d "$LOOPW"
loops=$LOOP
ok "loop block device, whole and with offset="

# --- (c) mount(8) and fstab ----------------------------------------------
# mount.fuse3 starts "xipfs" through /bin/sh -c, and mount(8) drops PATH
# from the environment first, so the shell's default PATH applies; putting
# the build directory first in PATH is not enough.  In a private mount
# namespace, /usr/local/sbin (first in that default PATH) is replaced by a
# directory holding only "xipfs", without touching the machine.  mount.fuse3
# lets the daemon fork into the background; it is found through the mount
# point only this test uses, to see that it ends after umount.
daemon_of() {
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "^xipfs .* $1 " &&
			echo "${p#/proc/}"
	done
	true
}
[ "$(env -i /bin/sh -c 'echo "${PATH%%:*}"')" = /usr/local/sbin ] ||
	skip "/bin/sh's default PATH does not start with /usr/local/sbin"
need_cmd unshare
mkdir -p "$WORK/sbin"
ln -s "$XIPFS" "$WORK/sbin/xipfs"
M2=$WORK/mnt2
mkdir -p "$M2"
printf '%s %s fuse.xipfs ro,phys=0x100000,size=%s,noauto 0 0\n' \
	"$WIN" "$M2" "$isz" >"$WORK/fstab"
# libmount takes offset= on a regular file for itself: it sets up a loop
# device at that offset and hands xipfs the loop device (and size=).
printf '%s %s fuse.xipfs ro,offset=1M,size=%s,noauto 0 0\n' \
	"$WIN" "$M2" "$isz" >"$WORK/fstab2"
export T IMG WIN M2 WORK isz test_name
export -f fail compare_mount mounted_from daemon_of wait_gone
unshare -m --propagation private bash -c '
	set -eu
	trap "umount -l \"\$M2\" 2>/dev/null || true" EXIT
	mount --bind "$WORK/sbin" /usr/local/sbin
	mount -t fuse.xipfs "$IMG" "$M2" -o ro ||
		fail "mount -t fuse.xipfs failed"
	mountpoint -q "$M2" || fail "mount -t fuse.xipfs: nothing mounted"
	compare_mount "$M2" "mount -t fuse.xipfs"
	[ "$(mounted_from "$M2")" = "$IMG fuse.xipfs" ] ||
		fail "/proc/mounts: $(mounted_from "$M2")"
	grep -q " $M2 fuse.xipfs ro," /proc/self/mounts ||
		fail "not mounted ro: $(grep " $M2 " /proc/self/mounts)"
	pid=$(daemon_of "$M2")
	[ -n "$pid" ] || fail "no daemon process for $M2"
	umount "$M2" || fail "umount $M2"
	wait_gone "$pid" || fail "daemon $pid still running 10 s after umount"
	! mountpoint -q "$M2" || fail "$M2 still mounted"
	echo "ok: mount -t fuse.xipfs IMG MNT -o ro; umount"

	# The daemon'"'"'s message reaches the user of mount(8).
	if mount -t fuse.xipfs "$WORK/random.bin" "$M2" -o ro 2>"$WORK/mount.err"; then
		fail "mount -t fuse.xipfs of random bytes succeeded"
	fi
	grep -q "^xipfs: $WORK/random.bin: not an xipfs image" "$WORK/mount.err" ||
		fail "mount(8) of random bytes: $(cat "$WORK/mount.err")"
	! mountpoint -q "$M2" || fail "$M2 mounted after a failed mount"
	echo "ok: mount -t fuse.xipfs of a non-image fails with the daemon'"'"'s message"

	mount -T "$WORK/fstab" "$M2" || fail "mount -T $WORK/fstab $M2 failed"
	compare_mount "$M2" "fstab line"
	[ "$(mounted_from "$M2")" = "$WIN fuse.xipfs" ] ||
		fail "/proc/mounts: $(mounted_from "$M2")"
	pid=$(daemon_of "$M2")
	[ -n "$pid" ] || fail "no daemon process for $M2"
	umount "$M2" || fail "umount $M2"
	wait_gone "$pid" || fail "daemon $pid still running 10 s after umount"
	echo "ok: fstab line with phys=,size= on a file through mount -T"

	mount -T "$WORK/fstab2" "$M2" || fail "mount -T $WORK/fstab2 $M2 failed"
	compare_mount "$M2" "fstab line with offset="
	from=$(mounted_from "$M2" | cut -d" " -f1)
	pid=$(daemon_of "$M2")
	[ -n "$pid" ] || fail "no daemon process for $M2"
	umount "$M2" || fail "umount $M2"
	wait_gone "$pid" || fail "daemon $pid still running 10 s after umount"
	echo "ok: fstab line with offset=,size= (mounted from $from)"
' || fail "mount(8) checks failed"

# --- (d) what must be refused --------------------------------------------
# bad_source PATTERN NAMES CMD...: status 1, one line on stderr that starts
# with "xipfs: " and contains PATTERN and NAMES, nothing on the mount point.
E=$WORK/emnt
mkdir -p "$E"
mounted="$E $mounted"
bad_source() {
	pattern=$1 names=$2; shift 2
	set +e
	"$@" >"$WORK/stdout" 2>"$WORK/err"
	st=$?
	set -e
	msg=$(cat "$WORK/err")
	if mountpoint -q "$E"; then
		umount -l "$E"
		problem "'$*' mounted something"
	fi
	[ $st = 1 ] || { problem "'$*': status $st, want 1 ($msg)"; return 0; }
	# One line; a usage error may add the usual pointer to --help.
	grep -v "^Try 'xipfs --help' for more information\.\$" "$WORK/err" >"$WORK/err1" || true
	[ "$(wc -l <"$WORK/err1")" = 1 ] || problem "'$*': not one line: $msg"
	case $msg in
	"xipfs: "*) ;;
	"fuse: "*) [ -n "${libfuse_ok:-}" ] ||
		problem "'$*': message does not start with 'xipfs: ': $msg" ;;
	*) problem "'$*': message does not start with 'xipfs: ': $msg" ;;
	esac
	case $msg in
	*"$pattern"*) ;;
	*) problem "'$*': message lacks '$pattern': $msg" ;;
	esac
	case $msg in
	*"$names"*) ;;
	*) problem "'$*': message does not name '$names': $msg" ;;
	esac
}

bad_source "not an xipfs image" "$WORK/random.bin" "$XIPFS" "$WORK/random.bin" "$E"
head -c $((isz / 2)) "$IMG" >"$WORK/half.xip"
bad_source "truncated" "$WORK/half.xip" "$XIPFS" "$WORK/half.xip" "$E"
head -c 100 "$IMG" >"$WORK/tiny.xip"
bad_source "truncated" "$WORK/tiny.xip" "$XIPFS" "$WORK/tiny.xip" "$E"
# The same truncation seen through a window that ends too early.
bad_source "truncated" "$WIN" "$XIPFS" -o offset=1M,size=$((isz - 4096)) "$WIN" "$E"

# Superblock fields patched, checksums fixed, so the field is what is wrong.
patch_sb() {	# patch_sb OUT FIELD VALUE
	cp "$IMG" "$1"
	python3 "$top_srcdir/tests/xipimg.py" "$1" set-sb "$2" "$3"
}
patch_sb "$WORK/v2.xip" version_major 2
bad_source "version" "$WORK/v2.xip" "$XIPFS" "$WORK/v2.xip" "$E"
patch_sb "$WORK/incompat.xip" incompat 0x80000000
bad_source "incompatible feature" "$WORK/incompat.xip" "$XIPFS" "$WORK/incompat.xip" "$E"
cp "$IMG" "$WORK/badcrc.xip"
# Flip bits of a build-time byte (writing a fixed value could leave it as is).
python3 "$top_srcdir/tests/xipimg.py" "$WORK/badcrc.xip" flip 72
bad_source "checksum" "$WORK/badcrc.xip" "$XIPFS" "$WORK/badcrc.xip" "$E"

wsz=$(stat -c %s "$WIN")
bad_source "outside the source" "$IMG" "$XIPFS" -o offset=$((isz + 4096)) "$IMG" "$E"
bad_source "outside the source" "$IMG" "$XIPFS" -o size=$((isz + 1)) "$IMG" "$E"
bad_source "outside the source" "$WIN" "$XIPFS" -o offset=1M,size=$wsz "$WIN" "$E"
bad_source "outside the source" "$IMG" "$XIPFS" -o offset=0xffffffffffffffff,size=4096 "$IMG" "$E"
bad_source "outside the source" "$IMG" "$XIPFS" -o offset=4096,size=0xfffffffffffff000 "$IMG" "$E"
bad_source "outside the source" "$LOOP" "$XIPFS" -o offset=$((isz + 4096)) "$LOOP" "$E"
bad_source "empty source" "$IMG" "$XIPFS" -o offset=$isz "$IMG" "$E"
ok "windows outside the source refused"

# Option errors name the option (there may be no source yet).
bad_source "not a byte count" "offset=abc" "$XIPFS" -o offset=abc "$IMG" "$E"
bad_source "not a byte count" "offset=-1" "$XIPFS" -o offset=-1 "$IMG" "$E"
bad_source "not a byte count" "size=12Q" "$XIPFS" -o size=12Q "$IMG" "$E"
bad_source "not a byte count" "offset=99999999999999999999" "$XIPFS" -o offset=99999999999999999999 "$IMG" "$E"
bad_source "needs size=" "phys=" "$XIPFS" -o phys=0x100000 "$IMG" "$E"
bad_source "empty window" "size=0" "$XIPFS" -o size=0 "$IMG" "$E"
bad_source "expected copy or splice" "read=bogus" "$XIPFS" -o read=bogus "$IMG" "$E"
bad_source "both give the start" "phys=" "$XIPFS" -o phys=0x100000,offset=0,size=4096 "$IMG" "$E"
bad_source "negative" "timeout" "$XIPFS" -o entry_timeout=-1 "$IMG" "$E"
# Options libfuse parses are refused by libfuse, in its own words.
libfuse_ok=1
bad_source "uid=abc" "uid=abc" "$XIPFS" -o uid=abc "$IMG" "$E"
bad_source "umask=999" "umask=999" "$XIPFS" -o umask=999 "$IMG" "$E"
bad_source "unknown option" "bogus" "$XIPFS" -o bogus "$IMG" "$E"
bad_source "invalid argument" "extra" "$XIPFS" "$IMG" "$E" extra
libfuse_ok=

mkdir "$WORK/a-dir"
bad_source "not a regular file" "$WORK/a-dir" "$XIPFS" "$WORK/a-dir" "$E"
mkfifo "$WORK/a-fifo"
bad_source "not a regular file" "$WORK/a-fifo" timeout 10 "$XIPFS" "$WORK/a-fifo" "$E"
bad_source "No such file" "$WORK/missing.xip" "$XIPFS" "$WORK/missing.xip" "$E"
bad_source "needs an explicit size" /dev/zero "$XIPFS" /dev/zero "$E"
bad_source "not an xipfs image" /dev/zero "$XIPFS" -o size=1M /dev/zero "$E"

# A root-only image is not readable by nobody, on a mount point nobody owns.
cp "$IMG" "$WORK/private.xip"
chmod 600 "$WORK/private.xip"
mkdir "$WORK/nobody-mnt"
chown nobody "$WORK/nobody-mnt"
mounted="$WORK/nobody-mnt $mounted"
E_SAVE=$E E=$WORK/nobody-mnt
bad_source "Permission denied" "$WORK/private.xip" as_user "$XIPFS" "$WORK/private.xip" "$E"
E=$E_SAVE

# Mount point problems.
bad_source "no mount point" "" "$XIPFS" "$IMG"
bad_source "No such file" "$WORK/no-such-dir" "$XIPFS" "$IMG" "$WORK/no-such-dir"
bad_source "no source" "" "$XIPFS"
# phys= with one path: that path is the mount point and /dev/mem the
# source, which this machine may not have or may not let us map.
bad_source "" "/dev/mem" "$XIPFS" -o phys=0x100000,size=4096 "$E"
ok "bad sources and command lines checked"

# Help and version go to stdout with status 0.
"$XIPFS" --help >"$WORK/help" 2>&1 || fail "--help: status $?"
grep -q '^usage: xipfs ' "$WORK/help" || fail "--help: no usage: $(head -3 "$WORK/help")"
grep -q 'offset=N' "$WORK/help" || fail "--help does not list offset="
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' "$top_builddir/config.h")
"$XIPFS" --version >"$WORK/version" 2>&1 || fail "--version: status $?"
grep -qx "xipfs $version" "$WORK/version" ||
	fail "--version: want 'xipfs $version': $(cat "$WORK/version")"
ok "--help and --version"

check_problems
