#!/bin/bash
# -o verify: one flipped data byte in a file in place, in a packed file and
# in a compressed file's stored cluster each give EIO on reading that file
# and exactly one logged complaint per damaged file, naming the inode and
# its path; files in other blocks read right; the counters count.
# Without verify the flipped byte in place is served (the option matters).
# A damaged checksum table refuses a verify mount (noverify mounts it); an
# image without data checksums mounts with one line saying so.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

T=$WORK/tree
mkdir -p "$T/bin" "$T/s" "$T/z"
cp /bin/true "$T/bin/prog"
cp /bin/ls "$T/bin/prog2"
head -c 2000 /bin/true >"$T/s/tiny-elf"	# packed: an ELF header, small
head -c 3000 /bin/ls >"$T/s/tiny-elf2"
head -c 75000 /dev/urandom | base64 >"$T/z/text"	# shrinks, to ~75%
{ seq 1 300000; head -c 1000000 /dev/urandom; } >"$T/z/other"
files="bin/prog bin/prog2 s/tiny-elf s/tiny-elf2 z/text z/other"
"$MKXIPFS" -q --compress=zstd --cluster-size=16K --pack-small=4096 --xip=elf "$T" "$WORK/good.xip"
python3 "$top_srcdir/tests/zimg.py" "$WORK/good.xip" check-crc >/dev/null || fail "the image has no good data CRC table"
python3 "$top_srcdir/tests/zimg.py" "$WORK/good.xip" storage /bin/prog /s/tiny-elf /z/text >"$WORK/storage"
[ "$(awk '{print $2}' "$WORK/storage" | paste -sd ' ')" = "xip packed zstd" ] ||
	fail "storage: $(cat "$WORK/storage")"

# Where each file's stored bytes are; flip one byte of each of three (of
# z/text, one in the middle of its stored clusters, away from its
# neighbours' blocks).
python3 "$top_srcdir/tests/stored_at.py" "$WORK/good.xip" $(printf '/%s ' $files) >"$WORK/at"
at() { awk -v p="/$1" '$1 == p {print $2}' "$WORK/at"; }
block=4096
half=$(awk '$1 == "/z/text" {print int(($3 - $2) / 2)}' "$WORK/at")
cp "$WORK/good.xip" "$WORK/bad.xip"
flipped=""
for spot in "bin/prog 1000" "s/tiny-elf 10" "z/text $half"; do
	set -- $spot
	off=$(( $(at "$1") + $2 ))
	python3 "$top_srcdir/tests/xipimg.py" "$WORK/bad.xip" flip "$off"
	flipped="$flipped $((off / block))"
done
# Files stored in none of those blocks must read right.
fine=$(awk -v bad="$flipped" -v b=$block 'BEGIN { n = split(bad, x, " "); for (i = 1; i <= n; i++) hit[x[i]] = 1 }
	$1 != "crc_table" { ok = 1; for (k = int($2 / b); k <= int(($3 - 1) / b); k++) if (k in hit) ok = 0
		if (ok) print substr($1, 2) }' "$WORK/at")
for f in bin/prog2 z/other; do
	case " $(echo $fine) " in *" $f "*) ;; *) fail "$f shares a damaged block (blocks$flipped; $(cat "$WORK/at"))";; esac
done

mnt=$WORK/mnt
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/bad.xip" "$mnt" -v -o "verify,stats=$STATS"
for f in bin/prog s/tiny-elf z/text; do
	for i in 1 2; do	# twice: the second read must not complain again
		expect_error "Input/output error" cat "$mnt/$f"
	done
	expect_error "Input/output error" dd if="$mnt/$f" of=/dev/null iflag=direct bs=4096 status=none
done
for f in $fine; do
	cmp "$T/$f" "$mnt/$f" || fail "verify: undamaged $f reads wrong"
done
xipfs_unmount "$mnt"
complaints=$(grep -c "fails its checksum; answering EIO" "$WORK/xipfs.log" || true)
[ "$complaints" = 3 ] || fail "$complaints complaints, want 3: $(cat "$WORK/xipfs.log")"
for f in bin/prog s/tiny-elf z/text; do
	grep -q "inode [0-9]* (/$f): data block [0-9]* (image offset [0-9]*) fails its checksum" "$WORK/xipfs.log" ||
		fail "no complaint names /$f: $(grep checksum "$WORK/xipfs.log")"
done
failed=$(counter verify.blocks_failed) checked=$(counter verify.blocks_checked)
[ "$failed" -ge 3 ] && [ "$checked" -gt 3 ] || fail "counters: $(cat "$STATS")"
ok "verify: EIO for the damaged file in place, packed file and compressed cluster, one complaint each ($complaints), $(echo $fine | wc -w) undamaged files read right; $checked blocks checked, $failed failed"

# Without verify the flipped byte in place is served as it is.
xipfs_mount "$WORK/bad.xip" "$mnt" -o noverify
set +e
cmp "$T/bin/prog" "$mnt/bin/prog" >"$WORK/cmp.out" 2>&1
st=$?
set -e
[ $st = 1 ] && grep -q "differ: byte 1001" "$WORK/cmp.out" ||
	fail "noverify: cmp status $st: $(cat "$WORK/cmp.out")"
cmp "$T/s/tiny-elf2" "$mnt/s/tiny-elf2" || fail "noverify: tiny-elf2"
xipfs_unmount "$mnt"
ok "noverify serves the flipped byte of bin/prog: $(cat "$WORK/cmp.out")"

# A damaged checksum table: verify refuses to mount, noverify mounts.
cp "$WORK/good.xip" "$WORK/table.xip"
python3 "$top_srcdir/tests/xipimg.py" "$WORK/table.xip" flip $(( $(awk '$1 == "crc_table" {print $2}' "$WORK/at") + 2 ))
mkdir -p "$mnt"
expect_error "table.xip: verify: the data checksum table is damaged.*refusing to mount" \
	"$XIPFS" -f -o verify "$WORK/table.xip" "$mnt"
is_mounted "$mnt" && fail "mounted with a damaged table"
xipfs_mount "$WORK/table.xip" "$mnt" -o noverify
for f in $files; do cmp "$T/$f" "$mnt/$f" || fail "noverify, damaged table: $f"; done
xipfs_unmount "$mnt"
ok "a damaged CRC table refuses -o verify ($(head -1 "$WORK/err")); noverify mounts it"

# No data checksums at all: verify says so once and mounts.
"$MKXIPFS" -q --no-data-crc --compress=lz4 --xip=elf "$T" "$WORK/nocrc.xip"
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/nocrc.xip" "$mnt" -o verify
for f in $files; do cmp "$T/$f" "$mnt/$f" || fail "no CRCs: $f"; done
xipfs_unmount "$mnt"
[ "$(grep -c "verify: the image has no data checksums" "$WORK/xipfs.log")" = 1 ] ||
	fail "no CRCs: $(cat "$WORK/xipfs.log")"
ok "an image without data checksums mounts with -o verify: $(head -1 "$WORK/xipfs.log")"
