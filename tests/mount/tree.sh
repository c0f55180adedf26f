#!/bin/bash
# Mount an image of the sample tree plus a few thousand generated files and
# compare the mount with the source: every byte through read() and through
# mmap, every stat field the format keeps, xattrs, links; in every read
# mode, single-threaded, with OPEN requests, and over packed files.  Then
# what a read-only mount must refuse or allow, statfs, /proc/mounts and the
# uid=/gid=/umask= overrides.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd setfattr
need_cmd fusermount3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

make_sample_tree "$WORK/tree"

# 2000 files in 40 directories: sizes from 0 to 300 KiB, many of them on or
# one byte either side of a page (and of a 16 KiB block); distinct contents
# cut from a random pool; assorted modes, owners, nanosecond mtimes, a few
# xattrs, and hard links within and across directories.  Seeded, so that a
# failure can be reproduced.
python3 "$top_srcdir/scripts/gen-tree.py" --kind mount "$WORK/tree/gen" >/dev/null

# What treecmp.py does not look at (tests/mount_check.py mapcmp): every
# byte through a shared read-only mapping, and past the end of the last
# page's data only zeros (bytes that follow the file in the image must not
# leak in); every byte read with O_DIRECT, which skips the page cache; link
# counts of every node (directories too); and that readdir's inode numbers
# are stat's.
MOUNT_CHECK="python3 $top_srcdir/tests/mount_check.py"


"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
"$MKXIPFS" -q --pack-small=4096 "$WORK/tree" "$WORK/packed.xip"
"$MKXIPFS" -q --block-size=16384 "$WORK/tree" "$WORK/16k.xip"
"$XIPFSCK" -l "$WORK/packed.xip" | grep -q ' pack ' ||
	fail "--pack-small=4096 packed nothing"
mnt="$WORK/mnt"

# compare NAME IMAGE [xipfs options]: mapped bytes first, on a fresh mount
# (so the pages come from the daemon, not from an earlier read), then
# treecmp.py on another fresh mount.
compare() {
	name=$1 image=$2; shift 2
	xipfs_mount "$image" "$mnt" "$@"
	$MOUNT_CHECK mapcmp "$WORK/tree" "$mnt" >/dev/null ||
		fail "$name: mapped contents or link counts differ"
	xipfs_unmount "$mnt"
	xipfs_mount "$image" "$mnt" "$@"
	python3 "$TREECMP" "$WORK/tree" "$mnt" >/dev/null ||
		fail "$name: mounted tree differs"
	xipfs_unmount "$mnt"
	daemon_quiet "$name"
	ok "$name: mount matches the source"
}

compare default "$WORK/img.xip"
compare copy "$WORK/img.xip" -o read=copy
compare splice "$WORK/img.xip" -o read=splice
compare single-threaded "$WORK/img.xip" -s
compare open-requests "$WORK/img.xip" -o open
compare packed "$WORK/packed.xip"
compare packed-copy "$WORK/packed.xip" -o read=copy
compare 16k-blocks "$WORK/16k.xip"
# No caching of names or attributes: every access is a LOOKUP or GETATTR.
compare no-cache "$WORK/img.xip" \
	-o entry_timeout=0,attr_timeout=0,negative_timeout=0

# Many readers at once on the multi-threaded daemon, in both read modes.
(cd "$WORK/tree" && find . -type f -print0 | xargs -0 md5sum | sort) >"$WORK/sums"
for mode in copy splice; do
	xipfs_mount "$WORK/img.xip" "$mnt" -o read=$mode
	(cd "$mnt" && find . -type f -print0 | xargs -0 -P 8 -n 16 md5sum | sort) >"$WORK/msums"
	cmp -s "$WORK/sums" "$WORK/msums" || fail "read=$mode: parallel readers got other bytes"
	xipfs_unmount "$mnt"
done
ok "parallel readers"

# statfs: the image's block size, its size in blocks, its inode count, and
# read-only.  A 16 KiB-block image, so that the page size would not pass.
xipfs_mount "$WORK/16k.xip" "$mnt"
$MOUNT_CHECK statfs "$mnt" "$WORK/16k.xip" "$WORK/tree" 16384 || fail "statfs is wrong"
[ "$(stat -f -c %S "$mnt")" = 16384 ] || fail "stat -f block size: $(stat -f -c %S "$mnt")"
xipfs_unmount "$mnt"
ok "statfs: 16 KiB blocks, size, inodes, read-only"

# /proc/mounts: type fuse.xipfs, ro, and the source's absolute path as the
# name, even when given relative and holding a comma (an option separator).
cp "$WORK/img.xip" "$WORK/a,b.xip"
cd "$WORK"
xipfs_mount "a,b.xip" "$mnt"
cd - >/dev/null
line=$(awk -v m="$mnt" '$2 == m' /proc/mounts)
set -- $line
[ "$1" = "$WORK/a,b.xip" ] || fail "fsname is '$1': $line"
[ "$3" = fuse.xipfs ] || fail "type is '$3': $line"
case ",$4," in *,ro,*) ;; *) fail "not mounted ro: $line" ;; esac
ok "/proc/mounts: $1 $3 $4"

# Nothing can be changed, even by root.
expect_error "Read-only file system" touch "$mnt/new"
expect_error "Read-only file system" touch "$mnt/hello.txt"
expect_error "Read-only file system" mkdir "$mnt/newdir"
expect_error "Read-only file system" rm "$mnt/empty"
expect_error "Read-only file system" rmdir "$mnt/empty-dir"
expect_error "Read-only file system" mv "$mnt/empty" "$mnt/moved"
expect_error "Read-only file system" ln -s x "$mnt/newlink"
expect_error "Read-only file system" chmod 600 "$mnt/hello.txt"
expect_error "Read-only file system" setfattr -n user.x -v 1 "$mnt/hello.txt"
expect_error "Read-only file system" sh -c "echo x >>'$mnt/hello.txt'"
[ -e "$mnt/empty" ] && [ ! -e "$mnt/new" ] && [ ! -e "$mnt/moved" ] ||
	fail "a refused change happened anyway"
ok "writes fail with EROFS"

# A private writable mapping is the process's own copy (the dynamic loader
# maps .data that way); a shared writable one would write the image and is
# refused, as is opening for writing.
$MOUNT_CHECK private-map "$mnt/sub/deeper/seventy-k" || fail "writable mappings misbehave"
cmp "$WORK/tree/sub/deeper/seventy-k" "$mnt/sub/deeper/seventy-k" ||
	fail "file changed after a private mapping was written"
xipfs_unmount "$mnt"
ok "private mappings are private, shared writable ones refused"

# uid=/gid=/umask= change what every node shows, and the kernel checks
# permissions against what is shown.
xipfs_mount "$WORK/img.xip" "$mnt" -o uid=4321,gid=8765,umask=027,allow_other
$MOUNT_CHECK overrides "$WORK/tree" "$mnt" 4321 8765 027 || fail "uid=/gid=/umask= not applied"
cat "$mnt/hello.txt" >/dev/null
setpriv --reuid=nobody --regid=8765 --clear-groups -- cat "$mnt/hello.txt" >/dev/null ||
	fail "group 8765 cannot read a g+r file under gid=8765"
expect_error "Permission denied" as_user stat "$mnt/hello.txt"
xipfs_unmount "$mnt"
ok "uid=, gid=, umask= presented and enforced"
