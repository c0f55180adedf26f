#!/bin/bash
# What the lazy metadata check (XIPFS_RO_COMPAT_META_CRC) costs.
#  1. Mount time of an image of --files empty files (gen-tree.py
#     empty-tar), built with and without the metadata CRC table: `xipfs
#     IMG MNT` returns once the mount is up; timed from start to return.
#  2. A cold metadata walk (find, ls -lR, du -s, each on a fresh mount
#     after drop_caches) over a real root file system (make-rootfs.sh's
#     tar), one image with the table, mounted with the check (default) and
#     with -o noverify (no check).
#  3. In process (scripts/bench-metacrc.c against this tree's libxipfs.a):
#     open + close of both images with the table (its CRC, the bitmap),
#     and every metadata block's CRC: the most a mount can spend checking.
# Interleaved (A B A B ...), --reps each; prints medians, spreads and
# ratios; not a test.  Root (drop_caches, and mounts on tmpfs images).
#
# Usage: scripts/bench-meta.sh [--reps N] [--files N] [--tar FILE]
#   defaults 5 repetitions, 1000000 files, /var/cache/xipfs/bookworm-minbase.tar
# Environment: XIPFS, MKXIPFS (default: the ones built here), BENCH_DIR
# (the work directory is made under it, default /dev/shm, tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
reps=5 files=1000000 tar=/var/cache/xipfs/bookworm-minbase.tar
parse_options reps=#reps files=#files tar=tar -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
need_cmds "$xipfs" "$mkxipfs" fusermount3 python3
[ "$(id -u)" = 0 ] || die "needs root (cold runs drop the page cache)"
[ -r "$tar" ] || die "$tar: not readable (scripts/make-rootfs.sh makes it)"

bench_workdir meta
work=$base
mnt=$work/mnt
mkdir "$mnt"
undo() { ! is_mounted "$mnt" || unmount "$mnt" || true; reap_daemons; }
cleanup_hooks="undo $cleanup_hooks"

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
mount_ms() {	# mount_ms IMAGE [OPTIONS]: ms until `xipfs` returned, mounted
	local t0
	t0=$(date +%s%N)
	"$xipfs" ${2:+-o "$2"} "$1" "$mnt"
	ms_since "$t0"
	is_mounted "$mnt" || die "$1 did not mount"
}
# cpu_ms PID: user + system CPU time of PID so far, ms
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
umount_it() { unmount "$mnt" clean || die "cannot unmount $mnt"; }

libs=$(sed -n 's/^XIPFS_LIB_LIBS = //p' "$top/Makefile")
# shellcheck disable=SC2086
cc -O2 -I"$top/include" "$top/scripts/bench-metacrc.c" "$top/libxipfs.a" \
	$libs -o "$work/bench-metacrc" || die "cannot link scripts/bench-metacrc.c"
python3 "$top/scripts/gen-tree.py" --kind empty-tar --files "$files" - |
	"$mkxipfs" -q --tar - "$work/many-meta.xip"
python3 "$top/scripts/gen-tree.py" --kind empty-tar --files "$files" - |
	"$mkxipfs" -q --no-meta-crc --tar - "$work/many-plain.xip"
"$mkxipfs" -q --tar "$tar" "$work/rootfs.xip"
: >"$work/figures"
for rep in $(seq 1 "$reps"); do
	for kind in meta plain; do
		echo "mount $kind $(mount_ms "$work/many-$kind.xip")" >>"$work/figures"
		umount_it
	done
	for tool in find "ls -lR" "du -s"; do
		if [ $((rep % 2)) = 1 ]; then order="check noverify"; else order="noverify check"; fi
		for mode in $order; do
			start_daemon xipfs "$work/xipfs.log" "$mnt" "$xipfs" -f \
				$([ $mode = noverify ] && echo -o noverify) "$work/rootfs.xip" "$mnt"
			drop_caches
			cpu0=$(cpu_ms "${daemon_pid[xipfs]}")
			t0=$(date +%s%N)
			(cd "$mnt" && $tool . >/dev/null 2>&1) || true
			echo "${tool%% *} $mode $(ms_since "$t0") $(($(cpu_ms "${daemon_pid[xipfs]}") - cpu0))" >>"$work/figures"
			umount_it
			reap_daemons
		done
	done
done

meta_blocks=$("$top/xipfsck" -s "$work/many-meta.xip" 2>/dev/null | awk '/^meta crc blocks:/ { print $4 }' || true)
echo "# metadata checks: $(uptime | sed 's/.*load/load/'); $(uname -r), $(nproc) CPUs"
echo "# command: $0 --reps $reps --files $files --tar $tar"
echo "# 1. mount of $files empty files ($(stat -c %s "$work/many-meta.xip") bytes, ${meta_blocks:-?} metadata blocks): ms"
for kind in meta plain; do
	printf '%-28s %s\n' "$kind" "$(awk -v k=$kind '$1 == "mount" && $2 == k { print $3 }' "$work/figures" | stats %.0f)"
done
echo "# 2. cold walk of $(basename "$tar") (fresh mount, drop_caches): wall ms and the daemon's CPU ms, check/noverify"
for tool in find ls du; do
	for col in 3 4; do
		a=$(awk -v t=$tool -v c=$col '$1 == t && $2 == "noverify" { print $c }' "$work/figures")
		b=$(awk -v t=$tool -v c=$col '$1 == t && $2 == "check" { print $c }' "$work/figures")
		printf '%-6s %-4s noverify %-22s check %-22s %s\n' $tool "$([ $col = 3 ] && echo wall || echo cpu)" \
			"$(stats %.0f <<<"$a")" "$(stats %.0f <<<"$b")" \
			"$(awk -v a="$(median <<<"$a")" -v b="$(median <<<"$b")" 'BEGIN { printf "%.3f", a ? b / a : 0 }')"
	done
done
echo "# 3. in process, libxipfs: open+close (table CRC, bitmap), and every metadata block's CRC"
for img in many-meta rootfs; do
	printf '%-12s %s\n' "$img" "$("$work/bench-metacrc" "$work/$img.xip" | tr '\n' ' ')"
done
