#!/bin/bash
# Real workloads on real trees, against every peer (issue 22): the
# debootstrap'd bookworm root filesystem of scripts/make-rootfs.sh and a
# copy of part of this machine's /usr, each built into every target --
# xipfs all-XIP mounted by root and by a normal user (fusermount3),
# xipfs --compress=zstd, kernel erofs (file-backed), kernel squashfs (loop),
# squashfuse_ll, erofsfuse, ext4 (loop) and the tree itself on tmpfs -- and
# timed with the programs people run: tar, grep -r, find | xargs cat, find,
# ls -lR, du -s, sha256sum of every ELF file, and in a chroot (rootfs only)
# dpkg --verify, python3 imports and a loop of program starts.  Cold
# (caches dropped before each run) then warm (the same run again), every
# target in the same pass, the order rotated per rep, medians and spreads.
#
# The trees and images are kept in a cache directory on tmpfs, so that a
# rerun (on another build of xipfs, say) costs only the runs: an image is
# made again when its command, its tool (size and mtime) or its tree
# changed.  Each run mounts under a work directory of its own, removed with
# everything mounted there on any exit.  Writes OUT/real.md (machine, load,
# versions, trees, every command, the tables) and OUT/real.json.  Not a
# test: it asserts nothing, but a workload that fails or whose output
# differs from the tree's is reported as such, as is a target that cannot
# be measured here.
#
# Room: the cache holds each tree and five images of it (xipfs, xipfs
# zstd, erofs, squashfs, ext4), about 5.5 times the tree: 1.2 GB for the
# rootfs, some 12 GB for the default part of /usr (--usr-dirs takes less).
#
# Usage: scripts/bench-real.sh [--quick] [options]   (--help lists them)
#   scripts/bench-real.sh --quick          the rootfs, a few workloads, 3 passes
#   scripts/bench-real.sh                  both trees, every workload, 5 passes
#   scripts/bench-real.sh --prepare        only make the trees and images
# Needs root (drop_caches, kernel mounts, chroot).  Environment: XIPFS,
# MKXIPFS (default: built at the top of the tree), EROFSFUSE (as
# scripts/bench-compare.sh finds it), BENCH_DIR (default /dev/shm, tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
all_targets="xipfs xipfs_user xipfs_zstd erofs squashfs squashfuse erofsfuse ext4 tmpfs"
all_workloads="tar grep cat find ls du sha256 dpkg python starts"
chroot_workloads="dpkg python starts"
usage() {
	cat <<-EOF
	usage: scripts/bench-real.sh [options]
	  --quick            the rootfs only, 3 passes, the workloads tar, grep,
	                     find, ls, dpkg and starts (50 starts): a few
	                     minutes on a quiet machine (the options below
	                     still apply)
	  --trees LIST       rootfs, usr or both (default rootfs,usr)
	  --usr-dirs LIST    the parts of /usr copied for the usr tree
	                     (default "$usr_dirs_default")
	  --dir DIR          a copy of DIR as the only tree, instead of --trees
	  --tar FILE         the rootfs tar (default: scripts/make-rootfs.sh's)
	  --reps N           passes (default 5)
	  --workloads LIST   of: $all_workloads (default all)
	  --targets LIST     of: $all_targets (default all)
	  --cache MODE       cold, warm or both (default both)
	  --starts N         program starts in the starts workload (default 200)
	  --cold MODE        drop: caches dropped before each target's cold run,
	                     mounts kept (default); once: dropped once per
	                     workload and pass, before every target's cold run
	                     (quicker, but a run late in the pass pays more
	                     for the memory it takes: docs/BENCHMARKS.md);
	                     remount: as drop, and the target's mount made
	                     afresh first
	  --user NAME        who mounts xipfs_user (default nobody)
	  --cache-dir DIR    trees and images (default \$BENCH_DIR/xipfs-bench-real)
	  --prepare          make the trees and images (if out of date) and exit
	  --clean            remove the cache directory and exit
	  --out DIR          where real.md and real.json go (default ./bench-out)
	  -h, --help         this help
	EOF
}

# ---- options
usr_dirs_default="bin sbin share lib/x86_64-linux-gnu"
quick=0 prepare=0 trees="" usr_dirs=$usr_dirs_default dir="" tar="" reps="" workloads=""
targets=$all_targets cache=both starts="" cold=drop user=nobody clean=0 out=./bench-out
cache_dir=${BENCH_DIR:-/dev/shm}/xipfs-bench-real
parse_options quick trees=trees usr-dirs=usr_dirs dir=dir tar=tar reps=#reps \
	workloads=workloads targets=targets cache=cache starts=#starts cold=cold \
	user=user cache-dir=cache_dir prepare clean out=out -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
if [ $clean = 1 ]; then
	rm -rf --one-file-system "$cache_dir"
	say "removed $cache_dir"
	exit 0
fi
if [ $quick = 1 ]; then
	: "${trees:=rootfs}" "${reps:=3}" "${starts:=50}" "${workloads:=tar grep find ls dpkg starts}"
fi
: "${trees:=rootfs,usr}" "${reps:=5}" "${starts:=200}" "${workloads:=$all_workloads}"
[ "$reps" -ge 1 ] || die "--reps wants a number from 1"
[ -z "$dir" ] || trees=dir
trees=${trees//,/ } workloads=${workloads//,/ } targets=${targets//,/ }
for x in $trees; do case $x in rootfs|usr|dir) ;; *) die "unknown tree '$x' (rootfs, usr)";; esac; done
for x in $workloads; do case " $all_workloads " in *" $x "*) ;; *) die "unknown workload '$x' (one of: $all_workloads)";; esac; done
for x in $targets; do case " $all_targets " in *" $x "*) ;; *) die "unknown target '$x' (one of: $all_targets)";; esac; done
case $cache in cold|warm|both) ;; *) die "--cache $cache: cold, warm or both";; esac
case $cold in drop|once|remount) ;; *) die "--cold $cold: drop, once or remount";; esac
[ "$(id -u)" = 0 ] || die "needs root: cold runs drop the page cache, kernel targets mount, chroot workloads chroot"
need_cmds python3 tar grep find xargs du sha256sum chroot setpriv unshare timeout
need_built "$xipfs" "$mkxipfs"
uid=$(id -u "$user") && gid=$(id -g "$user") || die "no user '$user' (--user)"
[ "$uid" != 0 ] || die "--user $user is root; xipfs_user is a normal user's mount"
erofsfuse=$(erofsfuse_path)
mkdir -p "$out" || die "cannot make $out"
out=$(cd "$out" && pwd)
# The cache holds images every target's user must read.
mkdir -p -m 755 "$cache_dir" || die "cannot make $cache_dir"
chmod 755 "$cache_dir"

