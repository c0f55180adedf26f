/* SPDX-License-Identifier: MIT */
/*
 * The local cache of a remote image: BASE.img, a sparse file of the
 * image's size holding the blocks fetched so far at their own offsets
 * (so the daemon maps it exactly as it maps a local image), and BASE.map,
 * a header naming the object (size, block size, the server's validator)
 * followed by one bit per block that is present.  BASE is the image's
 * UUID, its size and a hash of the validator, so another version of the
 * object gets another cache, never a mix.
 *
 * Daemons may share a cache directory: a block is written (pwrite)
 * before its bit is set with an atomic OR in the MAP_SHARED mapping of
 * the .map file, so a set bit always follows its bytes, and two daemons
 * that fetch one block write the same checked bytes.  Only creating the
 * files and writing the header need exclusion: flock(LOCK_EX) on the .map
 * file while it is opened.  A cache is never truncated or rewritten under
 * a daemon that may be using it; one whose header does not match is
 * refused with its path, for the user to remove.  Every block read from
 * the cache is checked against the image's CRC table before its first use
 * in a mount (remote.c), so a damaged cache costs a refetch, not wrong
 * bytes.  The header is in host byte order: a cache is local.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"

#define CACHE_MAGIC	"XIPFSC01"
#define HEADER_SIZE	4096u	/* the bitmap starts on a page */
#define WORD_BITS	(8 * sizeof(unsigned long))

struct cache_header {
	char magic[8];
	uint64_t size;
	uint32_t block_log2;
	uint32_t validator_len;
	char validator[512];
};

/* FNV-1a, 64 bits: names, not security (the CRCs guard the bytes). */
uint64_t cache_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static int open_at(const char *dir, const char *base, const char *ext,
		   int flags)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", dir, base, ext) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, flags | O_CLOEXEC, 0600);
}

static size_t map_bytes(uint64_t blocks)
{
	return HEADER_SIZE + (size_t)((blocks + WORD_BITS - 1) / WORD_BITS) *
	       sizeof(unsigned long);
}

/* A new cache (both files empty, under the lock): sizes and header. */
static int cache_init(struct cache *c, const char *validator)
{
	struct cache_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	h.size = c->size;
	h.block_log2 = c->block_log2;
	h.validator_len = (uint32_t)strlen(validator);
	memcpy(h.validator, validator, h.validator_len);
	if (ftruncate(c->img_fd, (off_t)c->size) < 0 ||
	    ftruncate(c->map_fd, (off_t)map_bytes(c->blocks)) < 0 ||
	    pwrite(c->map_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -errno;
	return 0;
}

/* An existing cache's header against what is wanted (size 0: take the
 * header's, for an offline mount): 0, or -EINVAL. */
static int cache_match(struct cache *c, const char *validator)
{
	struct cache_header h;
	struct stat st;

	if (pread(c->map_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) ||
	    h.validator_len >= sizeof(h.validator) || h.block_log2 < 9 ||
	    h.block_log2 > 20 || h.size == 0)
		return -EINVAL;
	h.validator[h.validator_len] = '\0';
	if (c->size == 0) {
		c->size = h.size;
		c->block_log2 = h.block_log2;
		c->blocks = (c->size + (1ULL << c->block_log2) - 1) >>
			    c->block_log2;
	} else if (h.size != c->size || h.block_log2 != c->block_log2 ||
		   strcmp(h.validator, validator)) {
		return -EINVAL;
	}
	if (fstat(c->map_fd, &st) < 0 ||
	    (uint64_t)st.st_size != map_bytes(c->blocks) ||
	    fstat(c->img_fd, &st) < 0 || (uint64_t)st.st_size != c->size)
		return -EINVAL;
	return 0;
}

/* Create or check, under the lock; then map the .map file. */
static int cache_settle(struct cache *c, const char *validator, char *why,
			size_t why_size)
{
	struct stat st;
	int err;

	if (flock(c->map_fd, LOCK_EX) < 0 || fstat(c->map_fd, &st) < 0) {
		err = -errno;
		snprintf(why, why_size, "lock: %s", strerror(errno));
		return err;
	}
	if (st.st_size == 0 && validator)
		err = cache_init(c, validator);
	else
		err = cache_match(c, validator);
	flock(c->map_fd, LOCK_UN);
	if (err) {
		snprintf(why, why_size, err == -EINVAL ? "not the cache of "
			 "this object (remove it)" : "%s", strerror(-err));
		return err;
	}
	c->map_len = map_bytes(c->blocks);
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->map_fd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		snprintf(why, why_size, "mmap: %s", strerror(errno));
		return -EIO;
	}
	c->bits = (atomic_ulong *)(void *)(c->map + HEADER_SIZE);
	return 0;
}

int cache_open(struct cache *c, const char *dir, const char *base,
	       uint64_t size, uint32_t block_log2, const char *validator,
	       char *why, size_t why_size)
{
	int create = validator ? O_CREAT : 0;

	memset(c, 0, sizeof(*c));
	c->img_fd = c->map_fd = -1;
	c->size = size;
	c->block_log2 = block_log2;
	c->blocks = size ? (size + (1ULL << block_log2) - 1) >> block_log2 : 0;
	c->img_fd = open_at(dir, base, ".img", O_RDWR | create);
	c->map_fd = open_at(dir, base, ".map", O_RDWR | create);
	if (c->img_fd < 0 || c->map_fd < 0) {
		snprintf(why, why_size, "%s/%s: %s", dir, base,
			 strerror(errno));
		cache_close(c);
		return -EIO;
	}
	if (cache_settle(c, validator, why, why_size)) {
		cache_close(c);
		return -EIO;
	}
	return 0;
}

void cache_close(struct cache *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	if (c->img_fd >= 0)
		close(c->img_fd);
	if (c->map_fd >= 0)
		close(c->map_fd);
	c->map = NULL;
	c->img_fd = c->map_fd = -1;
}

const char *cache_validator(const struct cache *c)
{
	return ((const struct cache_header *)(const void *)c->map)->validator;
}

int cache_has(const struct cache *c, uint64_t block)
{
	return (atomic_load_explicit(&c->bits[block / WORD_BITS],
				     memory_order_acquire) >>
		(block % WORD_BITS)) & 1;
}

void cache_mark(struct cache *c, uint64_t block)
{
	atomic_fetch_or_explicit(&c->bits[block / WORD_BITS],
				 1UL << (block % WORD_BITS),
				 memory_order_release);
}

uint64_t cache_count(const struct cache *c)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < (c->blocks + WORD_BITS - 1) / WORD_BITS; i++)
		n += (uint64_t)__builtin_popcountl(atomic_load_explicit(
			&c->bits[i], memory_order_relaxed));
	return n;
}

int cache_store(struct cache *c, uint64_t off, const uint8_t *buf,
		size_t len)
{
	ssize_t n;

	while (len) {
		n = pwrite(c->img_fd, buf, len, (off_t)off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* CACHE/url-HASH holds BASE: replaced whole (temp file, rename). */
int cache_link_write(const char *dir, const char *url, const char *base)
{
	char path[4096], tmp[4200];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/url-%016" PRIx64, dir,
		 cache_hash(url));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", base);
	err = fclose(f) ? -errno : 0;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int cache_link_read(const char *dir, const char *url, char *base,
		    size_t size)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/url-%016" PRIx64, dir,
		 cache_hash(url));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(base, (int)size, f) != NULL;
	fclose(f);
	base[ok ? strcspn(base, "\n") : 0] = '\0';
	return ok && base[0] && !strchr(base, '/') ? 0 : -EINVAL;
}
