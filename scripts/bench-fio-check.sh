#!/bin/bash
# Cross-check xipbench against fio: the same workload on the same xipfs
# mount, cold, the two tools interleaved run by run, and the medians side by
# side.  They should agree within 20%; a larger gap means one of them
# measures something else.  Not a test (it asserts nothing); run as root
# (drop_caches).
#
# Usage: scripts/bench-fio-check.sh [--big-mib M] [--runs N]  (defaults 1024, 5)
# Environment: XIPFS, MKXIPFS, XIPBENCH (default: the build tree's),
# BENCH_DIR (work directory parent, default /dev/shm, a tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
mib=1024 runs=5
parse_options big-mib=#mib runs=#runs -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
ops=20000
report=$top/scripts/bench_report.py
[ "$(id -u)" = 0 ] || die "run as root (drop_caches)"
need_cmds fio python3
need_built "$xipfs" "$mkxipfs" "$xipbench"

bench_workdir fio-check
fio_check_cleanup() {
	! is_mounted "$base/mnt" || unmount "$base/mnt"
	reap_daemons
}
cleanup_hooks="fio_check_cleanup $cleanup_hooks"
mkdir -p "$base/tree" "$base/mnt"
python3 "$top/scripts/gen-tree.py" "$base/tree" --files 0 --big-mib "$mib" >/dev/null
"$mkxipfs" -q "$base/tree" "$base/x.img"
start_daemon xipfs "$base/log" "$base/mnt" "$xipfs" -f "$base/x.img" "$base/mnt"
file=$base/mnt/big

# One figure per run, in xipbench's unit (MB/s or IOPS).
xb() {	# xb WORKLOAD
	"$xipbench" -q -r 1 -n $ops -w "$1" -j "$base/r.json" m="$base/mnt"
	python3 "$report" median "$base/r.json"
}
fio_run() {	# fio_run WORKLOAD
	local args
	case $1 in
	seq) args="--rw=read --bs=1M --ioengine=psync";;
	rand) args="--rw=randread --bs=4k --ioengine=psync --number_ios=$ops";;
	uring) args="--rw=randread --bs=4k --ioengine=io_uring --iodepth=32 --number_ios=$ops";;
	esac
	drop_caches
	# shellcheck disable=SC2086
	# Page-aligned buffers and no fadvise hint: what xipbench does.  fio's
	# defaults (an unaligned buffer, POSIX_FADV_SEQUENTIAL/RANDOM) measure
	# something else: the unaligned copy alone costs 3x on this machine.
	fio --name=x --filename="$file" --readonly --iomem_align=4096 \
		--fadvise_hint=0 $args --output-format=json \
		>"$base/fio.json"
	python3 "$report" fio "$base/fio.json" "$1"
}

echo "| workload (xipfs splice mount, ${mib} MiB file, cold) | xipbench | fio | xipbench / fio |"
echo "|---|---|---|---|"
for w in seq rand uring; do
	: >"$base/a"; : >"$base/b"
	for _ in $(seq "$runs"); do
		xb $w >>"$base/a"
		fio_run $w >>"$base/b"
	done
	a=$(median <"$base/a") b=$(median <"$base/b")
	unit=IOPS; [ $w = seq ] && unit=MB/s
	awk -v w="$w" -v a="$a" -v b="$b" -v u="$unit" \
		'BEGIN { printf "| %s | %.0f %s | %.0f %s | %.2f |\n", w, a, u, b, u, a / b }'
done
echo
echo "xipbench: -r 1 -n $ops -w WORKLOAD (cold: drop_caches); fio 'fio --version': $(fio --version)"
echo "fio common: --readonly --iomem_align=4096 --fadvise_hint=0"
echo "fio seq: --rw=read --bs=1M --ioengine=psync; rand: --rw=randread --bs=4k --ioengine=psync --number_ios=$ops;"
echo "fio uring: --rw=randread --bs=4k --ioengine=io_uring --iodepth=32 --number_ios=$ops; before each fio run: sync; echo 3 > drop_caches"
echo "$runs runs each, interleaved xipbench, fio, xipbench, fio...; medians"