# ---- which targets can be measured here; the others are reported
declare -A why=()
unmeasurable() { why[$1]=$2; say "not measured: $1: $2"; }
kernel_has() { grep -qw "$1" /proc/filesystems || { modprobe -q "$1" 2>/dev/null && grep -qw "$1" /proc/filesystems; }; }
for t in $targets; do
	case $t in
	xipfs_user) command -v fusermount3 >/dev/null || unmeasurable $t "fusermount3 missing";;
	squashfuse) command -v squashfuse_ll >/dev/null || unmeasurable $t "squashfuse_ll missing (squashfuse)";;
	erofsfuse) [ -x "$erofsfuse" ] || unmeasurable $t "no erofsfuse (scripts/build-erofsfuse.sh builds it)";;
	erofs|squashfs|ext4) kernel_has $t || unmeasurable $t "the kernel has no $t";;
	esac
	case $t in
	squashfs|squashfuse) command -v mksquashfs >/dev/null || unmeasurable $t "mksquashfs missing (squashfs-tools)";;
	erofs|erofsfuse) command -v mkfs.erofs >/dev/null || unmeasurable $t "mkfs.erofs missing (erofs-utils)";;
	ext4) command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null ||
		unmeasurable $t "mkfs.ext4 or debugfs missing (e2fsprogs)";;
	esac
done
measure_targets

