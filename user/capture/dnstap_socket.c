// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The dnstap collector socket. See dnstap_socket.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "capture/dnstap_socket.h"
#include "capture/framestream.h"
#include "lib/errmsg.h"
#include "lib/units.h"

/* Writers connected at once; more wait in the listen backlog. */
#define MAX_CONNS 64
#define POLL_MS 100
#define READ_BYTES (64 * 1024)

enum conn_state {
	CONN_HELLO, /* nothing yet: READY (bidirectional) or START */
	CONN_READY, /* ACCEPT sent: START next */
	CONN_DATA, /* started: data frames until STOP */
};

struct conn {
	int fd; /* -1: a free slot */
	enum conn_state state;
	struct fs_buf fb;
	uint64_t id; /* the connection's number, for messages */
};

struct dnstap_socket {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn conns[MAX_CONNS];
	int next_conn; /* round robin over the buffered frames */
	struct dnstap_decoder *dec;
	struct dnstap_packet pkt;
	volatile sig_atomic_t *stop;
	uint64_t deadline_ns;
	struct dnstap_socket_stats st;
};

/* A socket file left by an earlier run goes; anything else at path is kept. */
static int clear_path(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		set_err(err, errlen, "dnssnoop: --dnstap-socket %s: exists and is not a socket",
			path);
		return -1;
	}
	return unlink(path);
}

static int bind_listen(struct dnstap_socket *ds)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int rc;

	memcpy(sa.sun_path, ds->path, sizeof(ds->path));
	ds->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ds->listen_fd < 0)
		return -1;
	old = umask(0177); /* 0600: only the owner's servers may connect */
	rc = bind(ds->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(ds->listen_fd, 16) < 0)
		return -1;
	return 0;
}

struct dnstap_socket *dnstap_socket_listen(const char *path, char *err, size_t errlen)
{
	struct dnstap_socket *ds = calloc(1, sizeof(*ds));

	if (!ds || !(ds->dec = dnstap_decoder_new())) {
		set_err(err, errlen, "dnssnoop: --dnstap-socket %s: out of memory", path);
		free(ds);
		return NULL;
	}
	ds->listen_fd = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		ds->conns[i].fd = -1;
	if (strlen(path) >= sizeof(ds->path)) {
		set_err(err, errlen, "dnssnoop: --dnstap-socket %s: longer than a socket path can be",
			path);
		goto fail;
	}
	strcpy(ds->path, path);
	err[0] = '\0';
	if (clear_path(path, err, errlen) < 0 || bind_listen(ds) < 0) {
		if (!err[0])
			set_err(err, errlen, "dnssnoop: --dnstap-socket %s: %s", path,
				strerror(errno));
		ds->path[0] = '\0'; /* not ours to remove */
		goto fail;
	}
	return ds;
fail:
	dnstap_socket_close(ds);
	return NULL;
}

void dnstap_socket_set_end(struct dnstap_socket *ds, volatile sig_atomic_t *stop,
			   uint64_t deadline_ns)
{
	ds->stop = stop;
	ds->deadline_ns = deadline_ns;
}

static void drop_conn(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	fs_buf_free(&c->fb);
}

static void accept_conns(struct dnstap_socket *ds)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &ds->conns[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(ds->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0)
			return; /* none waiting (EAGAIN), or a passing error */
		if (!fs_buf_init(&c->fb, DNSTAP_MAX_FRAME)) {
			close(c->fd);
			c->fd = -1;
			return;
		}
		c->state = CONN_HELLO;
		c->id = ++ds->st.connections;
	}
}

