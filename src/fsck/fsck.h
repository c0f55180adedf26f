/* SPDX-License-Identifier: MIT */
/*
 * xipfsck: verify, list, show and extract xipfs images.
 *
 * Everything about the image goes through libxipfs; this tool only decides
 * what to print and how to recreate a tree on the host.  State lives in one
 * struct fsck_ctx passed down every call: no globals.
 */
#ifndef XIPFS_FSCK_H
#define XIPFS_FSCK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xipfs/xipfs.h"

#define FSCK_PROG "xipfsck"

/*
 * Exit status, a bit mask in the spirit of fsck(8): a run that met both a
 * damaged image and a host-side failure exits 5.
 */
#define FSCK_EXIT_OK		0
#define FSCK_EXIT_CORRUPT	1	/* damaged or not an xipfs image */
#define FSCK_EXIT_OPERATIONAL	4	/* usage, I/O or host-side failure */

/*
 * Deepest directory nesting walked.  Visited-directory bits already stop
 * cycles; this bound keeps recursion (and, when extracting, one open
 * directory fd per level) finite on any input.
 */
#define FSCK_MAX_DEPTH		XIPFS_DEPTH_MAX

enum fsck_action {
	FSCK_VERIFY,
	FSCK_LIST,
	FSCK_SUPER,
	FSCK_EXTRACT,
};

struct fsck_ctx {
	/* options */
	enum fsck_action action;
	int verbose;
	int quiet;
	int metadata_only;		/* verify: skip the data pass */
	uint64_t offset;		/* window inside the source file */
	uint64_t size;			/* 0: to the end */
	const char *image_path;
	const char *extract_dir;

	/* the open image */
	struct xipfs_map map;
	struct xipfs_image img;

	/* outcome: FSCK_EXIT_* bits */
	int status;

	/* a progress line is on stderr: a message must clear it first */
	int progress_drawn;
};

/* util.c: messages */
void fsck_err(struct fsck_ctx *ctx, int exit_bit, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void fsck_note(struct fsck_ctx *ctx, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fsck_err_exit_bit(int err);

/* util.c: a growable byte path ("/a/b"), raw bytes as stored */
struct pathbuf {
	char *buf;
	size_t len;
	size_t cap;
};
int pathbuf_init(struct pathbuf *pb, const char *start);
int pathbuf_push(struct pathbuf *pb, const char *name, size_t len,
		 size_t *saved_len);
void pathbuf_pop(struct pathbuf *pb, size_t saved_len);
void pathbuf_free(struct pathbuf *pb);

/* util.c: printing untrusted bytes */
void fsck_print_escaped(FILE *out, const char *s, size_t len);
char *fsck_escape_dup(const char *s, size_t len);

/* util.c: small helpers */
void fsck_mode_string(uint32_t mode, char out[11]);
void fsck_format_time(int64_t sec, uint32_t nsec, int with_nsec, char *out,
		      size_t size);

/* util.c: one bit per inode, for "visited" bookkeeping */
struct inode_bits {
	uint8_t *bits;
	uint32_t count;
};
int inode_bits_init(struct inode_bits *b, uint32_t inode_count);
/* Sets the bit; returns its previous value (1 when already set). */
int inode_bits_test_set(struct inode_bits *b, uint32_t ino);
void inode_bits_free(struct inode_bits *b);

/*
 * util.c: a progress line on stderr for long passes, as mkxipfs draws
 * one: only on a terminal, not with -q, from one second into the pass
 * (a quick check prints nothing), at most ten times a second, erased at
 * the end.
 */
struct fsck_progress {
	struct fsck_ctx *ctx;
	const char *what;
	uint64_t done, total;
	uint64_t next_look;	/* done at which to look at the clock */
	uint64_t start_ns, drawn_ns;
	int enabled;
};
void fsck_progress_start(struct fsck_progress *pr, struct fsck_ctx *ctx,
			 const char *what, uint64_t total);
void fsck_progress_add(struct fsck_progress *pr, uint64_t n);
void fsck_progress_end(struct fsck_progress *pr);

/* walk.c: the tree, depth first in directory order, for --list and the
 * data pass; visit gets every entry below the start with w->path set */
struct fsck_walk;
typedef void (*fsck_visit_fn)(struct fsck_walk *w,
			      const struct xipfs_inode_info *inode);
struct fsck_walk {
	struct fsck_ctx *ctx;
	struct inode_bits dirs_seen;
	struct pathbuf path;	/* of the entry visited: "/a/b" */
	fsck_visit_fn visit;
	void *arg;		/* the caller's */
};
/* 0, or -1 (said) when out of memory. */
int fsck_walk_init(struct fsck_walk *w, struct fsck_ctx *ctx,
		   fsck_visit_fn visit, void *arg);
void fsck_walk_free(struct fsck_walk *w);
/* The root inode: 0, or -1 (said) when damaged or not a directory. */
int fsck_walk_root(struct fsck_walk *w, struct xipfs_inode_info *root);
void fsck_walk_dir(struct fsck_walk *w, const struct xipfs_inode_info *dir,
		   unsigned depth);
/* "IMAGE: inode N (PATH): message" at the current path */
void fsck_walk_problem_at(struct fsck_walk *w, uint32_t ino, int exit_bit,
			  const char *message);
void fsck_walk_problem(struct fsck_walk *w, uint32_t ino, int err,
		       const char *what);

/* data.c: every block against its CRC, every cluster decompressed; on
 * success *fig says what was checked */
struct fsck_data_figures {
	int checksummed;	/* the image has data CRCs */
	uint64_t blocks;	/* blocks checked against them */
	uint64_t clusters;	/* clusters of compressed files */
	uint64_t decompressed;	/* distinct ones decompressed: the work */
	uint64_t zfiles;	/* compressed files (inodes) */
};
int fsck_check_data(struct fsck_ctx *ctx, struct fsck_data_figures *fig);

/* the actions; verify.c's is also extract's first step */
int fsck_verify(struct fsck_ctx *ctx);
int fsck_list(struct fsck_ctx *ctx);
int fsck_super(struct fsck_ctx *ctx);
int fsck_extract(struct fsck_ctx *ctx);

#endif /* XIPFS_FSCK_H */
