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

# The Debian archive this machine uses, from its own apt configuration
# (deb822 .sources files or one-line sources.list entries).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk '/^URIs:/ {u = $2} /^Suites:/ && / bookworm( |$)/ {print u; exit}')
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
[ -n "$mirror" ] || die "no Debian archive found in the apt configuration"

work=$(mktemp -d "${TMPDIR:-/tmp}/build-libfuse.XXXXXX")
remove_work() { rm -rf "$work"; }
cleanup_hooks="remove_work"
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb-src $mirror unstable main" >"$work/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$work/sources.list"
	-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists"
	-o Dir::Cache::Archives="$work/archives" -o APT::Get::List-Cleanup=0
	-o APT::Sandbox::User="$(id -un)")
echo "build-libfuse: fetching the fuse3 source package from the unstable suite"
apt-get "${apt_opts[@]}" update >"$work/log" 2>&1 || die "apt-get update: $(tail -3 "$work/log")"
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only fuse3) >>"$work/log" 2>&1 ||
	die "apt-get source fuse3: $(tail -3 "$work/log")"
dpkg-source --no-check -x "$work"/fuse3_*.dsc "$work/src" >>"$work/log" 2>&1 ||
	die "dpkg-source: $(tail -3 "$work/log")"
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
