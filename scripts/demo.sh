#!/bin/bash
# The main job, end to end: build the tools if needed; make an XIP image of
# a tree every Debian machine has (/usr/share/doc, plus a program in bin/, a
# motd, a symbolic link, device nodes from a table and a 64 MiB file); verify
# it, show its superblock and the head of its listing, extract it; mount it
# with the xipfs daemon as whoever runs this (through fusermount3), list and
# read it and run the program from it; then a short xipbench comparison
# (cold caches, 3 runs, interleaved) of that mount against a read=copy
# mount, squashfuse on an uncompressed squashfs of the same tree, and the
# tree itself; print the table and unmount.
#
# The table, the JSON and the chart are kept in ./demo-out/ (or $DEMO_OUT).
# Everything else lives in a temporary directory under $TMPDIR (/tmp), about
# 3 x the size of /usr/share/doc + 64 MiB at the peak, removed on exit.
# Whatever was mounted is unmounted on exit, on error and on Ctrl-C.
# Needs what scripts/install-deps.sh installs; squashfuse and gnuplot are
# optional (the comparison and the chart do without them).
set -eu
prog=demo
. "$(dirname "$0")/lib.sh"
configure_tree -q
make -s -j"$(nproc)"
need_built ./xipfs ./mkxipfs ./xipfsck ./xipbench
need_cmds fusermount3

out=${DEMO_OUT:-$top/demo-out}
work=$(mktemp -d "${TMPDIR:-/tmp}/xipfs-demo.XXXXXX")
tree=$work/tree
mnt=$work/mnt/xipfs
mnt_copy=$work/mnt/xipfs_copy
mnt_sq=$work/mnt/squashfuse

# Unmount whatever of ours is still mounted (is_mounted asks mountinfo, so
# a hung daemon cannot hang us).  The daemons end by themselves once their
# mount is gone, so no process is ever killed here.
unmount_all() {
	for m in "$mnt_sq" "$mnt_copy" "$mnt"; do
		is_mounted "$m" || continue
		unmount "$m" || say "could not unmount $m"
	done
}
demo_cleanup() {
	unmount_all
	rm -rf --one-file-system "$work"
}
cleanup_hooks="demo_cleanup"

