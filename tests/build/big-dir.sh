#!/bin/bash
# 100,000 entries in one directory: builds, verifies, lists, extracts.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

python3 "$top_srcdir/scripts/gen-tree.py" --kind wide --files 100000 "$WORK/big" >/dev/null
"$MKXIPFS" -q "$WORK/big" "$WORK/big.xip"
"$XIPFSCK" "$WORK/big.xip" || fail "100k-entry image does not verify"
n=$("$XIPFSCK" -l "$WORK/big.xip" | grep -c ' /entry-')
[ "$n" = 100000 ] || fail "listing shows $n entries"
"$XIPFSCK" -q -x "$WORK/big.out" "$WORK/big.xip"
python3 "$TREECMP" "$WORK/big" "$WORK/big.out" >/dev/null || fail "extracted tree differs"
ok "100k entries in one directory"
