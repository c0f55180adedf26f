#!/bin/bash
# Benchmark the kernel-bypass read paths side by side on one file: xipfs
# through the page cache (/dev/fuse), xipfs over io_uring, xipfs with
# passthrough, a direct mapping of the file's range in the image (what
# xipfs-map gives a program), and the same bytes read natively from the
# file system that holds the image.  The image lives on xfs (reflink=1)
# loop-mounted from a file on tmpfs, so the medium is RAM as in
# bench-read.sh.  Every figure is cold (fresh mount, drop_caches), median
# (min-max) of RUNS runs, targets interleaved.  Not a test.
#
# Usage: scripts/bench-bypass.sh [FILE_MIB] [RUNS]   (default 1024 5), as
# root, with xipfs built against libfuse 3.18 (scripts/build-libfuse.sh).
# Environment: XIPFS, MKXIPFS, XIPFS_MAP (defaults: the built ones);
# BYPASS_WORKLOADS (default "seq rand rand_uring mmap_rand"; empty: only
# the page-cache measurement).
set -eu -o pipefail
export LC_ALL=C
mib=${1:-1024} runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
xipfs=${XIPFS:-$top/xipfs} mkxipfs=${MKXIPFS:-$top/mkxipfs}
xmap=${XIPFS_MAP:-$top/xipfs-map}
die() { echo "bench-bypass: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (loop mounts, drop_caches, passthrough)"
for t in fio mkfs.xfs python3; do command -v $t >/dev/null || die "$t missing"; done
"$xipfs" --version | grep -q 'passthrough yes' ||
	die "$xipfs has no passthrough (configure --with-libfuse, see scripts/build-libfuse.sh)"
param=/sys/module/fuse/parameters/enable_uring
uring=0; "$xipfs" --version | grep -q 'io_uring yes' && [ -w $param ] && uring=1

base=$(mktemp -d /dev/shm/xipfs-bypass.XXXXXX)
saved_param=$(cat $param 2>/dev/null || echo N)
pid=""
cleanup() {
	set +e
	for m in $(awk -v b="$base/" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	[ -z "$pid" ] || wait "$pid" 2>/dev/null
	[ ! -w $param ] || echo "$saved_param" >$param
	rm -rf --one-file-system "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# xfs on a loop device over a tmpfs file; the image and a native copy on it.
truncate -s $((mib * 3 + 512))M "$base/xfs.disk"
mkfs.xfs -q -m reflink=1 "$base/xfs.disk"
mkdir -p "$base/xfs" "$base/mnt" "$base/tree"
mount -o loop "$base/xfs.disk" "$base/xfs"
head -c $((mib << 20)) /dev/urandom >"$base/tree/big"
"$mkxipfs" -q "$base/tree" "$base/xfs/x.img"
cp "$base/tree/big" "$base/xfs/native"
rm -f "$base/tree/big"

declare -A opts=([pagecache]="-o passthrough=off" [passthrough]="-o passthrough=on")
targets="pagecache passthrough direct native"
if [ $uring = 1 ]; then
	opts[io_uring]="-o passthrough=off,io_uring"; targets="pagecache io_uring passthrough direct native"
fi
mount_xipfs() {	# mount_xipfs TARGET
	"$xipfs" -f ${opts[$1]} "$base/xfs/x.img" "$base/mnt" 2>>"$base/log" </dev/null &
	pid=$!
	for _ in $(seq 500); do mountpoint -q "$base/mnt" && return 0; sleep 0.01; done
	die "mount for $1 failed: $(tail -3 "$base/log")"
}
unmount_xipfs() {
	if mountpoint -q "$base/mnt"; then umount "$base/mnt"; wait "$pid" || true; pid=""; fi
}
# Where fio reads for a target: the FUSE file, the image at the file's
# offset (the direct mapping), or the native copy.
declare -A off
where() {
	case $1 in
	direct) echo "--filename=$base/xfs/x.img --offset=$direct_off --size=$((mib << 20))";;
	native) echo "--filename=$base/xfs/native";;
	*) echo "--filename=$base/mnt/big";;
	esac
}
echo Y >$param 2>/dev/null || true
mount_xipfs pagecache
direct_off=$("$xmap" "$base/mnt/big" | awk '{print $4}')
unmount_xipfs

