/* SPDX-License-Identifier: MIT */
/*
 * xipbench's command line and the order of its runs.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xipbench.h"
#include "xipfs/xipfs.h"

const struct xb_workload_info xb_workloads[XB_NWORKLOADS] = {
	[XB_SEQ]       = { "seq", "MB/s", false, false },
	[XB_RAND]      = { "rand", "IOPS", false, false },
	[XB_URING]     = { "uring", "IOPS", false, false },
	[XB_MMAP_SEQ]  = { "mmap-seq", "MB/s", false, true },
	[XB_MMAP_RAND] = { "mmap-rand", "IOPS", false, true },
	[XB_WALK]      = { "walk", "entries/s", true, false },
	[XB_OPEN]      = { "open", "opens/s", true, false },
	[XB_READALL]   = { "readall", "MB/s", true, false },
};

const char *const xb_cache_names[XB_NCACHES] = { "cold", "warm" };

void xb_usage(FILE *out)
{
	fputs(
"usage: xipbench [options] [NAME=]PATH...\n"
"\n"
"Run the same read workloads on every target, interleaved (A B A B ...),\n"
"and report per workload and target the median of the runs, their spread\n"
"and the ratio against the baseline target.\n"
"\n"
"Targets:\n"
"  NAME=DIR          tree workloads walk DIR, file workloads read DIR/FILE\n"
"  NAME=direct:DIR   DIR/FILE is on an xipfs mount: file workloads read it\n"
"                    straight from the mount's source; no tree workloads\n"
"  DIR, direct:DIR   the same, named after DIR's last component\n"
"\n"
"Workloads: seq rand uring mmap-seq mmap-rand walk open readall (or all)\n"
"\n"
"Options:\n"
"  -w, --workloads LIST   comma-separated workloads (default all)\n"
"  -f, --file REL         the big file in each target (default: the\n"
"                         largest regular file of the first target)\n"
"  -b, --bs SIZE          seq block size (default 1M)\n"
"      --rand-bs SIZE     rand and uring read size (default 4K)\n"
"  -Q, --qd N             io_uring queue depth (default 32)\n"
"  -n, --ops N            reads or touches per random run (default 20000)\n"
"  -c, --cache MODE       cold, warm or both (default cold)\n"
"  -r, --reps N           timed runs per workload and target (default 5)\n"
"  -B, --baseline NAME    ratios against this target (default the first)\n"
"  -s, --seed N           seed of the random offsets (default 1)\n"
"  -j, --json FILE        write the results as JSON\n"
"  -p, --plot FILE        draw a PNG chart with gnuplot\n"
"      --plot-script FILE save the gnuplot script as well\n"
"      --progress, --no-progress\n"
"                         progress line on stderr (default: on a terminal)\n"
"  -q, --quiet            no table on standard output\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Exit status: 0 all runs succeeded, 1 a run or an output failed, 2 usage.\n",
	      out);
}

__attribute__((format(printf, 2, 3)))
static int bad(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("xipbench: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	return 2;
}

static int find_workload(const char *name)
{
	for (unsigned w = 0; w < XB_NWORKLOADS; w++)
		if (!strcmp(name, xb_workloads[w].name))
			return (int)w;
	return -1;
}

static void add_workload(struct xb_options *o, enum xb_workload w)
{
	for (unsigned i = 0; i < o->nworkloads; i++)
		if (o->workloads[i] == w)
			return;
	o->workloads[o->nworkloads++] = w;
}

static int parse_workloads(const char *arg, struct xb_options *o, FILE *err)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return bad(err, "%s", strerror(ENOMEM));
	o->nworkloads = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !rc;
	     tok = strtok_r(NULL, ",", &save)) {
		int w = find_workload(tok);

		if (!strcmp(tok, "all"))
			for (unsigned a = 0; a < XB_NWORKLOADS; a++)
				add_workload(o, a);
		else if (w < 0)
			rc = bad(err, "unknown workload '%s'", tok);
		else
			add_workload(o, (enum xb_workload)w);
	}
	free(copy);
	if (!rc && !o->nworkloads)
		rc = bad(err, "no workload in '%s'", arg);
	return rc;
}

static int parse_cache(const char *arg, struct xb_options *o, FILE *err)
{
	o->ncaches = 0;
	if (!strcmp(arg, "cold") || !strcmp(arg, "both"))
		o->caches[o->ncaches++] = XB_COLD;
	if (!strcmp(arg, "warm") || !strcmp(arg, "both"))
		o->caches[o->ncaches++] = XB_WARM;
	if (!o->ncaches)
		return bad(err, "--cache: '%s' is not cold, warm or both", arg);
	return 0;
}

/* A positive count no larger than max. */
static int parse_count(const char *arg, const char *opt, uint64_t max,
		       uint64_t *out, FILE *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > max) {
		fprintf(err, "xipbench: %s: '%s' is not a count from 1 to "
			"%llu\n", opt, arg, (unsigned long long)max);
		return 2;
	}
	*out = v;
	return 0;
}

