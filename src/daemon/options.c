/* SPDX-License-Identifier: MIT */
/*
 * The daemon's options, one table.  Each line gives an option's name, the
 * kind of its value, where its text and its value go in struct options,
 * its default, its bounds and its --help text; from it come the fuse_opt
 * template libfuse parses with, the help, the checks (every number is
 * taken whole: fuse_opt's sscanf would take "-1" for an unsigned and stop
 * quietly at "1x") and the freeing of the texts.  What an option means is
 * decided where it is used (main.c, and each feature's setup).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "options.h"

enum opt_kind {
	OPT_FLAG,	/* no value: sets an int to .flag */
	OPT_KEY,	/* no value: handed to the parser's callback */
	OPT_TEXT,	/* a string, checked where it is used */
	OPT_SIZE,	/* a byte count with K/M/G: uint64_t, up to .max */
	OPT_COUNT,	/* a whole number: uint64_t, up to .max */
	OPT_OCTAL,	/* an octal mode: uint64_t, up to .max */
	OPT_SECONDS,	/* a number of seconds, 0 or more: double */
};

enum { KEY_IO_URING };

struct opt_def {
	const char *templ;	/* fuse_opt's: "name=%s", or the flag */
	enum opt_kind kind;
	size_t text;		/* offsetof: the char * (valued), int (flag) */
	size_t value;		/* offsetof: the converted value */
	int flag;		/* OPT_FLAG: the value set; OPT_KEY: the key */
	const char *def;	/* the default, as a user would write it */
	uint64_t max;		/* OPT_SIZE, OPT_COUNT, OPT_OCTAL */
	const char *usage;	/* --help's left column; NULL: not listed */
	const char *help;	/* its text ("\n": a new line) */
};

#define TEXT(f)		offsetof(struct options, text.f)
#define VALUE(f)	offsetof(struct options, f)
#define FLAG(t, f, v, u, h) { t, OPT_FLAG, VALUE(f), 0, v, NULL, 0, u, h }
#define VALUED(name, kind, f, def, max, u, h) \
	{ name "=%s", kind, TEXT(f), VALUE(f), 0, def, max, u, h }
#define STRING(name, f, u, h) \
	{ name "=%s", OPT_TEXT, TEXT(f), 0, 0, NULL, 0, u, h }

