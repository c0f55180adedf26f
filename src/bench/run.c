/* SPDX-License-Identifier: MIT */
/*
 * The workloads.  Each run opens what it reads afresh, so a cold run pays
 * for the lookups as a program would; everything a run needs beyond that
 * (the file list, buffers, the io_uring) is set up before the clock starts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xipbench.h"
#include "xipfs/direct.h"

/* Relative paths of the regular files under the target, in walk order. */
struct filelist {
	char *names;		/* NUL-terminated, back to back */
	size_t len, cap;
	size_t *offs;
	size_t n, ncap;
	bool ready;
};

struct xb_tstate {
	const struct xb_options *o;
	const struct xb_target *t;
	char *file;		/* what file workloads read: DIR/FILE, or the
				 * mount's source for a direct target */
	char *rel_skip;		/* FILE, left out of open and readall */
	uint64_t base, size;	/* the file's bytes within *file */
	struct filelist files;
	uint8_t *buf;		/* page-aligned, buflen bytes */
	size_t buflen;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* err = "what: strerror(e)"; returns -1 for the caller to pass on. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	n = strlen(err);
	if (e && n < errlen)
		snprintf(err + n, errlen - n, ": %s", strerror(e));
	return -1;
}

static int find_direct(struct xb_tstate *s, const char *path, char *err,
		       size_t errlen)
{
	struct xipfs_direct d;
	const char *what;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return fail(err, errlen, errno, "%s", path);
	rc = xipfs_direct_map(fd, &d, &what);
	close(fd);
	if (rc == -ENOTTY)
		return fail(err, errlen, 0, "%s: not a regular file on an "
			    "xipfs mount", path);
	if (rc)
		return fail(err, errlen, -rc, "%s: %s", path, what);
	s->file = strdup(d.source);
	s->base = d.where.offset;
	s->size = d.where.size;
	xipfs_direct_unmap(&d);
	return s->file ? 0 : fail(err, errlen, ENOMEM, "%s", path);
}

static int find_file(struct xb_tstate *s, const char *path, char *err,
		     size_t errlen)
{
	struct stat st;

	if (stat(path, &st))
		return fail(err, errlen, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, 0, "%s: not a regular file", path);
	s->file = strdup(path);
	s->size = (uint64_t)st.st_size;
	return s->file ? 0 : fail(err, errlen, ENOMEM, "%s", path);
}

bool xb_wants_file(const struct xb_options *o)
{
	for (unsigned w = 0; w < o->nworkloads; w++)
		if (!xb_workloads[o->workloads[w]].tree)
			return true;
	return false;
}

struct xb_tstate *xb_prepare(const struct xb_options *o,
			     const struct xb_target *t, char *err,
			     size_t errlen)
{
	struct xb_tstate *s = calloc(1, sizeof(*s));
	struct stat st;
	char *path = NULL;
	int rc = 0;

	if (!s) {
		fail(err, errlen, ENOMEM, "%s", t->path);
		return NULL;
	}
	s->o = o;
	s->t = t;
	s->rel_skip = t->file ? strdup(t->file) : NULL;
	s->buflen = o->bs;
	if (s->buflen < o->rand_bs * o->qd)
		s->buflen = o->rand_bs * o->qd;
	if (s->buflen < (1 << 16))
		s->buflen = 1 << 16;
	if (stat(t->path, &st))
		rc = fail(err, errlen, errno, "%s", t->path);
	else if (!S_ISDIR(st.st_mode))
		rc = fail(err, errlen, ENOTDIR, "%s", t->path);
	else if ((t->file && (!s->rel_skip ||
			      asprintf(&path, "%s/%s", t->path, t->file) < 0)) ||
		 posix_memalign((void **)&s->buf, 4096, s->buflen))
		rc = fail(err, errlen, ENOMEM, "%s", t->path);
	else if (t->file)
		rc = t->direct ? find_direct(s, path, err, errlen) :
				 find_file(s, path, err, errlen);
	free(path);
	if (rc) {
		xb_release(s);
		return NULL;
	}
	return s;
}

void xb_release(struct xb_tstate *s)
{
	if (!s)
		return;
	free(s->files.names);
	free(s->files.offs);
	free(s->file);
	free(s->rel_skip);
	free(s->buf);
	free(s);
}

/* ---- the tree: walk, file list ---- */

struct walk {
	uint64_t entries;
	struct filelist *list;	/* when gathering regular files */
	const char *skip;	/* relative path left out of the list */
	bool largest;		/* looking for the largest regular file */
	bool found;
	uint64_t best_size;
	char best[PATH_MAX];	/* relative path of the largest so far */
	char path[PATH_MAX];	/* relative path of the directory walked */
	char *err;
	size_t errlen;
};