# ---- the work directory of this run, undone on any exit
bench_workdir real
chmod 755 "$base"	# the user's mount point is below it
unmount_all() {
	local m
	for m in $(mounts_under "$base" fuse); do unmount "$m"; done
	reap_daemons
	for m in $(mounts_under "$base" other); do unmount "$m"; done
}
cleanup_hooks="unmount_all $cleanup_hooks"
res=$base/results
mkdir "$res"
: >"$res/times.tsv"
: >"$res/commands.txt"
# cmd WORDS...: note a command for the report, $CACHE and $WORK for the
# two directories.
cmd() {
	local s="$*"
	s=${s//"$cache_dir"/\$CACHE}
	echo "${s//"$base"/\$WORK}" >>"$res/commands.txt"
}
# run WORDS...: run a command, noted for the report.
run() { cmd "$@"; "$@"; }

# ---- trees and images, made only when missing or out of date
# stamp_ok FILE TEXT: FILE exists and its stamp says TEXT.
stamp_ok() { [ -e "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]; }
tool_id() { local p; p=$(command -v "$1") && stat -L -c "$p %s %Y" "$p"; }
# make_tree NAME: $cache_dir/NAME/tree, and the list of its ELF files.
make_tree() {
	local name=$1 d=$cache_dir/$1 want how
	case $name in
	rootfs)
		if [ -z "$tar" ]; then tar=$("$top/scripts/make-rootfs.sh") || die "scripts/make-rootfs.sh failed"; fi
		[ -s "$tar" ] || die "$tar: no such tar"
		want="tar $tar $(stat -c '%s %Y' "$tar")"
		how="tar --numeric-owner --xattrs --xattrs-include=* -C \$CACHE/rootfs/tree -xf $tar";;
	usr)
		for x in $usr_dirs; do [ -d "/usr/$x" ] || die "/usr/$x: no such directory (--usr-dirs)"; done
		want="usr $usr_dirs"
		how="(cd /usr && cp -a --parents $usr_dirs \$CACHE/usr/tree/)";;
	dir)
		[ -d "$dir" ] || die "$dir: no such directory"
		dir=$(cd "$dir" && pwd)
		want="dir $dir $(find "$dir" -xdev -printf '%s %T@\n' | cksum)"
		how="cp -a $dir/. \$CACHE/dir/tree";;
	esac
	echo "$how" >>"$res/commands.txt"
	if stamp_ok "$d/tree" "$want"; then return 0; fi
	say "$name: making the tree in $d"
	rm -rf --one-file-system "$d"
	mkdir -p -m 755 "$d/tree"
	case $name in
	rootfs) tar --numeric-owner --xattrs --xattrs-include='*' -C "$d/tree" -xf "$tar";;
	usr) (cd /usr && cp -a --parents $usr_dirs "$d/tree/");;
	dir) cp -a "$dir/." "$d/tree";;
	esac || die "$name: making the tree failed"
	python3 "$top/scripts/bench_report.py" elf-list "$d/tree" "$d/elf.list" || die "$name: listing the ELF files failed"
	python3 "$top/scripts/bench_report.py" tree-makeup "$d/tree" >"$d/makeup" || die "$name: tree-makeup failed"
	echo "$want" >"$d/tree.stamp"
}
# make_image TREE FILE TOOL COMMAND...: run COMMAND (which writes FILE)
# unless FILE is up to date.
make_image() {
	local name=$1 img=$2 tool=$3 want; shift 3
	want="$(cat "$cache_dir/$name/tree.stamp") | $(tool_id "$tool") | $*"
	[ "$(type -t "$1")" = function ] || cmd "$@"
	stamp_ok "$img" "$want" && return 0
	say "$name: making $(basename "$img")"
	rm -f "$img" "$img.stamp"
	"$@" >"$base/build.log" 2>&1 || die "$name: $* failed: $(tail -3 "$base/build.log")"
	chmod 644 "$img"
	echo "$want" >"$img.stamp"
}
# ext4_image TREE IMG: an ext4 sized for TREE, without the lost+found the
# others have not, so every target shows the same entries.
ext4_image() {
	local kib
	kib=$(du -sk --apparent-size "$1" | cut -f1)
	kib=$((kib * 5 / 4 + $(find "$1" -xdev | wc -l) * 4 + 65536))
	rm -f "$2"
	mkfs.ext4 -q -F -m 0 -O ^has_journal -d "$1" "$2" "${kib}K" &&
		debugfs -w -R 'rmdir lost+found' "$2"
}
make_images() {
	local name=$1 d=$cache_dir/$1 t=$cache_dir/$1/tree
	if on xipfs || on xipfs_user; then make_image "$name" "$d/x.img" "$mkxipfs" "$mkxipfs" -q "$t" "$d/x.img"; fi
	if on xipfs_zstd; then make_image "$name" "$d/xz.img" "$mkxipfs" "$mkxipfs" -q --compress=zstd "$t" "$d/xz.img"; fi
	if on erofs || on erofsfuse; then make_image "$name" "$d/e.img" mkfs.erofs mkfs.erofs --quiet "$d/e.img" "$t"; fi
	if on squashfs || on squashfuse; then
		make_image "$name" "$d/s.img" mksquashfs mksquashfs "$t" "$d/s.img" -noI -noD -noF -noX -no-progress -quiet
	fi
	if on ext4; then
		make_image "$name" "$d/ext4.img" mkfs.ext4 ext4_image "$t" "$d/ext4.img"
		cmd "mkfs.ext4 -q -F -m 0 -O ^has_journal -d $t $d/ext4.img SIZE  # SIZE: the tree's bytes x 1.25 + 4 KiB per entry + 64 MiB"
		cmd "debugfs -w -R 'rmdir lost+found' $d/ext4.img  # the other targets have none"
	fi
}

