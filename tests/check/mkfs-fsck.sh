#!/bin/bash
# mkfs.xipfs and fsck.xipfs, the names mkfs(8) and fsck(8) run: fsck.xipfs
# takes fsck's options and answers with fsck's exit codes (0 clean, 4
# damaged, 8 operational error, 16 usage); mkfs.xipfs into a file is
# mkxipfs, byte for byte; onto a block device (a loop device, as root) it
# writes an image that verifies there and refuses one too small; it never
# replaces a node that is neither a file nor a block device.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
: "${MKFS_XIPFS:=$top_builddir/mkfs.xipfs}" "${FSCK_XIPFS:=$top_builddir/fsck.xipfs}"
export MKXIPFS XIPFSCK	# the wrappers run these builds, not installed ones

# status CMD...: run it, print its exit status.
status() { set +e; "$@" >"$WORK/out" 2>"$WORK/err"; echo $?; set -e; }
want() {
	st=$1; shift
	got=$(status "$@")
	[ "$got" = "$st" ] || fail "$*: status $got, want $st: $(cat "$WORK/err")"
}

make_sample_tree "$WORK/tree"
export SOURCE_DATE_EPOCH=1700000000
"$MKXIPFS" -q "$WORK/tree" "$WORK/ref.xip"
"$MKFS_XIPFS" -q "$WORK/tree" "$WORK/img.xip" || fail "mkfs.xipfs TREE FILE"
cmp -s "$WORK/ref.xip" "$WORK/img.xip" || fail "mkfs.xipfs into a file differs from mkxipfs"
"$MKFS_XIPFS" -q --block-size=16K "$WORK/tree" "$WORK/img16.xip" ||
	fail "mkfs.xipfs with an option"
"$XIPFSCK" -s "$WORK/img16.xip" | grep -q 16384 || fail "--block-size not passed on"
want 0 "$MKFS_XIPFS" --version
want 2 "$MKFS_XIPFS" "$WORK/tree"
ok "mkfs.xipfs SOURCE FILE is mkxipfs"

for opts in "" -n -y -a -p -f "-f -y" -C0 "-C 3" "-a -f -C 0"; do
	want 0 "$FSCK_XIPFS" $opts "$WORK/img.xip"
	[ ! -s "$WORK/out" ] && [ ! -s "$WORK/err" ] ||
		fail "fsck.xipfs $opts on a clean image printed something"
done
want 0 "$FSCK_XIPFS" -v "$WORK/img.xip"
grep -q clean "$WORK/out" || fail "fsck.xipfs -v printed no summary"
want 0 "$FSCK_XIPFS" -V
grep -q xipfsck "$WORK/out" || fail "fsck.xipfs -V"
want 0 "$FSCK_XIPFS" --help
ok "fsck.xipfs: a clean image is 0 with -n, -y, -a, -p, -f, -C"

# Damage: one byte of the metadata (its CRC no longer matches).
cp "$WORK/img.xip" "$WORK/bad.xip"
printf '\377' | dd of="$WORK/bad.xip" bs=1 seek=300 conv=notrunc status=none
for opts in "" -n -y -p "-a -f"; do
	want 4 "$FSCK_XIPFS" $opts "$WORK/bad.xip"
	grep -q "cannot be repaired" "$WORK/err" || fail "fsck.xipfs $opts: no hint"
done
# Damage in file data (data checksums are on by default): caught as well.
at=$("$XIPFSCK" -l "$WORK/img.xip" | awk '$NF == "/three-mb" { print $(NF - 2) }')
cp "$WORK/img.xip" "$WORK/bad-data.xip"
# 16 bytes no random file holds by chance
printf 'damage, damage!!' | dd of="$WORK/bad-data.xip" bs=1 seek=$((at + 12345)) conv=notrunc status=none
want 4 "$FSCK_XIPFS" "$WORK/bad-data.xip"
grep -q "/three-mb): data block" "$WORK/err" || fail "fsck.xipfs: data damage: $(cat "$WORK/err")"
head -c 8192 /dev/urandom >"$WORK/random.bin"
want 4 "$FSCK_XIPFS" "$WORK/random.bin"
want 8 "$FSCK_XIPFS" "$WORK/missing.xip"
want 8 "$FSCK_XIPFS" "$WORK"
want 16 "$FSCK_XIPFS"
want 16 "$FSCK_XIPFS" "$WORK/img.xip" "$WORK/img.xip"
want 16 "$FSCK_XIPFS" -Z "$WORK/img.xip"
ok "fsck.xipfs: damaged 4, operational error 8, usage 16"

# Nothing but files and block devices is ever written.
mkdir "$WORK/dir"
expect_error "refusing" "$MKFS_XIPFS" -q "$WORK/tree" "$WORK/dir"
[ -d "$WORK/dir" ] || fail "the directory was replaced"
mkfifo "$WORK/fifo"
expect_error "refusing" "$MKFS_XIPFS" -q "$WORK/tree" "$WORK/fifo"
[ -p "$WORK/fifo" ] || fail "the fifo was replaced"
ok "mkfs.xipfs refuses a directory and a fifo, and leaves them"

need_root
need_cmd losetup
need_cmd blockdev
loops=""
detach() { for l in $loops; do losetup -d "$l" 2>/dev/null || true; done; }
cleanup_hooks="detach $cleanup_hooks"
mknod "$WORK/chr" c 1 3
expect_error "refusing" "$MKFS_XIPFS" -q "$WORK/tree" "$WORK/chr"
[ -c "$WORK/chr" ] || fail "the character device node was replaced"

size=$(stat -c %s "$WORK/ref.xip")
truncate -s $((size + 3 * 1048576)) "$WORK/disk"
loop=$(losetup -f --show "$WORK/disk") || fail "losetup"
loops="$loop $loops"
"$MKFS_XIPFS" -q "$WORK/tree" "$loop" || fail "mkfs.xipfs TREE $loop"
[ -b "$loop" ] || fail "$loop is no longer a block device"
cmp -s -n "$size" "$WORK/ref.xip" "$loop" || fail "$loop does not hold the image"
want 0 "$FSCK_XIPFS" -a "$loop"

truncate -s $((size / 2)) "$WORK/small"
small=$(losetup -f --show "$WORK/small") || fail "losetup"
loops="$small $loops"
expect_error "needs" "$MKFS_XIPFS" -q "$WORK/tree" "$small"
want 4 "$FSCK_XIPFS" "$small"
ok "mkfs.xipfs onto a loop device: written, verified; too small refused"
