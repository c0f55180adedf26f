/* SPDX-License-Identifier: MIT */
/*
 * Remote sources' HTTP, through libcurl: ranged GETs into the caller's
 * buffer on one easy handle per thread (each keeps its connection alive
 * between requests; HTTP/2 where TLS offers it, proxies from the
 * environment: libcurl's defaults), every reply checked before its bytes
 * are used (206, exactly the range asked, the object's size and validator
 * unchanged, exactly the bytes announced), and a bounded number of tries
 * with a bounded time each, so a dead or slow server costs a reader EIO,
 * never a hang.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "remote.h"

struct http_handle {
	CURL *curl;
	const struct http_conf *conf;
};

/* What one reply said, gathered by the callbacks. */
struct reply {
	uint8_t *buf;
	size_t want, got;
	int overflow;
	int have_range;
	uint64_t start, end, total;
	char etag[256], modified[64];
};

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_free(void)
{
	curl_global_cleanup();
}

/* One option of the handle; counts a refusal in bad. */
#define SET(h, opt, v, bad) ((bad) += curl_easy_setopt(h, opt, v) != CURLE_OK)

/* The settings every request of a handle shares. */
static int handle_setup(CURL *h, const struct http_conf *c)
{
	int bad = 0;

	/* Threads: no signals for timeouts (libcurl's own advice). */
	SET(h, CURLOPT_NOSIGNAL, 1L, bad);
	SET(h, CURLOPT_PROTOCOLS_STR, "http,https", bad);
	SET(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https", bad);
	SET(h, CURLOPT_FOLLOWLOCATION, 1L, bad);
	SET(h, CURLOPT_MAXREDIRS, 5L, bad);
	SET(h, CURLOPT_CONNECTTIMEOUT, c->timeout, bad);
	SET(h, CURLOPT_TIMEOUT, c->timeout, bad);
	SET(h, CURLOPT_TCP_KEEPALIVE, 1L, bad);
	SET(h, CURLOPT_USERAGENT, "xipfs/" PACKAGE_VERSION, bad);
	if (c->cacert)
		SET(h, CURLOPT_CAINFO, c->cacert, bad);
	if (c->sigv4) {
		SET(h, CURLOPT_AWS_SIGV4, c->sigv4, bad);
		SET(h, CURLOPT_USERPWD, c->userpwd, bad);
	}
	return bad ? -1 : 0;
}

struct http_handle *http_handle_new(const struct http_conf *c)
{
	struct http_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->conf = c;
	h->curl = curl_easy_init();
	if (!h->curl || handle_setup(h->curl, c)) {
		http_handle_free(h);
		return NULL;
	}
	return h;
}

void http_handle_free(struct http_handle *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h);
}

/* The body, into the caller's buffer; more than asked aborts. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len > r->want - r->got) {
		r->overflow = 1;
		return 0;
	}
	memcpy(r->buf + r->got, p, len);
	r->got += len;
	return len;
}

/* A header's value (after "name:"), trimmed, into out; 1 if it is name. */
static int header_value(const char *line, const char *name, char *out,
			size_t size)
{
	size_t n = strlen(name), end;

	if (strncasecmp(line, name, n))
		return 0;
	line += n;
	line += strspn(line, " \t");
	end = strcspn(line, "\r\n");
	if (end >= size)
		end = 0;	/* too long to be ours: treated as absent */
	memcpy(out, line, end);
	out[end] = '\0';
	return 1;
}

/* Each header line; a status line starts a new reply (redirects). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char line[512], value[300];
	unsigned long long a, b, t;

	if (len >= sizeof(line))
		return len;	/* none of ours is that long */
	memcpy(line, p, len);
	line[len] = '\0';
	if (!strncmp(line, "HTTP/", 5)) {
		r->have_range = 0;
		r->etag[0] = r->modified[0] = '\0';
	} else if (header_value(line, "content-range:", value,
				sizeof(value))) {
		r->have_range = sscanf(value, "bytes %llu-%llu/%llu", &a, &b,
				       &t) == 3 && a <= b && b < t;
		r->start = a;
		r->end = b;
		r->total = t;
	} else if (!header_value(line, "etag:", r->etag, sizeof(r->etag))) {
		header_value(line, "last-modified:", r->modified,
			     sizeof(r->modified));
	}
	return len;
}

