#!/bin/bash
# scripts/bench-real.sh end to end on a tiny tree, one pass: xipfs as root
# and as a user against the tree itself, cold and warm; its report and JSON
# hold every run, each succeeded and printed what the tree did; a rerun
# takes the cached images instead of making them again, and reports a
# target it cannot have instead of dropping it; nothing stays mounted or
# running, and the run's work directory is gone.  No timing is checked.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
script=$top_srcdir/scripts/bench-real.sh
export XIPFS MKXIPFS

tree=$WORK/tree
mkdir -p "$tree/a/b" "$tree/c"
printf 'one\n' >"$tree/a/one"
head -c 100000 /dev/urandom >"$tree/a/b/data"
cp /bin/true "$tree/c/true"
ln -s ../a/one "$tree/c/link"
# The work and cache directories under $WORK (not tmpfs: a warning only).
export BENCH_DIR=$WORK
common=(--dir "$tree" --reps 1 --cache-dir "$WORK/cache")

bash "$script" "${common[@]}" --targets xipfs,xipfs_user,tmpfs --workloads tar,sha256 \
	--out "$WORK/out" >"$WORK/run.out" 2>"$WORK/run.err" || fail "exit status $?: $(tail -5 "$WORK/run.err")"
md=$WORK/out/real.md
grep -q '^| tar | dir | cold | [0-9.]* |$' "$md" || fail "no ratio row for tar, cold: $(cat "$md")"
grep -q '^| sha256 of every ELF file | dir | warm | [0-9.]* (' "$md" || fail "no seconds row for sha256, warm: $(cat "$md")"
grep -q '^Every run succeeded, and every target printed what tmpfs did' "$md" || fail "runs failed or differ: $(sed -n '/^## Checks/,/^## Commands/p' "$md")"
grep -q '^setpriv --reuid=[0-9]* .* -o uid=[0-9]*,gid=[0-9]* \$CACHE/dir/x.img \$WORK/mnt/xipfs_user &$' "$md" ||
	fail "the user's mount is not among the commands"
python3 - "$WORK/out/real.json" <<'EOF' || fail "real.json: see above"
import json, sys
d = json.load(open(sys.argv[1]))
runs = {(r["workload"], r["cache"], r["target"]): r for r in d["results"]}
want = {(w, c, t) for w in ("tar", "sha256") for c in ("cold", "warm") for t in ("xipfs", "xipfs_user", "tmpfs")}
assert set(runs) == want, f"runs {sorted(runs)}"
for k, r in runs.items():
    assert r["status"] == "ok" and len(r["times"]) == 1 and r["times"][0] > 0, (k, r)
assert d["trees"]["dir"]["files"] == 3, d["trees"]
assert [x["pass"] for x in d["loads"]] == [1], d["loads"]
EOF
grep -q "^Every target .* Cold: caches dropped (sync; echo 3 >/proc/sys/vm/drop_caches) right before each target's cold run, mounts kept\." "$md" ||
	fail "the report does not say how cold runs were made: $(grep '^Every target' "$md")"
ls -d "$WORK"/xipfs-real.* 2>/dev/null && fail "the run's work directory is left"
ok "one pass over xipfs, xipfs_user and tmpfs: report and JSON complete, outputs alike, work directory gone"

# A rerun: the image is taken from the cache; a target that cannot be had
# is reported.
EROFSFUSE=/nonexistent bash "$script" "${common[@]}" --targets xipfs,erofsfuse --workloads find --cache warm \
	--out "$WORK/out2" >"$WORK/run2.out" 2>"$WORK/run2.err" || fail "rerun: exit status $?: $(tail -5 "$WORK/run2.err")"
! grep -q 'making' "$WORK/run2.err" || fail "rerun made something again: $(grep making "$WORK/run2.err")"
grep -q '^- erofsfuse: no erofsfuse' "$WORK/out2/real.md" || fail "erofsfuse not reported as not measured: $(cat "$WORK/out2/real.md")"
grep -q '^| find | dir | warm | [0-9.]* ([0-9.]*-[0-9.]*) |$' "$WORK/out2/real.md" || fail "rerun: no seconds row for find"
ok "rerun: cached image taken, the missing erofsfuse reported"

# --cold once (one drop per workload and pass) and remount (each target's
# mount made afresh before its cold run)
for mode in "once:caches dropped .* once per workload and pass" "remount:the target's mount made afresh"; do
	bash "$script" "${common[@]}" --targets xipfs,tmpfs --workloads find --cache cold --cold "${mode%%:*}" \
		--out "$WORK/out3" >"$WORK/run3.out" 2>"$WORK/run3.err" ||
		fail "--cold ${mode%%:*}: exit status $?: $(tail -5 "$WORK/run3.err")"
	grep -q "^Every target .* Cold: ${mode#*:}" "$WORK/out3/real.md" &&
		grep -q '^Every run succeeded' "$WORK/out3/real.md" ||
		fail "--cold ${mode%%:*}: $(cat "$WORK/out3/real.md")"
done
ok "--cold once and remount: each run went its way, succeeded and says so in its report"

bash "$script" "${common[@]}" --cold sometimes >/dev/null 2>"$WORK/bad.err" && fail "--cold sometimes was taken"
grep -q -- "--cold sometimes: drop, once or remount" "$WORK/bad.err" || fail "bad --cold: $(cat "$WORK/bad.err")"

bash "$script" "${common[@]}" --targets xipfs,nosuch >/dev/null 2>"$WORK/bad.err" && fail "an unknown target was taken"
grep -q "unknown target 'nosuch'" "$WORK/bad.err" || fail "unknown target: $(cat "$WORK/bad.err")"
ok "an unknown target refused"
