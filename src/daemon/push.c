/* SPDX-License-Identifier: MIT */
/*
 * Push-ahead: when the files of a directory start being read, a thread of
 * its own stores the data of the small files that follow, in directory
 * order, into the kernel's page cache (fuse_lowlevel_notify_store), so the
 * reader's next read() is served from the cache with no round trip.
 *
 * - The trigger is the first READ of a file (offset 0) whose directory
 *   entry the mount has handed out, not a listing: a stat walk lists
 *   everything and reads nothing, and must not pay for pushes.
 * - The kernel keeps pages only for an inode it has in its cache, so
 *   only entries handed out by READDIRPLUS (which the mount always uses)
 *   or LOOKUP are known; notify_store answers ENOENT for the rest.
 * - A thread, never a request handler: libfuse warns that a notification
 *   sent from inside a handler can deadlock against the kernel.
 * - Bounded: files of at most push_max bytes, at most push_window entries
 *   and push_budget bytes ahead of the reader, one reader followed at a
 *   time (the last directory read from wins), nothing once the reader
 *   stops.  Memory: 13 bytes per inode, a window ring and one buffer.
 * - Only inodes the kernel still holds are pushed: the lookups it was
 *   given (entries handed out) less those it forgot (FORGET), so a reader
 *   that looks every file up as it opens it costs no refused pushes.
 * - A file is pushed (or counted read) once per life of its inode in the
 *   kernel: a FORGET comes when the kernel evicts the inode, with its
 *   pages, so the file becomes pushable again (a mount that outlives drop_caches or
 *   memory pressure keeps the benefit).
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfsd.h"

/* struct xipfsd_push.state: not yet, pushed, read, never (damaged) */
enum { PUSH_NONE, PUSH_DONE, PUSH_READ, PUSH_DAMAGED };

struct xipfsd_push_slot {
	uint32_t index;		/* entry pushed, ahead of the reader */
	uint64_t bytes;
};

/* The mount's push-ahead, made by xipfsd_push_setup when it is on. */
struct xipfsd_push {
	/* settings, fixed before the first request */
	uint64_t max_file;	/* push_max: largest file pushed */
	uint32_t window;	/* push_window: entries ahead of the reader */
	uint64_t budget;	/* push_budget: bytes ahead of the reader */
	/* per inode: the directory and entry index it was handed out from */
	_Atomic uint32_t *dir_of, *index_of;
	_Atomic uint32_t *known;	/* lookups the kernel holds */
	atomic_uchar *state;	/* per inode: not yet, pushed, read */
	/* the reader followed, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uint32_t dir;		/* its directory */
	uint32_t reader;	/* entry index it read last */
	uint32_t next, limit;	/* entries to push: [next, limit) */
	struct xipfsd_push_slot *ring;	/* pushed, not yet reached */
	unsigned ring_head, ring_len;
	uint64_t ahead;		/* bytes in the ring */
	/* the thread's own */
	struct xipfs_zctx *zctx;	/* its reading context */
	uint8_t *checked;	/* with verify: bytes in place, checked */
	pthread_t thread;
	int running, stop;
};

int xipfsd_push_setup(struct xipfsd *d, const char *on, uint64_t max_file,
		      uint32_t window, uint64_t budget)
{
	struct xipfsd_push *p;

	if (on && strcmp(on, "on")) {
		if (strcmp(on, "off")) {
			fprintf(stderr, "xipfs: push=%s: expected on or off\n",
				on);
			return -1;
		}
		return 0;
	}
	/* nothing to push within these bounds: the same as push=off */
	if (!max_file || !window || !budget)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "xipfs: push-ahead: %s\n", strerror(ENOMEM));
		return -1;
	}
	p->max_file = max_file;
	p->window = window;
	p->budget = budget;
	d->push = p;
	return 0;
}

int xipfsd_push_on(const struct xipfsd *d)
{
	return d->push != NULL;
}

