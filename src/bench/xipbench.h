/* SPDX-License-Identifier: MIT */
/*
 * xipbench: the same read workloads on several targets, interleaved, with
 * medians, spreads and ratios.  The pure parts (arguments, schedule,
 * statistics, reports) are split from the workloads so that they can be
 * unit-tested without touching a file system.
 */
#ifndef XIPBENCH_H
#define XIPBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum xb_workload {
	XB_SEQ, XB_RAND, XB_URING, XB_MMAP_SEQ, XB_MMAP_RAND,
	XB_WALK, XB_OPEN, XB_READALL,
	XB_NWORKLOADS
};

struct xb_workload_info {
	const char *name;
	const char *unit;	/* of the figure; every figure is a rate */
	bool tree;		/* walks the tree rather than reading FILE */
	bool latency;		/* also records per-touch latency */
};

extern const struct xb_workload_info xb_workloads[XB_NWORKLOADS];

enum xb_cache { XB_COLD, XB_WARM, XB_NCACHES };
extern const char *const xb_cache_names[XB_NCACHES];

#define XB_NAME_MAX 32

struct xb_target {
	char name[XB_NAME_MAX + 1];
	bool named;		/* NAME= given; else made from the path */
	const char *path;	/* the directory */
	bool direct;		/* read FILE through its source (direct:) */
	const char *file;	/* what file workloads read, relative to
				 * path; NULL when none runs */
};

struct xb_options {
	enum xb_workload workloads[XB_NWORKLOADS];	/* in the order run */
	unsigned nworkloads;
	enum xb_cache caches[XB_NCACHES];
	unsigned ncaches;
	const char *file;	/* -f: the big file in every target, or NULL:
				 * the largest file (see xb_largest_file) */
	uint64_t bs, rand_bs, ops, seed;
	unsigned qd, reps;
	unsigned baseline;	/* index into targets */
	const char *json, *plot, *plot_script;
	int progress;		/* -1: when stderr is a terminal */
	bool quiet;
	struct xb_target *targets;
	unsigned ntargets;
};

/* Parse the command line.  0: go on; 1: done (help or version printed);
 * 2: bad usage, the reason already printed on err.  Frees nothing: the
 * targets array lives as long as the process. */
int xb_parse_args(int argc, char **argv, struct xb_options *o, FILE *err);
void xb_usage(FILE *out);

/* One step of the run: a timed run (rep >= 0) or a warm-up (rep == -1). */
struct xb_step {
	unsigned cache, workload, target;	/* indices into the options */
	int rep;
};

/* The steps in run order: per cache mode and workload, a warm-up of every
 * target when warm, then rep 0 of every target, rep 1 of every target...
 * (A B A B), so that drift in the machine hits every target alike.
 * Returns the number of steps; out may be NULL to count them. */
size_t xb_schedule(const struct xb_options *o, struct xb_step *out);

struct xb_summary {
	double median, min, max;
};

enum xb_status { XB_PENDING, XB_OK, XB_NA, XB_FAILED };

struct xb_result {
	enum xb_status status;
	unsigned nruns;
	double *value;		/* reps figures, in run order */
	double *seconds;	/* reps elapsed times */
	uint32_t *lat_ns;	/* touch latencies of every run, pooled */
	size_t nlat, lat_cap;
	struct xb_summary sum;
	uint64_t p50, p99, pmax;	/* of lat_ns, when nlat */
	double ratio;		/* median / the baseline's; < 0: none */
	char error[256];
};

/* Everything measured: results[(cache * nworkloads + workload) *
 * ntargets + target]. */
struct xb_report {
	const struct xb_options *o;
	struct xb_result *results;
	const char *cold_method;	/* "drop_caches" or "fadvise" */
	char date[32];
};

struct xb_result *xb_result(const struct xb_report *r, unsigned cache,
			    unsigned workload, unsigned target);

/* Statistics.  v is sorted in place. */
void xb_summarize(double *v, unsigned n, struct xb_summary *s);
/* Nearest-rank percentile (0 < p <= 100) of n sorted values. */
uint32_t xb_percentile(const uint32_t *sorted, size_t n, double p);
/* Fill sum, the percentiles and the ratios of every result. */
void xb_finish(struct xb_report *r);

/*
 * A random order of 0..n-1 without repeats (as fio's random map gives):
 * a full-period LCG over the next power of two, mixed by a bijection and
 * with the values >= n skipped.  After n steps every value came once.
 */
struct xb_perm {
	uint64_t n, mask, x, c;
	unsigned half;
};
void xb_perm_init(struct xb_perm *p, uint64_t n, uint64_t seed);
uint64_t xb_perm_next(struct xb_perm *p);

/* Reports. */
void xb_print_table(const struct xb_report *r, FILE *out);
/* Writers of an output file; arg is what the file refers to (the PNG the
 * gnuplot script draws into), or unused. */
typedef int xb_fill_fn(const struct xb_report *r, FILE *out,
		       const char *arg);
xb_fill_fn xb_write_json, xb_write_gnuplot;
/* Write path by way of a temporary name in the same directory, so that a
 * failure leaves nothing behind.  0, or -1 with the reason printed. */
int xb_write_file_atomic(const char *path, xb_fill_fn *fill,
			 const struct xb_report *r, const char *arg);
/* Draw r->o->plot with gnuplot.  0, or -1 with the reason printed. */
int xb_plot(const struct xb_report *r);

/* Human figures: "2790", "41.5", "1.20ms". */
void xb_format_value(double v, char *buf, size_t len);
void xb_format_ns(uint64_t ns, char *buf, size_t len);

/* The workloads (run.c).  A target's state is prepared once. */
struct xb_tstate;
struct xb_tstate *xb_prepare(const struct xb_options *o,
			     const struct xb_target *t, char *err,
			     size_t errlen);
void xb_release(struct xb_tstate *s);
bool xb_wants_file(const struct xb_options *o);
/* The largest regular file under dir (ties: the first name bytewise), as
 * a path relative to dir.  0 found, 1 none, -1 with err filled. */
int xb_largest_file(const char *dir, char *rel, size_t rellen,
		    uint64_t *size, char *err, size_t errlen);

/* How cold runs start: drop_caches when writable, else fadvise. */
const char *xb_cold_method(void);
int xb_make_cold(struct xb_tstate *s, enum xb_workload w, char *err,
		 size_t errlen);

/* One run; fills *value (in the workload's unit) and *seconds, and
 * appends touch latencies to res for the mmap workloads.  0, or -1 with
 * err filled. */
int xb_run(struct xb_tstate *s, enum xb_workload w, struct xb_result *res,
	   double *value, double *seconds, char *err, size_t errlen);

#endif /* XIPBENCH_H */
