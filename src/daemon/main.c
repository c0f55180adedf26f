/* SPDX-License-Identifier: MIT */
/*
 * xipfs: mount an xipfs image read-only with FUSE.  The mount's life: the
 * command line (options.c) applied to the mount's settings, the source
 * mapped and its image opened, subdir= resolved, the features set up,
 * the session mounted and served, and everything freed again.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "options.h"
#include "xipfsd.h"

/* read=: how READ is answered. */
static int read_option(const struct options *o, struct xipfsd *d)
{
	d->read_explicit = o->text.read != NULL;
	if (!o->text.read) {
		d->read_mode = XIPFSD_READ_AUTO;
	} else if (!strcmp(o->text.read, "copy")) {
		d->read_mode = XIPFSD_READ_COPY;
	} else if (!strcmp(o->text.read, "splice")) {
		d->read_mode = XIPFSD_READ_SPLICE;
	} else {
		fprintf(stderr, "xipfs: read=%s: expected copy or splice\n",
			o->text.read);
		return -1;
	}
	return 0;
}

/* offset=, size=, phys=: the window of SOURCE the image is in. */
static int window_options(const struct options *o, uint64_t *offset,
			  uint64_t *size)
{
	if (o->text.phys && o->text.offset) {
		fprintf(stderr, "xipfs: phys= and offset= both give the "
			"start\n");
		return -1;
	}
	if (o->text.phys && !o->text.size) {
		fprintf(stderr, "xipfs: phys= needs size=\n");
		return -1;
	}
	if (o->text.size && o->size == 0) {
		fprintf(stderr, "xipfs: size=%s: an empty window\n",
			o->text.size);
		return -1;
	}
	*offset = o->text.phys ? o->phys : o->offset;
	*size = o->size;
	return 0;
}

/* readahead=SIZE: 0 (leave the kernel's) or 4K..READAHEAD_MAX, whole
 * KiB (the table checked the upper bound). */
static int readahead_option(const struct options *o, struct xipfsd *d)
{
	if (o->readahead && (o->readahead < 4096 || o->readahead % 1024)) {
		fprintf(stderr, "xipfs: readahead=%s: 0, or whole KiB from 4K "
			"to %uM\n", o->text.readahead, READAHEAD_MAX >> 20);
		return -1;
	}
	d->readahead_kb = (unsigned int)(o->readahead / 1024);
	d->readahead_explicit = o->text.readahead != NULL;
	return 0;
}

/* passthrough=, and profile= which needs every read (so passthrough off). */
static int passthrough_options(const struct options *o, struct xipfsd *d)
{
	if (!o->text.passthrough || !strcmp(o->text.passthrough, "auto")) {
		d->passthrough = XIPFSD_PT_AUTO;
	} else if (!strcmp(o->text.passthrough, "on")) {
		d->passthrough = XIPFSD_PT_ON;
	} else if (!strcmp(o->text.passthrough, "off")) {
		d->passthrough = XIPFSD_PT_OFF;
	} else {
		fprintf(stderr, "xipfs: passthrough=%s: expected auto, on or "
			"off\n", o->text.passthrough);
		return -1;
	}
	/* A profile needs every OPEN (for its exec flag) and every READ,
	 * which passthrough would take past the daemon. */
	if (o->text.profile && d->passthrough == XIPFSD_PT_ON) {
		fprintf(stderr, "xipfs: profile= and passthrough=on: passed-"
			"through reads bypass the daemon, which could not see "
			"them\n");
		return -1;
	}
	if (o->text.profile) {
		if (d->verbose && d->passthrough == XIPFSD_PT_AUTO)
			fprintf(stderr, "xipfs: profile=: passthrough off, "
				"so that the daemon sees every read\n");
		d->passthrough = XIPFSD_PT_OFF;
		d->open_requests = 1;
	}
	d->max_backing = (unsigned long)o->max_backing;
	d->passthrough_min = o->passthrough_min;
	d->backing_dir_opt = o->text.backing_dir;
	return 0;
}

/*
 * A URL source (remote.c): its options, and what it rules out.  Push-ahead
 * would fetch bytes nobody asked for; passthrough would hand the kernel
 * the cache file, holes and all.
 */
