/* SPDX-License-Identifier: MIT */
/* The xipfs FUSE daemon: the mount's state, and what each file offers. */
#ifndef XIPFSD_H
#define XIPFSD_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "xipfs/xipfs.h"

enum xipfsd_read_mode {
	XIPFSD_READ_AUTO,	/* splice for regular files, else copy */
	XIPFSD_READ_COPY,	/* fuse_reply_buf over the mapped bytes */
	XIPFSD_READ_SPLICE,	/* splice from the source file descriptor */
};

/* Requests counted by the handlers (the kernel's names, in the report). */
enum xipfsd_op {
	XOP_LOOKUP, XOP_FORGET, XOP_GETATTR, XOP_READLINK, XOP_OPEN,
	XOP_READ, XOP_OPENDIR, XOP_READDIR, XOP_READDIRPLUS, XOP_GETXATTR,
	XOP_LISTXATTR, XOP_STATFS, XOP_IOCTL, XOP_RELEASE, XOP_RELEASEDIR,
	XOP_COUNT
};

/* What the daemon did, reported on SIGUSR1 and at unmount. */
struct xipfsd_stats {
	atomic_ulong ops[XOP_COUNT];
	atomic_ulong bytes_copy;	/* READ bytes of files stored in place,
					 * handed over by copy */
	atomic_ulong bytes_splice;	/* the same, moved by splice */
	atomic_ulong bytes_packed;	/* READ bytes of packed files */
	atomic_ulong bytes_compressed;	/* READ bytes decompressed */
	atomic_ulong clusters;		/* clusters those READs decompressed */
	atomic_ulong crc_blocks;	/* -o verify: blocks checked */
	atomic_ulong crc_failures;	/* -o verify: blocks that failed */
	atomic_ulong lost;		/* requests answered EIO: source lost */
	atomic_ulong uring_reads;	/* READs that came over io_uring */
	atomic_ulong passthrough_opens;	/* opens bound to a backing file */
	atomic_ulong backing_live;	/* backing files registered now */
	atomic_ulong fallbacks;		/* opens that could have passed through
					 * but went to the page cache */
	atomic_ulong passthrough_small;	/* opens below passthrough_min */
	atomic_ulong push_files;	/* small files pushed ahead */
	atomic_ulong push_bytes;	/* their bytes */
	atomic_ulong push_missed;	/* pushed, then READ all the same */
	atomic_ulong push_unknown;	/* not pushed: the kernel had no inode */
};

/* push.c: small files' data into the page cache ahead of the reader.
 * Defaults chosen by measurement (docs/BENCHMARKS.md, push-ahead). */
#define PUSH_MAX_DEFAULT	(64u << 10)
#define PUSH_MAX_LIMIT		(1u << 20)	/* the thread's buffer */
#define PUSH_WINDOW_DEFAULT	32u
#define PUSH_WINDOW_MAX		4096u
#define PUSH_BUDGET_DEFAULT	(4ull << 20)
struct xipfsd_push_slot {
	uint32_t index;		/* entry pushed, ahead of the reader */
	uint64_t bytes;
};
struct xipfsd_push {
	/* settings, fixed before the first request */
	int on;
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
	uint8_t *buf;		/* a compressed file, decompressed */
	struct xipfs_zctx *zctx;
	pthread_t thread;
	int running, stop;
};

/* A backing file costs a clone and a registration on the first open
 * (~225 us measured), which a small file never wins back: below this,
 * the page cache serves.  Chosen by measurement (docs/BENCHMARKS.md). */
#define PASSTHROUGH_MIN_DEFAULT	(1ull << 20)
#define READAHEAD_DEFAULT	(2ull << 20)	/* readahead.c: measured */
#define READAHEAD_MAX		(256u << 20)

enum xipfsd_passthrough {
	XIPFSD_PT_AUTO,		/* where every precondition holds */
	XIPFSD_PT_ON,		/* refuse to mount otherwise */
	XIPFSD_PT_OFF,
};

/* passthrough.c: the inodes open now, each with its backing id. */
#define XIPFSD_OPEN_BUCKETS 1024
struct xipfsd_open_inode;
struct xipfsd_open_table {
	pthread_mutex_t lock;
	struct xipfsd_open_inode *bucket[XIPFSD_OPEN_BUCKETS];
};

