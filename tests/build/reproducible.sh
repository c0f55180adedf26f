#!/bin/bash
# Same input => byte-identical image, whatever the directory order;
# SOURCE_DATE_EPOCH sets the build time and clamps mtimes.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"

mk() {	# a tree created in the given order of names
	d=$1; shift
	mkdir -p "$d"
	for n in "$@"; do
		printf '%s\n' "$n" >"$d/$n"
		mkdir -p "$d/dir-$n"
		printf 'x%s' "$n" >"$d/dir-$n/f"
		touch -d '2023-03-03 03:03:03.333' "$d/$n" "$d/dir-$n/f" "$d/dir-$n"
	done
	touch -d '2023-03-03 03:03:03.333' "$d"
}
mk "$WORK/a" alpha beta gamma delta epsilon zeta eta theta
mk "$WORK/b" theta eta zeta epsilon delta gamma beta alpha

"$MKXIPFS" -q "$WORK/a" "$WORK/a1.xip"
"$MKXIPFS" -q "$WORK/a" "$WORK/a2.xip"
cmp "$WORK/a1.xip" "$WORK/a2.xip" || fail "two builds differ"
ok "two builds are identical"
"$MKXIPFS" -q "$WORK/b" "$WORK/b.xip"
cmp "$WORK/a1.xip" "$WORK/b.xip" || fail "creation order changes the image"
ok "directory order does not matter"

tar --format=pax --sort=name -C "$WORK/a" -cf "$WORK/a.tar" .
"$MKXIPFS" -q --tar "$WORK/a.tar" "$WORK/t1.xip"
"$MKXIPFS" -q --tar "$WORK/a.tar" "$WORK/t2.xip"
cmp "$WORK/t1.xip" "$WORK/t2.xip" || fail "two tar builds differ"
ok "two tar builds are identical"

# The build time is not the wall clock: without SOURCE_DATE_EPOCH it is the
# newest input mtime.
"$XIPFSCK" -s "$WORK/a1.xip" >"$WORK/super"
grep -i 'build' "$WORK/super" | grep -q '2023-03-03' ||
	fail "build time is not the newest mtime: $(grep -i build "$WORK/super")"
ok "build time from the newest input"

sde=1600000000	# 2020-09-13 12:26:40 UTC, before the tree's mtimes
SOURCE_DATE_EPOCH=$sde "$MKXIPFS" -q "$WORK/a" "$WORK/sde.xip"
"$XIPFSCK" -s "$WORK/sde.xip" | grep -i build | grep -q '2020-09-13' ||
	fail "SOURCE_DATE_EPOCH not used as build time"
"$XIPFSCK" -q -x "$WORK/sde.out" "$WORK/sde.xip"
python3 "$TREECMP" --clamp $sde "$WORK/a" "$WORK/sde.out" ||
	fail "mtimes not clamped to SOURCE_DATE_EPOCH"
"$MKXIPFS" -q --mtime=$sde "$WORK/a" "$WORK/mtime.xip"
cmp "$WORK/sde.xip" "$WORK/mtime.xip" || fail "--mtime and SOURCE_DATE_EPOCH differ"
ok "SOURCE_DATE_EPOCH and --mtime clamp"
