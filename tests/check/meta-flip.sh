#!/bin/bash
# Metadata is checked before it is trusted: single bytes flipped across
# the superblock, the whole metadata region and the metadata CRC table of
# images with every kind of metadata (directories, a 255-byte name,
# symlinks, devices, a fifo, xattrs with a POSIX ACL, packed small files,
# zstd and LZ4 files with their cluster tables), no checksum fixed up.
# Through the library every attribute, name, link target, xattr and file
# content of each flipped image is an error or exactly the original
# (tests/check/metaflip.c), and xipfsck calls each image it is given
# damaged (nonzero exit, no crash).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
METAFLIP="$top_builddir/tests/check/xipfs-metaflip"

t=$WORK/tree
mkdir -p "$t/dir/sub/deeper" "$t/many" "$t/empty"
long=$(printf 'n%.0s' $(seq 255))
echo "long name" >"$t/dir/$long"
printf 'hello\n' >"$t/hello"
printf 'small\n' >"$t/dir/small"
head -c 9000 /dev/zero | tr '\0' 'x' >"$t/dir/sub/text9k"
seq 1 20000 >"$t/dir/sub/deeper/numbers"
for i in $(seq 1 150); do echo "file $i" >"$t/many/file-with-a-longer-name-$i"; done
ln -s hello "$t/link"
ln -s "dir/sub/deeper/$(printf 'x%.0s' $(seq 200))" "$t/dir/longlink"
mkfifo "$t/fifo"
# devices, an xattr and a POSIX ACL (USER_OBJ rw, USER 1000 r, GROUP_OBJ
# r, MASK r, OTHER none) through a device table, as a normal user can
cat >"$WORK/dt" <<'TABLE'
/dev d 755 0 0
/dev/null c 666 0 0 1 3
/dev/sda b 660 0 6 8 0
/hello x user.note=0x6869
/dir/small x system.posix_acl_access=0x0200000001000600ffffffff02000400e803000004000400ffffffff10000400ffffffff20000000ffffffff
TABLE

n=0
for opts in "--pack-small=1024" \
	    "--compress=zstd --xip=none --cluster-size=4K" \
	    "--compress=lz4 --xip=none -b 16K"; do
	n=$((n + 1))
	img=$WORK/img$n.xip
	"$MKXIPFS" -q -D "$WORK/dt" $opts "$t" "$img" || fail "mkxipfs $opts failed"
	"$XIPFSCK" -q "$img" || fail "image $n ($opts) is not clean"
	mkdir "$WORK/flips$n"
	"$METAFLIP" -n 300 -o "$WORK/flips$n" "$img" >"$WORK/out$n" 2>"$WORK/err$n" ||
		fail "image $n ($opts): $(tail -5 "$WORK/err$n") $(cat "$WORK/out$n")"
	ok "$(cat "$WORK/out$n") ($opts)"
	checked=0
	for f in "$WORK/flips$n"/*.img; do
		set +e
		"$XIPFSCK" "$f" >/dev/null 2>"$WORK/fsck.err"
		st=$?
		set -e
		[ $st -lt 128 ] || fail "xipfsck crashed ($st) on $f"
		[ $st -ne 0 ] || fail "xipfsck calls $(basename "$f") of image $n clean"
		checked=$((checked + 1))
	done
	[ $checked -gt 50 ] || fail "only $checked flipped images for xipfsck"
	ok "xipfsck calls all $checked flipped images of image $n damaged"
done
