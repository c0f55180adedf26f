#!/bin/bash
# A real root filesystem for tests and benchmarks: Debian bookworm, the
# minbase variant plus python3 and perl (about 320 MB, 10,400 entries),
# made by debootstrap from the Debian archive this machine's apt
# configuration names, and kept as one tar (numeric owners, xattrs) that
# is built only when it is missing.  Prints the tar's path on standard
# output; OUT.tar.info beside it says when and how it was made and how
# long that took.
#
# Usage: scripts/make-rootfs.sh [OUT.tar]
#   default OUT: $XIPFS_ROOTFS_CACHE/bookworm-minbase.tar, the cache
#   directory being /var/cache/xipfs unless set.  It lives outside the
#   source tree on purpose: a fresh clone (CI clones afresh every run) and
#   make distcheck's copy of the tree all find the one made before, and
#   /var/cache is where data that can be made again belongs.  Delete the
#   tar to have it made anew (bookworm's point releases change it).
# Needs root: debootstrap installs packages in a chroot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
suite=bookworm
out=${1:-${XIPFS_ROOTFS_CACHE:-/var/cache/xipfs}/$suite-minbase.tar}
case $out in *.tar) ;; *) die "$out: the output must be a .tar";; esac

if [ -s "$out" ]; then echo "$out"; exit 0; fi
[ "$(id -u)" = 0 ] || die "$out is missing, and making it needs root (debootstrap chroots into the new tree to install packages); run this as root"
need_cmds debootstrap tar flock
mkdir -p "$(dirname "$out")" || die "cannot make $(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# One builder at a time; whoever waited finds the tar made.
exec 9>"$out.lock"
flock 9
if [ -s "$out" ]; then echo "$out"; exit 0; fi

# On the disk, not tmpfs: /dev/shm may be noexec or nodev on other hosts,
# and debootstrap runs the new tree's programs.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/make-rootfs.XXXXXX")
remove_work() {
	local m
	# debootstrap mounts proc and sys in the tree; a failed run can leave them.
	for m in $(mounts_under "$work"); do umount -l "$m"; done
	rm -rf --one-file-system "$work" "$out.tmp"
}
cleanup_hooks="remove_work"
mirror=$(debian_mirror) || exit 1

say "debootstrap --variant=minbase --include=python3,perl $suite (a few minutes)"
start=$EPOCHREALTIME
debootstrap --variant=minbase --include=python3,perl "$suite" "$work/root" "$mirror" \
	>"$work/log" 2>&1 || die "debootstrap failed: $(tail -5 "$work/log")"
boot_s=$(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN {printf "%.0f", e - s}')

# What the archive's host would be written in, and the downloaded
# packages: the same a container image leaves out.  None of it belongs to
# an installed package, so dpkg --verify still has every file it knows.
# (Files only: the directories, partial/ too, are apt's own.)
find "$work/root/var/lib/apt/lists" "$work/root/var/cache/apt" -type f \
	! -name lock -delete
echo "# $suite main: scripts/make-rootfs.sh took it from the build host's apt archive" \
	>"$work/root/etc/apt/sources.list"

tar --numeric-owner --xattrs --xattrs-include='*' --sort=name -C "$work/root" \
	-cf "$out.tmp" . || die "tar of the tree failed"
entries=$(find "$work/root" -xdev | wc -l)
bytes=$(du -sb --apparent-size "$work/root" | cut -f1)
total_s=$(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN {printf "%.0f", e - s}')
{
	echo "made: $(date -u '+%Y-%m-%d %H:%M:%S UTC') by scripts/make-rootfs.sh"
	echo "how: debootstrap --variant=minbase --include=python3,perl $suite ($(debootstrap --version 2>&1 | head -1))"
	echo "packages: $(chroot "$work/root" dpkg-query -W | wc -l)"
	echo "entries: $entries"
	echo "bytes: $bytes"
	echo "seconds: debootstrap $boot_s, in all $total_s"
} >"$out.info"
mv "$out.tmp" "$out"
say "$out: $entries entries, $((bytes >> 20)) MiB, made in $total_s s (debootstrap $boot_s s)"
echo "$out"
