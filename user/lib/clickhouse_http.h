/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ClickHouse's HTTP interface, as the --clickhouse sink and the
 * --from-clickhouse history use it (libcurl): the URL taken apart
 * (credentials out of it, the password never shown), the server's name
 * resolved once, at open (a live session resolves nothing after its
 * privilege drop), and four requests: a probe (SELECT 1 and EXISTS TABLE),
 * an INSERT (RowBinary or JSONEachRow rows), the count of one batch's
 * rows, and a query whose answer is streamed, each on a connection of its
 * own. Every answer is put in one of a few classes, so that the sink
 * knows whether to retry, whether an insert may have happened, and what
 * to tell the user. Not thread-safe (one thread at a time).
 */
#ifndef DNSSNOOP_CLICKHOUSE_HTTP_H
#define DNSSNOOP_CLICKHOUSE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Environment variables for the credentials the URL does not carry. */
#define CH_USER_ENV	"DNSSNOOP_CLICKHOUSE_USER"
#define CH_PASSWORD_ENV "DNSSNOOP_CLICKHOUSE_PASSWORD"

/* URL query parameters of ours (not ClickHouse's): the tables' names. */
#define CH_TABLE_PARAM	     "table"
#define CH_STATS_TABLE_PARAM "stats_table"
/*
 * gzip=1: insert bodies compressed (Content-Encoding: gzip). Off by
 * default: on loopback or a LAN it costs both ends more CPU than the
 * bytes it saves (docs/benchmarks.md).
 */
#define CH_GZIP_PARAM	 "gzip"
#define CH_DEFAULT_TABLE "messages"
#define CH_DEFAULT_STATS "stats"

enum ch_result {
	CH_OK,
	CH_NOT_SENT, /* no connection: nothing reached the server */
	CH_AMBIGUOUS, /* the request went out, no answer came: it may have taken effect */
	CH_AUTH, /* the server refused the user or password */
	CH_NO_TABLE, /* the table (or its database) does not exist */
	CH_SERVER_ERROR, /* ClickHouse said why it refused (its "Code: N" text) */
	CH_NOT_CLICKHOUSE, /* something answered, but not as ClickHouse does */
	CH_STOPPED, /* a query's reader took less than it was given: it stopped the answer */
};

struct ch_http;

/*
 * Parse url (http://[user[:password]@]host[:port]/[?param=value&...]),
 * take user and password from it (userinfo, or user=/password=
 * parameters) or from the environment, and table=, stats_table= and
 * gzip= out of it; resolve the host. NULL with err set; *usage true when the URL
 * itself is wrong (not an http URL, no host), false when it names a host
 * that does not resolve.
 */
struct ch_http *ch_http_open(const char *url, bool *usage, char *err, size_t errlen);
void ch_http_close(struct ch_http *h);

/* The URL as the user gave it, with the password (if any) as ***. */
const char *ch_http_shown_url(const struct ch_http *h);
/* table=, stats_table= or their defaults. */
const char *ch_http_table(const struct ch_http *h);
const char *ch_http_stats_table(const struct ch_http *h);

/*
 * The probe: SELECT 1, then EXISTS TABLE for each of tables. msg says
 * what is wrong otherwise (one line, naming the table).
 */
enum ch_result ch_http_probe(struct ch_http *h, const char *const *tables, int ntables, char *msg,
			     size_t msglen);

/*
 * Insert body into table, synchronously through a Distributed table (so
 * that a count right after the answer sees every row). columns NULL: body
 * is JSONEachRow lines, unknown fields skipped; else RowBinary rows of
 * these columns ("a, b, c"; the table's others get their defaults).
 */
enum ch_result ch_http_insert(struct ch_http *h, const char *table, const char *columns,
			      const char *body, size_t len, char *msg, size_t msglen);

/* SELECT count() FROM table WHERE batch = id, into *count. */
enum ch_result ch_http_count_batch(struct ch_http *h, const char *table, uint64_t id,
				   uint64_t *count, char *msg, size_t msglen);

/* Takes a part of a query's answer; returns len, or less to stop it. */
typedef size_t (*ch_answer_fn)(char *data, size_t len, void *ctx);

/*
 * POST sql (with its FORMAT) and give the answer to fn as it arrives, when
 * the server says 200; an error answer is classified as the others are.
 * The URL's database= is the query's current database.
 */
enum ch_result ch_http_query(struct ch_http *h, const char *sql, long timeout_ms, ch_answer_fn fn,
			     void *ctx, char *msg, size_t msglen);

/* What a result means, in a few words ("authentication failed", ...). */
const char *ch_result_text(enum ch_result r);

#endif
