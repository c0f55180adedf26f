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
# Beyond xipbench's figures it can also record (the measurements of the
# retired bench-read.sh and bench-bypass.sh): each daemon's VmRSS and
# RssAnon after the run (always), the page cache that mapping the big file
# through each xipfs mount fills, its own pages and the image's
# (--mapped-cache), and the mount time of an
# image of many empty files (--mount-files).  Targets outside the default
# set: xipfs_open, xipfs_clonefd, xipfs_single, xipfs_nopush (copy with
# push-ahead off), xipfs_pt_all (passthrough for every file size: the
# variants that chose xipfs's defaults), xfs_native (the tree on the xfs that holds the
# passthrough image) and direct_xfs (the direct mapping of that image).
#
# Usage: scripts/bench-compare.sh [options]   (--help lists them)
# Environment: XIPFS, MKXIPFS, XIPBENCH, XIPFS_MAP (default: the ones built
# at the top of the tree); EROFSFUSE (default: the one
# scripts/build-erofsfuse.sh put in _deps/erofs-utils, else erofsfuse on
# PATH: Debian 12 has none); BENCH_DIR (the work directory is made under it,
# default /dev/shm, which is tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
erofsfuse=$(erofsfuse_path)
default_targets="xipfs_copy xipfs_splice xipfs_passthrough xipfs_uring squashfuse erofsfuse erofs squashfs tmpfs direct"
extra_targets="xipfs_open xipfs_clonefd xipfs_single xipfs_nopush xipfs_pt_all xfs_native direct_xfs"
all_targets="$default_targets $extra_targets"
param=/sys/module/fuse/parameters/enable_uring
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
	  --targets LIST    comma- or space-separated list (default: every
	                    available) of: $default_targets;
	                    or of these too: $extra_targets
	  --variant NAME=OPTS
	                    also: an xipfs mount of the image with -o OPTS,
	                    named NAME (repeatable; the way defaults are
	                    re-decided).  OPTS may hold ra=KB: the mount's
	                    read_ahead_kb, set in sysfs after mounting (root)
	  --mapped-cache    also: the page cache that mapping and touching the
	                    big file through each xipfs mount fills (root)
	  --mount-files N   also: mount time of an image of N empty files,
	                    xipfs and squashfuse (bench-read.sh's was 1000000)
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
targets=$default_targets out=./bench-out mapped_cache=0 mount_files=0
declare -A variant=()	# NAME -> the -o options of that xipfs mount
variants=()		# their names, in the order given
variant_args=()
parse_options files=#files big-mib=#big_mib seed=#seed dir=dir file=file reps=#reps \
	workloads=workloads cache=cache ops=#ops targets=targets out=out \
	mount-files=#mount_files variant=+variant_args mapped-cache -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
targets=${targets//,/ }
for v in "${variant_args[@]}"; do
	[[ $v =~ ^([a-z][a-z0-9_]*)=(.+)$ ]] || die "--variant $v: expected NAME=OPTIONS, NAME of a-z, 0-9 and _"
	[ -z "${variant[${BASH_REMATCH[1]}]:-}" ] || die "variant '${BASH_REMATCH[1]}' given twice"
	variant[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
	variants+=("${BASH_REMATCH[1]}")
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
for v in "${variants[@]}"; do
	case " $all_targets " in *" $v "*) die "variant '$v' has a target's name";; esac
	case ${variant[$v]} in *[[:space:]]*) die "--variant $v: options must not contain blanks";; esac
	targets+=" $v"
done
is_variant() { [ -n "${variant[$1]:-}" ]; }
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
xipfs_wanted() { local t; for t in $targets; do case $t in xipfs_*|direct*) return 0;; esac; is_variant $t && return 0; done; [ "$mount_files" -gt 0 ]; }
if xipfs_wanted; then
	[ -x "$xipfs" ] || die "$xipfs not built (make xipfs), or leave the xipfs targets out (--targets)"
	[ -x "$mkxipfs" ] || die "$mkxipfs not built (make mkxipfs)"
	xver=$("$xipfs" --version 2>&1) || die "$xipfs --version failed"
