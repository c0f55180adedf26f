/* SPDX-License-Identifier: MIT */
/*
 * CRC32C (Castagnoli), as every checksum in the format uses it.
 *
 * ISA-L computes it: crc32_iscsi() picks the fastest code for the CPU at
 * run time (three interleaved crc32 streams folded with carry-less
 * multiplication where the CPU has them), several times the speed of one
 * crc32 instruction chain, which is what bounds a checked read.
 *
 * Conventions: crc32_iscsi() neither inverts its seed nor its result, and
 * takes an int length.  xipfs_crc32c() keeps the usual API (seed 0 for a
 * fresh checksum, a previous result to continue one), so it inverts on
 * the way in and out and feeds ISA-L at most INT_MAX bytes at a time.
 */
#include <isa-l/crc.h>
#include <limits.h>

#include "xipfs/xipfs.h"

/* Largest piece handed to ISA-L: its length is an int; a multiple of 64
 * keeps every piece but the last on the fast path's stride. */
#define CRC32C_PIECE ((size_t)INT_MAX & ~(size_t)63)

uint32_t xipfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	while (len > 0) {
		size_t n = len < CRC32C_PIECE ? len : CRC32C_PIECE;

		/* ISA-L's prototype is not const-correct; it only reads. */
		crc = crc32_iscsi((unsigned char *)p, (int)n, crc);
		p += n;
		len -= n;
	}
	return ~crc;
}
