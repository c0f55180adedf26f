/* SPDX-License-Identifier: MIT */
/*
 * The speed of xipfs_crc32c() alone: best of REPS over a buffer of LEN
 * bytes, filled so that no page is the shared zero page.  Linked by
 * scripts/bench-crc.sh against each build tree's libxipfs.a, so two
 * implementations are compared in one run.  Usage: bench-crc LEN REPS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xipfs/xipfs.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t len = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;
	int reps = argc > 2 ? atoi(argv[2]) : 0;
	double best = 1e30;
	uint32_t crc = 0;
	uint8_t *buf;

	if (len == 0 || reps <= 0) {
		fprintf(stderr, "usage: bench-crc LEN REPS\n");
		return 2;
	}
	buf = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);
	if (!buf)
		return 1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (int r = 0; r < reps; r++) {
		double t = now();

		crc = xipfs_crc32c(crc, buf, len);
		t = now() - t;
		if (t < best)
			best = t;
	}
	/* The CRC is printed so that the loop cannot be optimised away. */
	printf("%.2f GB/s (crc %08x)\n", (double)len / best / 1e9, crc);
	free(buf);
	return 0;
}
