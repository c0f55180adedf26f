#!/bin/bash
# xipbench on plain directories and on one xipfs mount: every workload on
# several targets lands in the table, the JSON (checked field by field) and
# the chart; a workload that fails on one target fails alone and sets exit
# status 1; bad targets and arguments get one-line errors; output files are
# never left half-written; without root, cold runs fall back to fadvise and
# say so; plain PATH targets are named after the path and, without -f,
# the first target's largest file is read.  Figures are not judged here:
# only that they were measured.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd python3
need_cmd gnuplot
need_cmd fusermount3
[ -w /dev/fuse ] || skip "needs /dev/fuse"
: "${XIPBENCH:=$top_builddir/xipbench}"

python3 "$top_srcdir/scripts/gen-tree.py" "$WORK/a" --files 150 --big-mib 2 \
	--seed 3 >/dev/null
cp -a "$WORK/a" "$WORK/b"
mkdir -p "$WORK/out" "$WORK/mnt"
"$MKXIPFS" -q "$WORK/a" "$WORK/a.xip"
xipfs_mount "$WORK/a.xip" "$WORK/mnt"

# check_json FILE CACHES TARGET... : every workload, cache mode and target
# once, each ok (n/a only for direct targets' tree workloads).
check_json() {
	python3 "$top_srcdir/tests/bench_check.py" all "$@" || fail "JSON check failed on $1"
}

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

# 1. Three targets (two plain trees, an xipfs mount) and a direct one.
"$XIPBENCH" -r 2 -n 300 -c both -B xip -j "$WORK/out/r.json" \
	-p "$WORK/out/r.png" --plot-script "$WORK/out/r.gp" \
	tree_a="$WORK/a" tree_b="$WORK/b" xip="$WORK/mnt" \
	direct="direct:$WORK/mnt" >"$WORK/table" 2>"$WORK/err" ||
	fail "xipbench failed: $(cat "$WORK/err")"
check_json "$WORK/out/r.json" cold,warm tree_a tree_b xip direct
is_png "$WORK/out/r.png" || fail "r.png is not a PNG"
[ "$(ls "$WORK/out")" = "$(printf 'r.gp\nr.json\nr.png')" ] ||
	fail "stray files beside the outputs: $(ls "$WORK/out")"
for w in "seq 1M" "rand 4K" "uring 4K qd32" mmap-seq mmap-rand walk open readall; do
	for c in cold warm; do
		grep -q "set title '$w, $c" "$WORK/out/r.gp" || fail "chart lacks $w $c"
		for t in tree_a tree_b xip direct; do
			grep -Eq "^$w +$c +$t " "$WORK/table" ||
				fail "table lacks $w $c $t"
		done
	done
done
grep -q '"direct" NaN NaN NaN "n/a"' "$WORK/out/r.gp" || fail "chart lacks n/a"
grep -q "vs xip" "$WORK/table" || fail "no ratio column against xip"
grep -Eq '^seq 1M +cold +xip .* 1\.00x' "$WORK/table" || fail "baseline ratio not 1.00x"
grep -Eq '^mmap-rand +warm +tree_a .*[0-9.]+(ns|us|ms)/[0-9.]+(ns|us|ms)/' "$WORK/table" ||
	fail "no touch latencies in the table"
ok "8 workloads x 2 cache modes x 4 targets in table, JSON and chart"

# The daemon saw the runs, and the direct target read the image itself.
grep -q "^seq 1M .* direct .*MB/s" "$WORK/table" || fail "direct seq not measured"

# 2. One target fails rand and uring (its big file is under 4 KiB): those
# fail alone, the rest is measured, exit status 1, the error is reported.
cp -a "$WORK/a" "$WORK/small"
head -c 100 /dev/urandom >"$WORK/small/big"
set +e
"$XIPBENCH" -r 1 -n 50 -w seq,rand,uring,walk -j "$WORK/out/f.json" \
	ok="$WORK/a" small="$WORK/small" >"$WORK/table" 2>"$WORK/err"
st=$?
set -e
[ $st = 1 ] || fail "a failed workload gave exit status $st"
grep -q "xipbench: small=$WORK/small: rand cold: big is smaller than one 4096-byte block" \
	"$WORK/err" || fail "no error line for the failed run: $(cat "$WORK/err")"
python3 "$top_srcdir/tests/bench_check.py" failing "$WORK/out/f.json" || fail "JSON of the failing run is wrong"
grep -Eq '^rand 4K +cold +small +failed +.*smaller than' "$WORK/table" ||
	fail "the table does not show the failure"
ok "a failing workload fails alone, exit 1, reported in table and JSON"

