#!/bin/sh
# The main job, end to end: build the tools, make a demo tree into an XIP
# image, verify it, show its superblock and listing, mount it with the xipfs
# daemon (as whoever runs this, through fusermount3), read it and run a
# program from it, unmount, then quick benchmarks: image builders, and read
# paths against squashfuse and kernel erofs.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -s -j"$(nproc)"
work=$(mktemp -d "${TMPDIR:-/tmp}/xipfs-demo.XXXXXX")
mnt="$work/mnt"
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "== a small root file system tree"
mkdir -p "$work/tree/bin" "$work/tree/etc" "$work/tree/lib"
cp /bin/busybox "$work/tree/bin/" 2>/dev/null || cp /bin/ls "$work/tree/bin/"
cp /etc/os-release "$work/tree/etc/"
ln -s ../etc/os-release "$work/tree/lib/os-release"
printf 'hello from an XIP image\n' >"$work/tree/etc/motd"
cat >"$work/devices" <<'T'
/dev          d 755 0 0
/dev/console  c 600 0 0 5 1
/dev/null     c 666 0 0 1 3
T

echo "== mkxipfs (reproducible: SOURCE_DATE_EPOCH)"
SOURCE_DATE_EPOCH=1700000000 ./mkxipfs -v --all-root \
	--device-table "$work/devices" "$work/tree" "$work/demo.xip"
echo "== xipfsck: verify"
./xipfsck -v "$work/demo.xip"
echo "== xipfsck: superblock"
./xipfsck -s "$work/demo.xip"
echo "== xipfsck: list"
./xipfsck -l "$work/demo.xip"
echo "== extract and read a file back"
./xipfsck -q -x "$work/out" "$work/demo.xip"
cat "$work/out/etc/motd"
bin=$(ls "$work/tree/bin")
cmp "$work/tree/bin/$bin" "$work/out/bin/$bin"
echo "extracted binary is byte-identical"

echo "== mount it with xipfs (as $(id -un), owned by us for the demo)"
mkdir "$mnt"
./xipfs -o uid="$(id -u)",gid="$(id -g)" "$work/demo.xip" "$mnt"
grep " $mnt " /proc/mounts
ls -lR "$mnt"
cat "$mnt/etc/motd"
cmp "$work/tree/bin/$bin" "$mnt/bin/$bin"
echo "binary read through the mount is byte-identical; running it from the mount:"
if [ "$bin" = busybox ]; then "$mnt/bin/busybox" echo "busybox ran from the image"
else "$mnt/bin/$bin" --version | head -1; fi
stat -f "$mnt" | sed -n 3,4p
fusermount3 -u "$mnt"
echo "unmounted"

echo "== quick benchmark: image builders on 5,000 files + 64 MiB (3 runs)"
scripts/bench-mkimage.sh 5000 64 3
echo "== quick benchmark: read paths on 5,000 files + 256 MiB (3 runs)"
if [ "$(id -u)" = 0 ]; then
	BENCH_MILLION=100000 scripts/bench-read.sh 5000 256 3
else
	echo "(skipped: the read benchmark drops caches and mounts erofs, so it needs root:"
	echo " sudo BENCH_MILLION=100000 scripts/bench-read.sh 5000 256 3)"
fi
