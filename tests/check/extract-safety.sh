#!/bin/bash
# Extraction never lands outside the target or writes through a symlink,
# whatever the image says: crafted images with duplicate names (a symlink
# and a directory both called "a"), names "..", and names with "/".
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
XIPIMG="python3 $top_srcdir/tests/xipimg.py"

mkdir -p "$WORK/outside" "$WORK/tree/b" "$WORK/tree/zz"
ln -s "$WORK/outside" "$WORK/tree/a"
printf 'payload\n' >"$WORK/tree/b/f"
printf 'payload\n' >"$WORK/tree/zz/g"
"$MKXIPFS" -q "$WORK/tree" "$WORK/good.xip"

crafted() {	# name old new: an image with one entry renamed
	cp "$WORK/good.xip" "$WORK/$1.xip"
	$XIPIMG "$WORK/$1.xip" rename "$2" "$3"
}
check_refused() {	# name: verify and extract both refuse, nothing escapes
	expect_error "xipfsck" "$XIPFSCK" "$WORK/$1.xip"
	expect_error "xipfsck" "$XIPFSCK" -x "$WORK/$1.out" "$WORK/$1.xip"
	[ -z "$(ls -A "$WORK/outside")" ] || fail "$1: wrote outside: $(ls -A "$WORK/outside")"
	[ ! -e "$WORK/f" ] && [ ! -e "$WORK/g" ] || fail "$1: wrote into the parent"
	ok "$1 refused: $(head -1 "$WORK/err")"
}

crafted dup-through-symlink b a	# dir "a" after symlink "a"
check_refused dup-through-symlink
crafted dotdot zz ..
check_refused dotdot
crafted slash zz ./
check_refused slash

# The good image extracts; a non-empty target is refused.
"$XIPFSCK" -q -x "$WORK/ok.out" "$WORK/good.xip"
[ "$(cat "$WORK/ok.out/b/f")" = payload ] || fail "good image did not extract"
expect_error "$WORK/ok.out" "$XIPFSCK" -x "$WORK/ok.out" "$WORK/good.xip"
ok "non-empty target refused"
