/* SPDX-License-Identifier: MIT */
/* The xipfs FUSE daemon: the mount's state, and what each file offers
 * the others (each feature's internals stay in its own file). */
#ifndef XIPFSD_H
#define XIPFSD_H

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "xipfs/xipfs.h"
#include "outfile.h"

enum xipfsd_read_mode {
	XIPFSD_READ_AUTO,	/* not given: settled at mount (run_session) */
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

/* What the daemon did, bumped by whichever file did it and reported by
 * stats.c on SIGUSR1 and at unmount. */
struct xipfsd_stats {
	atomic_ulong ops[XOP_COUNT];
	atomic_ulong bytes_copy;	/* READ bytes of files stored in place,
					 * handed over by copy */
	atomic_ulong bytes_splice;	/* the same, moved by splice */
	atomic_ulong bytes_bounce;	/* the same, copied through a buffer
					 * first (bounce.c) */
	atomic_ulong bytes_packed;	/* READ bytes of packed files */
	atomic_ulong bytes_compressed;	/* READ bytes decompressed */
	atomic_ulong clusters;		/* clusters those READs decompressed */
	atomic_ulong crc_blocks;	/* -o verify: blocks checked */
	atomic_ulong crc_failures;	/* -o verify: blocks that failed */
	atomic_ulong bytes_checked;	/* READ bytes of files in place served
					 * from the copy they were checked in */
	atomic_ulong passthrough_damaged;	/* opens not passed through:
						 * a block failed its CRC */
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
	atomic_ulong trims;		/* mapping dropped from the RSS
					 * (resident.c) */
	atomic_ulong push_damaged;	/* not pushed: a block failed its CRC */
};

/* Bounds of options the table in options.c checks. */
#define PUSH_MAX_LIMIT		(1u << 20)	/* push's buffer */
#define PUSH_WINDOW_MAX		4096u
#define READAHEAD_MAX		(256u << 20)

enum xipfsd_passthrough {
	XIPFSD_PT_AUTO,		/* where every precondition holds */
	XIPFSD_PT_ON,		/* refuse to mount otherwise */
	XIPFSD_PT_OFF,
};

/* Each feature's state is its own file's; the mount holds a pointer,
 * NULL while the feature is off. */
struct xipfsd_push;		/* push.c */
struct xipfsd_verify;		/* verify.c */
struct xipfsd_profile;		/* profile.c */
struct xipfsd_idle;		/* idle.c */
struct xipfsd_reporter;		/* stats.c */
struct xipfsd_open_table;	/* passthrough.c */
struct xipfsd_mount;		/* unmount.c: this daemon's own mount */
struct xipfsd_remote;		/* remote.c: a URL source and its cache */

/*
 * One mount: what its options and INIT settled (written before the first
 * request, read-only after), atomic counters, and its features, each
 * with its own locks or thread.
 */
struct xipfsd {
	struct xipfs_map map;
	struct xipfs_image img;
	const char *source;		/* as given, for messages */
	int verbose;			/* -v: say what was chosen, and why */
	enum xipfsd_read_mode read_mode;
	int read_explicit;		/* read= was given: say if it cannot be */
	int splice;			/* read_mode is splice and usable */
	int bounce;			/* source pages cannot be pinned:
					 * replies from a copy (bounce.c) */
	pthread_key_t thread_state;	/* read.c: each thread's pipe and
					 * reading context, made on demand */
	int thread_key;			/* thread_state was created */
	int open_requests;		/* answer OPEN (else ENOSYS: no_open) */
	int opendir_requests;		/* answer OPENDIR (else ENOSYS) */
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
	atomic_ulong *said;		/* per image inode: its damage said */
	int meta_check_off;		/* -o noverify: metadata unchecked */
	uint64_t source_dev, source_ino;	/* for XIPFS_IOC_WHERE */
	uint32_t root_ino;		/* image inode shown as the root */
	const char *subdir;		/* subdir= as given, or NULL */
	unsigned int idle_timeout;	/* seconds without requests; 0: never */
	struct xipfsd_stats stats;
	atomic_ulong trim_pending;	/* resident.c: bytes since the last trim */
	atomic_int trim_off;		/* the source refused MADV_DONTNEED */
	struct xipfsd_outfile stats_file;	/* -o stats=FILE */
	struct xipfsd_push *push;
	struct xipfsd_verify *verify;
	struct xipfsd_profile *profile;
	struct xipfsd_idle *idle;
	struct xipfsd_reporter *reporter;
	struct xipfsd_open_table *open_inodes;	/* with passthrough_active */
	struct xipfsd_mount *mount;		/* after fuse_session_mount */
	struct xipfsd_remote *remote;		/* an http(s):// or s3:// source */
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

/*
 * inode.c: image inodes as the handlers need them.  get: by the number
 * the kernel knows (subdir= swapped), load: by the image's own; both 0 or
 * an errno, a damaged inode said once.  xipfsd_errno: a negative libxipfs
 * return as the errno the kernel should see.
 */
int xipfsd_get_inode(struct xipfsd *d, fuse_ino_t ino,
		     struct xipfs_inode_info *inode);
int xipfsd_load_inode(struct xipfsd *d, uint32_t ino,
		      struct xipfs_inode_info *inode);
int xipfsd_errno(struct xipfsd *d, int err, uint32_t ino);
/* Damage is said once per inode (whatever door met it: metadata, data,
 * push-ahead), within the mount's budget: 1 when this is the time to say
 * it about image inode ino.  setup: at mount, -1 after a message. */
int xipfsd_complain_once(struct xipfsd *d, uint32_t ino);
int xipfsd_complaints_setup(struct xipfsd *d);
void xipfsd_complaints_free(struct xipfsd *d);
void xipfsd_fill_stat(const struct xipfsd *d,
		      const struct xipfs_inode_info *inode, struct stat *st);
void xipfsd_fill_entry(const struct xipfsd *d,
		       const struct xipfs_inode_info *inode,
		       struct fuse_entry_param *e);

/*
 * events.c: the named points where the handlers tell the features what
 * happened; each feature that is on takes what it needs.  Image inode
 * numbers throughout (not the kernel's).
 */
/* Every request, first thing: counted; the idle timer's sign of life. */
void xipfsd_note_request(struct xipfsd *d, enum xipfsd_op op);
/* Entry (cookie: the one after it) of dir handed to the kernel with its
 * inode, which the kernel now holds a lookup of. */
void xipfsd_note_entry(struct xipfsd *d, uint32_t dir, uint64_t cookie,
		       uint32_t ino);
void xipfsd_note_forget(struct xipfsd *d, uint32_t ino, uint64_t nlookup);
/* An OPEN with its flags, before it is answered. */
void xipfsd_note_open(struct xipfsd *d, uint32_t ino, int flags);
/* A file or directory opened (answered) or released: what is open now. */
void xipfsd_note_opened(struct xipfsd *d);
void xipfsd_note_released(struct xipfsd *d);
/* READ at off, inside the handler's guard, before anything is served. */
void xipfsd_note_read(struct xipfsd *d, uint32_t ino, uint64_t off);
/* READ found len bytes to serve (outside the guard). */
void xipfsd_note_served(struct xipfsd *d, uint32_t ino, size_t len);

/* resident.c: len bytes of the mapping were (or are about to be) copied
 * from; every so many, the mapping leaves the daemon's RSS. */
void xipfsd_resident_served(struct xipfsd *d, size_t len);

/* init.c: INIT, where the kernel's offer meets the options. */
void xipfsd_init(void *userdata, struct fuse_conn_info *conn);

/* thread.c: start a helper thread (thread NULL: detached) with every
 * signal blocked but the faults; 0 or an errno. */
int xipfsd_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/*
 * read.c: READ's whole path, from the handler in ops.c: the inode, the
 * bytes from libxipfs' one read entry (checked with -o verify), the reply
 * by copy, splice or from the thread's decompression buffer.
 * xipfsd_read_start before the loop, xipfsd_read_stop after it (frees the
 * calling thread's state; other threads' goes when they end).
 */
int xipfsd_read_start(struct xipfsd *d);
void xipfsd_read_stop(struct xipfsd *d);
void xipfsd_read_request(fuse_req_t req, struct xipfsd *d, fuse_ino_t ino,
			 size_t size, uint64_t off);
/* ops.c's inode lookup and errno mapping, which READ shares. */
int xipfsd_get_inode(struct xipfsd *d, fuse_ino_t ino,
		     struct xipfs_inode_info *inode);
int xipfsd_errno(struct xipfsd *d, int err, uint32_t ino);

/* verify.c: -o verify.  setup: at mount, -1 after a message. */
int xipfsd_verify_setup(struct xipfsd *d, int asked);
int xipfsd_verify_on(const struct xipfsd *d);
void xipfsd_verify_free(struct xipfsd *d);
/* The data block check of bytes the reader touches anyway (compressed
 * clusters: xipfs_zctx_set_check(), arg the mount): once a mount per
 * block; 0, or -EIO for a block that fails its CRC (said once per file,
 * naming it by path). */
int xipfsd_verify_block(void *arg, const struct xipfs_file *f, uint64_t block);
/* Are the blocks holding image bytes [at, at + len) all checked good? */
int xipfsd_verify_known(struct xipfsd *d, uint64_t at, uint64_t len);
void xipfsd_verify_note_good(struct xipfsd *d, uint64_t block);
/* Bytes in place: the blocks holding image bytes [at, at + len) read by
 * the kernel into buf (xipfsd_verify_span(len) bytes at least), those not
 * checked yet checked there, *out the bytes asked for, in buf: the bytes
 * served are the bytes checked.  0; -EIO when a block fails (said once
 * for file ino); -ENODATA when the source no longer holds them.  Inside
 * the caller's guard. */
size_t xipfsd_verify_span(const struct xipfsd *d, size_t len);
int xipfsd_verify_copy(struct xipfsd *d, uint32_t ino, uint64_t at,
		       size_t len, uint8_t *buf, const uint8_t **out);
/* Every block of a file's stored bytes (before passthrough hands the
 * kernel a clone of them): 0, or negative; inside the caller's guard. */
int xipfsd_verify_file(struct xipfsd *d, const struct xipfs_inode_info *inode);

/* paths.c: names of image inodes, found by walking the image's tree from
 * its root (never subdir=), depth first, in a guard of the caller's. */
typedef int (*xipfsd_walk_fn)(void *ctx, const char *path,
			      const struct xipfs_inode_info *inode);
int xipfsd_walk(struct xipfsd *d, xipfsd_walk_fn fn, void *ctx);
/* The first path of image inode ino ("" for the root); 0 or -ENOENT. */
int xipfsd_path_of(struct xipfsd *d, uint32_t ino, char *buf, size_t size);

/* profile.c: -o profile=FILE.  setup at mount (-1 after a message). */
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

/* bounce.c: sources the kernel cannot pin (/dev/mem, PCI resources). */
void xipfsd_bounce_decide(struct xipfsd *d);
int xipfsd_source_reads(const struct xipfsd *d);
void xipfsd_reply_bounce(fuse_req_t req, struct xipfsd *d, uint8_t *buf,
			 const uint8_t *ptr, size_t len, int packed);

/* passthrough.c: opens bound to backing files cloned from the image.
 * setup: at mount, whether the preconditions hold (-1 after a message
 * for passthrough=on). */
int xipfsd_passthrough_setup(struct xipfsd *d);
/* Does verify let inode pass through (every block of it checked good, or
 * verify off)?  Inside the caller's guard, before xipfsd_passthrough_open:
 * a file that is not intact is served by READ, which answers EIO for its
 * bad blocks. */
int xipfsd_passthrough_intact(struct xipfsd *d,
			      const struct xipfs_inode_info *inode);
int xipfsd_passthrough_open(fuse_req_t req, struct xipfsd *d,
			    const struct xipfs_inode_info *inode, int intact);
void xipfsd_passthrough_release(fuse_req_t req, struct xipfsd *d,
				uint32_t ino);
void xipfsd_passthrough_free(struct xipfsd *d);

/* stats.c: the counters' report, on SIGUSR1 (a thread) and at unmount:
 * lines for people, and the JSON record of -o stats=FILE. */
void xipfsd_stats_report(struct xipfsd *d, const char *when);
void xipfsd_stats_record(struct xipfsd *d, const char *when);
int xipfsd_stats_start(struct xipfsd *d);
void xipfsd_stats_stop(struct xipfsd *d);

/* idle.c: timeout=S, the thread that unmounts a mount left alone.  touch:
 * a request came; opened: +1 or -1, what is open now. */
void xipfsd_idle_touch(struct xipfsd *d);
void xipfsd_idle_opened(struct xipfsd *d, int delta);
int xipfsd_idle_start(struct xipfsd *d);
void xipfsd_idle_stop(struct xipfsd *d);

/* unmount.c: only ever this daemon's own mount is unmounted.  note: after
 * fuse_session_mount; idle: without MNT_DETACH (0, -EBUSY in use, -ESTALE
 * not ours on the path); final: after the loop, instead of
 * fuse_session_unmount; forget: frees what note made. */
void xipfsd_mount_note(struct xipfsd *d, const char *mountpoint);
int xipfsd_unmount_idle(struct xipfsd *d);
void xipfsd_unmount_final(struct xipfsd *d, struct fuse_session *se);
void xipfsd_mount_forget(struct xipfsd *d);
/* The mount point, for messages (never NULL). */
const char *xipfsd_mount_path(const struct xipfsd *d);

/* push.c: push-ahead of small files (push=on|off, push_max=, ...).
 * setup: with the options (-1 after a message); start: before the loop,
 * once the image is open (a negative errno: the mount goes without). */
int xipfsd_push_setup(struct xipfsd *d, const char *on, uint64_t max_file,
		      uint32_t window, uint64_t budget);
int xipfsd_push_on(const struct xipfsd *d);
int xipfsd_push_start(struct xipfsd *d);
void xipfsd_push_stop(struct xipfsd *d);
void xipfsd_push_free(struct xipfsd *d);
void xipfsd_push_note_entry(struct xipfsd *d, uint32_t dir, uint64_t cookie,
			    uint32_t ino);
void xipfsd_push_note_read(struct xipfsd *d, uint32_t ino, uint64_t off);
void xipfsd_push_note_forget(struct xipfsd *d, uint32_t ino, uint64_t nlookup);

/* readahead.c: the mount's read_ahead_kb, where we may write it (root):
 * found after the mount (a message if readahead= cannot be had), written
 * once INIT is answered. */
void xipfsd_readahead_find(struct xipfsd *d, const char *mountpoint);
void xipfsd_readahead_apply(struct xipfsd *d);

/*
 * remote.c: an image at a URL (http://, https://, s3://), read through a
 * local cache (remote.h has the parts).  setup: with the options, for a
 * URL source only; open: instead of mapping a file, maps the cache with
 * the metadata fetched and checked; need: before READ serves image bytes
 * of a file, they are in the cache and checked (0, or EIO); start/stop:
 * -o prefetch's thread.  Each -1 after a message.
 */
struct xipfsd_remote_options {
	const char *cache, *cacert, *s3_endpoint, *s3_region;
	uint64_t chunk, readahead, timeout;
	unsigned int retries;
	int prefetch;
};
int xipfsd_remote_url(const char *source);
int xipfsd_remote_setup(struct xipfsd *d, const char *source,
			const struct xipfsd_remote_options *o);
int xipfsd_remote_on(const struct xipfsd *d);
const char *xipfsd_remote_shown(const struct xipfsd *d);
int xipfsd_remote_open(struct xipfsd *d);
int xipfsd_remote_need(struct xipfsd *d, const struct xipfs_inode_info *inode,
		       uint64_t off, size_t size);
int xipfsd_remote_start(struct xipfsd *d);
void xipfsd_remote_stop(struct xipfsd *d);
void xipfsd_remote_json(FILE *f, struct xipfsd *d);
void xipfsd_remote_free(struct xipfsd *d);

#endif /* XIPFSD_H */
