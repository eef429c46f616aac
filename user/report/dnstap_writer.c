// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dnstap output. See dnstap_writer.h.
 */
#include <errno.h>
#include <fstrm.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture/dnstap.pb-c.h"

#include "capture/framestream.h"
#include "lib/errmsg.h"
#include "lib/json.h"
#include "lib/units.h"
#include "proto/dns.h"
#include "report/dnstap_writer.h"

/* A file's bytes are written in blocks of this size. */
#define FILE_BUF_BYTES (64 * 1024)
/* Messages queued for the socket's I/O thread (a power of 2). */
#define SOCKET_QUEUE 16384

/* A file: libfstrm's writer over a buffered descriptor (ours, opened before any drop). */
struct fd_sink {
	int fd;
	int err; /* first write error, -errno */
	uint8_t buf[FILE_BUF_BYTES];
	size_t len;
};

struct dnstap_writer {
	struct dnstap_writer_config cfg;
	struct fstrm_writer *file; /* a file; else */
	struct fstrm_iothr *iothr; /* a socket */
	struct fstrm_iothr_queue *queue;
	struct fd_sink *sink;
	struct jbuf extra; /* the process, as JSON */
	uint8_t *packed; /* a file's message, packed */
	size_t packed_cap;
	struct dnstap_writer_stats st;
};

/* ---- the file sink ---- */

static int write_all(struct fd_sink *s, const uint8_t *p, size_t n)
{
	while (n && !s->err) {
		ssize_t k = write(s->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			s->err = -errno;
		else
			p += k, n -= (size_t)k;
	}
	return s->err;
}

static int sink_flush(struct fd_sink *s)
{
	int err = write_all(s, s->buf, s->len);

	s->len = 0;
	return err;
}

static fstrm_res sink_write(void *obj, const struct iovec *iov, int iovcnt)
{
	struct fd_sink *s = obj;

	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;

		if (s->len + n > sizeof(s->buf) && sink_flush(s))
			return fstrm_res_failure;
		if (n > sizeof(s->buf)) {
			if (write_all(s, p, n))
				return fstrm_res_failure;
			continue;
		}
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
	return fstrm_res_success;
}

static fstrm_res sink_open(void *obj)
{
	(void)obj;
	return fstrm_res_success;
}

static fstrm_res sink_close(void *obj)
{
	return sink_flush(obj) ? fstrm_res_failure : fstrm_res_success;
}

static struct fstrm_writer_options *writer_options(void)
{
	struct fstrm_writer_options *wopt = fstrm_writer_options_init();

	if (wopt && fstrm_writer_options_add_content_type(wopt, DNSTAP_CONTENT_TYPE,
							  strlen(DNSTAP_CONTENT_TYPE)) !=
			    fstrm_res_success)
		fstrm_writer_options_destroy(&wopt);
	return wopt;
}

static int open_file(struct dnstap_writer *w)
{
	struct fstrm_writer_options *wopt = writer_options();
	struct fstrm_rdwr *rdwr;

	w->sink = calloc(1, sizeof(*w->sink));
	if (!wopt || !w->sink)
		goto fail;
	w->sink->fd = w->cfg.fd;
	rdwr = fstrm_rdwr_init(w->sink);
	if (!rdwr)
		goto fail;
	fstrm_rdwr_set_open(rdwr, sink_open);
	fstrm_rdwr_set_close(rdwr, sink_close);
	fstrm_rdwr_set_write(rdwr, sink_write);
	w->file = fstrm_writer_init(wopt, &rdwr);
	if (!w->file) {
		fstrm_rdwr_destroy(&rdwr);
		goto fail;
	}
	fstrm_writer_options_destroy(&wopt);
	return fstrm_writer_open(w->file) == fstrm_res_success ? 0 : -1;
fail:
	if (wopt)
		fstrm_writer_options_destroy(&wopt);
	return -1;
}

/* ---- the socket ---- */

static int open_socket(struct dnstap_writer *w, const char *path)
{
	struct fstrm_writer_options *wopt = writer_options();
	struct fstrm_unix_writer_options *uopt = fstrm_unix_writer_options_init();
	struct fstrm_iothr_options *iopt = fstrm_iothr_options_init();
	struct fstrm_writer *sock = NULL;

	if (wopt && uopt && iopt) {
		fstrm_unix_writer_options_set_socket_path(uopt, path);
		fstrm_iothr_options_set_input_queue_size(iopt, SOCKET_QUEUE);
		fstrm_iothr_options_set_reopen_interval(iopt, FSTRM_IOTHR_REOPEN_INTERVAL_MIN);
		sock = fstrm_unix_writer_init(uopt, wopt);
	}
	if (sock)
		w->iothr = fstrm_iothr_init(iopt, &sock);
	if (sock && !w->iothr)
		fstrm_writer_destroy(&sock);
	if (w->iothr)
		w->queue = fstrm_iothr_get_input_queue(w->iothr);
	if (wopt)
		fstrm_writer_options_destroy(&wopt);
	if (uopt)
		fstrm_unix_writer_options_destroy(&uopt);
	if (iopt)
		fstrm_iothr_options_destroy(&iopt);
	return w->queue ? 0 : -1;
}

static bool is_socket(const char *target)
{
	return !strncmp(target, DNSTAP_UNIX_PREFIX, strlen(DNSTAP_UNIX_PREFIX));
}

struct dnstap_writer *dnstap_writer_new(const struct dnstap_writer_config *cfg, char *err,
					size_t errlen)
{
	struct dnstap_writer *w = calloc(1, sizeof(*w));
	int rc = -1;

	if (w && !jbuf_init(&w->extra, 256)) {
		w->cfg = *cfg;
		rc = is_socket(cfg->target) ? 0 : open_file(w);
	}
	if (rc == 0)
		return w;
	set_err(err, errlen, "dnssnoop: --dnstap-out %s: cannot open it as a dnstap output",
		cfg->target);
	if (w)
		w->cfg.fd = cfg->fd; /* closed below, whatever happened */
	dnstap_writer_close(w);
	return NULL;
}

int dnstap_writer_start(struct dnstap_writer *w, char *err, size_t errlen)
{
	if (!is_socket(w->cfg.target) ||
	    open_socket(w, w->cfg.target + strlen(DNSTAP_UNIX_PREFIX)) == 0)
		return 0;
	set_err(err, errlen, "dnssnoop: --dnstap-out %s: libfstrm's writer cannot start",
		w->cfg.target);
	return -1;
}

/* ---- one message ---- */

static int type_of(const struct pkt_meta *m, const struct dns_msg *msg)
{
	bool response = dns_is_response(msg);
	bool recursive = msg->flags & DNS_FLAG_RD;
	bool server = m->dir != DNSSNOOP_DIR_UNKNOWN &&
		      response == (m->dir == DNSSNOOP_EGRESS); /* answered by a local socket */
	int query_type;

	if (server)
		query_type = recursive ? DNSTAP__MESSAGE__TYPE__CLIENT_QUERY
				       : DNSTAP__MESSAGE__TYPE__AUTH_QUERY;
	else
		query_type = recursive ? DNSTAP__MESSAGE__TYPE__STUB_QUERY
				       : DNSTAP__MESSAGE__TYPE__RESOLVER_QUERY;
	return response ? query_type + 1 : query_type;
}

/* The logged type back from its name, for messages that came from dnstap. */
static int logged_type(const char *name)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value_by_name(&dnstap__message__type__descriptor, name);

	return v ? v->value : 0;
}

