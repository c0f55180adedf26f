/* SPDX-License-Identifier: MIT */
/*
 * A tiny assert header for the C unit tests.
 *
 * CHECK(cond) evaluates cond once, counts it, and on failure prints
 * file:line and the expression; a test program ends with
 * `return test_summary(argv[0]);`, which prints how many checks ran and
 * yields exit status 1 if any failed, 0 otherwise.
 */
#ifndef XIPFS_TESTS_TEST_H
#define XIPFS_TESTS_TEST_H

#include <stdio.h>

static unsigned long test_checks, test_failures;

static inline int test_check(int ok, const char *expr, const char *file,
			     int line)
{
	test_checks++;
	if (!ok) {
		test_failures++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

#define CHECK(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)

/* CHECK_EQ for integers: also prints both values on failure. */
#define CHECK_EQ(a, b)                                                   \
	do {                                                             \
		long long check_a_ = (long long)(a);                     \
		long long check_b_ = (long long)(b);                     \
		if (!CHECK(check_a_ == check_b_))                        \
			fprintf(stderr, "  %s = %lld, %s = %lld\n", #a,  \
				check_a_, #b, check_b_);                 \
	} while (0)

/* Announce a group of checks, so the log says what was covered. */
#define TEST_SECTION(name) printf("# %s\n", (name))

static inline int test_summary(const char *prog)
{
	printf("%s: %lu checks, %lu failed\n", prog, test_checks,
	       test_failures);
	return test_failures ? 1 : 0;
}

#endif
