#!/bin/bash
# Build erofsfuse (and mkfs.erofs of the same erofs-utils) from Debian's
# source package, unstable suite, into a project-local prefix: Debian 12's
# erofs-utils 1.5 has no erofsfuse, and it is the strongest FUSE peer
# xipfs is compared with.  scripts/bench-compare.sh finds it there.
#
# Usage: scripts/build-erofsfuse.sh [PREFIX]   (default: _deps/erofs-utils)
# Needs the build tools and headers scripts/install-deps.sh installs; the
# download and build run as whoever calls this.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
prefix=${1:-$top/_deps/erofs-utils}

if [ -x "$prefix/bin/erofsfuse" ]; then
	say "$("$prefix/bin/erofsfuse" --help 2>&1 | grep -m1 '^erofsfuse') already in $prefix"
	exit 0
fi
need_cmds apt-get dpkg-source autoreconf pkg-config make
pkg-config --exists fuse3 || die "libfuse3-dev missing (scripts/install-deps.sh installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/build-erofsfuse.XXXXXX")
remove_work() { rm -rf "$work"; }
cleanup_hooks="remove_work"
debian_source erofs-utils "$work"

# The features an uncompressed or lz4/zstd image needs; none of the
# network, OCI or SELinux parts.
say "building $(cat "$work/src/VERSION" 2>/dev/null | head -1) into $prefix"
(cd "$work/src" && ./autogen.sh && ./configure --prefix="$prefix" \
	--enable-fuse --with-libzstd --with-uuid --with-zlib \
	--disable-lzma --disable-multithreading --without-selinux &&
	make -j"$(nproc)" && make install) >>"$work/log" 2>&1 ||
	die "build failed: $(tail -5 "$work/log")"
[ -x "$prefix/bin/erofsfuse" ] || die "no erofsfuse was built (libfuse3-dev missing?)"
say "$("$prefix/bin/erofsfuse" --help 2>&1 | grep -m1 '^erofsfuse') in $prefix"
