#!/bin/bash
# FUSE passthrough onto reflinked extents.  On loop-mounted xfs (reflink=1)
# and btrfs: every byte of files of many sizes reads right through read()
# and mmap, and the daemon served not one READ for block-aligned files;
# packed files still read by copy.  Where a precondition fails (tmpfs,
# ext4, no CAP_SYS_ADMIN, a libfuse without the API) auto falls back with a
# one-line reason and works, and passthrough=on refuses to mount.  With
# verify (the default) a file with a damaged block is not passed through:
# its READs get EIO.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd losetup
need_cmd mkfs.xfs
need_cmd mkfs.btrfs
need_cmd mkfs.ext4
need_cmd setfacl

T=$WORK/tree
mkdir -p "$T/d"
for n in 1 4095 4096 4097 65537 5242880; do head -c $n /dev/urandom >"$T/f$n"; done
cp "$T/f4097" "$T/d/copy-of-f4097"	# deduplicated in the image
: >"$T/empty"
files="f1 f4095 f4096 f4097 f65537 f5242880 d/copy-of-f4097 empty"
"$MKXIPFS" -q "$T" "$WORK/aligned.xip"
"$MKXIPFS" -q --pack-small=4096 "$T" "$WORK/packed.xip"
mnt=$WORK/mnt

# Loop-mounted file systems made here; undone on exit.
fsmounts=""
undo_fs() { for m in $fsmounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done; }
cleanup_hooks="unmount_all undo_fs $cleanup_hooks"
make_fs() {	# make_fs TYPE SIZE -> mounted at $WORK/fs-TYPE
	truncate -s "$2" "$WORK/$1.disk"
	case $1 in
	xfs) mkfs.xfs -q -m reflink=1 -f "$WORK/$1.disk";;
	btrfs) mkfs.btrfs -q -f "$WORK/$1.disk" >/dev/null;;
	ext4) mkfs.ext4 -q -F "$WORK/$1.disk";;
	esac
	mkdir -p "$WORK/fs-$1"
	mount -o loop "$WORK/$1.disk" "$WORK/fs-$1" || fail "cannot mount $1"
	fsmounts="$WORK/fs-$1 $fsmounts"
	chmod 755 "$WORK/fs-$1"
}

# Every file through read() and mmap, compared with the tree.
compare_all() {
	python3 "$top_srcdir/tests/mount_check.py" same "$T" "$mnt" $files || fail "$1: contents differ"
}

if ! "$XIPFS" --version | grep -q 'passthrough yes'; then
	# A libfuse without the API: auto falls back, on refuses.
	expect_error "passthrough=on: this libfuse has no passthrough API" \
		"$XIPFS" -o passthrough=on "$WORK/aligned.xip" "$WORK"
	xipfs_mount "$WORK/aligned.xip" "$mnt"
	compare_all "no passthrough API"
	xipfs_unmount "$mnt"
	[ ! -s "$WORK/xipfs.log" ] || fail "auto said more than nothing: $(cat "$WORK/xipfs.log")"
	xipfs_mount "$WORK/aligned.xip" "$mnt" -v
	xipfs_unmount "$mnt"
	grep -q "passthrough off: this libfuse has no passthrough API" "$WORK/xipfs.log" ||
		fail "no reason logged: $(cat "$WORK/xipfs.log")"
	without passthrough "this libfuse has no passthrough API: auto falls back (quietly; -v says why), on refuses"
fi

