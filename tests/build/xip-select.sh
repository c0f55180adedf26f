#!/bin/bash
# Which files stay XIP: --xip=elf keeps ELF executables and shared objects
# in place and compresses the rest (relocatable objects, scripts, text,
# short files); --xip-list FILE keeps more (paths and patterns, comments,
# a leading '/', any hard link's name); bad list lines name FILE:LINE.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
ZIMG="$top_srcdir/tests/zimg.py"
t="$WORK/tree"

mkdir -p "$t/bin" "$t/lib" "$t/etc" "$t/share/doc"
cp /bin/ls "$t/bin/ls"
cp /bin/true "$t/bin/true"
so=$(ls /lib/x86_64-linux-gnu/libc.so.6 /lib/*/libc.so.6 /lib64/libc.so.6 \
	/usr/lib/libc.so.6 2>/dev/null | head -1)
[ -n "$so" ] || so=$(ldd /bin/ls | awk '/libc\.so/ {print $3}')
[ -n "$so" ] || fail "no libc.so.6 to copy"
cp "$so" "$t/lib/libc.so.6"
# an ELF relocatable object (ET_REL) and a core-like ET_CORE: compressed
python3 "$top_srcdir/tests/build/elf_non_exec.py" "$t/lib/obj.o" "$t/lib/core"
printf '#!/bin/sh\necho hello\n' >"$t/bin/script"
chmod +x "$t/bin/script"
printf '\177EL' >"$t/etc/short"		# shorter than an ELF header
for i in $(seq 1 2000); do echo "config line $i"; done >"$t/etc/conf"
cp "$t/etc/conf" "$t/share/doc/readme"
cp "$t/etc/conf" "$t/share/doc/notes.txt"
echo other >"$t/share/doc/other.txt"
ln "$t/etc/conf" "$t/share/doc/conf-link"	# a hard link

kinds() {	# kinds IMAGE PATH...: "kind kind ..." in order
	img=$1; shift
	python3 "$ZIMG" "$img" storage "$@" | awk '{print $2}' | tr '\n' ' '
}
want() {	# want NAME IMAGE "KINDS" PATH...
	name=$1 img=$2 w=$3; shift 3
	got=$(kinds "$img" "$@")
	[ "$got" = "$w " ] || fail "$name: $* stored as '$got', want '$w'"
	"$XIPFSCK" -q "$img" || fail "$name: image does not verify"
	"$XIPFSCK" -q -x "$WORK/$name.out" "$img" || fail "$name: extract"
	python3 "$TREECMP" --no-owner "$t" "$WORK/$name.out" ||
		fail "$name: extracted tree differs"
	ok "$name: $w"
}
files="/bin/ls /bin/true /lib/libc.so.6 /lib/obj.o /lib/core /bin/script /etc/short /etc/conf"

"$MKXIPFS" -q --compress=zstd "$t" "$WORK/elf.xip"
want elf-default "$WORK/elf.xip" "xip xip xip zstd zstd zstd zstd zstd" $files
"$MKXIPFS" -q --compress=lz4 --xip=elf "$t" "$WORK/elf-lz4.xip"
want elf-lz4 "$WORK/elf-lz4.xip" "xip xip xip lz4 lz4 lz4 lz4 lz4" $files
"$MKXIPFS" -q --compress=zstd --xip=none "$t" "$WORK/none.xip"
want none "$WORK/none.xip" "zstd zstd zstd zstd zstd zstd zstd zstd" $files
"$MKXIPFS" -q --compress=zstd --xip=all "$t" "$WORK/all.xip"
want all "$WORK/all.xip" "xip xip xip xip xip xip xip xip" $files
[ "$(python3 "$ZIMG" "$WORK/all.xip" features)" = "incompat=0x0 ro_compat=0x3" ] ||
	fail "--xip=all set the compressed feature bit"
# tar input reads the ELF headers from the spool
tar --format=pax -C "$t" -cf "$WORK/tree.tar" .
"$MKXIPFS" -q --compress=zstd "$WORK/tree.tar" "$WORK/elf-tar.xip"
want elf-tar "$WORK/elf-tar.xip" "xip xip xip zstd zstd zstd zstd zstd" $files

# --xip-list: a path, one with a leading '/', a pattern, a hard link's
# other name, comments and blank lines
cat >"$WORK/list" <<'LIST'
# files that stay XIP (a profile)

bin/script
/lib/obj.o
share/doc/*.txt
   # an indented comment
/share/doc/conf-link
LIST
"$MKXIPFS" -q --compress=zstd --xip=none --xip-list="$WORK/list" "$t" "$WORK/list.xip"
want list-none "$WORK/list.xip" "zstd zstd zstd xip zstd xip zstd xip xip xip zstd" \
	$files /share/doc/notes.txt /share/doc/other.txt /share/doc/readme
"$MKXIPFS" -q --compress=zstd --xip-list="$WORK/list" "$t" "$WORK/list-elf.xip"
want list-elf "$WORK/list-elf.xip" "xip xip xip xip zstd xip zstd xip" $files
"$MKXIPFS" -q --compress=zstd --xip-list="$WORK/list" "$WORK/tree.tar" "$WORK/list-tar.xip"
cmp "$WORK/list-elf.xip" "$WORK/list-tar.xip" ||
	want list-tar "$WORK/list-tar.xip" "xip xip xip xip zstd xip zstd xip" $files
ok "tar and directory input select the same files"

# Bad lists: FILE:LINE and what is wrong, no image
bad_list() {	# bad_list LINE-NO MESSAGE CONTENT
	printf '%b' "$3" >"$WORK/bad.list"
	expect_error "mkxipfs: $WORK/bad.list:$1: .*$2" "$MKXIPFS" -q --compress=zstd \
		--xip-list="$WORK/bad.list" "$t" "$WORK/bad.xip"
	[ ! -e "$WORK/bad.xip" ] || fail "a bad list left an image"
}
bad_list 2 "'..'" 'bin/ls\n../etc/passwd\n'
bad_list 3 "the root" '# c\n\n/\n'
bad_list 1 "component" 'bin//ls\n'
bad_list 2 "NUL" 'ok\nnul\0byte\n'
bad_list 1 "longer than" "$(printf 'x%.0s' $(seq 1 4100))\n"
# the limit is the path's, after its leading '/': 4095 bytes pass, 4096 not
name255=$(printf 'a%.0s' $(seq 1 255))
path4095=$name255
for _ in $(seq 1 15); do path4095=$path4095/$name255; done
[ ${#path4095} -eq 4095 ] || fail "the test's path is ${#path4095} bytes"
printf '/%s\n' "$path4095" >"$WORK/long.list"
"$MKXIPFS" -q --compress=zstd --xip-list="$WORK/long.list" "$t" "$WORK/long.xip" ||
	fail "'/' and a 4095-byte path were refused"
bad_list 1 "longer than" "/${path4095}b\n"
expect_error "$WORK/missing" "$MKXIPFS" -q --compress=zstd \
	--xip-list="$WORK/missing" "$t" "$WORK/bad.xip"
expect_error "needs --compress" "$MKXIPFS" -q --xip-list="$WORK/list" "$t" "$WORK/bad.xip"
ok "bad --xip-list files are refused with FILE:LINE"