static int remote_options(const struct options *o, struct xipfsd *d)
{
	struct xipfsd_remote_options ro = {
		.cache = o->text.cache, .cacert = o->text.cacert,
		.s3_endpoint = o->text.s3_endpoint,
		.s3_region = o->text.s3_region, .chunk = o->remote_chunk,
		.readahead = o->remote_readahead,
		.timeout = o->remote_timeout,
		.retries = (unsigned int)o->remote_retries,
		.prefetch = o->prefetch,
	};

	if (!xipfsd_remote_url(o->source))
		return 0;
	if (d->passthrough == XIPFSD_PT_ON) {
		fprintf(stderr, "xipfs: %s: passthrough=on: a remote source "
			"is read through the daemon, which fetches its bytes\n",
			o->source);
		return -1;
	}
	d->passthrough = XIPFSD_PT_OFF;
	xipfsd_push_free(d);
	return xipfsd_remote_setup(d, o->source, &ro);
}

/* Turn the checked options into the daemon's settings; -1 after a
 * message. */
static int apply_options(struct options *o, struct xipfsd *d,
			 uint64_t *offset, uint64_t *size)
{
	if (options_check(o) || window_options(o, offset, size) ||
	    read_option(o, d))
		return -1;
	d->force_uid = o->text.uid != NULL;
	d->uid = (uid_t)o->uid;
	d->force_gid = o->text.gid != NULL;
	d->gid = (gid_t)o->gid;
	d->force_umask = o->text.umask != NULL;
	d->umask = (mode_t)o->umask;
	d->open_requests = o->open_requests;
	/* ACL entries name the image's owners, which uid=/gid= hide. */
	d->acl = o->acl >= 0 ? o->acl : !(d->force_uid || d->force_gid);
	d->acl_explicit = o->acl == 1;
	d->verbose = o->verbose;
	/* noverify trusts the metadata as well as the data */
	d->meta_check_off = o->verify == 0;
	d->subdir = o->text.subdir;
	/* Idle means nothing open too, and only OPEN/RELEASE tell. */
	d->idle_timeout = (unsigned int)o->timeout;
	if (d->idle_timeout)
		d->open_requests = 1;
	/* before passthrough and profile= ask for file opens only */
	d->opendir_requests = d->open_requests;
	if (passthrough_options(o, d) || readahead_option(o, d))
		return -1;
	d->entry_timeout = o->entry_timeout;
	d->attr_timeout = o->attr_timeout;
	d->negative_timeout = o->negative_timeout;
	return xipfsd_push_setup(d, o->text.push, o->push_max,
				 (uint32_t)o->push_window, o->push_budget) ||
	       remote_options(o, d);
}

static int image_ready(struct xipfsd *d);

/* Map SOURCE and check its superblock; -1 after a one-line message. */
static int open_source(struct xipfsd *d, uint64_t offset, uint64_t size)
{
	const char *what;
	int err;

	if (d->remote) {
		if (offset || size) {
			fprintf(stderr, "xipfs: %s: offset= and size= are for "
				"local sources\n", d->source);
			return -1;
		}
		if (xipfsd_remote_open(d))
			return -1;
		return image_ready(d);
	}
	err = xipfs_map_source(d->source, offset, size, &d->map, &what);
	if (err == -EINVAL) {
		fprintf(stderr, "xipfs: %s: %s\n", d->source, what);
		return -1;
	}
	if (err) {
		fprintf(stderr, "xipfs: %s: %s: %s\n", d->source, what,
			strerror(-err));
		return -1;
	}
	return image_ready(d);
}

/* The mapped source's image opened, the reading set up; -1 after a
 * one-line message. */
