#!/bin/bash
# xipfsck's work is bounded by the image, whatever its files claim (issue
# 23, defect 1): thousands of inodes share one compressed file's cluster
# table, which the format allows, so a 300 KiB image claims a terabyte.
# The data pass must walk that table once: under a time limit far above
# what one walk takes (a fraction of a second) and far below what one walk
# per inode takes (minutes), and in 64 MiB of address space.  fsck.xipfs
# runs the same check.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
: "${FSCK_XIPFS:=$top_builddir/fsck.xipfs}"
need_cmd python3
need_cmd timeout

FILES=4000
T=$WORK/tree
mkdir -p "$T/many"
truncate -s 256M "$T/big"	# 256 clusters of 1 MiB
for i in $(seq 1 $FILES); do printf '%s' "$i" >"$T/many/f$i"; done
"$MKXIPFS" -q --compress=zstd --cluster-size=1M --xip=none "$T" "$WORK/img.xip" ||
	fail "mkxipfs"
shared=$(python3 "$top_srcdir/tests/check/zshare.py" "$WORK/img.xip" big f) ||
	fail "zshare.py"
[ "$shared" = "$FILES" ] || fail "zshare.py shared $shared tables, want $FILES"
size=$(stat -c %s "$WORK/img.xip")
[ "$size" -lt $((1 << 20)) ] || fail "the crafted image is $size bytes"
"$XIPFSCK" -m "$WORK/img.xip" || fail "xipfsck -m calls the crafted image damaged"
ok "a $size-byte image whose $((FILES + 1)) files share one 256 MiB table"

# Address space: an ASan build reserves terabytes of it, so no limit there.
limit=
ldd "$XIPFSCK" 2>/dev/null | grep -q libasan || limit="ulimit -v $((64 << 10));"
# bounded CMD...: run it in 64 MiB and 60 s; its status.
bounded() { set +e; bash -c "$limit"' exec timeout 60 "$@"' bounded "$@" \
	>"$WORK/out" 2>"$WORK/err"; echo $?; set -e; }

st=$(bounded "$XIPFSCK" -v "$WORK/img.xip")
[ "$st" = 0 ] || fail "xipfsck: status $st (124: over 60 s): $(cat "$WORK/err")"
grep -q "clean" "$WORK/out" || fail "xipfsck -v: $(cat "$WORK/out")"
ok "xipfsck checks every cluster of it within 60 s and 64 MiB"
st=$(XIPFSCK=$XIPFSCK bounded "$FSCK_XIPFS" -n "$WORK/img.xip")
[ "$st" = 0 ] || fail "fsck.xipfs: status $st: $(cat "$WORK/err")"
ok "fsck.xipfs likewise"