# 3. Bad targets: one line naming the target, exit 1, nothing measured.
expect_error "xipbench: x=$WORK/none: $WORK/none: No such file or directory" \
	"$XIPBENCH" x="$WORK/none"
expect_error "xipbench: x=$WORK/a/big: $WORK/a/big: Not a directory" \
	"$XIPBENCH" x="$WORK/a/big"
expect_error "xipbench: x=$WORK/a: $WORK/a/nofile: No such file or directory" \
	"$XIPBENCH" -f nofile x="$WORK/a"
expect_error "xipbench: x=direct:$WORK/a: $WORK/a/big: not a regular file on an xipfs mount" \
	"$XIPBENCH" x="direct:$WORK/a"
[ "$(grep -c . "$WORK/stdout" || true)" = 0 ] || fail "output despite a bad target"
# A tree-only run needs no big file.
"$XIPBENCH" -r 1 -w walk -f nofile -q x="$WORK/a" || fail "walk wanted a big file"
ok "bad targets: one-line errors, exit 1"

# 4. Usage: exit 2 with a reason; help and version exit 0.
for args in "" "-w nope x=$WORK/a" "-r 0 x=$WORK/a" "x=$WORK/a x=$WORK/b" \
	    "-B y x=$WORK/a" "--bogus x=$WORK/a" "bad!name=$WORK/a"; do
	set +e
	# shellcheck disable=SC2086
	"$XIPBENCH" $args >/dev/null 2>"$WORK/err"
	st=$?
	set -e
	[ $st = 2 ] || fail "'xipbench $args' exited $st, not 2"
	grep -q "^xipbench: " "$WORK/err" || fail "'xipbench $args' gave no reason"
done
"$XIPBENCH" --help | grep -q "^usage: xipbench" || fail "--help"
"$XIPBENCH" -V | grep -q "^xipbench (xipfs) " || fail "--version"
ok "usage errors exit 2; --help and --version"

# 5. Outputs that cannot be written: exit 1, nothing left behind, and a
# failed chart leaves an earlier PNG as it was.
expect_error "xipbench: $WORK/nodir/r.json: No such file or directory" \
	"$XIPBENCH" -r 1 -w walk -j "$WORK/nodir/r.json" x="$WORK/a"
cp "$WORK/out/r.png" "$WORK/keep.png"
expect_error "cannot run gnuplot: No such file or directory (install gnuplot-nox)" \
	env PATH=/nonexistent "$XIPBENCH" -r 1 -w walk -p "$WORK/out/r.png" x="$WORK/a"
cmp -s "$WORK/out/r.png" "$WORK/keep.png" || fail "a failed plot changed the PNG"
[ "$(ls "$WORK/out")" = "$(printf 'f.json\nr.gp\nr.json\nr.png')" ] ||
	fail "a failed output left files: $(ls "$WORK/out")"
ok "unwritable outputs: exit 1, no partial files"

# 6. Progress only when asked (stderr is not a terminal here).
"$XIPBENCH" -r 1 -w walk -q x="$WORK/a" 2>"$WORK/err"
grep -q "xipbench: 1/1" "$WORK/err" && fail "progress on a non-terminal"
"$XIPBENCH" -r 1 -w walk -q --progress x="$WORK/a" 2>"$WORK/err"
grep -q "xipbench: 1/1 walk cold x run 1/1" "$WORK/err" || fail "no progress line"
ok "progress line"

# 7. Cold without root: posix_fadvise, said once, recorded in the JSON.
if [ "$(id -u)" = 0 ]; then run_user() { as_user "$@"; }; else run_user() { "$@"; }; fi
chmod -R a+rX "$WORK/a"
mkdir -m 777 "$WORK/u"
run_user "$XIPBENCH" -r 1 -w seq,readall -j "$WORK/u/user.json" -q x="$WORK/a" \
	2>"$WORK/err" || fail "as a user: $(cat "$WORK/err")"
[ "$(grep -c "cannot write /proc/sys/vm/drop_caches" "$WORK/err")" = 1 ] ||
	fail "the fadvise fallback was not said once: $(cat "$WORK/err")"
grep -q '"cold_method": "fadvise"' "$WORK/u/user.json" || fail "cold_method not fadvise"
ok "cold without root falls back to fadvise and says so"

