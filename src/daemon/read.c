/* SPDX-License-Identifier: MIT */
/*
 * READ, the whole path: the inode found, the bytes asked of libxipfs'
 * one read entry (xipfs_file_pread: checked first with -o verify, then in
 * place in the mapping or decompressed into the thread's reading
 * context), and the reply.  Bytes in place go by copy (fuse_reply_buf over
 * the mapping) or by splice from the source file through a pipe of the
 * thread's own; either way the source is checked first, and a source that
 * shrank under the mount gets EIO, never short data.  Decompressed bytes
 * are the reply as they are: no other copy.  Everything that touches the
 * image runs inside the SIGBUS guard.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfsd.h"

/* The largest READ the kernel sends (FUSE's max_pages of 256). */
#define READ_MAX	(1024 * 1024)

/*
 * Does the source file still hold [pos, pos + len)?  A regular file can
 * shrink under the mount; asking first turns most such reads into a clean
 * EIO before the kernel has to fail a copy (devices keep their size).
 */
static int source_covers(struct xipfsd *d, uint64_t pos, size_t len)
{
	struct stat st;

	if (d->map.type != S_IFREG)
		return 1;
	return fstat(d->map.fd, &st) == 0 && (uint64_t)st.st_size >= pos + len;
}

static const uint8_t *read_into_buffer(struct xipfsd *d, const uint8_t *ptr,
				      size_t len, int *err);

/*
 * Hand the kernel the bytes; it copies them into its page cache.  From a
 * file or block device they are read into the thread's buffer first
 * (read_into_buffer), else they are the mapped bytes: if those pages are
 * gone despite the check, the kernel fails the copy and the reader sees
 * EIO.  (The splice path needs no check: it sees a short splice.)
 */
static void reply_copy(fuse_req_t req, struct xipfsd *d, const uint8_t *ptr,
		       size_t len, int packed)
{
	int err = 0;

	if (!source_covers(d, d->map.offset + (uint64_t)(ptr - d->img.base),
			   len)) {
		xipfsd_reply_lost(req, d);
		return;
	}
	ptr = read_into_buffer(d, ptr, len, &err);
	if (err) {
		xipfsd_reply_lost(req, d);
		return;
	}
	if (fuse_reply_buf(req, (const char *)ptr, len) == 0)
		atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
					  &d->stats.bytes_copy, len,
					  memory_order_relaxed);
}

/*
 * Each thread splices into a pipe of its own before replying.  Handing
 * libfuse the source fd instead would let a source that shrank mid-read
 * produce a short reply, which the kernel takes for EOF and caches as the
 * file's new size; here a short splice is seen, and answered with EIO.
 */
struct splice_pipe {
	int fd[2];
	size_t size;		/* capacity: longer reads go by copy */
};

/*
 * What a thread keeps between its requests, made on its first READ: the
 * reading context (which allocates its decompression state and buffer
 * only when a compressed file is read) and, the first time it splices,
 * the splice pipe.  It hangs on the mount's key (d->thread_state) and is
 * freed when its thread ends: libfuse's workers and io_uring queue threads
 * end (cancelled and joined) before the loop returns, and
 * xipfsd_read_stop frees the loop thread's.
 */
struct thread_state {
	struct splice_pipe *pipe;
	struct xipfs_zctx *z;
	uint8_t *bounce;	/* bounce.c's copies, made on demand */
	size_t bounce_size;
};

static void splice_pipe_free(struct splice_pipe *sp)
{
	if (!sp)
		return;
	close(sp->fd[0]);
	close(sp->fd[1]);
	free(sp);
}

static void thread_state_free(void *p)
{
	struct thread_state *ts = p;

	splice_pipe_free(ts->pipe);
	xipfs_zctx_free(ts->z);
	free(ts->bounce);
	free(ts);
}

/* Before the loop starts.  The key lives as long as the mount. */
int xipfsd_read_start(struct xipfsd *d)
{
	if (pthread_key_create(&d->thread_state, thread_state_free))
		return -1;
	d->thread_key = 1;
	return 0;
}

