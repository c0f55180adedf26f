#!/bin/bash
# Hostile input, each case found by trying to break the tools (issue 10):
# short device-table lines, device numbers Linux cannot hold, images that
# claim 2^32 inodes, malformed ACLs, symlink targets with a NUL, mistyped
# entries and directory hard links, too deep trees, hard links under a
# mode-000 directory, too many xattrs, bad options.  Every bad input must
# give a message and a nonzero exit (or EIO on the mount), never a crash,
# a hang, or an output file left behind.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd python3
need_cmd getfattr
[ -c /dev/fuse ] && [ -w /dev/fuse ] || skip "needs a writable /dev/fuse"

GEN="python3 $top_srcdir/tests/hostile_inputs.py"
XIPIMG="python3 $top_srcdir/tests/xipimg.py"
tree=$WORK/tree out=$WORK/out.xip mnt=$WORK/mnt
mkdir -p "$tree/dir" "$mnt"
echo hello >"$tree/hello.txt"
chmod 644 "$tree/hello.txt"
ln -s hello.txt "$tree/link"
mkdir -p "$tree/a/x" "$tree/b"

# A failed build exits 1 or 2 with MESSAGE on stderr and leaves no output.
build_fails() {
	msg=$1; shift
	rm -f "$out"
	expect_error "$msg" "$MKXIPFS" "$@"
	[ ! -e "$out" ] || fail "$* left $out behind"
}

# ---- 1. device table: every field count, then a seeded random corpus
for line in '/x l' '/etc/motd x' '/x' '/x c' '/x c 644 0 0' \
	'/x c 644 0 0 1' '/x b 644 0 0 1 2 3' '/x d 755' '/x m 644 0' \
	'/x p' '/x s 644' '/x x' '/hello.txt x user.a' '/x l t 0' '/x q 1'; do
	printf '%s\n' "$line" >"$WORK/dt"
	build_fails "dt:1: " -D "$WORK/dt" "$tree" "$out"
done
ok "short and long device-table lines are refused with file:line"

$GEN devtable-lines 400 10 >"$WORK/lines"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '/dir d 755 0 0\n%s\n' "$line" >"$WORK/dt"
	rm -f "$out"
	set +e
	"$MKXIPFS" -q -D "$WORK/dt" "$tree" "$out" 2>"$WORK/err"
	st=$?
	set -e
	[ $st -lt 128 ] || fail "mkxipfs crashed ($st) on line $n: $line"
	if [ $st -ne 0 ]; then
		[ ! -e "$out" ] || fail "line $n: failed build left $out: $line"
		grep -q 'dt:2: \|mkxipfs: ' "$WORK/err" ||
			fail "line $n: no message: $line"
	else
		"$XIPFSCK" -q "$out" || fail "line $n built a damaged image: $line"
	fi
done <"$WORK/lines"
ok "$n random device-table lines: no crash, no partial output"

# ---- 2. device numbers the kernel cannot hold
printf '/d c 644 0 0 4096 0\n' >"$WORK/dt"
build_fails "major '4096' out of range" -D "$WORK/dt" "$tree" "$out"
printf '/d b 644 0 0 1 1048576\n' >"$WORK/dt"
build_fails "minor '1048576' out of range" -D "$WORK/dt" "$tree" "$out"
$GEN tar-dev "$WORK/dev.tar" $((1 << 40)) 0
build_fails "Linux holds majors up to 4095" --tar "$WORK/dev.tar" "$out"
$GEN tar-dev "$WORK/dev.tar" 4097 1
build_fails "device 4097,1" --tar "$WORK/dev.tar" "$out"
printf '/d c 644 0 0 4095 1048575\n/e c 644 0 0 5 1\n' >"$WORK/dt"
"$MKXIPFS" -q -D "$WORK/dt" "$tree" "$WORK/dev.xip"
"$XIPFSCK" -l "$WORK/dev.xip" | grep -q ' 4095,1048575 .* /d$' ||
	fail "largest device number not stored"
# the same number patched past the limit: damage to xipfsck, EIO on a mount
$XIPIMG "$WORK/dev.xip" set-inode e data $(((4097 << 32) | 1))
expect_error "inode [0-9]*: corrupt image" "$XIPFSCK" "$WORK/dev.xip"
xipfs_mount "$WORK/dev.xip" "$mnt"
[ "$(stat -c %t,%T "$mnt/d")" = "fff,fffff" ] || fail "d has the wrong number"
expect_error "Input/output error" stat "$mnt/e"
xipfs_unmount "$mnt"
ok "device numbers: refused at build, damage in xipfsck, EIO on the mount"

# ---- 3. work bounded by the image, not by its claims
"$MKXIPFS" -q "$tree" "$WORK/claim.xip"
$XIPIMG "$WORK/claim.xip" claim-inodes 0xffffffff
[ "$(stat -c %s "$WORK/claim.xip")" -gt $((1 << 38)) ] ||
	fail "claim image is not the size its superblock claims"
