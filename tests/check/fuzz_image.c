/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: open an image and touch everything in it (walk.c).
 * Built with --enable-fuzzing (clang, -fsanitize=fuzzer,address,undefined);
 * tests/check/fuzz_replay.c runs the same entry point over the seed corpus in
 * every build.
 *
 * Each input is walked twice: as given, and (in a copy of exactly its
 * size) with both CRCs recomputed, since a fuzzer cannot forge a CRC32C and
 * would otherwise never get past xipfs_image_open().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk_summary s;
	uint8_t *copy;

	walk_image(data, size, WALK_VERIFY, &s);
	if (size < 256)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	walk_fix_crcs(copy, size);
	walk_image(copy, size, WALK_VERIFY, &s);
	free(copy);
	return 0;
}
