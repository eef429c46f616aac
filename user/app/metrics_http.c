// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The --metrics responder: see metrics_http.h. One thread, one poll()
 * over a wake pipe, the listening socket and up to
 * METRICS_HTTP_MAX_CLIENTS non-blocking clients. A client is read until
 * the blank line that ends an HTTP request's headers, answered with one
 * response and "Connection: close" (Prometheus opens a connection per
 * scrape when told to), then drained until it closes; all of that within
 * METRICS_HTTP_DEADLINE_MS of its accept, or it is dropped. The session's
 * thread only ever takes the snapshot's mutex to swap a pointer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/metrics_http.h"
#include "lib/errmsg.h"
#include "lib/numparse.h"

#define LISTEN_BACKLOG 16

enum client_state { C_FREE, C_READING, C_WRITING, C_DRAINING };

struct client {
	enum client_state state;
	int fd;
	uint64_t deadline_ms;
	size_t in_len;
	char in[METRICS_HTTP_REQUEST_MAX];
	char *out; /* the response, whole */
	size_t out_len, out_off;
};

struct metrics_http {
	int listen_fd;
	int wake[2]; /* metrics_http_close writes a byte: the thread ends */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* guards text and text_len */
	char *text;
	size_t text_len;
	int wanted; /* a scrape came (atomic) */
	struct client clients[METRICS_HTTP_MAX_CLIENTS];
};

/* Parsing --metrics. */

static int parse_port(const char *text, const char *p, struct metrics_listen *l, char *err,
		      size_t errlen)
{
	uint64_t port;

	if (!num_parse_uint(p, strlen(p), 65535, &port) || port == 0) {
		set_err(err, errlen, "--metrics: '%s': '%s' is not a port from 1 to 65535", text,
			p);
		return -1;
	}
	if (l->addr.ss_family == AF_INET)
		((struct sockaddr_in *)&l->addr)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&l->addr)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* The address part, host[0..n): "" (loopback), a.b.c.d, or [IPv6] with its brackets. */
static int parse_host(const char *text, const char *host, size_t n, struct metrics_listen *l,
		      char *err, size_t errlen)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;
	char buf[64];
	bool v6 = n >= 2 && host[0] == '[' && host[n - 1] == ']';

	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, v6 ? host + 1 : host, v6 ? n - 2 : n);
	buf[v6 ? n - 2 : n] = '\0';
	if (v6) {
		in6->sin6_family = AF_INET6;
		l->len = sizeof(*in6);
		if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1)
			return 0;
		set_err(err, errlen, "--metrics: '%s': '%s' is not an IPv6 address", text, buf);
		return -1;
	}
	in->sin_family = AF_INET;
	l->len = sizeof(*in);
	if (!n)
		strcpy(buf, "127.0.0.1"); /* :PORT: loopback, never every address by default */
	if (inet_pton(AF_INET, buf, &in->sin_addr) == 1)
		return 0;
bad:
	set_err(err, errlen,
		"--metrics: '%s': '%.*s' is not an IPv4 address (an IPv6 address goes in "
		"brackets: [::1]:9153)",
		text, (int)n, host);
	return -1;
}

int metrics_http_parse(const char *text, struct metrics_listen *l, char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');

	*l = (struct metrics_listen){.text = text};
	if (!colon || (text[0] == '[' && colon[-1] != ']')) {
		set_err(err, errlen,
			"--metrics: '%s' has no port (ADDR:PORT, [IPv6]:PORT or :PORT)", text);
		return -1;
	}
	if (parse_host(text, text, (size_t)(colon - text), l, err, errlen) < 0)
		return -1;
	return parse_port(text, colon + 1, l, err, errlen);
}

/* Opening and closing. */

struct metrics_http *metrics_http_open(const struct metrics_listen *l, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	int one = 1;

	if (!h) {
		set_err(err, errlen, "dnssnoop: --metrics: out of memory");
		return NULL;
	}
	h->wake[0] = h->wake[1] = -1;
	pthread_mutex_init(&h->lock, NULL);
	h->listen_fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0)
		goto fail;
	/* A restart reuses the port at once (connections of the last run in TIME_WAIT). */
	setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(h->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(h->listen_fd, (const struct sockaddr *)&l->addr, l->len) < 0 ||
	    listen(h->listen_fd, LISTEN_BACKLOG) < 0 || pipe2(h->wake, O_NONBLOCK | O_CLOEXEC) < 0)
		goto fail;
	return h;
