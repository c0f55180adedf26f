#!/bin/bash
# The measurements behind three misses of earlier benchmarks, each an
# experiment that isolates one cause (docs/BENCHMARKS.md, "Three misses,
# diagnosed").  Not a test: it prints figures and asserts nothing.  Run as
# root (drop_caches, loop mounts, passthrough).
#
#   direct-seq    cold 1 MiB reads of the same bytes on one xfs: a plain
#                 file from 0, the same file from the offset the big file
#                 has inside an xipfs image, the image at that offset, and
#                 the image from that offset rounded down to 1 MiB
#   uring-workers rand 4K io_uring QD32 with fio on a native xfs file, an
#                 xipfs passthrough file and an xipfs page-cache file, with
#                 the io-wq worker threads io_uring started for fio
#   fio-batch     xipbench's uring workload against fio with its default
#                 one-submit-per-read and with batched submit and reap
#
# Usage: scripts/bench-diagnose.sh [--runs N] [--mib M] PART...  (default: all)
# Environment: XIPFS, MKXIPFS, XIPBENCH (default: the build tree's);
# passthrough needs xipfs built against libfuse 3.17+ (uring-workers
# leaves that row out, saying so, otherwise).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
runs=5 mib=1024 parts=()
parse_options runs=#runs mib=#mib -- "$@"
for p in "${args[@]}"; do
	case $p in
	direct-seq|uring-workers|fio-batch) parts+=("$p");;
	*) die "unknown argument '$p' (--help)";;
	esac
