/* SPDX-License-Identifier: MIT */
/*
 * options.c: the command line, as one table that drives parsing
 * (fuse_opt), --help, the checks of every value and the freeing.  A new
 * option is one line of the table and one field here.
 */
#ifndef XIPFSD_OPTIONS_H
#define XIPFSD_OPTIONS_H

#include <stdint.h>

#include "xipfsd.h"

/* -o verify unless noverify is given?  Its cost on cold reads, measured
 * (man page, DATA CHECKSUMS; docs/BENCHMARKS.md), decided: on. */
#define VERIFY_DEFAULT 1
#define VERIFY_DEFAULT_NAME "verify"	/* for --help */

/* What the command line says; turned into struct xipfsd by main.c. */
struct options {
	char *source;
	int saw_mountpoint;
	/* flags: 1 or 0 as given, -1 (where it matters) when not */
	int verify, verbose, open_requests, acl, io_uring;
	/* each option's text as given, NULL when it was not */
	struct {
		char *offset, *size, *phys, *read, *subdir, *timeout;
		char *uid, *gid, *umask;
		char *passthrough, *backing_dir, *max_backing;
		char *passthrough_min, *readahead, *profile, *stats;
		char *entry_timeout, *attr_timeout, *negative_timeout;
		char *push, *push_max, *push_window, *push_budget;
		/* remote sources (remote.c) */
		char *cache, *cacert, *s3_endpoint, *s3_region;
		char *remote_chunk, *remote_readahead, *remote_timeout;
		char *remote_retries;
	} text;
	/* the values: the text's, checked, or the table's default */
	uint64_t offset, size, phys, passthrough_min, readahead;
	uint64_t push_max, push_budget;
	uint64_t timeout, uid, gid, umask, max_backing, push_window;
	double entry_timeout, attr_timeout, negative_timeout;
	uint64_t remote_chunk, remote_readahead, remote_timeout;
	uint64_t remote_retries;
	int prefetch;
};

/* fuse_opt_parse with the table; -1 after a message (libfuse's or ours). */
int options_parse(struct fuse_args *args, struct options *o);
/* Every value checked and converted (defaults where not given); -1 after
 * a message naming the option. */
int options_check(struct options *o);
void options_help(void);
void options_free(struct options *o);

#endif /* XIPFSD_OPTIONS_H */