# timeouts guard against a hang (the old walk took over 10 minutes)
timeout 60 "$XIPFSCK" -s "$WORK/claim.xip" >"$WORK/super" ||
	fail "xipfsck -s failed on a valid superblock"
grep -q '^inodes: *4294967295$' "$WORK/super" || fail "-s shows no count"
set +e
timeout 60 "$XIPFSCK" "$WORK/claim.xip" 2>"$WORK/err"
st=$?
timeout 60 "$XIPFSCK" -q "$WORK/claim.xip"
stq=$?
timeout 60 "$XIPFSCK" -l "$WORK/claim.xip" >"$WORK/list" 2>>"$WORK/err"
stl=$?
set -e
[ $st = 1 ] && [ $stq = 1 ] || fail "verify of the claim: status $st/$stq"
[ $stl -lt 124 ] || fail "list of the claim did not end ($stl)"
[ "$(wc -l <"$WORK/err")" -lt 300 ] ||
	fail "unbounded output: $(wc -l <"$WORK/err") lines"
grep -q 'too many problems; verification stopped' "$WORK/err" ||
	fail "no word that verification stopped"
ok "an image claiming 2^32 inodes: bounded time and output"

# ---- 4. ACL and capability values
printf '/hello.txt x system.posix_acl_access=0xdeadbeef\n' >"$WORK/dt"
build_fails "not a valid POSIX ACL value" -D "$WORK/dt" "$tree" "$out"
printf '/hello.txt x security.capability=0x0100\n' >"$WORK/dt"
build_fails "not a valid file capability value" -D "$WORK/dt" "$tree" "$out"
# user_obj rw-, group_obj r--, other r--: valid
acl=0x0200000001000600ffffffff04000400ffffffff20000400ffffffff
printf '/hello.txt x system.posix_acl_access=%s\n' $acl >"$WORK/dt"
"$MKXIPFS" -q -D "$WORK/dt" "$tree" "$WORK/acl.xip"
"$XIPFSCK" -q "$WORK/acl.xip" || fail "a valid ACL is called damage"
$XIPIMG "$WORK/acl.xip" poke-xattr hello.txt system.posix_acl_access 0 0xef
expect_error "xattr block" "$XIPFSCK" "$WORK/acl.xip"
xipfs_mount "$WORK/acl.xip" "$mnt" -o allow_other
expect_error "Input/output error" getfattr -n system.posix_acl_access \
	"$mnt/hello.txt"
expect_error "Input/output error" as_user cat "$mnt/hello.txt"
xipfs_unmount "$mnt"
grep -q 'inode [0-9]*: corrupt image' "$WORK/xipfs.log" ||
	fail "the daemon did not log the bad ACL"
ok "malformed ACLs: refused at build, damage in xipfsck, EIO and a log line"

# ---- 5. symlink with a NUL, mistyped entry, directory hard link
"$MKXIPFS" -q "$tree" "$WORK/base.xip"
cp "$WORK/base.xip" "$WORK/nul.xip"
$XIPIMG "$WORK/nul.xip" poke-target link 3 0
cp "$WORK/base.xip" "$WORK/type.xip"
$XIPIMG "$WORK/type.xip" set-dirent hello.txt type 4
cp "$WORK/base.xip" "$WORK/dirlink.xip"
xino=$("$XIPFSCK" -l "$WORK/base.xip" | awk '$NF == "/a/x" { print $1 }')
$XIPIMG "$WORK/dirlink.xip" set-dirent b ino "$xino"
for img in nul type dirlink; do
	expect_error "inode [0-9]*:" "$XIPFSCK" "$WORK/$img.xip"
done
xipfs_mount "$WORK/nul.xip" "$mnt"
expect_error "Input/output error" readlink -v "$mnt/link"
xipfs_unmount "$mnt"
xipfs_mount "$WORK/type.xip" "$mnt"
expect_error "Input/output error" stat "$mnt/hello.txt"
xipfs_unmount "$mnt"
xipfs_mount "$WORK/type.xip" "$mnt"
expect_error "Input/output error" ls -l "$mnt"	# readdirplus
xipfs_unmount "$mnt"
xipfs_mount "$WORK/dirlink.xip" "$mnt"
expect_error "Input/output error" stat "$mnt/b"
stat "$mnt/a/x" >/dev/null || fail "the real name of the directory fails"
xipfs_unmount "$mnt"
ok "NUL in a target, mistyped entry, directory hard link: EIO as xipfsck says"