fail:
	set_err(err, errlen, "dnssnoop: --metrics %s: cannot listen: %s", l->text, strerror(errno));
	metrics_http_close(h);
	return NULL;
}

static void client_drop(struct client *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->state = C_FREE;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->started) {
		/* The pipe is empty and non-blocking: this byte fits. */
		if (write(h->wake[1], "x", 1) != 1)
			pthread_cancel(h->thread);
		pthread_join(h->thread, NULL);
	}
	for (int i = 0; i < METRICS_HTTP_MAX_CLIENTS; i++)
		if (h->clients[i].state != C_FREE)
			client_drop(&h->clients[i]);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	for (int i = 0; i < 2; i++)
		if (h->wake[i] >= 0)
			close(h->wake[i]);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}

/* The snapshot. */

void metrics_http_publish(struct metrics_http *h, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1), *old;

	if (!copy)
		return; /* the last snapshot stays */
	memcpy(copy, text, len);
	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = copy;
	h->text_len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

bool metrics_http_wanted(struct metrics_http *h)
{
	return __atomic_exchange_n(&h->wanted, 0, __ATOMIC_RELAXED) != 0;
}

/* Requests and responses. */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The response of status (with the snapshot when 200), ready to send. */
static void client_respond(struct metrics_http *h, struct client *c, int status)
{
	static const char *const reasons[] = {
		[0] = "OK", [1] = "Bad Request", [2] = "Not Found", [3] = "Method Not Allowed"};
	const char *reason = reasons[status == 200 ? 0 : status == 400 ? 1 : status == 404 ? 2 : 3];
	char head[256];
	size_t body_len, head_len;

	pthread_mutex_lock(&h->lock);
	body_len = status == 200 ? h->text_len : strlen(reason) + 1;
	head_len = (size_t)snprintf(head, sizeof(head),
				    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				    "%sConnection: close\r\n\r\n",
				    status, reason,
				    status == 200 ? "text/plain; version=0.0.4" : "text/plain",
				    body_len, status == 405 ? "Allow: GET\r\n" : "");
	c->out = malloc(head_len + body_len + 1);
	if (c->out) {
		memcpy(c->out, head, head_len);
		if (status == 200 && body_len)
			memcpy(c->out + head_len, h->text, body_len);
		else
			sprintf(c->out + head_len, "%s\n", reason);
		c->out_len = head_len + body_len;
		c->out_off = 0;
	}
	pthread_mutex_unlock(&h->lock);
	c->state = c->out ? C_WRITING : C_FREE;
	if (!c->out)
		close(c->fd);
}

/* Is the method an HTTP token (letters only, as every method in use is)? */
static bool is_method(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return n > 0;
}

/*
 * The status for a request line "METHOD SP TARGET SP HTTP/1.x": 400 if
 * it is not one, 405 for a method but GET, 404 for a path but /metrics
 * (a query string is ignored, as Prometheus may add one).
 */
static int request_status(const char *line, size_t n)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *target;
	size_t mlen, tlen;

	if (!sp1)
		return 400;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - (size_t)(target - line));
	if (!sp2)
		return 400;
	mlen = (size_t)(sp1 - line);
	tlen = (size_t)(sp2 - target);
	if (!is_method(line, mlen) || tlen == 0 || target[0] != '/' ||
	    n - (size_t)(sp2 + 1 - line) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
		return 400;
	if (mlen != 3 || memcmp(line, "GET", 3) != 0)
		return 405;
	if (tlen < 8 || memcmp(target, "/metrics", 8) != 0 || (tlen > 8 && target[8] != '?'))
		return 404;
	return 200;
}

/* The headers are complete: answer. */
static void client_request(struct metrics_http *h, struct client *c)
{
	const char *eol = memchr(c->in, '\n', c->in_len);
	size_t n = (size_t)(eol - c->in);
	int status;

	if (n && c->in[n - 1] == '\r')
		n--;
	status = request_status(c->in, n);
	if (status == 200)
		__atomic_store_n(&h->wanted, 1, __ATOMIC_RELAXED);
	client_respond(h, c, status);
}