fi
kernel_has() { grep -qw "$1" /proc/filesystems || { modprobe -q "$1" 2>/dev/null && grep -qw "$1" /proc/filesystems; }; }
for t in $targets; do
	if is_variant $t; then
		if [ -n "$fuse_why" ]; then skip $t "$fuse_why"
		elif [[ ,${variant[$t]}, =~ ,ra= ]] && [ $root = 0 ]; then skip $t "ra= needs root (it writes the mount's read_ahead_kb in sysfs)"
		fi
		continue
	fi
	case $t in
	xipfs_copy|xipfs_splice|xipfs_open|xipfs_clonefd|xipfs_single|xipfs_nopush|direct) [ -z "$fuse_why" ] || skip $t "$fuse_why";;
	xfs_native|direct_xfs)
		if [ $root = 0 ]; then skip $t "needs root (the xfs is loop-mounted)"
		elif ! command -v mkfs.xfs >/dev/null; then skip $t "mkfs.xfs missing (xfsprogs)"
		fi;;
	xipfs_passthrough|xipfs_pt_all)
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
		if ! [ -x "$erofsfuse" ]; then skip $t "no erofsfuse (scripts/build-erofsfuse.sh builds it)"
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
measure_targets

# ---- work directory on tmpfs, undone on any exit
bench_workdir compare
bench_pid="" uring_saved=""
unmount_all() {
	local m n
	# FUSE first: their daemons then exit and release the images, so the
	# xfs under the passthrough image is free to go after them.
	for m in $(mounts_under "$base" fuse); do unmount "$m"; done
	reap_daemons
	for m in $(mounts_under "$base" other); do unmount "$m"; done
}
compare_cleanup() {
	# An interrupted xipbench first, so nothing holds the mounts.
	if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null; wait "$bench_pid" 2>/dev/null; fi
	unmount_all
	[ -z "$uring_saved" ] || echo "$uring_saved" >$param
}
cleanup_hooks="compare_cleanup $cleanup_hooks"

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
on_xipfs() { local t; for t in "${measured[@]}"; do case $t in xipfs_*|direct*) return 0;; esac; is_variant $t && return 0; done; [ "$mount_files" -gt 0 ]; }
if on_xipfs; then
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
# fuse_mount NAME COMMAND...: the daemon runs in the foreground (-f) in the
# background, so we know its PID and reap it after the unmount.
fuse_mount() {
	local n=$1; shift
	cmds+=("$(q "$@") &")
	start_daemon "$n" "$base/log.$n" "$base/mnt/$n" "$@"
}
[ $root = 1 ] || daemon_hint=" (a normal user mounts through fusermount3 and needs /dev/fuse read-write)"
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
on xipfs_open && fuse_mount xipfs_open "$xipfs" -f -v -o read=splice,open "$base/x.img" "$base/mnt/xipfs_open"
on xipfs_clonefd && fuse_mount xipfs_clonefd "$xipfs" -f -v -o read=splice,clone_fd "$base/x.img" "$base/mnt/xipfs_clonefd"
on xipfs_single && fuse_mount xipfs_single "$xipfs" -f -v -s -o read=splice "$base/x.img" "$base/mnt/xipfs_single"
on xipfs_nopush && fuse_mount xipfs_nopush "$xipfs" -f -v -o read=copy,push=off "$base/x.img" "$base/mnt/xipfs_nopush"
if on xipfs_passthrough || on xipfs_pt_all || on xfs_native || on direct_xfs; then
	# Passthrough clones the image's blocks, which tmpfs cannot: the image
	# goes onto xfs (reflink=1) on a loop device over a tmpfs file, so the
	# medium is still RAM.  The xfs is sized for one copy of the image, and
	# of the tree for xfs_native (the same bytes read natively from it).
	disk=$(stat -c %s "$base/x.img")
	on xfs_native && disk=$((disk + nbytes + nentries * 4096))
	disk=$(( (disk * 5 / 4 >> 20) + 320 ))
	run truncate -s "${disk}M" "$base/xfs.disk"
	run mkfs.xfs -q -m reflink=1 "$base/xfs.disk" || die "mkfs.xfs failed"
	mkdir "$base/xfs"
	run mount -o loop "$base/xfs.disk" "$base/xfs" || die "cannot loop-mount the xfs"
	run cp "$base/x.img" "$base/xfs/x.img" || die "copying the image onto the xfs failed"
	if on xfs_native; then run cp -a "$tree" "$base/xfs/tree" || die "copying the tree onto the xfs failed"; fi
