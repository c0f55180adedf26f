#!/bin/bash
# A remote source over http and https from nginx on loopback: the tree
# reads exactly; one small file costs a bounded number of bytes; a second
# mount reuses the cache (one request); a fully cached image mounts
# offline; two daemons with caches of their own read one server at once;
# a flipped byte on the server gives EIO, never the byte; an object that
# changes under the mount is refused; https needs the right CA; s3:// is
# signed with SigV4 (nginx logs the Authorization header).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/remote/nginx.sh"

T=$WORK/tree
mkdir -p "$T/sub/deeper"
printf 'hello, remote\n' >"$T/small.txt"
head -c 3000000 /dev/urandom >"$T/big"
head -c 70000 /dev/urandom >"$T/sub/seventy-k"
head -c 5000 /dev/urandom >"$T/sub/deeper/five-k"
cp /bin/ls "$T/sub/ls"
ln -s small.txt "$T/link"
"$MKXIPFS" -q "$T" "$WWW/img.xip"
make_certificate
nginx_start
URL=http://127.0.0.1:$PORT/img.xip
mnt=$WORK/mnt

# One small file: the first GET (64K), the metadata and table, one chunk.
xipfs_mount "$URL" "$mnt" -o "cache=$WORK/c1,stats=$STATS"
cmp "$T/small.txt" "$mnt/small.txt" || fail "small.txt reads wrong"
xipfs_unmount "$mnt"
remote_counters
[ "$r_requests" -le 4 ] && [ "$r_bytes" -le $((400 * 1024)) ] ||
	fail "one small file cost $r_requests requests, $r_bytes bytes"
ok "one small file of a $(stat -c %s "$WWW/img.xip")-byte image: $r_requests requests, $r_bytes bytes"

# The whole tree, exactly; the daemon's counters agree with nginx's log.
: >"$WORK/access.log"
xipfs_mount "$URL" "$mnt" -o "cache=$WORK/c1,stats=$STATS"
python3 "$TREECMP" "$T" "$mnt" || fail "the tree reads wrong over http"
# no direct mapping: the bytes are in no local source
expect_error "the mount's source is a URL" "$XIPFS_MAP" "$mnt/sub/ls"
xipfs_unmount "$mnt"
remote_counters
[ "$r_requests" = "$(requests_logged)" ] ||
	fail "$r_requests requests counted, nginx saw $(requests_logged)"
[ "$r_crc_failures" = 0 ] && [ "$r_failures" = 0 ] ||
	fail "failures on a good server: $(cat "$STATS")"
ok "the tree reads exactly: $r_requests requests, $r_bytes bytes, $r_cache_checked blocks from the cache"

# An image without the metadata CRC table (--no-meta-crc, as older
# mkxipfs wrote them) mounts and reads as well.
"$MKXIPFS" -q --no-meta-crc "$T" "$WWW/old.xip"
xipfs_mount "http://127.0.0.1:$PORT/old.xip" "$mnt" -o "cache=$WORK/c-old"
python3 "$TREECMP" "$T" "$mnt" || fail "an image without metadata CRCs reads wrong"
xipfs_unmount "$mnt"
ok "an image without the metadata CRC table reads exactly"

# Again: everything is in the cache; only the first GET goes out.
xipfs_mount "$URL" "$mnt" -o "cache=$WORK/c1,stats=$STATS"
python3 "$TREECMP" "$T" "$mnt" || fail "the tree reads wrong from the cache"
xipfs_unmount "$mnt"
remote_counters
[ "$r_requests" = 1 ] && [ "$r_blocks_fetched" = 0 ] ||
	fail "a cached image fetched again: $(cat "$STATS")"
ok "second mount: 1 request, $r_cache_checked blocks checked from the cache"

# Offline: the server gone, the cache this URL used is mounted.
nginx_stop
xipfs_mount "$URL" "$mnt" -o "cache=$WORK/c1,stats=$STATS,remote_retries=0,remote_timeout=2"
python3 "$TREECMP" "$T" "$mnt" || fail "the tree reads wrong offline"
xipfs_unmount "$mnt"
remote_counters
[ "$r_offline" = 1 ] || fail "not offline: $(cat "$STATS")"
grep -q "not reachable; mounting its cache" "$WORK/xipfs.log" || fail "no word of the offline mount"
ok "offline mount of the cache reads the tree"
nginx_start "$PORT"

