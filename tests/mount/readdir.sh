#!/bin/bash
# A mounted directory of 100,000 entries lists completely, once each, and
# its telldir()/seekdir() positions stay valid (tests/mount/dirseek.c), with
# READDIRPLUS and with plain READDIR.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd fusermount3
[ -w /dev/fuse ] || skip "needs /dev/fuse"

dirseek="$top_builddir/tests/mount/dirseek"
if [ ! -x "$dirseek" ]; then
	need_cmd cc
	dirseek="$WORK/dirseek"
	cc -std=gnu11 -O2 -o "$dirseek" "$top_srcdir/tests/mount/dirseek.c"
fi

# The directory comes from a tar stream, so no 100,000 files are created
# on the build host.  Names of varied lengths (up to 255) make the reply
# buffers fill at different points; a few entries are directories and
# symbolic links, so that the types readdir reports vary.
python3 "$top_srcdir/scripts/gen-tree.py" --kind names-tar --files 100000 \
	--names "$WORK/names" - | "$MKXIPFS" -q - "$WORK/big.xip"
LC_ALL=C sort "$WORK/names" >"$WORK/names.sorted"
printf '.\n..\n' | cat - "$WORK/names" | LC_ALL=C sort >"$WORK/all.sorted"
mnt="$WORK/mnt"

check_listing() {
	how=$1 seed=$2
	"$dirseek" -n 1000 -s "$seed" "$mnt/big" "$WORK/names" >/dev/null ||
		fail "$how: dirseek found mismatches"
	n=$(ls -U "$mnt/big" | wc -l)
	[ "$n" = 100000 ] || fail "$how: ls -U lists $n entries"
	ls -f "$mnt/big" | LC_ALL=C sort | cmp -s - "$WORK/all.sorted" ||
		fail "$how: ls -f gives other names"
	# find reads types from readdir and, for -empty and -printf %s,
	# attributes from READDIRPLUS or from a LOOKUP per entry.
	find "$mnt/big" -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cmp -s - "$WORK/names.sorted" || fail "$how: find gives other names"
	counts=$(find "$mnt/big" -mindepth 1 -printf '%y%s\n' | sort | uniq -c |
		awk '{printf "%s:%s ", $2, $1}')
	[ "$counts" = "d0:5 f0:99990 l7:5 " ] ||
		fail "$how: types and sizes found: $counts"
	n=$(find "$mnt" -type f -empty | wc -l)
	[ "$n" = 99990 ] || fail "$how: find -type f -empty finds $n"
}

xipfs_mount "$WORK/big.xip" "$mnt"
check_listing readdirplus 1
xipfs_unmount "$mnt"
ok "100,000 entries with READDIRPLUS"

xipfs_mount "$WORK/big.xip" "$mnt" -o readdirplus=no
check_listing readdir 2
xipfs_unmount "$mnt"
daemon_quiet
ok "100,000 entries with READDIR"

# That the two runs took the two paths: the requests a listing makes.
for opt in readdirplus=yes readdirplus=no; do
	: >"$WORK/xipfs.log"
	xipfs_mount "$WORK/big.xip" "$mnt" -d -o "$opt"
	ls -l "$mnt" >/dev/null
	xipfs_unmount "$mnt"
	grep -o 'opcode: READDIR[A-Z]*' "$WORK/xipfs.log" | sort -u >"$WORK/ops"
	case $opt in
	*=yes) want="opcode: READDIRPLUS" ;;
	*=no) want="opcode: READDIR" ;;
	esac
	[ "$(cat "$WORK/ops")" = "$want" ] ||
		fail "$opt: listing used $(cat "$WORK/ops"), not $want"
done
ok "readdirplus=no switches READDIRPLUS off"