static int parse_bytes(const char *arg, const char *opt, uint64_t *out,
		       FILE *err)
{
	if (xipfs_parse_size(arg, out) || *out == 0 || *out > (1u << 30)) {
		fprintf(err, "xipbench: %s: '%s' is not a size from 1 to 1G\n",
			opt, arg);
		return 2;
	}
	return 0;
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > XB_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "0123456789._-", s[i]))
			return false;
	return true;
}

/*
 * NAME=PATH when an '=' comes before any '/'; anything else is a PATH
 * alone, named later (name_targets).
 */
static int parse_target(const char *arg, struct xb_target *t, FILE *err)
{
	const char *eq = strchr(arg, '='), *slash = strchr(arg, '/');

	t->named = eq && (!slash || eq < slash);
	t->path = arg;
	if (t->named) {
		if (!valid_name(arg, (size_t)(eq - arg)))
			return bad(err, "%s: a target is [NAME=]PATH, NAME 1-32 "
				   "of A-Z a-z 0-9 . _ -", arg);
		memcpy(t->name, arg, (size_t)(eq - arg));
		t->name[eq - arg] = '\0';
		t->path = eq + 1;
	}
	t->direct = !strncmp(t->path, "direct:", 7);
	if (t->direct)
		t->path += 7;
	if (!*t->path)
		return bad(err, "%s: empty path", arg);
	return 0;
}

/* A name for a PATH given alone: its last component, in the characters a
 * name may hold ("root" for /), with "direct-" before a direct target's. */
static void name_after_path(struct xb_target *t)
{
	const char *p = t->path;
	size_t end = strlen(p), start, n = 0;

	while (end > 1 && p[end - 1] == '/')
		end--;
	for (start = end; start > 0 && p[start - 1] != '/'; start--)
		;
	if (t->direct)
		n = (size_t)snprintf(t->name, sizeof(t->name), "direct-");
	if (start == end) {	/* the path is "/" */
		p = "root";
		start = 0;
		end = 4;
	}
	for (size_t i = start; i < end && n < XB_NAME_MAX; i++)
		t->name[n++] = valid_name(p + i, 1) ? p[i] : '_';
	t->name[n] = '\0';
}

static bool name_taken(const struct xb_options *o, unsigned self,
		       const char *name)
{
	for (unsigned j = 0; j < o->ntargets; j++)
		if (j != self && (o->targets[j].named || j < self) &&
		    !strcmp(o->targets[j].name, name))
			return true;
	return false;
}

/* Name the targets given as a PATH alone; a name in use gets -2, -3 ... */
static void name_targets(struct xb_options *o)
{
	for (unsigned i = 0; i < o->ntargets; i++) {
		struct xb_target *t = &o->targets[i];
		char base[XB_NAME_MAX + 1], suffix[16];

		if (t->named)
			continue;
		name_after_path(t);
		memcpy(base, t->name, sizeof(base));
		for (unsigned k = 2; name_taken(o, i, t->name); k++) {
			int len = snprintf(suffix, sizeof(suffix), "-%u", k);

			snprintf(t->name, sizeof(t->name), "%.*s%s",
				 XB_NAME_MAX - len, base, suffix);
		}
	}
}

static int parse_targets(int n, char **args, struct xb_options *o,
			 const char *baseline, FILE *err)
{
	if (n == 0) {
		fputs("xipbench: no target given\n", err);
		xb_usage(err);
		return 2;
	}
	o->targets = calloc((size_t)n, sizeof(*o->targets));
	if (!o->targets)
		return bad(err, "%s", strerror(ENOMEM));
	o->ntargets = (unsigned)n;
	for (unsigned i = 0; i < o->ntargets; i++) {
		if (parse_target(args[i], &o->targets[i], err))
			return 2;
		for (unsigned j = 0; j < i; j++)
			if (o->targets[i].named && o->targets[j].named &&
			    !strcmp(o->targets[j].name, o->targets[i].name))
				return bad(err, "target name '%s' given twice",
					   o->targets[i].name);
	}
	name_targets(o);
	o->baseline = 0;
	if (!baseline)
		return 0;
	for (unsigned i = 0; i < o->ntargets; i++)
		if (!strcmp(o->targets[i].name, baseline)) {
			o->baseline = i;
			return 0;
		}
	return bad(err, "--baseline: no target named '%s'", baseline);
}