/* Is a failed status worth asking again? */
static int transient_status(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

/* The reply's status and headers against what was asked: 0, or an
 * errno with why. */
static int check_reply(long status, const struct reply *r,
		       const struct http_object *obj, uint64_t from,
		       char *why, size_t why_size)
{
	uint64_t want_end = from + r->want - 1;

	if (status == 200) {
		snprintf(why, why_size, "the server ignores Range requests "
			 "(200 instead of 206)");
		return -EIO;
	}
	if (status == 412) {
		snprintf(why, why_size, "the object changed on the server "
			 "(412: its ETag no longer matches)");
		return -ESTALE;
	}
	if (status != 206) {
		snprintf(why, why_size, "HTTP status %ld", status);
		return transient_status(status) ? -EAGAIN : -EIO;
	}
	if (!r->have_range || r->start != from ||
	    (obj ? r->total != obj->size || r->end != want_end :
	     r->end != want_end && r->end + 1 != r->total)) {
		snprintf(why, why_size, "a reply for another range than "
			 "asked (Content-Range)");
		return -EIO;
	}
	if (obj && ((obj->etag[0] && r->etag[0] && strcmp(r->etag, obj->etag)) ||
		    (!obj->etag[0] && obj->modified[0] &&
		     strcmp(r->modified, obj->modified)))) {
		snprintf(why, why_size, "the object changed on the server "
			 "(ETag or Last-Modified differs)");
		return -ESTALE;
	}
	if (r->got != r->end - r->start + 1) {
		snprintf(why, why_size, "a short reply (%zu of %" PRIu64
			 " bytes)", r->got, r->end - r->start + 1);
		return -EAGAIN;
	}
	return 0;
}

/* One request: 0, -EAGAIN (worth another try), or another errno. */
static int get_once(struct http_handle *h, const struct http_object *obj,
		    uint64_t from, struct reply *r, char *why,
		    size_t why_size)
{
	const struct http_conf *c = h->conf;
	struct curl_slist *headers = NULL, *more;
	char range[64], match[300];
	long status = 0;
	CURLcode rc;
	int err = 0;

	snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, from,
		 from + r->want - 1);
	/* The server refuses (412) a range of another version. */
	if (obj && obj->etag[0]) {
		snprintf(match, sizeof(match), "If-Match: %s", obj->etag);
		more = curl_slist_append(headers, match);
		headers = more ? more : headers;
		err |= !more;
	}
	for (int i = 0; i < 2; i++) {
		const char *line = i ? c->token_header : c->s3_header;

		if (!line)
			continue;
		more = curl_slist_append(headers, line);
		headers = more ? more : headers;
		err |= !more;
	}
	if (err) {
		curl_slist_free_all(headers);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, c->url);
	curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, r);
	atomic_fetch_add_explicit(&c->counters->requests, 1,
				  memory_order_relaxed);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	atomic_fetch_add_explicit(&c->counters->bytes, r->got,
				  memory_order_relaxed);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->overflow)) {
		snprintf(why, why_size, "%s", curl_easy_strerror(rc));
		return status ? -EAGAIN : -ENETUNREACH;
	}
	if (r->overflow) {
		snprintf(why, why_size, "a reply longer than the range asked");
		return -EIO;
	}
	return check_reply(status, r, obj, from, why, why_size);
}

/* Wait before the next try: 100 ms, doubling, at most 2 s. */
static void backoff(unsigned int attempt)
{
	long ms = attempt > 5 ? 2000 : 100L << (attempt - 1);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 2000)
		ts = (struct timespec){ 2, 0 };
	nanosleep(&ts, NULL);
}

int http_get(struct http_handle *h, const struct http_object *obj,
	     uint64_t from, size_t len, uint8_t *buf, size_t *got,
	     struct http_object *obj_out, char *why, size_t why_size)
{
	struct remote_counters *n = h->conf->counters;
	struct reply r;
	int err = -EIO;

	for (unsigned int attempt = 0; attempt <= h->conf->retries;
	     attempt++) {
		if (attempt) {
			atomic_fetch_add_explicit(&n->retries, 1,
						  memory_order_relaxed);
			backoff(attempt);
		}
		memset(&r, 0, sizeof(r));
		r.buf = buf;
		r.want = len;
		err = get_once(h, obj, from, &r, why, why_size);
		if (err != -EAGAIN && err != -ENETUNREACH)
			break;
	}
	*got = r.got;
	if (err) {
		atomic_fetch_add_explicit(&n->failures, 1,
					  memory_order_relaxed);
		return err == -EAGAIN ? -EIO : err;
	}
	if (obj_out) {
		obj_out->size = r.total;
		snprintf(obj_out->etag, sizeof(obj_out->etag), "%s", r.etag);
		snprintf(obj_out->modified, sizeof(obj_out->modified), "%s",
			 r.modified);
	}
	return 0;
}
