#!/bin/bash
# A real root filesystem in a mixed image: Debian bookworm minbase with
# python3 and perl (scripts/make-rootfs.sh, cached after its first run)
# built with --xip=elf --compress=zstd, checked by xipfsck, and mounted:
# in a chroot of the mount dpkg --verify finds every packaged file intact,
# and python3, perl, ls and sh run, their ELF files mapped in place and
# their scripts and modules decompressed.  Once more with -o verify, the
# data CRCs checked on every block served.
# timeout: 3600 (the first run debootstraps the tree)
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
python3 - "$tar" "$img" "$WORK/list" "$top_srcdir/tests" <<'EOF' || fail "storage kinds differ (above)"
import re, sys, tarfile
tar, img_path, listing, tests = sys.argv[1:]
sys.path.insert(0, tests)
from zimg import storage


def elf_in_place(head):
    # ELF executables and shared objects (e_type 2, 3), either byte order.
    if len(head) < 18 or head[:4] != b"\x7fELF" or head[4] not in (1, 2):
        return False
    order = {1: "little", 2: "big"}.get(head[5])
    return order is not None and int.from_bytes(head[16:18], order) in (2, 3)


want = {}
with tarfile.open(tar) as t:
    for m in t:
        path = "/" + m.name.lstrip("./")
        if m.isreg():
            head = t.extractfile(m).read(18)
            want[path] = "empty" if m.size == 0 else "xip" if elf_in_place(head) else "zstd"
        elif m.islnk():	# a hard link: its target came first
            want[path] = want["/" + m.linkname.lstrip("./")]
img = open(img_path, "rb").read()
bad = [f"{p}: {storage(img, p)}, want {w}" for p, w in sorted(want.items())
       if storage(img, p) != w]
mappable = set()
for line in open(listing):
    m = re.match(r"\s*\d+ -\S+ .* (map|pack|zstd|lz4|-)\s+(/.*)$", line)
    if m and m.group(1) == "map":
        mappable.add(m.group(2))
xip = {p for p, w in want.items() if w == "xip"}
bad += [f"{p}: xipfsck -l says mappable" for p in sorted(mappable - xip)]
bad += [f"{p}: xipfsck -l says not mappable" for p in sorted(xip - mappable)]
if bad:
    print("\n".join(bad[:20]), file=sys.stderr)
kinds = {k: sum(1 for w in want.values() if w == k) for k in ("xip", "zstd", "empty")}
print(f"ok: paths of regular files: {kinds['xip']} ELF in place, "
      f"{kinds['zstd']} compressed, {kinds['empty']} empty")
sys.exit(1 if bad or not kinds["xip"] or not kinds["zstd"] else 0)
EOF

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
check_mount dev,suid,verify