/* After the loop: the state of the thread that ran it (-s). */
void xipfsd_read_stop(struct xipfsd *d)
{
	struct thread_state *ts;

	if (!d->thread_key)
		return;
	ts = pthread_getspecific(d->thread_state);
	if (ts) {
		pthread_setspecific(d->thread_state, NULL);
		thread_state_free(ts);
	}
}

static struct thread_state *thread_state_get(struct xipfsd *d)
{
	struct thread_state *ts = pthread_getspecific(d->thread_state);

	if (ts)
		return ts;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return NULL;
	ts->z = xipfs_zctx_new();
	if (!ts->z || pthread_setspecific(d->thread_state, ts)) {
		thread_state_free(ts);
		return NULL;
	}
	/* -o verify's check remembers the blocks it has seen (verify.c) */
	if (xipfsd_verify_on(d))
		xipfs_zctx_set_check(ts->z, xipfsd_verify_block, d);
	return ts;
}

static struct splice_pipe *splice_pipe_get(struct xipfsd *d, size_t len)
{
	struct thread_state *ts = thread_state_get(d);
	struct splice_pipe *sp;
	int size;

	if (!ts)
		return NULL;
	if (ts->pipe)
		return ts->pipe;
	sp = malloc(sizeof(*sp));
	if (!sp)
		return NULL;
	if (pipe2(sp->fd, O_CLOEXEC | O_NONBLOCK)) {
		free(sp);
		return NULL;
	}
	/* Room for the largest READ; a smaller pipe only means copies. */
	(void)fcntl(sp->fd[0], F_SETPIPE_SZ, (int)len);
	size = fcntl(sp->fd[0], F_GETPIPE_SZ);
	sp->size = size > 0 ? (size_t)size : 0;
	ts->pipe = sp;
	return sp;
}

/* Empty the pipe after a failed reply, or drop it if that fails too. */
static void splice_pipe_reset(struct xipfsd *d, struct splice_pipe *sp)
{
	char scratch[4096];
	int left = 0;

	while (ioctl(sp->fd[0], FIONREAD, &left) == 0 && left > 0)
		if (read(sp->fd[0], scratch, sizeof(scratch)) <= 0)
			break;
	if (left > 0) {
		((struct thread_state *)pthread_getspecific(d->thread_state))
			->pipe = NULL;
		splice_pipe_free(sp);
	}
}

/* 0 when the whole range went into the pipe, else an errno. */
static int splice_in(struct xipfsd *d, struct splice_pipe *sp, uint64_t pos,
		     size_t len)
{
	loff_t off = (loff_t)pos;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = splice(d->map.fd, &off, sp->fd[1], NULL, len - done,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n <= 0)
			return n == 0 || errno == EIO ? EIO : errno;
		done += (size_t)n;
	}
	return 0;
}

static void reply_splice(fuse_req_t req, struct xipfsd *d,
			 const uint8_t *ptr, size_t len, int packed)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
	uint64_t pos = d->map.offset + (uint64_t)(ptr - d->img.base);
	struct splice_pipe *sp = splice_pipe_get(d, READ_MAX);
	int err;

	if (!sp || len > sp->size) {
		reply_copy(req, d, ptr, len, packed);
		return;
	}
	err = splice_in(d, sp, pos, len);
	if (err == EAGAIN) {
		/* Pipe slots are pages: an unaligned range may need one more
		 * than the pipe has.  Those bytes go by copy. */
		splice_pipe_reset(d, sp);
		reply_copy(req, d, ptr, len, packed);
		return;
	}
	if (err) {
		splice_pipe_reset(d, sp);
		xipfsd_reply_lost(req, d);
		return;
	}
	bv.buf[0].flags = FUSE_BUF_IS_FD;
	bv.buf[0].fd = sp->fd[0];
	if (fuse_reply_data(req, &bv, 0))
		splice_pipe_reset(d, sp);
	else
		atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
					  &d->stats.bytes_splice, len,
					  memory_order_relaxed);
}

static void reply_bounced(fuse_req_t req, struct xipfsd *d,
			  const uint8_t *ptr, size_t len, int packed);

