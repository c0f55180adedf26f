#!/bin/bash
# A remote source when things go wrong, and as a normal user: a server
# killed in the middle of a transfer, a server that stops answering
# (remote_timeout=), an object removed (404), a cache directory that fills
# up: each gives EIO for the reads that need missing bytes, within the
# bounded tries, never a hang or a dead daemon; the metadata keeps
# answering, and reads resume once the server is back.  Then a user
# (nobody) mounts and reads the tree through fusermount3.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/remote/nginx.sh"

T=$WORK/tree
mkdir -p "$T/sub"
printf 'hello, remote\n' >"$T/small.txt"
head -c 3000000 /dev/urandom >"$T/big"
head -c 200000 /dev/urandom >"$T/sub/data"
"$MKXIPFS" -q "$T" "$WWW/img.xip"
mkdir -p "$WWW/slow"
ln "$WWW/img.xip" "$WWW/slow/img.xip"
# /slow/: 200 KB/s, so a transfer is still running when nginx is killed;
NGINX_EXTRA='location /slow/ { limit_rate 200k; }'
nginx_start
mnt=$WORK/mnt
opts="cache=$WORK/c,stats=$STATS,remote_timeout=2,remote_retries=1,remote_chunk=64K,remote_readahead=64K"

# Killed mid-transfer: the reader gets EIO, the daemon lives on.
xipfs_mount "http://127.0.0.1:$PORT/slow/img.xip" "$mnt" -o "$opts"
cat "$mnt/big" >/dev/null 2>"$WORK/cat.err" & reader=$!
sleep 1
nginx_stop
set +e
wait $reader
st=$?
set -e
[ $st != 0 ] && grep -q "Input/output error" "$WORK/cat.err" ||
	fail "reading while the server died: status $st, $(cat "$WORK/cat.err")"
kill -0 "$XIPFS_PID" || fail "the daemon died"
ls "$mnt/sub" >/dev/null || fail "the metadata stopped answering"
cmp "$T/small.txt" "$mnt/small.txt" 2>/dev/null &&
	fail "small.txt read with no server and no cache of its block"
# Back: the same reads succeed.
nginx_start "$PORT"
cmp "$T/big" "$mnt/big" || fail "big reads wrong once the server is back"
cmp "$T/small.txt" "$mnt/small.txt" || fail "small.txt reads wrong once the server is back"
xipfs_unmount "$mnt"
remote_counters
[ "$r_failures" -ge 1 ] && [ "$r_retries" -ge 1 ] ||
	fail "failures and retries not counted: $(cat "$STATS")"
ok "server killed mid-read: EIO ($r_failures requests given up after $r_retries retries), then reads resume"

# A server that stops answering (stopped, its connections open):
# remote_timeout= bounds each try; once it answers again, reads resume.
xipfs_mount "http://127.0.0.1:$PORT/img.xip" "$mnt" -o "cache=$WORK/c2,remote_timeout=2,remote_retries=1"
kill -STOP "$NGINX_PID"
expect_error "Input/output error" cat "$mnt/sub/data"
kill -CONT "$NGINX_PID"
kill -0 "$XIPFS_PID" || fail "the daemon died"
cmp "$T/sub/data" "$mnt/sub/data" || fail "sub/data reads wrong once the server answers"
xipfs_unmount "$mnt"
grep -q "Timeout was reached" "$WORK/xipfs.log" || fail "no timeout said: $(tail -3 "$WORK/xipfs.log")"
ok "a server that stops answering: EIO after remote_timeout=, then reads resume"

# Removed: 404, said in the log.
cp "$WWW/img.xip" "$WWW/gone.xip"
xipfs_mount "http://127.0.0.1:$PORT/gone.xip" "$mnt" -o "cache=$WORK/c3,remote_retries=0"
rm "$WWW/gone.xip"
expect_error "Input/output error" cat "$mnt/sub/data"
xipfs_unmount "$mnt"
grep -q "HTTP status 404" "$WORK/xipfs.log" || fail "no 404 said: $(tail -3 "$WORK/xipfs.log")"
ok "an object removed: EIO, 404 said"

# A cache on a full file system: EIO for what cannot be stored.
small=$WORK/small-fs
mkdir -p "$small"
mount -t tmpfs -o size=512k tmpfs "$small"
mounted="$small $mounted"
xipfs_mount "http://127.0.0.1:$PORT/img.xip" "$mnt" -o "cache=$small"
cmp "$T/small.txt" "$mnt/small.txt" || fail "small.txt reads wrong"
expect_error "Input/output error" cat "$mnt/big"
kill -0 "$XIPFS_PID" || fail "the daemon died"
xipfs_unmount "$mnt"
umount "$small"
grep -q "writing the cache: No space left on device" "$WORK/xipfs.log" ||
	fail "no full cache said: $(tail -3 "$WORK/xipfs.log")"
ok "a full cache: EIO for the rest, the small file read"

# A normal user: the daemon as nobody, its cache its own.
fuse_open_to nobody
um=$WORK/user-mnt
mkdir -p "$um" "$WORK/user-cache"
chown nobody:nogroup "$um" "$WORK/user-cache"
env --default-signal=INT,HUP setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	"$XIPFS" -f -o "cache=$WORK/user-cache" "http://127.0.0.1:$PORT/img.xip" "$um" \
	2>>"$WORK/xipfs.log" & upid=$!
user_unmount() { as_user fusermount3 -u "$um" 2>/dev/null || true; }
cleanup_hooks="user_unmount $cleanup_hooks"
for _ in $(seq 1 200); do
	grep -q " $um " /proc/self/mounts && break
	kill -0 $upid 2>/dev/null || fail "the user's daemon ended: $(tail -3 "$WORK/xipfs.log")"
	sleep 0.05
done
for f in small.txt big sub/data; do
	as_user cmp "$T/$f" "$um/$f" || fail "the user's mount reads $f wrong"
done
[ "$(as_user find "$um" | wc -l)" = 5 ] || fail "the user's mount lists: $(as_user find "$um")"
as_user fusermount3 -u "$um" || fail "the user cannot unmount"
wait $upid || fail "the user's daemon exited with $?"
[ "$(stat -c %U "$WORK/user-cache"/*.img)" = nobody ] || fail "the cache is not the user's"
ok "a normal user mounts a URL and reads the tree"
