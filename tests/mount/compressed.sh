#!/bin/bash
# Mixed images mounted: files in place (ELF programs and libraries), packed
# small ELF files, zstd and LZ4 compressed files (partial last clusters, a
# file of exactly one cluster, raw clusters of random bytes, a 20 MiB
# file), an empty file.  Every byte reads right through read(), mmap and
# O_DIRECT, also at random odd offsets; programs run from a --xip=elf image
# and from one with every file compressed; the counters show each path;
# xipfs-map refuses a compressed file; passthrough (root, xfs) takes the
# files in place and leaves the compressed ones to the daemon; a normal
# user reads a compressed file.  With XIPFS_MOUNT_OPTS=io_uring (mount/io-uring.sh)
# the same runs over io_uring.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd ldd
need_cmd mkfs.xfs
need_cmd losetup
[ -c /dev/fuse ] || skip "needs /dev/fuse"
ZIMG="$top_srcdir/tests/zimg.py"
CHECK="$top_srcdir/tests/mount_check.py"

T=$WORK/tree
copy_programs "$T" /bin/ls /bin/sh
mkdir -p "$T/s" "$T/z"
head -c 2000 /bin/true >"$T/s/tiny-elf"	# ELF header, under --pack-small
head -c 3500 /bin/ls >"$T/s/tiny-elf2"
for n in 1 100 3000; do seq 1 "$n" | head -c "$n" >"$T/s/f$n"; done
: >"$T/empty"
# 16 KiB clusters: a cluster less one byte, exactly one, one more, partial.
for n in 16383 16384 16385 61441; do seq 1 100000 | head -c "$n" >"$T/z/t$n"; done
head -c 50000 /dev/urandom >"$T/z/random"	# clusters stored raw
{ seq 1 3000000; head -c 3000000 /dev/urandom; } | head -c 20971520 >"$T/z/big"
[ "$(stat -c %s "$T/z/big")" = 20971520 ] || fail "big is not 20 MiB"
echo 'a file to list' >"$T/z/listed"

"$MKXIPFS" -q --compress=zstd --cluster-size=16K --pack-small=4096 --xip=elf "$T" "$WORK/zstd.xip"
"$MKXIPFS" -q --compress=lz4 --cluster-size=16K --pack-small=4096 --xip=elf "$T" "$WORK/lz4.xip"
"$MKXIPFS" -q --compress=zstd --xip=none "$T" "$WORK/none.xip"
mnt=$WORK/mnt

# The images hold what the test is about.
storage() { python3 "$ZIMG" "$1" storage "$2" | awk '{print $2}'; }
for alg in zstd lz4; do
	for f in /bin/ls "$(cd "$T" && ls lib*/*/libc.so.* lib*/libc.so.* 2>/dev/null | head -1 | sed 's|^|/|')"; do
		[ "$(storage "$WORK/$alg.xip" "$f")" = xip ] || fail "$alg: $f is not in place"
	done
	[ "$(storage "$WORK/$alg.xip" /s/tiny-elf)" = packed ] || fail "$alg: tiny-elf is not packed"
	for f in /s/f1 /z/t16384 /z/t61441 /z/random /z/big; do
		[ "$(storage "$WORK/$alg.xip" $f)" = $alg ] || fail "$alg: $f is not $alg"
	done
	[ "$(storage "$WORK/$alg.xip" /empty)" = empty ] || fail "$alg: empty"
done
[ "$(storage "$WORK/none.xip" /bin/ls)" = zstd ] || fail "none: /bin/ls is not compressed"
ok "images: ELF files in place, small ELF files packed, the rest zstd or lz4"

zfiles="s/f1 s/f100 s/f3000 z/t16383 z/t16384 z/t16385 z/t61441 z/random z/big"

# Every byte, every way; the programs run; then the counters.
check_image() {	# check_image NAME [xipfs options]
	name=$1; shift
	: >"$WORK/xipfs.log"
	xipfs_mount "$WORK/$name.xip" "$mnt" -o "stats=$STATS" "$@"
	python3 "$TREECMP" "$T" "$mnt" >"$WORK/cmp.out" || fail "$name $*: trees differ: $(head "$WORK/cmp.out")"
	python3 "$CHECK" mapcmp "$T" "$mnt" >/dev/null || fail "$name $*: mmap or O_DIRECT bytes differ"
	python3 "$CHECK" preads "$T" "$mnt" 7 200 $zfiles bin/ls s/tiny-elf >/dev/null ||
		fail "$name $*: random preads differ"
	python3 "$CHECK" same "$T" "$mnt" z/big z/t61441 || fail "$name $*: mmap of a compressed file differs"
	out=$(chroot "$mnt" /bin/ls /z)
	[ "$out" = "$(cd "$T/z" && LC_ALL=C ls)" ] || fail "$name $*: chroot ls printed: $out"
	out=$(chroot "$mnt" /bin/sh -c 'x=6; echo $((x * 7))')
	[ "$out" = 42 ] || fail "$name $*: chroot sh printed: $out"
	xipfs_unmount "$mnt"
	zbytes=$(counter read.compressed_bytes) clusters=$(counter read.clusters)
	[ "$zbytes" -gt 20971520 ] || fail "$name $*: $zbytes bytes decompressed: $(cat "$STATS")"
	[ "$clusters" -ge 1280 ] || fail "$name $*: $clusters clusters"
	# Without -v a daemon says nothing unless something is wrong.
	[ ! -s "$WORK/xipfs.log" ] || fail "$name $*: the daemon complained: $(cat "$WORK/xipfs.log")"
	case ${XIPFS_MOUNT_OPTS:-} in
	*io_uring*) [ "$(counter read.uring_reads)" -gt 0 ] ||
		fail "$name $*: no READ over io_uring: $(cat "$STATS")";;
	esac
}

