/* SPDX-License-Identifier: MIT */
/* xipfs: mount an xipfs image read-only with FUSE. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "xipfsd.h"

/* What the command line says; turned into struct xipfsd by setup(). */
struct options {
	char *source;
	char *offset, *size, *phys;
	char *read_mode;
	char *passthrough, *backing_dir;
	char *subdir;
	char *profile;
	int verify;		/* 1 verify, 0 noverify, -1 the default */
	unsigned long max_backing;
	unsigned int idle_timeout;
	int verbose;
	unsigned int uid, gid, umask;
	int set_uid, set_gid, set_umask;
	int open_requests, acl;
	int saw_mountpoint;
	int io_uring;
	double entry_timeout, attr_timeout, negative_timeout;
	/* The same numbers as written: fuse_opt's sscanf takes "-1" for an
	 * unsigned and stops quietly at junk ("1x", "inf0"), so each is
	 * checked whole by numbers_valid(). */
	char *uid_text, *gid_text, *max_backing_text, *idle_timeout_text;
	char *entry_timeout_text, *attr_timeout_text, *negative_timeout_text;
	char *push, *push_max, *push_budget, *push_window_text;
	char *passthrough_min;
	char *readahead;
	unsigned int push_window;
};

#define OPT(t, field, v) { t, offsetof(struct options, field), v }
enum { KEY_IO_URING };

static const struct fuse_opt option_spec[] = {
	OPT("offset=%s", offset, 0),
	OPT("size=%s", size, 0),
	OPT("phys=%s", phys, 0),
	OPT("read=%s", read_mode, 0),
	OPT("passthrough=%s", passthrough, 0),
	OPT("backing_dir=%s", backing_dir, 0),
	OPT("passthrough_min=%s", passthrough_min, 0),
	OPT("readahead=%s", readahead, 0),
	OPT("subdir=%s", subdir, 0),
	OPT("profile=%s", profile, 0),
	OPT("verify", verify, 1),
	OPT("noverify", verify, 0),
	OPT("timeout=%u", idle_timeout, 0),
	OPT("timeout=%s", idle_timeout_text, 0),
	OPT("-v", verbose, 1),
	OPT("--verbose", verbose, 1),
	OPT("verbose", verbose, 1),
	OPT("max_backing=%lu", max_backing, 0),
	OPT("max_backing=%s", max_backing_text, 0),
	OPT("uid=%u", uid, 0),
	OPT("uid=%s", uid_text, 0),
	OPT("uid=", set_uid, 1),
	OPT("gid=%u", gid, 0),
	OPT("gid=%s", gid_text, 0),
	OPT("gid=", set_gid, 1),
	OPT("umask=%o", umask, 0),
	OPT("umask=", set_umask, 1),
	OPT("open", open_requests, 1),
	OPT("noopen", open_requests, 0),
	OPT("acl", acl, 1),
	OPT("noacl", acl, 0),
	FUSE_OPT_KEY("io_uring", KEY_IO_URING),
	OPT("entry_timeout=%lf", entry_timeout, 0),
	OPT("entry_timeout=%s", entry_timeout_text, 0),
	OPT("attr_timeout=%lf", attr_timeout, 0),
	OPT("attr_timeout=%s", attr_timeout_text, 0),
	OPT("negative_timeout=%lf", negative_timeout, 0),
	OPT("negative_timeout=%s", negative_timeout_text, 0),
	OPT("push=%s", push, 0),
	OPT("push_max=%s", push_max, 0),
	OPT("push_budget=%s", push_budget, 0),
	OPT("push_window=%u", push_window, 0),
	OPT("push_window=%s", push_window_text, 0),
	FUSE_OPT_END
};

/* -o verify unless noverify is given?  Its cost, measured (see the man
 * page), decides. */
#define VERIFY_DEFAULT 0

