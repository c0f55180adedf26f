/* SPDX-License-Identifier: MIT */
/*
 * Remote sources: an image on an HTTP(S) server or in S3, mounted lazily
 * through a local cache (cache.c) and fetched with ranged GETs (http.c).
 *
 * At mount the first request (bytes 0 to 64K) gives the object's size,
 * validator (ETag, else Last-Modified) and superblock; the superblock
 * names the cache (UUID, size, validator), and the metadata [0,
 * data_offset) and the data CRC table [crc_offset, image_size) are
 * fetched unless the cache holds them, and checked (meta_crc, the table's
 * own CRC) before anything trusts them.  The daemon then maps the cache
 * file as it maps a local image: every request but READ needs metadata
 * only.  READ asks xipfsd_remote_need() first for the image bytes it will
 * serve; blocks not yet checked in this mount are checked from the cache,
 * or fetched in chunks (-o remote_chunk, growing up to
 * -o remote_readahead while a reader goes on in order), checked against
 * the CRC table, written to the cache, and only then marked.  A block
 * that fails its CRC is fetched once more, then its READ gets EIO; a
 * server that cannot be reached costs the READs that need missing bytes
 * EIO after -o remote_retries tries of -o remote_timeout seconds each,
 * and the next READ tries again.  If the server cannot be reached at
 * mount, the cache the URL used last is mounted offline.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"
#include "xipfsd.h"

#define FIRST_FETCH	(64u * 1024)	/* the first GET: superblock+ */
#define WORD_BITS	(8 * sizeof(unsigned long))

struct xipfsd_remote {
	struct http_conf http;
	struct http_object obj;
	struct remote_counters n;
	char *shown;			/* the URL without its query */
	char *cache_dir;
	char base[128];			/* the cache's name */
	struct cache cache;
	int offline;			/* the server was not reached */
	uint64_t first_got;		/* bytes the first GET stored */
	uint32_t block_log2;
	uint64_t chunk_blocks, max_window;
	uint64_t data_first, data_end;	/* blocks of the data region */
	atomic_ulong *checked;		/* per block: checked in this mount */
	atomic_ulong next_chunk, window;	/* the sequential reader */
	atomic_ulong *inflight;		/* per chunk: a thread fetches it */
	pthread_mutex_t flight;		/* claims and waits for inflight */
	pthread_cond_t landed;		/* a fetch ended */
	pthread_key_t key;		/* each thread's handle and buffer */
	int key_made;
	int prefetch;
	pthread_t prefetch_thread;
	int prefetching;
	atomic_int stop;
};

struct remote_thread {
	struct http_handle *h;
	uint8_t *buf;
	size_t size;
};

int xipfsd_remote_url(const char *source)
{
	return !strncmp(source, "http://", 7) ||
	       !strncmp(source, "https://", 8) || !strncmp(source, "s3://", 5);
}

int xipfsd_remote_on(const struct xipfsd *d)
{
	return d->remote != NULL;
}

const char *xipfsd_remote_shown(const struct xipfsd *d)
{
	return d->remote->shown;
}

/* The cache directory: cache=, else $XDG_CACHE_HOME/xipfs, else
 * ~/.cache/xipfs; made (0700) if missing; absolute, since a daemon in the
 * background runs in /. */
static char *cache_dir(const char *given)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *dir = NULL, *p, *abs;

	if (given)
		dir = strdup(given);
	else if (xdg && *xdg == '/')
		(void)!asprintf(&dir, "%s/xipfs", xdg);
	else if (home && *home == '/')
		(void)!asprintf(&dir, "%s/.cache/xipfs", home);
	if (!dir)
		return NULL;
	/* mkdir -p: each component in turn */
	for (p = dir + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				*p = c;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	abs = realpath(dir, NULL);
	free(dir);
	return abs;
}

/*
 * s3://BUCKET/KEY: signed with SigV4 (libcurl's CURLOPT_AWS_SIGV4) from
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), in
 * AWS_REGION (s3_region=); at s3_endpoint= (or AWS_ENDPOINT_URL) path
 * style, else at the bucket's AWS host.  -1 after a message.
 */
