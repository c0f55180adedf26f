/* SPDX-License-Identifier: MIT */
/*
 * A source lost under the mount: SIGBUS on the image mapping, or a READ
 * that finds the source short, becomes EIO for the request that met it.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "xipfsd.h"

/* The guard this thread's request is in, if any: global (per thread)
 * because the signal handler can find it nowhere else. */
__thread struct xipfsd_guard *xipfsd_guard_current;

/*
 * A signal handler can reach only global state; these two are written once
 * before any thread starts and only read afterwards.
 */
static uintptr_t guard_start, guard_end;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	struct xipfsd_guard *g = xipfsd_guard_current;
	uintptr_t addr = (uintptr_t)si->si_addr;

	(void)uctx;
	if (g && addr >= guard_start && addr < guard_end) {
		xipfsd_guard_current = NULL;
		siglongjmp(g->env, 1);
	}
	/*
	 * Not a fault on the image, or outside a guarded region: a real bug.
	 * Restore the default action; returning re-runs the faulting access,
	 * which then kills the process with a core as it should.
	 */
	signal(sig, SIG_DFL);
}

int xipfsd_guard_install(const void *start, size_t len)
{
	struct sigaction sa;

	guard_start = (uintptr_t)start;
	guard_end = guard_start + len;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/*
	 * SA_NODEFER: the handler leaves by siglongjmp from a sigsetjmp that
	 * saved no mask (saving costs a syscall per request), so SIGBUS must
	 * not be left blocked behind it.
	 */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}

/*
 * A request the source failed under the mount: counted, said (within the
 * mount's message budget) and answered EIO.  The guard ends here, and so
 * do the READ paths that see the loss without a fault.
 */
void xipfsd_say_lost(struct xipfsd *d)
{
	atomic_fetch_add_explicit(&d->stats.lost, 1, memory_order_relaxed);
	if (xipfsd_may_complain(d))
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: the source shrank or failed "
			 "under the mount; answering EIO\n", d->source);
}

void xipfsd_reply_lost(fuse_req_t req, struct xipfsd *d)
{
	xipfsd_say_lost(d);
	fuse_reply_err(req, EIO);
}

void xipfsd_guard_fault(fuse_req_t req)
{
	xipfsd_guard_current = NULL;
	xipfsd_reply_lost(req, fuse_req_userdata(req));
}
