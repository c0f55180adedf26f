#!/bin/bash
# Benchmark image builders side by side on one tree kept on tmpfs:
# mkxipfs (default and --pack-small), mksquashfs uncompressed, mkfs.erofs
# uncompressed.  Prints a markdown table of median wall time (min-max over
# RUNS runs) and image size.  Not a test: it asserts nothing.
#
# Usage: scripts/bench-mkimage.sh [--files N] [--big-mib M] [--runs N]
#   defaults 50000 files, a 1024 MiB file, 5 runs
# Environment: MKXIPFS (default ./mkxipfs), BENCH_DIR (the work directory
# is made under it, default /dev/shm, which is tmpfs).
set -eu
. "$(dirname "$0")/lib.sh"
usage() { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; }
files=50000 big=1024 runs=5
parse_options files=#files big-mib=#big runs=#runs -- "$@"
[ ${#args[@]} = 0 ] || die "unexpected argument '${args[0]}' (--help)"
bench_workdir mkimage
need_cmds mksquashfs mkfs.erofs bc
need_built "$mkxipfs"

python3 "$top/scripts/gen-tree.py" "$base/tree" --files "$files" --big-mib "$big"
tree_kib=$(du -sk "$base/tree" | cut -f1)

declare -A cmds=(
	[mkxipfs]="$mkxipfs -q $base/tree $base/out.img"
	[mkxipfs_pack]="$mkxipfs -q --pack-small=4096 $base/tree $base/out.img"
	[mksquashfs]="mksquashfs $base/tree $base/out.img -noI -noD -noF -noX -no-progress -quiet -processors 2"
	[mkfs_erofs]="mkfs.erofs --quiet $base/out.img $base/tree"
)
order="mkxipfs mkxipfs_pack mksquashfs mkfs_erofs"

declare -A times sizes
for r in $(seq 1 "$runs"); do
	for t in $order; do	# interleaved, so drift hits every tool alike
		rm -f "$base/out.img"
		s=$(date +%s.%N)
		${cmds[$t]} >/dev/null
		e=$(date +%s.%N)
		times[$t]+="$(echo "$e - $s" | bc -l)"$'\n'
		sizes[$t]=$(stat -c %s "$base/out.img")
	done
done

echo
echo "Tree: $files files (log-uniform 1 B-64 KiB) + ${big} MiB file, $tree_kib KiB on tmpfs; $runs runs, $(nproc) cores"
echo
echo "| builder | command | time s, median (min-max) | image MiB | vs erofs size |"
echo "|---|---|---|---|---|"
for t in $order; do
	printf '| %s | `%s` | %s | %.1f | %.3f |\n' "$t" \
		"$(echo "${cmds[$t]}" | sed "s#$base/##g; s#$top/##")" \
		"$(printf '%s' "${times[$t]}" | stats %.2f)" \
		"$(echo "${sizes[$t]} / 1048576" | bc -l)" \
		"$(echo "${sizes[$t]} / ${sizes[mkfs_erofs]}" | bc -l)"
done
