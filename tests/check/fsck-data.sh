#!/bin/bash
# xipfsck's data pass: in images with XIP, packed and compressed (zstd,
# lz4) files and data checksums, one flipped byte in any file's stored
# bytes or in padding is caught and named; --metadata-only reads no data
# (it passes such an image); without data checksums a broken cluster is
# still caught by decompressing; extract gives back compressed files byte
# for byte, sparse, and never leaves a file cut short; output is bounded.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd cmp

# status CMD...: run it, print its exit status; output in $WORK/out, err.
status() { set +e; "$@" >"$WORK/out" 2>"$WORK/err"; echo $?; set -e; }
want() {	# STATUS CMD...
	st=$1; shift
	got=$(status "$@")
	[ "$got" = "$st" ] || fail "$*: status $got, want $st: $(cat "$WORK/err")"
}
# flip IMAGE OFFSET: invert every bit of one byte.
flip() {
	b=$(od -An -tu1 -j "$(($2))" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$(($2))" conv=notrunc status=none
}
# col IMAGE PATH N: column $(NF - N) of PATH's line in xipfsck -l
# (0 path, 1 storage kind, 2 offset of the first stored byte; $7 stored).
col() { "$XIPFSCK" -l "$1" | awk -v p="$2" -v n="$3" '$NF == p { print $(NF - n) }'; }
stored() { "$XIPFSCK" -l "$1" | awk -v p="$2" '$NF == p { print $7 }'; }
ino_of() { "$XIPFSCK" -l "$1" | awk -v p="$2" '$NF == p { print $1 }'; }

T=$WORK/tree
mkdir -p "$T/bin" "$T/etc" "$T/share"
cp "$(type -P true)" "$T/bin/true"		# ELF: stays XIP
seq -f 'line %g of a text that repeats' 1 40000 >"$T/share/numbers"
head -c 2000 "$T/bin/true" >"$T/bin/small"	# small ELF: XIP, packed
printf 'small\n' >"$T/etc/small"		# small, not ELF: compressed
head -c 300000 /dev/urandom >"$T/share/random"	# clusters stored raw
{ seq 1 1000; head -c $((6 << 20)) /dev/zero; seq 1 1000; } >"$T/share/holes"
cp "$T/share/numbers" "$T/share/numbers-again"	# identical: stored once
common="--xip=elf --pack-small=4096 --cluster-size=64K"
for alg in zstd lz4; do
	"$MKXIPFS" -q $common --compress=$alg "$T" "$WORK/$alg.xip" ||
		fail "mkxipfs --compress=$alg"
done
"$MKXIPFS" -q $common --compress=zstd --no-data-crc "$T" "$WORK/nocrc.xip"

# The listing says how each file is stored, and what it takes.
for alg in zstd lz4; do
	img=$WORK/$alg.xip
	[ "$(col "$img" /bin/true 1)" = map ] || fail "$alg: /bin/true is not XIP: $(col "$img" /bin/true 1)"
	[ "$(col "$img" /bin/small 1)" = pack ] || fail "$alg: /bin/small not packed"
	[ "$(col "$img" /share/numbers 1)" = $alg ] || fail "$alg: /share/numbers not $alg"
	s=$(stored "$img" /share/numbers) n=$(stat -c %s "$T/share/numbers")
	[ "$s" -lt $((n / 2)) ] || fail "$alg: /share/numbers stored in $s of $n bytes"
	[ "$(col "$img" /share/numbers-again 2)" = "$(col "$img" /share/numbers 2)" ] ||
		fail "$alg: identical files stored twice"
	"$XIPFSCK" -s "$img" | grep -q 'incompat:.*compressed' || fail "$alg: -s: no compressed"
	"$XIPFSCK" -s "$img" | grep -q 'ro_compat:.*data_crc' || fail "$alg: -s: no data_crc"
	want 0 "$XIPFSCK" -v "$img"
	grep -q 'blocks match their checksums' "$WORK/out" || fail "$alg: -v: $(cat "$WORK/out")"
	grep -q 'clusters of [1-9][0-9]* compressed files decompress' "$WORK/out" ||
		fail "$alg: -v: no clusters: $(cat "$WORK/out")"
	[ ! -s "$WORK/err" ] || fail "$alg: a clean image printed: $(cat "$WORK/err")"
done
ok "clean zstd and lz4 images pass; -l shows map, pack, zstd, lz4 and stored bytes"

# damaged NAME IMAGE OFFSET PATH...: flip the byte, check every pass's
# verdict; each PATH holds the byte.
damaged() {
	name=$1 img=$2 at=$3; shift 3
	cp "$img" "$WORK/$name.xip"
	flip "$WORK/$name.xip" "$at"
	want 1 "$XIPFSCK" "$WORK/$name.xip"
	for path; do
		grep -q "inode $(ino_of "$img" "$path") ($path): data block [0-9]* (image offset 0x[0-9a-f]*): checksum mismatch" "$WORK/err" ||
			fail "$name: the bad block is not put on $path: $(cat "$WORK/err")"
	done
	grep -q "data: 1 bad block" "$WORK/err" || fail "$name: no total: $(cat "$WORK/err")"
	# the quick check reads no data, so it passes
	want 0 "$XIPFSCK" --metadata-only "$WORK/$name.xip"
	want 0 "$XIPFSCK" -m -v "$WORK/$name.xip"
	grep -q 'not checked (--metadata-only)' "$WORK/out" || fail "$name: -m -v: $(cat "$WORK/out")"
	ok "$name: caught and named; --metadata-only passes it"
}
img=$WORK/zstd.xip
damaged xip "$img" $(( $(col "$img" /bin/true 2) + 100 )) /bin/true
damaged packed "$img" $(( $(col "$img" /bin/small 2) + 2 )) /bin/small
# a stored cluster; both files of the one stored content are named
damaged zstd-cluster "$img" \
	$(( $(col "$img" /share/numbers 2) + $(stored "$img" /share/numbers) / 2 )) \
	/share/numbers /share/numbers-again
img=$WORK/lz4.xip
damaged lz4-cluster "$img" \
	$(( $(col "$img" /share/numbers 2) + $(stored "$img" /share/numbers) / 3 )) \
	/share/numbers /share/numbers-again

# Padding: the gap before a file aligned to 2 MiB holds no file's data.
P=$WORK/ptree
mkdir -p "$P"
printf 'a\n' >"$P/a"
head -c $((3 << 20)) /dev/urandom >"$P/big"
"$MKXIPFS" -q --align-huge "$P" "$WORK/pad.xip"
big=$(( $(col "$WORK/pad.xip" /big 2) ))
[ $((big % (2 << 20))) = 0 ] && [ "$big" -gt 0 ] || fail "/big at $big, not on 2 MiB"
cp "$WORK/pad.xip" "$WORK/pad-bad.xip"
flip "$WORK/pad-bad.xip" $((big - 4096))
want 1 "$XIPFSCK" "$WORK/pad-bad.xip"
grep -q "data block [0-9]* (image offset $(printf 0x%x $((big - 4096)))): checksum mismatch in padding" "$WORK/err" ||
	fail "padding: $(cat "$WORK/err")"
! grep -q "inode" "$WORK/err" || fail "padding blamed on a file: $(cat "$WORK/err")"
want 0 "$XIPFSCK" -m "$WORK/pad-bad.xip"
ok "a flipped byte in padding is caught as padding"

# Output stays bounded: 200 bad blocks give at most 100 lines and totals.
cp "$WORK/pad.xip" "$WORK/many.xip"
for i in $(seq 1 200); do flip "$WORK/many.xip" $((big + i * 4096)); done
want 1 "$XIPFSCK" "$WORK/many.xip"
n=$(wc -l <"$WORK/err")
[ "$n" -le 103 ] || fail "200 bad blocks gave $n lines"
grep -q "data: 200 bad blocks (files named for the first 100 only)" "$WORK/err" ||
	fail "no bounded total: $(tail -3 "$WORK/err")"
ok "200 bad blocks: $n lines"

# Without data checksums: a clean image says so, a broken frame is caught.
want 0 "$XIPFSCK" -v "$WORK/nocrc.xip"
grep -q 'not checksummed' "$WORK/out" || fail "nocrc -v: $(cat "$WORK/out")"
[ ! -s "$WORK/err" ] || fail "nocrc: a clean image printed: $(cat "$WORK/err")"
cp "$WORK/nocrc.xip" "$WORK/nocrc-bad.xip"
at=$(col "$WORK/nocrc.xip" /share/numbers 2)
flip "$WORK/nocrc-bad.xip" "$at"	# the first byte of a zstd frame's magic
want 1 "$XIPFSCK" "$WORK/nocrc-bad.xip"
grep -q "($(printf /share/numbers)): cluster 0 (image offset $(printf 0x%x $((at)))," "$WORK/err" ||
	fail "nocrc: the broken cluster is not named: $(cat "$WORK/err")"
grep -q "does not decompress" "$WORK/err" || fail "nocrc: $(cat "$WORK/err")"
ok "no data CRCs: noted with -v; a broken cluster is caught by decompressing"

# Extract: byte for byte, compressed files too, and sparse.
for alg in zstd lz4; do
	"$XIPFSCK" -q -x "$WORK/$alg.out" "$WORK/$alg.xip" || fail "$alg: extract"
	for f in bin/true bin/small etc/small share/numbers share/numbers-again share/random share/holes; do
		cmp "$T/$f" "$WORK/$alg.out/$f" || fail "$alg: extracted $f differs"
	done
	used=$(($(stat -c %b "$WORK/$alg.out/share/holes") * 512))
	[ "$used" -lt $((1 << 20)) ] || fail "$alg: share/holes takes $used bytes: not sparse"
done
ok "extract of zstd and lz4 images is byte-identical, and sparse"

# Damaged data costs only the files it is in: they are named and left out
# (nothing cut short), the rest is extracted, and the status is 1; with
# --metadata-only (no CRCs checked) the broken cluster is met while
# decompressing, and its file is left out all the same.
want 1 "$XIPFSCK" -x "$WORK/bad1.out" "$WORK/zstd-cluster.xip"
grep -q "(.*/share/numbers): .*checksum mismatch; file not extracted" "$WORK/err" ||
	fail "damaged extract: $(cat "$WORK/err")"
[ ! -e "$WORK/bad1.out/share/numbers" ] || fail "damaged image: share/numbers was written"
for f in bin/true share/random; do
	cmp "$T/$f" "$WORK/bad1.out/$f" || fail "damaged image: intact $f not extracted"
done
want 1 "$XIPFSCK" -m -x "$WORK/bad2.out" "$WORK/nocrc-bad.xip"
grep -q "(.*/share/numbers): cannot decompress the cluster at byte 0: .*file not extracted" "$WORK/err" ||
	fail "broken cluster while extracting: $(cat "$WORK/err")"
[ ! -e "$WORK/bad2.out/share/numbers" ] || fail "a file cut short was left in place"
cmp "$T/bin/true" "$WORK/bad2.out/bin/true" || fail "broken cluster: intact bin/true not extracted"
ok "extract leaves out the files whose data is damaged, named, nothing cut short; the rest is extracted"
