#!/bin/bash
# 100,000 entries in one directory: builds, verifies, lists, extracts.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

mkdir "$WORK/big"
python3 - "$WORK/big" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(100000):
    fd = os.open(f"{d}/entry-{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644)
    if i % 1000 == 0:
        os.write(fd, b"%d\n" % i)
    os.close(fd)
PY
"$MKXIPFS" -q "$WORK/big" "$WORK/big.xip"
"$XIPFSCK" "$WORK/big.xip" || fail "100k-entry image does not verify"
n=$("$XIPFSCK" -l "$WORK/big.xip" | grep -c ' /entry-')
[ "$n" = 100000 ] || fail "listing shows $n entries"
"$XIPFSCK" -q -x "$WORK/big.out" "$WORK/big.xip"
python3 "$TREECMP" "$WORK/big" "$WORK/big.out" >/dev/null || fail "extracted tree differs"
ok "100k entries in one directory"