# 8. A source that lost the big file's data under the mount: read and
# io_uring fail with EIO, the mapping's touch with SIGBUS, which fails that
# run and not the program; the tree workloads still run.
T=$WORK/shrink
mkdir -p "$T/d" "$T/z"
head -c 30000 /dev/urandom >"$T/d/small"
head -c $((4 << 20)) /dev/urandom >"$T/z/big"	# numbered last: ends the image
"$MKXIPFS" -q --no-data-crc --no-meta-crc "$T" "$WORK/shrink.xip"	# no CRC table after z/big
big_at=$("$XIPFSCK" -l "$WORK/shrink.xip" | awk '$NF == "/z/big" { print $(NF - 2) }')
[ $((big_at + (4 << 20))) = "$(stat -c %s "$WORK/shrink.xip")" ] ||
	fail "z/big does not end the image"
xipfs_mount "$WORK/shrink.xip" "$WORK/mnt2"
truncate -s $((big_at + (1 << 20))) "$WORK/shrink.xip"
set +e
"$XIPBENCH" -r 1 -n 2000 -f z/big -w seq,rand,uring,mmap-seq,mmap-rand,walk,readall \
	-j "$WORK/out/lost.json" lost="$WORK/mnt2" >"$WORK/table" 2>"$WORK/err"
st=$?
set -e
[ $st = 1 ] || fail "a lost source gave exit status $st: $(cat "$WORK/err")"
for w in seq rand uring; do
	grep -q "lost=$WORK/mnt2: $w cold: .*Input/output error" "$WORK/err" ||
		fail "$w: no EIO reported: $(cat "$WORK/err")"
done
for w in mmap-seq mmap-rand; do
	grep -q "lost=$WORK/mnt2: $w cold: mmap: SIGBUS touching offset [0-9]*: the page could not be read" \
		"$WORK/err" || fail "$w: no SIGBUS reported: $(cat "$WORK/err")"
done
python3 "$top_srcdir/tests/bench_check.py" lost "$WORK/out/lost.json" || fail "JSON of the lost source is wrong"
ok "a lost source: EIO and SIGBUS fail their runs, xipbench carries on"

# 9. The direct target really bypasses the daemon: on a mount of its own,
# every file workload through direct: leaves the daemon with no READ.
cp "$WORK/a.xip" "$WORK/d.xip"
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/d.xip" "$WORK/mnt3" -o stats="$STATS"
"$XIPBENCH" -r 1 -n 300 -c both -w seq,rand,uring,mmap-seq,mmap-rand -q \
	d="direct:$WORK/mnt3" || fail "direct run failed"
xipfs_unmount "$WORK/mnt3"
[ "$(counter ops.IOCTL)" -gt 0 ] ||
	fail "no IOCTL counted: $(cat "$WORK/xipfs.log")"
[ "$(counter ops.READ)" = 0 ] ||
	fail "the direct target went through the daemon: $(counter ops.READ) READs"
ok "direct: every file workload served without one READ"

# 10. Any trees, no names, no -f: plain PATH targets are named after their
# last component (a repeat gets -2), the file workloads read the first
# target's largest file (of two as large, the first name bytewise), and a
# target without that file reads its own largest; each choice is said.
mkdir -p "$WORK/p1/x/sub" "$WORK/p2/x"
head -c 300000 /dev/urandom >"$WORK/p1/x/sub/zz"
head -c 300000 /dev/urandom >"$WORK/p1/x/large"
head -c 1000 /dev/urandom >"$WORK/p1/x/small"
head -c 200000 /dev/urandom >"$WORK/p2/x/other"
"$XIPBENCH" -r 1 -n 50 -w seq,rand,walk -q -j "$WORK/out/plain.json" \
	"$WORK/p1/x" "$WORK/p2/x/" "$WORK/a" 2>"$WORK/err" ||
	fail "plain targets: $(cat "$WORK/err")"
grep -q "^xipbench: x: file workloads read large (300000 bytes), the largest file of the first target$" \
	"$WORK/err" || fail "first target's choice not said: $(cat "$WORK/err")"
grep -q "^xipbench: x-2: file workloads read other (200000 bytes), the largest file here" \
	"$WORK/err" || fail "second target's own choice not said: $(cat "$WORK/err")"
python3 "$top_srcdir/tests/bench_check.py" plain "$WORK/out/plain.json" || fail "JSON of the plain targets is wrong"
"$XIPBENCH" -r 1 -w walk -q "$WORK/p1/x" 2>"$WORK/err" || fail "walk on a plain target"
! grep -q "file workloads read" "$WORK/err" || fail "a file chosen for a tree-only run"
mkdir "$WORK/nofiles"
expect_error "xipbench: nofiles=$WORK/nofiles: no regular file for the file workloads" \
	"$XIPBENCH" -r 1 "$WORK/nofiles"
ok "plain PATH targets: named after the path, the largest file read"