/*
 * verify.c: -o verify, the data blocks whose CRC a READ already checked
 * (good) or found wrong (bad): one bit each per block of the data region,
 * set with atomic ops by whichever thread checked the block.
 */
struct xipfsd_verify {
	int on;
	uint64_t blocks;		/* of the data region (the CRC table's) */
	atomic_ulong *good, *bad;
};

/*
 * profile.c: -o profile=FILE, what each image inode was used for: a byte
 * of XIPFSD_PROFILE_* flags and the bytes READ served (saturating at
 * UINT32_MAX), five bytes an inode.  Written out by xipfsd_profile_write.
 */
#define XIPFSD_PROFILE_EXEC	0x1	/* opened for execve() */
#define XIPFSD_PROFILE_READ	0x2	/* READ served bytes of it */
#define XIPFSD_PROFILE_OPEN	0x4	/* opened: used, whether or not a READ
					 * follows (push-ahead or the page
					 * cache may serve every byte) */
struct xipfsd_profile {
	char *path;			/* absolute, for messages */
	int dirfd;			/* its directory, opened at mount */
	char *base;			/* its name in there */
	atomic_uchar *flags;		/* [inode_count + 1] */
	atomic_uint *bytes;		/* [inode_count + 1] */
	pthread_mutex_t write_lock;	/* one writer at a time */
};

/* stats.c: the thread that reports on SIGUSR1. */
struct xipfsd_reporter {
	pthread_t thread;
	int running;
};

/* idle.c: the thread that ends the mount after timeout=S. */
struct xipfsd_idle {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop, or look again */
	pthread_t thread;
	int running, stop;
	unsigned int said_covered;	/* "another mount covers it", once */
};

/* unmount.c: what tells this daemon's mount from others on its path. */
struct xipfsd_mount {
	long long id;		/* in /proc/self/mountinfo; -1: unknown */
	int parent_fd;		/* the mount point's directory, O_PATH */
	char *name;		/* the mount point's name in there */
	char *path;		/* the whole path, for fusermount3 and messages */
};

/*
 * One mount: what its options and INIT settled (written before the first
 * request, read-only after), atomic counters, and the state of its
 * passthrough table and threads, each with its own lock or thread.
 */
struct xipfsd {
	struct xipfs_map map;
	struct xipfs_image img;
	const char *source;		/* as given, for messages */
	int verbose;			/* -v: say what was chosen, and why */
	enum xipfsd_read_mode read_mode;
	int read_explicit;		/* read= was given: say if it cannot be */
	int splice;			/* read_mode is splice and usable */
	pthread_key_t thread_state;	/* read.c: each thread's pipe, zctx
					 * and reply buffer, made on demand */
	int thread_key;			/* thread_state was created */
	int open_requests;		/* answer OPEN (else ENOSYS: no_open) */
	int acl;			/* ask the kernel to enforce POSIX ACLs */
	int acl_explicit;		/* -o acl given: say if it cannot be */
	enum xipfsd_passthrough passthrough;
	int passthrough_active;		/* preconditions held; opens clone */
	char *backing_dir;		/* where backing files are created */
	const char *backing_dir_opt;	/* as given with backing_dir= */
	unsigned long max_backing;	/* live backing files at most */
	uint64_t passthrough_min;	/* smaller files: page cache */
	unsigned int readahead_kb;	/* read_ahead_kb to set; 0: leave it */
	int readahead_explicit;		/* readahead= given: say if it cannot be */
	char readahead_path[96];	/* its sysfs file, if writable */
	struct xipfsd_open_table open_inodes;	/* with passthrough_active */
	struct fuse_session *se;
	int refused;			/* passthrough=on found no kernel support */
	int force_uid, force_gid, force_umask;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	double entry_timeout, attr_timeout, negative_timeout;
	long page_size;
	struct fuse_conn_info_opts *conn_opts;
	atomic_uint complaints;		/* damage and loss messages so far */
	uint64_t source_dev, source_ino;	/* for XIPFS_IOC_WHERE */
	uint32_t root_ino;		/* image inode shown as the root */
	const char *subdir;		/* subdir= as given, or NULL */
	unsigned int idle_timeout;	/* seconds without requests; 0: never */
	atomic_llong last_request;	/* CLOCK_MONOTONIC ns, with a timeout */
	atomic_long live_opens;		/* files and directories open now */
	struct xipfsd_verify verify;
	struct xipfsd_profile profile;
	struct xipfsd_stats stats;
	struct xipfsd_reporter reporter;
	struct xipfsd_idle idle;
	struct xipfsd_push push;
	struct xipfsd_mount mount;
};

