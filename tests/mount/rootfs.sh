#!/bin/bash
# A real root filesystem in a mixed image: Debian bookworm minbase with
# python3 and perl (scripts/make-rootfs.sh, cached after its first run)
# built with --xip=elf --compress=zstd, checked by xipfsck, and mounted:
# in a chroot of the mount dpkg --verify finds every packaged file intact,
# and python3, perl, ls and sh run, their ELF files mapped in place and
# their scripts and modules decompressed; the data CRCs checked on every
# block served (verify, the default).  Once more with -o noverify.
# timeout: 7200 (the first run debootstraps the tree)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd chroot
need_cmd debootstrap
[ -c /dev/fuse ] || skip "needs /dev/fuse"

tar=$("$top_srcdir/scripts/make-rootfs.sh") || fail "scripts/make-rootfs.sh failed"
img=$WORK/rootfs.xip
"$MKXIPFS" -q --xip=elf --compress=zstd --tar="$tar" "$img" ||
	fail "mkxipfs --xip=elf --compress=zstd --tar=$tar failed"
ok "built $(($(stat -c %s "$img") >> 20)) MiB from $(($(stat -c %s "$tar") >> 20)) MiB of tar"
"$XIPFSCK" "$img" >"$WORK/fsck.out" 2>&1 || fail "xipfsck: $(tail -5 "$WORK/fsck.out")"
ok "xipfsck finds the image clean"

# How every regular file is stored, against what the tar holds: ELF
# executables and shared objects in place, every other file with data
# compressed.  tests/zimg.py reads the image without libxipfs; xipfsck -l
# must show the same files, and only them, as mappable.
"$XIPFSCK" -l "$img" >"$WORK/list" || fail "xipfsck -l failed"
python3 "$top_srcdir/tests/mount/rootfs_storage.py" "$tar" "$img" "$WORK/list" "$top_srcdir/tests" || fail "storage kinds differ (above)"

# in_root WHAT CMD...: CMD in a chroot of the mount; it must succeed.
in_root() {
	local what=$1; shift
	chroot "$mnt" "$@" >"$WORK/out" 2>&1 || fail "$what: $* failed: $(tail -5 "$WORK/out")"
}
# The mount with dev (the tree's own /dev/null, which perl -e and sh
# redirections open) and suid, as a root file system has them.
check_mount() {
	local opts=$1 out
	mnt=$WORK/mnt
	xipfs_mount "$img" "$mnt" -o "$opts"
	in_root "$opts" dpkg --verify
	[ ! -s "$WORK/out" ] || fail "$opts: dpkg --verify reports: $(head -20 "$WORK/out")"
	in_root "$opts" python3 -c 'import hashlib, json, zlib
print(json.dumps([hashlib.sha256(b"xip").hexdigest()[:8], zlib.crc32(b"xip")]))'
	[ "$(cat "$WORK/out")" = '["ed4e2be4", 1100562728]' ] ||
		fail "$opts: python3 printed $(cat "$WORK/out")"
	in_root "$opts" perl -MPOSIX -MData::Dumper -e \
		'$Data::Dumper::Terse = 1; print Dumper([floor(7.5), "perl"])'
	out=$(tr -d ' \n' <"$WORK/out")
	[ "$out" = "['7','perl']" ] || fail "$opts: perl printed $(cat "$WORK/out")"
	in_root "$opts" /bin/ls -ln /usr/bin/perl
	grep -q ' 0 *0 .* /usr/bin/perl$' "$WORK/out" || fail "$opts: ls printed $(cat "$WORK/out")"
	in_root "$opts" sh -c 'ls /usr/lib/python3* | wc -l >/dev/null && echo "$(id -u) sh"'
	[ "$(cat "$WORK/out")" = "0 sh" ] || fail "$opts: sh printed $(cat "$WORK/out")"
	xipfs_unmount "$mnt"
	ok "-o $opts: dpkg --verify reports nothing; python3, perl, ls and sh run"
}
check_mount dev,suid
check_mount dev,suid,noverify