fi
on xipfs_passthrough && fuse_mount xipfs_passthrough "$xipfs" -f -v -o passthrough=on "$base/xfs/x.img" "$base/mnt/xipfs_passthrough"
on xipfs_pt_all && fuse_mount xipfs_pt_all "$xipfs" -f -v -o passthrough=on,passthrough_min=0 "$base/xfs/x.img" "$base/mnt/xipfs_pt_all"
# direct_xfs reads the image on the xfs straight, found through a mount of it.
on direct_xfs && fuse_mount xipfs_xfs "$xipfs" -f -v -o read=splice "$base/xfs/x.img" "$base/mnt/xipfs_xfs"
if on xipfs_uring; then
	uring_saved=$(cat $param)	# restored by cleanup
	echo Y >$param
	cmds+=("echo Y >$param  # for the run; restored afterwards")
	fuse_mount xipfs_uring "$xipfs" -f -v -o io_uring "$base/x.img" "$base/mnt/xipfs_uring"
	# The daemon drops -o io_uring with one line when it cannot have it.
	! grep -q 'io_uring:.*using /dev/fuse' "$base/log.xipfs_uring" ||
		die "xipfs_uring: $(grep 'io_uring:' "$base/log.xipfs_uring")"
fi
# A variant: the image on tmpfs with its own options; ra=KB is the
# script's, written to the mount's backing device after the mount.
for v in "${variants[@]}"; do
	on "$v" || continue
	opts=() ra=""
	IFS=, read -ra words <<<"${variant[$v]}"
	for w in "${words[@]}"; do
		case $w in
		ra=*) ra=${w#ra=}; [[ $ra =~ ^[0-9]+$ ]] || die "--variant $v: ra=$ra: expected kilobytes";;
		*) opts+=("$w");;
		esac
	done
	o=$(IFS=,; echo "${opts[*]}")
	fuse_mount "$v" "$xipfs" -f -v ${o:+-o "$o"} "$base/x.img" "$base/mnt/$v"
	if [ -n "$ra" ]; then
		bdi=/sys/class/bdi/$(mountpoint -d "$base/mnt/$v")/read_ahead_kb
		[ -w "$bdi" ] || die "--variant $v: $bdi is not writable"
		echo "$ra" >"$bdi" || die "--variant $v: cannot set $bdi to $ra"
		cmds+=("echo $ra >/sys/class/bdi/\$(mountpoint -d MNT)/read_ahead_kb  # $v")
	fi
done
on squashfuse && fuse_mount squashfuse squashfuse_ll -f "$base/s.img" "$base/mnt/squashfuse"
on erofsfuse && fuse_mount erofsfuse "$erofsfuse" -f "$base/e.img" "$base/mnt/erofsfuse"
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
	direct_xfs) path[$t]=direct:$base/mnt/xipfs_xfs;;
	xfs_native) path[$t]=$base/xfs/tree;;
	*) path[$t]=$base/mnt/$t;;
	esac
	# Every target must show the same file before we time anything.
	p=${path[$t]#direct:}
	[ "$(stat -c %s "$p/$file")" = "$size" ] || die "$t: $p/$file is not the tree's $size bytes"
done
for t in direct direct_xfs; do
	on $t && [ -x "$xmap" ] || continue
	p=${path[$t]#direct:}
	"$xmap" "$p/$file" >/dev/null 2>"$base/map.err" ||
		die "$t: $file cannot be mapped: $(cat "$base/map.err")"
done

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
# Each daemon's memory after the run: VmRSS also counts the image pages it
# has mapped (shared with tmpfs, not its own memory); RssAnon is what it
# allocated.
mem=()
for n in "${!daemon_pid[@]}"; do
	mem+=("$n: $(awk '/^VmRSS/ {r = $2} /^RssAnon/ {a = $2}
		END {printf "VmRSS %.1f MiB, RssAnon %.1f MiB", r / 1024, a / 1024}' "/proc/${daemon_pid[$n]}/status")")
done
cmds+=("awk '/^VmRSS|^RssAnon/' /proc/PID/status  # of each daemon, after the run")
# The page cache that mapping and touching every page of the big file
# through each xipfs mount fills, cold, read while the mapping lives: the
# file's own pages and the image's (double caching shows as both).
cache_grown=()
if [ $mapped_cache = 1 ]; then
	if [ $root = 0 ]; then
		say "--mapped-cache needs root (drop_caches); not measured"
		cache_grown+=("not measured: needs root")
	fi
	for t in "${measured[@]}"; do
		[ $root = 1 ] || break
		case $t in xipfs_*) ;; *) continue;; esac
		drop_caches
		case $t in xipfs_passthrough|xipfs_pt_all) image=$base/xfs/x.img;; *) image=$base/x.img;; esac
		cache_grown+=("$t: $(python3 "$top/scripts/bench_report.py" mapped-cache "${path[$t]}/$file" "$image")")
	done
	cmds+=("sync; echo 3 >/proc/sys/vm/drop_caches; python3 scripts/bench_report.py mapped-cache MNT/$file IMAGE  # each xipfs mount")
