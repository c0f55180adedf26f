#!/bin/bash
# A device table lets a normal user add device nodes, set owners, modes and
# capabilities the host cannot create; bad tables give file:line errors.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root

mkdir -p "$WORK/root/bin" "$WORK/root/etc"
printf '#!/bin/sh\n' >"$WORK/root/bin/ping"
printf 'root:x:0:0\n' >"$WORK/root/etc/shadow"
chmod -R a+rX "$WORK"
mkdir -m 777 "$WORK/o"
cat >"$WORK/table" <<'T'
# path          type mode uid gid major minor
/dev            d    755  0   0
/dev/console    c    600  0   5   5   1
/dev/sda        b    660  0   6   8   0
/dev/initctl    p    600  0   0
/etc/shadow     m    640  0   42
/bin/ping       m    4755 0   0
/bin/ping       x    security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=
/etc/shadow     x    user.note="hello world"
T
as_user "$MKXIPFS" -q --all-root --device-table "$WORK/table" \
	"$WORK/root" "$WORK/o/img.xip" 2>"$WORK/err" ||
	fail "build as user failed: $(cat "$WORK/err")"
"$XIPFSCK" "$WORK/o/img.xip"
"$XIPFSCK" -q -x "$WORK/out" "$WORK/o/img.xip"
[ "$(stat -c '%F %t:%T %a %u:%g' "$WORK/out/dev/console")" = \
  "character special file 5:1 600 0:5" ] || fail "console: $(stat -c '%F %t:%T %a %u:%g' "$WORK/out/dev/console")"
[ "$(stat -c '%F %t:%T %a %u:%g' "$WORK/out/dev/sda")" = \
  "block special file 8:0 660 0:6" ] || fail "sda wrong"
[ "$(stat -c '%F' "$WORK/out/dev/initctl")" = fifo ] || fail "fifo wrong"
[ "$(stat -c '%a %u:%g' "$WORK/out/etc/shadow")" = "640 0:42" ] || fail "shadow wrong"
[ "$(stat -c '%a %u:%g' "$WORK/out/bin/ping")" = "4755 0:0" ] || fail "ping mode wrong"
[ "$(getfattr --only-values -n security.capability "$WORK/out/bin/ping" | base64)" = \
  "$(printf 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=' | base64 -d | base64)" ] ||
	fail "capability not stored"
[ "$(getfattr --only-values -n user.note "$WORK/out/etc/shadow")" = "hello world" ] ||
	fail "user xattr not stored"
ok "device table applied by a normal user"

bad() {
	printf '%s\n' "$2" >"$WORK/bad"
	expect_error "$WORK/bad:$1" "$MKXIPFS" -q --device-table "$WORK/bad" \
		"$WORK/root" "$WORK/bad.xip"
	[ ! -e "$WORK/bad.xip" ] || fail "bad table left an image"
}
bad 1 "/dev/x q 600 0 0"
bad 1 "/dev/x c 600 0 0"
bad 1 "/nonexistent/x c 600 0 0 1 1"
bad 1 "/etc/nothere m 600 0 0"
bad 1 "/dev/x c 99999 0 0 1 1"
bad 1 "relative c 600 0 0 1 1"
bad 1 "/../x d 755 0 0"
ok "bad tables rejected with file:line"