/* In --help's order. */
static const struct opt_def table[] = {
	FLAG("-v", verbose, 1, "-v, --verbose, -o verbose",
	     "say how the mount serves, why an optional path\n"
	     "is off, and what it served at unmount"),
	FLAG("--verbose", verbose, 1, NULL, NULL),
	FLAG("verbose", verbose, 1, NULL, NULL),
	STRING("subdir", subdir, "-o subdir=PATH",
	       "mount this directory of the image as the root"),
	VALUED("timeout", OPT_COUNT, timeout, NULL, UINT_MAX, "-o timeout=S",
	       "unmount after S seconds without a request\n"
	       "while nothing in the mount is open"),
	VALUED("offset", OPT_SIZE, offset, NULL, UINT64_MAX, "-o offset=N",
	       "the image starts N bytes into SOURCE (K/M/G ok)"),
	VALUED("size", OPT_SIZE, size, NULL, UINT64_MAX, "-o size=N",
	       "the image window is N bytes (default: to the end)"),
	VALUED("phys", OPT_SIZE, phys, NULL, UINT64_MAX, "-o phys=ADDR",
	       "physical address of the image; SOURCE defaults\n"
	       "to /dev/mem and size= is required"),
	STRING("read", read, "-o read=copy|splice",
	       "how READ is answered (default: copy where the\n"
	       "readahead window was widened (root) or for a\n"
	       "device, else splice)"),
	VALUED("uid", OPT_COUNT, uid, NULL, UINT32_MAX - 1, "-o uid=N,gid=N",
	       "show every file as owned by N"),
	VALUED("gid", OPT_COUNT, gid, NULL, UINT32_MAX - 1, NULL, NULL),
	VALUED("umask", OPT_OCTAL, umask, NULL, 07777, "-o umask=M",
	       "clear these permission bits on every file"),
	FLAG("noopen", open_requests, 0, "-o noopen | open",
	     "skip OPEN/RELEASE requests (default: noopen)"),
	FLAG("open", open_requests, 1, NULL, NULL),
	STRING("passthrough", passthrough,
	       "-o passthrough=auto|on|off",
	       "reads and mmap go to clones of the image's\n"
	       "blocks, not through the daemon (default: auto,\n"
	       "where every precondition holds)"),
	STRING("backing_dir", backing_dir,
	       "-o backing_dir=DIR",
	       "where the clones live (default: the source's\n"
	       "directory; same file system)"),
	VALUED("max_backing", OPT_COUNT, max_backing, "4096", ULONG_MAX,
	       "-o max_backing=N", "clones live at once at most"),
	/* A backing file costs a clone and a registration on the first open
	 * (~225 us measured), which a small file never wins back: below this,
	 * the page cache serves.  Chosen by measurement (docs/BENCHMARKS.md).
	 */
	VALUED("passthrough_min", OPT_SIZE, passthrough_min, "1M", UINT64_MAX,
	       "-o passthrough_min=N",
	       "smaller files are served through the page cache\n"
	       "even with passthrough"),
	/* Measured (readahead.c, docs/BENCHMARKS.md); checked further by
	 * readahead_option: 0, or whole KiB from 4K. */
	VALUED("readahead", OPT_SIZE, readahead, "2M", READAHEAD_MAX,
	       "-o readahead=N",
	       "the mount's readahead window, set in sysfs by a\n"
	       "root daemon (0: the kernel's)"),
	FLAG("verify", verify, 1, "-o verify | noverify",
	     "check the data CRC of every block served (READ,\n"
	     "push-ahead, passthrough, xipfs-map; once a block;\n"
	     "EIO on a mismatch; default: " VERIFY_DEFAULT_NAME ")"),
	FLAG("noverify", verify, 0, NULL, NULL),
	STRING("profile", profile, "-o profile=FILE",
	       "write the files run and read to FILE (at unmount\n"
	       "and on SIGUSR1), for mkxipfs --xip-list"),
	STRING("stats", stats, "-o stats=FILE",
	       "write every counter to FILE as JSON (at unmount\n"
	       "and on SIGUSR1; replaced whole each time)"),
	{ "io_uring", OPT_KEY, 0, 0, KEY_IO_URING, NULL, 0, "-o io_uring",
	  "FUSE over io_uring, where libfuse and the kernel\n"
	  "have it (-o io_uring_q_depth=N: queue depth)" },
	FLAG("acl", acl, 1, "-o acl | noacl",
	     "enforce POSIX ACLs stored in the image (default:\n"
	     "acl, or noacl with uid=/gid=)"),
	FLAG("noacl", acl, 0, NULL, NULL),
	VALUED("entry_timeout", OPT_SECONDS, entry_timeout, "1e6", 0,
	       "-o entry_timeout=S", "seconds the kernel caches names"),
	VALUED("attr_timeout", OPT_SECONDS, attr_timeout, "1e6", 0,
	       "-o attr_timeout=S",
	       "seconds the kernel caches\nattributes"),
	VALUED("negative_timeout", OPT_SECONDS, negative_timeout, "1e6", 0,
	       "-o negative_timeout=S",
	       "seconds the kernel caches absent\nnames"),
	/* push-ahead's bounds, chosen by measurement (docs/BENCHMARKS.md,
	 * push-ahead) */
	STRING("push", push, "-o push=on|off",
	       "push-ahead: once a directory's files are read,\n"
	       "store the next small files' data in the page\n"
	       "cache before they are asked for (default: on)"),
	VALUED("push_max", OPT_SIZE, push_max, "64K", PUSH_MAX_LIMIT,
	       "-o push_max=N", "largest file pushed"),
	VALUED("push_window", OPT_COUNT, push_window, "32", PUSH_WINDOW_MAX,
	       "-o push_window=N", "entries pushed ahead of the reader"),
	VALUED("push_budget", OPT_SIZE, push_budget, "4M", UINT64_MAX,
	       "-o push_budget=N", "bytes pushed ahead of the reader"),
	/* Remote sources (SOURCE an http://, https:// or s3:// URL). */
	STRING("cache", cache, "-o cache=DIR",
	       "a remote source's cache (default:\n"
	       "$XDG_CACHE_HOME/xipfs or ~/.cache/xipfs)"),
	/* Measured (docs/BENCHMARKS.md, remote sources). */
	VALUED("remote_chunk", OPT_SIZE, remote_chunk, "256K", 16u << 20,
	       "-o remote_chunk=N",
	       "bytes a remote read fetches at least"),
	VALUED("remote_readahead", OPT_SIZE, remote_readahead, "4M",
	       64u << 20, "-o remote_readahead=N",
	       "bytes fetched at most at once for a reader\n"
	       "that goes on in order"),
	VALUED("remote_timeout", OPT_COUNT, remote_timeout, "30", 3600,
	       "-o remote_timeout=S",
	       "seconds a request may take (connecting too)"),
	VALUED("remote_retries", OPT_COUNT, remote_retries, "2", 20,
	       "-o remote_retries=N",
	       "tries more of a failed request, then EIO"),
	STRING("cacert", cacert, "-o cacert=FILE",
	       "CA certificates for https (default: the\n"
	       "system's; or $CURL_CA_BUNDLE, $SSL_CERT_FILE)"),
	FLAG("prefetch", prefetch, 1, "-o prefetch",
	     "fetch the whole image into the cache in the\n"
	     "background"),
	STRING("s3_endpoint", s3_endpoint, "-o s3_endpoint=URL",
	       "an S3-compatible store (default:\n"
	       "$AWS_ENDPOINT_URL, else AWS)"),
	STRING("s3_region", s3_region, "-o s3_region=R",
	       "the region s3:// requests are signed for\n"
	       "(default: $AWS_REGION, else us-east-1)"),
};

