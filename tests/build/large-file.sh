#!/bin/bash
# A file larger than 4 GiB (sparse, so cheap on disk) keeps every byte,
# including data past 4 GiB; the image stays sparse.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

mkdir "$WORK/t"
f="$WORK/t/big"
truncate -s 5G "$f"
printf 'start' | dd of="$f" conv=notrunc status=none
printf 'past four gib' | dd of="$f" bs=1 seek=4831838208 conv=notrunc status=none
printf 'the end' | dd of="$f" bs=1 seek=$((5 * 1073741824 - 7)) conv=notrunc status=none
printf 'small\n' >"$WORK/t/after"
"$MKXIPFS" -q "$WORK/t" "$WORK/big.xip"
"$XIPFSCK" "$WORK/big.xip" || fail "image does not verify"
used=$(du -k "$WORK/big.xip" | cut -f1)
[ "$used" -lt 65536 ] || fail "image uses $used KiB on disk: not sparse"
ok "5 GiB file image uses $used KiB on disk"
"$XIPFSCK" -q -x "$WORK/out" "$WORK/big.xip"
[ "$(stat -c %s "$WORK/out/big")" = 5368709120 ] || fail "extracted size wrong"
got=$(dd if="$WORK/out/big" bs=1 skip=4831838208 count=13 status=none)
[ "$got" = "past four gib" ] || fail "bytes past 4 GiB: '$got'"
cmp "$f" "$WORK/out/big" || fail "extracted contents differ"
cmp "$WORK/t/after" "$WORK/out/after" || fail "file after the big one differs"
ok "bytes past 4 GiB round-trip"
