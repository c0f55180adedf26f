/* SPDX-License-Identifier: MIT */
/*
 * INIT: what the kernel offers meets what the options asked for.  The
 * image never changes, so the mount asks for every cache; passthrough,
 * splice and POSIX ACLs are settled here, since only now is the kernel's
 * support known, and -v says how the mount came out.  Connection options
 * the user gave (max_readahead=, readdirplus=...) win over these wishes.
 */
#include "config.h"

#include "xipfsd.h"

/* Ask for cap where the kernel offers it (on), or not at all (off). */
static void want(struct fuse_conn_info *conn, uint64_t cap, int on)
{
	if (on && (conn->capable & cap))
		conn->want |= cap;
	else if (!on)
		conn->want &= ~cap;
}

/* The kernel's passthrough support is known only now. */
static void init_passthrough(struct xipfsd *d, struct fuse_conn_info *conn)
{
#ifdef FUSE_CAP_PASSTHROUGH
	if (conn->capable & FUSE_CAP_PASSTHROUGH) {
		conn->want |= FUSE_CAP_PASSTHROUGH;
		d->open_requests = 1;	/* each open carries its backing id */
		return;
	}
#endif
	d->passthrough_active = 0;
	/* auto falls back in silence; -v says why, and on refuses. */
	if (d->passthrough == XIPFSD_PT_ON || d->verbose)
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: passthrough%s: the "
			 "kernel does not offer FUSE passthrough\n", d->source,
			 d->passthrough == XIPFSD_PT_ON ? "=on" : " off");
	if (d->passthrough == XIPFSD_PT_ON) {
		d->refused = 1;
		fuse_session_exit(d->se);
	}
}

/* -v: one line on how this mount serves. */
static void say_how(const struct xipfsd *d, const struct fuse_conn_info *conn)
{
	if (!d->verbose)
		return;
	fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: %s%s%sreads by %s, passthrough "
		 "%s, %s, POSIX ACLs %s\n", d->source,
		 d->subdir ? "subdir=" : "", d->subdir ? d->subdir : "",
		 d->subdir ? " as the root, " : "",
		 d->splice ? "splice" : "copy",
		 d->passthrough_active ? "on" : "off",
		 d->open_requests ? "opens answered" : "no open requests",
		 conn->want & FUSE_CAP_POSIX_ACL ? "enforced" : "not enforced");
	if (d->idle_timeout)
		fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: unmounting after %u s "
			 "without requests and with nothing open\n",
			 d->source, d->idle_timeout);
}

void xipfsd_init(void *userdata, struct fuse_conn_info *conn)
{
	struct xipfsd *d = userdata;

	/* The image never changes: cache everything, never invalidate. */
	want(conn, FUSE_CAP_READDIRPLUS, 1);
	want(conn, FUSE_CAP_READDIRPLUS_AUTO, 0);
	want(conn, FUSE_CAP_CACHE_SYMLINKS, 1);
	want(conn, FUSE_CAP_AUTO_INVAL_DATA, 0);
	want(conn, FUSE_CAP_POSIX_ACL, d->acl);
	if (d->acl && !(conn->capable & FUSE_CAP_POSIX_ACL) &&
	    (d->acl_explicit || d->verbose))
		fuse_log(FUSE_LOG_WARNING, "xipfs: the kernel cannot enforce "
			 "POSIX ACLs; only permission bits apply\n");
	if (d->passthrough_active)
		init_passthrough(d, conn);
	want(conn, FUSE_CAP_SPLICE_WRITE, d->read_mode == XIPFSD_READ_SPLICE);
	want(conn, FUSE_CAP_SPLICE_MOVE, 0);
	/* Options the user gave (max_readahead=, readdirplus=...) win. */
	fuse_apply_conn_info_opts(d->conn_opts, conn);
	d->splice = d->read_mode == XIPFSD_READ_SPLICE &&
		    (conn->want & FUSE_CAP_SPLICE_WRITE);
	if (d->read_mode == XIPFSD_READ_SPLICE && !d->splice &&
	    (d->read_explicit || d->verbose))
		fuse_log(FUSE_LOG_WARNING, "xipfs: the kernel cannot splice "
			 "replies; reading by copy\n");
	/* Without no-open support an ENOSYS open would fail every open(2). */
	if (!(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
		d->open_requests = 1;
	if (!(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
		d->opendir_requests = 1;
	conn->time_gran = 1;
	say_how(d, conn);
	/* after the reply this returns to, which caps the window */
	xipfsd_readahead_apply(d);
}