void xipfsd_push_note_entry(struct xipfsd *d, uint32_t dir, uint64_t cookie,
			    uint32_t ino)
{
	struct xipfsd_push *p = d->push;
	uint64_t index;

	/* cookie resumes after the entry: the index of a stored one */
	if (!p || ino == 0 || ino > d->img.inode_count ||
	    xipfs_dir_index_before(cookie, &index) || index > UINT32_MAX)
		return;
	/* each entry handed out with its inode is one lookup the kernel holds */
	atomic_fetch_add_explicit(&p->known[ino - 1], 1, memory_order_relaxed);
	atomic_store_explicit(&p->dir_of[ino - 1], dir, memory_order_relaxed);
	atomic_store_explicit(&p->index_of[ino - 1], (uint32_t)index,
			      memory_order_relaxed);
}

void xipfsd_push_note_forget(struct xipfsd *d, uint32_t ino, uint64_t nlookup)
{
	struct xipfsd_push *p = d->push;
	uint32_t had, left;

	if (!p || !p->running || ino == 0 || ino > d->img.inode_count)
		return;
	had = atomic_load_explicit(&p->known[ino - 1], memory_order_relaxed);
	do {
		left = nlookup >= had ? 0 : had - (uint32_t)nlookup;
	} while (!atomic_compare_exchange_weak(&p->known[ino - 1], &had, left));
	/* The kernel forgets an inode when it evicts it (all its lookups at
	 * once), and its pages go with it: the file is worth pushing again.
	 * Whatever the count says: the entry may have been handed out anew
	 * (another thread) before this FORGET of the old inode was seen. */
	atomic_store(&p->state[ino - 1], PUSH_NONE);
}

/* Entries the reader has passed leave the ring, and their bytes the budget. */
static void reader_passed(struct xipfsd_push *p, uint32_t index)
{
	while (p->ring_len && p->ring[p->ring_head].index <= index) {
		p->ahead -= p->ring[p->ring_head].bytes;
		p->ring_head = (p->ring_head + 1) % p->window;
		p->ring_len--;
	}
}

/* Does the kernel hold the inode of entry index of dir?  Called from the
 * READ handler, inside its image guard: O(1), no system call. */
static int next_held(struct xipfsd *d, uint32_t dir, uint32_t index)
{
	struct xipfs_inode_info di;
	struct xipfs_dirent_info de;

	if (xipfs_inode_get(&d->img, dir, &di) ||
	    xipfs_readdir(&d->img, &di, xipfs_dir_cookie(index), &de) != 1 ||
	    de.ino == 0 || de.ino > d->img.inode_count)
		return 0;
	return atomic_load_explicit(&d->push->known[de.ino - 1],
				    memory_order_relaxed) > 0;
}

