#!/bin/bash
# Empty trees, empty files, 255-byte names (and 256 refused), odd names.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

# An empty directory: an image with only the root, every block size.
mkdir "$WORK/empty"
for bs in 4096 16384 65536; do
	"$MKXIPFS" -q --block-size=$bs "$WORK/empty" "$WORK/empty-$bs.xip"
	"$XIPFSCK" "$WORK/empty-$bs.xip" || fail "empty image ($bs) does not verify"
	size=$(stat -c %s "$WORK/empty-$bs.xip")
	[ $((size % bs)) = 0 ] || fail "image size $size not a multiple of $bs"
	"$XIPFSCK" -q -x "$WORK/empty-$bs.out" "$WORK/empty-$bs.xip"
	python3 "$TREECMP" "$WORK/empty" "$WORK/empty-$bs.out" || fail "empty tree differs"
done
ok "empty tree at every block size"

# Only empty files and directories: 0 bytes of file data.
mkdir -p "$WORK/zero/a/b/c"
for i in 1 2 3; do : >"$WORK/zero/f$i"; : >"$WORK/zero/a/b/c/g$i"; done
"$MKXIPFS" -q "$WORK/zero" "$WORK/zero.xip"
"$XIPFSCK" "$WORK/zero.xip"
"$XIPFSCK" -q -x "$WORK/zero.out" "$WORK/zero.xip"
python3 "$TREECMP" "$WORK/zero" "$WORK/zero.out" || fail "zero-data tree differs"
ok "tree without file data"

# Names of every length up to 255 bytes, and bytes that are not UTF-8.
mkdir "$WORK/names"
for n in 1 2 100 254 255; do
	: >"$WORK/names/$(printf 'a%.0s' $(seq 1 $n))"
done
: >"$WORK/names/$(printf 'caf\351')"	# latin-1, not UTF-8
: >"$WORK/names/with space and 'quote'"
: >"$WORK/names/-dash"
: >"$WORK/names/..."
"$MKXIPFS" -q "$WORK/names" "$WORK/names.xip"
"$XIPFSCK" "$WORK/names.xip"
"$XIPFSCK" -q -x "$WORK/names.out" "$WORK/names.xip"
python3 "$TREECMP" "$WORK/names" "$WORK/names.out" || fail "names differ"
ok "names of 1..255 bytes and odd bytes"

# A symlink target of the maximum length (4095) survives; longer cannot be
# made on Linux, so the builder's limit is checked through tar below.
mkdir "$WORK/ln"
ln -s "$(head -c 4095 /dev/zero | tr '\0' y)" "$WORK/ln/max"
"$MKXIPFS" -q "$WORK/ln" "$WORK/ln.xip"
"$XIPFSCK" -q -x "$WORK/ln.out" "$WORK/ln.xip"
python3 "$TREECMP" "$WORK/ln" "$WORK/ln.out" || fail "long symlink differs"
ok "4095-byte symlink target"

# A tar member with a 256-byte name component is refused, not truncated.
python3 "$top_srcdir/tests/hostile_inputs.py" tar-names "$WORK/long.tar" "" "d/$(printf 'b%.0s' $(seq 256))"
expect_error "long.tar" "$MKXIPFS" -q --tar "$WORK/long.tar" "$WORK/long.xip"
[ ! -e "$WORK/long.xip" ] || fail "refused build left an image"
ok "256-byte name refused: $(cat "$WORK/err")"