static int s3_setup(struct xipfsd_remote *r, const char *source,
		    const char *endpoint, const char *region)
{
	const char *path = source + 5, *slash = strchr(path, '/');
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	int bad;

	if (!slash || slash == path || !slash[1]) {
		fprintf(stderr, "xipfs: %s: expected s3://BUCKET/KEY\n",
			source);
		return -1;
	}
	if (!id || !secret) {
		fprintf(stderr, "xipfs: %s: needs AWS_ACCESS_KEY_ID and "
			"AWS_SECRET_ACCESS_KEY (for a public object, use its "
			"https:// URL)\n", source);
		return -1;
	}
	endpoint = endpoint ? endpoint : getenv("AWS_ENDPOINT_URL");
	region = region ? region : getenv("AWS_REGION");
	region = region ? region : getenv("AWS_DEFAULT_REGION");
	region = region ? region : "us-east-1";
	if (endpoint)
		bad = asprintf(&r->http.url, "%s%s%s", endpoint,
			       endpoint[strlen(endpoint) - 1] == '/' ? "" :
			       "/", path) < 0;
	else
		bad = asprintf(&r->http.url, "https://%.*s.s3.%s."
			       "amazonaws.com%s", (int)(slash - path), path,
			       region, slash) < 0;
	bad |= asprintf(&r->http.sigv4, "aws:amz:%s:s3", region) < 0;
	bad |= asprintf(&r->http.userpwd, "%s:%s", id, secret) < 0;
	if (token)
		bad |= asprintf(&r->http.token_header,
				"x-amz-security-token: %s", token) < 0;
	/* S3 wants the payload's hash among the signed headers: a GET's
	 * is the SHA-256 of nothing, the hash libcurl signs with. */
	r->http.s3_header = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8"
			    "996fb92427ae41e4649b934ca495991b7852b855";
	return bad ? -1 : 0;
}

int xipfsd_remote_setup(struct xipfsd *d, const char *source,
			const struct xipfsd_remote_options *o)
{
	struct xipfsd_remote *r;
	const char *ca = o->cacert;

	if (!xipfsd_remote_url(source))
		return 0;
	if (o->chunk < 4096 || (o->chunk & (o->chunk - 1)) ||
	    o->readahead < o->chunk) {
		fprintf(stderr, "xipfs: remote_chunk= must be a power of two "
			"of 4K or more, and remote_readahead= at least as "
			"large\n");
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto fail;
	d->remote = r;
	pthread_mutex_init(&r->flight, NULL);
	pthread_cond_init(&r->landed, NULL);
	if (http_global_init()) {
		free(r);
		d->remote = NULL;
		goto fail;
	}
	r->cache.img_fd = r->cache.map_fd = -1;
	r->http.counters = &r->n;
	r->http.timeout = (long)o->timeout;
	r->http.retries = o->retries;
	r->prefetch = o->prefetch;
	/* libcurl reads no CA variable itself; curl(1)'s are honoured. */
	ca = ca ? ca : getenv("CURL_CA_BUNDLE");
	ca = ca ? ca : getenv("SSL_CERT_FILE");
	if (ca && !(r->http.cacert = strdup(ca)))
		goto fail;
	if (!strncmp(source, "s3://", 5)) {
		if (s3_setup(r, source, o->s3_endpoint, o->s3_region))
			return -1;
	} else if (!(r->http.url = strdup(source))) {
		goto fail;
	}
	/* A presigned URL's query is a credential: kept out of messages,
	 * the stats and /proc/mounts. */
	r->shown = strndup(source, strcspn(source, "?"));
	r->cache_dir = cache_dir(o->cache);
	r->chunk_blocks = o->chunk;	/* in bytes until the block size */
	r->max_window = o->readahead;
	if (!r->shown || !r->cache_dir)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "xipfs: %s: cannot set up the remote source (out of "
		"memory, or no cache directory: set HOME or cache=)\n",
		source);
	return -1;
}

