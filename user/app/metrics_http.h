/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --metrics ADDR:PORT: a tiny HTTP/1.x responder for Prometheus, on a
 * thread of its own, so that a scrape, or a client that never finishes
 * its request, never holds up the capture. It serves GET /metrics with
 * the latest text the session published (report/metrics.h renders it);
 * the session publishes a new one about once a second, sooner after a
 * scrape asked (metrics_http_wanted).
 *
 * The listening socket is made by metrics_http_open(), before the
 * privilege drop (it may be a port below 1024); the thread is started by
 * metrics_http_start() after it, so that it runs with what the drop left
 * (capabilities are per thread) under the same seccomp filter
 * (privdrop_config.serve_sockets allows what it needs).
 */
#ifndef DNSSNOOP_METRICS_HTTP_H
#define DNSSNOOP_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Concurrent clients; more wait in the listen backlog. */
#define METRICS_HTTP_MAX_CLIENTS 8
/* Bytes of request line and headers read; a longer request gets 400. */
#define METRICS_HTTP_REQUEST_MAX 4096
/* A client's whole exchange must end within this; then it is dropped. */
#define METRICS_HTTP_DEADLINE_MS 2000

/* A parsed --metrics value. */
struct metrics_listen {
	struct sockaddr_storage addr;
	socklen_t len;
	const char *text; /* as given, for messages */
};

/*
 * ADDR:PORT (IPv4), [IPv6]:PORT, or :PORT (127.0.0.1). Returns 0, or -1
 * with err saying what is wrong with text.
 */
int metrics_http_parse(const char *text, struct metrics_listen *l, char *err, size_t errlen);

struct metrics_http;

/* Bind and listen (a port in use fails here, said in err). NULL on failure. */
struct metrics_http *metrics_http_open(const struct metrics_listen *l, char *err, size_t errlen);
/* Start serving on the thread. Returns 0, or -1 with err. */
int metrics_http_start(struct metrics_http *h, char *err, size_t errlen);
/* The text scrapes get from now on (copied). */
void metrics_http_publish(struct metrics_http *h, const char *text, size_t len);
/* Did a scrape come since the last call? */
bool metrics_http_wanted(struct metrics_http *h);
/* Stop the thread (clients being served are dropped), join it, close everything. NULL: nothing. */
void metrics_http_close(struct metrics_http *h);

#endif