/* A control frame back to the writer (ACCEPT, FINISH): small, sent at once or never. */
static bool send_control(struct conn *c, enum fs_control type, bool with_type)
{
	uint8_t frame[FS_CONTROL_MAX];
	size_t n = fs_control_encode(type, with_type, frame);

	return n && send(c->fd, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n;
}

/* 0: go on; 1: the stream ended well (STOP); -1: err says why it is dropped. */
static int on_control(struct conn *c, const struct fs_frame *f, char *why, size_t len)
{
	bool ours = f->dnstap || f->no_type;

	switch (f->control) {
	case FS_READY:
		if (c->state != CONN_HELLO || !ours)
			break;
		c->state = CONN_READY;
		return send_control(c, FS_ACCEPT, true) ? 0 : -1;
	case FS_START:
		if (c->state == CONN_DATA || !ours)
			break;
		c->state = CONN_DATA;
		return 0;
	case FS_STOP:
		send_control(c, FS_FINISH, false); /* a unidirectional writer does not read it */
		return 1;
	default:
		break;
	}
	set_err(why, len, "%s", ours ? "control frames out of order" : "not dnstap's content type");
	return -1;
}

/* A whole frame of c's, decoded: 1 with a packet, 0 none (yet), -1 c is dropped. */
static int next_frame(struct dnstap_socket *ds, struct conn *c, char *err, size_t errlen)
{
	struct fs_frame f;
	char why[128] = "";
	int rc;

	for (;;) {
		switch (fs_buf_next(&c->fb, &f, why, sizeof(why))) {
		case FS_MORE:
			return 0;
		case FS_DATA:
			if (c->state != CONN_DATA) {
				set_err(why, sizeof(why), "a data frame before START");
				break;
			}
			rc = dnstap_decode(ds->dec, f.data, f.len, &ds->pkt, why, sizeof(why));
			if (rc == 0)
				continue;
			if (rc > 0)
				return 1;
			set_err(err, errlen, "dnssnoop: --dnstap-socket connection %llu: %s",
				(unsigned long long)c->id, why);
			return -1; /* a bad message: reported, the connection kept */
		case FS_CONTROL:
			rc = on_control(c, &f, why, sizeof(why));
			if (rc == 0)
				continue;
			if (rc > 0) {
				drop_conn(c);
				return 0;
			}
			break;
		case FS_BAD:
			break;
		}
		ds->st.refused++;
		set_err(err, errlen, "dnssnoop: --dnstap-socket connection %llu dropped: %s",
			(unsigned long long)c->id, why);
		drop_conn(c);
		return -1;
	}
}

/* What c has sent; false when it closed (or failed) and is dropped. */
static bool read_conn(struct dnstap_socket *ds, struct conn *c, char *err, size_t errlen)
{
	uint8_t *room;
	size_t n = fs_buf_space(&c->fb, READ_BYTES, &room);
	ssize_t got = n ? read(c->fd, room, n) : -1;

	if (got > 0) {
		fs_buf_added(&c->fb, (size_t)got);
		return true;
	}
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (fs_buf_pending(&c->fb) || c->state != CONN_DATA) {
		ds->st.refused++;
		set_err(err, errlen,
			"dnssnoop: --dnstap-socket connection %llu closed %s", (unsigned long long)c->id,
			c->state != CONN_DATA ? "before it started" : "in the middle of a frame");
	}
	drop_conn(c);
	return false;
}

/* A whole frame already buffered on some connection, taking them in turn. */
static int buffered(struct dnstap_socket *ds, char *err, size_t errlen)
{
	for (int k = 0; k < MAX_CONNS; k++) {
		int i = (ds->next_conn + k) % MAX_CONNS;
		struct conn *c = &ds->conns[i];
		int rc;

		if (c->fd < 0)
			continue;
		rc = next_frame(ds, c, err, errlen);
		if (rc != 0) {
			ds->next_conn = (i + 1) % MAX_CONNS;
			return rc;
		}
	}
	return 0;
}

static bool ended(const struct dnstap_socket *ds)
{
	return (ds->stop && *ds->stop) || (ds->deadline_ns && monotonic_ns() >= ds->deadline_ns);
}

/*
 * Wait for a connection or bytes: 0 when some came, DNSTAP_SOCKET_IDLE when
 * none did, -1 with err when a connection closed badly.
 */
static int wait_and_read(struct dnstap_socket *ds, char *err, size_t errlen)
{
	struct pollfd pfd[MAX_CONNS + 1];
	int map[MAX_CONNS + 1], n = 0, rc = 0;

	pfd[n++] = (struct pollfd){.fd = ds->listen_fd, .events = POLLIN};
	for (int i = 0; i < MAX_CONNS; i++) {
		if (ds->conns[i].fd < 0)
			continue;
		map[n] = i;
		pfd[n++] = (struct pollfd){.fd = ds->conns[i].fd, .events = POLLIN};
	}
	if (poll(pfd, (nfds_t)n, POLL_MS) <= 0)
		return DNSTAP_SOCKET_IDLE;
	if (pfd[0].revents)
		accept_conns(ds);
	for (int k = 1; k < n; k++)
		if (pfd[k].revents && !read_conn(ds, &ds->conns[map[k]], err, errlen) && err[0])
			rc = -1;
	return rc;
}

int dnstap_socket_next(struct dnstap_socket *ds, const struct dnstap_packet **pkt, char *err,
		       size_t errlen)
{
	int rc;

	for (;;) {
		err[0] = '\0';
		rc = buffered(ds, err, errlen);
		if (rc == 1)
			*pkt = &ds->pkt;
		if (rc != 0)
			return rc;
		if (ended(ds))
			return 0;
		rc = wait_and_read(ds, err, errlen);
		if (rc != 0)
			return rc;
	}
}

void dnstap_socket_get_stats(const struct dnstap_socket *ds, struct dnstap_socket_stats *st)
{
	*st = ds->st;
	dnstap_decoder_stats(ds->dec, &st->msgs);
}

void dnstap_socket_close(struct dnstap_socket *ds)
{
	if (!ds)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (ds->conns[i].fd >= 0)
			drop_conn(&ds->conns[i]);
	if (ds->listen_fd >= 0)
		close(ds->listen_fd);
	if (ds->path[0])
		unlink(ds->path);
	dnstap_decoder_free(ds->dec);
	free(ds);
}