static int list_add(struct filelist *l, const char *rel)
{
	size_t len = strlen(rel) + 1;

	if (l->len + len > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1 << 16;
		char *p;

		while (cap < l->len + len)
			cap *= 2;
		p = realloc(l->names, cap);
		if (!p)
			return -1;
		l->names = p;
		l->cap = cap;
	}
	if (l->n == l->ncap) {
		size_t ncap = l->ncap ? l->ncap * 2 : 1024;
		size_t *p = realloc(l->offs, ncap * sizeof(*p));

		if (!p)
			return -1;
		l->offs = p;
		l->ncap = ncap;
	}
	memcpy(l->names + l->len, rel, len);
	l->offs[l->n++] = l->len;
	l->len += len;
	return 0;
}

static int walk_dir(int dfd, size_t plen, struct walk *w);

/* Keep the largest file; a tie goes to the first name bytewise, so that
 * the choice does not depend on the order readdir gives. */
static void note_size(struct walk *w, uint64_t size)
{
	if (w->found && (size < w->best_size ||
			 (size == w->best_size && strcmp(w->path, w->best) > 0)))
		return;
	w->found = true;
	w->best_size = size;
	memcpy(w->best, w->path, strlen(w->path) + 1);
}

/* One entry of a directory: stat it, note it, go down into it. */
static int walk_entry(int dfd, const char *name, size_t plen, struct walk *w)
{
	struct stat st;
	size_t nlen = strlen(name);
	int sub, rc;

	if (plen + nlen + 2 > sizeof(w->path))
		return fail(w->err, w->errlen, ENAMETOOLONG, "%s", w->path);
	memcpy(w->path + plen, name, nlen + 1);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return fail(w->err, w->errlen, errno, "stat %s", w->path);
	w->entries++;
	if (w->largest && S_ISREG(st.st_mode))
		note_size(w, (uint64_t)st.st_size);
	if (w->list && S_ISREG(st.st_mode) &&
	    (!w->skip || strcmp(w->path, w->skip)) &&
	    list_add(w->list, w->path))
		return fail(w->err, w->errlen, ENOMEM, "%s", w->path);
	if (!S_ISDIR(st.st_mode))
		return 0;
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return fail(w->err, w->errlen, errno, "open %s", w->path);
	w->path[plen + nlen] = '/';
	rc = walk_dir(sub, plen + nlen + 1, w);	/* closes sub */
	return rc;
}

/* Walk the directory open on dfd (closed here); w->path[0..plen) is its
 * relative path with a trailing slash, or empty at the top. */
static int walk_dir(int dfd, size_t plen, struct walk *w)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dfd);
		return fail(w->err, w->errlen, errno, "opendir");
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = walk_entry(dirfd(d), de->d_name, plen, w);
		if (rc)
			break;
	}
	if (!rc && errno) {
		w->path[plen] = '\0';
		rc = fail(w->err, w->errlen, errno, "readdir %s", w->path);
	}
	closedir(d);
	return rc;
}

static int walk_tree(struct xb_tstate *s, struct walk *w)
{
	int fd = open(s->t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fail(w->err, w->errlen, errno, "%s", s->t->path);
	w->path[0] = '\0';
	return walk_dir(fd, 0, w);
}

int xb_largest_file(const char *dir, char *rel, size_t rellen,
		    uint64_t *size, char *err, size_t errlen)
{
	struct walk *w = calloc(1, sizeof(*w));	/* two PATH_MAX buffers */
	int fd, rc;

	if (!w)
		return fail(err, errlen, ENOMEM, "%s", dir);
	w->largest = true;
	w->err = err;
	w->errlen = errlen;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = fd < 0 ? fail(err, errlen, errno, "%s", dir) : walk_dir(fd, 0, w);
	if (!rc && !w->found)
		rc = 1;
	if (!rc && strlen(w->best) >= rellen)
		rc = fail(err, errlen, ENAMETOOLONG, "%s", w->best);
	if (!rc) {
		memcpy(rel, w->best, strlen(w->best) + 1);
		*size = w->best_size;
	}
	free(w);
	return rc;
}

/* The list of regular files, made at first use, outside any timing. */
static int need_files(struct xb_tstate *s, char *err, size_t errlen)
{
	struct walk w = { .list = &s->files, .skip = s->rel_skip,
			  .err = err, .errlen = errlen };

	if (s->files.ready)
		return 0;
	if (walk_tree(s, &w))
		return -1;
	s->files.ready = true;
	return 0;
}

static const char *file_at(const struct filelist *l, size_t i)
{
	return l->names + l->offs[i];
}

/* ---- cold caches ---- */

const char *xb_cold_method(void)
{
	static const char *method;

	if (!method)
		method = access("/proc/sys/vm/drop_caches", W_OK) == 0 ?
			 "drop_caches" : "fadvise";
	return method;
}

static int drop_caches(char *err, size_t errlen)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "3\n", 2) != 2) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return fail(err, errlen, e, "/proc/sys/vm/drop_caches");
	}
	close(fd);
	return 0;
}

