#!/bin/bash
# Benchmark read paths side by side on one tree kept on tmpfs: the xipfs
# daemon (read=copy and read=splice), squashfuse_ll, kernel erofs mounted
# file-backed, and the raw tmpfs tree as the limit.  Every figure is cold and
# reported as median (min-max) over RUNS runs, interleaved across the peers.
# Prints a markdown table and the commands behind it.  Not a test: it
# asserts nothing, but it stops with "bench-read: ..." when a tool or a
# mount fails.  Run as root (drop_caches, kernel mounts).
#
# Usage: scripts/bench-read.sh [FILES] [BIG_MIB] [RUNS]
#   defaults 50000 files, a 1024 MiB file, 5 runs
# Environment: XIPFS, MKXIPFS (default ./xipfs, ./mkxipfs), BENCH_DIR (the
# work directory is made under it, default /dev/shm, which is tmpfs),
# BENCH_MILLION (files in the mount-time image, default 1000000, 0 skips),
# BENCH_PEERS (subset of "xipfs_copy xipfs_splice squashfuse erofs tmpfs",
# the default, plus the xipfs variants used to pick its defaults:
# xipfs_open (OPEN requests on), xipfs_clonefd (-o clone_fd), xipfs_single
# (-s, one thread)).
set -eu -o pipefail
export LC_ALL=C	# EPOCHREALTIME and awk need a decimal point
files=${1:-50000} big=${2:-1024} runs=${3:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
xipfs=${XIPFS:-$top/xipfs} mkxipfs=${MKXIPFS:-$top/mkxipfs}
million=${BENCH_MILLION:-1000000}
peers=${BENCH_PEERS:-xipfs_copy xipfs_splice squashfuse erofs tmpfs}
die() { echo "bench-read: $*" >&2; exit 1; }
has() { case " $peers " in *" $1"*) return 0;; esac; return 1; }

for p in $peers; do
	case $p in xipfs_copy|xipfs_splice|xipfs_open|xipfs_clonefd|xipfs_single|squashfuse|erofs|tmpfs) ;;
	*) die "unknown peer '$p' in BENCH_PEERS";; esac
done
[ "$(id -u)" = 0 ] || die "run as root (drop_caches and kernel mounts need it)"
need="fio python3 tar mountpoint umount awk"
has xipfs && need+=" fusermount3"
has squashfuse && need+=" squashfuse_ll mksquashfs"
has erofs && need+=" mkfs.erofs"
for t in $need; do
	command -v $t >/dev/null || die "$t missing (scripts/install-deps.sh)"
done
if has xipfs; then
	[ -x "$mkxipfs" ] || die "$mkxipfs not built (make)"
	[ -x "$xipfs" ] || die "$xipfs not built (make), or leave xipfs out of BENCH_PEERS"
fi

