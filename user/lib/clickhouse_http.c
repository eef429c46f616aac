// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ClickHouse's HTTP interface through libcurl; see clickhouse_http.h. */
#include "lib/clickhouse_http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <zlib.h>

#include "lib/errmsg.h"

/* ClickHouse's default HTTP port, when the URL names none. */
#define CH_DEFAULT_PORT	   8123
#define CONNECT_TIMEOUT_MS 2000
/* A batch of 1 MB takes well under a second; a stalled server is given up on. */
#define INSERT_TIMEOUT_MS 20000
#define QUERY_TIMEOUT_MS  5000
/* Enough of an answer to tell what it was and to quote a line of it. */
#define ANSWER_CAP 2048
/* ClickHouse's error codes (its ErrorCodes.cpp) the sink tells apart. */
#define CODE_UNKNOWN_TABLE     60
#define CODE_UNKNOWN_DATABASE  81
#define CODE_UNKNOWN_USER      192
#define CODE_WRONG_PASSWORD    193
#define CODE_REQUIRED_PASSWORD 194
#define CODE_IP_NOT_ALLOWED    195
#define CODE_AUTH_FAILED       516

struct ch_http {
	CURL *curl;
	struct curl_slist *resolve; /* the host's address, resolved at open */
	struct curl_slist *headers; /* no Expect: 100-continue; gzip when on */
	char *base; /* http://host:port/path?kept-params& (ClickHouse's own parameters) */
	char *shown; /* the URL to show: password masked */
	char *table, *stats_table;
	char *user, *password;
	char *gzip_value; /* gzip=: "1" compresses insert bodies */
	char answer[ANSWER_CAP + 1];
	size_t answer_len;
	char *gz; /* the compressed body, reused */
	size_t gz_cap;
	ch_answer_fn reader; /* ch_http_query's: where a 200 answer goes */
	void *reader_ctx;
	bool stopped; /* the reader stopped the answer */
};

const char *ch_result_text(enum ch_result r)
{
	switch (r) {
	case CH_OK:
		return "ok";
	case CH_NOT_SENT:
		return "cannot connect";
	case CH_AMBIGUOUS:
		return "no answer";
	case CH_AUTH:
		return "authentication failed";
	case CH_NO_TABLE:
		return "table missing";
	case CH_SERVER_ERROR:
		return "server error";
	case CH_NOT_CLICKHOUSE:
		return "not a ClickHouse server";
	case CH_STOPPED:
		return "answer not taken";
	}
	return "?";
}

/* ---- the URL ---- */

static int append(char **s, const char *add)
{
	size_t a = *s ? strlen(*s) : 0, b = strlen(add);
	char *n = realloc(*s, a + b + 1);

	if (!n)
		return -1;
	memcpy(n + a, add, b + 1);
	*s = n;
	return 0;
}

/* libcurl's string as one of ours (free(), not curl_free()); NULL stays NULL. */
static char *own_string(char *curl_string)
{
	char *s = curl_string ? strdup(curl_string) : NULL;

	curl_free(curl_string);
	return s;
}

static bool named(const char *param, size_t nlen, const char *name)
{
	return nlen == strlen(name) && !strncmp(param, name, nlen);
}

/* Where a parameter of ours or a credential goes; NULL: ClickHouse's own. */
static char **param_slot(struct ch_http *h, const char *param, size_t nlen)
{
	if (named(param, nlen, CH_TABLE_PARAM))
		return &h->table;
	if (named(param, nlen, CH_STATS_TABLE_PARAM))
		return &h->stats_table;
	if (named(param, nlen, CH_GZIP_PARAM))
		return &h->gzip_value;
	if (named(param, nlen, "user"))
		return &h->user;
	if (named(param, nlen, "password"))
		return &h->password;
	return NULL;
}

/* One name=value of the query: ours and the credentials taken, the rest kept for ClickHouse. */
static int take_param(struct ch_http *h, CURL *c, const char *param, char **kept, char **shown)
{
	const char *eq = strchr(param, '=');
	size_t nlen = eq ? (size_t)(eq - param) : strlen(param);
	char **slot = param_slot(h, param, nlen);
	int rc;

	if (slot) {
		free(*slot);
		*slot = own_string(curl_easy_unescape(c, eq ? eq + 1 : "", 0, NULL));
		rc = *slot ? 0 : -1;
	} else {
		rc = append(kept, param) || append(kept, "&");
	}
	if (!rc)
		rc = append(shown, *shown ? "&" : "?") ||
		     append(shown, slot == &h->password ? "password=***" : param);
	return rc;
}