/* The thread's handle and a buffer of at least size bytes. */
static struct remote_thread *thread_get(struct xipfsd_remote *r,
					size_t size)
{
	struct remote_thread *t = pthread_getspecific(r->key);

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->h = http_handle_new(&r->http);
		if (!t->h || pthread_setspecific(r->key, t)) {
			http_handle_free(t->h);
			free(t);
			return NULL;
		}
	}
	if (t->size < size) {
		free(t->buf);
		t->buf = malloc(size);
		t->size = t->buf ? size : 0;
		if (!t->buf)
			return NULL;
	}
	return t;
}

static void thread_free(void *p)
{
	struct remote_thread *t = p;

	http_handle_free(t->h);
	free(t->buf);
	free(t);
}

static int bit_test(atomic_ulong *map, uint64_t i)
{
	return (atomic_load_explicit(&map[i / WORD_BITS],
				     memory_order_acquire) >> (i % WORD_BITS)) & 1;
}

static void bit_set(atomic_ulong *map, uint64_t i)
{
	atomic_fetch_or_explicit(&map[i / WORD_BITS], 1UL << (i % WORD_BITS),
				 memory_order_release);
}

static void say(struct xipfsd *d, const char *what, const char *why)
{
	if (xipfsd_may_complain(d))
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: %s: %s\n", d->source, what,
			 why);
}

/* Image bytes [off, off + len) fetched, through the thread's buffer,
 * into the cache file as they are (metadata: checked by the caller). */
static int fetch_raw(struct xipfsd_remote *r, uint64_t off, uint64_t len,
		     char *why, size_t why_size)
{
	struct remote_thread *t;
	size_t step = r->max_window, got;
	int err;

	while (len) {
		step = len < step ? (size_t)len : step;
		t = thread_get(r, step);
		if (!t) {
			snprintf(why, why_size, "out of memory");
			return -ENOMEM;
		}
		err = http_get(t->h, &r->obj, off, step, t->buf, &got, NULL,
			       why, why_size);
		if (!err && (err = cache_store(&r->cache, off, t->buf, step)))
			snprintf(why, why_size, "writing the cache: %s",
				 strerror(-err));
		if (err)
			return err;
		off += step;
		len -= step;
	}
	return 0;
}

/* Are blocks [first, end) all marked present in the cache? */
static int cached(const struct xipfsd_remote *r, uint64_t first,
		  uint64_t end)
{
	for (uint64_t b = first; b < end; b++)
		if (!cache_has(&r->cache, b))
			return 0;
	return 1;
}

static uint64_t blocks_of(const struct xipfsd_remote *r, uint64_t bytes)
{
	return (bytes + (1ULL << r->block_log2) - 1) >> r->block_log2;
}

/* The metadata CRC table (XIPFS_RO_COMPAT_META_CRC), which follows the
 * data CRC table and is fetched with it, is whole; an image without one
 * has nothing more to check. */
static int meta_table_good(const struct xipfs_image *img)
{
	int err = xipfs_meta_crc_check_table(img);

	return !err || err == -ENODATA;
}

/*
 * The metadata and the CRC table in the cache, checked: fetched unless
 * present, and fetched once more if what the cache held fails its CRC.
 * img: opened over the cache's mapping.  0 or -1 after a message.
 */