void xipfsd_push_note_read(struct xipfsd *d, uint32_t ino, uint64_t off)
{
	struct xipfsd_push *p = d->push;
	uint32_t dir, index;

	if (!p || !p->running || off != 0 || ino == 0 ||
	    ino > d->img.inode_count)
		return;
	if (atomic_exchange(&p->state[ino - 1], PUSH_READ) == PUSH_DONE)
		atomic_fetch_add_explicit(&d->stats.push_missed, 1,
					  memory_order_relaxed);
	dir = atomic_load_explicit(&p->dir_of[ino - 1], memory_order_relaxed);
	if (!dir)
		return;
	index = atomic_load_explicit(&p->index_of[ino - 1],
				     memory_order_relaxed);
	/* nothing to push, nothing to lock or wake for: a reader whose next
	 * file the kernel does not hold yet (it looks each one up) */
	if (!next_held(d, dir, index + 1))
		return;
	pthread_mutex_lock(&p->lock);
	if (dir != p->dir || index <= p->reader || index >= p->next) {
		/* another directory, the same file or a step back (the
		 * directory read again, after the kernel forgot it), or past
		 * what was pushed: start over after this file */
		p->dir = dir;
		p->next = index + 1;
		p->ring_len = 0;
		p->ahead = 0;
	} else {
		reader_passed(p, index);
	}
	p->reader = index;
	p->limit = index + 1 + p->window;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

/*
 * The bytes of a small file, in place or decompressed into the thread's
 * reading context.  With verify, they go through the same checks as a
 * READ (and share its verdicts, once a block): bytes in place are read
 * into the thread's buffer, checked and stored from there; compressed
 * clusters are checked before they are decompressed.  A file with a block
 * that fails is not pushed (its READ then gets EIO); the one complaint for
 * it names it, whoever met it first.
 */
static const uint8_t *file_bytes(struct xipfsd *d,
				 const struct xipfs_inode_info *inode)
{
	int verify = xipfsd_verify_on(d);
	struct xipfs_file f;
	const uint8_t *bytes;
	ssize_t n;
	int err;

	if (xipfs_file_open(&d->img, inode, &f))
		return NULL;
	n = xipfs_file_pread(&d->img, &f, 0, inode->size,
			     verify && f.compressed ? XIPFS_READ_VERIFY : 0,
			     d->push->zctx, &bytes);
	if (n == (ssize_t)inode->size) {
		uint64_t at;

		if (!verify || f.compressed)
			return bytes;
		at = (uint64_t)(bytes - d->img.base);	/* bytes in place */
		if (xipfsd_verify_known(d, at, inode->size))
			return bytes;
		err = xipfsd_verify_copy(d, inode->ino, at, (size_t)inode->size,
					 d->push->checked, &bytes);
		if (!err)
			return bytes;
	} else {
		err = n < 0 ? (int)n : 0;
	}
	/* -EIO is verify's verdict: a damaged file stays damaged, and is
	 * never tried again */
	if (verify && err == -EIO) {
		atomic_store(&d->push->state[inode->ino - 1], PUSH_DAMAGED);
		atomic_fetch_add_explicit(&d->stats.push_damaged, 1,
					  memory_order_relaxed);
	}
	return NULL;
}

/*
 * Entry index of dir, if it is a small regular file not pushed or read
 * yet: its inode in *file.  1 if so, 0 if it is to be skipped, -1 if it
 * is one the kernel does not hold: the reader looks files up as it opens
 * them, and the entries after this one will not be held either.
 */
static int pushable(struct xipfsd *d, uint32_t dir, uint32_t index,
		    struct xipfs_inode_info *file)
{
	struct xipfsd_push *p = d->push;
	struct xipfs_inode_info di;
	struct xipfs_dirent_info de;

	if (xipfs_inode_get(&d->img, dir, &di) || !S_ISDIR(di.mode) ||
	    xipfs_readdir(&d->img, &di, xipfs_dir_cookie(index), &de) != 1 ||
	    de.type != DT_REG || xipfs_inode_get(&d->img, de.ino, file) ||
	    xipfs_entry_check(&di, &de, file))
		return 0;
	if (!file->size || file->size > p->max_file ||
	    atomic_load(&p->state[file->ino - 1]) != PUSH_NONE)
		return 0;
	/* an inode the kernel has forgotten (or never had) takes no pages:
	 * notify_store would only be refused */
	return atomic_load(&p->known[file->ino - 1]) ? 1 : -1;
}

/* Push one file: its size in bytes when the kernel took it, else 0. */
static uint64_t push_one(struct xipfsd *d, const struct xipfs_inode_info *file)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(file->size);
	const uint8_t *bytes = file_bytes(d, file);
	int err;

	if (!bytes)
		return 0;
	bv.buf[0].mem = (void *)bytes;
	/* NO_SPLICE: the bytes are in memory, and a splice the kernel
	 * refuses (ENOENT: no such inode) is logged by libfuse as an error */
	err = fuse_lowlevel_notify_store(d->se, xipfsd_to_fuse(d, file->ino), 0,
					 &bv, FUSE_BUF_NO_SPLICE);
	if (err == -ENOENT) {
		/* the kernel does not have the inode: nothing to store into */
		atomic_fetch_add_explicit(&d->stats.push_unknown, 1,
					  memory_order_relaxed);
		return 0;
	}
	if (err)
		return 0;
	atomic_store(&d->push->state[file->ino - 1], PUSH_DONE);
	atomic_fetch_add_explicit(&d->stats.push_files, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&d->stats.push_bytes, file->size,
				  memory_order_relaxed);
	xipfsd_resident_served(d, file->size);
	return file->size;
}

/*
 * Entry index of dir, under the image guard: a source lost under the mount
 * faults here as it would in a handler, and ends the pushing for good.
 */
