#!/bin/bash
# The harness's wrapper around every test (LOG_COMPILER and SH_LOG_COMPILER
# in tests/Makemodule.am): run-test.sh TEST [ARGS...].
# Isolation: each test gets a work directory of its own
# ($XIPFS_TEST_WORK, which tests/lib.sh takes as $WORK), and whatever the
# test left mounted under it afterwards is unmounted and fails the test.
# A time limit, so that a hung test fails instead of hanging the suite:
# XIPFS_TEST_TIMEOUT seconds (default 3600: a loaded machine, or a
# sanitizer build, may take many times the usual minutes), or a test's own
# "# timeout: SECONDS" line among its first 20 lines (for the few that
# take longer: a first debootstrap, a long stress run).  At the limit the
# test and everything it started get SIGTERM (the tests' cleanup traps
# still unmount), and SIGKILL 30 s later.
set -u
prog=run-test
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

test=$1
area=$(basename "$(dirname "$test")") name=$(basename "$test" .sh)
limit=${XIPFS_TEST_TIMEOUT:-3600}
if [ -f "$test" ] && own=$(head -20 "$test" | sed -n 's/^# timeout: \([0-9][0-9]*\)\( .*\)\{0,1\}$/\1/p' | head -1) &&
	[ -n "$own" ] && [ -z "${XIPFS_TEST_TIMEOUT:-}" ]; then
	limit=$own
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/xipfs-$area-$name.XXXXXX") || exit 99
leftovers() {
	local m left=""
	for m in $(mounts_under "$work"); do
		left="$left $m"
		unmount "$m" lazy || true
	done
	rm -rf --one-file-system "$work"
	[ -z "$left" ] || { echo "FAIL: $area/$name left mounted:$left" >&2; return 1; }
}
cleanup_hooks=leftovers

t0=$(date +%s)
XIPFS_TEST_WORK=$work timeout -k 30 "$limit" "$@"
st=$?
# One line in the test's log that .ci/run collects into its table of the
# slowest tests (the suites run four times there, so their time is budgeted).
echo "run-test: $area/$name took $(($(date +%s) - t0)) s" >&2
# 124: ended by SIGTERM at the limit; 137: SIGKILL, 30 s after it.
if [ $st = 124 ] || [ $st = 137 ]; then
	echo "FAIL: $area/$name: stopped at its time limit of $limit s (status $st)" >&2
	st=1
fi
# Strict mode (CI): a test that skips, however it says so (lib.sh's skip,
# or a C program's exit 77), fails: nothing silently stops being tested.
if [ $st = 77 ] && [ "${XIPFS_TEST_STRICT:-0}" = 1 ]; then
	echo "FAIL: $area/$name: skipped (status 77) in strict mode" >&2
	st=1
fi
if ! leftovers; then
	[ $st != 0 ] && [ $st != 77 ] || st=1
fi
cleanup_hooks=""
exit $st