# ---- mounts: daemons in the foreground (-f) in the background (lib.sh's
# start_daemon), kernel mounts with mount(8)
declare -A mcmd=() path=()
# mount_cmds TREE: the mount command of each target, for TREE's images.
mount_cmds() {
	local d=$cache_dir/$1 m=$base/mnt
	mcmd=(
		[xipfs]="$xipfs -f $d/x.img $m/xipfs"
		[xipfs_user]="setpriv --reuid=$uid --regid=$gid --clear-groups -- $xipfs -f -o uid=$uid,gid=$gid $d/x.img $m/xipfs_user"
		[xipfs_zstd]="$xipfs -f $d/xz.img $m/xipfs_zstd"
		[squashfuse]="squashfuse_ll -f $d/s.img $m/squashfuse"
		[erofsfuse]="$erofsfuse -f $d/e.img $m/erofsfuse"
		[erofs]="mount -t erofs -o ro $d/e.img $m/erofs"
		[squashfs]="mount -t squashfs -o loop,ro $d/s.img $m/squashfs"
		[ext4]="mount -t ext4 -o loop,ro $d/ext4.img $m/ext4"
	)
}
mount_target() {
	local t=$1 m=$base/mnt/$1
	case $t in
	tmpfs) return 0;;
	erofs|squashfs|ext4)
		mkdir -p "$m"
		if ! ${mcmd[$t]} 2>"$base/log.$t" && [ $t = erofs ]; then
			# Kernels before 6.12 cannot mount an erofs image file directly.
			say "erofs: the file-backed mount failed ($(head -1 "$base/log.erofs")); on a loop device instead"
			mcmd[$t]=${mcmd[$t]/-o ro/-o ro,loop}
			${mcmd[$t]} 2>"$base/log.$t"
		fi || die "$t: ${mcmd[$t]} failed: $(cat "$base/log.$t")";;
	*)
		mkdir -p "$m"
		[ $t != xipfs_user ] || chown "$uid:$gid" "$m"
		start_daemon "$t" "$base/log.$t" "$m" ${mcmd[$t]};;
	esac
}
umount_target() {
	[ "$1" != tmpfs ] || return 0
	unmount "$base/mnt/$1" clean || die "$1: cannot unmount $base/mnt/$1"
	if [ -n "${daemon_pid[$1]:-}" ]; then
		reap "${daemon_pid[$1]}" "$1"
		unset "daemon_pid[$1]"
	fi
}