/*
 * FUSE calls its root inode 1, and so does the image; with subdir= the
 * mount's root is image inode root_ino instead.  The two numbers trade
 * places, which keeps the mapping one to one and stateless (it is its own
 * inverse).  The image's root could then only show up as the ".." of the
 * subdirectory, and get_inode makes that ".." point at itself.
 */
static inline uint64_t xipfsd_swap_root(const struct xipfsd *d, uint64_t ino)
{
	if (ino == 1)
		return d->root_ino;
	if (ino == d->root_ino)
		return 1;
	return ino;
}

#define xipfsd_to_image(d, ino) xipfsd_swap_root(d, ino)
#define xipfsd_to_fuse(d, ino) xipfsd_swap_root(d, ino)

/* A damaged image and a lost source share one budget of ten messages. */
static inline int xipfsd_may_complain(struct xipfsd *d)
{
	return atomic_fetch_add(&d->complaints, 1) < 10;
}

/* ops.c: the request handlers, and the table libfuse calls them from. */
extern const struct fuse_lowlevel_ops xipfsd_ops;

/* init.c: INIT, where the kernel's offer meets the options. */
void xipfsd_init(void *userdata, struct fuse_conn_info *conn);

/*
 * read.c: READ's reply, copied from the mapping or spliced from the file,
 * or decompressed into the thread's own buffer.  xipfsd_read_start before
 * the loop, xipfsd_read_stop after it (frees the calling thread's state;
 * other threads' goes when they end).
 */
int xipfsd_read_start(struct xipfsd *d);
void xipfsd_read_stop(struct xipfsd *d);
void xipfsd_reply_read(fuse_req_t req, struct xipfsd *d, const uint8_t *ptr,
		       size_t len, int packed);
/* Inside the handler's guard: bytes [off, off + size) of a compressed file
 * into this thread's buffer (*out); the count, or a negative code. */
ssize_t xipfsd_zread(struct xipfsd *d, const struct xipfs_inode_info *inode,
		     uint64_t off, size_t size, const uint8_t **out);
void xipfsd_reply_zread(fuse_req_t req, struct xipfsd *d, const uint8_t *buf,
			size_t len);

/* verify.c: -o verify.  setup: at mount, -1 after a message. */
int xipfsd_verify_setup(struct xipfsd *d, int asked);
void xipfsd_verify_free(struct xipfsd *d);
/* Inside the handler's guard, before bytes [off, off + size) of a regular
 * file are served: 0, -EIO for a block that fails its CRC (said here), or
 * another negative libxipfs code. */
int xipfsd_verify_read(struct xipfsd *d, const struct xipfs_inode_info *inode,
		       uint64_t off, size_t size);

/* paths.c: names of image inodes, found by walking the image's tree from
 * its root (never subdir=), depth first, in a guard of the caller's. */
typedef int (*xipfsd_walk_fn)(void *ctx, const char *path,
			      const struct xipfs_inode_info *inode);
int xipfsd_walk(struct xipfsd *d, xipfsd_walk_fn fn, void *ctx);
/* The first path of image inode ino ("" for the root); 0 or -ENOENT. */
int xipfsd_path_of(struct xipfsd *d, uint32_t ino, char *buf, size_t size);

/* profile.c: -o profile=FILE. */
int xipfsd_profile_setup(struct xipfsd *d, const char *file);
void xipfsd_profile_open(struct xipfsd *d, uint32_t ino, int flags);
void xipfsd_profile_read(struct xipfsd *d, uint32_t ino, size_t bytes);
/* The profile file, replaced whole (temp file + rename); outside any
 * handler (the SIGUSR1 thread, or after the loop). */
