#!/bin/bash
# One damaged inode, or one damaged directory entry, hides nothing else:
# a listing (READDIRPLUS, what ls and find get) shows every intact entry
# and the damaged inode's name (as a local file system shows a name whose
# inode cannot be read); stat of that name is EIO, the daemon says which
# inode; the entry whose own bytes are damaged is left out, and a lookup
# by name of any other entry still finds it.  xipfsck calls
# the image damaged and names both by path.  (Damage made with
# tests/xipimg.py, which fixes the checksums up: what the tools must catch
# is the damage itself.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"
XIPIMG="python3 $top_srcdir/tests/xipimg.py"

mkdir -p "$WORK/tree/d"
for f in a b c d e f g h i j; do echo "file $f" >"$WORK/tree/d/$f"; done
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
"$XIPFSCK" -q "$WORK/img.xip" || fail "the undamaged image is called damaged"
# e: its inode's mode is no file type; i: its entry's type byte is invalid
$XIPIMG "$WORK/img.xip" set-inode e mode $((0170644))
$XIPIMG "$WORK/img.xip" set-dirent i type 99
eino=$("$XIPFSCK" -l "$WORK/img.xip" 2>/dev/null | awk '$NF == "/d/a" { print $1 + 4 }')
mnt=$WORK/mnt

# ---- 1. the mount lists what is intact
xipfs_mount "$WORK/img.xip" "$mnt"
ls "$mnt/d" >"$WORK/ls" 2>"$WORK/ls.err" ||
	fail "ls of the directory failed: $(cat "$WORK/ls.err")"
[ "$(echo $(cat "$WORK/ls"))" = "a b c d e f g h j" ] ||
	fail "ls lists '$(echo $(cat "$WORK/ls"))', not the nine readable names"
(cd "$mnt" && find d -type f) | sort >"$WORK/find" ||
	fail "find through the damaged directory failed"
[ "$(wc -l <"$WORK/find")" = 9 ] || fail "find lists $(wc -l <"$WORK/find") entries: $(cat "$WORK/find")"
for f in a b c d f g h j; do
	[ "$(cat "$mnt/d/$f")" = "file $f" ] || fail "d/$f reads wrong"
	stat "$mnt/d/$f" >/dev/null || fail "d/$f cannot be stat'ed"
done
expect_error "Input/output error" stat "$mnt/d/e"
xipfs_unmount "$mnt"
grep -q "inode $eino: corrupt image" "$WORK/xipfs.log" ||
	fail "the daemon did not name inode $eino: $(cat "$WORK/xipfs.log")"
ok "a damaged inode and a damaged entry: the other eight files list, stat and read; e is EIO"

# ---- 2. looked up by name on a fresh mount (no listing first): a damaged
# entry in the middle of the sorted array misleads no binary search
xipfs_mount "$WORK/img.xip" "$mnt"
for f in a b c d f g h j; do
	stat "$mnt/d/$f" >/dev/null 2>"$WORK/stat.err" ||
		fail "lookup of d/$f on a fresh mount: $(cat "$WORK/stat.err")"
done
expect_error "Input/output error" stat "$mnt/d/i"
expect_error "Input/output error" stat "$mnt/d/e"
xipfs_unmount "$mnt"
ok "by name: the eight intact files are found; the damaged entry i and inode e are EIO"

# ---- 3. xipfsck names both by path
expect_error "inode $eino (/d/e): corrupt image" "$XIPFSCK" "$WORK/img.xip"
grep -q "(/d): directory entry: corrupt image" "$WORK/err" ||
	fail "xipfsck does not name the damaged entry's directory: $(cat "$WORK/err")"
ok "xipfsck names the damaged inode /d/e and the directory /d"