fio_run() {	# fio_run TARGET ARGS... -> "GB/s IOPS"
	local t=$1; shift
	# shellcheck disable=SC2046
	fio --name=b $(where "$t") --readonly --numjobs=1 --iomem_align=4096 \
		--output-format=json "$@" >"$base/fio.json" 2>"$base/fio.err" ||
		die "fio on $t: $(tail -2 "$base/fio.err")"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["jobs"][0]["read"]; print(r["bw_bytes"]/1e9, r["iops"])' "$base/fio.json"
}
ios=$((mib * 64)); [ $ios -le 20000 ] || ios=20000
declare -A res
workloads=${BYPASS_WORKLOADS-seq rand rand_uring mmap_rand}
declare -A wl=(
	[seq]="--ioengine=psync --rw=read --bs=1M"
	[rand]="--ioengine=psync --rw=randread --bs=4k --number_ios=$ios --randrepeat=1"
	[rand_uring]="--ioengine=io_uring --iodepth=32 --rw=randread --bs=4k --number_ios=$ios --randrepeat=1"
	[mmap_rand]="--ioengine=mmap --rw=randread --bs=4k --number_ios=$ios --randrepeat=1"
)
for r in $(seq "$runs"); do
	for w in $workloads; do
		for t in $targets; do
			case $t in direct|native) ;; *) mount_xipfs "$t";; esac
			sync; echo 3 >/proc/sys/vm/drop_caches
			f=$(fio_run "$t" ${wl[$w]})
			if [ $w = seq ]; then res[$t.$w]+="${f% *}"$'\n'; else res[$t.$w]+="${f#* }"$'\n'; fi
			unmount_xipfs
		done
	done
done

# Page-cache growth from mapping and touching every page of the file,
# read while the mapping is live: a passthrough backing file is an unnamed
# clone whose pages go away with its last close.
declare -A mem
for t in pagecache passthrough; do
	mount_xipfs "$t"
	sync; echo 3 >/proc/sys/vm/drop_caches
	mem[$t]=$(python3 -c 'import mmap, sys
def cached():
    for line in open("/proc/meminfo"):
        if line.startswith("Cached:"):
            return int(line.split()[1])
before = cached()
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    s = sum(m[i] for i in range(0, len(m), 4096))
    print((cached() - before) // 1024)' "$base/mnt/big")
	unmount_xipfs
done

stats() { sort -g | awk -v f="$1" '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf f " (" f "-" f ")", m, a[1], a[NR]}'; }
median() { printf '%s' "${res[$1]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "bench-bypass: kernel $(uname -r), $(nproc) CPUs; $("$xipfs" --version 2>&1 | sed -n 2,3p | paste -sd ';'); $(fio --version)"
echo "one ${mib} MiB file; image on xfs (reflink=1) on a loop device over tmpfs; $runs runs, cold, median (min-max)"
echo
echo "| target | seq 1 MiB GB/s | rand 4K psync IOPS | rand 4K io_uring QD32 IOPS | mmap rand 4K IOPS |"
echo "|---|---|---|---|---|"
[ -z "$workloads" ] || for t in $targets; do
	printf '| %s | %s | %s | %s | %s |\n' "$t" \
		"$(printf '%s' "${res[$t.seq]}" | stats %.2f)" "$(printf '%s' "${res[$t.rand]}" | stats %.0f)" \
		"$(printf '%s' "${res[$t.rand_uring]}" | stats %.0f)" "$(printf '%s' "${res[$t.mmap_rand]}" | stats %.0f)"
done
echo
[ -z "$workloads" ] || for t in passthrough direct; do
	for w in $workloads; do
		printf '%s/native %s: %s\n' "$t" "$w" "$(awk -v a="$(median $t.$w)" -v b="$(median native.$w)" 'BEGIN {printf "%.2f", a / b}')"
	done
done
[ $uring = 0 ] || [ -z "$workloads" ] || echo "io_uring/pagecache rand 4K psync: $(awk -v a="$(median io_uring.rand)" -v b="$(median pagecache.rand)" 'BEGIN {printf "%.2f", a / b}')"
echo "page cache grown by mapping and touching the whole file: pagecache mode ${mem[pagecache]} MiB, passthrough ${mem[passthrough]} MiB (file: $mib MiB)"
echo
echo "Commands: mkfs.xfs -m reflink=1 on a tmpfs file, mount -o loop; mkxipfs -q tree xfs/x.img; cp big xfs/native"
for t in $targets; do
	case $t in direct) echo "  direct: fio on xfs/x.img --offset=<xipfs-map offset> --size=<file size>";;
	native) echo "  native: fio on xfs/native";;
	*) echo "  $t: xipfs -f ${opts[$t]} xfs/x.img mnt; fio on mnt/big";; esac
done
for w in $workloads; do echo "  $w: fio --readonly --numjobs=1 --iomem_align=4096 ${wl[$w]}"; done
echo "  before each: sync; echo 3 > /proc/sys/vm/drop_caches (xipfs remounted)"