/* Bytes in place [ptr, ptr + len): through the thread's buffer from a
 * source the kernel cannot pin (bounce.c), spliced when the mount splices
 * and the read spans two pages or more, else copied.  packed: of a packed
 * file (counted apart from files stored in place). */
static void reply_in_place(fuse_req_t req, struct xipfsd *d,
			   const uint8_t *ptr, size_t len, int packed)
{
	if (d->bounce)
		reply_bounced(req, d, ptr, len, packed);
	else if (d->splice && len >= 2 * (size_t)d->page_size)
		reply_splice(req, d, ptr, len, packed);
	else
		reply_copy(req, d, ptr, len, packed);
}

/*
 * The thread's bounce buffer: as large as the largest READ it has bounced,
 * kept for its next one.  Only sources the kernel cannot pin use it.
 */
static uint8_t *bounce_buffer(struct thread_state *ts, size_t size)
{
	if (ts->bounce_size >= size)
		return ts->bounce;
	free(ts->bounce);
	ts->bounce = malloc(size);
	ts->bounce_size = ts->bounce ? size : 0;
	return ts->bounce;
}

/*
 * Copy mode reads a file or block device source with pread into the
 * thread's buffer (the bounce buffer) rather than letting the kernel copy
 * out of the mapping: that copy maps every page it reads into the daemon,
 * whose RSS grew to the image's size, and once resident.c drops them each
 * re-read faults them in again, about 1 us a page here against 0.4 us for
 * this extra copy (docs/BENCHMARKS.md, bounded RSS).  The mapped bytes
 * where pread cannot serve (a memory device, no buffer); *err set when the
 * source ended early (it shrank).
 */
static const uint8_t *read_into_buffer(struct xipfsd *d, const uint8_t *ptr,
				      size_t len, int *err)
{
	struct thread_state *ts;
	uint8_t *buf;
	ssize_t n;

	if (!xipfsd_source_reads(d))
		return ptr;
	ts = thread_state_get(d);
	buf = ts && len ? bounce_buffer(ts, len) : NULL;
	if (!buf)
		return ptr;
	n = pread(d->map.fd, buf, len,
		  (off_t)(d->map.offset + (uint64_t)(ptr - d->img.base)));
	if (n != (ssize_t)len)
		*err = EIO;
	return buf;
}

static void reply_bounced(fuse_req_t req, struct xipfsd *d,
			  const uint8_t *ptr, size_t len, int packed)
{
	struct thread_state *ts = thread_state_get(d);
	uint8_t *buf = ts ? bounce_buffer(ts, len ? len : 1) : NULL;

	if (!buf)
		fuse_reply_err(req, ENOMEM);
	else
		xipfsd_reply_bounce(req, d, buf, ptr, len, packed);
}

/* Decompressed bytes, in the thread's reading context. */
static void reply_decompressed(fuse_req_t req, struct xipfsd *d,
			       const uint8_t *buf, size_t len)
{
	if (fuse_reply_buf(req, (const char *)buf, len) == 0)
		atomic_fetch_add_explicit(&d->stats.bytes_compressed, len,
					  memory_order_relaxed);
}

/* Does ptr lie in the mapped image (bytes in place) or in a buffer? */
static int in_image(const struct xipfsd *d, const uint8_t *ptr)
{
	return ptr >= d->img.base && ptr < d->img.base + d->img.length;
}

/* What READ found: the file, and its bytes in the mapping or in the
 * thread's reading context. */
struct found {
	struct xipfs_file f;
	const uint8_t *bytes;
	size_t len;
	int checked;	/* bytes in place, copied into the thread's buffer
			 * and checked there (verify.c) */
	int lost;	/* the source no longer holds them */
};

/*
 * With verify, bytes in place whose blocks are not all checked yet are
 * read by the kernel into the thread's buffer, checked there, and served
 * from there: checking them in the mapping would fault every page into
 * this process, which costs far more than the copy (verify.c).  Blocks
 * checked before are served as without verify.
 */
static int check_in_place(struct xipfsd *d, struct thread_state *ts,
			  struct found *r)
{
	uint64_t at = (uint64_t)(r->bytes - d->img.base);
	uint8_t *buf;
	int err;

