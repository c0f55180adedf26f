#!/bin/bash
# Compressed images round trip: directory and tar input -> mkxipfs with
# --compress (zstd, levels, lz4, lz4:hc), cluster sizes 4K/64K/1M,
# --xip=all/elf/none, data CRCs on and off, packing on and off ->
# xipfsck clean -> extract -> the same tree.  tests/zimg.py checks, from
# the format alone, every data block's CRC, the feature bits and how the
# files are stored (an ELF program copied from /bin stays XIP under
# --xip=elf).  The bytes do not depend on the number of threads.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd setfattr
ZIMG="$top_srcdir/tests/zimg.py"

make_sample_tree "$WORK/tree"
cp /bin/ls "$WORK/tree/prog"		# an ELF executable (ET_DYN or ET_EXEC)
for i in $(seq 1 4000); do echo "line $i of a compressible text file"; done \
	>"$WORK/tree/sub/text"
cp "$WORK/tree/sub/text" "$WORK/tree/text-dup"	# dedupe among compressed
head -c 200000 /dev/zero >"$WORK/tree/zeros"
printf 'tiny\n' >"$WORK/tree/tiny"
owner=""
[ "$(id -u)" = 0 ] || owner=--no-owner
acls=""
command -v setfacl >/dev/null && acls=--acls
tar --format=pax --xattrs --xattrs-include='*' $acls -C "$WORK/tree" \
	-cf "$WORK/tree.tar" .
plain=$("$MKXIPFS" -q --no-data-crc "$WORK/tree" "$WORK/plain.xip" &&
	stat -c %s "$WORK/plain.xip")

# roundtrip NAME SOURCE CRC(crc|nocrc) KIND-OF-/prog KIND-OF-/sub/text OPTIONS...
roundtrip() {
	name=$1 src=$2 crc=$3 prog=$4 text=$5; shift 5
	img="$WORK/$name.xip"
	"$MKXIPFS" -q "$@" "$src" "$img" || fail "$name: mkxipfs failed"
	"$XIPFSCK" -q "$img" || fail "$name: image does not verify"
	"$XIPFSCK" -q -x "$WORK/$name.out" "$img" ||
		fail "$name: extract failed"
	python3 "$TREECMP" $owner "$WORK/tree" "$WORK/$name.out" ||
		fail "$name: extracted tree differs"
	rm -rf "$WORK/$name.out"
	got=$(python3 "$ZIMG" "$img" storage /prog /sub/text | awk '{print $2}' |
	      tr '\n' ' ')
	[ "$got" = "$prog $text " ] ||
		fail "$name: /prog and /sub/text stored as '$got', want '$prog $text'"
	feat=$(python3 "$ZIMG" "$img" features)
	if [ "$crc" = crc ]; then
		# data CRC (0x1) and, by default, metadata CRC (0x2)
		case $feat in *ro_compat=0x3) ;; *) fail "$name: no data CRC ($feat)";; esac
		python3 "$ZIMG" "$img" check-crc >/dev/null ||
			fail "$name: data CRC table is wrong"
	else
		case $feat in *ro_compat=0x2) ;; *) fail "$name: data CRC ($feat)";; esac
	fi
	case "$prog$text" in
	*zstd*|*lz4*) case $feat in incompat=0x[23]\ *) ;;
		      *) fail "$name: no compressed feature bit ($feat)";; esac;;
	*) case $feat in incompat=0x[01]\ *) ;;
	   *) fail "$name: compressed feature bit without compressed files ($feat)";; esac;;
	esac
	ok "$name round trip ($(stat -c %s "$img") bytes; all-XIP: $plain)"
}

