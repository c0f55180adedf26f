#!/bin/bash
# Compare every read path on one data set in ONE xipbench run, targets
# interleaved so that drift hits all alike: xipfs (read=copy, read=splice,
# passthrough, FUSE over io_uring), squashfuse_ll, erofsfuse, kernel erofs
# and squashfs, the raw tree on tmpfs and the direct mapping of the xipfs
# image (the two physical limits).  The tree and every image live on tmpfs,
# so the medium is RAM for all.  Writes OUT/compare.md (machine, versions,
# data set, every command, the table), and xipbench's compare.json,
# compare.png and compare.gp.  Not a test: it asserts nothing, but stops
# with "bench-compare: ..." when a tool or a mount fails.  Whatever happens
# (error, Ctrl-C), everything it mounted is unmounted, the daemons it
# started are reaped and its work directory is removed.
#
# Usage: scripts/bench-compare.sh [options]   (--help lists them)
# Environment: XIPFS, MKXIPFS, XIPBENCH, XIPFS_MAP (default: the ones built
# at the top of the tree); BENCH_DIR (the work directory is made under it,
# default /dev/shm, which is tmpfs).
set -eu -o pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
xipfs=${XIPFS:-$top/xipfs} mkxipfs=${MKXIPFS:-$top/mkxipfs}
xipbench=${XIPBENCH:-$top/xipbench} xmap=${XIPFS_MAP:-$top/xipfs-map}
all_targets="xipfs_copy xipfs_splice xipfs_passthrough xipfs_uring squashfuse erofsfuse erofs squashfs tmpfs direct"
param=/sys/module/fuse/parameters/enable_uring

die() { echo "bench-compare: $*" >&2; exit 1; }
say() { echo "bench-compare: $*" >&2; }
usage() {
	cat <<-EOF
	usage: scripts/bench-compare.sh [options]
	Builds one data set into xipfs, squashfs and erofs images on tmpfs, mounts
	every read path and compares them in one xipbench run.
	  --files N         small files in the generated tree (default 50000)
	  --big-mib M       size of the generated file 'big' in MiB (default 1024)
	  --seed S          seed of scripts/gen-tree.py (default 1)
	  --dir DIR         use a copy of DIR instead of a generated tree
	  --file REL        the big file (default: 'big', or with --dir the
	                    largest regular file in DIR)
	  --reps N          timed runs per workload and target (default 5)
	  --workloads LIST  xipbench -w, comma-separated (default: all)
	  --cache MODE      xipbench -c: cold, warm or both (default: cold)
	  --ops N           xipbench -n: reads or touches per random run
	  --targets LIST    comma- or space-separated subset (default: every
	                    available) of: $all_targets
	  --out DIR         where compare.md, .json, .png, .gp go (default ./bench-out)
	  -h, --help        this help
	Environment: XIPFS, MKXIPFS, XIPBENCH, XIPFS_MAP (default: built ones at
	the top of the tree), BENCH_DIR (tmpfs for the work dir, default /dev/shm).
	Kernel mounts, passthrough and io_uring need root; as a normal user only
	xipfs_copy, xipfs_splice, squashfuse, erofsfuse, tmpfs and direct run.
	EOF
}

# ---- options
files="" big_mib="" seed="" dir="" file="" reps=5 workloads="" cache="" ops=""
targets=$all_targets out=./bench-out
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0;;
	--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue;;
	--files|--big-mib|--seed|--dir|--file|--reps|--workloads|--cache|--ops|--targets|--out)
		[ $# -ge 2 ] || die "$1 needs a value (--help)";;
	*) die "unknown option '$1' (--help)";;
	esac
	case $1 in
	--files) files=$2;; --big-mib) big_mib=$2;; --seed) seed=$2;;
	--dir) dir=$2;; --file) file=$2;; --reps) reps=$2;;
	--workloads) workloads=$2;; --cache) cache=$2;; --ops) ops=$2;;
	--targets) targets=${2//,/ };; --out) out=$2;;
	esac
	shift 2
done
for v in "files=$files" "big-mib=$big_mib" "seed=$seed" "reps=$reps" "ops=$ops"; do
	case ${v#*=} in ''|*[!0-9]*) [ -z "${v#*=}" ] || die "--${v%%=*} wants a number, not '${v#*=}'";; esac
done
[ "$reps" -ge 1 ] || die "--reps must be at least 1"
if [ -n "$dir" ]; then
	[ -z "$files$big_mib$seed" ] || die "--files, --big-mib and --seed make a tree; they do not go with --dir"
	[ -d "$dir" ] || die "--dir $dir: not a directory"
	dir=$(cd "$dir" && pwd)
fi
files=${files:-50000} big_mib=${big_mib:-1024} seed=${seed:-1}
[ -n "$dir" ] || [ -n "$file" ] || [ "$big_mib" -gt 0 ] || die "--big-mib 0 makes no big file: give --file REL"
# The workload names are xipbench's to check (it exits 2 on a bad one).
case $cache in ''|cold|warm|both) ;; *) die "--cache $cache: cold, warm or both";; esac
seen=" "
for t in $targets; do
	case " $all_targets " in *" $t "*) ;; *) die "unknown target '$t' (one of: $all_targets)";; esac
	case $seen in *" $t "*) die "target '$t' given twice";; esac
	seen+="$t "