# ---- workloads: each a shell command run in the root of the target, its
# standard output a small summary compared with the tree's.  @CHROOT@ is
# chroot for root, unshare -r chroot for the user (root cannot enter a
# user's FUSE mount); @ELF@ the list of ELF files; @N@ the starts.
declare -A wcmd=(
	[tar]='tar -cf - . | wc -c'
	[grep]='grep -r -D skip -F -e xipfs.bench.absent.string .; test $? = 1'
	[cat]='find . -type f -print0 | xargs -0 cat | wc -c'
	[find]='find . | wc -l'
	[ls]='ls -lR . | wc -l'
	[du]='du -s . >/dev/null'
	[sha256]='xargs -0 -a @ELF@ sha256sum | sha256sum'
	[dpkg]='@CHROOT@ . dpkg --verify | sha256sum'
	[python]="@CHROOT@ . python3 -I -c 'import json, decimal, argparse, email.parser, http.client, xml.etree.ElementTree, asyncio, unittest'"
	[starts]='@CHROOT@ . /bin/sh -c '\''i=0; while [ $i -lt @N@ ]; do /bin/true; i=$((i + 1)); done'\'
)
# Output that depends on the file system's allocation is not compared.
declare -A wlabel=(
	[tar]="tar" [grep]="grep -r" [cat]="find | xargs cat" [find]="find" [ls]="ls -lR"
	[du]="du -s" [sha256]="sha256 of every ELF file" [dpkg]="dpkg --verify in a chroot"
	[python]="python3 imports in a chroot" [starts]="$starts program starts in a chroot"
)
# workload_cmd WORKLOAD TARGET TREE: the command line.
workload_cmd() {
	local c=${wcmd[$1]} ch=chroot
	[ "$2" != xipfs_user ] || ch="unshare -r chroot"
	c=${c//@CHROOT@/$ch}
	c=${c//@ELF@/$cache_dir/$3/elf.list}
	echo "${c//@N@/$starts}"
}
# time_one TREE WORKLOAD TARGET CACHE REP: one timed run, appended to
# times.tsv (seconds, status, summary of the output).
time_one() {
	local tree=$1 w=$2 t=$3 c=$4 rep=$5 pre=() s e st=0 summary
	local dir=${path[$t]} line
	[ $t != xipfs_user ] || pre=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --)
	line=$(workload_cmd "$w" "$t" "$tree")
	s=$EPOCHREALTIME
	"${pre[@]}" timeout 900 bash -o pipefail -c "cd \"\$1\" && $line" sh "$dir" >"$base/out" 2>"$base/err" || st=$?
	e=$EPOCHREALTIME
	if [ $st = 0 ]; then
		summary=$(head -c 200 "$base/out" | tr '\t\n' '  ')
		st=ok
	else
		summary=$(head -c 200 "$base/err" | tr '\t\n' '  ')
		st="failed($st)"
		say "$tree $w $c on $t failed: $summary"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tree" "$w" "$c" "$t" "$rep" \
		"$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.4f", e - s}')" "$st" "$summary" >>"$res/times.tsv"
}

# fresh_caches: drop every cache, then load the workloads' programs again.
fresh_caches() { drop_caches; warm_tools; }

# warm_tools: load the programs the workloads run (and their libraries)
# again after a drop, so that a cold run reads the target, not the host's
# disk.
warm_tools() {
	local c
	for c in bash tar wc grep find xargs cat ls du sha256sum chroot setpriv unshare timeout; do
		"$c" --version >/dev/null 2>&1 || true
	done
	test -x /bin/sh
}

# ---- one tree: images, mounts, every pass, unmounts.  Caches are dropped
# right before each target's cold run, not once per workload: after one
# drop for all, the targets that ran late in a pass were up to twice as
# slow as the same target early in another pass, every file system alike:
# on this machine the memory taken after the first gigabytes a drop freed
# costs more, with no reclaim involved (docs/BENCHMARKS.md).  --cold once
# keeps the single drop, which is quicker (no target's run warms another's
# caches either way: each has its own mount, and the images are on tmpfs,
# which a drop leaves alone).
# bench_tree TREE
bench_tree() {
	local tree=$1 ws=() w t r i n c
	make_tree "$tree"
	make_images "$tree"
	[ $prepare = 0 ] || return 0
	cp "$cache_dir/$tree/makeup" "$res/makeup.$tree"
	mount_cmds "$tree"
	mkdir -p "$base/mnt"
	for t in "${measured[@]}"; do
		mount_target "$t"
		case $t in
		tmpfs) path[$t]=$cache_dir/$tree/tree;;
		*) path[$t]=$base/mnt/$t; cmd "${mcmd[$t]}$(case $t in erofs|squashfs|ext4) ;; *) echo ' &';; esac)";;
		esac
	done
	for w in $workloads; do
		case " $chroot_workloads " in
		*" $w "*) [ "$tree" = rootfs ] || { echo "$tree	$w	-" >>"$res/notapplicable"; continue; };;
		esac
		ws+=("$w")
	done
	n=${#measured[@]}
	for r in $(seq "$reps"); do
		echo "$tree	$r	$(cut -d' ' -f1-3 /proc/loadavg)" >>"$res/loads.tsv"
		say "$tree: pass $r/$reps, load $(cut -d' ' -f1-3 /proc/loadavg)"
		for w in "${ws[@]}"; do
			for i in $(seq 0 $((n - 1))); do
				t=${measured[$(((i + r - 1) % n))]}
				[ "$cache" = warm ] || case $cold in
				once) [ "$i" != 0 ] || fresh_caches;;
				remount) umount_target "$t"; mount_target "$t"; fresh_caches;;
				drop) fresh_caches;;
				esac
				for c in cold warm; do
					[ "$cache" = both ] || [ "$cache" = $c ] || continue
					time_one "$tree" "$w" "$t" $c "$r"
				done
			done
		done
	done
	unmount_all
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "targets: ${measured[*]}; trees: $trees; $reps passes; load $load_before"
for tree in $trees; do bench_tree "$tree"; done
if [ $prepare = 1 ]; then
	say "trees and images ready in $cache_dir: $(du -sh "$cache_dir" | cut -f1)"
	exit 0
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report
for w in $workloads; do
	echo "$w	${wlabel[$w]}	$(workload_cmd "$w" TARGET TREE | sed "s|$cache_dir/TREE|\$CACHE/TREE|")" >>"$res/workloads.tsv"
