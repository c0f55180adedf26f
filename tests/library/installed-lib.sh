#!/bin/bash
# The installed library: "make install DESTDIR=" stages the shared
# libxipfs (SONAME libxipfs.so.1), its headers and libxipfs.pc; the
# library exports exactly the functions the installed headers declare; the
# C example of xipfs-map(1) and xipfs-map itself build against the staged
# copy with nothing but "pkg-config --cflags --libs libxipfs", link it
# dynamically, and run: on a file of a mount (when the daemon is built),
# else on a plain file, which they must refuse as not on xipfs.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd pkg-config
need_cmd readelf
need_cmd nm
: "${XIPFS_LIBDIR:?set by make check}" "${XIPFS_PKGCONFIGDIR:?set by make check}"
CC=${CC:-cc}
# A sanitizer build's library needs its programs built the same way.
CC="$CC ${XIPFS_SAN_CFLAGS:-}"

# A make of its own, not a job of the make that runs the suite.
stage=$WORK/stage
(unset MAKEFLAGS MFLAGS MAKELEVEL
 make -C "$top_builddir" install DESTDIR="$stage") >"$WORK/install.log" 2>&1 ||
	fail "make install DESTDIR=$stage: $(tail -20 "$WORK/install.log")"
lib=$stage$XIPFS_LIBDIR
[ -f "$stage$XIPFS_PKGCONFIGDIR/libxipfs.pc" ] || fail "no libxipfs.pc installed"
[ -L "$lib/libxipfs.so" ] || fail "no libxipfs.so link in $lib"
soname=$(readelf -d "$lib/libxipfs.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libxipfs.so.1 ] || fail "SONAME is '$soname'"
[ -f "$lib/$soname" ] || fail "$lib/$soname missing"
ok "make install DESTDIR: libxipfs.so.1, headers, libxipfs.pc"

# The staged libxipfs.pc, whatever the machine has installed; then the
# system's own directories, for what it requires privately (libzstd,
# liblz4), and with system directories kept, so a /usr prefix works too.
sys_pc=$(pkg-config --variable pc_path pkg-config)
unset PKG_CONFIG_PATH
export PKG_CONFIG_LIBDIR=$stage$XIPFS_PKGCONFIGDIR:$sys_pc
export PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
cflags=$(pkg-config --cflags libxipfs) || fail "pkg-config --cflags libxipfs"
libs=$(pkg-config --libs libxipfs) || fail "pkg-config --libs libxipfs"
# (pkgconf puts the sysroot in front of the variable itself, pkg-config not)
incdir=$(pkg-config --variable=includedir libxipfs)
case $incdir in "$stage"/*) ;; *) incdir=$stage$incdir;; esac
for h in format.h xipfs.h direct.h; do
	[ -f "$incdir/xipfs/$h" ] || fail "xipfs/$h not installed in $incdir"
done

# The exported symbols are the functions the public headers declare (gcc's
# -aux-info lists every prototype of a translation unit with its file).
printf '#include <xipfs/%s>\n' format.h xipfs.h direct.h >"$WORK/all.c"
if $CC $cflags -fsyntax-only -aux-info "$WORK/aux" "$WORK/all.c" 2>/dev/null; then
	sed -n 's|^/\* .*/xipfs/[a-z]*\.h:[0-9]*:N. \*/ extern .*[ *]\(xipfs_[a-z0-9_]*\) (.*|\1|p' \
		"$WORK/aux" | sort -u >"$WORK/declared"
	nm -D --defined-only "$lib/$soname" |
		awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$WORK/exported"
	[ -s "$WORK/declared" ] || fail "no prototypes found in the headers"
	diff -u "$WORK/declared" "$WORK/exported" >"$WORK/sym.diff" ||
		fail "exports differ from the headers' prototypes (- only declared, + only exported; edit src/lib/libxipfs.ver):
$(cat "$WORK/sym.diff")"
	ok "exports: the $(wc -l <"$WORK/declared") functions of the public headers, nothing else"
else
	echo "note: the compiler has no -aux-info; export list not compared"
fi

# The example of man/xipfs-map.1, from the .nf block that holds main().
awk '/^\.nf/ { n = NR; buf = "" ; next } /^\.fi/ { if (buf ~ /int main/) { printf "%s", buf; exit } buf = ""; n = 0; next }
	n { buf = buf $0 "\n" }' "$top_srcdir/man/xipfs-map.1" |
	sed 's/\\e/\\/g' >"$WORK/example.c"
grep -q 'xipfs_direct_map' "$WORK/example.c" || fail "no example found in xipfs-map.1"
$CC -Wall -Werror -o "$WORK/example" "$WORK/example.c" $cflags $libs ||
	fail "the xipfs-map(1) example does not build with pkg-config alone"
# xipfs-map's own config.h holds just its name and version.
mkdir -p "$WORK/cfg"
printf '#define PACKAGE_NAME "xipfs"\n#define PACKAGE_VERSION "staged"\n' >"$WORK/cfg/config.h"
$CC -Wall -Werror -I"$WORK/cfg" -o "$WORK/xipfs-map" \
	"$top_srcdir/src/map/main.c" $cflags $libs ||
	fail "xipfs-map does not build against the staged library"
for p in example xipfs-map; do
	readelf -d "$WORK/$p" | grep -q 'NEEDED.*\[libxipfs\.so\.1\]' ||
		fail "$p does not link libxipfs.so.1"
	nm "$WORK/$p" | grep -q ' U xipfs_direct_map' ||
		fail "$p has its own copy of xipfs_direct_map"
done
export LD_LIBRARY_PATH=$lib
ldd "$WORK/example" | grep -q "libxipfs.so.1 => $lib/" ||
	fail "the example does not load the staged library: $(ldd "$WORK/example")"
[ "$("$WORK/xipfs-map" --version)" = "xipfs-map (xipfs) staged" ] ||
	fail "staged xipfs-map --version"
ok "the man page's example and xipfs-map build from pkg-config and link libxipfs.so.1"

printf 'not on xipfs\n' >"$WORK/plain"
expect_error "failed (-25)" "$WORK/example" "$WORK/plain"	# -ENOTTY
grep -q "^$WORK/plain: " "$WORK/err" ||
	fail "example on a plain file: $(cat "$WORK/err")"
expect_error "plain" "$WORK/xipfs-map" "$WORK/plain"
ok "both refuse a file that is not on xipfs"

[ "${XIPFS_WITH_DAEMON:-yes}" = yes ] ||
	without daemon "built without the daemon: xipfs-map's ioctl not checked"
[ -c /dev/fuse ] && [ -w /dev/fuse ] || skip "needs a writable /dev/fuse"
[ "$(id -u)" = 0 ] || need_cmd fusermount3
mkdir -p "$WORK/tree/sub"
head -c 100000 /dev/urandom >"$WORK/tree/sub/data"
printf 'hello from the image\n' >"$WORK/tree/hello"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
xipfs_mount "$WORK/img.xip" "$WORK/mnt"
for f in hello sub/data; do
	"$WORK/example" "$WORK/mnt/$f" >"$WORK/out" || fail "example $f failed"
	cmp -s "$WORK/out" "$WORK/tree/$f" || fail "example: $f differs"
	"$WORK/xipfs-map" -c "$WORK/mnt/$f" >"$WORK/out" || fail "xipfs-map -c $f failed"
	cmp -s "$WORK/out" "$WORK/tree/$f" || fail "xipfs-map -c: $f differs"
	want=$(unset LD_LIBRARY_PATH; "$top_builddir/xipfs-map" "$WORK/mnt/$f")
	[ "$("$WORK/xipfs-map" "$WORK/mnt/$f")" = "$want" ] ||
		fail "staged xipfs-map $f does not say '$want'"
done
xipfs_unmount "$WORK/mnt"
ok "on a mount, both read the files straight from the image"
