#!/bin/bash
# What -o verify costs: a cold sequential read of the big file and a cold
# readall of the small files (xipbench seq and readall), through a mount
# with and one without verify of the same image, in one xipbench run each
# time.  A verify mount checks each block once, so every repetition mounts
# both anew.  The tree and the images live on tmpfs; two images: every file
# in place (mkxipfs's default), and --compress=zstd --xip=elf.  Prints the
# median of each figure over the repetitions, its spread, and verify's
# ratio; not a test.  Root (xipbench drops caches for cold runs).
#
# Usage: scripts/bench-verify.sh [--reps N] [--files N] [--big-mib M]
#   defaults 5 repetitions, 20000 files, a 1024 MiB file
# Environment: XIPFS, MKXIPFS, XIPBENCH (default: the ones built here),
# BENCH_DIR (the work directory is made under it, default /dev/shm, tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
reps=5 files=20000 big_mib=1024
parse_options reps=#reps files=#files big-mib=#big_mib -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
need_cmds "$xipfs" "$mkxipfs" "$xipbench" fusermount3 python3
[ "$(id -u)" = 0 ] || die "needs root (cold runs drop the page cache)"

bench_workdir verify
work=$base
mkdir "$work/noverify" "$work/verify"
undo() {
	local m
	for m in "$work/noverify" "$work/verify"; do
		! is_mounted "$m" || unmount "$m" || true
	done
	reap_daemons
}
cleanup_hooks="undo $cleanup_hooks"

python3 "$top/scripts/gen-tree.py" "$work/tree" --files "$files" --big-mib "$big_mib" >/dev/null
"$mkxipfs" -q "$work/tree" "$work/xip.xip"
"$mkxipfs" -q --compress=zstd --xip=elf "$work/tree" "$work/zstd.xip"

mount_pair() {	# mount_pair IMAGE: both mounts of it, fresh
	local opt
	for opt in noverify verify; do
		start_daemon "$opt" "$work/xipfs.log" "$work/$opt" "$xipfs" -f -o "$opt" "$1" "$work/$opt"
	done
}
umount_pair() {
	local opt p
	for opt in noverify verify; do unmount "$work/$opt" clean || die "cannot unmount $opt"; done
	reap_daemons
}

: >"$work/figures"
for kind in xip zstd; do
	for rep in $(seq 1 "$reps"); do
		mount_pair "$work/$kind.xip"
		# Alternate which target runs first.
		if [ $((rep % 2)) = 1 ]; then order="noverify verify"; else order="verify noverify"; fi
		"$xipbench" -r 1 -c cold -w seq,readall -f big \
			$(for t in $order; do printf '%s=%s ' "$t" "$work/$t"; done) 2>/dev/null |
			awk -v k="$kind" '{ for (i = 1; i <= NF; i++) if ($i == "MB/s" && $(i - 2) ~ /verify$/) {
				print k, $1, $(i - 2), $(i - 1); break } }' >>"$work/figures"
		umount_pair
	done
done

echo "# -o verify, cold, images on tmpfs: $files small files (readall) and a $big_mib MiB file (seq 1M), $reps fresh mounts each"
echo "# command: $0 --reps $reps --files $files --big-mib $big_mib; $(uname -r), $(nproc) CPUs"
printf '%-6s %-8s %-24s %-24s %s\n' image workload "noverify MB/s" "verify MB/s" "verify/noverify"
for kind in xip zstd; do
	for wl in seq readall; do
		a=$(awk -v k=$kind -v w=$wl '$1 == k && $2 == w && $3 == "noverify" {print $4}' "$work/figures")
		b=$(awk -v k=$kind -v w=$wl '$1 == k && $2 == w && $3 == "verify" {print $4}' "$work/figures")
		ma=$(median <<<"$a") mb=$(median <<<"$b")
		printf '%-6s %-8s %-24s %-24s %s\n' $kind $wl "$(stats %.0f <<<"$a")" "$(stats %.0f <<<"$b")" \
			"$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", a ? b / a : 0 }')"
	done
done