#define TABLE_SIZE (sizeof(table) / sizeof(table[0]))

/* Through void *: the offsets come from offsetof, so clang's -Wcast-align
 * has nothing to fear. */
#define AT(o, off, type) ((type *)(void *)((char *)(o) + (off)))

#define ENABLE_URING "/sys/module/fuse/parameters/enable_uring"

/*
 * -o io_uring goes on to libfuse (1) only where it can work; otherwise it
 * is dropped (0) with one line saying why, and /dev/fuse serves instead.
 */
static int want_io_uring(struct options *o)
{
	char c = 'N';
	FILE *f;

	o->io_uring = 1;
	if (!HAVE_DECL_FUSE_CAP_OVER_IO_URING) {
		fprintf(stderr, "xipfs: io_uring: this libfuse has no FUSE over "
			"io_uring (libfuse 3.18 or newer needed); using "
			"/dev/fuse\n");
		return 0;
	}
	f = fopen(ENABLE_URING, "re");
	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	if (c == 'Y')
		return 1;
	fprintf(stderr, "xipfs: io_uring: the kernel has it off (%s is %s); "
		"as root: echo Y > %s; using /dev/fuse\n", ENABLE_URING,
		f ? "N" : "missing", ENABLE_URING);
	return 0;
}

/* The mount point, checked here so the message is in our words; libfuse
 * refuses any further argument itself.  1: keep it, -1: refused. */
static int check_mountpoint(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "xipfs: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "xipfs: %s: not a directory\n", arg);
		return -1;
	}
	return 1;
}

static int keep_source(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key == KEY_IO_URING)
		return want_io_uring(o);
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (!o->source) {
		o->source = strdup(arg);
		return o->source ? 0 : -1;
	}
	if (o->saw_mountpoint++)
		return 1;
	return check_mountpoint(arg);
}

