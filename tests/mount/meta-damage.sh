#!/bin/bash
# A default mount checks each metadata block before it trusts it
# (XIPFS_RO_COMPAT_META_CRC): one flipped byte in an inode, then one in a
# directory entry's name, no checksum fixed up.  The damaged entry is EIO
# (or left out of its listing), every file whose metadata lies in other
# blocks reads as built, and the daemon says it once, however often it is
# asked.  -o noverify turns the check off.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

mkdir -p "$WORK/tree/d"
for i in $(seq 100 399); do
	echo "content $i" >"$WORK/tree/d/file-$i-with-a-name-long-enough-to-fill-blocks"
done
"$MKXIPFS" -q "$WORK/tree" "$WORK/good.xip"
"$XIPFSCK" -q "$WORK/good.xip" || fail "the undamaged image is called damaged"

# For each entry of /d: name, inode number, inode offset and block, name
# offset and first and last block; the blocks of / and /d themselves, which must stay intact.
python3 - "$WORK/good.xip" >"$WORK/layout" <<'PY'
import os, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests")
from xipfmt import super_of, inode, inode_offset, dir_entries
img = bytearray(open(sys.argv[1], "rb").read())
log2 = super_of(img).block_log2
def name(de):
    return bytes(img[de.name_offset:de.name_offset + de.name_len]).decode()
root = inode(img, 1)
keep = {inode_offset(img, 1) >> log2}
for off, de in dir_entries(img, root):
    if name(de) == "d":
        dino = de.ino
        keep |= {off >> log2, de.name_offset >> log2, inode_offset(img, dino) >> log2}
d = inode(img, dino)
keep |= {(d.data + i) >> log2 for i in range(0, d.size, 16)}
print("keep", *sorted(keep))
for off, de in dir_entries(img, d):
    print(name(de), de.ino, inode_offset(img, de.ino), inode_offset(img, de.ino) >> log2,
          de.name_offset, de.name_offset >> log2,
          (de.name_offset + de.name_len - 1) >> log2)
PY
keep=" $(awk '$1 == "keep" { $1 = ""; print }' "$WORK/layout") "
# the last inode of /d and a name in another block, neither shared with / or /d
read -r iname iino ioff iblock _ < <(awk -v keep="$keep" '$1 != "keep" &&
	index(keep, " " $4 " ") == 0' "$WORK/layout" | sort -k2,2n | tail -1)
read -r nname _ _ _ noff nblock _ < <(awk -v keep="$keep" -v ib="$iblock" '$1 != "keep" &&
	index(keep, " " $6 " ") == 0 && $6 != ib && $4 != ib' "$WORK/layout" | tail -1)
[ -n "$iname" ] && [ -n "$nname" ] || fail "no entries in blocks of their own: $(head -3 "$WORK/layout")"

flip() {	# flip IMAGE OFFSET
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10]))' "$1" "$2"
}
cp "$WORK/good.xip" "$WORK/inode.xip"
flip "$WORK/inode.xip" $((ioff + 8))	# the uid
cp "$WORK/good.xip" "$WORK/name.xip"
flip "$WORK/name.xip" "$noff"		# the name's first byte
mnt=$WORK/mnt

# intact: every entry of /d whose inode and name lie outside block $1
check_rest() {
	awk -v b="$1" '$1 != "keep" && $4 != b && $6 != b && $7 != b { print $1 }' "$WORK/layout" >"$WORK/rest"
	[ "$(wc -l <"$WORK/rest")" -gt 100 ] || fail "too few intact entries to check"
	while read -r f; do echo "content ${f:5:3}"; done <"$WORK/rest" >"$WORK/want"
	(cd "$mnt/d" && xargs -d '\n' cat) <"$WORK/rest" >"$WORK/got" ||
		fail "an intact file of /d cannot be read"
	cmp -s "$WORK/want" "$WORK/got" || fail "intact files of /d do not read as built"
}

# ---- 1. a flipped inode byte
xipfs_mount "$WORK/inode.xip" "$mnt"
for try in 1 2 3; do
	expect_error "Input/output error" stat "$mnt/d/$iname"
done
check_rest "$iblock"
xipfs_unmount "$mnt"
[ "$(grep -c "inode $iino: checksum mismatch" "$WORK/xipfs.log")" = 1 ] ||
	fail "not one complaint about inode $iino: $(cat "$WORK/xipfs.log")"
[ "$(grep -c . "$WORK/xipfs.log")" = 1 ] || fail "more than one line: $(cat "$WORK/xipfs.log")"
ok "flipped inode $iino: EIO three times, one log line, $(wc -l <"$WORK/rest") other files intact"
: >"$WORK/xipfs.log"

# ---- 2. a flipped name byte
xipfs_mount "$WORK/name.xip" "$mnt"
for try in 1 2 3; do
	ls "$mnt/d" >"$WORK/ls" || fail "ls of d failed"
done
! grep -qx "$nname" "$WORK/ls" || fail "the entry with the damaged name is listed"
set +e
stat "$mnt/d/$nname" >/dev/null 2>"$WORK/err"
set -e
grep -q "Input/output error\|No such file" "$WORK/err" ||
	fail "lookup of the damaged name: $(cat "$WORK/err")"
check_rest "$nblock"
! grep -vxFf "$WORK/ls" "$WORK/rest" >"$WORK/unlisted" ||
	fail "intact entries not listed: $(head -3 "$WORK/unlisted")"
xipfs_unmount "$mnt"
[ "$(grep -c . "$WORK/xipfs.log")" = 1 ] && grep -q "checksum mismatch" "$WORK/xipfs.log" ||
	fail "not one complaint about the damaged name: $(cat "$WORK/xipfs.log")"
ok "flipped name in block $nblock: left out of ls (three times), one log line, the rest intact"

# ---- 3. -o noverify serves the metadata unchecked (as images without
# the table are): the flipped uid shows
xipfs_mount "$WORK/inode.xip" "$mnt" -o noverify
stat "$mnt/d/$iname" >/dev/null || fail "-o noverify still checks metadata"
xipfs_unmount "$mnt"
ok "-o noverify: metadata not checked"
