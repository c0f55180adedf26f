/* SPDX-License-Identifier: MIT */
/*
 * The one way the daemon starts a helper thread (push-ahead, the idle
 * timer, the readahead writer, the SIGUSR1 reporter).  Asynchronous
 * signals belong to the main thread, where libfuse's handlers end the
 * loop (a SIGTERM taken by a helper marks the session exited but wakes
 * nobody), and SIGUSR1 to the reporter, which sigwait()s for it; so a
 * helper starts with every signal blocked.  The faults stay open: SIGBUS
 * is how the image guard (guard.c) learns of a lost source, and a fault
 * that is blocked kills the process outright.  The mask is set around
 * pthread_create, which hands it to the new thread before it runs a
 * single instruction, and the caller's own mask is restored after.
 */
#include "config.h"

#include <signal.h>

#include "xipfsd.h"

int xipfsd_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t detached;
	sigset_t block, old;
	int err;

	sigfillset(&block);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	err = pthread_attr_init(&attr);
	if (err)
		return err;
	if (!thread)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(thread ? thread : &detached, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return err;
}
