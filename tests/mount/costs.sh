#!/bin/bash
# What a mount costs the machine, by count (never by time): the daemon's
# resident memory stays far below the size of what it served (an image of
# 256 MiB read whole, by copy as root and by splice as a normal user;
# before, every page of the image it copied from stayed mapped in it), and
# the requests a walk of a tree sends per directory and per entry.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

# 1. Eight files of 32 MiB, each of its own bytes (no two stored once).
mkdir -p "$WORK/big"
python3 - "$WORK/big" <<'EOF'
import os, random, sys
for i in range(8):
    with open("%s/f%d" % (sys.argv[1], i), "wb") as f:
        f.write(random.Random(i).randbytes(32 << 20))
EOF
"$MKXIPFS" -q "$WORK/big" "$WORK/big.xip"
chmod 755 "$WORK"
chmod 644 "$WORK/big.xip"
limit_kb=$((64 << 10))

# rss_kb PID: the daemon's resident memory, from the kernel.
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

: >"$WORK/xipfs.log"
xipfs_mount "$WORK/big.xip" "$WORK/mnt" -o "stats=$STATS"
cat "$WORK/mnt"/f* | cmp - <(cat "$WORK/big"/f*) || fail "bytes differ"
rss=$(rss_kb "$XIPFS_PID")
xipfs_unmount "$WORK/mnt"
[ "$(counter read.mode)" = copy ] || fail "root's mount does not read by copy"
[ "$rss" -lt "$limit_kb" ] ||
	fail "after 256 MiB read by copy the daemon's RSS is $rss kB"
[ "$(counter read.trims)" -gt 0 ] || fail "no trim: $(cat "$STATS")"
ok "root, read by copy: RSS $rss kB after 256 MiB read ($(counter read.trims) trims)"

mkdir "$WORK/umnt" "$WORK/ustats"
chown nobody "$WORK/umnt" "$WORK/ustats"
ustats=$WORK/ustats/s.json
: >"$WORK/user.log"
mounted="$WORK/umnt $mounted"
start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f -o "stats=$ustats" "$WORK/big.xip" "$WORK/umnt"
upid=${daemon_pid[user]}
as_user sh -c "cat '$WORK/umnt'/f*" | cmp - <(cat "$WORK/big"/f*) ||
	fail "user mount: bytes differ"
rss=$(rss_kb "$upid")
as_user fusermount3 -u "$WORK/umnt" || fail "user cannot unmount"
wait "$upid" || fail "user daemon failed: $(cat "$WORK/user.log")"
mode=$(stats_get "$ustats" read.mode) || fail "user mount: no stats record"
[ "$rss" -lt "$limit_kb" ] ||
	fail "after 256 MiB read by $mode as a user the daemon's RSS is $rss kB"
ok "a normal user, read by $mode: RSS $rss kB after 256 MiB read"