done
has() { case " $targets " in *" $1 "*) return 0;; esac; return 1; }
mkdir -p "$out" || die "cannot make $out"
out=$(cd "$out" && pwd)

# ---- which targets this machine and user can have; the rest are skipped
# with one line saying why, and the report lists them.
root=0; [ "$(id -u)" = 0 ] && root=1
for t in python3 find awk; do command -v $t >/dev/null || die "$t missing (scripts/install-deps.sh)"; done
command -v gnuplot >/dev/null || die "gnuplot missing: xipbench draws compare.png with it (scripts/install-deps.sh)"
[ -x "$xipbench" ] || die "$xipbench not built (make xipbench)"
declare -A why=()
skip() { why[$1]=$2; say "skipping $1: $2"; }
fuse_why=""
if [ $root = 0 ]; then
	# A normal user mounts through fusermount3, and libfuse opens /dev/fuse
	# itself: on some machines it is root's only (mode 0600).
	if ! command -v fusermount3 >/dev/null; then
		fuse_why="fusermount3 missing"
	elif [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
		fuse_why="/dev/fuse ($(stat -c '%A %U:%G' /dev/fuse 2>/dev/null || echo missing)) is not readable and writable by $(id -un), so a user FUSE mount cannot work"
	fi
fi
xver=""
if has xipfs_copy || has xipfs_splice || has xipfs_passthrough || has xipfs_uring || has direct; then
	[ -x "$xipfs" ] || die "$xipfs not built (make xipfs), or leave the xipfs targets out (--targets)"
	[ -x "$mkxipfs" ] || die "$mkxipfs not built (make mkxipfs)"
	xver=$("$xipfs" --version 2>&1) || die "$xipfs --version failed"
fi
kernel_has() { grep -qw "$1" /proc/filesystems || { modprobe -q "$1" 2>/dev/null && grep -qw "$1" /proc/filesystems; }; }
for t in $targets; do
	case $t in
	xipfs_copy|xipfs_splice|direct) [ -z "$fuse_why" ] || skip $t "$fuse_why";;
	xipfs_passthrough)
		if [ $root = 0 ]; then skip $t "needs root (registering backing files needs CAP_SYS_ADMIN; the xfs is loop-mounted)"
		elif ! grep -q 'passthrough yes' <<<"$xver"; then skip $t "$xipfs is built without passthrough (libfuse 3.17+: scripts/build-libfuse.sh)"
		elif ! command -v mkfs.xfs >/dev/null; then skip $t "mkfs.xfs missing (xfsprogs)"
		fi;;
	xipfs_uring)
		if [ $root = 0 ]; then skip $t "needs root (to set $param)"
		elif ! grep -q 'io_uring yes' <<<"$xver"; then skip $t "$xipfs is built without io_uring (libfuse 3.18: scripts/build-libfuse.sh)"
		elif [ ! -w $param ]; then skip $t "the kernel has no FUSE over io_uring ($param missing)"
		fi;;
	squashfuse)
		if ! command -v squashfuse_ll >/dev/null; then skip $t "squashfuse_ll not installed"
		elif ! command -v mksquashfs >/dev/null; then skip $t "mksquashfs not installed"
		elif [ -n "$fuse_why" ]; then skip $t "$fuse_why"
		fi;;
	erofsfuse)
		if ! command -v erofsfuse >/dev/null; then skip $t "erofsfuse not installed"
		elif ! command -v mkfs.erofs >/dev/null; then skip $t "mkfs.erofs not installed"
		elif [ -n "$fuse_why" ]; then skip $t "$fuse_why"
		fi;;
	erofs|squashfs)
		mk=mkfs.erofs; [ $t = erofs ] || mk=mksquashfs
		if [ $root = 0 ]; then skip $t "kernel mounts need root"
		elif ! command -v $mk >/dev/null; then skip $t "$mk not installed"
		elif ! kernel_has $t; then skip $t "the kernel has no $t"
		fi;;
	esac