static int take_query(struct ch_http *h, CURL *c, const char *query, char **kept, char **shown)
{
	char *copy = strdup(query ? query : ""), *save = NULL, *p;
	int rc = copy ? 0 : -1;

	for (p = copy ? strtok_r(copy, "&", &save) : NULL; p && !rc; p = strtok_r(NULL, "&", &save))
		rc = take_param(h, c, p, kept, shown);
	free(copy);
	return rc;
}

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
	char *v = NULL;

	if (curl_url_get(u, part, &v, flags) != CURLUE_OK)
		return NULL;
	return v;
}

/* A name resolved now, for libcurl's cache: no resolver runs later. */
static int resolve(struct ch_http *h, const char *host, long port, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char addr[INET6_ADDRSTRLEN], entry[512];
	unsigned char bin[16];
	int rc;

	if (inet_pton(AF_INET, host, bin) == 1 || host[0] == '[')
		return 0; /* an address: libcurl resolves nothing */
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		set_err(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	if (res->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, addr,
			  sizeof(addr));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr,
			  sizeof(addr));
	snprintf(entry, sizeof(entry), res->ai_family == AF_INET6 ? "%s:%ld:[%s]" : "%s:%ld:%s",
		 host, port, addr);
	freeaddrinfo(res);
	h->resolve = curl_slist_append(NULL, entry);
	return h->resolve ? 0 : -1;
}

static int credentials_from_env(struct ch_http *h)
{
	const char *u = secure_getenv(CH_USER_ENV), *p = secure_getenv(CH_PASSWORD_ENV);

	if (!h->user && u && *u && !(h->user = strdup(u)))
		return -1;
	if (!h->password && p && !(h->password = strdup(p)))
		return -1;
	return 0;
}

/* The parts of url into h; 1: the URL is wrong (err says why), -1: no memory. */
static int parse_url(struct ch_http *h, const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL, *port = NULL;
	char *kept = NULL, *shown = NULL, buf[600];
	long portnum = CH_DEFAULT_PORT;
	int rc = -1;

	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    !(scheme = url_part(u, CURLUPART_SCHEME, 0)) || strcmp(scheme, "http") ||
	    !(host = url_part(u, CURLUPART_HOST, 0)) || !*host) {
		set_err(err, errlen, "not an http://HOST[:PORT]/ URL");
		rc = 1;
		goto out;
	}
	h->user = own_string(url_part(u, CURLUPART_USER, CURLU_URLDECODE));
	h->password = own_string(url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE));
	port = url_part(u, CURLUPART_PORT, 0);
	if (port)
		portnum = strtol(port, NULL, 10);
	path = url_part(u, CURLUPART_PATH, 0);
	query = url_part(u, CURLUPART_QUERY, 0);
	if (take_query(h, h->curl, query, &kept, &shown) < 0 || credentials_from_env(h) < 0)
		goto out;
	snprintf(buf, sizeof(buf), "http://%s:%ld%s?", host, portnum, path ? path : "/");
	if (append(&h->base, buf) || (kept && append(&h->base, kept)))
		goto out;
	snprintf(buf, sizeof(buf), "http://%s%s%s%s:%ld%s", h->user ? h->user : "",
		 h->password && h->user ? ":***" : "", h->user ? "@" : "", host, portnum,
		 path ? path : "/");
	if (append(&h->shown, buf) || (shown && append(&h->shown, shown)))
		goto out;
	rc = resolve(h, host, portnum, err, errlen) ? 2 : 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(port);
	free(kept);
	free(shown);
	curl_url_cleanup(u);
	return rc;
}

/* ---- requests ---- */

/*
 * The answer's start is kept (to classify it and quote it); a query's
 * answer goes to its reader too once the server said 200.
 */
static size_t keep_answer(char *data, size_t size, size_t n, void *ctx)
{
	struct ch_http *h = ctx;
	size_t len = size * n, room = ANSWER_CAP - h->answer_len;
	long status = 0;

	if (h->reader) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200 && h->reader(data, len, h->reader_ctx) != len) {
			h->stopped = true;
			return 0;
		}
	}
	memcpy(h->answer + h->answer_len, data, len < room ? len : room);
	h->answer_len += len < room ? len : room;
	h->answer[h->answer_len] = '\0';
	return len;
}

static int set_options(struct ch_http *h)
{
	CURL *c = h->curl;

	h->headers = curl_slist_append(NULL, "Expect:");
	if (!h->headers)
		return -1;
	/*
	 * A new connection per request: libcurl sends a request again by
	 * itself when a reused connection dies before an answer, which would
	 * insert a batch twice; and a kept-alive connection holds up a
	 * server's graceful shutdown (it serves the connection until idle).
	 */
	if (curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L) ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) || /* a thread of ours: no SIGALRM */
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http") ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS) ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer) ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, h) ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers) ||
	    (h->resolve && curl_easy_setopt(c, CURLOPT_RESOLVE, h->resolve)))
		return -1;
	/* Basic authentication: the password stays out of the URL (and the server's logs). */
	if (h->user && curl_easy_setopt(c, CURLOPT_USERNAME, h->user))
		return -1;
	if (h->password && curl_easy_setopt(c, CURLOPT_PASSWORD, h->password))
		return -1;
	return 0;
}

