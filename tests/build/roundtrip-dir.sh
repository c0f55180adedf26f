#!/bin/bash
# Directory tree -> image -> xipfsck verify -> extract -> compare everything,
# for every block size and with packing and huge alignment.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd setfattr

make_sample_tree "$WORK/tree"
owner=""
[ "$(id -u)" = 0 ] || owner=--no-owner

roundtrip() {
	name=$1; shift
	"$MKXIPFS" -q "$@" "$WORK/tree" "$WORK/$name.xip"
	"$XIPFSCK" "$WORK/$name.xip" || fail "$name: image does not verify"
	"$XIPFSCK" -q -x "$WORK/$name.out" "$WORK/$name.xip"
	python3 "$TREECMP" $owner "$WORK/tree" "$WORK/$name.out" ||
		fail "$name: extracted tree differs"
	ok "$name round trip"
}

roundtrip bs4k --block-size=4096
roundtrip bs16k --block-size=16384
roundtrip bs64k --block-size=65536
roundtrip packed --pack-small=2048
roundtrip huge --align-huge

# Identical contents are stored once: the duplicate adds no data.
"$XIPFSCK" -l "$WORK/bs4k.xip" >"$WORK/list"
off1=$(grep ' /sub/five-k$' "$WORK/list" | awk '{print $(NF-2)}')
off2=$(grep ' /dup-of-five-k$' "$WORK/list" | awk '{print $(NF-2)}')
[ -n "$off1" ] && [ "$off1" = "$off2" ] ||
	fail "duplicate contents stored twice ($off1, $off2)"
ok "deduplication shares data ($off1)"

# Hard links are one inode.
i1=$(grep ' /hello.txt$' "$WORK/list" | awk '{print $1}')
i2=$(grep ' /sub/hardlink$' "$WORK/list" | awk '{print $1}')
[ "$i1" = "$i2" ] || fail "hard links have inodes $i1 and $i2"
ok "hard links share inode $i1"

# Packing makes small files unmappable and the image smaller.
grep -q ' pack ' "$WORK/list" && fail "unpacked image lists packed files"
"$XIPFSCK" -l "$WORK/packed.xip" | grep ' /hello.txt$' | grep -q ' pack ' ||
	fail "small file not packed with --pack-small"
[ "$(stat -c %s "$WORK/packed.xip")" -lt "$(stat -c %s "$WORK/bs4k.xip")" ] ||
	fail "packing did not shrink the image"
ok "packing"

# --align-huge puts the 3 MB file on a 2 MiB boundary.
off=$("$XIPFSCK" -l "$WORK/huge.xip" | grep ' /three-mb$' | awk '{print $(NF-2)}')
[ $((off % 2097152)) = 0 ] || fail "huge file at $off, not 2 MiB aligned"
ok "huge alignment ($off)"