static ProtobufCBinaryData bytes(const void *p, size_t n)
{
	return (ProtobufCBinaryData){.len = n, .data = (uint8_t *)p};
}

static void set_time(Dnstap__Message *dm, bool response, uint64_t ts, uint64_t latency)
{
	if (response) {
		dm->has_response_time_sec = dm->has_response_time_nsec = true;
		dm->response_time_sec = ts / NS_PER_SEC;
		dm->response_time_nsec = (uint32_t)(ts % NS_PER_SEC);
		if (!latency || latency > ts)
			return;
		ts -= latency; /* the query's time, known from the match */
	}
	dm->has_query_time_sec = dm->has_query_time_nsec = true;
	dm->query_time_sec = ts / NS_PER_SEC;
	dm->query_time_nsec = (uint32_t)(ts % NS_PER_SEC);
}

/* Addresses as the protocol has them: the query's initiator, then its responder. */
static void set_endpoints(Dnstap__Message *dm, const struct pkt_meta *m, bool response)
{
	size_t alen = m->family == AF_INET6 ? 16 : 4;
	const uint8_t *client = response ? m->daddr : m->saddr;
	const uint8_t *server = response ? m->saddr : m->daddr;

	dm->has_socket_family = dm->has_socket_protocol = true;
	dm->socket_family = m->family == AF_INET6 ? DNSTAP__SOCKET_FAMILY__INET6
						  : DNSTAP__SOCKET_FAMILY__INET;
	dm->socket_protocol = m->proto == IPPROTO_TCP ? DNSTAP__SOCKET_PROTOCOL__TCP
						      : DNSTAP__SOCKET_PROTOCOL__UDP;
	dm->has_query_address = dm->has_response_address = true;
	dm->query_address = bytes(client, alen);
	dm->response_address = bytes(server, alen);
	dm->has_query_port = dm->has_response_port = true;
	dm->query_port = response ? m->dport : m->sport;
	dm->response_port = response ? m->sport : m->dport;
}

