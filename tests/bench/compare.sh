#!/bin/bash
# scripts/bench-compare.sh end to end on a tiny data set: one xipbench run
# over every target this machine has, whose JSON, chart, gnuplot script and
# Markdown report hold every target and workload, each measured; and after
# it nothing stays mounted, running, looped or on tmpfs, and enable_uring is
# as it was, whether the script ends normally, fails after its mounts are
# up, or is interrupted (SIGINT to its process group, as Ctrl-C sends).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
hold_uring_switch
need_cmd fusermount3
need_cmd gnuplot
need_cmd mksquashfs
need_cmd mkfs.erofs
need_cmd squashfuse_ll
: "${XIPBENCH:=$top_builddir/xipbench}"
: "${XIPFS_MAP:=$top_builddir/xipfs-map}"
export XIPFS MKXIPFS XIPBENCH XIPFS_MAP
[ -x "$XIPBENCH" ] || fail "$XIPBENCH not built"
script=$top_srcdir/scripts/bench-compare.sh
param=/sys/module/fuse/parameters/enable_uring
workloads="seq rand uring mmap-seq mmap-rand walk open readall"	# xipbench's "all"
tiny="--files 300 --big-mib 8 --ops 200"

# The script makes its work directory under BENCH_DIR: a tmpfs directory of
# our own, so that anything it leaves behind is seen (and removed here).
shm=$(mktemp -d /dev/shm/xipfs-test-bench-compare.XXXXXX)
export BENCH_DIR=$shm
uring_saved=$(cat $param 2>/dev/null || true)
undo() {
	for m in $(awk -v b="$shm/" 'index($5, b) == 1 {print $5}' /proc/self/mountinfo | tac); do
		umount -l "$m" 2>/dev/null
	done
	[ -z "$uring_saved" ] || echo "$uring_saved" >$param
	rm -rf --one-file-system "$shm"
}
cleanup_hooks="$cleanup_hooks undo"
# A known value to come back to: N, so a run that leaves Y shows.
[ -z "$uring_saved" ] || echo N >$param

# The targets this machine must measure: every one whose tools exist.  A
# target left out for a missing tool is a skip, so strict mode (CI) fails
# instead; what this build of xipfs lacks (passthrough or io_uring with
# libfuse 3.14) is not a skip.
have_tool() {	# have_tool TARGET CONDITION...: else a failure in strict mode
	local t=$1; shift
	"$@" && return 0
	[ "${XIPFS_TEST_STRICT:-0}" != 1 ] || fail "$t cannot be measured here: '$*' is false"
	return 1
}
have_xfs=0
have_tool "the xfs targets" command -v mkfs.xfs >/dev/null && have_xfs=1
want="xipfs_copy xipfs_splice"
"$XIPFS" --version | grep -q 'passthrough yes' && [ $have_xfs = 1 ] &&
	want+=" xipfs_passthrough"
"$XIPFS" --version | grep -q 'io_uring yes' &&
	have_tool xipfs_uring test -w $param && want+=" xipfs_uring"
want+=" squashfuse"
# erofsfuse: Debian 12 has none; scripts/build-erofsfuse.sh builds it (CI
# does, and says where in $EROFSFUSE).
erofsfuse=${EROFSFUSE:-$top_srcdir/_deps/erofs-utils/bin/erofsfuse}
[ -x "$erofsfuse" ] || erofsfuse=$(command -v erofsfuse || echo /nonexistent)
have_tool erofsfuse test -x "$erofsfuse" && want+=" erofsfuse"
# the script measures exactly the one found here
export EROFSFUSE=$erofsfuse
want+=" erofs squashfs tmpfs direct"