static uint64_t push_entry(struct xipfsd *d, uint32_t dir, uint32_t index,
			   int *unknown, int *lost)
{
	struct xipfsd_guard g;
	struct xipfs_inode_info file;
	volatile uint64_t bytes = 0;	/* kept across the fault's jump */
	int r;

	if (sigsetjmp(g.env, 0)) {
		*lost = 1;
		return 0;
	}
	xipfsd_guard_current = &g;
	r = pushable(d, dir, index, &file);
	if (r > 0)
		bytes = push_one(d, &file);
	*unknown = r < 0;
	xipfsd_guard_end();
	return bytes;
}

static int has_work(const struct xipfsd_push *p)
{
	return p->next < p->limit && p->ring_len < p->window &&
	       p->ahead < p->budget;
}

static void *push_main(void *arg)
{
	struct xipfsd *d = arg;
	struct xipfsd_push *p = d->push;
	int lost = 0;

	pthread_mutex_lock(&p->lock);
	while (!p->stop && !lost) {
		uint32_t dir = p->dir, index = p->next;
		uint64_t bytes;
		int unknown;

		if (!has_work(p)) {
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		p->next++;
		pthread_mutex_unlock(&p->lock);
		bytes = push_entry(d, dir, index, &unknown, &lost);
		pthread_mutex_lock(&p->lock);
		/* one probe per READ for a reader whose files the kernel does
		 * not hold yet: the window ends here until it reads again */
		if (unknown && dir == p->dir && p->next == index + 1)
			p->limit = p->next = index;
		/* only what is still ahead of the reader counts against the
		 * window and the budget */
		if (bytes && dir == p->dir && index > p->reader &&
		    p->ring_len < p->window) {
			unsigned slot = (p->ring_head + p->ring_len) % p->window;

			p->ring[slot].index = index;
			p->ring[slot].bytes = bytes;
			p->ring_len++;
			p->ahead += bytes;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The per-inode and per-window arrays and the thread's buffers. */
static void push_buffers_free(struct xipfsd_push *p)
{
	free(p->dir_of);
	free(p->index_of);
	free(p->known);
	free(p->state);
	free(p->ring);
	xipfs_zctx_free(p->zctx);
	free(p->checked);
	p->checked = NULL;
	p->dir_of = p->index_of = p->known = NULL;
	p->state = NULL;
	p->ring = NULL;
	p->zctx = NULL;
}

static int push_buffers_alloc(struct xipfsd *d, size_t inodes)
{
	struct xipfsd_push *p = d->push;

	p->dir_of = calloc(inodes, sizeof(*p->dir_of));
	p->index_of = calloc(inodes, sizeof(*p->index_of));
	p->known = calloc(inodes, sizeof(*p->known));
	p->state = calloc(inodes, sizeof(*p->state));
	p->ring = calloc(p->window, sizeof(*p->ring));
	p->zctx = xipfs_zctx_new();
	if (p->zctx && xipfsd_verify_on(d)) {
		/* the READ path's checks, and its verdicts (verify.c) */
		xipfs_zctx_set_check(p->zctx, xipfsd_verify_block, d);
		p->checked = malloc(xipfsd_verify_span(d, (size_t)p->max_file));
	}
	if (p->dir_of && p->index_of && p->known && p->state && p->ring &&
	    p->zctx && (p->checked || !xipfsd_verify_on(d)))
		return 0;
	push_buffers_free(p);
	return -ENOMEM;
}

/*
 * Before the loop, once the image is open.  A failure only costs the
 * optimisation: push-ahead is then off for this mount (a negative errno,
 * for the caller to say).
 */
int xipfsd_push_start(struct xipfsd *d)
{
	struct xipfsd_push *p = d->push;
	int err;

	if (!p)
		return 0;
	err = push_buffers_alloc(d, d->img.inode_count);
	if (!err) {
		pthread_mutex_init(&p->lock, NULL);
		pthread_cond_init(&p->wake, NULL);
		err = -xipfsd_thread_start(&p->thread, push_main, d);
		if (!err) {
			p->running = 1;
			return 0;
		}
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
	}
	xipfsd_push_free(d);
	return err;
}

void xipfsd_push_stop(struct xipfsd *d)
{
	struct xipfsd_push *p = d->push;

	if (!p || !p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	p->running = 0;
}

void xipfsd_push_free(struct xipfsd *d)
{
	if (!d->push)
		return;
	xipfsd_push_stop(d);
	push_buffers_free(d->push);
	free(d->push);
	d->push = NULL;
}
