/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of xipbench's logic: statistics, the random order, the
 * schedule, argument parsing and its errors, and the reports (the JSON is
 * checked against the schema by python3's json module).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/bench/xipbench.h"
#include "../test.h"

static void test_summarize(void)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };
	struct xb_summary s;

	TEST_SECTION("summary: median, min, max");
	xb_summarize(odd, 3, &s);
	CHECK(s.median == 3 && s.min == 1 && s.max == 5);
	CHECK(odd[0] == 1 && odd[2] == 5);	/* sorted in place */
	xb_summarize(even, 4, &s);
	CHECK(s.median == 2.5 && s.min == 1 && s.max == 4);
	xb_summarize(one, 1, &s);
	CHECK(s.median == 7 && s.min == 7 && s.max == 7);
	xb_summarize(one, 0, &s);
	CHECK(isnan(s.median));
}

static void test_percentile(void)
{
	uint32_t v[100], three[] = { 10, 20, 30 };

	TEST_SECTION("percentiles: nearest rank");
	for (unsigned i = 0; i < 100; i++)
		v[i] = i + 1;
	CHECK_EQ(xb_percentile(v, 100, 50), 50);
	CHECK_EQ(xb_percentile(v, 100, 99), 99);
	CHECK_EQ(xb_percentile(v, 100, 100), 100);
	CHECK_EQ(xb_percentile(v, 100, 0.5), 1);
	CHECK_EQ(xb_percentile(three, 3, 50), 20);
	CHECK_EQ(xb_percentile(three, 3, 99), 30);
	CHECK_EQ(xb_percentile(three, 1, 99), 10);
	CHECK_EQ(xb_percentile(three, 0, 50), 0);
}

/* Every value of 0..n-1 exactly once in n steps. */
static int perm_is_complete(uint64_t n, uint64_t seed)
{
	unsigned char *seen = calloc(n, 1);
	struct xb_perm p;
	int ok = seen != NULL;

	xb_perm_init(&p, n, seed);
	for (uint64_t i = 0; ok && i < n; i++) {
		uint64_t v = xb_perm_next(&p);

		ok = v < n && !seen[v];
		if (ok)
			seen[v] = 1;
	}
	free(seen);
	return ok;
}

static void test_perm(void)
{
	static const uint64_t sizes[] = { 1, 2, 3, 7, 64, 1000, 4096, 262144,
					  100003 };
	struct xb_perm a, b;
	unsigned same = 0, in_order = 0;
	uint64_t prev = 0;

	TEST_SECTION("random order: a permutation, seeded");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(perm_is_complete(sizes[i], 1));
		CHECK(perm_is_complete(sizes[i], 12345));
	}
	xb_perm_init(&a, 1 << 20, 1);
	xb_perm_init(&b, 1 << 20, 2);
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t x = xb_perm_next(&a);

		same += x == xb_perm_next(&b);
		in_order += x == prev + 1;
		prev = x;
	}
	CHECK(same < 10);	/* another seed, another order */
	CHECK(in_order < 10);	/* and not a sequential scan */
	xb_perm_init(&a, 1000, 7);
	xb_perm_init(&b, 1000, 7);
	same = 0;
	for (unsigned i = 0; i < 1000; i++)
		same += xb_perm_next(&a) == xb_perm_next(&b);
	CHECK_EQ(same, 1000);	/* the same seed, the same order */
}

/* The argument strings of every parse: targets point into them. */
static char *arg_copies[64];
static unsigned narg_copies;

/* Parse a command line given as one string; returns the exit code and
 * leaves what went to stderr in *errout. */