base=$(mktemp -d "${BENCH_DIR:-/dev/shm}/xipfs-bench.XXXXXX")
declare -A pid=() cmd=() res=()
cleanup() {
	set +e
	# Everything mounted under $base, deepest first, found without touching
	# the mounts themselves (a hung daemon would hang a stat).
	for m in $(awk -v b="$base/" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	for q in "${pid[@]}"; do kill "$q" 2>/dev/null; wait "$q" 2>/dev/null; done
	rm -rf --one-file-system "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$base/mnt"

cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mnt() { if [ "$1" = tmpfs ]; then echo "$base/tree"; else echo "$base/mnt/$1"; fi; }
# Wait up to 10 s for MNT to become a mount point; give up early if PID dies.
wait_mounted() {
	for _ in $(seq 1000); do
		mountpoint -q "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
# Unmount a peer; a foreground daemon then ends by itself, so reap it.
unmount() {
	local m; m=$(mnt "$1")
	[ "$1" = tmpfs ] && return 0
	if mountpoint -q "$m"; then umount "$m" || die "umount $m failed"; fi
	[ -n "${pid[$1]:-}" ] || return 0
	for _ in $(seq 500); do kill -0 "${pid[$1]}" 2>/dev/null || break; sleep 0.01; done
	kill -0 "${pid[$1]}" 2>/dev/null && { echo "bench-read: $1 daemon outlived its unmount, killed" >&2; kill "${pid[$1]}"; }
	wait "${pid[$1]}" || true
	unset "pid[$1]"
}
# Fresh mount (fresh daemon for FUSE peers, run with -f so we hold its PID).
remount() {
	local p=$1 m; m=$(mnt "$1")
	unmount "$p"
	case $p in
	tmpfs) return 0;;
	erofs) ${cmd[erofs]} 2>>"$base/log.$p" || die "${cmd[erofs]} failed: $(tail -3 "$base/log.$p")";;
	*) ${cmd[$p]} </dev/null 2>>"$base/log.$p" & pid[$p]=$!;;
	esac
	wait_mounted "$m" "${pid[$p]:-}" || die "mounting $p failed: ${cmd[$p]}: $(tail -3 "$base/log.$p")"
}
fio_read() {	# PEER NAME FIO-ARGS... -> prints "GB/s IOPS"
	local p=$1 n=$2; shift 2
	fio --name="$n" --filename="$(mnt "$p")/big" --readonly --ioengine=psync \
		--iomem_align=4096 --direct=0 --numjobs=1 --output-format=json "$@" \
		>"$base/fio.json" 2>"$base/fio.err" ||
		die "fio $n on $p failed: $(tail -3 "$base/fio.err")"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["jobs"][0]["read"]; print(r["bw_bytes"]/1e9, r["iops"])' "$base/fio.json"
}
elapsed() { awk -v s="$1" -v e="$2" 'BEGIN {print e - s}'; }
# Median (min-max) of a list of numbers, with a printf format for each.
stats() { sort -g | awk -v f="$1" '{a[NR]=$1} END {if (!NR) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf f " (" f "-" f ")", m, a[1], a[NR]}'; }
median() { printf '%s' "${res[$1]:-}" | sort -g | awk '{a[NR]=$1} END {print NR ? ((NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2) : 0}'; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {if (a && b) printf "%.2f", a / b; else print "-"}'; }

# ---- tree and images
python3 "$top/scripts/gen-tree.py" "$base/tree" --files "$files" --big-mib "$big" >/dev/null
entries=$(find "$base/tree" -xdev | wc -l)
build=()
if has xipfs; then build+=("$mkxipfs -q $base/tree $base/x.img"); fi
if has squashfuse; then build+=("mksquashfs $base/tree $base/s.img -noI -noD -noF -noX -no-progress -quiet"); fi
if has erofs; then build+=("mkfs.erofs --quiet $base/e.img $base/tree"); fi
for b in "${build[@]}"; do $b >/dev/null || die "image build failed: $b"; done

cmd[xipfs_copy]="$xipfs -f -o read=copy $base/x.img $base/mnt/xipfs_copy"
cmd[xipfs_splice]="$xipfs -f -o read=splice $base/x.img $base/mnt/xipfs_splice"
cmd[xipfs_open]="$xipfs -f -o read=splice,open $base/x.img $base/mnt/xipfs_open"
cmd[xipfs_clonefd]="$xipfs -f -o read=splice,clone_fd $base/x.img $base/mnt/xipfs_clonefd"
cmd[xipfs_single]="$xipfs -f -s -o read=splice $base/x.img $base/mnt/xipfs_single"
cmd[squashfuse]="squashfuse_ll -f $base/s.img $base/mnt/squashfuse"
cmd[erofs]="mount -t erofs -o ro $base/e.img $base/mnt/erofs"
cmd[tmpfs]="(the tree itself, $base/tree)"
for p in $peers; do mkdir -p "$base/mnt/$p"; done
erofs_how="file-backed"
if has erofs && ! ${cmd[erofs]} 2>"$base/log.erofs"; then
	# Kernels before 6.12 cannot mount an erofs image file directly.
	cmd[erofs]="mount -t erofs -o ro,loop $base/e.img $base/mnt/erofs"; erofs_how="loop device"
fi
has erofs && unmount erofs

# ---- interleaved cold runs: each column gets a fresh mount and empty caches
ios=$((big * 64)); [ $ios -le 20000 ] || ios=20000	# at most 1/4 of the 4 KiB blocks
for r in $(seq "$runs"); do
	for p in $peers; do
		m=$(mnt "$p")
		remount "$p"; [ "$(stat -c %s "$m/big")" = $((big << 20)) ] || die "$p: $m/big has the wrong size"
		# (die in a $(...) ends only the subshell; set -e then stops here)
		cold; f=$(fio_read "$p" seq --rw=read --bs=1M)
		res[$p.seq]+="${f% *}"$'\n'
		# fio's random map never repeats a block and its default fadvise hint
		# (POSIX_FADV_RANDOM) turns off readahead: every read is a miss.
		remount "$p"; cold; f=$(fio_read "$p" rand --rw=randread --bs=4k --number_ios=$ios --randrepeat=1 --norandommap=0)
		res[$p.iops]+="${f#* }"$'\n'
		remount "$p"; cold
		s=$EPOCHREALTIME; n=$(find "$m" -xdev -printf '%s\n' | wc -l); e=$EPOCHREALTIME
		res[$p.walk]+="$(elapsed "$s" "$e")"$'\n'
		[ "$n" = "$entries" ] || echo "bench-read: $p shows $n entries, the tree has $entries" >&2
		# GNU tar does not read file data when the archive is /dev/null (it
		# checks the descriptor, so "> /dev/null" counts too): pipe instead.
		remount "$p"; cold
		s=$EPOCHREALTIME; tar cf - -C "$m" . | cat >/dev/null || die "tar of $p failed"; e=$EPOCHREALTIME
		res[$p.tar]+="$(elapsed "$s" "$e")"$'\n'
		# VmRSS also counts the image pages a daemon has mapped (shared with
		# tmpfs, not its own memory); RssAnon is what it allocated.
		if [ -n "${pid[$p]:-}" ]; then
			res[$p.rss]+="$(awk '/^VmRSS/ {print $2 / 1024}' "/proc/${pid[$p]}/status")"$'\n'
			res[$p.anon]+="$(awk '/^RssAnon/ {print $2 / 1024}' "/proc/${pid[$p]}/status")"$'\n'
		fi
		unmount "$p"
	done
done

# ---- mount time of a many-file image, with the daemonizing mount commands
declare -A mcmd=()
if [ "$million" -gt 0 ] && { has xipfs || has squashfuse; }; then
	# Empty files from a tar stream: cheaper than a million inodes on tmpfs.
	python3 - "$million" >"$base/m.tar" <<-'EOF'
	import sys, tarfile
	n = int(sys.argv[1])
	with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.USTAR_FORMAT) as t:
	    for i in range(n):
	        if i % 1000 == 0:
	            d = tarfile.TarInfo(f"d{i // 1000:04d}"); d.type = tarfile.DIRTYPE; d.mode = 0o755
	            t.addfile(d)
	        f = tarfile.TarInfo(f"d{i // 1000:04d}/f{i:07d}"); f.mode = 0o644
	        t.addfile(f)
	EOF
	if has xipfs; then
		$mkxipfs -q --tar="$base/m.tar" "$base/mx.img" || die "mkxipfs --tar failed"
		mcmd[xipfs]="$xipfs $base/mx.img $base/mnt/million"
	fi
	if has squashfuse; then
		# mksquashfs 4.5 reads a tar only from standard input.
		mksquashfs - "$base/ms.img" -tar -noI -noD -noF -noX -no-progress -quiet <"$base/m.tar" >/dev/null ||
			die "mksquashfs -tar failed"
		mcmd[squashfuse]="squashfuse_ll $base/ms.img $base/mnt/million"
	fi
	rm -f "$base/m.tar"
	mkdir -p "$base/mnt/million"
	for r in $(seq "$runs"); do
		for p in "${!mcmd[@]}"; do
			# Cold caches, but the program and its libraries loaded once
			# more, so the figure is the mount and not the disk.  A
			# daemonizing FUSE server returns once the mount exists, so
			# the clock stops after its exit and the first stat (which
			# waits for the INIT reply); no polling blurs the figure.
			cold
			${mcmd[$p]%% *} --version >/dev/null 2>&1 || true
			s=$EPOCHREALTIME
			${mcmd[$p]} </dev/null 2>"$base/log.million" || die "${mcmd[$p]} failed: $(tail -3 "$base/log.million")"
			stat "$base/mnt/million/" >/dev/null || die "${mcmd[$p]}: stat of the mount failed"
			e=$EPOCHREALTIME
			mountpoint -q "$base/mnt/million" || die "${mcmd[$p]} did not mount: $(tail -3 "$base/log.million")"
			res[$p.mount]+="$(elapsed "$s" "$e")"$'\n'
			umount "$base/mnt/million" || die "umount $base/mnt/million failed"
			sleep 0.2	# let the daemon we cannot wait for exit
		done
	done