done
[ ${#parts[@]} -gt 0 ] || parts=(direct-seq uring-workers fio-batch)
[[ $runs =~ ^[1-9][0-9]*$ && $mib =~ ^[1-9][0-9]*$ ]] || die "--runs and --mib want positive numbers"
[ "$(id -u)" = 0 ] || die "run as root (drop_caches, loop mounts)"
need_cmds fio mkfs.xfs python3 dd
need_built "$xipfs" "$mkxipfs" "$xipbench" "$top/xipfsck"
report=$top/scripts/bench_report.py
ops=20000

bench_workdir diagnose
diagnose_cleanup() {
	local m
	for m in $(mounts_under "$base" fuse); do unmount "$m"; done
	reap_daemons
	for m in $(mounts_under "$base" other); do unmount "$m"; done
}
cleanup_hooks="diagnose_cleanup $cleanup_hooks"

# One xfs (reflink) on a loop device over a tmpfs file, the medium RAM: a
# tree of a few small files and the big one, its image, and the big file
# again as a plain file.
mkdir -p "$base/tree" "$base/xfs" "$base/mnt"
python3 "$top/scripts/gen-tree.py" "$base/tree" --files 7 --big-mib "$mib" >/dev/null
truncate -s $((mib * 2 + 512))M "$base/xfs.disk"
mkfs.xfs -q -m reflink=1 "$base/xfs.disk"
mount -o loop "$base/xfs.disk" "$base/xfs"
"$mkxipfs" -q "$base/tree" "$base/xfs/x.img"
cp "$base/tree/big" "$base/xfs/native"
rm -rf "$base/tree"
# the big file's data offset in the image (xipfsck -l: offset, kind, path)
off=$("$top/xipfsck" -l "$base/xfs/x.img" | awk '$NF == "/big" {print $(NF - 2); exit}')
[[ $off =~ ^0x[0-9a-f]+$ ]] || die "cannot find big's offset in the image (xipfsck -l)"
off=$((off))

# dd_mbs FILE SKIP_BYTES MIB: cold read of MIB MiB by 1 MiB reads, MB/s.
dd_mbs() {
	drop_caches
	dd if="$1" of=/dev/null bs=1M count="$3" skip="$2" iflag=skip_bytes 2>&1 |
		awk '/copied/ {print $(NF-1) * ($NF == "GB/s" ? 1000 : 1)}'
}
row() { printf '| %s | %s |\n' "$1" "$(stats %.0f <"$2")"; }

direct_seq() {
	local len=$((mib - 1)) a=$((off >> 20 << 20)) i
	echo "### direct-seq: cold dd bs=1M count=$len, $runs runs interleaved, MB/s"
	echo
	echo "big's data starts at byte $off of the image ($((off % 1048576)) bytes past a MiB boundary)."
	echo
	echo "| what is read | MB/s, median (min-max) |"
	echo "|---|---|"
	: >"$base/d1"; : >"$base/d2"; : >"$base/d3"; : >"$base/d4"
	for i in $(seq "$runs"); do
		dd_mbs "$base/xfs/native" 0 $len >>"$base/d1"
		dd_mbs "$base/xfs/native" $((off % 1048576)) $len >>"$base/d2"
		dd_mbs "$base/xfs/x.img" "$off" $len >>"$base/d3"
		dd_mbs "$base/xfs/x.img" "$a" $len >>"$base/d4"
	done
	row "plain file, from 0" "$base/d1"
	row "plain file, from $((off % 1048576))" "$base/d2"
	row "image, from big's offset $off" "$base/d3"
	row "image, from $a (a MiB boundary)" "$base/d4"
	echo
}

# fio_iops FILE ENGINE-ARGS...: cold rand 4K, IOPS; the largest number of
# io-wq workers ("iou-wrk-PID") fio had at once, sampled every 50 ms.
fio_iops() {
	local f=$1 p max=0 n; shift
	drop_caches
	fio --name=x --filename="$f" --readonly --iomem_align=4096 --fadvise_hint=0 \
		--rw=randread --bs=4k --number_ios=$ops --output-format=json "$@" >"$base/fio.json" &
	p=$!
	while kill -0 $p 2>/dev/null; do
		n=$(ps -L -o comm= --ppid $p -p $p 2>/dev/null | grep -c '^iou-wrk' || true)
		[ "$n" -le "$max" ] || max=$n
		sleep 0.05
	done
	wait $p
	echo "$(python3 "$report" fio "$base/fio.json" uring) $max"
}

mount_xipfs() {	# mount_xipfs NAME OPTIONS
	start_daemon "$1" "$base/log.$1" "$base/mnt/$1" "$xipfs" -f -o "$2" "$base/xfs/x.img" "$base/mnt/$1"
}

uring_workers() {
	local names=(native pagecache) i n pt=0
	mount_xipfs pagecache passthrough=off
	if "$xipfs" --version 2>&1 | grep -q 'passthrough yes'; then
		mount_xipfs passthrough passthrough=on
		names+=(passthrough)
		pt=1
	fi
	declare -A file=([native]=$base/xfs/native [pagecache]=$base/mnt/pagecache/big [passthrough]=$base/mnt/passthrough/big)
	echo "### uring-workers: cold fio rand 4K io_uring QD32 ($ops reads), $runs runs interleaved"
	echo
	echo "| file | IOPS, median (min-max) | io-wq workers at once, median |"
	echo "|---|---|---|"
	for n in "${names[@]}"; do : >"$base/u.$n"; : >"$base/w.$n"; done
	for i in $(seq "$runs"); do
		for n in "${names[@]}"; do
			set -- $(fio_iops "${file[$n]}" --ioengine=io_uring --iodepth=32)
			echo "$1" >>"$base/u.$n"; echo "$2" >>"$base/w.$n"
		done
	done
	for n in "${names[@]}"; do
		printf '| %s | %s | %s (max %s) |\n' "$n" "$(stats %.0f <"$base/u.$n")" \
			"$(median <"$base/w.$n")" "$(sort -g "$base/w.$n" | tail -1)"
	done
	[ $pt = 1 ] || echo "(no passthrough row: $xipfs is built without passthrough)"
	echo
}

fio_batch() {
	local i
	[ -n "${pid[pagecache]:-}" ] || mount_xipfs pagecache passthrough=off
	echo "### fio-batch: cold rand 4K io_uring QD32 ($ops reads) on an xipfs page-cache file, $runs runs interleaved, IOPS"
	echo
	echo "| tool | IOPS, median (min-max) |"
	echo "|---|---|"
	: >"$base/b1"; : >"$base/b2"; : >"$base/b3"
	for i in $(seq "$runs"); do
		drop_caches
		"$xipbench" -q -r 1 -n $ops -w uring -j "$base/r.json" m="$base/mnt/pagecache" 2>/dev/null
		python3 "$report" median "$base/r.json" >>"$base/b1"
		fio_iops "$base/mnt/pagecache/big" --ioengine=io_uring --iodepth=32 | cut -d' ' -f1 >>"$base/b2"
		fio_iops "$base/mnt/pagecache/big" --ioengine=io_uring --iodepth=32 \
			--iodepth_batch_submit=32 --iodepth_batch_complete_min=1 \
			--iodepth_batch_complete_max=32 | cut -d' ' -f1 >>"$base/b3"
	done
	row "xipbench -w uring -Q 32" "$base/b1"
	row "fio --iodepth=32 (defaults: submit and reap one at a time)" "$base/b2"
	row "fio --iodepth=32 --iodepth_batch_submit=32 --iodepth_batch_complete_min=1 --iodepth_batch_complete_max=32" "$base/b3"
	echo
}

echo "## bench-diagnose, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs, $(fio --version)"
echo
for p in "${parts[@]}"; do
	case $p in
	direct-seq) direct_seq;;
	uring-workers) uring_workers;;
	fio-batch) fio_batch;;
	esac
done