/* Have the headers ended (a blank line, CRLF or bare LF)? */
static bool headers_end(const struct client *c)
{
	return memmem(c->in, c->in_len, "\r\n\r\n", 4) || memmem(c->in, c->in_len, "\n\n", 2);
}

static void client_read(struct metrics_http *h, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Closed or failed; a request cut short by its end is malformed. */
		if (n == 0 && c->in_len)
			client_respond(h, c, 400);
		else
			client_drop(c);
		return;
	}
	c->in_len += (size_t)n;
	if (headers_end(c))
		client_request(h, c);
	else if (c->in_len == sizeof(c->in))
		client_respond(h, c, 400); /* too long for a scrape's request */
}

/*
 * Sent whole: our side is shut, and what the client still sends is read
 * and thrown away until it closes, so that closing with unread data
 * (which sends a reset) cannot destroy the response in flight.
 */
static void client_write(struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off < c->out_len)
		return;
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAINING;
}

static void client_drain(struct client *c)
{
	char sink[4096];
	ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		client_drop(c);
}

/* Accept what waits, while there is room. */
static void accept_clients(struct metrics_http *h)
{
	for (int i = 0; i < METRICS_HTTP_MAX_CLIENTS; i++) {
		struct client *c = &h->clients[i];
		int fd;

		if (c->state != C_FREE)
			continue;
		fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: none left; anything else: try at the next event */
		*c = (struct client){.state = C_READING,
				     .fd = fd,
				     .deadline_ms = now_ms() + METRICS_HTTP_DEADLINE_MS};
	}
}

static bool has_room(const struct metrics_http *h)
{
	for (int i = 0; i < METRICS_HTTP_MAX_CLIENTS; i++)
		if (h->clients[i].state == C_FREE)
			return true;
	return false;
}

/* fds: the wake pipe, the listener (only with room), the clients; the poll timeout. */
static int fill_pollfds(struct metrics_http *h, struct pollfd *fds, int *slot, int *timeout)
{
	uint64_t now = now_ms(), first = UINT64_MAX;
	int n = 0;

	fds[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
	fds[n++] = (struct pollfd){.fd = has_room(h) ? h->listen_fd : -1, .events = POLLIN};
	for (int i = 0; i < METRICS_HTTP_MAX_CLIENTS; i++) {
		struct client *c = &h->clients[i];

		if (c->state == C_FREE)
			continue;
		if (c->deadline_ms < first)
			first = c->deadline_ms;
		slot[n] = i;
		fds[n++] = (struct pollfd){.fd = c->fd,
					   .events = c->state == C_WRITING ? POLLOUT : POLLIN};
	}
	*timeout = first == UINT64_MAX ? -1 : first <= now ? 0 : (int)(first - now);
	return n;
}

static void serve_clients(struct metrics_http *h, const struct pollfd *fds, const int *slot, int n)
{
	uint64_t now = now_ms();

	for (int k = 2; k < n; k++) {
		struct client *c = &h->clients[slot[k]];

		if (fds[k].revents && c->state == C_READING)
			client_read(h, c);
		else if (fds[k].revents && c->state == C_WRITING)
			client_write(c);
		else if (fds[k].revents && c->state == C_DRAINING)
			client_drain(c);
		if (c->state != C_FREE && now >= c->deadline_ms)
			client_drop(c); /* silent, slow, or never closing */
	}
}

static void *serve(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd fds[2 + METRICS_HTTP_MAX_CLIENTS];
	int slot[2 + METRICS_HTTP_MAX_CLIENTS];
	int n, timeout;

	for (;;) {
		n = fill_pollfds(h, fds, slot, &timeout);
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break; /* metrics_http_close */
		serve_clients(h, fds, slot, n);
		if (fds[1].revents)
			accept_clients(h);
	}
	return NULL;
}

/* Signals stay with the session's thread, whose poll they must interrupt. */
int metrics_http_start(struct metrics_http *h, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&h->thread, NULL, serve, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (rc) {
		set_err(err, errlen, "dnssnoop: --metrics: cannot start its thread: %s",
			strerror(rc));
		return -1;
	}
	h->started = true;
	return 0;
}
