#!/bin/bash
# An image without xattrs says so (compat no_xattrs), and a mount of it
# answers the first GETXATTR with ENOSYS, which the kernel keeps for the
# mount: ls -l (security.selinux, ACLs) and exec (security.capability)
# then send none.  An image with an xattr keeps its per-entry GETXATTR and
# its values; an image that says it has none while an inode carries some
# is damaged: xipfsck says so, and that inode gives EIO on the mount.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd getfattr
[ -c /dev/fuse ] || skip "needs /dev/fuse"

T=$WORK/tree
mkdir -p "$T/d"
for i in $(seq 1 20); do echo "$i" >"$T/d/f$i"; done
cp /bin/true "$T/true"
entries=22
mnt=$WORK/mnt

# compat IMAGE: the superblock's compat bits, as xipfsck -s prints them.
compat() {
	local c
	c=$("$XIPFSCK" --super "$1" | awk '$1 == "compat:" {print $2}')
	[ -n "$c" ] || fail "xipfsck --super $1 shows no compat line"
	echo "$c"
}

# getxattrs: the GETXATTR count of the running daemon's record.
getxattrs() {
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	counter ops.GETXATTR
}

# 1. No xattrs anywhere: the flag, and at most one GETXATTR for two ls -lR
# and two execs.
"$MKXIPFS" -q "$T" "$WORK/none.xip"
c=$(compat "$WORK/none.xip")
[ $((c & 2)) = 2 ] && "$XIPFSCK" --super "$WORK/none.xip" | grep -q '^compat: .*(no_xattrs)$' ||
	fail "no no_xattrs flag: compat $c"
xipfs_mount "$WORK/none.xip" "$mnt" -o "stats=$STATS"
for _ in 1 2; do
	ls -lR "$mnt" >/dev/null
	"$mnt/true" || fail "cannot run true from the mount"
done
n=$(getxattrs)
[ "$n" -le 1 ] || fail "$n GETXATTR for two ls -lR of $entries entries and two execs"
[ -z "$(getfattr --absolute-names -d -m - "$mnt/d/f1" 2>&1)" ] || fail "getfattr lists something: $(getfattr --absolute-names -d -m - "$mnt/d/f1" 2>&1)"
xipfs_unmount "$mnt"
ok "no xattrs: flag set, $n GETXATTR for two ls -lR of $entries entries and two execs, getfattr -d lists nothing"

# 2. One xattr: no flag, the value reads back, and ls -l asks per entry
# (what the flag saves).
echo "/d/f1 x user.note=kept" >"$WORK/dt"
"$MKXIPFS" -q -D "$WORK/dt" "$T" "$WORK/one.xip"
c=$(compat "$WORK/one.xip")
[ $((c & 2)) = 0 ] || fail "no_xattrs set on an image with an xattr: compat $c"
xipfs_mount "$WORK/one.xip" "$mnt" -o "stats=$STATS"
[ "$(getfattr --absolute-names --only-values -n user.note "$mnt/d/f1")" = kept ] || fail "user.note does not read back"
before=$(getxattrs)
ls -lR "$mnt" >/dev/null
n=$(($(getxattrs) - before))
[ "$n" -ge "$entries" ] || fail "ls -lR of $entries entries sent only $n GETXATTR on an image with xattrs"
xipfs_unmount "$mnt"
ok "an xattr: no flag, its value read back, ls -lR sent $n GETXATTR"

# 3. The flag on an image whose inode carries an xattr: damage.
cp "$WORK/one.xip" "$WORK/liar.xip"
python3 "$top_srcdir/tests/xipimg.py" "$WORK/liar.xip" set-sb compat $((c | 2))
set +e
"$XIPFSCK" "$WORK/liar.xip" >"$WORK/fsck.out" 2>&1
st=$?
set -e
[ $st = 1 ] && grep -q "inode [0-9]*: carries xattrs, but the superblock says no inode does" "$WORK/fsck.out" &&
	grep -q "inode [0-9]* (/d/f1): corrupt" "$WORK/fsck.out" ||
	fail "xipfsck on the liar: exit $st: $(cat "$WORK/fsck.out")"
xipfs_mount "$WORK/liar.xip" "$mnt"
! cat "$mnt/d/f1" 2>"$WORK/err" >/dev/null && grep -q "Input/output error" "$WORK/err" ||
	fail "reading the inode that carries an xattr: $(cat "$WORK/err")"
[ "$(cat "$mnt/d/f2")" = 2 ] || fail "d/f2 does not read back"
xipfs_unmount "$mnt"
ok "no_xattrs on an image with an xattr: xipfsck names /d/f1 and exits 1, EIO for that inode only"