fi
# Unmount now, so the daemons' own accounts (printed at unmount) go into
# the report.
unmount_all

# ---- mount time of an image of many empty files, with the daemonizing
# mount commands: a daemon returns once the mount exists, so the clock
# stops after its exit and the first stat (which waits for the INIT
# reply); no polling blurs the figure.
declare -A mcmd=() mtime=()
if [ "$mount_files" -gt 0 ]; then
	run python3 "$top/scripts/gen-tree.py" --kind empty-tar --files "$mount_files" "$base/m.tar" >&2 ||
		die "gen-tree.py --kind empty-tar failed"
	run "$mkxipfs" -q --tar="$base/m.tar" "$base/mx.img" || die "mkxipfs --tar failed"
	mcmd[xipfs]="$xipfs $base/mx.img $base/mnt/many"
	if on squashfuse; then
		# mksquashfs 4.5 reads a tar only from standard input.
		mksquashfs - "$base/ms.img" -tar -noI -noD -noF -noX -no-progress -quiet <"$base/m.tar" >/dev/null ||
			die "mksquashfs -tar failed"
		cmds+=("$(q mksquashfs - "$base/ms.img" -tar -noI -noD -noF -noX -no-progress -quiet) <$(q "$base/m.tar")")
		mcmd[squashfuse]="squashfuse_ll $base/ms.img $base/mnt/many"
	fi
	rm -f "$base/m.tar"
	mkdir -p "$base/mnt/many"
	for _ in $(seq "$reps"); do
		for n in "${!mcmd[@]}"; do
			# Cold caches where root may drop them, the program and its
			# libraries loaded once more: the figure is the mount.
			[ $root = 0 ] || drop_caches
			${mcmd[$n]%% *} --version >/dev/null 2>&1 || true
			s=$EPOCHREALTIME
			${mcmd[$n]} </dev/null 2>"$base/log.many" || die "${mcmd[$n]} failed: $(tail -3 "$base/log.many")"
			stat "$base/mnt/many/" >/dev/null || die "${mcmd[$n]}: stat of the mount failed"
			e=$EPOCHREALTIME
			is_mounted "$base/mnt/many" || die "${mcmd[$n]} did not mount: $(tail -3 "$base/log.many")"
			mtime[$n]+="$(awk -v s="$s" -v e="$e" 'BEGIN {print (e - s) * 1000}')"$'\n'
			unmount "$base/mnt/many" clean || die "unmounting $base/mnt/many failed"
			sleep 0.2	# let the daemon we cannot wait for exit
		done
	done
	for n in "${!mcmd[@]}"; do cmds+=("$(q ${mcmd[$n]}); stat MNT/  # mount time, $reps runs"); done
fi

# ---- the report
ver() { "$@" 2>&1 | head -1; }
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
		echo "- xipfs: $(grep -v fusermount3 <<<"$xver" | paste -sd ';' | sed 's/;/; /g'); libfuse $(libfuse_version "$xipfs")"
		echo "- mkxipfs: $(ver "$mkxipfs" --version)"
	fi
	{ on squashfuse || on squashfs; } && echo "- $(ver mksquashfs -version)"
	on squashfuse && echo "- squashfuse_ll: $(ver squashfuse_ll --version); libfuse $(libfuse_version "$(command -v squashfuse_ll)")"
	{ on erofsfuse || on erofs; } && echo "- mkfs.erofs: erofs-utils $(dpkg-query -W -f '${Version}' erofs-utils 2>/dev/null || echo '(version unknown)')"
	# erofsfuse has no --version; it prints its version first on any run.
	on erofsfuse && echo "- erofsfuse: $(ver "$erofsfuse" --help); libfuse $(libfuse_version "$erofsfuse")"
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
	python3 "$top/scripts/bench_report.py" table "$out/compare.json" || echo "(compare.json could not be read)"
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
	if [ ${#mem[@]} -gt 0 ]; then
		echo "Daemon memory after the run:"
		echo
		printf -- '- %s\n' "${mem[@]}"
		echo
	fi
	if [ ${#cache_grown[@]} -gt 0 ]; then
		echo "Page cache filled by mapping and touching the whole big file ($size bytes), cold, counted with mincore:"
		echo
		printf -- '- %s\n' "${cache_grown[@]}"
		echo
	fi
	if [ ${#mcmd[@]} -gt 0 ]; then
		echo "Mount time of an image of $mount_files empty files in directories of 1000, median (min-max) of $reps:"
		echo
		for n in "${!mcmd[@]}"; do echo "- $n: $(printf '%s' "${mtime[$n]}" | stats %.1f) ms"; done
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