static void set_defaults(struct xb_options *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned w = 0; w < XB_NWORKLOADS; w++)
		o->workloads[o->nworkloads++] = w;
	o->caches[o->ncaches++] = XB_COLD;
	o->bs = 1 << 20;
	o->rand_bs = 4096;
	o->ops = 20000;
	o->seed = 1;
	o->qd = 32;
	o->reps = 5;
	o->progress = -1;
}

enum { OPT_RAND_BS = 256, OPT_PLOT_SCRIPT, OPT_PROGRESS, OPT_NO_PROGRESS };

static const struct option longopts[] = {
	{ "workloads", required_argument, NULL, 'w' },
	{ "file", required_argument, NULL, 'f' },
	{ "bs", required_argument, NULL, 'b' },
	{ "rand-bs", required_argument, NULL, OPT_RAND_BS },
	{ "qd", required_argument, NULL, 'Q' },
	{ "ops", required_argument, NULL, 'n' },
	{ "cache", required_argument, NULL, 'c' },
	{ "reps", required_argument, NULL, 'r' },
	{ "baseline", required_argument, NULL, 'B' },
	{ "seed", required_argument, NULL, 's' },
	{ "json", required_argument, NULL, 'j' },
	{ "plot", required_argument, NULL, 'p' },
	{ "plot-script", required_argument, NULL, OPT_PLOT_SCRIPT },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* One option; 0 to go on, 1 when done (help, version), 2 on bad usage. */
static int parse_option(int opt, const char *arg, struct xb_options *o,
			const char **baseline, FILE *err)
{
	uint64_t v;

	switch (opt) {
	case 'w': return parse_workloads(arg, o, err);
	case 'f':
		if (!*arg || arg[0] == '/')
			return bad(err, "--file: '%s' is not a relative path",
				   arg);
		o->file = arg;
		return 0;
	case 'b': return parse_bytes(arg, "--bs", &o->bs, err);
	case OPT_RAND_BS: return parse_bytes(arg, "--rand-bs", &o->rand_bs, err);
	case 'Q':
		if (parse_count(arg, "--qd", 4096, &v, err))
			return 2;
		o->qd = (unsigned)v;
		return 0;
	case 'n': return parse_count(arg, "--ops", 100000000, &o->ops, err);
	case 'c': return parse_cache(arg, o, err);
	case 'r':
		if (parse_count(arg, "--reps", 1000, &v, err))
			return 2;
		o->reps = (unsigned)v;
		return 0;
	case 'B': *baseline = arg; return 0;
	case 's': return parse_count(arg, "--seed", UINT64_MAX, &o->seed, err);
	case 'j': o->json = arg; return 0;
	case 'p': o->plot = arg; return 0;
	case OPT_PLOT_SCRIPT: o->plot_script = arg; return 0;
	case OPT_PROGRESS: o->progress = 1; return 0;
	case OPT_NO_PROGRESS: o->progress = 0; return 0;
	case 'q': o->quiet = true; return 0;
	case 'h': xb_usage(stdout); return 1;
	case 'V': printf("xipbench (xipfs) %s\n", PACKAGE_VERSION); return 1;
	default: xb_usage(err); return 2;
	}
}

int xb_parse_args(int argc, char **argv, struct xb_options *o, FILE *err)
{
	const char *baseline = NULL;
	int opt, rc;

	set_defaults(o);
	optind = 0;	/* a full reset, so tests can parse repeatedly */
	opterr = 0;	/* reported below, on err */
	while ((opt = getopt_long(argc, argv, "+w:f:b:Q:n:c:r:B:s:j:p:qhV",
				  longopts, NULL)) != -1) {
		if (opt == '?') {
			if (optopt)
				fprintf(err, "xipbench: bad or incomplete "
					"option -%c\n", optopt);
			else
				fprintf(err, "xipbench: bad or incomplete "
					"option %s\n", argv[optind - 1]);
			xb_usage(err);
			return 2;
		}
		rc = parse_option(opt, optarg, o, &baseline, err);
		if (rc)
			return rc;
	}
	return parse_targets(argc - optind, argv + optind, o, baseline, err);
}

size_t xb_schedule(const struct xb_options *o, struct xb_step *out)
{
	size_t n = 0;

	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++) {
			int first = o->caches[c] == XB_WARM ? -1 : 0;

			for (int rep = first; rep < (int)o->reps; rep++)
				for (unsigned t = 0; t < o->ntargets; t++, n++)
					if (out)
						out[n] = (struct xb_step){
							c, w, t, rep };
		}
	return n;
}
