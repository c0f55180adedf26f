/* SPDX-License-Identifier: MIT */
/*
 * xipbench's outputs: the table, the JSON and the gnuplot chart.
 *
 * The JSON is written by hand: it is output only, flat, and a dozen lines
 * of code; a JSON library would add a dependency for no gain in safety.
 * Strings are escaped below; numbers that are not finite become null.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xipbench.h"

extern char **environ;

void xb_format_value(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

void xb_format_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

static void format_size(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMG";
	int i = -1;

	while (v >= 1024 && v % 1024 == 0 && i < 2) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, suffix[i]);
}

/* "seq 1M", "rand 4K", "uring 4K qd32": the parameters that shape it. */
static void workload_label(const struct xb_options *o, enum xb_workload w,
			   char *buf, size_t len)
{
	char size[32];

	switch (w) {
	case XB_SEQ:
		format_size(o->bs, size, sizeof(size));
		snprintf(buf, len, "seq %s", size);
		break;
	case XB_RAND:
		format_size(o->rand_bs, size, sizeof(size));
		snprintf(buf, len, "rand %s", size);
		break;
	case XB_URING:
		format_size(o->rand_bs, size, sizeof(size));
		snprintf(buf, len, "uring %s qd%u", size, o->qd);
		break;
	default:
		snprintf(buf, len, "%s", xb_workloads[w].name);
		break;
	}
}

struct row {
	char label[48], value[48], range[64], ratio[16];
	char touch[sizeof(((struct xb_result *)0)->error) + 8];	/* or error */
	const char *cache, *target;
};

static void fill_row(const struct xb_report *r, unsigned c, unsigned w,
		     unsigned t, struct row *row)
{
	const struct xb_options *o = r->o;
	const struct xb_result *res = xb_result(r, c, w, t);
	enum xb_workload wl = o->workloads[w];
	char a[24], b[24], d[24];	/* each under 24: see xb_format_* */

	memset(row, 0, sizeof(*row));
	workload_label(o, wl, row->label, sizeof(row->label));
	row->cache = xb_cache_names[o->caches[c]];
	row->target = o->targets[t].name;
	if (res->status == XB_NA) {
		snprintf(row->value, sizeof(row->value), "n/a");
		return;
	}
	if (res->status != XB_OK) {
		snprintf(row->value, sizeof(row->value), "failed");
		snprintf(row->touch, sizeof(row->touch), "%s", res->error);
		return;
	}
	xb_format_value(res->sum.median, a, sizeof(a));
	snprintf(row->value, sizeof(row->value), "%s %s", a,
		 xb_workloads[wl].unit);
	xb_format_value(res->sum.min, a, sizeof(a));
	xb_format_value(res->sum.max, b, sizeof(b));
	snprintf(row->range, sizeof(row->range), "%s..%s", a, b);
	if (res->ratio >= 0)
		snprintf(row->ratio, sizeof(row->ratio), "%.2fx", res->ratio);
	if (res->nlat) {
		xb_format_ns(res->p50, a, sizeof(a));
		xb_format_ns(res->p99, b, sizeof(b));
		xb_format_ns(res->pmax, d, sizeof(d));
		snprintf(row->touch, sizeof(row->touch), "%s/%s/%s", a, b, d);
	}
}

#define MAXW(field, s) do { size_t l_ = strlen(s); \
	if (l_ > width.field) width.field = l_; } while (0)