static void usage(void)
{
	printf(
"usage: xipfs [options] SOURCE MOUNTPOINT\n"
"\n"
"Mount the xipfs image in SOURCE (a file, block device or memory device)\n"
"read-only on MOUNTPOINT.  Unmount with 'fusermount3 -u MOUNTPOINT'.\n"
"\n"
"xipfs options:\n"
"    -v, --verbose, -o verbose\n"
"                           say how the mount serves, why an optional path\n"
"                           is off, and what it served at unmount\n"
"    -o subdir=PATH         mount this directory of the image as the root\n"
"    -o timeout=S           unmount after S seconds without a request\n"
"                           while nothing in the mount is open\n"
"    -o offset=N            the image starts N bytes into SOURCE (K/M/G ok)\n"
"    -o size=N              the image window is N bytes (default: to the end)\n"
"    -o phys=ADDR           physical address of the image; SOURCE defaults\n"
"                           to /dev/mem and size= is required\n"
"    -o read=copy|splice    how READ is answered (default: copy where the\n"
"                           readahead window was widened (root) or for a\n"
"                           device, else splice)\n"
"    -o uid=N,gid=N         show every file as owned by N\n"
"    -o umask=M             clear these permission bits on every file\n"
"    -o noopen | open       skip OPEN/RELEASE requests (default: noopen)\n"
"    -o passthrough=auto|on|off\n"
"                           reads and mmap go to clones of the image's\n"
"                           blocks, not through the daemon (default: auto,\n"
"                           where every precondition holds)\n"
"    -o backing_dir=DIR     where the clones live (default: the source's\n"
"                           directory; same file system)\n"
"    -o max_backing=N       clones live at once at most (default: 4096)\n"
"    -o passthrough_min=N   smaller files are served through the page cache\n"
"                           even with passthrough (default: 1M)\n"
"    -o readahead=N         the mount's readahead window, set in sysfs by a\n"
"                           root daemon (default: 2M; 0: the kernel's)\n"
"    -o verify | noverify   check the data CRC of every block a READ serves\n"
"                           (once a block; EIO on a mismatch; default: %s)\n"
"    -o profile=FILE        write the files run and read to FILE (at unmount\n"
"                           and on SIGUSR1), for mkxipfs --xip-list\n"
"    -o io_uring            FUSE over io_uring, where libfuse and the kernel\n"
"                           have it (-o io_uring_q_depth=N: queue depth)\n"
"    -o acl | noacl         enforce POSIX ACLs stored in the image (default:\n"
"                           acl, or noacl with uid=/gid=)\n"
"    -o entry_timeout=S     seconds the kernel caches names (default: 1e6)\n"
"    -o attr_timeout=S      seconds the kernel caches attributes (1e6)\n"
"    -o negative_timeout=S  seconds the kernel caches absent names (1e6)\n"
"    -o push=on|off         push-ahead: once a directory's files are read,\n"
"                           store the next small files' data in the page\n"
"                           cache before they are asked for (default: on)\n"
"    -o push_max=N          largest file pushed (default: 64K)\n"
"    -o push_window=N       entries pushed ahead of the reader (default: 32)\n"
"    -o push_budget=N       bytes pushed ahead of the reader (default: 4M)\n"
"\n", VERIFY_DEFAULT ? "verify" : "noverify");
}

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"

/*
 * -o io_uring goes on to libfuse (1) only where it can work; otherwise it
 * is dropped (0) with one line saying why, and /dev/fuse serves instead.
 */
static int want_io_uring(struct options *o)
{
	char c = 'N';
	FILE *f;

	o->io_uring = 1;
	if (!HAVE_DECL_FUSE_CAP_OVER_IO_URING) {
		fprintf(stderr, "xipfs: io_uring: this libfuse has no FUSE over "
			"io_uring (libfuse 3.18 or newer needed); using "
			"/dev/fuse\n");
		return 0;
	}
	f = fopen(ENABLE_URING, "re");
	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	if (c == 'Y')
		return 1;
	fprintf(stderr, "xipfs: io_uring: the kernel has it off (%s is %s); "
		"as root: echo Y > %s; using /dev/fuse\n", ENABLE_URING,
		f ? "N" : "missing", ENABLE_URING);
	return 0;
}

