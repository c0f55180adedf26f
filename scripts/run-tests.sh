#!/bin/bash
# Build from scratch and run the whole test suite (make check).
# Usage: scripts/run-tests.sh [configure options...]
# Prints the suite's summary; exits nonzero if anything failed.
set -eu
. "$(dirname "$0")/lib.sh"
configure_tree "$@"
make -j"$(nproc)"
status=0
make -j"$(nproc)" check || status=$?
if [ -f test-suite.log ]; then
	grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' test-suite.log | head -7
fi
exit $status
