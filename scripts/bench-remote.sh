#!/bin/bash
# Remote sources: what a cold mount over http costs, with nginx on
# loopback serving the image from tmpfs.  For each remote_chunk (64K,
# 256K, 1M): one small file read, every file read (tar), and the big file
# read in order, each on a fresh mount with an empty cache; the time, and
# the requests and bytes the daemon fetched (its -o stats= record).  Then
# 8 daemons (caches of their own) reading the whole tree at once from one
# server: the time, and what the origin saw (nginx's log).  Loopback has
# no latency: the request counts are what a real network multiplies.
# No peer: squashfuse on Debian 12's httpfs2 (0.1.4) could not read a
# squashfs image from this nginx (httpfs2's own reads of the file fail
# with EIO), so there is nothing to compare with here.  Prints medians
# over the repetitions; not a test.
#
# Usage: scripts/bench-remote.sh [--reps N] [--files N] [--big-mib M]
#   defaults 3 repetitions, 2000 files, a 64 MiB file
# Environment: XIPFS, MKXIPFS (default: the ones built here), BENCH_DIR
# (the work directory is made under it, default /dev/shm, tmpfs).
set -eu -o pipefail
export LC_ALL=C
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
reps=3 files=2000 big_mib=64
parse_options reps=#reps files=#files big-mib=#big_mib -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
need_cmds "$xipfs" "$mkxipfs" fusermount3 python3 nginx tar

bench_workdir remote
WORK=$base
# tests/remote/nginx.sh's needs, the way tests/lib.sh gives them
fail() { die "$@"; }
need_cmd() { need_cmds "$1"; }
unmount_all() {
	local m
	for m in $(mounts_under "$WORK"); do unmount "$m" || true; done
	reap_daemons
}
cleanup_hooks="unmount_all $cleanup_hooks"
. "$top/tests/remote/nginx.sh"

python3 "$top/scripts/gen-tree.py" "$WORK/tree" --files "$files" --big-mib "$big_mib" >/dev/null
"$mkxipfs" -q "$WORK/tree" "$WWW/img.xip"
big=$(cd "$WORK/tree" && find . -type f -size +1M -print -quit)
small=$(cd "$WORK/tree" && find . -type f -size -8k -print -quit)
nginx_start
url=http://127.0.0.1:$PORT/img.xip
say "image $(du -h --apparent-size "$WWW/img.xip" | cut -f1), $files files, big file $big; load: $(uptime | sed 's/.*average: //')"

now() { date +%s.%N; }
# run NAME CHUNK COMMAND...: a fresh mount and cache, COMMAND in it (cwd);
# prints "seconds requests bytes".
run() {
	local name=$1 chunk=$2 mnt=$WORK/mnt t0 t1
	shift 2
	rm -rf "$WORK/cache" "$WORK/stats.json"
	start_daemon "$name" "$WORK/xipfs.log" "$mnt" "$xipfs" -f \
		-o "cache=$WORK/cache,stats=$WORK/stats.json,remote_chunk=$chunk" "$url" "$mnt"
	t0=$(now)
	(cd "$mnt" && "$@" >/dev/null)
	t1=$(now)
	unmount "$mnt"
	reap_daemons
	echo "$(echo "$t1 - $t0" | bc) $(stats_get "$WORK/stats.json" remote.requests) $(stats_get "$WORK/stats.json" remote.bytes)"
}
# med NAME CHUNK COMMAND...: the median of each column over the reps.
med() {
	local i out=()
	for i in $(seq 1 "$reps"); do out+=("$(run "$@")"); done
	printf '%s\n' "${out[@]}" | python3 -c 'import sys, statistics
rows = [list(map(float, l.split())) for l in sys.stdin]
t, r, b = (statistics.median(c) for c in zip(*rows))
print("%8.3f s %7d requests %10.1f MiB" % (t, r, b / 1048576))'
}

printf '%-34s %s\n' "workload (remote_chunk)" "median: time, requests, bytes fetched"
for chunk in 64K 256K 1M; do
	printf '%-34s %s\n' "one small file ($chunk)" "$(med one "$chunk" cat "$small")"
	printf '%-34s %s\n' "every file, tar ($chunk)" "$(med tar "$chunk" sh -c 'tar cf - . | wc -c')"
	printf '%-34s %s\n' "big file in order ($chunk)" "$(med seq "$chunk" cat "$big")"
done

# 8 clients at once, one server.
: >"$WORK/access.log"
for i in 1 2 3 4 5 6 7 8; do
	start_daemon "c$i" "$WORK/xipfs.log" "$WORK/m$i" "$xipfs" -f \
		-o "cache=$WORK/cache$i" "$url" "$WORK/m$i"
done
t0=$(now)
# (tar's output through a pipe: GNU tar reads nothing when writing to
# /dev/null)
readers=()
for i in 1 2 3 4 5 6 7 8; do
	(cd "$WORK/m$i" && tar cf - . | wc -c >/dev/null) &
	readers+=($!)
done
wait "${readers[@]}"	# not the daemons, which are children too
t1=$(now)
for i in 1 2 3 4 5 6 7 8; do unmount "$WORK/m$i"; done
reap_daemons
awk -v t="$(echo "$t1 - $t0" | bc)" '{ n++; b += $5 } END {
	printf "8 clients, every file each: %.2f s; the origin saw %d requests, %.1f MiB (%.1f MiB a client)\n", t, n, b / 1048576, b / 8 / 1048576 }' "$WORK/access.log"
say "load after: $(uptime | sed 's/.*average: //')"
