#!/bin/bash
# -o profile=FILE lists what was used whatever served it, and is written
# only where it was asked for:
# 1. with push-ahead on (the default), files whose data was pushed into the
#    page cache (so no READ ever came) are listed all the same: every file
#    read is in the profile, and push-ahead did push;
# 2. a root daemon whose profile directory a user owns: the user swaps the
#    directory for a symlink after the mount; the profile goes to the
#    directory opened at mount, never through the symlink;
# 3. a symlink planted at the profile's own name is replaced, not followed;
# 4. a damaged directory entry hides no file read from the profile.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd python3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

# 20 small files that start like ELF files (the profile lists ELF files
# read), in one directory, read in directory order.
nfiles=20
python3 "$top_srcdir/tests/mount/elf_tree.py" "$WORK/tree" "$nfiles"
echo untouched >"$WORK/tree/untouched"
"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
chmod 755 "$WORK"
chmod 644 "$WORK/img.xip"
mnt=$WORK/mnt

listed() { grep -v '^[[:space:]]*#' "$1" | grep . || true; }

# ---- 1. push-ahead on: every file read is listed
prof=$WORK/prof/xip.list
mkdir -p "$WORK/prof"
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -o profile="$prof",push=on,stats="$STATS"
ls "$mnt/lib" >/dev/null
# The first file read starts push-ahead; the rest are read only once the
# daemon's stats record (SIGUSR1) counts them all pushed, so that the reads of
# the others cannot reach the daemon first, whatever the machine's load.
cmp "$mnt/lib/f00.so" "$WORK/tree/lib/f00.so" || fail "lib/f00.so differs"
for _ in $(seq 1 600); do
	stats_now "$STATS" "$XIPFS_PID" || fail "no stats record after SIGUSR1"
	n=$(counter push.files)
	[ "${n:-0}" -ge $((nfiles - 1)) ] && break
	sleep 0.1
done
[ "${n:-0}" -ge $((nfiles - 1)) ] ||
	fail "push-ahead pushed ${n:-no} files of $((nfiles - 1)), so this would prove nothing: $(cat "$WORK/xipfs.log")"
(cd "$mnt/lib" && cat -- *) | cmp - <(cd "$WORK/tree/lib" && cat -- *) ||
	fail "the files read through the mount differ from the tree"
xipfs_unmount "$mnt"
n=$(counter push.files)
listed "$prof" >"$WORK/listed"
(cd "$WORK/tree" && ls lib/*) >"$WORK/want"
missing=$(comm -23 "$WORK/want" <(sort "$WORK/listed"))
[ -z "$missing" ] ||
	fail "$(echo "$missing" | wc -l) of $nfiles files read are not in the profile ($n pushed): $(echo $missing)"
! grep -q untouched "$prof" || fail "a file never opened is in the profile"
ok "push=on: all $nfiles files read are listed ($n of them pushed)"

# ---- 2. the profile directory swapped for a symlink after the mount
# The user nobody owns $WORK/home; root's daemon writes its profile there.
home=$WORK/home
mkdir -p "$home/dir" "$WORK/secret"
chown -R nobody "$home"
chmod 700 "$WORK/secret"	# root's: the user cannot write here
: >"$WORK/xipfs.log"
xipfs_mount "$WORK/img.xip" "$mnt" -o profile="$home/dir/xip.list"
as_user mv "$home/dir" "$home/dir.old"
as_user ln -s "$WORK/secret" "$home/dir"
cat "$mnt/lib/f00.so" >/dev/null
xipfs_unmount "$mnt"
[ -z "$(ls -A "$WORK/secret")" ] ||
	fail "root's daemon wrote through the swapped-in symlink: $(ls -A "$WORK/secret")"
listed "$home/dir.old/xip.list" | grep -qx lib/f00.so ||
	fail "the profile is not in the directory opened at mount: $(ls -A "$home/dir.old") $(cat "$WORK/xipfs.log")"
[ "$(ls -A "$home/dir.old")" = xip.list ] ||
	fail "a temporary file was left: $(ls -A "$home/dir.old")"
ok "a directory swapped for a symlink after the mount: the profile stays in the one opened"

# ---- 3. a symlink at the profile's name is replaced, never followed
rm -rf "$home/dir"
mkdir "$home/dir" && chown nobody "$home/dir"
echo keep >"$WORK/secret/victim"
as_user ln -s "$WORK/secret/victim" "$home/dir/xip.list"
xipfs_mount "$WORK/img.xip" "$mnt" -o profile="$home/dir/xip.list"
cat "$mnt/lib/f01.so" >/dev/null
xipfs_unmount "$mnt"
[ "$(cat "$WORK/secret/victim")" = keep ] || fail "the profile was written through a symlink at its name"
[ -f "$home/dir/xip.list" ] && [ ! -L "$home/dir/xip.list" ] ||
	fail "the symlink at the profile's name was not replaced"
listed "$home/dir/xip.list" | grep -qx lib/f01.so || fail "the new profile lacks lib/f01.so"
ok "a symlink at the profile's name is replaced, not followed"

# ---- 4. a damaged directory entry hides no other file from the profile
# (its walk of the image skips the entry, as a listing does)
cp "$WORK/img.xip" "$WORK/bad.xip"
python3 "$top_srcdir/tests/xipimg.py" "$WORK/bad.xip" set-dirent f05.so type 99
prof=$WORK/prof/bad.list
xipfs_mount "$WORK/bad.xip" "$mnt" -o profile="$prof",push=off
for i in 00 04 06 19; do
	cat "$mnt/lib/f$i.so" >/dev/null || fail "lib/f$i.so cannot be read beside a damaged entry"
done
xipfs_unmount "$mnt"
[ "$(listed "$prof" | sort | tr '\n' ' ')" = "lib/f00.so lib/f04.so lib/f06.so lib/f19.so " ] ||
	fail "beside a damaged entry the profile lists: $(listed "$prof" | tr '\n' ' ')"
ok "a damaged entry: the files read beside it are all in the profile"
