#!/bin/bash
# The generated corpus of damaged images (truncations, bit flips, lengths
# past the end, cycles, unknown incompat bits): xipfsck never crashes, and
# rejects with a clear message every image whose checksums no longer match
# and every truncated one.  (The in-process walk of the full corpus under
# the library is the C test tests/xipfs-corrupt.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
CORRUPT="$top_builddir/tests/xipfs-corrupt"

make_sample_tree "$WORK/tree" 2>/dev/null || make_sample_tree "$WORK/tree"
"$MKXIPFS" -q --pack-small=1024 "$WORK/tree" "$WORK/good.xip"
"$XIPFSCK" "$WORK/good.xip" || fail "sample image does not verify"
"$CORRUPT" -q -o "$WORK/corpus" "$WORK/good.xip" >"$WORK/corrupt.out" ||
	fail "xipfs-corrupt found a gap: $(tail -20 "$WORK/corrupt.out")"

total=0 rejected=0 accepted=0
for img in "$WORK"/corpus/*.img; do
	total=$((total + 1))
	set +e
	"$XIPFSCK" "$img" >/dev/null 2>"$WORK/err"
	st=$?
	set -e
	[ $st -lt 128 ] || fail "xipfsck crashed ($st) on $(basename "$img")"
	case $st in
	0)	accepted=$((accepted + 1))
		case $img in
		*-stale.img|*trunc*)
			cmp -s "$img" "$WORK/good.xip" ||
				fail "damaged $(basename "$img") accepted" ;;
		esac ;;
	1)	rejected=$((rejected + 1))
		grep -q "^xipfsck: $img: " "$WORK/err" ||
			fail "no clear message for $(basename "$img"): $(head -2 "$WORK/err")" ;;
	*)	fail "xipfsck exit $st on $(basename "$img")" ;;
	esac
done
[ $total -gt 100 ] || fail "corpus has only $total images"
ok "$total damaged images: $rejected rejected, $accepted accepted (CRC-fixed harmless changes), no crash"