done
for t in "${!why[@]}"; do echo "$t	${why[$t]}"; done >"$res/unmeasured.tsv"
ver() { "$@" 2>&1 | head -1; }
dpkgv() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "machine=$(uname -srm), $(nproc) CPUs ($(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
	echo "load_before=$load_before"
	echo "load_after=$load_after"
	echo "reps=$reps"
	echo "cache=$cache"
	echo "cold=$cold"
	echo "quick=$quick"
	echo "user=$user"
	echo "targets=${measured[*]}"
	echo "trees=$trees"
	echo "usr_dirs=$usr_dirs"
	echo "version xipfs=$("$xipfs" --version 2>&1 | grep -v -m1 fusermount3), libfuse $(libfuse_version "$xipfs")"
	echo "version mkxipfs=$(ver "$mkxipfs" --version)"
	echo "version mksquashfs=$(ver mksquashfs -version)"
	echo "version mkfs.erofs=erofs-utils $(dpkgv erofs-utils)"
	echo "version squashfuse=$(dpkgv squashfuse), libfuse $(libfuse_version "$(command -v squashfuse_ll || echo squashfuse_ll)")"
	# erofsfuse has no --version; it names itself in its --help.
	[ ! -x "$erofsfuse" ] || echo "version erofsfuse=$("$erofsfuse" --help 2>&1 | grep -m1 '^erofsfuse'), libfuse $(libfuse_version "$erofsfuse")"
	echo "version e2fsprogs=$(dpkgv e2fsprogs)"
	echo "version tar=$(ver tar --version)"
} >"$res/meta.txt"
python3 "$top/scripts/bench_report.py" real "$res" "$out/real.json" >"$out/real.md.tmp" ||
	die "bench_report.py real failed (the raw results: $res, removed at exit)"
mv "$out/real.md.tmp" "$out/real.md"
cat "$out/real.md"
say "wrote $out/real.md and $out/real.json"