static int settle_metadata(struct xipfsd *d, const struct xipfs_image *img)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t meta_end = blocks_of(r, img->data_offset);
	uint64_t table = img->crc_offset >> r->block_log2;
	uint64_t end = blocks_of(r, img->image_size);
	char why[256] = "";
	int err = 0;

	for (int pass = 0; pass < 2; pass++) {
		/* the first GET's bytes are in the cache already */
		uint64_t from = pass ? 0 : r->first_got;

		if ((pass || !cached(r, 0, meta_end)) &&
		    from < img->data_offset)
			err = fetch_raw(r, from, img->data_offset - from, why,
					sizeof(why));
		if (!err && (pass || !cached(r, table, end)))
			err = fetch_raw(r, img->crc_offset, img->image_size -
					img->crc_offset, why, sizeof(why));
		if (err)
			break;
		if (!xipfs_check_meta_crc(img) &&
		    !xipfs_data_crc_check_table(img) &&
		    meta_table_good(img)) {
			for (uint64_t b = 0; b < end; b++)
				if (b < meta_end || b >= table)
					cache_mark(&r->cache, b);
			return 0;
		}
		snprintf(why, sizeof(why), "the metadata or the CRC table "
			 "fails its CRC");
		if (r->offline)
			break;
	}
	fprintf(stderr, "xipfs: %s: %s\n", d->source, why);
	return -1;
}

/* The object's first bytes: size, validator and superblock.  -EAGAIN:
 * the server was not reached (an offline mount may follow). */
static int first_fetch(struct xipfsd *d, struct xipfs_image *img,
		       uint8_t *buf)
{
	struct xipfsd_remote *r = d->remote;
	/* no more than a chunk: what a server is asked for at once */
	size_t first = r->chunk_blocks < FIRST_FETCH ? r->chunk_blocks :
		       FIRST_FETCH;
	struct remote_thread *t = thread_get(r, first);
	char why[256];
	size_t got;
	int err;

	if (!t) {
		fprintf(stderr, "xipfs: %s: cannot start libcurl\n",
			d->source);
		return -1;
	}
	err = http_get(t->h, NULL, 0, first, buf, &got, &r->obj, why,
		       sizeof(why));
	if (err) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source, why);
		return err == -ENETUNREACH ? -EAGAIN : -1;
	}
	/* Only the superblock is read: the length claimed is the object's,
	 * which xipfs_image_open checks image_size against.  The buffer
	 * ends long before that, so nothing past the superblock (the
	 * metadata CRC table) may be looked at. */
	err = got < XIPFS_SUPER_SIZE ? -XIPFS_ETRUNC :
	      xipfs_image_open_flags(img, buf, r->obj.size,
				     XIPFS_OPEN_NO_META_CHECK);
	if (err) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source,
			xipfs_strerror(err));
		return -1;
	}
	if (!(img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC)) {
		fprintf(stderr, "xipfs: %s: the image has no data checksums "
			"(mkxipfs --no-data-crc), which a remote source "
			"needs to check what it fetches\n", d->source);
		return -1;
	}
	return (int)got;
}

/* The cache's name: UUID, size, validator's hash. */
static void name_cache(struct xipfsd_remote *r, const struct xipfs_image *img,
		       const char *validator)
{
	char *p = r->base;

	for (int i = 0; i < 16; i++)
		p += sprintf(p, "%02x", img->uuid[i]);
	sprintf(p, "-%" PRIu64 "-%016" PRIx64, img->image_size,
		cache_hash(validator));
}

/* The validator the cache is keyed by, and later replies must match. */
static void validator_of(const struct http_object *o, char *out, size_t n)
{
	if (o->etag[0])
		snprintf(out, n, "etag:%s", o->etag);
	else if (o->modified[0])
		snprintf(out, n, "modified:%s", o->modified);
	else
		snprintf(out, n, "none");
}

/* Offline: the cache this URL used last, its validator back into obj. */
static int open_offline(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;
	const char *v;
	char why[256];

	if (cache_link_read(r->cache_dir, r->shown, r->base,
			    sizeof(r->base)) ||
	    cache_open(&r->cache, r->cache_dir, r->base, 0, 0, NULL, why,
		       sizeof(why))) {
		fprintf(stderr, "xipfs: %s: not reachable, and no cache of "
			"it in %s\n", d->source, r->cache_dir);
		return -1;
	}
	v = cache_validator(&r->cache);
	r->obj.size = r->cache.size;
	if (!strncmp(v, "etag:", 5))
		snprintf(r->obj.etag, sizeof(r->obj.etag), "%s", v + 5);
	else if (!strncmp(v, "modified:", 9))
		snprintf(r->obj.modified, sizeof(r->obj.modified), "%s", v + 9);
	r->offline = 1;
	fprintf(stderr, "xipfs: %s: not reachable; mounting its cache "
		"(%" PRIu64 " of %" PRIu64 " blocks)\n", d->source,
		cache_count(&r->cache), r->cache.blocks);
	return 0;
}