/* The process as one JSON object, or false when it is not known. */
static bool put_extra(struct dnstap_writer *w, const struct pkt_meta *m)
{
	const char *cgroup = NULL;
	struct jbuf *j = &w->extra;

	if (!pkt_has_owner(m))
		return false;
	if (w->cfg.cgroup_path)
		cgroup = w->cfg.cgroup_path(w->cfg.cgroup_ctx, m->owner.cgroup_id);
	jbuf_reset(j);
	jbuf_obj_begin(j);
	JBUF_KV_U64(j, "pid", m->owner.tgid);
	JBUF_KV_U64(j, "tid", m->owner.pid);
	JBUF_KEY(j, "comm");
	jbuf_strn(j, m->owner.comm, strnlen(m->owner.comm, sizeof(m->owner.comm)));
	JBUF_KV_U64(j, "uid", m->owner.uid);
	JBUF_KEY(j, "cgroup");
	if (cgroup)
		jbuf_str(j, cgroup);
	else
		jbuf_null(j);
	jbuf_obj_end(j);
	return !j->failed;
}

static void fill(struct dnstap_writer *w, Dnstap__Dnstap *t, Dnstap__Message *dm,
		 const struct dns_record *rec, const uint8_t *msg, size_t len)
{
	const struct pkt_meta *m = rec->meta;
	bool response = dns_is_response(rec->msg);

	dm->type = m->vantage ? logged_type(m->vantage->type) : 0;
	if (!dm->type)
		dm->type = type_of(m, rec->msg);
	set_endpoints(dm, m, response);
	set_time(dm, response, m->ts_ns, rec->has_latency ? rec->latency_ns : 0);
	if (response) {
		dm->has_response_message = true;
		dm->response_message = bytes(msg, len);
	} else {
		dm->has_query_message = true;
		dm->query_message = bytes(msg, len);
	}
	t->type = DNSTAP__DNSTAP__TYPE__MESSAGE;
	t->message = dm;
	t->has_identity = t->has_version = true;
	t->identity = bytes(w->cfg.identity, strlen(w->cfg.identity));
	t->version = bytes(w->cfg.version, strlen(w->cfg.version));
	if (put_extra(w, m)) {
		t->has_extra = true;
		t->extra = bytes(w->extra.buf, w->extra.len);
	}
}

static void submit(struct dnstap_writer *w, const Dnstap__Dnstap *t, size_t n)
{
	uint8_t *buf = malloc(n);

	if (!buf) {
		w->st.dropped++;
		return;
	}
	dnstap__dnstap__pack(t, buf);
	if (fstrm_iothr_submit(w->iothr, w->queue, buf, n, fstrm_free_wrapper, NULL) ==
	    fstrm_res_success) {
		w->st.written++;
		return;
	}
	free(buf);
	w->st.dropped++;
}

static void write_file(struct dnstap_writer *w, const Dnstap__Dnstap *t, size_t n)
{
	if (n > w->packed_cap) {
		uint8_t *p = realloc(w->packed, n);

		if (!p)
			return;
		w->packed = p;
		w->packed_cap = n;
	}
	dnstap__dnstap__pack(t, w->packed);
	if (fstrm_writer_write(w->file, w->packed, n) == fstrm_res_success)
		w->st.written++;
}

void dnstap_writer_message(struct dnstap_writer *w, const struct dns_record *rec,
			   const uint8_t *msg, size_t len)
{
	Dnstap__Dnstap t = DNSTAP__DNSTAP__INIT;
	Dnstap__Message dm = DNSTAP__MESSAGE__INIT;
	size_t n;

	if (w->sink && w->sink->err)
		return; /* said at the end */
	fill(w, &t, &dm, rec, msg, len);
	n = dnstap__dnstap__get_packed_size(&t);
	if (w->iothr)
		submit(w, &t, n);
	else if (w->file)
		write_file(w, &t, n);
}

void dnstap_writer_get_stats(const struct dnstap_writer *w, struct dnstap_writer_stats *st)
{
	*st = w->st;
}

int dnstap_writer_close(struct dnstap_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->iothr)
		fstrm_iothr_destroy(&w->iothr); /* drains the queue, STOP, FINISH */
	if (w->file) {
		fstrm_writer_close(w->file); /* STOP, then the sink's flush */
		fstrm_writer_destroy(&w->file);
	}
	if (w->sink)
		err = w->sink->err;
	if (w->cfg.fd >= 0)
		close(w->cfg.fd);
	free(w->sink);
	free(w->packed);
	jbuf_free(&w->extra);
	free(w);
	return err;
}
