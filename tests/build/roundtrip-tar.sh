#!/bin/bash
# Tar input (GNU tar with --xattrs and --acls, from a file and from stdin,
# pax and gnu formats) gives the same tree as the directory it came from;
# a normal user can build a root-owned image with device nodes from a tar.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd setfattr
need_root

make_sample_tree "$WORK/tree"
acls=""
command -v setfacl >/dev/null && acls=--acls

for fmt in pax gnu; do
	tar --format=$fmt --xattrs --xattrs-include='*' $acls \
		-C "$WORK/tree" -cf "$WORK/$fmt.tar" .
	"$MKXIPFS" -q --tar "$WORK/$fmt.tar" "$WORK/$fmt.xip"
	"$XIPFSCK" "$WORK/$fmt.xip" || fail "$fmt: image does not verify"
	"$XIPFSCK" -q -x "$WORK/$fmt.out" "$WORK/$fmt.xip"
	# The gnu format has whole-second mtimes and no xattrs or ACLs:
	# compare what each format can hold.
	skipx=""
	[ $fmt = gnu ] && skipx="--mtime-sec --skip-xattr user. --skip-xattr security. --skip-xattr trusted. --skip-xattr system."
	python3 "$TREECMP" $skipx "$WORK/tree" "$WORK/$fmt.out" ||
		fail "$fmt tar round trip differs"
	ok "$fmt tar round trip"
done

# From standard input: byte-identical to the image made from the file.
"$MKXIPFS" -q --tar - "$WORK/stdin.xip" <"$WORK/pax.tar"
cmp "$WORK/stdin.xip" "$WORK/pax.xip" || fail "tar from stdin differs"
ok "tar from stdin"

# Tar and directory input agree too (same tree, same options).
"$MKXIPFS" -q "$WORK/tree" "$WORK/dir.xip"
"$XIPFSCK" -l "$WORK/dir.xip" >"$WORK/dir.list"
"$XIPFSCK" -l "$WORK/pax.xip" >"$WORK/pax.list"
diff "$WORK/dir.list" "$WORK/pax.list" || fail "tar and directory listings differ"
ok "tar and directory images list the same"

# A normal user turns a root-owned tar with devices into an image.
chmod 644 "$WORK/pax.tar"
chmod 777 "$WORK"
as_user "$MKXIPFS" -q --tar "$WORK/pax.tar" "$WORK/user.xip"
"$XIPFSCK" -l "$WORK/user.xip" >"$WORK/user.list"
grep ' /chr$' "$WORK/user.list" | grep -q '^ *[0-9]* *crw' ||
	fail "device node lost when built as a normal user"
grep ' /sub/five-k$' "$WORK/user.list" | grep -q ' 1234 *5678 ' ||
	fail "ownership lost when built as a normal user"
"$XIPFSCK" -q -x "$WORK/user.out" "$WORK/user.xip"
python3 "$TREECMP" "$WORK/tree" "$WORK/user.out" ||
	fail "image built by a normal user differs"
ok "normal user builds a root filesystem image from tar"
