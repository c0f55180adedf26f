/* SPDX-License-Identifier: MIT */
/*
 * The output file: a temporary file beside IMAGE, renamed into place only
 * when complete, so a failed or interrupted run never leaves a partial
 * image (a signal removes it too); writes at an offset; the spool for tar
 * input.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkxipfs.h"

/*
 * The one global: a signal handler gets no context pointer, and SIGINT
 * must still remove the temporary image.  Set only with signals blocked.
 */
static char *volatile cleanup_path;

static void on_signal(int sig)
{
	char *p = cleanup_path;

	if (p)
		unlink(p);
	signal(sig, SIG_DFL);
	raise(sig);
}

void install_signal_cleanup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void block_signals(sigset_t *old, int block)
{
	sigset_t set;

	if (!block) {
		sigprocmask(SIG_SETMASK, old, NULL);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* The directory IMAGE goes into, malloc'd. */
static char *image_dir(const char *image)
{
	char *copy = strcpy(xmalloc(strlen(image) + 1), image);
	char *dir = strcpy(xmalloc(strlen(image) + 2), dirname(copy));

	free(copy);
	return dir;
}

int write_all_fd(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int write_all_at(struct build *c, const void *buf, size_t len, uint64_t off)
{
	if (write_all_fd(c->out_fd, buf, len, off) == 0)
		return 0;
	msg_errno(c->opt.image, errno);
	return -1;
}

/* Unlinked scratch file for tar member data: beside the image first, so
 * copy_file_range can reflink from it, else in $TMPDIR. */
int spool_open(struct build *c)
{
	char *dir = image_dir(c->opt.image), *tmpl;
	const char *tmp = getenv("TMPDIR");
	size_t len;

	c->spool_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(dir);
	if (c->spool_fd >= 0)
		return 0;
	tmp = tmp && *tmp ? tmp : "/tmp";
	len = strlen(tmp) + 32;
	tmpl = xmalloc(len);
	snprintf(tmpl, len, "%s/mkxipfs-spool.XXXXXX", tmp);
	c->spool_fd = mkostemp(tmpl, O_CLOEXEC);
	if (c->spool_fd >= 0)
		unlink(tmpl);
	else
		msg_errno(tmpl, errno);
	free(tmpl);
	return c->spool_fd >= 0 ? 0 : -1;
}

int output_open(struct build *c)
{
	char *dir = image_dir(c->opt.image);
	const char *base = strrchr(c->opt.image, '/');
	sigset_t old;
	char *path;
	size_t len;

	base = base ? base + 1 : c->opt.image;
	len = strlen(dir) + strlen(base) + 16;
	path = xmalloc(len);
	snprintf(path, len, "%s/.%s.XXXXXX", dir, base);
	free(dir);
	block_signals(&old, 1);
	c->out_fd = mkostemp(path, O_CLOEXEC);
	if (c->out_fd >= 0)
		cleanup_path = c->tmp_path = path;
	block_signals(&old, 0);
	if (c->out_fd < 0) {
		msg_errno(c->opt.image, errno);
		free(path);
		return -1;
	}
	if (ftruncate(c->out_fd, (off_t)c->image_bound) < 0) {
		msg_errno(c->opt.image, errno);
		return -1;
	}
	return 0;
}

void output_abort(struct build *c)
{
	sigset_t old;

	if (!c->tmp_path)
		return;
	block_signals(&old, 1);
	unlink(c->tmp_path);
	cleanup_path = NULL;
	block_signals(&old, 0);
	free(c->tmp_path);
	c->tmp_path = NULL;
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
}

/* Trim to the final size, give the permissions a new file would get,
 * rename into place: the image exists only once it is whole. */
int output_commit(struct build *c)
{
	mode_t mask = umask(0);
	sigset_t old;

	umask(mask);
	if (ftruncate(c->out_fd, (off_t)c->image_size) < 0) {
		msg_errno(c->opt.image, errno);
		return -1;
	}
	if (fchmod(c->out_fd, 0666 & ~mask) < 0 || close(c->out_fd) < 0) {
		c->out_fd = -1;
		msg_errno(c->opt.image, errno);
		return -1;
	}
	c->out_fd = -1;
	if (rename(c->tmp_path, c->opt.image) < 0) {
		msg_errno(c->opt.image, errno);
		return -1;
	}
	block_signals(&old, 1);
	cleanup_path = NULL;
	block_signals(&old, 0);
	free(c->tmp_path);
	c->tmp_path = NULL;
	return 0;
}