done
measured=()
for t in $targets; do [ -n "${why[$t]:-}" ] || measured+=("$t"); done
[ ${#measured[@]} -gt 0 ] || die "no target left to measure"
on() { case " ${measured[*]} " in *" $1 "*) return 0;; esac; return 1; }

# ---- work directory on tmpfs, undone on any exit
base=$(mktemp -d "${BENCH_DIR:-/dev/shm}/xipfs-compare.XXXXXX") || die "cannot make a work directory in ${BENCH_DIR:-/dev/shm}"
# Mount points are found in /proc/self/mountinfo, which escapes blanks.
case $base in *[[:space:]]*) rmdir "$base"; die "BENCH_DIR must not contain blanks";; esac
declare -A pid=()	# daemons started here (foreground, so we hold their PID)
bench_pid="" uring_saved=""
# Mounts under the work directory, newest first; $1 fuse: only FUSE ones,
# other: only the others.  Read from mountinfo, not by stat: a hung daemon
# would hang a stat.
mounts_under() {
	awk -v b="$base/" -v want="$1" 'index($5, b) == 1 {
		for (i = 7; $i != "-"; i++) ;
		if ((want == "fuse") == ($(i + 1) ~ /^fuse/)) print $5 }' /proc/self/mountinfo | tac
}
unmount_all() {
	local m n p
	# FUSE first: their daemons then exit and release the images, so the
	# xfs under the passthrough image is free to go after them.
	for m in $(mounts_under fuse); do
		if [ $root = 1 ]; then umount "$m" 2>/dev/null || umount -l "$m"
		else fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m"; fi
	done
	for n in "${!pid[@]}"; do
		p=${pid[$n]}
		for _ in $(seq 500); do kill -0 "$p" 2>/dev/null || break; sleep 0.01; done
		if kill -0 "$p" 2>/dev/null; then
			say "the $n daemon (pid $p) outlived its unmount; killing it"
			kill "$p"
		fi
		wait "$p" 2>/dev/null || true
		unset "pid[$n]"
	done
	for m in $(mounts_under other); do umount "$m" 2>/dev/null || umount -l "$m"; done
}
cleanup() {
	local st=$?
	set +e
	trap '' INT TERM	# a second Ctrl-C must not cut the cleanup short
	# An interrupted xipbench first, so nothing holds the mounts.
	if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null; wait "$bench_pid" 2>/dev/null; fi
	unmount_all
	[ -z "$uring_saved" ] || echo "$uring_saved" >$param
	rm -rf --one-file-system "$base"
	exit $st
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ "$(stat -f -c %T "$base")" = tmpfs ] ||
	say "warning: $base is not on tmpfs, the figures include its medium"

