/* SPDX-License-Identifier: MIT */
/*
 * Remote sources, inside: http.c (ranged GETs through libcurl) and
 * cache.c (the local cache files) as remote.c uses them.  The rest of the
 * daemon sees only remote.c's calls in xipfsd.h.
 */
#ifndef XIPFSD_REMOTE_H
#define XIPFSD_REMOTE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* What one daemon did over the network, for -o stats= (remote.*). */
struct remote_counters {
	atomic_ulong requests;		/* ranged GETs sent (retries too) */
	atomic_ulong bytes;		/* body bytes received */
	atomic_ulong retries;		/* GETs sent again after a failure */
	atomic_ulong failures;		/* GETs given up: EIO for a reader */
	atomic_ulong crc_failures;	/* fetched blocks that failed their
					 * CRC (refetched once, then EIO) */
	atomic_ulong blocks_fetched;	/* blocks checked and cached */
	atomic_ulong cache_checked;	/* blocks found in the cache and
					 * checked before first use */
};

/* How to reach the object (fixed at mount). */
struct http_conf {
	char *url;		/* the http(s) URL asked for */
	char *sigv4;		/* CURLOPT_AWS_SIGV4 for s3://, else NULL */
	char *userpwd;		/* "KEY:SECRET" for SigV4 */
	char *token_header;	/* "x-amz-security-token: ..." or NULL */
	const char *s3_header;	/* x-amz-content-sha256 for s3://, or NULL */
	char *cacert;		/* CA bundle, or NULL: the system's */
	long timeout;		/* seconds a request may take, connect too */
	unsigned int retries;	/* further tries of a failed request */
	struct remote_counters *counters;
};

/* The object as its first reply described it; later replies must agree. */
struct http_object {
	uint64_t size;
	char etag[256];		/* "" if the server sent none */
	char modified[64];	/* Last-Modified, "" if none */
};

/* One per thread: a libcurl handle keeps its connection between calls. */
struct http_handle;
struct http_handle *http_handle_new(const struct http_conf *c);
void http_handle_free(struct http_handle *h);
int http_global_init(void);
void http_global_free(void);

/*
 * GET bytes [from, from + len) into buf.  obj NULL (the first request):
 * the size is not known yet, a shorter answer that ends at the object's
 * end is taken, and *obj_out is filled from it.  Otherwise the reply must
 * be exactly the range asked, of an object of obj's size and validator.
 * *got: the bytes received.  0, or -EIO (why: the reason, for a message),
 * -ESTALE (the object changed), -ENETUNREACH (no answer at all, after
 * the retries).
 */
int http_get(struct http_handle *h, const struct http_object *obj,
	     uint64_t from, size_t len, uint8_t *buf, size_t *got,
	     struct http_object *obj_out, char *why, size_t why_size);

/*
 * The cache of one object: CACHE/BASE.img, a sparse file of the image's
 * size holding the blocks fetched so far, and CACHE/BASE.map, a header
 * naming the object (size, block size, validator) and one bit per block
 * that is present.  Both are shared between daemons: blocks are written
 * with pwrite before their bit is set with an atomic OR in the shared
 * mapping of the .map file, and creation runs under flock(LOCK_EX).
 */
struct cache {
	int img_fd, map_fd;
	uint8_t *map;
	size_t map_len;
	atomic_ulong *bits;
	uint64_t size, blocks;
	uint32_t block_log2;
};

int cache_open(struct cache *c, const char *dir, const char *base,
	       uint64_t size, uint32_t block_log2, const char *validator,
	       char *why, size_t why_size);
void cache_close(struct cache *c);
int cache_has(const struct cache *c, uint64_t block);
void cache_mark(struct cache *c, uint64_t block);
uint64_t cache_count(const struct cache *c);
/* Write [off, off + len) whole: 0 or a negative errno (ENOSPC...). */
int cache_store(struct cache *c, uint64_t off, const uint8_t *buf,
		size_t len);
/* The header's validator, for an offline mount. */
const char *cache_validator(const struct cache *c);
/* CACHE/url-HASH names the cache of a URL, for mounting it offline. */
int cache_link_write(const char *dir, const char *url, const char *base);
int cache_link_read(const char *dir, const char *url, char *base,
		    size_t size);
uint64_t cache_hash(const char *s);

#endif /* XIPFSD_REMOTE_H */
