/* SPDX-License-Identifier: MIT */
/*
 * Compression for mkxipfs: the values of --compress, --cluster-size and
 * --xip, the test --xip=elf applies, and one cluster's compression.
 *
 * Each cluster is compressed on its own with a fixed algorithm and level
 * and the libraries' single-threaded calls, so its stored bytes depend on
 * its contents only: not on the thread that compressed it, nor on what
 * was compressed before (a context is reused, never its history).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

/* zstd level when none is given: the one mksquashfs uses by default, so
 * that the two compare at equal effort.  The cluster size is a middle
 * way between ratio (larger) and what a small read decompresses. */
#define ZSTD_LEVEL_DEFAULT 15
#define CLUSTER_LOG2_DEFAULT 16

static int parse_level(const char *s, int *level)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 1 || v > ZSTD_maxCLevel())
		return -1;
	*level = (int)v;
	return 0;
}

/* zstd[:LEVEL], lz4 or lz4:hc; on failure, why says what is wrong. */
int parse_compress(const char *s, struct zopts *z, char *why, size_t len)
{
	const char *colon = strchr(s, ':');
	size_t name = colon ? (size_t)(colon - s) : strlen(s);

	if (!z->cluster_log2)
		z->cluster_log2 = CLUSTER_LOG2_DEFAULT;
	if (name == 4 && !strncmp(s, "zstd", 4)) {
		z->alg = XIPFS_ZALG_ZSTD;
		z->level = ZSTD_LEVEL_DEFAULT;
		if (colon && parse_level(colon + 1, &z->level) < 0) {
			snprintf(why, len, "invalid zstd level '%s' (1 to %d)",
				 colon + 1, ZSTD_maxCLevel());
			return -1;
		}
		return 0;
	}
	if (name == 3 && !strncmp(s, "lz4", 3)) {
		z->alg = XIPFS_ZALG_LZ4;
		z->level = 0;
		if (colon && strcmp(colon + 1, "hc")) {
			snprintf(why, len, "invalid lz4 mode '%s' (only 'hc')",
				 colon + 1);
			return -1;
		}
		z->level = colon != NULL;
		return 0;
	}
	snprintf(why, len, "unknown algorithm '%.*s' (zstd[:LEVEL], lz4 or "
		 "lz4:hc)", (int)(name > 64 ? 64 : name), s);
	return -1;
}

/* A power of two from 4 KiB to 1 MiB (the format's range). */
int parse_cluster_size(const char *s, uint32_t *log2)
{
	uint64_t v;

	if (xipfs_parse_size(s, &v) < 0 || v == 0 || (v & (v - 1)) ||
	    v < (1u << XIPFS_CLUSTER_LOG2_MIN) ||
	    v > (1u << XIPFS_CLUSTER_LOG2_MAX))
		return -1;
	*log2 = (uint32_t)__builtin_ctzll(v);
	return 0;
}

int parse_xip_mode(const char *s, enum xip_mode *m)
{
	static const char *const names[] = { "all", "elf", "none" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*m = (enum xip_mode)i;
			return 0;
		}
	return -1;
}

/*
 * --xip=elf: an ELF executable (ET_EXEC) or shared object (ET_DYN, which
 * PIE programs are too) stays in place: those are what the loader maps.
 * Everything else, relocatable objects (ET_REL) and core files included,
 * is only ever read, so it is compressed.  hdr holds the file's first
 * len bytes.
 */
int elf_stays_xip(const uint8_t *hdr, size_t len)
{
	unsigned type;

	if (len < ELF_HDR_NEED || memcmp(hdr, "\177ELF", 4) ||
	    (hdr[4] != 1 && hdr[4] != 2))	/* EI_CLASS: 32 or 64 bit */
		return 0;
	if (hdr[5] == 1)			/* EI_DATA: little endian */
		type = hdr[16] | (unsigned)hdr[17] << 8;
	else if (hdr[5] == 2)
		type = (unsigned)hdr[16] << 8 | hdr[17];
	else
		return 0;
	return type == 2 || type == 3;		/* ET_EXEC, ET_DYN */
}

struct zcomp {
	struct zopts z;
	ZSTD_CCtx *zstd;
	void *lz4;		/* LZ4 or LZ4 HC state */
};

struct zcomp *zcomp_new(const struct zopts *z)
{
	struct zcomp *zc = xcalloc(1, sizeof(*zc));

	zc->z = *z;
	if (z->alg == XIPFS_ZALG_ZSTD) {
		zc->zstd = ZSTD_createCCtx();
		if (!zc->zstd ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(zc->zstd,
				ZSTD_c_compressionLevel, z->level))) {
			zcomp_free(zc);
			return NULL;
		}
	} else {
		zc->lz4 = xmalloc(z->level ? (size_t)LZ4_sizeofStateHC() :
					     (size_t)LZ4_sizeofState());
	}
	return zc;
}

void zcomp_free(struct zcomp *zc)
{
	if (!zc)
		return;
	ZSTD_freeCCtx(zc->zstd);
	free(zc->lz4);
	free(zc);
}

size_t zcomp_bound(const struct zopts *z)
{
	size_t n = (size_t)1 << z->cluster_log2;
	size_t a = ZSTD_compressBound(n), b = (size_t)LZ4_compressBound((int)n);

	return a > b ? a : b;
}

uint32_t zcomp_cluster(struct zcomp *zc, const void *in, uint32_t len,
		       void *out)
{
	size_t cap = zcomp_bound(&zc->z), n;

	if (zc->zstd) {
		n = ZSTD_compress2(zc->zstd, out, cap, in, len);
		if (ZSTD_isError(n))
			n = 0;
	} else if (zc->z.level) {
		n = (size_t)LZ4_compress_HC_extStateHC(zc->lz4, in, out,
			(int)len, (int)cap, LZ4HC_CLEVEL_DEFAULT);
	} else {
		n = (size_t)LZ4_compress_fast_extState(zc->lz4, in, out,
						       (int)len, (int)cap, 1);
	}
	/* stored raw unless it shrank (the format's rule: s == l is raw) */
	if (n == 0 || n >= len) {
		memcpy(out, in, len);
		return len;
	}
	return (uint32_t)n;
}