void xipfsd_profile_write(struct xipfsd *d, const char *when);
void xipfsd_profile_free(struct xipfsd *d);

/*
 * guard.c: SIGBUS protection.  A source that shrinks under a live mount
 * turns every touch of the lost pages into SIGBUS.  The kernel's own
 * copies (the reply bytes handed to /dev/fuse) fail with EFAULT instead
 * and the reader gets EIO, but the daemon reads metadata itself; a handler
 * brackets those reads with XIPFSD_GUARD()/xipfsd_guard_end(), and a fault
 * inside the image jumps back to the guard, which answers EIO.  sigsetjmp
 * must run in the handler's own frame, hence the macro.
 */
struct xipfsd_guard {
	sigjmp_buf env;
};

extern __thread struct xipfsd_guard *xipfsd_guard_current;

int xipfsd_guard_install(const void *start, size_t len);
void xipfsd_guard_fault(fuse_req_t req);
/* Count, say (within the budget) and answer EIO: the source is lost. */
void xipfsd_reply_lost(fuse_req_t req, struct xipfsd *d);
/* The same message for work outside a request (profile writes). */
void xipfsd_say_lost(struct xipfsd *d);

#define XIPFSD_GUARD(req, g)						\
	do {								\
		xipfsd_guard_current = &(g);				\
		if (sigsetjmp((g).env, 0)) {				\
			xipfsd_guard_fault(req);			\
			return;						\
		}							\
	} while (0)

static inline void xipfsd_guard_end(void)
{
	xipfsd_guard_current = NULL;
}

/* passthrough.c: opens bound to backing files cloned from the image. */
const char *xipfsd_passthrough_check(struct xipfsd *d, char *why,
				     size_t why_size);
int xipfsd_passthrough_open(fuse_req_t req, struct xipfsd *d,
			    const struct xipfs_inode_info *inode);
void xipfsd_passthrough_release(fuse_req_t req, struct xipfsd *d,
				uint32_t ino);
void xipfsd_passthrough_free(struct xipfsd *d);

/* stats.c: the counters' report, on SIGUSR1 (a thread) and at unmount. */
void xipfsd_stats_report(struct xipfsd *d, const char *when);
int xipfsd_stats_start(struct xipfsd *d);
void xipfsd_stats_stop(struct xipfsd *d);

/* idle.c: timeout=S, the thread that unmounts a mount left alone. */
void xipfsd_idle_touch(struct xipfsd *d);
int xipfsd_idle_start(struct xipfsd *d);
void xipfsd_idle_stop(struct xipfsd *d);

/* unmount.c: only ever this daemon's own mount is unmounted.  note: after
 * fuse_session_mount; idle: without MNT_DETACH (0, -EBUSY in use, -ESTALE
 * not ours on the path); final: after the loop, instead of
 * fuse_session_unmount. */
void xipfsd_mount_note(struct xipfsd *d, const char *mountpoint);
int xipfsd_unmount_idle(struct xipfsd *d);
void xipfsd_unmount_final(struct xipfsd *d, struct fuse_session *se);
void xipfsd_mount_forget(struct xipfsd *d);

/* push.c: push-ahead of small files (push=on|off, push_max=, ...). */
void xipfsd_push_note_entry(struct xipfsd *d, uint32_t dir, uint64_t cookie,
			    uint32_t ino);
void xipfsd_push_note_read(struct xipfsd *d, uint32_t ino, uint64_t off);
void xipfsd_push_note_forget(struct xipfsd *d, uint32_t ino, uint64_t nlookup);
/* readahead.c: the mount's read_ahead_kb, where we may write it (root):
 * found after the mount (a message if readahead= cannot be had), written
 * once INIT is answered. */
void xipfsd_readahead_find(struct xipfsd *d, const char *mountpoint);
void xipfsd_readahead_apply(struct xipfsd *d);

int xipfsd_push_start(struct xipfsd *d);
void xipfsd_push_stop(struct xipfsd *d);

#endif /* XIPFSD_H */
