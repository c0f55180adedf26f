#!/bin/bash
# Issue 12's benchmark on a real root filesystem (scripts/make-rootfs.sh:
# Debian bookworm minbase with python3 and perl), extracted once onto
# tmpfs and given to every builder:
#   1. image size and build time of mkxipfs all-XIP (the default) and
#      compressed (--xip=elf|none, zstd, lz4, lz4:hc) beside mkfs.cramfs,
#      mksquashfs (-comp zstd, lz4, xz) and mkfs.erofs -zlz4hc, runs
#      interleaved;
#   2. cold reads of compressed files (xipbench seq of the largest non-ELF
#      file, readall of the whole tree) through xipfs on --xip=none images
#      against squashfuse_ll on squashfs of the same algorithm, and
#      erofsfuse on the lz4hc erofs when there is one;
#   3. cold reads of XIP files (seq, rand, mmap-seq of the largest ELF
#      file, readall of the tree) on the all-XIP image against the
#      --xip=elf --compress=zstd one.
# Prints a markdown report (machine and its load, versions, every command,
# the tables) on standard output; progress on standard error.  Not a test:
# it asserts nothing, but stops with "bench-rootfs: ..." when a tool or a
# mount fails, and unmounts, reaps and removes everything it made.
#
# Usage: scripts/bench-rootfs.sh [options]   (--help lists them)
# Needs root (drop_caches for cold reads; debootstrap if the tar is missing).
# Environment: MKXIPFS, XIPFS, XIPBENCH (default: built at the top of the
# tree), EROFSFUSE (as scripts/bench-compare.sh finds it), BENCH_DIR
# (default /dev/shm, which is tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() {
	cat <<-EOF
	usage: scripts/bench-rootfs.sh [options]
	  --tar FILE         the root filesystem tar (default: the one
	                     scripts/make-rootfs.sh keeps, made if missing)
	  --build-reps N     builds per builder (default 3)
	  --reps N           xipbench runs per workload and target (default 5)
	  --threads N        mkxipfs --threads and mksquashfs -processors
	                     (default: the CPUs, $(nproc))
	  --no-reads         only sizes and build times
	  -h, --help         this help
	EOF
}
tar="" build_reps=3 reps=5 threads=$(nproc) reads=1
no_reads=0
parse_options tar=tar build-reps=#build_reps reps=#reps threads=#threads no-reads -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
[ $no_reads = 0 ] || reads=0
for v in "build-reps=$build_reps" "reps=$reps" "threads=$threads"; do
	case ${v#*=} in ''|*[!0-9]*|0) die "--${v%%=*} wants a number from 1, not '${v#*=}'";; esac
done
[ "$(id -u)" = 0 ] || die "needs root: cold reads drop the page cache (/proc/sys/vm/drop_caches)"
need_cmds mkfs.cramfs mksquashfs mkfs.erofs squashfuse_ll python3 tar
need_built "$mkxipfs" "$xipfs" "$xipbench"
erofsfuse=$(erofsfuse_path)
if [ -z "$tar" ]; then
	tar=$("$top/scripts/make-rootfs.sh") || die "scripts/make-rootfs.sh failed"
fi
[ -s "$tar" ] || die "$tar: no such tar"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- work directory on tmpfs, undone on any exit
bench_workdir rootfs
unmount_all() {
	local m
	for m in $(mounts_under "$base"); do unmount "$m"; done
	reap_daemons
}
cleanup_hooks="unmount_all $cleanup_hooks"
cmds=()
# cmd WORDS...: the command as the report shows it ($WORK for the work dir).
cmd() { local s="$*"; echo "${s//"$base"/\$WORK}"; }

tree=$base/tree
mkdir "$tree"
tar --numeric-owner --xattrs --xattrs-include='*' -C "$tree" -xf "$tar" || die "extracting $tar failed"
cmds+=("$(cmd tar --numeric-owner --xattrs "--xattrs-include='*'" -C "$tree" -xf "$tar")")
# The tree's make-up and its largest ELF and non-ELF files (an ELF file
# is what --xip=elf keeps in place: executables and shared objects).
read -r nentries nfiles nbytes elf_bytes xfile zfile < <(python3 "$top/scripts/bench_report.py" tree-makeup "$tree")
say "tree: $nentries entries, $nfiles files, $((nbytes >> 20)) MiB ($((elf_bytes >> 20)) MiB ELF)"

# ---- builders, interleaved run by run so that drift hits all alike
order="xipfs_xip xipfs_elf_zstd xipfs_none_zstd xipfs_lz4 xipfs_none_lz4 xipfs_none_lz4hc
	cramfs squashfs_zstd squashfs_lz4 squashfs_xz erofs_lz4hc"
mkx() { echo "$mkxipfs -q ${*:+$* }$tree $base/$name.img"; }
declare -A build=()
for name in $order; do
	case $name in
	xipfs_xip) build[$name]=$(mkx);;
	xipfs_elf_zstd) build[$name]=$(mkx --xip=elf --compress=zstd --threads=$threads);;
	xipfs_none_zstd) build[$name]=$(mkx --xip=none --compress=zstd --threads=$threads);;
	xipfs_lz4) build[$name]=$(mkx --compress=lz4 --threads=$threads);;
	xipfs_none_lz4) build[$name]=$(mkx --xip=none --compress=lz4 --threads=$threads);;
	xipfs_none_lz4hc) build[$name]=$(mkx --xip=none --compress=lz4:hc --threads=$threads);;
	cramfs) build[$name]="mkfs.cramfs $tree $base/$name.img";;
	squashfs_*) build[$name]="mksquashfs $tree $base/$name.img -comp ${name#squashfs_} -processors $threads -no-progress -quiet";;
	erofs_lz4hc) build[$name]="mkfs.erofs --quiet -zlz4hc $base/$name.img $tree";;
	esac
	cmds+=("$(cmd "${build[$name]}")")
