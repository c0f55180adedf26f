#!/bin/bash
# The pure layer of libxipfs (src/lib/Makemodule.am: XIPFS_PURE_SOURCES)
# calls no system and does no I/O: every symbol its objects leave undefined
# is on the allow-list below or defined by another pure object.  A pure
# file that needs the OS fails here and belongs in XIPFS_OS_SOURCES.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_cmd nm
: "${XIPFS_PURE_OBJECTS:?set by make check}"

# What pure code may call: memory and string functions, formatting into a
# buffer (xipfs_verify's messages), the heap (xipfs_verify, and
# a reading context, xipfs_zctx, for the parts it makes on first use),
# ISA-L's CRC32C (crc32_iscsi), the zstd and LZ4 decoders (ZSTD_*, LZ4_*: they compute
# on buffers and make no system call; compressed clusters are part of the
# format, so the pure reader decodes them), and what compilers insert (CPU
# feature tests, stack protector, fortified copies, sanitizers, coverage).
allowed='^(mem(chr|cmp|cpy|move|set)|str(chr|cmp|error|len|ncmp|nlen)'
allowed=$allowed'|v?snprintf|malloc|calloc|free|ZSTD_[A-Za-z]+|LZ4_[A-Za-z_]+|crc32_iscsi'
allowed=$allowed'|_GLOBAL_OFFSET_TABLE_|__cpu_model|__cpu_indicator_init'
allowed=$allowed'|__stack_chk_fail|__(mem(cpy|move|set)|v?snprintf)_chk'
allowed=$allowed'|__(asan|ubsan|lsan|sanitizer|gcov|llvm_gcov|tsan)_.*)$'

cd "$top_builddir"
for o in $XIPFS_PURE_OBJECTS; do
	[ -f "$o" ] || fail "$o not built"
done
# shellcheck disable=SC2086
nm --defined-only $XIPFS_PURE_OBJECTS |
	awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u >"$WORK/defined"
for o in $XIPFS_PURE_OBJECTS; do
	nm -u "$o" | awk '{ print $2 }' | sed 's/@.*//' | sort -u |
		grep -Evx -f "$WORK/defined" | grep -Ev "$allowed" |
		sed "s|^|$o: |" >>"$WORK/bad" || true
done
[ ! -s "$WORK/bad" ] || fail "pure objects call outside the allow-list:
$(cat "$WORK/bad")"
ok "pure layer: $(echo $XIPFS_PURE_OBJECTS | wc -w) objects call no OS"