/* Online: the cache of what the first reply described. */
static int open_online(struct xipfsd *d, const struct xipfs_image *img,
		       const uint8_t *first, size_t got)
{
	struct xipfsd_remote *r = d->remote;
	char validator[400], why[256];
	uint64_t keep = got < img->data_offset ? got : img->data_offset;

	validator_of(&r->obj, validator, sizeof(validator));
	name_cache(r, img, validator);
	if (cache_open(&r->cache, r->cache_dir, r->base, img->image_size,
		       img->block_log2, validator, why, sizeof(why))) {
		fprintf(stderr, "xipfs: %s: cache: %s\n", d->source, why);
		return -1;
	}
	/* The first reply's metadata bytes, checked with the rest later. */
	r->first_got = keep;
	if (cache_store(&r->cache, 0, first, (size_t)keep)) {
		fprintf(stderr, "xipfs: %s: cache: %s\n", d->source,
			strerror(errno));
		return -1;
	}
	if (cache_link_write(r->cache_dir, r->shown, r->base))
		fprintf(stderr, "xipfs: %s: no offline entry in %s: %s\n",
			d->source, r->cache_dir, strerror(errno));
	return 0;
}

/* The cache file mapped as the source; -1 after a message. */
static int map_cache(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)((r->cache.size + (uint64_t)page - 1) &
			      ~((uint64_t)page - 1));

	memset(&d->map, 0, sizeof(d->map));
	d->map.fd = dup(r->cache.img_fd);
	d->map.addr = d->map.fd < 0 ? MAP_FAILED :
		      mmap(NULL, len, PROT_READ, MAP_SHARED, d->map.fd, 0);
	if (d->map.addr == MAP_FAILED) {
		fprintf(stderr, "xipfs: %s: mapping the cache: %s\n",
			d->source, strerror(errno));
		d->map.addr = NULL;
		return -1;
	}
	d->map.map_len = len;
	d->map.image = d->map.addr;
	d->map.length = r->cache.size;
	d->map.type = S_IFREG;
	return 0;
}

/* The per-mount state the READ path needs, once the image is known. */
static int remote_geometry(struct xipfsd *d, const struct xipfs_image *img)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t words = (r->cache.blocks + WORD_BITS - 1) / WORD_BITS;

	r->block_log2 = img->block_log2;
	r->chunk_blocks >>= r->block_log2;
	r->max_window >>= r->block_log2;
	if (!r->chunk_blocks)
		r->chunk_blocks = 1;
	/* no reader has gone on in order yet, not even from chunk 0 */
	atomic_store(&r->next_chunk, UINT64_MAX);
	r->data_first = img->data_offset >> r->block_log2;
	r->data_end = img->crc_offset >> r->block_log2;
	r->checked = calloc(words ? words : 1, sizeof(*r->checked));
	r->inflight = calloc((r->cache.blocks / r->chunk_blocks) / WORD_BITS + 1,
			     sizeof(*r->inflight));
	if (!r->checked || !r->inflight) {
		fprintf(stderr, "xipfs: %s: out of memory\n", d->source);
		return -1;
	}
	for (uint64_t b = 0; b < r->cache.blocks; b++)
		if (b < r->data_first || b >= r->data_end)
			bit_set(r->checked, b);
	return 0;
}