done
# Wall time, and the CPU time (user + system) that a loaded machine
# distorts less.
declare -A secs=() cpu=() bytes=()
TIMEFORMAT='%R %U %S'
for r in $(seq "$build_reps"); do
	for name in $order; do
		say "build $r/$build_reps: $name"
		rm -f "$base/$name.img"
		{ time ${build[$name]} >"$base/build.log" 2>&1; } 2>"$base/time" ||
			die "$name: $(cmd "${build[$name]}") failed: $(tail -3 "$base/build.log")"
		read -r wall user sys <"$base/time"
		secs[$name]+=$wall$'\n'
		cpu[$name]+="$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')"$'\n'
		bytes[$name]=$(stat -c %s "$base/$name.img")
	done
done
sync

# ---- reads: every daemon in the foreground (-f) in the background
# fuse_mount NAME IMAGE COMMAND...: COMMAND IMAGE MNT, MNT being
# $base/mnt/NAME.
fuse_mount() {
	local n=$1 img=$2 m=$base/mnt/$1; shift 2
	cmds+=("$(cmd "$@" "$img" "$m") &")
	start_daemon "$n" "$base/log.$n" "$m" "$@" "$img" "$m"
}
# bench OUT BASELINE WORKLOADS FILE NAME...: one xipbench run, cold, over
# the mounts NAME (the same FILE checked on each first).
bench() {
	local out=$1 baseline=$2 workloads=$3 file=$4 n size; shift 4
	local args=("$xipbench" -r "$reps" -c cold -w "$workloads" -f "$file" -B "$baseline" --json "$base/$out.json")
	size=$(stat -c %s "$tree/$file")
	for n in "$@"; do
		[ "$(stat -c %s "$base/mnt/$n/$file")" = "$size" ] || die "$n: $file is not the tree's $size bytes"
		args+=("$n=$base/mnt/$n")
	done
	cmds+=("$(cmd "${args[@]}")")
	say "xipbench $workloads on $*"
	"${args[@]}" >"$base/$out.txt" || die "xipbench failed: $(cmd "${args[@]}")"
	python3 "$top/scripts/bench_report.py" table "$base/$out.json" >"$base/$out.md" ||
		die "bench_report.py could not read $out.json"
}
if [ $reads = 1 ]; then
	ztargets="xipfs_none_zstd squashfs_zstd xipfs_none_lz4 squashfs_lz4"
	fuse_mount xipfs_none_zstd "$base/xipfs_none_zstd.img" "$xipfs" -f
	fuse_mount squashfs_zstd "$base/squashfs_zstd.img" squashfuse_ll -f
	fuse_mount xipfs_none_lz4 "$base/xipfs_none_lz4.img" "$xipfs" -f
	fuse_mount squashfs_lz4 "$base/squashfs_lz4.img" squashfuse_ll -f
	if [ -x "$erofsfuse" ]; then
		ztargets+=" xipfs_none_lz4hc erofs_lz4hc"
		fuse_mount xipfs_none_lz4hc "$base/xipfs_none_lz4hc.img" "$xipfs" -f
		fuse_mount erofs_lz4hc "$base/erofs_lz4hc.img" "$erofsfuse" -f
	fi
	bench compressed squashfs_zstd seq,readall "$zfile" $ztargets
	fuse_mount xipfs_xip "$base/xipfs_xip.img" "$xipfs" -f
	fuse_mount xipfs_elf_zstd "$base/xipfs_elf_zstd.img" "$xipfs" -f
	bench xip xipfs_xip seq,rand,mmap-seq,readall "$xfile" xipfs_xip xipfs_elf_zstd
	unmount_all
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report
ver() { "$@" 2>&1 | head -1; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "# xipfs on a Debian root filesystem (issue 12)"
echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  "
echo "Machine: $(uname -srm), $(nproc) CPUs ($(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM  "
echo "Load average (1, 5, 15 min): $load_before before, $load_after after"
echo
echo "Tree: $tar, $nentries entries, $nfiles regular files, $(mib "$nbytes") MiB in regular files, of which $(mib "$elf_bytes") MiB ELF executables and shared objects; extracted once onto tmpfs."
[ ! -f "$tar.info" ] || { echo; echo '```'; cat "$tar.info"; echo '```'; }
echo
echo "Versions: $(ver "$mkxipfs" --version); $(ver mksquashfs -version); mkfs.cramfs and mkfs.erofs from Debian's util-linux $(dpkg-query -W -f '${Version}' util-linux) and erofs-utils $(dpkg-query -W -f '${Version}' erofs-utils); squashfuse $(dpkg-query -W -f '${Version}' squashfuse)$([ ! -x "$erofsfuse" ] || echo "; $("$erofsfuse" --help 2>&1 | grep -m1 '^erofsfuse')")."
echo
echo "Block sizes and threads: mkxipfs 4 KiB blocks, 64 KiB clusters, --threads=$threads;"
echo "mksquashfs 128 KiB blocks, -processors $threads (zstd level 15, xz, lz4 without -Xhc: their defaults);"
echo "mkfs.cramfs 4 KiB pages, zlib, one thread; mkfs.erofs 4 KiB clusters, lz4hc level 9, one thread (Debian's 1.5 has no threads)."
echo
echo "## Commands (WORK=$base, removed afterwards; \`&\`: a daemon in the background)"
echo
echo '```sh'
printf '%s\n' "${cmds[@]}"
echo '```'
echo
echo "## Image size and build time ($build_reps builds each, interleaved)"
echo
echo "| image | build s, median (min-max) | CPU s (user+sys) | MiB | vs all-XIP | vs squashfs zstd |"
echo "|---|---|---|---|---|---|"
for name in $order; do
	printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$(printf '%s' "${secs[$name]}" | stats %.2f)" \
		"$(printf '%s' "${cpu[$name]}" | stats %.1f)" \
		"$(mib "${bytes[$name]}")" "$(ratio "${bytes[$name]}" "${bytes[xipfs_xip]}")" \
		"$(ratio "${bytes[$name]}" "${bytes[squashfs_zstd]}")"
done
# spreads OUT: xipbench's own table of that run (min..max of the runs).
spreads() { echo; echo "Spread (xipbench's table):"; echo; echo '```'; cat "$base/$1.txt"; echo '```'; }
if [ $reads = 1 ]; then
	echo
	echo "## Cold reads of compressed files: seq of \`$zfile\` ($(mib "$(stat -c %s "$tree/$zfile")") MiB), readall of the tree"
	echo
	echo "xipfs on the --xip=none images (every file compressed) against squashfuse_ll$([ ! -x "$erofsfuse" ] || echo " and erofsfuse"); ratios against squashfs_zstd; $reps runs each."
	echo
	cat "$base/compressed.md"
	spreads compressed
	echo
	echo "## Cold reads of XIP files: \`$xfile\` ($(mib "$(stat -c %s "$tree/$xfile")") MiB), readall of the tree"
	echo
	echo "The all-XIP image against --xip=elf --compress=zstd (readall also reads that image's compressed files); $reps runs each."
	echo
	cat "$base/xip.md"
	spreads xip
fi