fi

# ---- report
ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }
short() { sed "s#$base/##g; s#$top/##g"; }
echo
echo "bench-read: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
has xipfs && echo "$("$xipfs" --version 2>&1 | paste -sd ';' | sed 's/;/; /g'); $("$mkxipfs" --version 2>&1 | head -1)"
echo "fuse3 $(ver fuse3), squashfuse $(ver squashfuse), squashfs-tools $(ver squashfs-tools), erofs-utils $(ver erofs-utils), $(fio --version), GNU tar $(ver tar)"
echo "Tree: $files files (log-uniform 1 B-64 KiB) + ${big} MiB file 'big', $entries entries, images on tmpfs; $runs runs, cold, median (min-max)"
echo
echo "| peer | seq 1 MiB GB/s | rand 4 KiB IOPS | stat walk s | tar s | daemon VmRSS MiB | RssAnon MiB |"
echo "|---|---|---|---|---|---|---|"
for p in $peers; do
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$p" \
		"$(printf '%s' "${res[$p.seq]}" | stats %.2f)" "$(printf '%s' "${res[$p.iops]}" | stats %.0f)" \
		"$(printf '%s' "${res[$p.walk]}" | stats %.3f)" "$(printf '%s' "${res[$p.tar]}" | stats %.2f)" \
		"$(printf '%s' "${res[$p.rss]:-}" | stats %.1f)" "$(printf '%s' "${res[$p.anon]:-}" | stats %.1f)"