int xipfsd_remote_open(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;
	struct xipfs_image img;
	uint8_t *first = malloc(FIRST_FETCH);
	int got, err = -1;

	/* Each thread's handle and buffer, from the first request on. */
	if (!first || pthread_key_create(&r->key, thread_free)) {
		free(first);
		fprintf(stderr, "xipfs: %s: out of memory\n", d->source);
		return -1;
	}
	r->key_made = 1;
	got = first_fetch(d, &img, first);
	if (got == -EAGAIN)
		err = open_offline(d);
	else if (got >= 0)
		err = open_online(d, &img, first, (size_t)got);
	free(first);
	if (err || map_cache(d))
		return -1;
	/* The cache may not hold the tables yet: settle_metadata fetches
	 * and checks them. */
	err = xipfs_image_open_flags(&img, d->map.image, d->map.length,
				     XIPFS_OPEN_NO_META_CHECK);
	if (err) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source,
			xipfs_strerror(err));
		return -1;
	}
	if (img.image_size != r->cache.size) {
		fprintf(stderr, "xipfs: %s: the cache %s/%s does not match "
			"its image (remove it)\n", d->source, r->cache_dir,
			r->base);
		return -1;
	}
	r->block_log2 = img.block_log2;
	return settle_metadata(d, &img) || remote_geometry(d, &img) ? -1 : 0;
}

/*
 * Blocks [first, end) of the data region fetched, each checked against
 * the CRC table, the good ones stored and marked.  0, or an errno with
 * *why (a block that fails: -EIO).
 */
static int fetch_blocks(struct xipfsd *d, uint64_t first, uint64_t end,
			char *why, size_t why_size)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t bs = 1ULL << r->block_log2, off = first << r->block_log2;
	size_t len = (size_t)((end - first) << r->block_log2), got;
	struct remote_thread *t = thread_get(r, len);
	int err, bad = 0;

	if (!t) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	err = http_get(t->h, &r->obj, off, len, t->buf, &got, NULL, why,
		       why_size);
	if (err)
		return err;
	for (uint64_t b = first; b < end; b++) {
		const uint8_t *p = t->buf + ((b - first) << r->block_log2);

		if (xipfs_data_block_check_bytes(&d->img, b - r->data_first,
						 p)) {
			atomic_fetch_add_explicit(&r->n.crc_failures, 1,
						  memory_order_relaxed);
			bad = 1;
			continue;
		}
		err = cache_store(&r->cache, b * bs, p, (size_t)bs);
		if (err) {
			snprintf(why, why_size, "writing the cache: %s",
				 strerror(-err));
			return err;
		}
		cache_mark(&r->cache, b);
		bit_set(r->checked, b);
		xipfsd_verify_note_good(d, b - r->data_first);
		atomic_fetch_add_explicit(&r->n.blocks_fetched, 1,
					  memory_order_relaxed);
	}
	if (bad)
		snprintf(why, why_size, "the server's bytes fail their data "
			 "CRC");
	return bad ? -EIO : 0;
}

/* A block the cache holds, checked before its first use here. */
static int check_cached(struct xipfsd *d, uint64_t b)
{
	struct xipfsd_remote *r = d->remote;

	if (!cache_has(&r->cache, b))
		return 0;
	if (xipfs_data_block_check(&d->img, b - r->data_first))
		return 0;	/* fetched again */
	atomic_fetch_add_explicit(&r->n.cache_checked, 1,
				  memory_order_relaxed);
	bit_set(r->checked, b);
	xipfsd_verify_note_good(d, b - r->data_first);
	return 1;
}

/*
 * How many chunks to fetch from chunk c: more while readers go on in
 * order (doubling up to remote_readahead), one otherwise.  The kernel's
 * readahead sends several READs at once, which daemon threads answer in
 * any order, so "in order" is a chunk within one window of where the
 * last fetch ended, not exactly there.  Threads race on the two values;
 * a lost update costs one request of another size, nothing else.
 */
