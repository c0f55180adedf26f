#!/bin/bash
# Direct mapping (xipfs-map, XIPFS_IOC_WHERE): for files of many sizes, in
# an aligned and a packed image, from a file, a window inside a bigger
# file and a loop device, the bytes mapped straight from the source equal
# the tree's, the daemon served no READ for them, and bad uses fail cleanly.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd losetup
: "${XIPFS_MAP:=$top_builddir/xipfs-map}"

T=$WORK/tree
mkdir -p "$T/sub"
for n in 0 1 4095 4096 4097 65536 300001; do
	head -c $n /dev/urandom >"$T/f$n"
done
cp "$T/f4097" "$T/sub/same-as-f4097"	# deduplicated: one extent
printf 'tiny\n' >"$T/sub/tiny"
ln -s f1 "$T/link"
files="f0 f1 f4095 f4096 f4097 f65536 f300001 sub/same-as-f4097 sub/tiny"
"$MKXIPFS" -q "$T" "$WORK/aligned.xip"
"$MKXIPFS" -q --pack-small=4096 "$T" "$WORK/packed.xip"
mnt=$WORK/mnt

# check_files LABEL KIND: every file through the direct mapping, then the
# daemon's own account at unmount: ioctls, and not one READ.
check_files() {
	label=$1 kind=$2
	for f in $files; do
		"$XIPFS_MAP" -c "$mnt/$f" >"$WORK/out" ||
			fail "$label: xipfs-map -c $f failed"
		cmp -s "$WORK/out" "$T/$f" || fail "$label: $f differs"
		line=$("$XIPFS_MAP" "$mnt/$f") || fail "$label: xipfs-map $f failed"
		case $f:$kind in
		f0:*|f4096:*|f4097:*|f65536:*|f300001:*|sub/same*:*) want=aligned;;
		*:packed) want=packed;;
		*) want=aligned;;
		esac
		case $line in *" $want") ;; *) fail "$label: $f: '$line', want $want";; esac
	done
	"$XIPFS_MAP" "$mnt/link" >/dev/null || fail "$label: symlink to a file refused"
	a=$("$XIPFS_MAP" "$mnt/f4097" | awk '{print $4}')
	b=$("$XIPFS_MAP" "$mnt/sub/same-as-f4097" | awk '{print $4}')
	[ "$a" = "$b" ] || fail "$label: identical files at offsets $a and $b"
	xipfs_unmount "$mnt"
	[ "$(counter ops.IOCTL)" -gt 0 ] ||
		fail "$label: no IOCTL counted: $(cat "$WORK/xipfs.log")"
	[ "$(counter ops.READ)" = 0 ] ||
		fail "$label: the daemon served $(counter ops.READ) READs"
	: >"$WORK/xipfs.log"
	ok "$label: $(echo $files | wc -w) files mapped directly, no READ"
}

xipfs_mount "$WORK/aligned.xip" "$mnt" -o stats="$STATS"
check_files "file source" aligned
xipfs_mount "$WORK/packed.xip" "$mnt" -o stats="$STATS"
check_files "packed image" packed

# The image 1 MiB into a bigger file: offsets are the source's, not the image's.
head -c 1048576 /dev/urandom >"$WORK/window.bin"
cat "$WORK/aligned.xip" >>"$WORK/window.bin"
head -c 5000 /dev/urandom >>"$WORK/window.bin"
xipfs_mount "$WORK/window.bin" "$mnt" -o offset=1M,stats="$STATS"
off=$("$XIPFS_MAP" "$mnt/f1" | awk '{print $4}')
[ "$off" -ge 1048576 ] || fail "window: offset $off is not inside the window"
check_files "window source" aligned

loop=$(losetup -f --show -r "$WORK/packed.xip")
detach_loop() { losetup -d "$loop" 2>/dev/null || true; }
cleanup_hooks="unmount_all detach_loop $cleanup_hooks"
xipfs_mount "$loop" "$mnt" -o stats="$STATS"
check_files "loop device source" packed

# Refusals: not on an xipfs mount, a directory, no such file, a source the
# caller cannot read.
xipfs_mount "$WORK/aligned.xip" "$mnt" -o allow_other
expect_error "not a regular file on an xipfs mount" "$XIPFS_MAP" "$T/f1"
expect_error "not a regular file on an xipfs mount" "$XIPFS_MAP" "$mnt/sub"
expect_error "No such file" "$XIPFS_MAP" "$mnt/nope"
expect_error "no file given" "$XIPFS_MAP"
chmod 600 "$WORK/aligned.xip"
expect_error "open the source: Permission denied" as_user "$XIPFS_MAP" "$mnt/f1"
chmod 644 "$WORK/aligned.xip"
as_user "$XIPFS_MAP" -c "$mnt/f1" | cmp -s - "$T/f1" ||
	fail "a normal user reading a readable source failed"
xipfs_unmount "$mnt"
ok "refusals"

# A compressed file has no bytes in the source to map: refused, clearly,
# with nothing on stdout; an XIP file of the same image still maps.
mkdir -p "$WORK/ztree"
seq 1 100000 >"$WORK/ztree/numbers"
cp "$(type -P true)" "$WORK/ztree/true"
"$MKXIPFS" -q --compress=zstd --xip=elf "$WORK/ztree" "$WORK/zstd.xip"
xipfs_mount "$WORK/zstd.xip" "$mnt"
for opt in "" -c; do
	expect_error "^xipfs-map: $mnt/numbers: compressed file; only XIP files can be mapped$" \
		"$XIPFS_MAP" $opt "$mnt/numbers"
	[ ! -s "$WORK/stdout" ] || fail "xipfs-map $opt wrote bytes of a compressed file"
done
"$XIPFS_MAP" -c "$mnt/true" | cmp -s - "$WORK/ztree/true" ||
	fail "the XIP file of a compressed image does not map"
xipfs_unmount "$mnt"
ok "a compressed file is refused"
