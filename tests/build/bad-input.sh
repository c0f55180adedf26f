#!/bin/bash
# Bad command lines, unreadable inputs, hostile tar archives, non-images:
# clear "prog: path: reason" messages, nonzero exit, no partial output, and
# an existing image is never damaged by a failed build.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root

mkdir -p "$WORK/tree/d" "$WORK/out"
printf 'data\n' >"$WORK/tree/d/f"

expect_error "mkxipfs" "$MKXIPFS"
[ $st = 2 ] || fail "no arguments: status $st, want 2"
expect_error "block" "$MKXIPFS" --block-size=1000 "$WORK/tree" "$WORK/out/x.xip"
[ $st = 2 ] || fail "bad block size: status $st, want 2"
expect_error "$WORK/nonexistent" "$MKXIPFS" "$WORK/nonexistent" "$WORK/out/x.xip"
expect_error "$WORK/no/such" "$MKXIPFS" "$WORK/tree" "$WORK/no/such/x.xip"
ok "usage and path errors"

# A failed build leaves the previous image alone and no temporary files.
"$MKXIPFS" -q "$WORK/tree" "$WORK/out/keep.xip"
cp "$WORK/out/keep.xip" "$WORK/keep.orig"
printf 'secret\n' >"$WORK/tree/d/unreadable"
chmod 000 "$WORK/tree/d/unreadable"
chmod 777 "$WORK/out"
expect_error "unreadable" as_user "$MKXIPFS" -q "$WORK/tree" "$WORK/out/keep.xip"
cmp "$WORK/out/keep.xip" "$WORK/keep.orig" || fail "failed build changed the image"
[ "$(ls -A "$WORK/out")" = keep.xip ] || fail "leftovers: $(ls -A "$WORK/out")"
rm "$WORK/tree/d/unreadable"
ok "failed build keeps the old image, leaves nothing behind"

# A tree this user cannot read: the error, and once what to do about it
# (an unreadable file is met while copying data, a directory while
# scanning); an unreadable tar archive gets no such hint.
hint_once() {
	grep -q "^mkxipfs: $1: Permission denied" "$WORK/err" ||
		fail "no error for $1: $(cat "$WORK/err")"
	[ "$(grep -c "^mkxipfs: hint: .*as root.*mkxipfs --tar tree.tar" "$WORK/err")" = 1 ] ||
		fail "not one hint for $1: $(cat "$WORK/err")"
}
printf 'secret\n' >"$WORK/tree/d/unreadable"
chmod 000 "$WORK/tree/d/unreadable"
expect_error "Permission denied" as_user "$MKXIPFS" -q "$WORK/tree" "$WORK/out/u.xip"
hint_once "$WORK/tree/d/unreadable"
rm "$WORK/tree/d/unreadable"
mkdir -p "$WORK/tree/locked/a" "$WORK/tree/locked2"
chmod 000 "$WORK/tree/locked" "$WORK/tree/locked2"
expect_error "Permission denied" as_user "$MKXIPFS" -q "$WORK/tree" "$WORK/out/u.xip"
hint_once "$WORK/tree/locked"
chmod 755 "$WORK/tree/locked" "$WORK/tree/locked2"
rm -r "$WORK/tree/locked" "$WORK/tree/locked2"
tar -C "$WORK/tree" -cf "$WORK/locked.tar" . && chmod 000 "$WORK/locked.tar"
expect_error "locked.tar" as_user "$MKXIPFS" -q --tar "$WORK/locked.tar" "$WORK/out/u.xip"
! grep -q "hint:" "$WORK/err" || fail "a hint for an unreadable tar: $(cat "$WORK/err")"
ok "an unreadable tree: the error and one hint (tar or root)"

# Hostile tar members: '..' escapes are refused, absolute names normalised.
mk_tar() { python3 "$top_srcdir/tests/hostile_inputs.py" tar-names "$WORK/$1" $'x\n' "${@:2}"; }
mk_tar escape.tar ok a/../../evil
mk_tar escape2.tar ../evil
mk_tar absolute.tar /etc/passwd-like ./rel/./x dup//slashes
expect_error "escape" "$MKXIPFS" -q --tar "$WORK/escape.tar" "$WORK/out/e.xip"
expect_error "escape" "$MKXIPFS" -q --tar "$WORK/escape2.tar" "$WORK/out/e.xip"
[ ! -e "$WORK/out/e.xip" ] || fail "escaping tar produced an image"
"$MKXIPFS" -q --tar "$WORK/absolute.tar" "$WORK/out/abs.xip"
"$XIPFSCK" -l "$WORK/out/abs.xip" >"$WORK/abs.list"
for p in /etc/passwd-like /rel/x /dup/slashes; do
	grep -q " $p\$" "$WORK/abs.list" || fail "$p missing: $(cat "$WORK/abs.list")"
done
ok "tar paths: escapes refused, absolute and dotted names normalised"

# Garbage and truncated archives.
head -c 10000 /dev/urandom >"$WORK/garbage.tar"
expect_error "garbage.tar" "$MKXIPFS" -q --tar "$WORK/garbage.tar" "$WORK/out/g.xip"
tar -C "$WORK/tree" -cf "$WORK/full.tar" .
head -c 1500 "$WORK/full.tar" >"$WORK/trunc.tar"
expect_error "trunc.tar" "$MKXIPFS" -q --tar "$WORK/trunc.tar" "$WORK/out/g.xip"
[ ! -e "$WORK/out/g.xip" ] || fail "bad tar produced an image"
ok "garbage and truncated tar refused"

# xipfsck on things that are not (whole) images.
printf 'just text\n' >"$WORK/text"
expect_error "not an xipfs image" "$XIPFSCK" "$WORK/text"
[ $st = 1 ] || fail "xipfsck on text: status $st"
head -c 8192 "$WORK/out/keep.xip" >"$WORK/short.xip"
"$MKXIPFS" -q "$WORK/tree" "$WORK/out/keep.xip"
size=$(stat -c %s "$WORK/out/keep.xip")
head -c $((size - 1)) "$WORK/out/keep.xip" >"$WORK/short.xip"
expect_error "truncated" "$XIPFSCK" "$WORK/short.xip"
expect_error "$WORK/missing" "$XIPFSCK" "$WORK/missing"
ok "xipfsck rejects non-images with a clear message"