static uint64_t window_for(struct xipfsd_remote *r, uint64_t c)
{
	uint64_t w = atomic_load_explicit(&r->window, memory_order_relaxed);
	uint64_t next = atomic_load_explicit(&r->next_chunk,
					     memory_order_relaxed);
	uint64_t max = r->max_window / r->chunk_blocks;

	max = max ? max : 1;
	if (next != UINT64_MAX && c + max >= next && c <= next + max)
		w = w * 2 > max ? max : (w ? w * 2 : 1);
	else
		w = 1;
	atomic_store_explicit(&r->window, w, memory_order_relaxed);
	if (next == UINT64_MAX || c + w > next)
		atomic_store_explicit(&r->next_chunk, c + w,
				      memory_order_relaxed);
	return w;
}

static void bit_clear(atomic_ulong *map, uint64_t i)
{
	atomic_fetch_and_explicit(&map[i / WORD_BITS],
				  ~(1UL << (i % WORD_BITS)),
				  memory_order_release);
}

/* Is the first block of chunk c here (checked, or in the cache)? */
static int chunk_started(struct xipfsd_remote *r, uint64_t c)
{
	uint64_t b = c * r->chunk_blocks;

	return bit_test(r->checked, b) || cache_has(&r->cache, b);
}

/*
 * Claim chunk c, which the caller needs for block b, and up to w - 1
 * chunks after it that no thread fetches and that are not here yet;
 * under r->flight.  The number claimed, or 0 when b arrived while the
 * caller waited for another thread's fetch of c.  Claims keep two
 * threads from fetching the same bytes: the kernel's readahead sends
 * READs of neighbouring chunks at once.
 */
static uint64_t claim(struct xipfsd_remote *r, uint64_t b, uint64_t c,
		      int ahead)
{
	uint64_t n = 1, w, last = (r->data_end - 1) / r->chunk_blocks;

	while (bit_test(r->inflight, c))
		pthread_cond_wait(&r->landed, &r->flight);
	if (bit_test(r->checked, b))
		return 0;
	bit_set(r->inflight, c);
	w = ahead ? window_for(r, c) : 1;
	while (n < w && c + n <= last && !bit_test(r->inflight, c + n) &&
	       !chunk_started(r, c + n))
		bit_set(r->inflight, c + n++);
	return n;
}

static void release(struct xipfsd_remote *r, uint64_t c, uint64_t n)
{
	pthread_mutex_lock(&r->flight);
	for (uint64_t i = c; i < c + n; i++)
		bit_clear(r->inflight, i);
	pthread_cond_broadcast(&r->landed);
	pthread_mutex_unlock(&r->flight);
}

/* The missing blocks of chunks [c, c + n) fetched, a second time if the
 * first fails its CRC.  0 or an errno. */
static int fetch_chunks(struct xipfsd *d, uint64_t c, uint64_t n)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t first = c * r->chunk_blocks, end = (c + n) * r->chunk_blocks;
	char why[256];
	int err = 0;

	first = first < r->data_first ? r->data_first : first;
	end = end > r->data_end ? r->data_end : end;
	while (first < end && (bit_test(r->checked, first) ||
			       check_cached(d, first)))
		first++;
	if (first >= end)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		err = fetch_blocks(d, first, end, why, sizeof(why));
		if (err != -EIO || r->offline)
			break;
	}
	if (err)
		say(d, "fetching", why);
	return err;
}

/* Every block of [first, end) checked in this mount; 0 or an errno. */
static int need_blocks(struct xipfsd *d, uint64_t first, uint64_t end,
		       int ahead)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t c, n;
	int err;

	for (uint64_t b = first; b < end; b++) {
		if (bit_test(r->checked, b) || check_cached(d, b))
			continue;
		if (r->offline) {
			say(d, "reading", "a block not in the cache, and the "
			    "server was not reachable at mount");
			return EIO;
		}
		c = b / r->chunk_blocks;
		pthread_mutex_lock(&r->flight);
		n = claim(r, b, c, ahead);
		pthread_mutex_unlock(&r->flight);
		err = n ? fetch_chunks(d, c, n) : 0;
		if (n)
			release(r, c, n);
		if (!err && !bit_test(r->checked, b))
			err = -EIO;
		if (err)
			return EIO;
	}
	return 0;
}