static int keep_source(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *o = data;

	struct stat st;

	if (key == KEY_IO_URING)
		return want_io_uring(o);
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (!o->source) {
		o->source = strdup(arg);
		return o->source ? 0 : -1;
	}
	/* The mount point, checked here so the message is in our words;
	 * libfuse refuses any further argument itself. */
	if (o->saw_mountpoint++)
		return 1;
	if (stat(arg, &st) < 0) {
		fprintf(stderr, "xipfs: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "xipfs: %s: not a directory\n", arg);
		return -1;
	}
	return 1;
}

static int size_option(const char *name, const char *arg, uint64_t *out)
{
	if (!arg)
		return 0;
	if (xipfs_parse_size(arg, out) == 0)
		return 0;
	fprintf(stderr, "xipfs: %s=%s: not a byte count\n", name, arg);
	return -1;
}

/* readahead=SIZE: 0 (leave the kernel's) or 4K..256M, whole KiB. */
static int readahead_option(const struct options *o, struct xipfsd *d)
{
	uint64_t bytes = READAHEAD_DEFAULT;

	if (size_option("readahead", o->readahead, &bytes))
		return -1;
	if (bytes && (bytes < 4096 || bytes > READAHEAD_MAX || bytes % 1024)) {
		fprintf(stderr, "xipfs: readahead=%s: 0, or whole KiB from 4K "
			"to %uM\n", o->readahead, READAHEAD_MAX >> 20);
		return -1;
	}
	d->readahead_kb = (unsigned int)(bytes / 1024);
	d->readahead_explicit = o->readahead != NULL;
	return 0;
}

/* Turn the parsed options into the daemon's settings; -1 after a message. */
/* text, when given, is a whole number up to max, or (real) a number of
 * seconds, 0 or more; else a message. */
static int number_valid(const char *name, const char *text,
			unsigned long long max, int real)
{
	char *end;
	int ok;

	if (!text)
		return 1;
	errno = 0;
	if (real) {
		double v = strtod(text, &end);

		ok = v >= 0;	/* NaN fails */
	} else {
		unsigned long long v = strtoull(text, &end, 10);

		ok = text[0] >= '0' && text[0] <= '9' && !errno && v <= max;
	}
	if (ok && end != text && *end == '\0')
		return 1;
	fprintf(stderr, "xipfs: %s=%s: not %s\n", name, text,
		real ? "a number of seconds (negative, NaN or malformed)" :
		       "a whole number in range");
	return 0;
}

static int numbers_valid(const struct options *o)
{
	return number_valid("uid", o->uid_text, UINT32_MAX - 1, 0) &&
	       number_valid("gid", o->gid_text, UINT32_MAX - 1, 0) &&
	       number_valid("max_backing", o->max_backing_text, ULONG_MAX, 0) &&
	       number_valid("timeout", o->idle_timeout_text, UINT_MAX, 0) &&
	       number_valid("push_window", o->push_window_text, PUSH_WINDOW_MAX, 0) &&
	       number_valid("entry_timeout", o->entry_timeout_text, 0, 1) &&
	       number_valid("attr_timeout", o->attr_timeout_text, 0, 1) &&
	       number_valid("negative_timeout", o->negative_timeout_text, 0, 1);
}

/* push=, push_max=, push_budget=, push_window=: push-ahead's bounds. */
static int push_options(const struct options *o, struct xipfsd_push *p)
{
	if (!o->push || !strcmp(o->push, "on")) {
		p->on = 1;
	} else if (!strcmp(o->push, "off")) {
		p->on = 0;
	} else {
		fprintf(stderr, "xipfs: push=%s: expected on or off\n", o->push);
		return -1;
	}
	p->max_file = PUSH_MAX_DEFAULT;
	p->budget = PUSH_BUDGET_DEFAULT;
	p->window = o->push_window_text ? o->push_window : PUSH_WINDOW_DEFAULT;
	if (size_option("push_max", o->push_max, &p->max_file) ||
	    size_option("push_budget", o->push_budget, &p->budget))
		return -1;
	if (p->max_file > PUSH_MAX_LIMIT) {
		fprintf(stderr, "xipfs: push_max=%s: at most %u bytes\n",
			o->push_max, PUSH_MAX_LIMIT);
		return -1;
	}
	/* nothing to push within these bounds: the same as push=off */
	if (!p->max_file || !p->budget || !p->window)
		p->on = 0;
	return 0;
}

static int apply_options(struct options *o, struct xipfsd *d,
			 uint64_t *offset, uint64_t *size)
{
	if (!numbers_valid(o))
		return -1;
	if (size_option("offset", o->offset, offset) ||
	    size_option("size", o->size, size) ||
	    size_option("phys", o->phys, offset))
		return -1;
	if (o->phys && o->offset) {
		fprintf(stderr, "xipfs: phys= and offset= both give the start\n");
		return -1;
	}
	if (o->phys && !o->size) {
		fprintf(stderr, "xipfs: phys= needs size=\n");
		return -1;
	}
	if (o->size && *size == 0) {
		fprintf(stderr, "xipfs: size=%s: an empty window\n", o->size);
		return -1;
	}
	if (!o->read_mode) {
		d->read_mode = XIPFSD_READ_AUTO;
	} else if (!strcmp(o->read_mode, "copy")) {
		d->read_mode = XIPFSD_READ_COPY;
	} else if (!strcmp(o->read_mode, "splice")) {
		d->read_mode = XIPFSD_READ_SPLICE;
	} else {
		fprintf(stderr, "xipfs: read=%s: expected copy or splice\n",
			o->read_mode);
		return -1;
	}
	d->force_uid = o->set_uid;
	d->uid = o->uid;
	d->force_gid = o->set_gid;
	d->gid = o->gid;
	d->force_umask = o->set_umask;
	d->umask = o->umask & 07777;
	d->open_requests = o->open_requests;
	/* ACL entries name the image's owners, which uid=/gid= hide. */
	d->acl = o->acl >= 0 ? o->acl : !(o->set_uid || o->set_gid);
	d->acl_explicit = o->acl == 1;
	d->read_explicit = o->read_mode != NULL;
	d->verbose = o->verbose;
	d->subdir = o->subdir;
	/* Idle means nothing open too, and only OPEN/RELEASE tell. */
	d->idle_timeout = o->idle_timeout;
	if (d->idle_timeout)
		d->open_requests = 1;
	if (!o->passthrough || !strcmp(o->passthrough, "auto")) {
		d->passthrough = XIPFSD_PT_AUTO;
	} else if (!strcmp(o->passthrough, "on")) {
		d->passthrough = XIPFSD_PT_ON;
	} else if (!strcmp(o->passthrough, "off")) {
		d->passthrough = XIPFSD_PT_OFF;
	} else {
		fprintf(stderr, "xipfs: passthrough=%s: expected auto, on or "
			"off\n", o->passthrough);
		return -1;
	}
	/* A profile needs every OPEN (for its exec flag) and every READ,
	 * which passthrough would take past the daemon. */
	if (o->profile && d->passthrough == XIPFSD_PT_ON) {
		fprintf(stderr, "xipfs: profile= and passthrough=on: passed-"
			"through reads bypass the daemon, which could not see "
			"them\n");
		return -1;
	}
	if (o->profile) {
		if (d->verbose && d->passthrough == XIPFSD_PT_AUTO)
			fprintf(stderr, "xipfs: profile=: passthrough off, "
				"so that the daemon sees every read\n");
		d->passthrough = XIPFSD_PT_OFF;
		d->open_requests = 1;
	}
	d->max_backing = o->max_backing;
	d->passthrough_min = PASSTHROUGH_MIN_DEFAULT;
	if (size_option("passthrough_min", o->passthrough_min,
			&d->passthrough_min))
		return -1;
	if (readahead_option(o, d))
		return -1;
	d->entry_timeout = o->entry_timeout;
	d->attr_timeout = o->attr_timeout;
	d->negative_timeout = o->negative_timeout;	/* numbers_valid() */
	return push_options(o, &d->push);
}

/* Map SOURCE and check its superblock; -1 after a one-line message. */
static int open_source(struct xipfsd *d, uint64_t offset, uint64_t size)
{
	struct stat st;
	const char *what;
	int err = xipfs_map_source(d->source, offset, size, &d->map, &what);

	if (err == -EINVAL) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source, what);
		return -1;
	}
	if (err) {
		fprintf(stderr, "xipfs: %s: %s: %s\n", d->source, what,
			strerror(-err));
		return -1;
	}
	err = xipfs_image_open(&d->img, d->map.image, d->map.length);
	if (err) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source,
			xipfs_strerror(err));
		xipfs_unmap_source(&d->map);
		return -1;
	}
	/* Splice needs a file whose page cache holds the image; devices are
	 * read by copy.  For a file, run_session decides, once it knows
	 * whether the readahead window can be widened. */
	if (d->map.type != S_IFREG && d->read_mode == XIPFSD_READ_SPLICE)
		fprintf(stderr, "xipfs: %s: read=splice needs a regular file; "
			"reading by copy\n", d->source);
	if (d->map.type != S_IFREG)
		d->read_mode = XIPFSD_READ_COPY;
	if (fstat(d->map.fd, &st) == 0) {
		d->source_dev = (uint64_t)st.st_dev;
		d->source_ino = (uint64_t)st.st_ino;
	}
	if (xipfsd_guard_install(d->map.image, d->map.length) < 0) {
		perror("xipfs: sigaction");
		xipfs_unmap_source(&d->map);
		return -1;
	}
	return 0;
}