static int image_ready(struct xipfsd *d)
{
	struct stat st;
	int err = xipfs_image_open_flags(&d->img, d->map.image, d->map.length,
					 d->meta_check_off ?
					 XIPFS_OPEN_NO_META_CHECK : 0);

	if (err) {
		fprintf(stderr, "xipfs: %s: %s%s\n", d->source,
			xipfs_strerror(err), err == -XIPFS_ECRC ?
			" (superblock or metadata checksum table; xipfsck "
			"says which; -o noverify mounts anyway)" : "");
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
	xipfsd_bounce_decide(d);
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
 * Mount options every xipfs mount has: read-only, permissions checked by
 * the kernel from the attributes we report, and a name that says what is
 * mounted.  The source name is escaped, since it may hold a comma.
 */
static int add_mount_options(struct fuse_args *args, const char *source)
{
	char *opts = NULL, *fsname, *abs = xipfsd_remote_url(source) ? NULL :
					       realpath(source, NULL);
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
	int ret, err;

	if (xipfsd_read_start(d)) {
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: cannot make a thread key\n",
			 d->source);
		return 1;
	}
	if (xipfsd_stats_start(d))
		fuse_log(FUSE_LOG_WARNING, "xipfs: no SIGUSR1 reports: %s\n",
			 strerror(errno));
	err = xipfsd_remote_start(d);
	if (err)
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: no prefetch: %s\n",
			 d->source, strerror(err));
	err = xipfsd_push_start(d);
	if (err)	/* an optimisation: the mount serves without it */
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: no push-ahead: %s\n",
			 d->source, strerror(-err));
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
	xipfsd_remote_stop(d);
	xipfsd_stats_stop(d);
	xipfsd_read_stop(d);
	if (d->verbose)
		xipfsd_stats_report(d, "unmount");
	xipfsd_stats_record(d, "unmount");
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
	if (xipfsd_passthrough_setup(d))
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
	if (o->text.phys && o->source && !cmd->mountpoint) {
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

/* The features' state, made once the image is open; -1 after a message. */
static int setup_features(struct xipfsd *d, const struct options *o)
{
	return xipfsd_complaints_setup(d) ||
	       xipfsd_verify_setup(d, o->verify >= 0 ? o->verify :
				   VERIFY_DEFAULT ? -1 : 0) ||
	       xipfsd_profile_setup(d, o->text.profile) ||
	       (o->text.stats &&
		xipfsd_outfile_open(&d->stats_file, "stats", o->text.stats)) ?
	       -1 : 0;
}

/* Each free is safe on what was never set up. */
static void free_features(struct xipfsd *d)
{
	xipfsd_passthrough_free(d);
	xipfsd_verify_free(d);
	xipfsd_complaints_free(d);
	xipfsd_profile_free(d);
	xipfsd_push_free(d);
	xipfsd_remote_free(d);
	xipfsd_outfile_close(&d->stats_file);
}

/* Everything after the command line: the image, its features, the
 * session; the exit status. */
static int mount_image(struct xipfsd *d, struct options *o,
		       struct fuse_args *args, struct fuse_cmdline_opts *cmd)
{
	uint64_t offset = 0, size = 0;
	int ret = 1;

	if (settle_paths(o, cmd) || apply_options(o, d, &offset, &size))
		goto out;
	d->source = d->remote ? xipfsd_remote_shown(d) : o->source;
	d->page_size = sysconf(_SC_PAGESIZE);
	d->conn_opts = fuse_parse_conn_info_opts(args);
	if (!d->conn_opts || add_mount_options(args, d->source) ||
	    open_source(d, offset, size))
		goto out;
	if (!resolve_subdir(d) && !setup_features(d, o))
		ret = run_session(d, args, cmd);
	xipfs_image_close(&d->img);
	xipfs_unmap_source(&d->map);
out:
	free_features(d);
	return ret;
}

static void show_version(void)
{
	printf("xipfs %s\nbuilt with: passthrough %s, io_uring %s\n",
	       PACKAGE_VERSION, HAVE_DECL_FUSE_PASSTHROUGH_OPEN ? "yes" : "no",
	       HAVE_DECL_FUSE_CAP_OVER_IO_URING ? "yes" : "no");
	fuse_lowlevel_version();
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd;
	struct options o = { 0 };
	struct xipfsd d = {
		.map.fd = -1, .root_ino = XIPFS_ROOT_INO,
	};
	int ret = 0;

	memset(&cmd, 0, sizeof(cmd));
	if (options_parse(&args, &o) ||
	    fuse_opt_add_arg(&args, "-osubtype=xipfs") ||
	    fuse_parse_cmdline(&args, &cmd)) {
		ret = 1;
	} else if (cmd.show_help) {
		options_help();
		fuse_cmdline_help();
		fuse_lowlevel_help();
	} else if (cmd.show_version) {
		show_version();
	} else {
		ret = mount_image(&d, &o, &args, &cmd);
	}
	free(d.conn_opts);
	free(cmd.mountpoint);
	options_free(&o);
	fuse_opt_free_args(&args);
	return ret;
}