int xipfsd_remote_need(struct xipfsd *d, const struct xipfs_inode_info *inode,
		       uint64_t off, size_t size)
{
	struct xipfsd_remote *r = d->remote;
	uint64_t at, len, first, end;

	if (!r || xipfs_file_stored_range(&d->img, inode, off, size, &at,
					  &len) || len == 0)
		return 0;	/* the read path says what is wrong */
	first = at >> r->block_log2;
	end = (at + len + (1ULL << r->block_log2) - 1) >> r->block_log2;
	if (first < r->data_first)
		first = r->data_first;
	if (end > r->data_end)
		end = r->data_end;
	return first < end ? need_blocks(d, first, end, 1) : 0;
}

/* -o prefetch: every data block, in order, in the background. */
static void *prefetch_main(void *arg)
{
	struct xipfsd *d = arg;
	struct xipfsd_remote *r = d->remote;
	uint64_t step = r->max_window;

	for (uint64_t b = r->data_first; b < r->data_end; b += step) {
		uint64_t end = b + step > r->data_end ? r->data_end : b + step;

		if (atomic_load(&r->stop) || need_blocks(d, b, end, 1)) {
			fuse_log(FUSE_LOG_WARNING, "xipfs: %s: prefetch "
				 "stopped at block %" PRIu64 "\n", d->source,
				 b);
			return NULL;
		}
	}
	fuse_log(FUSE_LOG_INFO, "xipfs: %s: prefetch done\n", d->source);
	return NULL;
}

int xipfsd_remote_start(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;
	int err;

	if (!r || !r->prefetch)
		return 0;
	err = xipfsd_thread_start(&r->prefetch_thread, prefetch_main, d);
	r->prefetching = !err;
	return err;
}

void xipfsd_remote_stop(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;

	if (!r || !r->prefetching)
		return;
	atomic_store(&r->stop, 1);
	pthread_join(r->prefetch_thread, NULL);
	r->prefetching = 0;
}

static void json_count(FILE *f, const char *name, atomic_ulong *v)
{
	fprintf(f, ",\n    \"%s\": %lu", name,
		atomic_load_explicit(v, memory_order_relaxed));
}

/* The "remote" object of -o stats=: off, or what the network did. */
void xipfsd_remote_json(FILE *f, struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;

	fprintf(f, "  \"remote\": {\n    \"on\": %s", r ? "true" : "false");
	if (r) {
		fprintf(f, ",\n    \"offline\": %s", r->offline ? "true" :
			"false");
		json_count(f, "requests", &r->n.requests);
		json_count(f, "bytes", &r->n.bytes);
		json_count(f, "retries", &r->n.retries);
		json_count(f, "failures", &r->n.failures);
		json_count(f, "crc_failures", &r->n.crc_failures);
		json_count(f, "blocks_fetched", &r->n.blocks_fetched);
		json_count(f, "cache_checked", &r->n.cache_checked);
		fprintf(f, ",\n    \"blocks\": %" PRIu64 ",\n    "
			"\"blocks_cached\": %" PRIu64, r->cache.blocks,
			r->cache.map ? cache_count(&r->cache) : 0);
	}
	fputs("\n  },\n", f);
}

void xipfsd_remote_free(struct xipfsd *d)
{
	struct xipfsd_remote *r = d->remote;
	struct remote_thread *t;

	if (!r)
		return;
	xipfsd_remote_stop(d);
	if (r->key_made) {
		t = pthread_getspecific(r->key);
		if (t)
			thread_free(t);
		pthread_key_delete(r->key);
	}
	cache_close(&r->cache);
	free(r->checked);
	free(r->http.url);
	free(r->http.sigv4);
	free(r->http.userpwd);
	free(r->http.token_header);
	free(r->http.cacert);
	free(r->shown);
	free(r->cache_dir);
	pthread_mutex_destroy(&r->flight);
	pthread_cond_destroy(&r->landed);
	free(r->inflight);
	free(r);
	d->remote = NULL;
	http_global_free();
}
