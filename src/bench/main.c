/* SPDX-License-Identifier: MIT */
/*
 * xipbench: compare read paths.  Parses the command line, prepares every
 * target, runs the schedule (A B A B ...), then prints the table and
 * writes the JSON and the chart.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xipbench.h"

struct bench {
	struct xb_options o;
	struct xb_report r;
	struct xb_tstate **states;
	bool progress;
};

static bool has_file(const struct xb_target *t, const char *rel)
{
	struct stat st;
	char *path;
	bool yes;

	if (asprintf(&path, "%s/%s", t->path, rel) < 0)
		return false;
	yes = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return yes;
}

/* t's own largest file, said on stderr; -1 after a message. */
static int pick_largest(struct xb_target *t, bool first)
{
	char rel[PATH_MAX], err[512];
	uint64_t size;
	int rc = xb_largest_file(t->path, rel, sizeof(rel), &size, err,
				 sizeof(err));

	if (rc) {
		fprintf(stderr, "xipbench: %s=%s%s: %s\n", t->name,
			t->direct ? "direct:" : "", t->path, rc < 0 ? err :
			"no regular file for the file workloads");
		return -1;
	}
	t->file = strdup(rel);
	if (!t->file)
		return -1;
	fprintf(stderr, "xipbench: %s: file workloads read %s (%llu bytes), "
		"the largest file %s\n", t->name, rel,
		(unsigned long long)size, first ? "of the first target" :
		"here: the first target's is missing");
	return 0;
}

/*
 * The file each target's file workloads read: -f's, or else the largest
 * regular file of the first target, in every target that has it; one
 * that lacks it reads its own largest file.
 */
static int choose_files(struct xb_options *o)
{
	if (!xb_wants_file(o))
		return 0;
	for (unsigned t = 0; t < o->ntargets; t++) {
		struct xb_target *tg = &o->targets[t];

		if (o->file)
			tg->file = o->file;
		else if (t > 0 && has_file(tg, o->targets[0].file))
			tg->file = o->targets[0].file;
		else if (pick_largest(tg, t == 0))
			return -1;
	}
	return 0;
}

static int prepare_targets(struct bench *b)
{
	const struct xb_options *o = &b->o;
	char err[512];

	b->states = calloc(o->ntargets, sizeof(*b->states));
	if (!b->states)
		return -1;
	for (unsigned t = 0; t < o->ntargets; t++) {
		const struct xb_target *tg = &o->targets[t];

		b->states[t] = xb_prepare(o, tg, err, sizeof(err));
		if (!b->states[t]) {
			fprintf(stderr, "xipbench: %s=%s%s: %s\n", tg->name,
				tg->direct ? "direct:" : "", tg->path, err);
			return -1;
		}
	}
	return 0;
}

static int alloc_results(struct bench *b)
{
	const struct xb_options *o = &b->o;
	size_t n = (size_t)o->ncaches * o->nworkloads * o->ntargets;

	b->r.o = o;
	b->r.results = calloc(n, sizeof(*b->r.results));
	if (!b->r.results)
		return -1;
	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++)
			for (unsigned t = 0; t < o->ntargets; t++) {
				struct xb_result *res = xb_result(&b->r, c, w, t);

				res->value = calloc(o->reps, sizeof(double));
				res->seconds = calloc(o->reps, sizeof(double));
				if (!res->value || !res->seconds)
					return -1;
				/* A direct target reads one file's bytes;
				 * there is no tree behind it. */
				if (o->targets[t].direct &&
				    xb_workloads[o->workloads[w]].tree)
					res->status = XB_NA;
			}
	return 0;
}

static void show_progress(const struct bench *b, const struct xb_step *st,
			  size_t i, size_t n)
{
	const struct xb_options *o = &b->o;

	if (!b->progress)
		return;
	fprintf(stderr, "\rxipbench: %zu/%zu %s %s %s ", i + 1, n,
		xb_workloads[o->workloads[st->workload]].name,
		xb_cache_names[o->caches[st->cache]],
		o->targets[st->target].name);
	if (st->rep < 0)
		fputs("warm-up\033[K", stderr);
	else
		fprintf(stderr, "run %d/%u\033[K", st->rep + 1, o->reps);
	fflush(stderr);
}