for fs in xfs btrfs; do
	make_fs $fs 512M
	cp "$WORK/aligned.xip" "$WORK/packed.xip" "$WORK/fs-$fs/"
	: >"$WORK/xipfs.log"
	# passthrough_min=0: every block-aligned file passes through
	xipfs_mount "$WORK/fs-$fs/aligned.xip" "$mnt" -o "passthrough=on,passthrough_min=0,stats=$STATS"
	compare_all "$fs"
	compare_all "$fs, again"	# second opens reuse the backing ids
	xipfs_unmount "$mnt"
	reads=$(counter ops.READ)
	[ "$reads" = 0 ] || fail "$fs: the daemon served $reads READs: $(cat "$STATS")"
	opens=$(counter passthrough.opens)
	# Two passes over 7 non-empty files (the empty one needs no clone).
	[ "$opens" -ge 14 ] || fail "$fs: $opens passthrough opens: $(cat "$STATS")"
	[ "$(counter passthrough.backing_live)" = 0 ] || fail "$fs: backing files left: $(cat "$STATS")"
	ok "$fs: $opens passthrough opens, no READ request"

	# The default threshold (1M): only f5242880 passes through, the
	# smaller files go to the page cache (READs, no clones); a private
	# writable mapping of a passed-through file changes the mapping only.
	: >"$WORK/xipfs.log"
	xipfs_mount "$WORK/fs-$fs/aligned.xip" "$mnt" -o "passthrough=on,stats=$STATS"
	compare_all "$fs, passthrough_min"
	python3 "$top_srcdir/tests/mount/private_write.py" "$mnt/f5242880" "$T/f5242880" || fail "$fs: MAP_PRIVATE write under passthrough"
	xipfs_unmount "$mnt"
	small=$(counter passthrough.below_min)
	[ "$(counter ops.READ)" -gt 0 ] || fail "$fs: small files passed through: $(cat "$STATS")"
	[ "$small" -ge 6 ] || fail "$fs: $small opens below passthrough_min: $(cat "$STATS")"
	[ "$(counter passthrough.opens)" -gt 0 ] || fail "$fs: the 5 MiB file did not pass through: $(cat "$STATS")"
	ok "$fs: files under passthrough_min by the page cache ($small opens), the big one passed through; MAP_PRIVATE writes stay private"

	: >"$WORK/xipfs.log"
	xipfs_mount "$WORK/fs-$fs/packed.xip" "$mnt" -o "stats=$STATS"
	compare_all "$fs, packed image"
	xipfs_unmount "$mnt"
	[ "$(counter ops.READ)" -gt 0 ] || fail "$fs: packed files were not read by copy"
	[ "$(counter passthrough.opens)" -gt 0 ] || fail "$fs: no passthrough for aligned files"
	ok "$fs: packed files by copy, aligned ones passed through"

	[ $fs = xfs ] || continue
	# Verify (the default) checks every block of a file before the
	# kernel gets a clone of them: one flipped byte in f65537, and its
	# open goes to the page cache, where its READ gets EIO.
	cp "$WORK/aligned.xip" "$WORK/fs-$fs/bad.xip"
	at=$(python3 "$top_srcdir/tests/stored_at.py" "$WORK/aligned.xip" /f65537 | awk '$1 == "/f65537" {print $2}')
	python3 "$top_srcdir/tests/xipimg.py" "$WORK/fs-$fs/bad.xip" flip $((at + 40000))
	: >"$WORK/xipfs.log"
	xipfs_mount "$WORK/fs-$fs/bad.xip" "$mnt" -o "passthrough=on,passthrough_min=0,stats=$STATS"
	expect_error "Input/output error" cat "$mnt/f65537"
	python3 "$top_srcdir/tests/mount_check.py" same "$T" "$mnt" $(echo $files | sed 's/f65537//') ||
		fail "$fs: intact files differ beside a damaged one"
	xipfs_unmount "$mnt"
	[ "$(counter passthrough.damaged)" = 1 ] || fail "$fs: damaged file: $(cat "$STATS")"
	[ "$(counter passthrough.opens)" -ge 6 ] || fail "$fs: intact files did not pass through: $(cat "$STATS")"
	ok "$fs: the damaged file is not passed through (EIO by READ), the intact ones are"
done

# Preconditions that fail: tmpfs and ext4 cannot clone.
make_fs ext4 64M
for dir in "$WORK/fs-ext4" /dev/shm; do
	img=$(mktemp "$dir/xipfs-test.XXXXXX")
	cp "$WORK/aligned.xip" "$img"
	expect_error "passthrough=on: cannot clone the image" "$XIPFS" -o passthrough=on "$img" "$WORK"
	: >"$WORK/xipfs.log"
	xipfs_mount "$img" "$mnt"
	compare_all "fallback on $dir"
	xipfs_unmount "$mnt"
	[ ! -s "$WORK/xipfs.log" ] || fail "$dir: auto said more than nothing: $(cat "$WORK/xipfs.log")"
	xipfs_mount "$img" "$mnt" -v
	xipfs_unmount "$mnt"
	[ "$(grep -c 'passthrough off: cannot clone the image' "$WORK/xipfs.log")" = 1 ] ||
		fail "$dir: no single reason line: $(cat "$WORK/xipfs.log")"
	rm -f "$img"
done
ok "ext4 and tmpfs: auto falls back (quietly; -v says why), on refuses"

# A normal user has no CAP_SYS_ADMIN: on refuses, auto falls back and works.
fuse_open_to nobody
mkdir "$WORK/umnt" && chown nobody "$WORK/umnt"
expect_error "passthrough=on: registering backing files needs CAP_SYS_ADMIN" \
	as_user "$XIPFS" -o passthrough=on "$WORK/fs-xfs/aligned.xip" "$WORK/umnt"
: >"$WORK/user.log"
mounted="$WORK/umnt $mounted"
start_daemon user "$WORK/user.log" "$WORK/umnt" as_user "$XIPFS" -f -v "$WORK/fs-xfs/aligned.xip" "$WORK/umnt"
upid=${daemon_pid[user]}
as_user cat "$WORK/umnt/f4097" | cmp -s - "$T/f4097" || fail "user read differs"
as_user fusermount3 -u "$WORK/umnt" || fail "user unmount failed"
wait $upid || fail "user daemon exited with $?"
grep -q "passthrough off: registering backing files needs CAP_SYS_ADMIN" "$WORK/user.log" ||
	fail "no reason for the user mount: $(cat "$WORK/user.log")"
ok "a normal user: on refuses, auto falls back and reads"