void xb_print_table(const struct xb_report *r, FILE *out)
{
	const struct xb_options *o = r->o;
	size_t nrows = (size_t)o->ncaches * o->nworkloads * o->ntargets, i = 0;
	struct row *rows = calloc(nrows, sizeof(*rows));
	struct { size_t label, cache, target, value, range, ratio; } width = {
		8, 5, 6, 6, 8, 5 };
	char ratio_head[XB_NAME_MAX + 8];

	if (!rows)
		abort();
	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++)
			for (unsigned t = 0; t < o->ntargets; t++)
				fill_row(r, c, w, t, &rows[i++]);
	snprintf(ratio_head, sizeof(ratio_head), "vs %s",
		 o->targets[o->baseline].name);
	MAXW(ratio, ratio_head);
	for (i = 0; i < nrows; i++) {
		MAXW(label, rows[i].label);
		MAXW(target, rows[i].target);
		MAXW(value, rows[i].value);
		MAXW(range, rows[i].range);
		MAXW(ratio, rows[i].ratio);
	}
	fprintf(out, "%-*s  %-*s  %-*s  %*s  %-*s  %*s  %s\n",
		(int)width.label, "workload", (int)width.cache, "cache",
		(int)width.target, "target", (int)width.value, "median",
		(int)width.range, "min..max", (int)width.ratio, ratio_head,
		"touch p50/p99/max");
	for (i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		char line[512];
		size_t n;

		snprintf(line, sizeof(line), "%-*s  %-*s  %-*s  %*s  %-*s  %*s  %s",
			 (int)width.label, w->label, (int)width.cache, w->cache,
			 (int)width.target, w->target, (int)width.value,
			 w->value, (int)width.range, w->range,
			 (int)width.ratio, w->ratio, w->touch);
		/* No trailing blanks where the last columns are empty. */
		for (n = strlen(line); n && line[n - 1] == ' '; n--)
			line[n - 1] = '\0';
		fprintf(out, "%s\n", line);
	}
	free(rows);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Where no file workload ran there is no file. */
static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void json_host(FILE *f)
{
	struct utsname u;
	struct sysinfo si;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	if (sysinfo(&si))
		memset(&si, 0, sizeof(si));
	fputs("  \"host\": {\"kernel\": ", f);
	json_str(f, u.release);
	fputs(", \"machine\": ", f);
	json_str(f, u.machine);
	fprintf(f, ", \"cpus\": %ld, \"mem_bytes\": %llu},\n",
		sysconf(_SC_NPROCESSORS_ONLN),
		(unsigned long long)si.totalram * si.mem_unit);
}

static void json_options(FILE *f, const struct xb_options *o,
			 const char *cold_method)
{
	fputs("  \"options\": {\"workloads\": [", f);
	for (unsigned w = 0; w < o->nworkloads; w++) {
		fputs(w ? ", " : "", f);
		json_str(f, xb_workloads[o->workloads[w]].name);
	}
	fputs("], \"file\": ", f);
	json_str_or_null(f, o->file ? o->file : o->targets[0].file);
	fprintf(f, ", \"bs\": %" PRIu64 ", \"rand_bs\": %" PRIu64
		", \"qd\": %u, \"ops\": %" PRIu64 ", \"reps\": %u, "
		"\"cache\": [", o->bs, o->rand_bs, o->qd, o->ops, o->reps);
	for (unsigned c = 0; c < o->ncaches; c++) {
		fputs(c ? ", " : "", f);
		json_str(f, xb_cache_names[o->caches[c]]);
	}
	fputs("], \"baseline\": ", f);
	json_str(f, o->targets[o->baseline].name);
	fprintf(f, ", \"seed\": %" PRIu64 ", \"cold_method\": ", o->seed);
	json_str(f, cold_method);
	fputs("},\n", f);
}