static int parse(struct xb_options *o, char **errout, const char *line)
{
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0, rc;
	size_t len;
	FILE *err = open_memstream(errout, &len);

	for (char *t = strtok_r(copy, " ", &save); t && argc < 31;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	rc = xb_parse_args(argc, argv, o, err);
	fclose(err);
	if (narg_copies < 64)
		arg_copies[narg_copies++] = copy;
	else
		abort();
	return rc;
}

static void test_args_ok(void)
{
	struct xb_options o;
	char *err = NULL;

	TEST_SECTION("arguments: defaults and every option");
	CHECK_EQ(parse(&o, &err, "xipbench a=/x b=direct:/y"), 0);
	CHECK_EQ(o.ntargets, 2);
	CHECK(!strcmp(o.targets[0].name, "a") && !strcmp(o.targets[0].path, "/x"));
	CHECK(o.targets[1].direct && !strcmp(o.targets[1].path, "/y"));
	CHECK_EQ(o.nworkloads, XB_NWORKLOADS);
	CHECK_EQ(o.ncaches, 1);
	CHECK_EQ(o.caches[0], XB_COLD);
	CHECK_EQ(o.bs, 1 << 20);
	CHECK_EQ(o.rand_bs, 4096);
	CHECK_EQ(o.qd, 32);
	CHECK_EQ(o.reps, 5);
	CHECK_EQ(o.baseline, 0);
	CHECK(o.file == NULL);	/* the largest file, found later */
	CHECK(o.targets[0].named && o.targets[0].file == NULL);
	free(o.targets);
	free(err);

	CHECK_EQ(parse(&o, &err, "xipbench -w walk,seq,walk -f d/f -b 64K "
		       "--rand-bs 8K -Q 4 -n 10 -c both -r 3 -B b -s 9 -j j "
		       "-p p --plot-script g --no-progress -q a=/x b=/y"), 0);
	CHECK_EQ(o.nworkloads, 2);	/* a repeat is dropped, order kept */
	CHECK_EQ(o.workloads[0], XB_WALK);
	CHECK_EQ(o.workloads[1], XB_SEQ);
	CHECK(!strcmp(o.file, "d/f"));
	CHECK_EQ(o.bs, 65536);
	CHECK_EQ(o.rand_bs, 8192);
	CHECK_EQ(o.qd, 4);
	CHECK_EQ(o.ops, 10);
	CHECK_EQ(o.ncaches, 2);
	CHECK_EQ(o.reps, 3);
	CHECK_EQ(o.baseline, 1);
	CHECK_EQ(o.seed, 9);
	CHECK(!strcmp(o.json, "j") && !strcmp(o.plot, "p") &&
	      !strcmp(o.plot_script, "g"));
	CHECK(o.progress == 0 && o.quiet);
	free(o.targets);
	free(err);
}

static void expect_usage_error(const char *line, const char *says)
{
	struct xb_options o;
	char *err = NULL;
	int rc = parse(&o, &err, line);

	if (!CHECK(rc == 2 && !strncmp(err, "xipbench: ", 10) &&
		   strstr(err, says)))
		fprintf(stderr, "  %s -> %d: %s", line, rc, err);
	free(o.targets);
	free(err);
}

static void test_args_errors(void)
{
	TEST_SECTION("arguments: every error is exit 2 with a reason");
	expect_usage_error("xipbench", "no target given");
	expect_usage_error("xipbench -w seq,bogus a=/x", "unknown workload 'bogus'");
	expect_usage_error("xipbench -w , a=/x", "no workload");
	expect_usage_error("xipbench -c tepid a=/x", "not cold, warm or both");
	expect_usage_error("xipbench -r 0 a=/x", "--reps: '0'");
	expect_usage_error("xipbench -r -1 a=/x", "--reps: '-1'");
	expect_usage_error("xipbench -r 5x a=/x", "--reps: '5x'");
	expect_usage_error("xipbench -Q 5000 a=/x", "--qd: '5000'");
	expect_usage_error("xipbench -b 0 a=/x", "--bs: '0'");
	expect_usage_error("xipbench -b 2G a=/x", "--bs: '2G'");
	expect_usage_error("xipbench --rand-bs 4Q a=/x", "--rand-bs: '4Q'");
	expect_usage_error("xipbench -f /abs a=/x", "not a relative path");
	expect_usage_error("xipbench -B c a=/x b=/y", "no target named 'c'");
	expect_usage_error("xipbench a=/x a=/y", "'a' given twice");
	expect_usage_error("xipbench =/x", "a target is [NAME=]PATH");
	expect_usage_error("xipbench b!=/x", "a target is [NAME=]PATH");
	expect_usage_error("xipbench a=", "empty path");
	expect_usage_error("xipbench a=direct:", "empty path");
	expect_usage_error("xipbench aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=/x",
			   "a target is [NAME=]PATH");
	expect_usage_error("xipbench --frobnicate a=/x", "--frobnicate");
	expect_usage_error("xipbench -r", "option -r");
}

/* Parse line; the targets' names, space-separated, into names. */
static void names_of(const char *line, char *names, size_t len)
{
	struct xb_options o;
	char *err = NULL;
	size_t used = 0;

	names[0] = '\0';
	if (parse(&o, &err, line)) {
		snprintf(names, len, "error: %s", err);
	} else {
		for (unsigned t = 0; t < o.ntargets; t++)
			used += (size_t)snprintf(names + used, len - used,
						 "%s%s", t ? " " : "",
						 o.targets[t].name);
		free(o.targets);
	}
	free(err);
}

#define CHECK_NAMES(line, want)						\
	do {								\
		char got_[512];						\
		names_of(line, got_, sizeof(got_));			\
		if (!CHECK(!strcmp(got_, want)))			\
			fprintf(stderr, "  %s: got '%s'\n", line, got_);	\
	} while (0)

static void test_args_names(void)
{
	struct xb_options o;
	char *err = NULL;

	TEST_SECTION("arguments: a PATH alone is named after it");
	CHECK_NAMES("xipbench /mnt/xipfs /srv/tree/", "xipfs tree");
	CHECK_NAMES("xipbench /a/x /b/x /c/x", "x x-2 x-3");
	CHECK_NAMES("xipbench /a/x x=/b x-2=/c", "x-3 x x-2");
	CHECK_NAMES("xipbench direct:/m/x /m/x", "direct-x x");
	CHECK_NAMES("xipbench / . rel", "root . rel");
	CHECK_NAMES("xipbench /m/a=b a/b=c /m/sp\tc", "a_b b_c sp_c");
	CHECK_NAMES("xipbench /m/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		    "/n/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2");
	CHECK_EQ(parse(&o, &err, "xipbench -B x-2 /a/x /b/x"), 0);
	CHECK_EQ(o.baseline, 1);
	CHECK(!o.targets[1].named && !strcmp(o.targets[1].path, "/b/x"));
	free(o.targets);
	free(err);
}

static void test_schedule(void)
{
	struct xb_options o;
	struct xb_step st[64];
	char *err = NULL;
	size_t n;

	TEST_SECTION("schedule: targets interleaved A B A B");
	CHECK_EQ(parse(&o, &err, "xipbench -w seq,rand -r 3 a=/x b=/y"), 0);
	n = xb_schedule(&o, NULL);
	CHECK_EQ(n, 2 * 3 * 2);
	CHECK_EQ(xb_schedule(&o, st), n);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(st[i].target, i % 2);
		CHECK_EQ(st[i].rep, (int)(i / 2) % 3);
		CHECK_EQ(st[i].workload, i / 6);
		CHECK_EQ(st[i].cache, 0);
	}
	free(o.targets);
	free(err);

	CHECK_EQ(parse(&o, &err, "xipbench -w seq -r 2 -c both a=/x b=/y c=/z"), 0);
	n = xb_schedule(&o, st);
	/* cold: 2 reps x 3 targets; warm: a warm-up of each, then 2 reps. */
	CHECK_EQ(n, 6 + 9);
	CHECK(st[0].cache == 0 && st[0].rep == 0 && st[0].target == 0);
	CHECK(st[6].cache == 1 && st[6].rep == -1 && st[6].target == 0);
	CHECK(st[8].cache == 1 && st[8].rep == -1 && st[8].target == 2);
	CHECK(st[9].rep == 0 && st[9].target == 0);
	CHECK(st[14].rep == 1 && st[14].target == 2);
	free(o.targets);
	free(err);
}

static void test_format(void)
{
	char b[32];

	TEST_SECTION("formatting of figures and latencies");
	xb_format_value(2790.4, b, sizeof(b));
	CHECK(!strcmp(b, "2790"));
	xb_format_value(41.53, b, sizeof(b));
	CHECK(!strcmp(b, "41.5"));
	xb_format_value(1.234, b, sizeof(b));
	CHECK(!strcmp(b, "1.23"));
	xb_format_value(NAN, b, sizeof(b));
	CHECK(!strcmp(b, "-"));
	xb_format_ns(999, b, sizeof(b));
	CHECK(!strcmp(b, "999ns"));
	xb_format_ns(1500, b, sizeof(b));
	CHECK(!strcmp(b, "1.5us"));
	xb_format_ns(2500000, b, sizeof(b));
	CHECK(!strcmp(b, "2.50ms"));
	xb_format_ns(3000000000u, b, sizeof(b));
	CHECK(!strcmp(b, "3.00s"));
}

/* A report as a run would leave it: 2 caches x 3 workloads x 3 targets,
 * with an n/a, a failure and touch latencies. */
static void fake_report(struct xb_options *o, struct xb_report *r)
{
	char *err = NULL;
	static double vals[18][3], secs[18][3];
	static struct xb_result res[18];
	static uint32_t lat[18][4];

	CHECK_EQ(parse(o, &err, "xipbench -w seq,mmap-rand,walk -r 3 -c both "
		       "-B b a=/mnt/a\"q b=/tree c=direct:/mnt/a"), 0);
	free(err);
	o->targets[1].file = "d/big";	/* as choose_files would set it */
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->results = res;
	r->cold_method = "drop_caches";
	strcpy(r->date, "2026-11-22T00:00:00Z");
	for (unsigned i = 0; i < 18; i++) {
		unsigned w = (i / 3) % 3, t = i % 3;

		res[i] = (struct xb_result){ .status = XB_OK, .nruns = 3,
					     .value = vals[i],
					     .seconds = secs[i] };
		for (unsigned k = 0; k < 3; k++) {
			vals[i][k] = 100.0 * (t + 1) + k;
			secs[i][k] = 0.5;
		}
		if (w == 1) {
			for (unsigned k = 0; k < 4; k++)
				lat[i][k] = 1000 * (4 - k);
			res[i].lat_ns = lat[i];
			res[i].nlat = 4;
		}
		if (w == 2 && t == 2)
			res[i].status = XB_NA;
	}
	res[3].status = XB_FAILED;	/* cold, mmap-rand, target a */
	strcpy(res[3].error, "mmap: No such \"device\"");
	xb_finish(r);
}

static void test_finish(void)
{
	struct xb_options o;
	struct xb_report r;

	TEST_SECTION("finish: medians, ratios against the baseline, percentiles");
	fake_report(&o, &r);
	CHECK(xb_result(&r, 0, 0, 0)->sum.median == 101);
	CHECK(fabs(xb_result(&r, 0, 0, 0)->ratio - 101.0 / 201) < 1e-12);
	CHECK(xb_result(&r, 0, 0, 1)->ratio == 1);
	CHECK(xb_result(&r, 0, 1, 0)->ratio < 0);	/* failed: none */
	CHECK(xb_result(&r, 0, 2, 2)->ratio < 0);	/* n/a: none */
	CHECK_EQ(xb_result(&r, 0, 1, 1)->p50, 2000);
	CHECK_EQ(xb_result(&r, 0, 1, 1)->p99, 4000);
	CHECK_EQ(xb_result(&r, 0, 1, 1)->pmax, 4000);
	free(o.targets);
}

/* The checks on the JSON, done by python3 reading it from a pipe. */
static const char json_check[] =
"import json, sys\n"
"d = json.load(sys.stdin)\n"
"assert d['schema'] == 'xipbench/1'\n"
"assert set(d) == {'schema','version','date','host','options','targets','results'}\n"
"assert d['options']['baseline'] == 'b' and d['options']['reps'] == 3\n"
"assert d['options']['workloads'] == ['seq','mmap-rand','walk']\n"
"assert d['options']['cache'] == ['cold','warm']\n"
"assert [t['name'] for t in d['targets']] == ['a','b','c']\n"
"assert d['targets'][0]['path'] == '/mnt/a\"q'\n"
"assert d['targets'][2]['direct'] is True\n"
"assert d['targets'][1]['file'] == 'd/big' and d['targets'][0]['file'] is None\n"
"assert d['options']['file'] is None\n"
"res = d['results']\n"
"keys = {(r['workload'], r['cache'], r['target']) for r in res}\n"
"assert len(res) == 18 == len(keys)\n"
"for r in res:\n"
"    if r['status'] == 'ok':\n"
"        assert len(r['runs']) == 3 and len(r['seconds']) == 3\n"
"        assert r['min'] <= r['median'] <= r['max']\n"
"        assert isinstance(r['ratio'], (int, float))\n"
"        assert ('latency_ns' in r) == (r['workload'] == 'mmap-rand')\n"
"    else:\n"
"        assert r['median'] is None and r['ratio'] is None and r['runs'] == []\n"
"bad = [r for r in res if r['status'] == 'failed']\n"
"assert len(bad) == 1 and bad[0]['error'] == 'mmap: No such \"device\"'\n"
"na = [r for r in res if r['status'] == 'n/a']\n"
"assert {(r['workload'], r['target']) for r in na} == {('walk','c')}\n"
"assert res[4]['latency_ns'] == {'p50': 2000, 'p99': 4000, 'max': 4000}\n";

static void test_json(void)
{
	struct xb_options o;
	struct xb_report r;
	FILE *py, *f;

	TEST_SECTION("JSON: valid, and as the schema says (python3 json)");
	fake_report(&o, &r);
	/* The checker from a file, the JSON on its stdin. */
	f = fopen("bench_test.check.py", "w");
	CHECK(f && fputs(json_check, f) >= 0 && fclose(f) == 0);
	py = popen("python3 bench_test.check.py", "w");
	CHECK(py != NULL);
	if (py) {
		CHECK_EQ(xb_write_json(&r, py, NULL), 0);
		CHECK_EQ(pclose(py), 0);
	}
	remove("bench_test.check.py");
	free(o.targets);
}

static void test_table_and_plot(void)
{
	struct xb_options o;
	struct xb_report r;
	char *text = NULL, *line, *save = NULL;
	size_t len, col = 0;
	unsigned rows = 0;
	FILE *f;

	TEST_SECTION("table: aligned columns; gnuplot: every target and workload");
	fake_report(&o, &r);
	f = open_memstream(&text, &len);
	xb_print_table(&r, f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), rows++) {
		if (rows == 0) {
			col = (size_t)(strstr(line, "target") - line);
			CHECK(strstr(line, "vs b") != NULL);
			continue;
		}
		/* Every row has its target name where the header says. */
		CHECK(line[col] >= 'a' && line[col] <= 'c' &&
		      line[col + 1] == ' ' && line[col - 1] == ' ');
		CHECK(line[strlen(line) - 1] != ' ');
	}
	CHECK_EQ(rows, 1 + 18);
	free(text);

	f = open_memstream(&text, &len);
	xb_write_gnuplot(&r, f, "/tmp/it's.png");
	fclose(f);
	CHECK(strstr(text, "set output '/tmp/it''s.png'") != NULL);
	CHECK(strstr(text, "\"a\" NaN NaN NaN \"failed\"") != NULL);
	CHECK(strstr(text, "\"c\" NaN NaN NaN \"n/a\"") != NULL);
	CHECK(strstr(text, "set title 'seq 1M, warm (MB/s)'") != NULL);
	CHECK(strstr(text, "set title 'mmap-rand, cold (IOPS)'") != NULL);
	CHECK(strstr(text, "set title 'walk, warm (entries/s)'") != NULL);
	CHECK(strstr(text, "layout 3,2") != NULL);
	free(text);
	free(o.targets);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_summarize();
	test_percentile();
	test_perm();
	test_args_ok();
	test_args_errors();
	test_args_names();
	test_schedule();
	test_format();
	test_finish();
	test_json();
	test_table_and_plot();
	while (narg_copies)
		free(arg_copies[--narg_copies]);
	return test_summary(argv[0]);
}