/* One step of subdir=: the entry name[0, len) of directory *ino. */
static int subdir_step(struct xipfsd *d, const char *name, size_t len,
		       uint32_t *ino)
{
	struct xipfs_inode_info dir;
	int err = xipfs_inode_get(&d->img, *ino, &dir);

	return err ? err : xipfs_lookup(&d->img, &dir, name, len, ino);
}

/*
 * subdir=PATH: find, once, the directory the mount shows as its root.
 * PATH is taken inside the image; ".." is refused, so it cannot name
 * anything above where it starts.  -1 after a message.
 */
static int resolve_subdir(struct xipfsd *d)
{
	struct xipfs_inode_info dir;
	const char *p = d->subdir, *end;
	uint32_t ino = XIPFS_ROOT_INO;
	int err = 0;

	if (!p)
		return 0;
	while (!err && *p) {
		end = strchrnul(p, '/');
		if (end - p == 2 && !strncmp(p, "..", 2)) {
			fprintf(stderr, "xipfs: %s: subdir=%s: '..' is not "
				"allowed\n", d->source, d->subdir);
			return -1;
		}
		if (end - p > 1 || (end - p == 1 && *p != '.'))
			err = subdir_step(d, p, (size_t)(end - p), &ino);
		p = *end ? end + 1 : end;
	}
	if (!err)
		err = xipfs_inode_get(&d->img, ino, &dir);
	if (!err && !S_ISDIR(dir.mode))
		err = -ENOTDIR;
	if (err) {
		fprintf(stderr, "xipfs: %s: subdir=%s: %s\n", d->source,
			d->subdir, err == -ENOENT ? "no such directory in the "
			"image" : err == -ENOTDIR ? "not a directory in the image"
			: xipfs_strerror(err));
		return -1;
	}
	d->root_ino = ino;
	return 0;
}

