#!/bin/bash
# The generated corpus of damaged images (truncations, bit flips, lengths
# past the end, cycles, unknown incompat bits, cluster tables, data CRC
# tables, file data): xipfsck never crashes, and rejects with a clear
# message every image whose checksums no longer match and every truncated
# one.  Two seeds: a mkxipfs image, and one with compressed files (zstd and
# LZ4 clusters, raw ones, a partial last one) and data checksums that
# lib_test builds through the library's encoders.  (The in-process walk of
# the full corpus under the library is the C test tests/check/xipfs-corrupt.)
# XIPFS_CORPUS_STRIDE=K runs xipfsck on every Kth image only (default 1,
# all): .ci/run's sanitizer suite, where each xipfsck start costs about
# 0.2 s and xipfs-corrupt already walks every image in process.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
CORRUPT="$top_builddir/tests/check/xipfs-corrupt"
LIB_TEST="$top_builddir/tests/library/lib_test"

make_sample_tree "$WORK/tree" 2>/dev/null || make_sample_tree "$WORK/tree"
"$MKXIPFS" -q --pack-small=1024 "$WORK/tree" "$WORK/good.xip"
"$LIB_TEST" --write-zfile "$WORK/zgood.xip"
# xipfsck with a data pass (it has --metadata-only) must also refuse
# flipped file data on the image with data checksums.
data_pass=0
"$XIPFSCK" --help 2>&1 | grep -q -- --metadata-only && data_pass=1

stride=${XIPFS_CORPUS_STRIDE:-1}
case $stride in ''|*[!0-9]*|0) fail "XIPFS_CORPUS_STRIDE=$stride: not a positive number";; esac
total=0 rejected=0 accepted=0 made=0 i=0
for seed in good zgood; do
	"$XIPFSCK" "$WORK/$seed.xip" || fail "$seed.xip does not verify"
	"$CORRUPT" -q -o "$WORK/$seed" "$WORK/$seed.xip" >"$WORK/corrupt.out" ||
		fail "xipfs-corrupt found a gap in $seed.xip: $(tail -20 "$WORK/corrupt.out")"
	for img in "$WORK/$seed"/*.img; do
		i=$((i + 1))
		[ $((i % stride)) = 0 ] || continue
		total=$((total + 1))
		set +e
		"$XIPFSCK" "$img" >/dev/null 2>"$WORK/err"
		st=$?
		set -e
		[ $st -lt 128 ] || fail "xipfsck crashed ($st) on $seed/$(basename "$img")"
		case $st in
		0)	accepted=$((accepted + 1))
			case $seed:$data_pass:$img in
			*-stale.img|*trunc*|zgood:1:*-data[0-9]*)
				cmp -s "$img" "$WORK/$seed.xip" ||
					fail "damaged $seed/$(basename "$img") accepted" ;;
			esac ;;
		1)	rejected=$((rejected + 1))
			grep -q "^xipfsck: $img: " "$WORK/err" ||
				fail "no clear message for $seed/$(basename "$img"): $(head -2 "$WORK/err")" ;;
		*)	fail "xipfsck exit $st on $seed/$(basename "$img")" ;;
		esac
	done
	n=$(ls "$WORK/$seed" | wc -l)
	[ "$n" -gt 100 ] || fail "corpus of $seed.xip has only $n images"
	made=$((made + n))
done
# the cluster table that claims 2^32 - 1 clusters: refused, in O(1)
ls "$WORK"/zgood/*-ztable*-count-2^32-crcfix.img >/dev/null ||
	fail "no cluster-count image in the corpus"
ok "$total damaged images$([ $stride = 1 ] || echo " (every ${stride}th of $made)"): $rejected rejected, $accepted accepted (CRC-fixed harmless changes$([ $data_pass = 1 ] || echo ', file data: no data pass in xipfsck yet')), no crash"