static int fadvise_path(int dirfd, const char *path, uint64_t off,
			uint64_t len, char *err, size_t errlen)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), e;

	if (fd < 0)
		return fail(err, errlen, errno, "%s", path);
	e = posix_fadvise(fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
	close(fd);
	return e ? fail(err, errlen, e, "posix_fadvise %s", path) : 0;
}

/* Without root: drop the pages of the files the workload reads.  Dentries
 * and inodes stay cached, which the caller has said once. */
static int fadvise_cold(struct xb_tstate *s, enum xb_workload w, char *err,
			size_t errlen)
{
	int dfd, rc = 0;

	if (!xb_workloads[w].tree)
		return fadvise_path(AT_FDCWD, s->file, s->base, s->size, err,
				    errlen);
	if (w == XB_WALK)
		return 0;	/* only metadata, which fadvise cannot drop */
	if (need_files(s, err, errlen))
		return -1;
	dfd = open(s->t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(err, errlen, errno, "%s", s->t->path);
	for (size_t i = 0; i < s->files.n && !rc; i++)
		rc = fadvise_path(dfd, file_at(&s->files, i), 0, 0, err,
				  errlen);
	close(dfd);
	return rc;
}

int xb_make_cold(struct xb_tstate *s, enum xb_workload w, char *err,
		 size_t errlen)
{
	/* The file list comes from a walk: made first, or that walk would
	 * warm the very caches just dropped. */
	if ((w == XB_OPEN || w == XB_READALL) && need_files(s, err, errlen))
		return -1;
	if (!strcmp(xb_cold_method(), "drop_caches"))
		return drop_caches(err, errlen);
	return fadvise_cold(s, w, err, errlen);
}

/* ---- file workloads ---- */

static int open_file(const struct xb_tstate *s, char *err, size_t errlen)
{
	int fd = open(s->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail(err, errlen, errno, "%s", s->file);
	return fd;
}

static int run_seq(struct xb_tstate *s, double *bytes, char *err,
		   size_t errlen)
{
	int fd = open_file(s, err, errlen);
	uint64_t done = 0;

	if (fd < 0)
		return -1;
	/* A plain file is read() as cat would; a direct target's bytes
	 * sit at an offset in the source, so those are pread(). */
	while (done < s->size) {
		size_t want = s->size - done < s->o->bs ?
			      (size_t)(s->size - done) : (size_t)s->o->bs;
		ssize_t n = s->base == 0 && !s->t->direct ?
			    read(fd, s->buf, want) :
			    pread(fd, s->buf, want, (off_t)(s->base + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return n < 0 ? fail(err, errlen, errno, "read") :
			       fail(err, errlen, 0, "read: %llu of %llu bytes",
				    (unsigned long long)done,
				    (unsigned long long)s->size);
		}
		done += (uint64_t)n;
	}
	close(fd);
	*bytes = (double)done;
	return 0;
}

static int rand_blocks(const struct xb_tstate *s, uint64_t *nblocks,
		       char *err, size_t errlen)
{
	*nblocks = s->size / s->o->rand_bs;
	if (*nblocks == 0)
		return fail(err, errlen, 0, "%s is smaller than one %llu-byte "
			    "block", s->t->file,
			    (unsigned long long)s->o->rand_bs);
	return 0;
}

static int run_rand(struct xb_tstate *s, double *ops, char *err,
		    size_t errlen)
{
	uint64_t nblocks, bs = s->o->rand_bs;
	struct xb_perm perm;
	int fd;

	if (rand_blocks(s, &nblocks, err, errlen))
		return -1;
	fd = open_file(s, err, errlen);
	if (fd < 0)
		return -1;
	xb_perm_init(&perm, nblocks, s->o->seed);
	for (uint64_t i = 0; i < s->o->ops; i++) {
		off_t off = (off_t)(s->base + xb_perm_next(&perm) * bs);
		ssize_t n = pread(fd, s->buf, bs, off);

		if (n != (ssize_t)bs) {
			close(fd);
			return fail(err, errlen, n < 0 ? errno : 0,
				    "pread at %lld%s", (long long)off,
				    n < 0 ? "" : ": short read");
		}
	}
	close(fd);
	*ops = (double)s->o->ops;
	return 0;
}

static void uring_queue(struct io_uring *ring, struct xb_tstate *s, int fd,
			struct xb_perm *perm, unsigned slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t bs = s->o->rand_bs;

	/* Never NULL: at most qd reads are in flight on a qd-entry ring. */
	io_uring_prep_read(sqe, fd, s->buf + slot * bs, (unsigned)bs,
			   s->base + xb_perm_next(perm) * bs);
	io_uring_sqe_set_data64(sqe, slot);
}

/* Keep qd reads in flight until ops have completed: reap every completion
 * that is ready, refill as many slots, then one submit-and-wait. */
static int uring_loop(struct io_uring *ring, struct xb_tstate *s, int fd,
		      char *err, size_t errlen)
{
	uint64_t issued = 0, done = 0, ops = s->o->ops;
	struct io_uring_cqe *cqe;
	struct xb_perm perm;
	int rc;

	xb_perm_init(&perm, s->size / s->o->rand_bs, s->o->seed);
	for (unsigned slot = 0; slot < s->o->qd && issued < ops; slot++)
		uring_queue(ring, s, fd, &perm, slot), issued++;
	while (done < ops) {
		rc = io_uring_submit_and_wait(ring, 1);
		if (rc < 0 && rc != -EINTR)
			return fail(err, errlen, -rc, "io_uring_submit");
		while (io_uring_peek_cqe(ring, &cqe) == 0) {
			unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(ring, cqe);
			if (res != (int)s->o->rand_bs)
				return fail(err, errlen, res < 0 ? -res : 0,
					    "io_uring read%s",
					    res < 0 ? "" : ": short read");
			done++;
			if (issued < ops)
				uring_queue(ring, s, fd, &perm, slot), issued++;
		}
	}
	return 0;
}

static int run_uring(struct xb_tstate *s, double *ops, char *err,
		     size_t errlen)
{
	struct io_uring ring;
	uint64_t nblocks;
	int fd, rc;

	if (rand_blocks(s, &nblocks, err, errlen))
		return -1;
	rc = io_uring_queue_init(s->o->qd, &ring, 0);
	if (rc < 0)
		return fail(err, errlen, -rc, "io_uring_queue_init");
	fd = open_file(s, err, errlen);
	rc = fd < 0 ? -1 : uring_loop(&ring, s, fd, err, errlen);
	if (fd >= 0)
		close(fd);
	io_uring_queue_exit(&ring);
	if (rc == 0)
		*ops = (double)s->o->ops;
	return rc;
}

/* ---- mmap workloads: one byte of a page touched, the touch timed ---- */

static int lat_reserve(struct xb_result *res, size_t more)
{
	if (res->nlat + more > res->lat_cap) {
		size_t cap = res->nlat + more;
		uint32_t *p = realloc(res->lat_ns, cap * sizeof(*p));

		if (!p)
			return -1;
		res->lat_ns = p;
		res->lat_cap = cap;
	}
	return 0;
}

/* Where touched bytes go, so that the loads cannot be optimised away. */
static volatile unsigned touch_sink;

/* Touch one byte; returns how long it took, in ns. */
static inline uint32_t touch(const volatile uint8_t *p)
{
	uint64_t t0 = now_ns(), dt;

	touch_sink += *p;
	dt = now_ns() - t0;
	return dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

/*
 * A page that cannot be read (the mount answers EIO, the file shrank)
 * raises SIGBUS on its touch: jump out and fail the run, not the program.
 * xipbench has one thread, so one jump buffer serves.
 */
static sigjmp_buf *touch_escape;

static void on_sigbus(int sig)
{
	if (touch_escape)
		siglongjmp(*touch_escape, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Touch count pages of the mapping, timing each; -1 with *bad set to the
 * page that raised SIGBUS. */
static int touch_pages(const uint8_t *data, uint64_t page, uint64_t npages,
		       uint64_t count, bool sequential, uint64_t seed,
		       struct xb_result *res, uint64_t *bad)
{
	struct sigaction sa = { .sa_handler = on_sigbus, .sa_flags = SA_NODEFER };
	struct sigaction old;
	volatile uint64_t pg = 0;
	struct xb_perm perm;
	sigjmp_buf escape;
	int rc = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	xb_perm_init(&perm, npages, seed);
	if (sigsetjmp(escape, 1) == 0) {
		touch_escape = &escape;
		for (uint64_t i = 0; i < count; i++) {
			pg = sequential ? i : xb_perm_next(&perm);
			res->lat_ns[res->nlat] = touch(data + pg * page);
			res->nlat++;
		}
	} else {
		*bad = pg;
		rc = -1;
	}
	touch_escape = NULL;
	sigaction(SIGBUS, &old, NULL);
	return rc;
}

static int run_mmap(struct xb_tstate *s, enum xb_workload w,
		    struct xb_result *res, double *amount, char *err,
		    size_t errlen)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = s->base & ~(page - 1), lead = s->base - start;
	uint64_t npages = (s->size + page - 1) / page, count, bad = 0;
	uint8_t *map;
	int fd, rc;

	if (s->size == 0)
		return fail(err, errlen, 0, "%s is empty", s->t->file);
	count = w == XB_MMAP_SEQ ? npages : s->o->ops;
	if (lat_reserve(res, count))
		return fail(err, errlen, ENOMEM, "latencies");
	fd = open_file(s, err, errlen);
	if (fd < 0)
		return -1;
	map = mmap(NULL, s->size + lead, PROT_READ, MAP_SHARED, fd,
		   (off_t)start);
	close(fd);
	if (map == MAP_FAILED)
		return fail(err, errlen, errno, "mmap");
	rc = touch_pages(map + lead, page, npages, count, w == XB_MMAP_SEQ,
			 s->o->seed, res, &bad);
	munmap(map, s->size + lead);
	if (rc)
		return fail(err, errlen, 0, "mmap: SIGBUS touching offset "
			    "%llu: the page could not be read",
			    (unsigned long long)(bad * page));
	*amount = w == XB_MMAP_SEQ ? (double)s->size : (double)count;
	return 0;
}

/* ---- tree workloads ---- */

static int run_walk(struct xb_tstate *s, double *entries, char *err,
		    size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };

	if (walk_tree(s, &w))
		return -1;
	*entries = (double)w.entries;
	return 0;
}

/* open + close, or with buf also read to the end, each listed file. */
static int each_file(struct xb_tstate *s, bool read_all, double *amount,
		     char *err, size_t errlen)
{
	int dfd = open(s->t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t bytes = 0;

	if (dfd < 0)
		return fail(err, errlen, errno, "%s", s->t->path);
	for (size_t i = 0; i < s->files.n; i++) {
		const char *rel = file_at(&s->files, i);
		int fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t n = 0;

		if (fd < 0) {
			close(dfd);
			return fail(err, errlen, errno, "%s", rel);
		}
		while (read_all && (n = read(fd, s->buf, s->buflen)) > 0)
			bytes += (uint64_t)n;
		close(fd);
		if (n < 0) {
			close(dfd);
			return fail(err, errlen, errno, "read %s", rel);
		}
	}
	close(dfd);
	*amount = read_all ? (double)bytes : (double)s->files.n;
	return 0;
}

/* The amount a run did, in the unit's numerator: bytes, reads, entries. */
static int run_body(struct xb_tstate *s, enum xb_workload w,
		    struct xb_result *res, double *amount, char *err,
		    size_t errlen)
{
	switch (w) {
	case XB_SEQ: return run_seq(s, amount, err, errlen);
	case XB_RAND: return run_rand(s, amount, err, errlen);
	case XB_URING: return run_uring(s, amount, err, errlen);
	case XB_MMAP_SEQ:
	case XB_MMAP_RAND: return run_mmap(s, w, res, amount, err, errlen);
	case XB_WALK: return run_walk(s, amount, err, errlen);
	case XB_OPEN: return each_file(s, false, amount, err, errlen);
	case XB_READALL: return each_file(s, true, amount, err, errlen);
	default: return fail(err, errlen, EINVAL, "workload");
	}
}

int xb_run(struct xb_tstate *s, enum xb_workload w, struct xb_result *res,
	   double *value, double *seconds, char *err, size_t errlen)
{
	double amount = 0;
	uint64_t t0, dt;

	if ((w == XB_OPEN || w == XB_READALL) && need_files(s, err, errlen))
		return -1;
	t0 = now_ns();
	if (run_body(s, w, res, &amount, err, errlen) < 0)
		return -1;
	dt = now_ns() - t0;
	if (dt == 0)
		dt = 1;
	*seconds = (double)dt / 1e9;
	/* Byte rates in MB/s (10^6), counts per second. */
	*value = amount / *seconds;
	if (!strcmp(xb_workloads[w].unit, "MB/s"))
		*value /= 1e6;
	return 0;
}