# Mount with the xipfs daemon; on failure say the likely reason.
mount_xipfs() {
	mkdir -p "$2"
	./xipfs -o "uid=$(id -u),gid=$(id -g)${3:+,$3}" "$1" "$2" && return 0
	say "mounting $1 on $2 as $(id -un) failed."
	if [ "$(id -u)" != 0 ] && ! { [ -r /dev/fuse ] && [ -w /dev/fuse ]; }; then
		cat >&2 <<-EOF
		demo: /dev/fuse is mode 0$(stat -c %a /dev/fuse) here, closed to $(id -un): a user
		      mount needs it open to all (0666, Debian's default).  Either
		      'sudo chmod 0666 /dev/fuse' (until the next boot), or run the
		      demo as root: sudo scripts/demo.sh
		EOF
	else
		echo "demo: check that fusermount3 is installed setuid root" \
			"($(ls -l "$(command -v fusermount3)"))" \
			"and that the FUSE module is loaded (modprobe fuse)." >&2
	fi
	exit 1
}

echo "== a demo tree: /usr/share/doc, a program, a motd, a link, a 64 MiB file"
mkdir -p "$tree/bin" "$tree/etc" "$tree/lib" "$tree/usr/share"
# -R copies symbolic links as links; unreadable corners are left out.
cp -R /usr/share/doc "$tree/usr/share/" 2>/dev/null ||
	echo "(some of /usr/share/doc could not be copied; going on without it)"
cp /bin/busybox "$tree/bin/" 2>/dev/null || cp /bin/ls "$tree/bin/"
cp /etc/os-release "$tree/etc/"
ln -s ../etc/os-release "$tree/lib/os-release"
printf 'hello from an XIP image\n' >"$tree/etc/motd"
head -c 64M /dev/urandom >"$tree/big"
cat >"$work/devices" <<'T'
/dev          d 755 0 0
/dev/console  c 600 0 0 5 1
/dev/null     c 666 0 0 1 3
T
echo "$(find "$tree" | wc -l) entries, $(du -sh "$tree" | cut -f1) in $tree"

echo "== mkxipfs (reproducible: SOURCE_DATE_EPOCH)"
SOURCE_DATE_EPOCH=1700000000 ./mkxipfs --all-root \
	--device-table "$work/devices" "$tree" "$work/demo.xip"
ls -l "$work/demo.xip"
echo "== xipfsck: verify"
./xipfsck -v "$work/demo.xip"
echo "== xipfsck: superblock"
./xipfsck -s "$work/demo.xip"
echo "== xipfsck: list (the first 15 of $(./xipfsck -l "$work/demo.xip" | wc -l) lines)"
./xipfsck -l "$work/demo.xip" | head -15
echo "== extract and read files back"
./xipfsck -q -x "$work/out" "$work/demo.xip"
cat "$work/out/etc/motd"
bin=$(ls "$tree/bin")
cmp "$tree/bin/$bin" "$work/out/bin/$bin"
cmp "$tree/big" "$work/out/big"
echo "extracted bin/$bin and big are byte-identical"
rm -rf "$work/out"

echo "== mount it with xipfs (as $(id -un), owned by us for the demo)"
mount_xipfs "$work/demo.xip" "$mnt"
awk -v m="$mnt" '{ gsub(/\\040/, " ", $2) } $2 == m' /proc/mounts
ls -l "$mnt" "$mnt/bin" "$mnt/dev" "$mnt/lib"
echo "$mnt/usr/share/doc: $(ls "$mnt/usr/share/doc" | wc -l) packages," \
	"$(find "$mnt" | wc -l) entries in the mount; the first few:"
ls "$mnt/usr/share/doc" | head -5
cat "$mnt/etc/motd"
for f in base-files dpkg coreutils; do
	f=usr/share/doc/$f/copyright
	[ -f "$mnt/$f" ] || continue
	echo "-- head -3 $f"; head -3 "$mnt/$f"; break
done
cmp "$tree/bin/$bin" "$mnt/bin/$bin"
cmp "$tree/big" "$mnt/big"
diff -r --no-dereference "$tree/usr" "$mnt/usr"
echo "bin/$bin, big and all of usr/ read back through the mount byte-identical;"
echo "running bin/$bin from the mount:"
if [ "$bin" = busybox ]; then "$mnt/bin/busybox" echo "busybox ran from the image"
else "$mnt/bin/$bin" --version | head -1; fi
stat -f "$mnt" | sed -n 3,4p

echo "== a short comparison with xipbench"
mkdir -p "$out"
rm -f "$out/demo.txt" "$out/demo.json" "$out/demo.png"
set -- -r 3 -n 5000 -f big -B xipfs -j "$out/demo.json"
if command -v gnuplot >/dev/null; then
	set -- "$@" -p "$out/demo.png"
else
	echo "(gnuplot missing: no chart)"
fi
set -- "$@" "xipfs=$mnt" "xipfs_copy=$mnt_copy"
mount_xipfs "$work/demo.xip" "$mnt_copy" read=copy
if command -v mksquashfs >/dev/null && command -v squashfuse_ll >/dev/null; then
	# Uncompressed, like the xipfs image; it has no /dev, which no
	# workload reads.
	mksquashfs "$tree" "$work/demo.sqfs" -noI -noD -noF -noX \
		-no-progress -quiet
	mkdir -p "$mnt_sq"
	squashfuse_ll "$work/demo.sqfs" "$mnt_sq"
	set -- "$@" "squashfuse=$mnt_sq"
else
	echo "(squashfuse_ll or mksquashfs missing: comparing without squashfuse)"
fi
set -- "$@" "tree=$tree"
cat <<EOF
targets: xipfs (the defaults: read=splice for a normal user; as root
read=copy with a 2M readahead window), xipfs_copy (read=copy),
squashfuse (if installed), tree (the directory itself, no FUSE: the
reference); all 8 workloads, cold caches, 3 runs each, interleaved;
ratios against xipfs
EOF
[ "$(id -u)" = 0 ] || cat <<EOF
(not root: "cold" falls back to fadvise, which leaves the images under
the mounts and all directory entries cached; sudo for true cold figures)
EOF
echo "./xipbench $*"
start=$(date +%s)
status=0
./xipbench "$@" >"$out/demo.txt" || status=$?
cat "$out/demo.txt"
echo "(xipbench took $(($(date +%s) - start)) s)"

unmount_all
echo "unmounted"
echo "== results in $out/: demo.txt (the table), demo.json (every run)$(
	[ -f "$out/demo.png" ] && echo ", demo.png (the chart)")"
echo "full comparison (as root): scripts/bench-compare.sh"
if [ "$status" != 0 ]; then
	say "xipbench reported a failure (exit $status), see the table"
	exit "$status"
fi