static void json_targets(FILE *f, const struct xb_options *o)
{
	fputs("  \"targets\": [", f);
	for (unsigned t = 0; t < o->ntargets; t++) {
		fputs(t ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
		json_str(f, o->targets[t].name);
		fputs(", \"path\": ", f);
		json_str(f, o->targets[t].path);
		fprintf(f, ", \"direct\": %s, \"file\": ",
			o->targets[t].direct ? "true" : "false");
		json_str_or_null(f, o->targets[t].file);
		fputc('}', f);
	}
	fputs("\n  ],\n", f);
}

static void json_array(FILE *f, const char *key, const double *v,
		       unsigned n)
{
	fprintf(f, ", \"%s\": [", key);
	for (unsigned i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		json_num(f, v[i]);
	}
	fputc(']', f);
}

static const char *const status_names[] = {
	[XB_PENDING] = "failed", [XB_OK] = "ok", [XB_NA] = "n/a",
	[XB_FAILED] = "failed",
};

static void json_result(FILE *f, const struct xb_report *r, unsigned c,
			unsigned w, unsigned t)
{
	const struct xb_options *o = r->o;
	const struct xb_result *res = xb_result(r, c, w, t);
	enum xb_workload wl = o->workloads[w];

	fputs("    {\"workload\": ", f);
	json_str(f, xb_workloads[wl].name);
	fprintf(f, ", \"cache\": \"%s\", \"target\": ",
		xb_cache_names[o->caches[c]]);
	json_str(f, o->targets[t].name);
	fprintf(f, ", \"status\": \"%s\", \"unit\": ", status_names[res->status]);
	json_str(f, xb_workloads[wl].unit);
	json_array(f, "runs", res->value, res->status == XB_OK ? res->nruns : 0);
	json_array(f, "seconds", res->seconds,
		   res->status == XB_OK ? res->nruns : 0);
	fputs(", \"median\": ", f);
	json_num(f, res->status == XB_OK ? res->sum.median : NAN);
	fputs(", \"min\": ", f);
	json_num(f, res->status == XB_OK ? res->sum.min : NAN);
	fputs(", \"max\": ", f);
	json_num(f, res->status == XB_OK ? res->sum.max : NAN);
	fputs(", \"ratio\": ", f);
	json_num(f, res->ratio >= 0 ? res->ratio : NAN);
	if (res->status == XB_OK && xb_workloads[wl].latency)
		fprintf(f, ", \"latency_ns\": {\"p50\": %" PRIu64 ", \"p99\": %"
			PRIu64 ", \"max\": %" PRIu64 "}", res->p50, res->p99,
			res->pmax);
	if (res->status != XB_OK && res->status != XB_NA) {
		fputs(", \"error\": ", f);
		json_str(f, res->error[0] ? res->error : "not run");
	}
	fputc('}', f);
}

int xb_write_json(const struct xb_report *r, FILE *f, const char *unused)
{
	(void)unused;
	const struct xb_options *o = r->o;
	bool first = true;

	fputs("{\n  \"schema\": \"xipbench/1\",\n  \"version\": ", f);
	json_str(f, PACKAGE_VERSION);
	fputs(",\n  \"date\": ", f);
	json_str(f, r->date);
	fputs(",\n", f);
	json_host(f);
	json_options(f, o, r->cold_method);
	json_targets(f, o);
	fputs("  \"results\": [\n", f);
	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++)
			for (unsigned t = 0; t < o->ntargets; t++) {
				fputs(first ? "" : ",\n", f);
				first = false;
				json_result(f, r, c, w, t);
			}
	fputs("\n  ]\n}\n", f);
	return 0;
}

/* A string for gnuplot in single quotes, where only ' needs doubling. */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* One panel: a data block (name, median, min, max, label, label height)
 * and a bar chart of it. */
static void gp_panel(FILE *f, const struct xb_report *r, unsigned c,
		     unsigned w)
{
	const struct xb_options *o = r->o;
	enum xb_workload wl = o->workloads[w];
	char label[48], v[24];
	unsigned id = c * o->nworkloads + w;

	fprintf(f, "$d%u << EOD\n", id);
	for (unsigned t = 0; t < o->ntargets; t++) {
		const struct xb_result *res = xb_result(r, c, w, t);

		if (res->status == XB_OK) {
			xb_format_value(res->sum.median, v, sizeof(v));
			fprintf(f, "\"%s\" %.6g %.6g %.6g \"%s\" %.6g\n",
				o->targets[t].name, res->sum.median,
				res->sum.min, res->sum.max, v, res->sum.max);
		} else {
			fprintf(f, "\"%s\" NaN NaN NaN \"%s\" 0\n",
				o->targets[t].name,
				res->status == XB_NA ? "n/a" : "failed");
		}
	}
	fputs("EOD\n", f);
	workload_label(o, wl, label, sizeof(label));
	fprintf(f, "set title '%s, %s (%s)'\n", label,
		xb_cache_names[o->caches[c]], xb_workloads[wl].unit);
	fprintf(f, "set xrange [-0.6:%u.6]\n", o->ntargets - 1);
	fprintf(f, "plot $d%u using 0:2:(0.7):($0+1):xtic(1) with boxes "
		"lc variable, \\\n     $d%u using 0:2:3:4 with yerrorbars "
		"lc rgb 'black' pt 0, \\\n     $d%u using 0:6:5 with labels "
		"offset 0,0.7 font ',8'\n", id, id, id);
}