/*
 * Passthrough needs a clone-capable file system under the source; find out
 * now and say once why not (passthrough=on refuses to mount instead).
 */
static int setup_passthrough(struct xipfsd *d, const char *backing_dir)
{
	char reason[512];
	const char *why;
	char *src;

	if (d->passthrough == XIPFSD_PT_OFF)
		return 0;
	if (backing_dir) {
		d->backing_dir = realpath(backing_dir, NULL);
	} else if ((src = realpath(d->source, NULL))) {
		d->backing_dir = strdup(dirname(src));
		free(src);
	}
	why = d->backing_dir ?
	      xipfsd_passthrough_check(d, reason, sizeof(reason)) :
	      "cannot resolve the backing directory";
	if (!why) {
		d->passthrough_active = 1;
		d->open_requests = 1;
		return 0;
	}
	if (d->passthrough == XIPFSD_PT_ON) {
		fprintf(stderr, "xipfs: %s: passthrough=on: %s\n", d->source,
			why);
		return -1;
	}
	/* auto: the page cache serves, which is no fault; -v says why. */
	if (d->verbose)
		fprintf(stderr, "xipfs: %s: passthrough off: %s\n", d->source,
			why);
	return 0;
}

/*
 * Mount options every xipfs mount has: read-only, permissions checked by
 * the kernel from the attributes we report, and a name that says what is
 * mounted.  The source name is escaped, since it may hold a comma.
 */
