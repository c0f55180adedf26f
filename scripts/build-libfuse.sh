#!/bin/bash
# Build libfuse 3.18 from Debian's source package (unstable suite) into a
# project-local prefix, for the features Debian 12's libfuse 3.14 lacks
# (FUSE passthrough, FUSE over io_uring).  Then configure with
#   ./configure --with-libfuse="$PREFIX"
# which finds it through pkg-config and links it with an rpath.
#
# Usage: scripts/build-libfuse.sh [PREFIX]   (default: _deps/libfuse)
# Needs root only to install the build tools (scripts/install-deps.sh does
# that); the download and build run as whoever calls this.  The archive is
# the one this machine's apt configuration already uses: no host name is
# written here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
prefix=${1:-$top/_deps/libfuse}

if [ -f "$prefix/lib/pkgconfig/fuse3.pc" ] &&
   PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --atleast-version=3.18 fuse3; then
	echo "build-libfuse: libfuse $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion fuse3) already in $prefix"
	exit 0
fi
need_cmds apt-get dpkg-source meson ninja pkg-config

work=$(mktemp -d "${TMPDIR:-/tmp}/build-libfuse.XXXXXX")
remove_work() { rm -rf "$work"; }
cleanup_hooks="remove_work"
debian_source fuse3 "$work"
grep -q "version: '3.1[89]\|version: '3.[2-9]" "$work/src/meson.build" ||
	die "the unstable suite has $(grep -m1 "version:" "$work/src/meson.build")"

# No utils: fusermount3 stays the system's (setuid, from the fuse3 package).
echo "build-libfuse: building into $prefix"
meson setup "$work/build" "$work/src" --prefix="$prefix" --libdir=lib \
	-Dexamples=false -Dutils=false -Dtests=false >>"$work/log" 2>&1 ||
	die "meson setup: $(tail -5 "$work/log")"
grep -q 'liburing found: YES' "$work/log" ||
	echo "build-libfuse: note: liburing-dev missing, no FUSE over io_uring" >&2
ninja -C "$work/build" install >>"$work/log" 2>&1 || die "ninja: $(tail -5 "$work/log")"
echo "build-libfuse: libfuse $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion fuse3) in $prefix"
echo "build-libfuse: now ./configure --with-libfuse=$prefix"