# bench LOG ARGS...: start the script in the background in a process group
# of its own (a terminal's foreground job; job control also keeps SIGINT
# from being ignored in it); $bench is its PID and process group.
bench() {
	log=$1; shift
	set -m
	bash "$script" "$@" >"$log.out" 2>"$log.err" &
	bench=$!
	set +m
}
# finish: wait for it; $st is its exit status.
finish() { st=0; wait "$bench" || st=$?; }
# interrupt SIGNAL WHOM: send SIGNAL to the script (WHOM "script") or its
# whole process group ("group", as Ctrl-C does) and finish; it must stop
# within 20 s, not at the end of its long run.
interrupt() {
	if [ "$2" = group ]; then kill -"$1" -- -"$bench"; else kill -"$1" "$bench"; fi
	for _ in $(seq 400); do kill -0 "$bench" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$bench" 2>/dev/null; then
		kill -KILL -- -"$bench"
		fail "SIG$1 to the $2: still running after 20 s"
	fi
	finish
}
# wait_running LOG: until the script starts xipbench (its mounts are up).
wait_running() {
	for _ in $(seq 600); do
		grep -q '^bench-compare: running xipbench' "$1.err" && return 0
		kill -0 "$bench" 2>/dev/null || break
		sleep 0.05
	done
	fail "xipbench never started: $(cat "$1.err")"
}
# Nothing of the run may remain: mounts, loop devices over its files,
# processes of its group, its work directory; enable_uring back to N.
check_clean() {
	! awk -v b="$shm/" 'index($5, b) == 1 {print $5; f = 1} END {exit !f}' /proc/self/mountinfo ||
		fail "$1: still mounted under $shm"
	! losetup -a | grep -F "$shm/" || fail "$1: a loop device is left over"
	! pgrep -g "$bench" >/dev/null || fail "$1: processes left: $(pgrep -a -g "$bench")"
	[ -z "$(ls -A "$shm")" ] || fail "$1: left in $shm: $(ls -A "$shm")"
	[ -z "$uring_saved" ] || [ "$(cat $param)" = N ] || fail "$1: $param not restored"
}
mounts_up() { awk -v b="$shm/" 'index($5, b) == 1 {n++} END {print n + 0}' /proc/self/mountinfo; }

# ---- a whole run
out=$WORK/out
# Warm: cold runs drop every cache before each of the ~150 runs, which
# takes seconds on a busy machine, and xipbench's own tests cover them.
bench "$WORK/run" $tiny --reps 2 --cache warm --out "$out"
finish
[ $st = 0 ] || fail "exit status $st: $(tail -5 "$WORK/run.err")"
check_clean "normal run"
measured=$(sed -n 's/^bench-compare: running xipbench on //p' "$WORK/run.err")
[ "$measured" = "$want" ] || fail "measured '$measured', want '$want': $(cat "$WORK/run.err")"
for t in $measured; do
	! grep -q "^bench-compare: skipping $t:" "$WORK/run.err" || fail "$t both measured and skipped"
done
grep -q '^workload' "$WORK/run.out" || fail "no table on stdout: $(head -3 "$WORK/run.out")"
skipped=$(sed -n 's/^bench-compare: skipping \([^:]*\):.*/\1/p' "$WORK/run.err" | paste -sd ' ')
python3 "$top_srcdir/tests/bench_check.py" compare "$out" "$measured" "$workloads" "$skipped" || fail "outputs: see above"
ok "one run over $(echo $measured | wc -w) targets ($measured): JSON, PNG, gnuplot script and report complete; nothing left behind"

# ---- the targets outside the default set, and the figures of the retired
# bench-read.sh and bench-bypass.sh: daemon memory, the page cache a
# mapping fills, the mount time of a many-file image
extra="xipfs_open xipfs_clonefd xipfs_single xipfs_nopush"
[ $have_xfs = 1 ] && extra+=" xfs_native direct_xfs"
bench "$WORK/extra" $tiny --reps 1 --cache warm --workloads seq,walk \
	--targets "xipfs_splice ${extra// /,},squashfuse" --variant ra1m=read=copy,ra=1024 \
	--mapped-cache --mount-files 2000 --out "$WORK/out-extra"
finish
[ $st = 0 ] || fail "extra targets: exit status $st: $(tail -5 "$WORK/extra.err")"
check_clean "extra targets"
measured=$(sed -n 's/^bench-compare: running xipbench on //p' "$WORK/extra.err")
[ "$measured" = "xipfs_splice $extra squashfuse ra1m" ] || fail "extra targets: measured '$measured': $(cat "$WORK/extra.err")"
md=$WORK/out-extra/compare.md
grep -q -- '-o read=copy \$WORK/x.img \$WORK/mnt/ra1m &$' "$md" && grep -q '^echo 1024 >/sys/class/bdi/.*read_ahead_kb  # ra1m$' "$md" ||
	fail "variant ra1m: its mount and read_ahead_kb are not among the commands: $(cat "$md")"
