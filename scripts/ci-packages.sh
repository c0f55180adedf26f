#!/bin/bash
# The Debian packages, end to end (a stage of .ci/run; run as root): build
# them with dpkg-buildpackage from a clean copy of HEAD (the top tree may be
# configured, and must not be disturbed), lint them (an error fails), install
# them on this machine, then use the installed files only: mkfs.xipfs and
# mkfs -t xipfs build an image, "mount -t fuse.xipfs" and an fstab line
# (through mount -T) mount it with /usr/bin/xipfs, a file reads back, umount
# ends the daemon, fsck.xipfs says 0 for the image and 4 for a damaged copy,
# and a program builds against libxipfs-dev with pkg-config.
# The packages stay installed; the test suite never uses them (it runs the
# build tree's programs, named in its environment).
# Usage: scripts/ci-packages.sh [DIR]   (DIR keeps the .deb files and logs)
set -eu
. "$(dirname "$0")/lib.sh"
cd "$top"
[ "$(id -u)" = 0 ] || die "run as root: it installs the packages"

work=$(mktemp -d /tmp/xipfs-pkg.XXXXXX)
chmod 755 "$work"
mnt=$work/mnt
pkg_cleanup() {
	! is_mounted "$mnt" || unmount "$mnt"
	rm -rf "$work"
}
cleanup_hooks="pkg_cleanup"
out=${1:-$work/out}
mkdir -p "$out"

echo "== build: dpkg-buildpackage -us -uc -b in a copy of HEAD"
mkdir "$work/src"
git -C "$top" archive --format=tar --prefix=xipfs/ HEAD | tar -x -C "$work/src"
src=$work/src/xipfs
export DEBIAN_FRONTEND=noninteractive
(cd "$src" && apt-get build-dep -y -qq ./ >"$out/build-dep.log" 2>&1) ||
	die "apt-get build-dep: $(tail -20 "$out/build-dep.log")"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
	die "dpkg-buildpackage failed: $(tail -40 "$out/build.log")"
grep -E '^(PASS|FAIL|ERROR|# TOTAL)' "$out/build.log" || true
cp "$work/src"/*.deb "$work/src"/*.changes "$work/src"/*.buildinfo "$out/"
ls -l "$out"/*.deb

echo "== lintian"
(cd "$out" && lintian --fail-on error --display-info xipfs_*.changes) ||
	die "lintian found errors"

echo "== install"
# --reinstall: a machine that kept an earlier build of the same version
# gets this one.
(cd "$out" && apt-get install -y -qq --reinstall \
	./xipfs_*.deb ./libxipfs1_*.deb ./libxipfs-dev_*.deb) >"$out/install.log" 2>&1 ||
	die "apt-get install: $(tail -20 "$out/install.log")"
for f in /usr/bin/xipfs /usr/bin/mkxipfs /usr/bin/xipfsck /usr/bin/xipfs-map \
	/usr/bin/xipbench /usr/sbin/mkfs.xipfs /usr/sbin/fsck.xipfs; do
	[ -x "$f" ] || die "$f not installed"
done

echo "== the installed files"
# Nothing from a build tree: a plain PATH and none of the tests' variables.
unset MKXIPFS XIPFSCK XIPFS XIPFS_MAP XIPBENCH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
tree=$work/tree
mkdir -p "$tree/sub" "$mnt"
printf 'hello from the package\n' >"$tree/hello"
head -c 300000 /dev/urandom >"$tree/sub/data"
img=$work/img.xip
mkfs.xipfs -q "$tree" "$img" || die "mkfs.xipfs failed"
mkfs -t xipfs -q "$tree" "$work/img2.xip" || die "mkfs -t xipfs failed"
fsck -t xipfs "$work/img2.xip" || die "fsck -t xipfs: status $?"

# The daemon mount.fuse3 started for MNT (through sh -c "xipfs IMG MNT ...").
daemon_pid() {
	for p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "^xipfs .* $1 " &&
			{ echo "${p#/proc/}"; return 0; }
	done
	return 1
}
check_mount() {
	cmp -s "$mnt/hello" "$tree/hello" && cmp -s "$mnt/sub/data" "$tree/sub/data" ||
		die "$1: files read back differ"
	grep -q " $mnt fuse.xipfs ro," /proc/self/mounts || die "$1: not fuse.xipfs ro"
	pid=$(daemon_pid "$mnt") || die "$1: no daemon for $mnt"
	exe=$(readlink "/proc/$pid/exe")
	[ "$exe" = /usr/bin/xipfs ] || die "$1: the daemon is $exe"
	umount "$mnt" || die "$1: umount failed"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || die "$1: daemon $pid still runs 10 s after umount"
	echo "ok: $1: read back, served by /usr/bin/xipfs, unmounted"
}
mount -t fuse.xipfs "$img" "$mnt" -o ro || die "mount -t fuse.xipfs failed"
check_mount "mount -t fuse.xipfs IMG DIR -o ro"
printf '%s %s fuse.xipfs ro,noauto 0 0\n' "$img" "$mnt" >"$work/fstab"
mount -T "$work/fstab" "$mnt" || die "mount of an fstab line failed"
check_mount "fstab line"

fsck.xipfs "$img" || die "fsck.xipfs of a clean image: status $?"
cp "$img" "$work/bad.xip"
printf '\377' | dd of="$work/bad.xip" bs=1 seek=300 conv=notrunc status=none
set +e
fsck.xipfs -y "$work/bad.xip" 2>"$work/fsck.err"
st=$?
set -e
[ "$st" = 4 ] || die "fsck.xipfs of a damaged image: status $st, want 4"
echo "ok: fsck.xipfs: clean 0, damaged 4 ($(head -1 "$work/fsck.err"))"

cat >"$work/prog.c" <<'EOF'
#include <stdio.h>
#include <xipfs/xipfs.h>

int main(void)
{
	puts(xipfs_strerror(-XIPFS_ECRC));
	return 0;
}
EOF
cc -Wall -Werror -o "$work/prog" "$work/prog.c" $(pkg-config --cflags --libs libxipfs) ||
	die "a program does not build with pkg-config libxipfs"
ldd "$work/prog" | grep -Eq 'libxipfs.so.1 => /(usr/)?lib/' || die "prog: $(ldd "$work/prog")"
"$work/prog" >/dev/null || die "prog did not run"
echo "ok: libxipfs-dev: pkg-config --cflags --libs libxipfs builds a program"
echo "ci-packages: all checks passed"