struct ch_http *ch_http_open(const char *url, bool *usage, char *err, size_t errlen)
{
	struct ch_http *h = calloc(1, sizeof(*h));
	int rc;

	*usage = false;
	if (!h || curl_global_init(CURL_GLOBAL_DEFAULT) || !(h->curl = curl_easy_init())) {
		free(h);
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	rc = parse_url(h, url, err, errlen);
	if (!rc &&
	    (!(h->table = h->table ? h->table : strdup(CH_DEFAULT_TABLE)) ||
	     !(h->stats_table = h->stats_table ? h->stats_table : strdup(CH_DEFAULT_STATS)) ||
	     set_options(h) < 0))
		rc = -1;
	if (rc) {
		*usage = rc == 1;
		if (rc < 0)
			set_err(err, errlen, "out of memory");
		ch_http_close(h);
		return NULL;
	}
	return h;
}

void ch_http_close(struct ch_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->resolve);
	curl_slist_free_all(h->headers);
	free(h->base);
	free(h->shown);
	free(h->table);
	free(h->stats_table);
	free(h->gzip_value);
	free(h->user);
	if (h->password)
		memset(h->password, 0, strlen(h->password));
	free(h->password);
	free(h->gz);
	free(h);
}

const char *ch_http_shown_url(const struct ch_http *h)
{
	return h->shown;
}

const char *ch_http_table(const struct ch_http *h)
{
	return h->table;
}

const char *ch_http_stats_table(const struct ch_http *h)
{
	return h->stats_table;
}

/* ClickHouse's error text: "Code: N, e.displayText() = DB::Exception: WHY, e.what() = ...". */
static int answer_code(const char *a)
{
	const char *c = strstr(a, "Code: ");

	return c ? atoi(c + 6) : -1;
}

/* The part of the answer worth a line: the exception's text, one line. */
static void quote_answer(const struct ch_http *h, char *msg, size_t msglen)
{
	const char *a = h->answer, *e = strstr(a, "DB::Exception: ");
	size_t n;

	if (e)
		a = e + strlen("DB::Exception: ");
	n = strcspn(a, "\r\n");
	e = strstr(a, ", e.what()");
	if (e && (size_t)(e - a) < n)
		n = (size_t)(e - a);
	if (n > 200)
		n = 200;
	set_err(msg, msglen, "%.*s", (int)n, a);
}

static enum ch_result classify_http(struct ch_http *h, long status, char *msg, size_t msglen)
{
	int code = answer_code(h->answer);

	if (status == 200)
		return CH_OK;
	quote_answer(h, msg, msglen);
	if (code < 0) {
		set_err(msg, msglen, "HTTP %ld without ClickHouse's error text", status);
		return CH_NOT_CLICKHOUSE;
	}
	if (code == CODE_UNKNOWN_USER || code == CODE_WRONG_PASSWORD ||
	    code == CODE_REQUIRED_PASSWORD || code == CODE_IP_NOT_ALLOWED ||
	    code == CODE_AUTH_FAILED)
		return CH_AUTH;
	if (code == CODE_UNKNOWN_TABLE || code == CODE_UNKNOWN_DATABASE)
		return CH_NO_TABLE;
	return CH_SERVER_ERROR;
}

/* libcurl's failure: did anything of the request leave? */
static enum ch_result classify_curl(struct ch_http *h, CURLcode rc, char *msg, size_t msglen)
{
	long sent = 0;

	set_err(msg, msglen, "%s", curl_easy_strerror(rc));
	if (rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_UNSUPPORTED_PROTOCOL) {
		set_err(msg, msglen, "the answer is not HTTP (%s)", curl_easy_strerror(rc));
		return CH_NOT_CLICKHOUSE;
	}
	curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent);
	return sent > 0 ? CH_AMBIGUOUS : CH_NOT_SENT;
}

/*
 * One request: sql in the URL (with settings; NULL: the body is the
 * query), body POSTed (or a GET when NULL).
 */
