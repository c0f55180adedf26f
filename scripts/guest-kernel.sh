#!/bin/bash
# A Debian kernel for the guest checks (scripts/guest.sh), fetched through
# this machine's own apt configuration with an apt state of its own (as
# lib.sh's debian_source fetches sources: no host name is written down),
# unpacked and cached, its modules indexed by depmod (scripts/guest.sh
# decompresses the few it puts in the initramfs).
# Prints the cache directory: DIR/vmlinuz, DIR/modules/lib/modules/VER,
# DIR/version.
#
# Usage: scripts/guest-kernel.sh SUITE
#   newest: trixie-backports, the newest kernel in the archive
#   bookworm: Debian 12's own (6.1), the oldest the project supports
#   any other suite name: that suite's linux-image-amd64
# The cache is $XIPFS_GUEST_CACHE (default /var/cache/xipfs/guest); a
# kernel found there is not fetched again, unless the archive moved on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case ${1:-} in
newest) suite=trixie-backports ;;
"" | -*) die "usage: $0 newest|bookworm|SUITE" ;;
*) suite=$1 ;;
esac
cache=${XIPFS_GUEST_CACHE:-/var/cache/xipfs/guest}
need_cmds apt-get apt-cache dpkg-deb depmod xz
mkdir -p "$cache/apt-$suite/lists/partial" "$cache/apt-$suite/archives/partial" ||
	die "cannot make $cache"
state=$cache/apt-$suite
exec 9>"$state/lock"
flock 9

mirror=$(debian_mirror) || exit 1
echo "deb $mirror $suite main" >"$state/sources.list"
apt_opts=(-q -o Dir::Etc::SourceList="$state/sources.list"
	-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$state/lists"
	-o Dir::State::Status=/dev/null -o Dir::Cache="$state"
	-o Dir::Cache::Archives="$state/archives" -o APT::Get::List-Cleanup=0
	-o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update >"$state/log" 2>&1 ||
	die "apt-get update ($suite): $(tail -3 "$state/log")"

# depends PKG: the package names PKG depends on (alternatives: the first).
depends() {
	apt-cache "${apt_opts[@]}" show "$1" 2>/dev/null | sed -n 's/^Depends: //p' |
		head -1 | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/ //g'
}
image=$(depends linux-image-amd64 | grep '^linux-image-' | head -1)
[ -n "$image" ] || die "$suite: linux-image-amd64 names no kernel image"
ver=${image#linux-image-}
dir=$cache/$ver
if [ -s "$dir/vmlinuz" ] && [ -d "$dir/modules/lib/modules/$ver" ]; then
	echo "$dir"
	exit 0
fi

# Since 7.x the image package is a stub: the kernel, its modules and its
# base files (config, modules.builtin) are packages of their own.  6.1's
# image package holds them all.
pkgs=$(depends "$image" | grep -E '^linux-(binary|modules|base)-' || true)
[ -n "$pkgs" ] || pkgs=$image
say "fetching $pkgs ($suite)"
rm -rf "$dir.new" && mkdir -p "$dir.new/modules"
for p in $pkgs; do
	(cd "$state/archives" && apt-get "${apt_opts[@]}" download "$p") >>"$state/log" 2>&1 ||
		die "apt-get download $p: $(tail -3 "$state/log")"
	dpkg-deb -x "$state/archives/${p}"_*.deb "$dir.new/modules" ||
		die "dpkg-deb -x $p"
done
rm -f "$state/archives/"*.deb
root=$dir.new/modules
[ -d "$root/usr/lib/modules" ] && mkdir -p "$root/lib" && mv "$root/usr/lib/modules" "$root/lib/"
# /boot/vmlinuz-VER up to 6.x; beside the modules since.
for k in "$root/boot/vmlinuz-$ver" "$root/lib/modules/$ver/vmlinuz" ""; do
	[ -z "$k" ] && die "$image: no vmlinuz"
	[ -f "$k" ] && mv "$k" "$dir.new/vmlinuz" && break
done
[ -f "$root/boot/config-$ver" ] && cp "$root/boot/config-$ver" "$dir.new/config"
[ -f "$root/lib/modules/$ver/config" ] && cp "$root/lib/modules/$ver/config" "$dir.new/config"
rm -rf "$root/boot" "$root/usr"
depmod -b "$root" "$ver" || die "depmod $ver"
echo "$ver" >"$dir.new/version"
rm -rf "$dir" && mv "$dir.new" "$dir"
echo "$dir"