	if (xipfsd_verify_known(d, at, r->len))
		return 0;
	buf = bounce_buffer(ts, xipfsd_verify_span(d, r->len));
	if (!buf)
		return ENOMEM;
	err = xipfsd_verify_copy(d, r->f.inode.ino, at, r->len, buf, &r->bytes);
	if (err == -ENODATA)
		r->lost = 1;
	else if (err)
		return -err;
	r->checked = 1;
	return 0;
}

/*
 * The bytes [off, off + size) of inode ino, inside the caller's guard.
 * 0 or an errno.  The reading context counts the clusters a read met.
 */
static int find_bytes(struct xipfsd *d, fuse_ino_t ino, uint64_t off,
		      size_t size, struct found *r)
{
	struct thread_state *ts = thread_state_get(d);
	struct xipfs_inode_info inode;
	uint64_t clusters;
	ssize_t n;
	int err;

	if (!ts)
		return ENOMEM;
	err = xipfsd_get_inode(d, ino, &inode);
	if (err)
		return err;
	xipfsd_note_read(d, inode.ino, off);
	err = xipfs_file_open(&d->img, &inode, &r->f);
	if (err)
		return xipfsd_errno(d, err, inode.ino);
	/* a remote source: the bytes fetched into the cache first */
	err = xipfsd_remote_need(d, &inode, off, size);
	if (err)
		return err;
	clusters = xipfs_zctx_clusters(ts->z);
	/* compressed clusters are checked as they are decompressed (the
	 * decompressor reads them anyway); bytes in place below */
	n = xipfs_file_pread(&d->img, &r->f, off, size,
			     xipfsd_verify_on(d) && r->f.compressed ?
			     XIPFS_READ_VERIFY : 0, ts->z, &r->bytes);
	if (n < 0)
		return xipfsd_errno(d, (int)n, inode.ino);
	r->len = (size_t)n;
	atomic_fetch_add_explicit(&d->stats.clusters,
				  xipfs_zctx_clusters(ts->z) - clusters,
				  memory_order_relaxed);
	if (xipfsd_verify_on(d) && r->len && in_image(d, r->bytes))
		return check_in_place(d, ts, r);
	return 0;
}

/* Bytes in place from the buffer they were checked in. */
static void reply_checked(fuse_req_t req, struct xipfsd *d,
			  const struct found *r)
{
	int packed = !!(r->f.inode.flags & XIPFS_INODE_PACKED);

	if (fuse_reply_buf(req, (const char *)r->bytes, r->len))
		return;
	atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
				  &d->stats.bytes_copy, r->len,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&d->stats.bytes_checked, r->len,
				  memory_order_relaxed);
}

/* The reply: bytes in place by copy or splice, decompressed ones as they
 * are (an empty one, at the end of the file, is a copy of nothing). */
static void reply_found(fuse_req_t req, struct xipfsd *d,
			const struct found *r)
{
	xipfsd_note_served(d, r->f.inode.ino, r->len);
	if (r->lost)
		xipfsd_reply_lost(req, d);
	else if (r->checked)
		reply_checked(req, d, r);
	else if (r->len && !in_image(d, r->bytes))
		reply_decompressed(req, d, r->bytes, r->len);
	else
		reply_in_place(req, d, r->len ? r->bytes : d->img.base, r->len,
			       !!(r->f.inode.flags & XIPFS_INODE_PACKED));
}

void xipfsd_read_request(fuse_req_t req, struct xipfsd *d, fuse_ino_t ino,
			 size_t size, uint64_t off)
{
	struct xipfsd_guard g;
	struct found r = { .bytes = NULL };
	int err;

#if HAVE_DECL_FUSE_CAP_OVER_IO_URING
	if (fuse_req_is_uring(req))
		atomic_fetch_add_explicit(&d->stats.uring_reads, 1,
					  memory_order_relaxed);
#endif
	XIPFSD_GUARD(req, g);
	err = find_bytes(d, ino, off, size, &r);
	xipfsd_guard_end();
	if (err)
		fuse_reply_err(req, err);
	else
		reply_found(req, d, &r);
}
