/* SPDX-License-Identifier: MIT */
/*
 * bench-metacrc IMAGE: what the metadata check costs in libxipfs itself,
 * for scripts/bench-meta.sh: xipfs_image_open() + xipfs_image_close()
 * (the table's CRC and the bitmap), 100 times, and every metadata block's
 * CRC (xipfs_meta_block_check), 20 passes after a warm-up pass.
 */
#include <stdio.h>
#include <time.h>

#include "xipfs/xipfs.h"

static double us_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a->tv_sec) * 1e9 +
		(double)(b.tv_nsec - a->tv_nsec)) / 1e3;
}

int main(int argc, char **argv)
{
	struct xipfs_meta_crc_info mc;
	struct xipfs_image img;
	struct xipfs_map m;
	struct timespec t;
	const char *what;

	if (argc != 2 || xipfs_map_source(argv[1], 0, 0, &m, &what) ||
	    xipfs_image_open(&img, m.image, m.length) ||
	    xipfs_meta_crc_get(&img, &mc)) {
		fprintf(stderr, "usage: bench-metacrc IMAGE (with metadata "
			"checksums)\n");
		return 2;
	}
	xipfs_image_close(&img);
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int r = 0; r < 100; r++) {
		if (xipfs_image_open(&img, m.image, m.length))
			return 1;
		xipfs_image_close(&img);
	}
	printf("open+close %.1f us\n", us_since(&t) / 100);
	xipfs_image_open(&img, m.image, m.length);
	for (uint64_t i = 0; i < mc.blocks; i++)
		xipfs_meta_block_check(&img, i);
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int r = 0; r < 20; r++)
		for (uint64_t i = 0; i < mc.blocks; i++)
			if (xipfs_meta_block_check(&img, i))
				return 1;
	printf("all %llu blocks %.2f ms\n", (unsigned long long)mc.blocks,
	       us_since(&t) / 20 / 1e3);
	xipfs_image_close(&img);
	xipfs_unmap_source(&m);
	return 0;
}