t="$WORK/tree"
roundtrip default	"$t" crc   xip  xip
roundtrip no-crc	"$t" nocrc xip  xip  --no-data-crc
roundtrip zstd		"$t" crc   xip  zstd --compress=zstd
roundtrip zstd-all	"$t" crc   xip  xip  --compress=zstd --xip=all
roundtrip zstd1-4k	"$t" crc   zstd zstd --compress=zstd:1 --cluster-size=4K --xip=none
roundtrip zstd19-1m	"$t" nocrc xip  zstd --compress=zstd:19 --cluster-size=1M --no-data-crc
roundtrip zstd-packed	"$t" crc   xip  zstd --compress=zstd --pack-small=2048 -b 16K
roundtrip lz4		"$t" crc   xip  lz4  --compress=lz4
roundtrip lz4hc-none	"$t" crc   lz4  lz4  --compress=lz4:hc --xip=none --cluster-size=64K
roundtrip lz4-64k-bs	"$t" nocrc lz4  lz4  --compress=lz4 --xip=none -b 64K --pack-small=1000 --no-data-crc
roundtrip tar-zstd	"$WORK/tree.tar" crc xip  zstd --compress=zstd:3
roundtrip tar-none	"$WORK/tree.tar" crc zstd zstd --compress=zstd --xip=none --cluster-size=4K --pack-small=4096
roundtrip tar-lz4hc	"$WORK/tree.tar" nocrc xip lz4 --compress=lz4:hc --no-data-crc

# Compression pays: the compressible files shrink the image.
[ "$(stat -c %s "$WORK/zstd1-4k.xip")" -lt "$plain" ] ||
	fail "--xip=none --compress=zstd is not smaller than all-XIP"
ok "compression shrinks the image"

# Identical compressed files share their clusters: one copy less stored.
"$MKXIPFS" -v --compress=zstd "$t" "$WORK/v.xip" 2>"$WORK/v.log"
grep -q 'duplicate files' "$WORK/v.log" && ! grep -q ' 0 duplicate files' "$WORK/v.log" ||
	fail "no duplicates found: $(cat "$WORK/v.log")"
ok "dedupe among compressed files"

# Any number of threads gives the same bytes; so does tar vs directory
# with the same contents for the data CRC table (checked above).
for n in 1 2 3; do
	"$MKXIPFS" -q --compress=zstd:3 --cluster-size=4K --xip=none \
		--threads=$n "$t" "$WORK/th$n.xip"
done
cmp "$WORK/th1.xip" "$WORK/th2.xip" && cmp "$WORK/th1.xip" "$WORK/th3.xip" ||
	fail "the image depends on the number of threads"
"$MKXIPFS" -q --compress=zstd:3 --cluster-size=4K --xip=none --threads=2 \
	"$t" "$WORK/th2b.xip"
cmp "$WORK/th2.xip" "$WORK/th2b.xip" || fail "two runs differ"
ok "threads 1, 2, 3 and a rerun give identical images"

# Bad values: a clear message, exit 2, no output file.
for bad in "--compress=xz:unknown algorithm" "--compress=zstd:0:invalid zstd level" \
	   "--compress=zstd:23:invalid zstd level" "--compress=lz4:fast:invalid lz4 mode" \
	   "--cluster-size=3K:--cluster-size" "--cluster-size=2M:--cluster-size" \
	   "--xip=some:--xip" "--threads=0:--threads"; do
	opt=${bad%:*} msg=${bad##*:}
	set +e
	"$MKXIPFS" -q --compress=zstd $opt "$t" "$WORK/bad.xip" 2>"$WORK/err"
	st=$?
	set -e
	[ $st = 2 ] || fail "$opt: exit $st, want 2"
	grep -q -- "$msg" "$WORK/err" || fail "$opt: message: $(cat "$WORK/err")"
	[ ! -e "$WORK/bad.xip" ] || fail "$opt left an image"
done
expect_error "needs --compress" "$MKXIPFS" -q --xip=elf "$t" "$WORK/bad.xip"
expect_error "needs --compress" "$MKXIPFS" -q --cluster-size=4K "$t" "$WORK/bad.xip"
ls -A "$WORK" | grep -q '^\.bad' && fail "a temporary image was left behind"
ok "bad option values are refused"