static void run_step(struct bench *b, const struct xb_step *st)
{
	const struct xb_options *o = &b->o;
	struct xb_result *res = xb_result(&b->r, st->cache, st->workload,
					  st->target);
	struct xb_tstate *s = b->states[st->target];
	enum xb_workload w = o->workloads[st->workload];
	double value, seconds;

	if (res->status == XB_NA || res->status == XB_FAILED)
		return;
	if (o->caches[st->cache] == XB_COLD &&
	    xb_make_cold(s, w, res->error, sizeof(res->error))) {
		res->status = XB_FAILED;
		return;
	}
	if (xb_run(s, w, res, &value, &seconds, res->error,
		   sizeof(res->error))) {
		res->status = XB_FAILED;
		return;
	}
	if (st->rep < 0) {
		res->nlat = 0;	/* a warm-up's touches are not measured */
		return;
	}
	res->value[res->nruns] = value;
	res->seconds[res->nruns] = seconds;
	if (++res->nruns == o->reps)
		res->status = XB_OK;
}

static int run_all(struct bench *b)
{
	size_t n = xb_schedule(&b->o, NULL);
	struct xb_step *steps = calloc(n, sizeof(*steps));

	if (!steps)
		return -1;
	xb_schedule(&b->o, steps);
	for (size_t i = 0; i < n; i++) {
		show_progress(b, &steps[i], i, n);
		run_step(b, &steps[i]);
	}
	if (b->progress)
		fputs("\r\033[K", stderr);
	free(steps);
	return 0;
}

/* Report each failure once on stderr; 1 if there was any. */
static int report_failures(const struct bench *b)
{
	const struct xb_options *o = &b->o;
	int failed = 0;

	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++)
			for (unsigned t = 0; t < o->ntargets; t++) {
				const struct xb_result *res =
					xb_result(&b->r, c, w, t);

				if (res->status != XB_FAILED)
					continue;
				fprintf(stderr, "xipbench: %s=%s: %s %s: %s\n",
					o->targets[t].name, o->targets[t].path,
					xb_workloads[o->workloads[w]].name,
					xb_cache_names[o->caches[c]],
					res->error);
				failed = 1;
			}
	return failed;
}

static int write_outputs(struct bench *b)
{
	const struct xb_options *o = &b->o;
	int status = 0;

	if (!o->quiet) {
		xb_print_table(&b->r, stdout);
		if (fflush(stdout) == EOF) {
			perror("xipbench: stdout");
			status = 1;
		}
	}
	if (o->json && xb_write_file_atomic(o->json, xb_write_json, &b->r, NULL))
		status = 1;
	if (o->plot_script && xb_write_file_atomic(o->plot_script,
			xb_write_gnuplot, &b->r, o->plot ? o->plot : "xipbench.png"))
		status = 1;
	if (o->plot && xb_plot(&b->r))
		status = 1;
	return status;
}

int main(int argc, char **argv)
{
	static struct bench b;
	time_t now = time(NULL);
	int rc = xb_parse_args(argc, argv, &b.o, stderr), status;

	if (rc)
		return rc == 1 ? 0 : 2;
	b.progress = b.o.progress < 0 ? isatty(STDERR_FILENO) : b.o.progress;
	if (choose_files(&b.o) || prepare_targets(&b))
		return 1;
	if (alloc_results(&b)) {
		fputs("xipbench: out of memory\n", stderr);
		return 1;
	}
	b.r.cold_method = xb_cold_method();
	for (unsigned c = 0; c < b.o.ncaches; c++)
		if (b.o.caches[c] == XB_COLD &&
		    strcmp(b.r.cold_method, "drop_caches"))
			fputs("xipbench: cannot write /proc/sys/vm/drop_caches "
			      "(not root): cold runs drop file pages with "
			      "posix_fadvise only; dentries and inodes stay "
			      "cached\n", stderr);
	strftime(b.r.date, sizeof(b.r.date), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime(&now));
	if (run_all(&b)) {
		fputs("xipbench: out of memory\n", stderr);
		return 1;
	}
	xb_finish(&b.r);
	status = report_failures(&b);
	status |= write_outputs(&b);
	for (unsigned t = 0; t < b.o.ntargets; t++)
		xb_release(b.states[t]);
	return status;
}