grep -q "^| workload | cache | ${measured// / | } |$" "$md" || fail "extra targets: no table of $measured"
for t in $measured; do
	case $t in direct*|xfs_native) continue;; esac
	grep -q "^- $t: VmRSS [0-9.]* MiB, RssAnon [0-9.]* MiB$" "$md" || fail "no daemon memory of $t: $(cat "$md")"
	case $t in xipfs_*) grep -q "^- $t: [0-9]* MiB (the file's 8 + the image's [0-9]*)$" "$md" || fail "mapped page cache of $t: not the 8 MiB touched: $(cat "$md")";; esac
done
grep -q '^Mount time of an image of 2000 empty files' "$md" || fail "no mount time section"
for t in xipfs squashfuse; do
	grep -q "^- $t: [0-9.]* ([0-9.]*-[0-9.]*) ms$" "$md" || fail "no mount time of $t"
done
ok "targets $extra; daemon memory, mapped page cache and mount time reported"

# ---- --variant: a bad one is refused before anything is made
for v in "1x=read=copy" "noopts" "xipfs_copy=read=copy" "a=read=copy --variant a=push=off"; do
	# shellcheck disable=SC2086
	bash "$script" $tiny --variant $v --out "$WORK/out-v" >"$WORK/v.out" 2>"$WORK/v.err" && fail "--variant $v was taken"
	grep -q '^bench-compare: .*variant' "$WORK/v.err" || fail "--variant $v: no reason given: $(cat "$WORK/v.err")"
	[ -z "$(ls -A "$shm")" ] || fail "--variant $v: left in $shm: $(ls -A "$shm")"
done
ok "bad --variant arguments refused before anything is made"

# ---- xipbench refuses its command line after every mount is up
bench "$WORK/bad" $tiny --reps 1 --workloads seq,nosuch --out "$WORK/out-bad"
finish
[ $st = 1 ] || fail "bad workload: exit status $st, want 1"
grep -q '^bench-compare: running xipbench' "$WORK/bad.err" || fail "bad workload: it never got to xipbench: $(cat "$WORK/bad.err")"
grep -q '^bench-compare: xipbench refused its command line (exit 2)' "$WORK/bad.err" ||
	fail "bad workload: no reason given: $(cat "$WORK/bad.err")"
[ ! -e "$WORK/out-bad/compare.json" ] || fail "bad workload: a compare.json was written"
check_clean "xipbench failing"
ok "xipbench exiting 2 after the mounts: reported, everything undone"

# ---- Ctrl-C while xipbench runs, then while the mounts are being made;
# SIGTERM to the script alone
bench "$WORK/int" $tiny --reps 1000 --out "$WORK/out-int"
wait_running "$WORK/int"
n=$(mounts_up)
sleep 0.5	# well into the measurement
interrupt INT group
[ $st = 130 ] || fail "interrupt during xipbench: exit status $st, want 130: $(tail -3 "$WORK/int.err")"
[ "$n" -ge 5 ] || fail "interrupt during xipbench: only $n mounts were up"
check_clean "interrupt during xipbench"
ok "SIGINT to the process group while xipbench ran on $n mounts: everything undone"

bench "$WORK/int2" $tiny --reps 1000 --out "$WORK/out-int"
for _ in $(seq 2000); do
	[ "$(mounts_up)" = 0 ] || break
	kill -0 "$bench" 2>/dev/null || break
	sleep 0.01
done
interrupt INT group
[ $st = 130 ] || fail "interrupt while mounting: exit status $st, want 130: $(tail -3 "$WORK/int2.err")"
check_clean "interrupt while mounting"
ok "SIGINT to the process group as the first mount came up: everything undone"

bench "$WORK/term" $tiny --reps 1000 --out "$WORK/out-int"
wait_running "$WORK/term"
sleep 0.5
interrupt TERM script
[ $st = 143 ] || fail "SIGTERM: exit status $st, want 143: $(tail -3 "$WORK/term.err")"
check_clean "SIGTERM to the script"
ok "SIGTERM to the script alone during xipbench: xipbench stopped, everything undone"