int options_parse(struct fuse_args *args, struct options *o)
{
	struct fuse_opt spec[TABLE_SIZE + 1];

	o->acl = -1;
	o->verify = -1;
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		const struct opt_def *t = &table[i];

		/* FUSE_OPT_KEY's offset is -1U, and libfuse compares it so */
		spec[i] = (struct fuse_opt){ t->templ,
			t->kind == OPT_KEY ? -1U : (unsigned long)t->text,
			t->flag };
	}
	spec[TABLE_SIZE] = (struct fuse_opt)FUSE_OPT_END;
	return fuse_opt_parse(args, o, spec, keep_source) ? -1 : 0;
}

/* The option's name, for messages: the template up to '='. */
static int name_len(const struct opt_def *t)
{
	return (int)strcspn(t->templ, "=");
}

/* text as a whole number in base (up to max); 0 or -1. */
static int whole_number(const char *text, int base, uint64_t max,
			uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int seconds(const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end);

	if (end == text || *end || !(v >= 0))	/* NaN fails */
		return -1;
	*out = v;
	return 0;
}

/* text into the value of option t, by its kind; NULL, or what is wrong. */
static const char *parse_value(const struct opt_def *t, const char *text,
			       struct options *o)
{
	uint64_t *v = AT(o, t->value, uint64_t);

	switch (t->kind) {
	case OPT_SIZE:
		if (xipfs_parse_size(text, v))
			return "not a byte count";
		return *v > t->max ? "too large" : NULL;
	case OPT_OCTAL:
		return whole_number(text, 8, t->max, v) ?
		       "not an octal mode (0 to 7777)" : NULL;
	case OPT_SECONDS:
		return seconds(text, AT(o, t->value, double)) ? "not a number "
		       "of seconds (negative, NaN or malformed)" : NULL;
	case OPT_COUNT:
		return whole_number(text, 10, t->max, v) ?
		       "not a whole number in range" : NULL;
	default:
		return NULL;	/* text: its user checks it */
	}
}

/* One valued option's text, or else its default, into its value: 0, or
 * -1 after a message naming it. */
static int convert(const struct opt_def *t, struct options *o)
{
	const char *text = *AT(o, t->text, char *), *what;

	if (!text)
		text = t->def;
	if (!text || !(what = parse_value(t, text, o)))
		return 0;
	fprintf(stderr, "xipfs: %.*s=%s: %s", name_len(t), t->templ, text,
		what);
	if (t->kind == OPT_SIZE && t->max != UINT64_MAX)
		fprintf(stderr, " (at most %llu bytes)",
			(unsigned long long)t->max);
	fputc('\n', stderr);
	return -1;
}

int options_check(struct options *o)
{
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (table[i].kind != OPT_FLAG && table[i].kind != OPT_KEY &&
		    convert(&table[i], o))
			return -1;
	return 0;
}

/* One entry of --help: the left column, then the text, each line of it
 * from column 27 (below the left column when that is too wide), and the
 * default where the table has one. */
static void help_entry(const struct opt_def *t)
{
	const char *p = t->help;
	int col = printf("    %s", t->usage);
	size_t n;

	for (;;) {
		if (col > 25) {
			putchar('\n');
			col = 0;
		}
		n = strcspn(p, "\n");
		printf("%*s%.*s", 27 - col, "", (int)n, p);
		p += n;
		if (!*p)
			break;
		p++;
		putchar('\n');
		col = 0;
	}
	if (t->def)
		printf(" (default: %s)", t->def);
	putchar('\n');
}

void options_help(void)
{
	printf("usage: xipfs [options] SOURCE MOUNTPOINT\n"
	       "\n"
	       "Mount the xipfs image in SOURCE (a file, block device, "
	       "memory device, or an\n"
	       "http://, https:// or s3:// URL) read-only on MOUNTPOINT.  Unmount with 'fusermount3 -u "
	       "MOUNTPOINT'.\n"
	       "\n"
	       "xipfs options:\n");
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (table[i].usage)
			help_entry(&table[i]);
	putchar('\n');
}

void options_free(struct options *o)
{
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		if (table[i].kind == OPT_FLAG || table[i].kind == OPT_KEY)
			continue;
		free(*AT(o, table[i].text, char *));
		*AT(o, table[i].text, char *) = NULL;
	}
	free(o->source);
	o->source = NULL;
}
