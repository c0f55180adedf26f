#!/bin/bash
# Programs run from a mounted image: a static one, and dynamic ones whose
# loader maps the executable and its libraries from the mount, text shared
# and .data as private writable copies.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd gcc
need_cmd ldd
[ -c /dev/fuse ] || skip "needs /dev/fuse"

tree="$WORK/tree"
mkdir -p "$tree/bin"

# A static program: the kernel alone maps it.  It prints its arguments and
# a value from its .data, which it changes first (a private copy).
cat >"$WORK/hello.c" <<'EOF'
#include <stdio.h>
static int counter = 41;
int main(int argc, char **argv)
{
	counter++;
	printf("hello from xipfs %d", counter);
	for (int i = 1; i < argc; i++)
		printf(" [%s]", argv[i]);
	putchar('\n');
	return 3;
}
EOF
gcc -static -O2 -o "$tree/bin/hello" "$WORK/hello.c" 2>"$WORK/gcc.err" ||
	skip "gcc -static fails (no libc.a?): $(head -3 "$WORK/gcc.err")"

# Dynamic programs with every library ldd names, at the same paths, so the
# tree works as a root directory.
copy_programs "$tree" /bin/ls /bin/sh
mkdir "$tree/data"
echo 'a file to list' >"$tree/data/some file"
"$MKXIPFS" -q "$tree" "$WORK/exec.xip"
mnt="$WORK/mnt"

run_programs() {
	how=$1
	set +e
	out=$("$mnt/bin/hello" one 'two words')
	st=$?
	set -e
	[ "$st" = 3 ] || fail "$how: static program exited $st"
	[ "$out" = "hello from xipfs 42 [one] [two words]" ] ||
		fail "$how: static program printed '$out'"
	# The same program twice at once: both map the same pages.
	( "$mnt/bin/hello" a || echo "exit $?" ) >"$WORK/h1" & h1=$!
	( "$mnt/bin/hello" b || echo "exit $?" ) >"$WORK/h2"
	wait $h1
	[ "$(cat "$WORK/h1" "$WORK/h2")" = "hello from xipfs 42 [a]
exit 3
hello from xipfs 42 [b]
exit 3" ] || fail "$how: concurrent runs printed $(cat "$WORK/h1" "$WORK/h2")"

	# Dynamic, loaded from the mount inside a chroot.
	out=$(chroot "$mnt" /bin/ls /)
	[ "$out" = "$(cd "$tree" && LC_ALL=C ls)" ] ||
		fail "$how: chroot ls / printed: $out"
	out=$(chroot "$mnt" /bin/ls -l /data)
	case $out in
	*"15 "*"some file") ;;
	*) fail "$how: chroot ls -l /data printed: $out" ;;
	esac
	out=$(chroot "$mnt" /bin/sh -c 'x=6; echo $((x * 7)) $(echo sub)')
	[ "$out" = "42 sub" ] || fail "$how: chroot sh printed: $out"

	# Dynamic, with the loader from the mount run as a program.
	lp=$(for d in $libpath; do printf '%s:' "$mnt$d"; done)
	out=$("$mnt$loader" --library-path "$lp" "$mnt/bin/ls" "$mnt/data")
	[ "$out" = "some file" ] || fail "$how: loader ls printed: $out"
	# ...and the libraries it loaded were the mount's.
	"$mnt$loader" --list --library-path "$lp" "$mnt/bin/ls" |
		awk '$2 == "=>" && $3 ~ /^\// {print $3}' >"$WORK/libs"
	[ -s "$WORK/libs" ] && ! grep -v "^$mnt/" "$WORK/libs" ||
		fail "$how: libraries from outside the mount: $(cat "$WORK/libs")"
}

for opts in "-o read=copy" "-o read=splice" "-o open"; do
	xipfs_mount "$WORK/exec.xip" "$mnt" $opts
	run_programs "$opts"
	xipfs_unmount "$mnt"
	ok "static and dynamic programs run from the mount ($opts)"
done
daemon_quiet