# ---- 6. depth: 4096 levels build, list and extract; 4097 are refused
$GEN deep-tree "$WORK/deep" 4097
build_fails "nested deeper than 4096 levels" "$WORK/deep" "$out"
rm -rf "$WORK/deep"
# as a tar: a directory walk cannot open paths past PATH_MAX
$GEN deep-tar "$WORK/deep.tar" 4096
"$MKXIPFS" -q --tar "$WORK/deep.tar" "$WORK/deep.xip"
"$XIPFSCK" "$WORK/deep.xip" || fail "a 4096-deep image is called damaged"
[ "$("$XIPFSCK" -l "$WORK/deep.xip" | wc -l)" = 4099 ] ||
	fail "listing of the deep image is not whole"
"$XIPFSCK" -x "$WORK/deep-out" "$WORK/deep.xip" || fail "deep extract failed"
[ "$(find "$WORK/deep-out" -name leaf | wc -l)" = 1 ] ||
	fail "deep extract is partial"
rm -rf "$WORK/deep-out" "$WORK/deep.tar"
ok "depth: refused past 4096 at build; 4096 lists and extracts whole"

# ---- 7. a hard link whose first name is under a mode-000 directory
mkdir -p "$WORK/hl/a" "$WORK/hl/b"
echo data >"$WORK/hl/a/f"
ln "$WORK/hl/a/f" "$WORK/hl/b/g"
chmod 000 "$WORK/hl/a"
"$MKXIPFS" -q "$WORK/hl" "$WORK/hl.xip"
chmod 755 "$WORK/hl/a"
mkdir "$WORK/user"
chown nobody "$WORK/user"
as_user "$XIPFSCK" -x "$WORK/user/out" "$WORK/hl.xip" 2>"$WORK/err" ||
	fail "extraction as a user failed: $(cat "$WORK/err")"
[ "$(stat -c '%a %h' "$WORK/user/out/a")" = "0 2" ] ||
	fail "mode-000 directory not restored"
[ "$(stat -c %h "$WORK/user/out/b/g")" = 2 ] || fail "hard link lost"
ok "hard links under a mode-000 directory survive a user's extraction"

# ---- 8. smaller ones
# names of 6,000 xattrs exceed what listxattr returns: refused
awk 'BEGIN { for (i = 0; i < 6000; i++) printf "/hello.txt x user.attr%05d=1\n", i }' \
	>"$WORK/dt"
build_fails "more than listxattr can return" -D "$WORK/dt" "$tree" "$out"
$GEN tar-sample "$WORK/sample.tar"
head -c 700 "$WORK/sample.tar" >"$WORK/cut.tar"
build_fails "cut.tar: " --tar "$WORK/cut.tar" "$out"
grep -q '(null)' "$WORK/err" && fail "a cut tar says (null)"
expect_error "negative, NaN or malformed" "$XIPFS" -f -o entry_timeout=nan \
	"$WORK/base.xip" "$mnt"
expect_error "image is truncated" "$XIPFS" -f -o size=1 "$WORK/base.xip" "$mnt"
expect_error "image is truncated" "$XIPFSCK" -S 3 "$WORK/base.xip"
ok "xattr count, cut tar, NaN timeout and a 1-byte window say what is wrong"

# ---- options: every tool refuses bad values with a message, no crash
for o in entry_timeout=-1 attr_timeout=inf0 negative_timeout=nan timeout=1x \
	size=0x offset=-1 offset=1E size=99999999999999999999999 \
	read=bogus passthrough=maybe max_backing=-5 uid=x gid=-1 umask=9 \
	uid=4294967295; do
	expect_error "xipfs: \\|fuse: invalid" "$XIPFS" -f -o "$o" "$WORK/base.xip" "$mnt"
	is_mounted "$mnt" && fail "-o $o mounted"
done
for a in "-S 0x" "-o 1Q" "-S -1" "-o 18446744073709551616" "-x ''"; do
	eval "set -- $a"
	expect_error "xipfsck" "$XIPFSCK" "$@" "$WORK/base.xip"
done
for a in "--block-size=3K" "--block-size=" "--pack-small=-1" \
	"--mtime=1e300" "--mtime=" "--uid-map=a:b"; do
	build_fails "mkxipfs" "$a" "$tree" "$out"
done
ok "bad option values: refused with a message by xipfs, xipfsck, mkxipfs"

# ---- the tar parser on a seeded corpus of damaged archives
mkdir "$WORK/mutants"
$GEN tar-mutants "$WORK/sample.tar" "$WORK/mutants" 200 24
for t in "$WORK"/mutants/*.tar; do
	rm -f "$out"
	set +e
	"$MKXIPFS" -q --tar "$t" "$out" 2>"$WORK/err"
	st=$?
	set -e
	[ $st -lt 128 ] || fail "mkxipfs crashed ($st) on $t"
	if [ $st -ne 0 ]; then
		[ ! -e "$out" ] || fail "failed build of $t left $out"
		grep -q '(null)' "$WORK/err" && fail "$t: message says (null)"
	else
		"$XIPFSCK" -q "$out" || fail "$t built a damaged image"
	fi
done
ok "200 damaged tar archives: no crash, no partial output"