int xb_write_gnuplot(const struct xb_report *r, FILE *f, const char *png)
{
	const struct xb_options *o = r->o;
	unsigned panels = o->ncaches * o->nworkloads;
	unsigned cols = panels > 8 ? 3 : panels > 1 ? 2 : 1;
	unsigned rows = (panels + cols - 1) / cols;

	fputs("# xipbench chart; redraw with: gnuplot THIS-FILE\n", f);
	fprintf(f, "set terminal pngcairo noenhanced size %u,%u "
		"font 'sans,10'\nset output ", 480 * cols, 300 * rows + 40);
	gp_str(f, png);
	fprintf(f, "\nset multiplot layout %u,%u title 'xipbench %s: "
		"median of %u runs, bars min..max, higher is better; "
		"cold by %s'\n", rows, cols, r->date, o->reps,
		r->cold_method);
	fputs("set style fill solid 0.8 border -1\nunset key\n"
	      "set grid ytics\nset yrange [0:*]\nset offsets 0,0,graph 0.15,0\n"
	      "set xtics rotate by 30 right nomirror\nset ytics nomirror\nset format y '%.1s%c'\n",
	      f);
	for (unsigned c = 0; c < o->ncaches; c++)
		for (unsigned w = 0; w < o->nworkloads; w++)
			gp_panel(f, r, c, w);
	fputs("unset multiplot\n", f);
	return 0;
}

static mode_t file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

/* A temporary name beside path, created; the caller owns *tmp. */
static int make_temp(const char *path, char **tmp)
{
	int fd;

	if (asprintf(tmp, "%s.XXXXXX", path) < 0)
		return -1;
	fd = mkstemp(*tmp);
	if (fd < 0) {
		fprintf(stderr, "xipbench: %s: %s\n", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	if (fchmod(fd, file_mode()) == 0)
		return fd;
	fprintf(stderr, "xipbench: %s: %s\n", *tmp, strerror(errno));
	close(fd);
	unlink(*tmp);
	free(*tmp);
	*tmp = NULL;
	return -1;
}

int xb_write_file_atomic(const char *path, xb_fill_fn *fill,
			 const struct xb_report *r, const char *arg)
{
	char *tmp;
	int fd = make_temp(path, &tmp), err;
	FILE *f;

	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		err = errno;
	} else {
		err = fill(r, f, arg) ? EIO : 0;
		if (fflush(f) == EOF || ferror(f))
			err = errno ? errno : EIO;
		if (fclose(f) == EOF && !err)
			err = errno;
	}
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		fprintf(stderr, "xipbench: %s: %s\n", path, strerror(err));
		unlink(tmp);
	}
	free(tmp);
	return err ? -1 : 0;
}

/* gnuplot SCRIPT, waited for; 0 when it exited 0. */
static int run_gnuplot(const char *script, const char *png)
{
	char *argv[] = { "gnuplot", (char *)script, NULL };
	pid_t pid;
	int status, err;

	err = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "xipbench: %s: cannot run gnuplot: %s%s\n", png,
			strerror(err), err == ENOENT ?
			" (install gnuplot-nox)" : "");
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "xipbench: %s: gnuplot failed (status %d)\n", png,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return -1;
}

/*
 * Draw the chart into a temporary PNG beside the final one, then rename:
 * gnuplot itself would leave a partial file behind when it fails.
 */
int xb_plot(const struct xb_report *r)
{
	const char *png = r->o->plot;
	char *tmp_png = NULL, *script = NULL;
	int fd = make_temp(png, &tmp_png), rc = -1;

	if (fd < 0)
		return -1;
	close(fd);
	if (asprintf(&script, "%s.gp", tmp_png) < 0) {
		script = NULL;
		goto out;
	}
	if (xb_write_file_atomic(script, xb_write_gnuplot, r, tmp_png))
		goto out;
	rc = run_gnuplot(script, png);
	unlink(script);
	if (!rc && rename(tmp_png, png)) {
		fprintf(stderr, "xipbench: %s: %s\n", png, strerror(errno));
		rc = -1;
	}
out:
	if (rc)
		unlink(tmp_png);
	free(script);
	free(tmp_png);
	return rc;
}