static int add_mount_options(struct fuse_args *args, const char *source)
{
	char *opts = NULL, *fsname, *abs = realpath(source, NULL);
	int err;

	err = asprintf(&fsname, "fsname=%s", abs ? abs : source);
	free(abs);
	if (err < 0)
		return -1;
	err = fuse_opt_add_opt(&opts, "ro,default_permissions") ||
	      fuse_opt_add_opt_escaped(&opts, fsname) ||
	      fuse_opt_add_arg(args, "-o") || fuse_opt_add_arg(args, opts);
	free(fsname);
	free(opts);
	return err ? -1 : 0;
}

__attribute__((format(printf, 2, 0)))
static void log_to_syslog(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	vsyslog((int)level, fmt, ap);	/* fuse_log levels are syslog's */
}

/* The request loop, on one thread or a pool: what libfuse returns. */
static int run_loop(struct fuse_session *se, struct fuse_cmdline_opts *cmd)
{
	struct fuse_loop_config *cfg;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned int)cmd->clone_fd);
	/* -1 means "unlimited", which libfuse 3.14 logs as invalid. */
	if (cmd->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads);
	fuse_loop_cfg_set_max_threads(cfg, cmd->max_threads);
	ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}

/* Serve the mounted session until it ends; 0 for a clean stop. */
static int serve(struct xipfsd *d, struct fuse_session *se,
		 struct fuse_cmdline_opts *cmd)
{
	int ret;

	if (xipfsd_read_start(d)) {
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: cannot make a thread key\n",
			 d->source);
		return 1;
	}
	if (xipfsd_stats_start(d))
		fuse_log(FUSE_LOG_WARNING, "xipfs: no SIGUSR1 reports: %s\n",
			 strerror(errno));
	if (xipfsd_push_start(d)) {
		/* an optimisation: the mount serves without it */
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: no push-ahead: %s\n",
			 d->source, strerror(ENOMEM));
		d->push.on = 0;
	}
	if (xipfsd_idle_start(d)) {
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: timeout=%u: cannot start "
			 "the idle timer: %s\n", d->source, d->idle_timeout,
			 strerror(errno));
		ret = -1;
	} else {
		ret = run_loop(se, cmd);
		xipfsd_idle_stop(d);
	}
	xipfsd_push_stop(d);
	xipfsd_stats_stop(d);
	xipfsd_read_stop(d);
	if (d->verbose)
		xipfsd_stats_report(d, "unmount");
	xipfsd_profile_write(d, "at unmount");
	/* libfuse returns the signal that ended the loop: a clean stop. */
	return !d->refused && (ret == 0 || ret == SIGINT || ret == SIGTERM ||
			       ret == SIGHUP) ? 0 : 1;
}

static int run_session(struct xipfsd *d, struct fuse_args *args,
		       struct fuse_cmdline_opts *cmd)
{
	struct fuse_session *se;
	int ret = 1;

	se = fuse_session_new(args, &xipfsd_ops, sizeof(xipfsd_ops), d);
	if (!se)
		return 1;
	d->se = se;
	/* After the options proved valid, before anything is mounted. */
	if (setup_passthrough(d, d->backing_dir_opt))
		goto out_destroy;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (fuse_session_mount(se, cmd->mountpoint))
		goto out_signals;
	xipfsd_mount_note(d, cmd->mountpoint);
	xipfsd_readahead_find(d, cmd->mountpoint);
	/* Measured (docs/BENCHMARKS.md, "Defaults by measurement"): with the
	 * 2M window a root daemon sets, copy reads a cold file twice as fast
	 * as splice, which the larger window does not help; with the kernel's
	 * 128K window the two are level, and splice keeps the daemon's
	 * mapping untouched. */
	if (d->read_mode == XIPFSD_READ_AUTO)
		d->read_mode = d->readahead_path[0] ? XIPFSD_READ_COPY :
			       XIPFSD_READ_SPLICE;
	/* Errors so far reached the terminal; from here on, fuse_log, which
	 * goes to syslog once stderr is gone. */
	if (fuse_daemonize(cmd->foreground))
		goto out_unmount;
	if (!cmd->foreground) {
		openlog("xipfs", LOG_PID, LOG_DAEMON);
		fuse_set_log_func(log_to_syslog);
	}
	ret = serve(d, se, cmd);
out_unmount:
	xipfsd_unmount_final(d, se);
	xipfsd_mount_forget(d);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return ret;
}

