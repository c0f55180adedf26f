/* SPDX-License-Identifier: MIT */
/* The progress line: bytes of file data copied (or compressed) so far,
 * on a TTY only. */
#include "config.h"

#include <stdio.h>

#include "mkxipfs.h"

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
	fprintf(stderr, "\rmkxipfs: %s %3u%% (%s of %s)",
		c->compressing ? "compressing" : "writing data",
		total ? (unsigned)(c->st.copied * 100 / total) : 100u, done,
		all);
	if (c->compressing) {	/* what the compressed files came to */
		human(done, sizeof(done), c->st.zstored);
		fprintf(stderr, ", compressed files %s stored", done);
	}
	fputs("\033[K", stderr);
	if (force)
		fputc('\n', stderr);
	fflush(stderr);
}

void progressed(struct build *c, uint64_t n)
{
	c->st.copied += n;
	progress_update(c, 0);
}