# Every command behind a figure, for the report; the work directory is
# written $WORK there.
cmds=()
q() {
	local a s=""
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then s+=" $a"; else s+=" $(printf %q "$a")"; fi
	done
	s=${s# }; echo "${s//"$base"/\$WORK}"
}
run() { cmds+=("$(q "$@")"); "$@"; }

# ---- the data set
tree=$base/tree
if [ -z "$dir" ]; then
	file=${file:-big}
	run python3 "$top/scripts/gen-tree.py" "$tree" --files "$files" --big-mib "$big_mib" --seed "$seed" >&2 ||
		die "gen-tree.py failed"
else
	# A copy on tmpfs: the "tmpfs" target is then the physical limit, and
	# the images are built from the same bytes.
	run cp -a "$dir/." "$tree" || die "copying $dir to the work directory failed"
	if [ -z "$file" ]; then
		file=$(find "$tree" -xdev -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2-)
		[ -n "$file" ] || die "$dir has no regular file"
	fi
fi
[ -f "$tree/$file" ] || die "$file: no such regular file in the tree"
size=$(stat -c %s "$tree/$file")
[ "$size" -gt 0 ] || die "$file is empty"
nfiles=$(find "$tree" -xdev -type f | wc -l)
nbytes=$(find "$tree" -xdev -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
nentries=$(find "$tree" -xdev | wc -l)
say "tree: $nfiles files, $nbytes bytes, big file $file ($size bytes)"

# ---- images, all on tmpfs
if on xipfs_copy || on xipfs_splice || on xipfs_passthrough || on xipfs_uring || on direct; then
	run "$mkxipfs" -q "$tree" "$base/x.img" || die "mkxipfs failed"
fi
if on squashfuse || on squashfs; then
	run mksquashfs "$tree" "$base/s.img" -noI -noD -noF -noX -no-progress -quiet >/dev/null ||
		die "mksquashfs failed"
fi
if on erofsfuse || on erofs; then
	# erofs-utils 1.5 writes an uncompressed image unless given -z.
	run mkfs.erofs --quiet "$base/e.img" "$tree" || die "mkfs.erofs failed"
fi

# ---- mounts
mkdir "$base/mnt"
is_mounted() { awk -v m="$1" '$5 == m {f = 1} END {exit !f}' /proc/self/mountinfo; }
# Wait up to 10 s for MNT to be mounted while its daemon PID lives.
wait_mounted() {
	for _ in $(seq 1000); do
		is_mounted "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}
# fuse_mount NAME COMMAND...: the daemon runs in the foreground (-f) in the
# background, so we know its PID and reap it after the unmount.
fuse_mount() {
	local n=$1 hint=""; shift
	mkdir -p "$base/mnt/$n"
	cmds+=("$(q "$@") &")
	"$@" </dev/null >>"$base/log.$n" 2>&1 &
	pid[$n]=$!
	if ! wait_mounted "$base/mnt/$n" "${pid[$n]}"; then
		[ $root = 1 ] || hint=" (a normal user mounts through fusermount3 and needs /dev/fuse read-write)"
		die "mounting $n failed$hint: $(q "$@"): $(tail -3 "$base/log.$n")"
	fi
}
# kernel_mount NAME MOUNT-ARGS...: mount(8) onto $base/mnt/NAME.
kernel_mount() {
	local n=$1; shift
	mkdir -p "$base/mnt/$n"
	mount "$@" "$base/mnt/$n" 2>>"$base/log.$n" || return 1
	cmds+=("$(q mount "$@" "$base/mnt/$n")")
}
declare -A path=()
on xipfs_copy && fuse_mount xipfs_copy "$xipfs" -f -v -o read=copy "$base/x.img" "$base/mnt/xipfs_copy"
# direct reads the image straight, found through the splice mount.
if on xipfs_splice || on direct; then
	fuse_mount xipfs_splice "$xipfs" -f -v -o read=splice "$base/x.img" "$base/mnt/xipfs_splice"
fi
if on xipfs_passthrough; then
	# Passthrough clones the image's blocks, which tmpfs cannot: the image
	# goes onto xfs (reflink=1) on a loop device over a tmpfs file, so the
	# medium is still RAM.  The xfs is sized for one copy of the image.
	disk=$(( ($(stat -c %s "$base/x.img") * 5 / 4 >> 20) + 320 ))
	run truncate -s "${disk}M" "$base/xfs.disk"
	run mkfs.xfs -q -m reflink=1 "$base/xfs.disk" || die "mkfs.xfs failed"
	mkdir "$base/xfs"
	run mount -o loop "$base/xfs.disk" "$base/xfs" || die "cannot loop-mount the xfs"
	run cp "$base/x.img" "$base/xfs/x.img" || die "copying the image onto the xfs failed"
	fuse_mount xipfs_passthrough "$xipfs" -f -v -o passthrough=on "$base/xfs/x.img" "$base/mnt/xipfs_passthrough"
fi
if on xipfs_uring; then
	uring_saved=$(cat $param)	# restored by cleanup
	echo Y >$param
	cmds+=("echo Y >$param  # for the run; restored afterwards")
	fuse_mount xipfs_uring "$xipfs" -f -v -o io_uring "$base/x.img" "$base/mnt/xipfs_uring"
	# The daemon drops -o io_uring with one line when it cannot have it.
	! grep -q 'io_uring:.*using /dev/fuse' "$base/log.xipfs_uring" ||
		die "xipfs_uring: $(grep 'io_uring:' "$base/log.xipfs_uring")"
fi
on squashfuse && fuse_mount squashfuse squashfuse_ll -f "$base/s.img" "$base/mnt/squashfuse"
on erofsfuse && fuse_mount erofsfuse erofsfuse -f "$base/e.img" "$base/mnt/erofsfuse"
erofs_note=""
if on erofs && ! kernel_mount erofs -t erofs -o ro "$base/e.img"; then
	# Kernels before 6.12 cannot mount an erofs image file directly.
	erofs_note="the file-backed erofs mount failed ($(head -1 "$base/log.erofs")), so erofs is on a loop device"
	say "$erofs_note"
	kernel_mount erofs -t erofs -o ro,loop "$base/e.img" || die "mounting erofs failed: $(tail -2 "$base/log.erofs")"
fi
if on squashfs; then
	kernel_mount squashfs -t squashfs -o loop,ro "$base/s.img" || die "mounting squashfs failed: $(tail -2 "$base/log.squashfs")"
fi
for t in "${measured[@]}"; do
	case $t in
	tmpfs) path[$t]=$tree;;
	direct) path[$t]=direct:$base/mnt/xipfs_splice;;
	*) path[$t]=$base/mnt/$t;;
	esac
	# Every target must show the same file before we time anything.
	p=${path[$t]#direct:}
	[ "$(stat -c %s "$p/$file")" = "$size" ] || die "$t: $p/$file is not the tree's $size bytes"
done
if on direct && [ -x "$xmap" ]; then
	"$xmap" "$base/mnt/xipfs_splice/$file" >/dev/null 2>"$base/map.err" ||
		die "direct: $file cannot be mapped: $(cat "$base/map.err")"
fi

# ---- the one xipbench run
bench=("$xipbench" -r "$reps" -f "$file")
[ -z "$workloads" ] || bench+=(-w "$workloads")
[ -z "$cache" ] || bench+=(-c "$cache")
[ -z "$ops" ] || bench+=(-n "$ops")
on xipfs_splice && bench+=(-B xipfs_splice)
bench+=(--json "$out/compare.json" --plot "$out/compare.png" --plot-script "$out/compare.gp")
for t in "${measured[@]}"; do bench+=("$t=${path[$t]}"); done
cmds+=("$(q "${bench[@]}")")
# Whatever OUT holds afterwards comes from this run alone.
rm -f "$out/compare.md" "$out/compare.json" "$out/compare.png" "$out/compare.gp"
say "running xipbench on ${measured[*]}"
# In the background with wait, which a signal interrupts at once (a
# foreground child would keep a SIGTERM's trap waiting for the whole run);
# the trap then stops xipbench itself, which ignores SIGINT as a background
# job does.
set +e
"${bench[@]}" >"$base/table.txt" &
bench_pid=$!
wait "$bench_pid"
rc=$?
bench_pid=""
set -e
cat "$base/table.txt"
status=0
case $rc in
0) ;;
1)	[ -s "$out/compare.json" ] || die "xipbench failed (exit 1) and wrote no JSON"
	say "xipbench: a target failed a workload or an output was not written (exit 1); the report says which"
	status=1;;
