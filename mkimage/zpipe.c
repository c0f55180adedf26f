/* SPDX-License-Identifier: MIT */
/*
 * The compression pipeline: a ring of cluster slots.  The caller (the
 * data writer, one thread) fills slots in image order; worker threads
 * compress them in any order and at any pace; the caller retires them
 * strictly in the order they were filled, which is where their stored
 * bytes go.  So the image depends on the input and the options only,
 * never on the number of threads or their timing.  With one thread there
 * are no workers: a slot is compressed as it is submitted.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mkxipfs.h"

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct zpipe {
	struct zslot *slot;
	unsigned nslots;
	uint64_t head;		/* slots ever submitted */
	uint64_t next;		/* the next one a worker takes */
	uint64_t tail;		/* the next one to retire */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	pthread_t *th;
	struct zcomp **zc;	/* one per worker, or [0] for inline use */
	unsigned nzc;
	unsigned nth;
	int stop;
	zpipe_retire_fn *retire;
	void *arg;
};

static void *worker(void *arg)
{
	struct zpipe *p = ((void **)arg)[0];
	struct zcomp *zc = ((void **)arg)[1];

	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct zslot *s;

		while (!p->stop && p->next == p->head)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->next == p->head)
			break;		/* stopping, nothing left */
		s = &p->slot[p->next++ % p->nslots];
		pthread_mutex_unlock(&p->mu);
		s->stored = zcomp_cluster(zc, s->in, s->len, s->out);
		pthread_mutex_lock(&p->mu);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int start_workers(struct zpipe *p, unsigned n)
{
	p->th = xcalloc(n, sizeof(*p->th));
	for (unsigned i = 0; i < n; i++) {
		void **arg = xmalloc(2 * sizeof(*arg));

		arg[0] = p;
		arg[1] = p->zc[i];
		if (pthread_create(&p->th[i], NULL, worker, arg)) {
			free(arg);
			return -1;
		}
		p->nth++;
	}
	return 0;
}

struct zpipe *zpipe_new(const struct zopts *z, unsigned threads,
			zpipe_retire_fn *retire, void *arg)
{
	struct zpipe *p = xcalloc(1, sizeof(*p));
	unsigned nzc = threads > 1 ? threads : 1;
	size_t in = (size_t)1 << z->cluster_log2, out = zcomp_bound(z);

	/* a few slots per worker keep every worker busy while the caller
	 * reads or writes */
	p->nslots = threads > 1 ? 4 * threads : 1;
	p->slot = xcalloc(p->nslots, sizeof(*p->slot));
	for (unsigned i = 0; i < p->nslots; i++) {
		p->slot[i].in = xmalloc(in);
		p->slot[i].out = xmalloc(out);
	}
	p->retire = retire;
	p->arg = arg;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->zc = xcalloc(nzc, sizeof(*p->zc));
	p->nzc = nzc;
	for (unsigned i = 0; i < nzc; i++)
		if (!(p->zc[i] = zcomp_new(z)))
			goto fail;
	if (threads > 1 && start_workers(p, threads) < 0)
		goto fail;
	return p;
fail:
	zpipe_free(p);
	return NULL;
}

/* Retire the oldest slot: wait until it is compressed, hand it over. */
static int retire_oldest(struct zpipe *p)
{
	struct zslot *s = &p->slot[p->tail % p->nslots];
	int r;

	pthread_mutex_lock(&p->mu);
	while (s->state != SLOT_DONE)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	r = p->retire(p->arg, s);
	s->state = SLOT_FREE;
	p->tail++;
	return r;
}

struct zslot *zpipe_slot(struct zpipe *p, int *err)
{
	*err = 0;
	if (p->head - p->tail == p->nslots)
		*err = retire_oldest(p);
	return &p->slot[p->head % p->nslots];
}

void zpipe_submit(struct zpipe *p, struct zslot *s)
{
	if (!p->nth) {
		s->stored = zcomp_cluster(p->zc[0], s->in, s->len, s->out);
		s->state = SLOT_DONE;
		p->head++;
		p->next = p->head;
		return;
	}
	pthread_mutex_lock(&p->mu);
	s->state = SLOT_QUEUED;
	p->head++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

int zpipe_drain(struct zpipe *p)
{
	int r = 0;

	while (p->tail < p->head)
		if (retire_oldest(p) < 0)
			r = -1;
	return r;
}

void zpipe_free(struct zpipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	for (unsigned i = 0; i < p->nzc; i++)
		zcomp_free(p->zc[i]);
	for (unsigned i = 0; i < p->nslots; i++) {
		free(p->slot[i].in);
		free(p->slot[i].out);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p->zc);
	free(p->th);
	free(p->slot);
	free(p);
}