for alg in zstd lz4; do
	check_image $alg
	inplace=$(( $(counter read.copy_bytes) + $(counter read.splice_bytes) ))
	packed=$(counter read.packed_bytes)
	[ "$inplace" -gt 0 ] && [ "$packed" -gt 0 ] ||
		fail "$alg: in place $inplace, packed $packed: $(cat "$STATS")"
	ok "$alg: every file reads right (read, mmap, O_DIRECT, odd preads), programs run; $inplace bytes in place, $packed packed, $zbytes decompressed from $clusters clusters"
done
check_image zstd -s
ok "zstd, one thread (-s): the same"
check_image none
inplace=$(( $(counter read.copy_bytes) + $(counter read.splice_bytes) ))
[ "$inplace" = 0 ] || fail "none: $inplace bytes served in place from an image with every file compressed"
ok "--xip=none: programs run from compressed files through the page cache; nothing in place"

# xipfs-map maps a file in place and refuses a compressed one.
xipfs_mount "$WORK/zstd.xip" "$mnt"
"$XIPFS_MAP" "$mnt/bin/ls" | grep -q ' aligned$' || fail "xipfs-map: bin/ls: $("$XIPFS_MAP" "$mnt/bin/ls" 2>&1)"
"$XIPFS_MAP" -c "$mnt/bin/ls" | cmp - "$T/bin/ls" || fail "xipfs-map -c: bin/ls differs"
expect_error "compressed\|Operation not supported" "$XIPFS_MAP" "$mnt/z/big"
xipfs_unmount "$mnt"
ok "xipfs-map maps bin/ls and refuses z/big: $(cat "$WORK/err")"

# A normal user's mount reads compressed files too.
um=$WORK/user-mnt
mkdir "$um"
chown nobody "$um"
mounted="$um $mounted"
start_daemon user "$WORK/xipfs.log" "$um" as_user "$XIPFS" -f "$WORK/lz4.xip" "$um"
upid=${daemon_pid[user]}
for f in z/big z/t16385 s/tiny-elf; do
	as_user cmp "$T/$f" "$um/$f" || fail "nobody reads $f wrong"
done
as_user fusermount3 -u "$um" || fail "nobody cannot unmount"
wait "$upid" || fail "nobody's daemon exited $?"
ok "a normal user mounts the lz4 image and reads compressed, packed files"

# Passthrough takes the files in place only.
if ! "$XIPFS" --version | grep -q 'passthrough yes'; then
	without passthrough "this libfuse has no passthrough API (mount/passthrough.sh checks the fallback)"
fi
fsm=""
undo_fs() { [ -z "$fsm" ] || umount "$fsm" 2>/dev/null || umount -l "$fsm" 2>/dev/null || true; }
cleanup_hooks="unmount_all undo_fs $cleanup_hooks"
truncate -s 512M "$WORK/xfs.disk"	# sparse; mkfs.xfs wants 300 MB
mkfs.xfs -q -m reflink=1 -f "$WORK/xfs.disk"
mkdir "$WORK/xfs"
mount -o loop "$WORK/xfs.disk" "$WORK/xfs" || fail "cannot mount xfs"
fsm=$WORK/xfs
cp "$WORK/zstd.xip" "$WORK/xfs/"
: >"$WORK/xipfs.log"
# passthrough_min=0: every file in place passes through, the small ones too
xipfs_mount "$WORK/xfs/zstd.xip" "$mnt" -o "passthrough=on,passthrough_min=0,stats=$STATS"
python3 "$TREECMP" "$T" "$mnt" >/dev/null || fail "passthrough: trees differ"
python3 "$CHECK" same "$T" "$mnt" bin/ls z/big z/t16384 s/tiny-elf || fail "passthrough: read or mmap differs"
out=$(chroot "$mnt" /bin/ls /z)
[ "$out" = "$(cd "$T/z" && LC_ALL=C ls)" ] || fail "passthrough: chroot ls printed: $out"
xipfs_unmount "$mnt"
inplace=$(( $(counter read.copy_bytes) + $(counter read.splice_bytes) ))
zbytes=$(counter read.compressed_bytes)
opens=$(counter passthrough.opens)
[ "$inplace" = 0 ] || fail "passthrough: $inplace bytes of files in place went through the daemon"
[ "$zbytes" -gt 20971520 ] || fail "passthrough: $zbytes bytes decompressed"
[ "$opens" -gt 0 ] || fail "passthrough: no passthrough opens: $(cat "$STATS")"
ok "passthrough on xfs: files in place bypass the daemon ($opens opens), compressed ones are decompressed by it ($zbytes bytes)"