# Two daemons, caches of their own, reading the server at once.
xipfs_mount "$URL" "$WORK/m1" -o "cache=$WORK/c2"
xipfs_mount "$URL" "$WORK/m2" -o "cache=$WORK/c3"
python3 "$TREECMP" "$T" "$WORK/m1" >"$WORK/t1" 2>&1 & p1=$!
python3 "$TREECMP" "$T" "$WORK/m2" >"$WORK/t2" 2>&1 & p2=$!
wait $p1 || fail "daemon 1 read wrong: $(cat "$WORK/t1")"
wait $p2 || fail "daemon 2 read wrong: $(cat "$WORK/t2")"
unmount "$WORK/m1" clean && unmount "$WORK/m2" clean || fail "cannot unmount"
ok "two daemons read one server at once"

# https: refused without the CA, read with it (cacert=).
TLS=https://127.0.0.1:$TLS_PORT/img.xip
expect_error "certificate" "$XIPFS" -f -o "cache=$WORK/c4" "$TLS" "$mnt"
xipfs_mount "$TLS" "$mnt" -o "cache=$WORK/c4,cacert=$WORK/tls.crt"
python3 "$TREECMP" "$T" "$mnt" || fail "the tree reads wrong over https"
xipfs_unmount "$mnt"
ok "https: refused without the CA, read exactly with cacert="

# A flipped byte in big on the server: EIO for big, the rest reads.
off=$(python3 "$top_srcdir/tests/stored_at.py" "$WWW/img.xip" /big | awk '$1 == "/big" {print $2 + 100000}')
cp "$WWW/img.xip" "$WWW/bad.xip"
python3 "$top_srcdir/tests/xipimg.py" "$WWW/bad.xip" flip "$off"
xipfs_mount "http://127.0.0.1:$PORT/bad.xip" "$mnt" -o "cache=$WORK/c5,stats=$STATS"
expect_error "Input/output error" cat "$mnt/big"
cmp "$T/sub/ls" "$mnt/sub/ls" || fail "an undamaged file reads wrong"
xipfs_unmount "$mnt"
remote_counters
[ "$r_crc_failures" -ge 2 ] || fail "crc_failures: $(cat "$STATS")"
ok "a flipped byte on the server: EIO (fetched twice), other files read"

# The object changes under the mount: what is cached still reads, a
# fetch is refused (412 or a new ETag), never mixed.
cp "$WWW/img.xip" "$WWW/moving.xip"
xipfs_mount "http://127.0.0.1:$PORT/moving.xip" "$mnt" -o "cache=$WORK/c6,stats=$STATS"
cmp "$T/small.txt" "$mnt/small.txt" || fail "small.txt reads wrong"
cp "$WWW/bad.xip" "$WWW/moving.new" && touch -d '1 hour ago' "$WWW/moving.new"
mv "$WWW/moving.new" "$WWW/moving.xip"
expect_error "Input/output error" cat "$mnt/sub/ls"
cmp "$T/small.txt" "$mnt/small.txt" || fail "the cached file reads wrong"
xipfs_unmount "$mnt"
grep -q "the object changed" "$WORK/xipfs.log" || fail "no word of the change: $(tail -3 "$WORK/xipfs.log")"
ok "a changed object is refused"

# s3://: signed (SigV4, libcurl) for the endpoint given.
mkdir -p "$WWW/bucket"
ln "$WWW/img.xip" "$WWW/bucket/img.xip"
AWS_ACCESS_KEY_ID=AKIDXIPFSTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=xx-test-1 \
	xipfs_mount "s3://bucket/img.xip" "$mnt" -o "cache=$WORK/c7,s3_endpoint=http://127.0.0.1:$PORT"
cmp "$T/sub/seventy-k" "$mnt/sub/seventy-k" || fail "s3: reads wrong"
xipfs_unmount "$mnt"
grep '^GET /bucket/img.xip' "$WORK/access.log" | grep -q '"AWS4-HMAC-SHA256 Credential=AKIDXIPFSTEST/[0-9]*/xx-test-1/s3/aws4_request, SignedHeaders=[^ ]*x-amz-content-sha256[^ ]*, Signature=[0-9a-f]\{64\}"' ||
	fail "s3: no SigV4 request: $(grep bucket "$WORK/access.log" | head -2)"
ok "s3:// requests carry a SigV4 signature"