static enum ch_result request(struct ch_http *h, const char *sql, const char *settings,
			      const char *body, size_t len, long timeout_ms, char *msg,
			      size_t msglen)
{
	char *q = sql ? curl_easy_escape(h->curl, sql, 0) : NULL, *url = NULL;
	long status = 0;
	CURLcode rc;

	if ((sql && !q) || append(&url, h->base) || append(&url, settings) ||
	    (q && (append(&url, "query=") || append(&url, q)))) {
		curl_free(q);
		free(url);
		set_err(msg, msglen, "out of memory");
		return CH_NOT_SENT;
	}
	curl_free(q);
	h->answer_len = 0;
	h->answer[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (body) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	h->stopped = false;
	rc = curl_easy_perform(h->curl);
	free(url);
	if (rc == CURLE_WRITE_ERROR && h->stopped)
		return CH_STOPPED;
	if (rc != CURLE_OK)
		return classify_curl(h, rc, msg, msglen);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	return classify_http(h, status, msg, msglen);
}

enum ch_result ch_http_probe(struct ch_http *h, const char *const *tables, int ntables, char *msg,
			     size_t msglen)
{
	char sql[300];
	enum ch_result r = request(h, "SELECT 1", "", NULL, 0, QUERY_TIMEOUT_MS, msg, msglen);

	if (r != CH_OK)
		return r;
	if (strcmp(h->answer, "1\n")) {
		set_err(msg, msglen, "SELECT 1 answered something else than 1");
		return CH_NOT_CLICKHOUSE;
	}
	for (int i = 0; i < ntables; i++) {
		snprintf(sql, sizeof(sql), "EXISTS TABLE %s", tables[i]);
		r = request(h, sql, "", NULL, 0, QUERY_TIMEOUT_MS, msg, msglen);
		if (r != CH_OK)
			return r;
		if (strcmp(h->answer, "1\n")) {
			set_err(msg, msglen, "table %s does not exist", tables[i]);
			return CH_NO_TABLE;
		}
	}
	return CH_OK;
}

/*
 * gzip of in into *out (grown as needed); false when it cannot be made
 * (the body goes plain then). Level 1: the sink's thread must keep up
 * with the capture; JSON rows shrink about tenfold even so.
 */
static bool ch_gzip(char **out, size_t *cap, const char *in, size_t len, size_t *outlen)
{
	z_stream z = {0};
	size_t need;
	int rc;

	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16 /* gzip */, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	need = deflateBound(&z, len);
	if (need > *cap) {
		char *n = realloc(*out, need);

		if (!n) {
			deflateEnd(&z);
			return false;
		}
		*out = n;
		*cap = need;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)*out;
	z.avail_out = (uInt)*cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END;
}

enum ch_result ch_http_insert(struct ch_http *h, const char *table, const char *columns,
			      const char *body, size_t len, char *msg, size_t msglen)
{
	char *sql = NULL;
	size_t zlen;
	enum ch_result r;
	bool gz = h->gzip_value && !strcmp(h->gzip_value, "1") &&
		  ch_gzip(&h->gz, &h->gz_cap, body, len, &zlen);
	struct curl_slist *hdr = gz ? curl_slist_append(NULL, "Content-Encoding: gzip") : NULL;
	int n = columns ? asprintf(&sql, "INSERT INTO %s (%s) FORMAT RowBinary", table, columns)
			: asprintf(&sql, "INSERT INTO %s FORMAT JSONEachRow", table);

	if (n < 0) {
		curl_slist_free_all(hdr);
		set_err(msg, msglen, "out of memory");
		return CH_NOT_SENT;
	}
	if (hdr && !curl_slist_append(hdr, "Expect:"))
		gz = false;
	if (gz)
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
	r = request(h, sql,
		    columns ? "insert_distributed_sync=1&"
			    : "input_format_skip_unknown_fields=1&insert_distributed_sync=1&",
		    gz ? h->gz : body, gz ? zlen : len, INSERT_TIMEOUT_MS, msg, msglen);
	if (gz)
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_slist_free_all(hdr);
	free(sql);
	if (r == CH_NO_TABLE)
		set_err(msg, msglen, "table %s: %s", table, h->answer[0] ? "does not exist" : "?");
	return r;
}

enum ch_result ch_http_count_batch(struct ch_http *h, const char *table, uint64_t id,
				   uint64_t *count, char *msg, size_t msglen)
{
	char *sql = NULL;
	enum ch_result r;

	if (asprintf(&sql, "SELECT count() FROM %s WHERE batch = %llu", table,
		     (unsigned long long)id) < 0) {
		set_err(msg, msglen, "out of memory");
		return CH_NOT_SENT;
	}
	r = request(h, sql, "", NULL, 0, QUERY_TIMEOUT_MS, msg, msglen);
	free(sql);
	if (r != CH_OK)
		return r;
	if (!isdigit((unsigned char)h->answer[0])) {
		set_err(msg, msglen, "a count answered something else than a number");
		return CH_NOT_CLICKHOUSE;
	}
	*count = strtoull(h->answer, NULL, 10);
	return CH_OK;
}

enum ch_result ch_http_query(struct ch_http *h, const char *sql, long timeout_ms, ch_answer_fn fn,
			     void *ctx, char *msg, size_t msglen)
{
	enum ch_result r;

	h->reader = fn;
	h->reader_ctx = ctx;
	r = request(h, NULL, "", sql, strlen(sql), timeout_ms, msg, msglen);
	h->reader = NULL;
	return r;
}
