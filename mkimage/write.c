/* SPDX-License-Identifier: MIT */
/*
 * The output: a temporary file beside IMAGE, renamed into place only when
 * complete, so a failed or interrupted run never leaves a partial image;
 * the spool for tar input; the superblock; the progress line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
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

#define SPUT16(p, f, v) xipfs_put_le16((p) + offsetof(struct xipfs_super, f), (v))
#define SPUT32(p, f, v) xipfs_put_le32((p) + offsetof(struct xipfs_super, f), (v))
#define SPUT64(p, f, v) xipfs_put_le64((p) + offsetof(struct xipfs_super, f), (v))

static void encode_super(const struct build *c, uint8_t *sb, uint32_t meta_crc,
			 const uint8_t uuid[16])
{
	memset(sb, 0, XIPFS_SUPER_SIZE);
	SPUT32(sb, magic, XIPFS_MAGIC);
	SPUT16(sb, version_major, XIPFS_VERSION_MAJOR);
	SPUT16(sb, version_minor, XIPFS_VERSION_MINOR);
	SPUT32(sb, compat, c->opt.align_huge ? XIPFS_COMPAT_ALIGN_HUGE : 0);
	SPUT32(sb, incompat, c->any_packed ? XIPFS_INCOMPAT_PACKED : 0);
	SPUT32(sb, ro_compat, 0);
	sb[offsetof(struct xipfs_super, block_log2)] = (uint8_t)c->opt.block_log2;
	SPUT64(sb, image_size, c->image_size);
	SPUT64(sb, meta_offset, XIPFS_SUPER_SIZE);
	SPUT64(sb, meta_size, c->meta_end - XIPFS_SUPER_SIZE);
	SPUT64(sb, data_offset, c->data_offset);
	SPUT64(sb, inode_offset, XIPFS_SUPER_SIZE);
	SPUT32(sb, inode_count, c->ninodes);
	SPUT32(sb, root_ino, XIPFS_ROOT_INO);
	SPUT64(sb, build_time, (uint64_t)c->build_time);
	SPUT32(sb, build_time_nsec, c->build_time_nsec);
	SPUT32(sb, meta_crc, meta_crc);
	memcpy(sb + offsetof(struct xipfs_super, uuid), uuid, 16);
	SPUT64(sb, data_bytes, c->st.data_bytes);
	SPUT32(sb, file_count, (uint32_t)c->st.files);
	SPUT32(sb, dir_count, (uint32_t)c->st.dirs);
	memcpy(sb + offsetof(struct xipfs_super, volume_name), c->opt.label,
	       sizeof(c->opt.label));
	SPUT32(sb, super_crc, xipfs_super_crc(sb));
}

/* Metadata and superblock (last, so a torn write never looks valid), then
 * the permissions a new file would get, then the rename. */
int output_finish(struct build *c)
{
	uint8_t sb[XIPFS_SUPER_SIZE], uuid[16];
	uint32_t meta_crc;
	mode_t mask = umask(0);
	sigset_t old;

	umask(mask);
	if (ftruncate(c->out_fd, (off_t)c->image_size) < 0) {
		msg_errno(c->opt.image, errno);
		return -1;
	}
	if (emit_meta(c, &meta_crc, uuid) < 0)
		return -1;
	encode_super(c, sb, meta_crc, c->opt.have_uuid ? c->opt.uuid : uuid);
	if (write_all_at(c, sb, sizeof(sb), 0) < 0)
		return -1;
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
	memcpy(c->opt.uuid, c->opt.have_uuid ? c->opt.uuid : uuid, 16);
	return 0;
}

static void human(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

/* One self-overwriting line on a TTY, at most ten times a second. */
void progress_update(struct build *c, int force)
{
	uint64_t now, total = c->total_bytes;
	char done[32], all[32];

	if (!c->progress)
		return;
	now = now_ns();
	if (!force && now - c->last_draw_ns < 100000000u)
		return;
	c->last_draw_ns = now;
	human(done, sizeof(done), c->st.copied);
	human(all, sizeof(all), total);
	fprintf(stderr, "\rmkxipfs: writing data %3u%% (%s of %s)\033[K",
		total ? (unsigned)(c->st.copied * 100 / total) : 100u, done,
		all);
	if (force)
		fputc('\n', stderr);
	fflush(stderr);
}
