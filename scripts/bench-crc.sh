#!/bin/bash
# CRC32C speed of one or more build trees, side by side in one run: links
# scripts/bench-crc.c against each tree's libxipfs.a (and what that tree's
# configure found for it) and prints GB/s for a 64 KiB buffer (in cache,
# as -o verify checks a block) and a 64 MiB one (from memory, as xipfsck's
# data pass).  Best of many repetitions: a checksum's speed has no cold
# state, the minimum is the least disturbed figure.  Not a test.
#
# Usage: scripts/bench-crc.sh [--reps N] [BUILD_TREE...]
#   (default: this tree; e.g. an older build's tree beside it)
set -eu
. "$(dirname "$0")/lib.sh"
reps=200
while [ $# -gt 0 ]; do
	case $1 in
	--reps) [ $# -ge 2 ] || die "--reps needs a number"; reps=$2; shift 2 ;;
	--help|-h) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
case $reps in ''|*[!0-9]*|0) die "--reps: not a positive number: $reps" ;; esac
[ $# -gt 0 ] || set -- "$top"
work=$(mktemp -d)
remove_work() { rm -rf "$work"; }
cleanup_hooks=remove_work
printf '%-40s %14s %14s\n' "build tree" "64 KiB" "64 MiB"
n=0
for tree; do
	[ -f "$tree/libxipfs.a" ] || die "$tree: no libxipfs.a (not a configured, built tree)"
	libs=$(sed -n 's/^XIPFS_LIB_LIBS = //p' "$tree/Makefile")
	n=$((n + 1))
	# shellcheck disable=SC2086
	cc -O2 -I"$top/include" "$top/scripts/bench-crc.c" "$tree/libxipfs.a" \
		$libs -o "$work/bench-crc$n" || die "$tree: cannot link the benchmark"
	small=$("$work/bench-crc$n" 65536 $((reps * 100)))
	large=$("$work/bench-crc$n" $((64 << 20)) "$reps")
	printf '%-40s %14s %14s\n' "$tree" "${small%% (*}" "${large%% (*}"
done
