#!/bin/bash
# What a mount costs the machine, by count (never by time): the daemon's
# resident memory stays far below the size of what it served (an image of
# 192 MiB read whole, by copy as root and by splice as a normal user;
# before, every page of the image it copied from stayed mapped in it), and
# the requests a walk of a tree sends per directory (OPENDIR, RELEASEDIR,
# READDIRPLUS, cold and warm).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

# 1. Six files of 32 MiB, each of its own bytes (no two stored once).
mkdir -p "$WORK/big"
python3 - "$WORK/big" <<'EOF'
import os, random, sys
for i in range(6):
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
	fail "after 192 MiB read by copy the daemon's RSS is $rss kB"
[ "$(counter read.trims)" -gt 0 ] || fail "no trim: $(cat "$STATS")"
ok "root, read by copy: RSS $rss kB after 192 MiB read ($(counter read.trims) trims)"

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
	fail "after 192 MiB read by $mode as a user the daemon's RSS is $rss kB"
ok "a normal user, read by $mode: RSS $rss kB after 192 MiB read"

# 2. The requests of a walk (find) of 60 directories of 3 entries, cold
# then warm: the first OPENDIR is answered ENOSYS, so there is one OPENDIR
# and no RELEASEDIR at all, and the kernel still keeps the listings (the
# warm walk sends no READDIRPLUS); -o open answers each OPENDIR.  A walk
# in which the kernel forgot inodes or dropped the page cache, where it
# keeps the listings (another test's drop_caches on this machine), counts
# nothing and is run again.
ndirs=60
for i in $(seq 1 $ndirs); do
	mkdir -p "$WORK/walk/d$i/sub"
	echo "$i" >"$WORK/walk/d$i/f"
done
"$MKXIPFS" -q "$WORK/walk" "$WORK/walk.xip"
dirs=$((ndirs * 2 + 1))

# walk_counts MNT: cold and warm find; sets opendirs, releasedirs, cold
# (READDIRPLUS of the first walk) and warm (of the second), or returns 1
# when the kernel forgot inodes or someone dropped the caches meanwhile.
walk_counts() {
	local forgets rdp drops
	drops=$(page_cache_drops)
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	forgets=$(counter ops.FORGET) rdp=$(counter ops.READDIRPLUS)
	find "$1" >/dev/null
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	cold=$(($(counter ops.READDIRPLUS) - rdp))
	find "$1" >/dev/null
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	warm=$(($(counter ops.READDIRPLUS) - rdp - cold))
	opendirs=$(counter ops.OPENDIR) releasedirs=$(counter ops.RELEASEDIR)
	[ "$(counter ops.FORGET)" = "$forgets" ] && [ "$(page_cache_drops)" = "$drops" ]
}

# walk OPTS: mount with OPTS, walk_counts until a walk is undisturbed.
walk() {
	for _ in 1 2 3 4 5; do
		: >"$WORK/xipfs.log"
		xipfs_mount "$WORK/walk.xip" "$WORK/mnt" -o "stats=$STATS$1"
		if walk_counts "$WORK/mnt"; then
			xipfs_unmount "$WORK/mnt"
			return 0
		fi
		xipfs_unmount "$WORK/mnt"
	done
	fail "the kernel forgot inodes or the caches were dropped in each of 5 walks"
}

walk ""
[ "$opendirs" -le 1 ] && [ "$releasedirs" = 0 ] ||
	fail "a walk of $dirs directories sent $opendirs OPENDIR, $releasedirs RELEASEDIR"
[ "$cold" -ge "$dirs" ] && [ "$warm" = 0 ] ||
	fail "READDIRPLUS: $cold in the cold walk of $dirs directories, $warm in the warm one"
ok "a walk of $dirs directories: $opendirs OPENDIR, 0 RELEASEDIR, $cold READDIRPLUS cold, none warm"

walk ",open"
[ "$opendirs" -ge $((dirs * 2)) ] && [ "$releasedirs" = "$opendirs" ] ||
	fail "-o open: $opendirs OPENDIR, $releasedirs RELEASEDIR for two walks of $dirs directories"
[ "$warm" = 0 ] || fail "-o open: $warm READDIRPLUS in the warm walk"
ok "-o open: $opendirs OPENDIR and RELEASEDIR for two walks"