/* phys= with a single path: that path is the mount point, /dev/mem the source. */
static int settle_paths(struct options *o, struct fuse_cmdline_opts *cmd)
{
	if (o->phys && o->source && !cmd->mountpoint) {
		cmd->mountpoint = realpath(o->source, NULL);
		if (!cmd->mountpoint) {
			fprintf(stderr, "xipfs: %s: %s\n", o->source,
				strerror(errno));
			return -1;
		}
		free(o->source);
		o->source = strdup("/dev/mem");
	}
	if (!o->source || !cmd->mountpoint) {
		fprintf(stderr, "xipfs: %s\nTry 'xipfs --help' for more "
			"information.\n", o->source ? "no mount point given" :
			"no source given");
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd;
	struct options o = {
		.acl = -1, .verify = -1,
		.entry_timeout = 1e6, .attr_timeout = 1e6,
		.negative_timeout = 1e6, .max_backing = 4096,
	};
	struct xipfsd d = {
		.map.fd = -1, .root_ino = XIPFS_ROOT_INO, .profile.dirfd = -1,
		.open_inodes.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	uint64_t offset = 0, size = 0;
	int ret = 1;

	memset(&cmd, 0, sizeof(cmd));
	if (fuse_opt_parse(&args, &o, option_spec, keep_source) ||
	    fuse_opt_add_arg(&args, "-osubtype=xipfs") ||
	    fuse_parse_cmdline(&args, &cmd))
		goto out;
	if (cmd.show_help) {
		usage();
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (cmd.show_version) {
		printf("xipfs %s\nbuilt with: passthrough %s, io_uring %s\n",
		       PACKAGE_VERSION,
		       HAVE_DECL_FUSE_PASSTHROUGH_OPEN ? "yes" : "no",
		       HAVE_DECL_FUSE_CAP_OVER_IO_URING ? "yes" : "no");
		fuse_lowlevel_version();
		ret = 0;
		goto out;
	}
	if (settle_paths(&o, &cmd) || apply_options(&o, &d, &offset, &size))
		goto out;
	d.source = o.source;
	d.page_size = sysconf(_SC_PAGESIZE);
	d.conn_opts = fuse_parse_conn_info_opts(&args);
	if (!d.conn_opts || add_mount_options(&args, o.source) ||
	    open_source(&d, offset, size))
		goto out;
	if (resolve_subdir(&d) ||
	    xipfsd_verify_setup(&d, o.verify >= 0 ? o.verify :
				VERIFY_DEFAULT ? -1 : 0) ||
	    xipfsd_profile_setup(&d, o.profile)) {
		xipfsd_verify_free(&d);
		xipfs_unmap_source(&d.map);
		goto out;
	}
	d.backing_dir_opt = o.backing_dir;
	ret = run_session(&d, &args, &cmd);
	xipfsd_passthrough_free(&d);
	xipfsd_verify_free(&d);
	xipfsd_profile_free(&d);
	xipfs_unmap_source(&d.map);
out:
	free(d.conn_opts);
	free(cmd.mountpoint);
	free(o.source);
	free(o.offset);
	free(o.size);
	free(o.phys);
	free(o.read_mode);
	free(o.passthrough);
	free(o.backing_dir);
	free(o.subdir);
	free(o.profile);
	free(o.uid_text);
	free(o.gid_text);
	free(o.max_backing_text);
	free(o.idle_timeout_text);
	free(o.entry_timeout_text);
	free(o.attr_timeout_text);
	free(o.negative_timeout_text);
	free(o.push);
	free(o.readahead);
	free(o.push_max);
	free(o.push_budget);
	free(o.push_window_text);
	free(o.passthrough_min);
	free(d.backing_dir);
	fuse_opt_free_args(&args);
	return ret;
}