2) die "xipbench refused its command line (exit 2): $(q "${bench[@]}")";;
*) die "xipbench ended with status $rc";;
esac
# Unmount now, so the daemons' own accounts (printed at unmount) go into
# the report.
unmount_all

# ---- the report
ver() { "$@" 2>&1 | head -1; }
libfuse() { readlink -f "$(ldd "$1" 2>/dev/null | awk '/libfuse3/ {print $3}')" 2>/dev/null | sed -n 's/.*libfuse3\.so\.//p'; }
{
	echo "# xipfs read-path comparison"
	echo
	echo "Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  "
	echo "Machine: $(uname -srm), $(nproc) CPUs ($(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM; run as $(id -un)"
	echo
	echo "## Versions"
	echo
	echo "- xipbench: $(ver "$xipbench" --version)"
	if [ -n "$xver" ]; then
		echo "- xipfs: $(grep -v fusermount3 <<<"$xver" | paste -sd ';' | sed 's/;/; /g'); libfuse $(libfuse "$xipfs")"
		echo "- mkxipfs: $(ver "$mkxipfs" --version)"
	fi
	{ on squashfuse || on squashfs; } && echo "- $(ver mksquashfs -version)"
	on squashfuse && echo "- squashfuse_ll: $(ver squashfuse_ll --version); libfuse $(libfuse "$(command -v squashfuse_ll)")"
	{ on erofsfuse || on erofs; } && echo "- mkfs.erofs: erofs-utils $(dpkg-query -W -f '${Version}' erofs-utils 2>/dev/null || echo '(version unknown)')"
	# erofsfuse has no --version; it prints its version first on any run.
	on erofsfuse && echo "- erofsfuse: $(ver erofsfuse --help)"
	on xipfs_passthrough && echo "- $(ver mkfs.xfs -V)"
	command -v fio >/dev/null && echo "- fio: $(fio --version) (not used here)"
	echo "- $(ver gnuplot --version)"
	echo
	echo "## Data set"
	echo
	if [ -z "$dir" ]; then
		echo "Generated by scripts/gen-tree.py, seed $seed: $files small files (log-uniform 1 B-64 KiB) and one file of $big_mib MiB."
	else
		echo "A copy (cp -a) on tmpfs of $dir."
	fi
	echo "$nfiles regular files, $nbytes bytes, $nentries entries; the big file \`$file\` is $size bytes."
	echo "Tree and images on tmpfs ($(stat -f -c %T "$base"))."
	echo
	echo "## Commands"
	echo
	echo "The work directory was WORK=$base, removed afterwards;"
	echo "\`&\`: a daemon in the foreground (-f), run in the background and unmounted with umount (fusermount3 -u as a normal user)."
	echo
	echo '```sh'
	printf '%s\n' "${cmds[@]}"
	echo '```'
	[ -z "$erofs_note" ] || { echo; echo "Note: $erofs_note."; }
	echo
	echo "## Results"
	echo
	[ $rc = 0 ] || { echo "**xipbench exited with status $rc: some figures are missing (see below).**"; echo; }
	python3 - "$out/compare.json" <<-'EOF' || echo "(compare.json could not be read)"
	import json, sys
	d = json.load(open(sys.argv[1]))
	o = d["options"]
	names = [t["name"] for t in d["targets"]]
	rows, res = [], {}
	for r in d["results"]:
	    if (r["workload"], r["cache"]) not in rows:
	        rows.append((r["workload"], r["cache"]))
	    res[r["workload"], r["cache"], r["target"]] = r
	def num(v):
	    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
	def cell(r):
	    if r is None:
	        return "missing"
	    if r["status"] != "ok":
	        return r["status"]
	    s = f'{num(r["median"])} {r["unit"]}'
	    return s if r.get("ratio") is None else s + f' ({r["ratio"]:.2f}x)'
	cold = f'  Caches dropped before cold runs by {o.get("cold_method")}.' if "cold" in o["cache"] else ""
	print(f'Median of {o["reps"]} runs; in parentheses the ratio to {o["baseline"]} '
	      f'(every unit is a rate: higher is better).{cold}  '
	      f'seq in {o["bs"]}-byte reads, rand and uring {o["rand_bs"]} bytes '
	      f'(uring at queue depth {o["qd"]}), {o["ops"]} ops per random run, seed {o["seed"]}.')
	print()
	print("| workload | cache | " + " | ".join(names) + " |")
	print("|---|---|" + "---|" * len(names))
	for w, c in rows:
	    print(f"| {w} | {c} | " + " | ".join(cell(res.get((w, c, t))) for t in names) + " |")
	bad = [r for r in d["results"] if r["status"] == "failed"]
	if bad:
	    print()
	    print("Failed:")
	    for r in bad:
	        print(f'- {r["workload"]} {r["cache"]} on {r["target"]}: {r.get("error", "?")}')
	EOF
	echo
	echo "xipbench's own table (spread min..max, mmap touch latency p50/p99/max):"
	echo
	echo '```'
	cat "$base/table.txt"
	echo '```'
	echo
	for f in compare.png compare.gp; do [ -s "$out/$f" ] || echo "Not written: $f."; done
	if ls "$base"/log.* >/dev/null 2>&1 && grep -q 'xipfs stats' "$base"/log.*; then
		echo "Daemon accounts at unmount:"
		echo
		echo '```'
		for f in "$base"/log.*; do
			awk -v n="${f##*/log.}" -v b="$base/" '/xipfs stats/ {sub(b, ""); print n ": " $0}' "$f"
		done
		echo '```'
		echo
	fi
	echo "## Skipped"
	echo
	unasked=""
	for t in $all_targets; do has $t || unasked+=" $t"; done
	for t in $targets; do [ -z "${why[$t]:-}" ] || echo "- $t: ${why[$t]}"; done
	[ -z "$unasked" ] || echo "- not asked for (--targets):$unasked"
	[ ${#why[@]} -gt 0 ] || [ -n "$unasked" ] || echo "None."
} >"$out/compare.md.tmp"
mv "$out/compare.md.tmp" "$out/compare.md"
say "wrote $out/compare.md, compare.json, compare.png, compare.gp"
exit $status
