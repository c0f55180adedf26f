/* SPDX-License-Identifier: MIT */
/*
 * Medians, spreads, percentiles and ratios.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "xipbench.h"

struct xb_result *xb_result(const struct xb_report *r, unsigned cache,
			    unsigned workload, unsigned target)
{
	const struct xb_options *o = r->o;

	return &r->results[((size_t)cache * o->nworkloads + workload) *
			   o->ntargets + target];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void xb_summarize(double *v, unsigned n, struct xb_summary *s)
{
	if (n == 0) {
		s->median = s->min = s->max = NAN;
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint32_t xb_percentile(const uint32_t *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	/* The smallest value with at least p% of the values at or below
	 * it; computed in integers where p is whole, so that 99% of 100
	 * is rank 99, not 100 by a rounding error. */
	rank = (size_t)ceil(p * (double)n / 100.0 - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static void finish_one(struct xb_result *res)
{
	double *sorted;

	if (res->status != XB_OK || res->nruns == 0)
		return;
	sorted = malloc(res->nruns * sizeof(*sorted));
	if (!sorted)
		abort();
	for (unsigned i = 0; i < res->nruns; i++)
		sorted[i] = res->value[i];
	xb_summarize(sorted, res->nruns, &res->sum);
	free(sorted);
	if (res->nlat) {
		qsort(res->lat_ns, res->nlat, sizeof(*res->lat_ns), cmp_u32);
		res->p50 = xb_percentile(res->lat_ns, res->nlat, 50);
		res->p99 = xb_percentile(res->lat_ns, res->nlat, 99);
		res->pmax = res->lat_ns[res->nlat - 1];
	}
}

void xb_finish(struct xb_report *r)
{
	const struct xb_options *o = r->o;

	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++) {
			const struct xb_result *base;

			for (unsigned t = 0; t < o->ntargets; t++)
				finish_one(xb_result(r, c, w, t));
			base = xb_result(r, c, w, o->baseline);
			for (unsigned t = 0; t < o->ntargets; t++) {
				struct xb_result *res = xb_result(r, c, w, t);

				res->ratio = -1;
				if (res->status == XB_OK &&
				    base->status == XB_OK &&
				    base->sum.median > 0)
					res->ratio = res->sum.median /
						     base->sum.median;
			}
		}
}

void xb_perm_init(struct xb_perm *p, uint64_t n, uint64_t seed)
{
	unsigned bits = 1;

	while (bits < 64 && (UINT64_C(1) << bits) < n)
		bits++;
	p->n = n;
	p->mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	p->half = bits / 2 ? bits / 2 : 1;
	/* splitmix64 of the seed: any seed gives a fresh start and step. */
	seed += UINT64_C(0x9e3779b97f4a7c15);
	seed = (seed ^ (seed >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	seed = (seed ^ (seed >> 27)) * UINT64_C(0x94d049bb133111eb);
	seed ^= seed >> 31;
	p->x = seed & p->mask;
	p->c = (seed >> 17) | 1;	/* odd: the LCG has full period */
}

/* x -> x ^ (x >> half) and x -> x * odd are bijections on the masked
 * bits, so mixing keeps the LCG's "every value once per period". */
static uint64_t perm_mix(const struct xb_perm *p, uint64_t x)
{
	x ^= x >> p->half;
	x = (x * UINT64_C(0xd6e8feb86659fd93)) & p->mask;
	x ^= x >> p->half;
	return x;
}

uint64_t xb_perm_next(struct xb_perm *p)
{
	uint64_t v;

	if (p->n == 0)
		return 0;
	do {
		/* a = 1 mod 4 and c odd: period 2^bits (Hull-Dobell). */
		p->x = (p->x * UINT64_C(6364136223846793005) + p->c) & p->mask;
		v = perm_mix(p, p->x);
	} while (v >= p->n);
	return v;
}