done
echo
for x in $peers; do
	case $x in xipfs*) ;; *) continue;; esac
	has squashfuse && echo "$x / squashfuse: seq $(ratio $x.seq squashfuse.seq)x, IOPS $(ratio $x.iops squashfuse.iops)x (higher is better)"
	has erofs && echo "$x / erofs: stat walk $(ratio $x.walk erofs.walk)x, tar $(ratio $x.tar erofs.tar)x (time: lower is better)"
done
for p in "${!mcmd[@]}"; do
	echo "mount time, $million-file image, $p: $(printf '%s' "${res[$p.mount]}" | awk '{print $1 * 1000}' | stats %.1f) ms"
done
[ "$million" -gt 0 ] && has erofs && echo "mount time, erofs: not measured (mkfs.erofs $(ver erofs-utils) has no tar input)"
echo
echo "Commands (BIG = MNT/big; remount and 'sync; echo 3 > /proc/sys/vm/drop_caches' before each column):"
{
	[ ${#build[@]} -eq 0 ] || printf "  image: %s\n" "${build[@]}"
	for p in $peers; do echo "  mount $p: ${cmd[$p]}"; done
	[ "$erofs_how" = "loop device" ] && has erofs && echo "  (erofs: the file-backed mount failed, used a loop device: $(head -1 "$base/log.erofs"))"
	echo "  unmount: umount MNT (foreground daemons then exit)"
	echo "  seq:  fio --name=seq --filename=BIG --readonly --ioengine=psync --iomem_align=4096 --direct=0 --numjobs=1 --output-format=json --rw=read --bs=1M"
	echo "  rand: fio --name=rand (same) --rw=randread --bs=4k --number_ios=$ios --randrepeat=1 --norandommap=0"
	echo "  stat walk: find MNT -xdev -printf '%s\n' | wc -l"
	echo "  tar: tar cf - -C MNT . | cat >/dev/null"
	echo "  RSS: VmRSS and RssAnon in /proc/PID/status of the -f daemon, after the tar"
	for p in "${!mcmd[@]}"; do echo "  mount time $p: ${mcmd[$p]}; stat MNT/"; done
	[ ${#mcmd[@]} -eq 0 ] || echo "  (drop_caches, then PROGRAM --version to load the binary; the mount commands fork, the clock runs until they return and stat MNT/ answers)"
	[ ${#mcmd[@]} -eq 0 ] || echo "  million image: python3 tarfile stream of $million empty files in dirs of 1000 to FILE"
	[ -z "${mcmd[xipfs]:-}" ] || echo "    $mkxipfs -q --tar=FILE IMG"
	[ -z "${mcmd[squashfuse]:-}" ] || echo "    mksquashfs - IMG -tar -noI -noD -noF -noX -no-progress -quiet < FILE"
} | short
