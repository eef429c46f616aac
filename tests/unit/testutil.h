/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the unit tests: hex fixtures, packet metadata, and an
 * output "sink" (a temp file) whose JSON lines are read back and checked by
 * Python's json module. Include after <cmocka.h>.
 */
#ifndef DNSSNOOP_TESTUTIL_H
#define DNSSNOOP_TESTUTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "report/output.h"
#include "lib/packet.h"

/*
 * Files this process writes cannot grow past max bytes: a write across it
 * is short, the next fails with EFBIG, as on a full disk. Returns the
 * limit to put back with setrlimit(RLIMIT_FSIZE, ...).
 */
static inline struct rlimit limit_file_size(rlim_t max)
{
	struct rlimit old, lim;

	signal(SIGXFSZ, SIG_IGN); /* else the signal ends the process */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	return old;
}

struct wire {
	uint8_t buf[512];
	size_t len;
};

static inline struct wire from_hex(const char *hex)
{
	struct wire w = {.len = 0};

	for (const char *p = hex; *p;) {
		unsigned int byte;

		if (*p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(sscanf(p, "%2x", &byte), 1);
		assert_true(w.len < sizeof(w.buf));
		w.buf[w.len++] = (uint8_t)byte;
		p += 2;
	}
	return w;
}

/* An IPv4 packet src:sport -> dst:dport over proto; every other field is 0. */
static inline struct pkt_meta meta_ip4(uint8_t proto, uint8_t dir, const char *src, uint16_t sport,
				       const char *dst, uint16_t dport)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.dir = dir;
	m.family = AF_INET;
	m.proto = proto;
	m.sport = sport;
	m.dport = dport;
	assert_int_equal(inet_pton(AF_INET, src, m.saddr), 1);
	assert_int_equal(inet_pton(AF_INET, dst, m.daddr), 1);
	return m;
}

/* A UDP packet as a live capture stamps it: a socket cookie and an interface. */
static inline struct pkt_meta meta_v4(uint64_t ts_ns, uint8_t dir, const char *src, uint16_t sport,
				      const char *dst, uint16_t dport, uint32_t orig_len)
{
	struct pkt_meta m = meta_ip4(IPPROTO_UDP, dir, src, sport, dst, dport);

	m.ts_ns = ts_ns;
	m.cookie = 8193;
	m.ifindex = 2;
	m.orig_len = orig_len;
	return m;
}

struct sink {
	char path[64];
	int fd;
	struct output *out;
};

/* Opens a temp file and an output writing to it; cfg->fd is filled in. */
static inline void sink_open_cfg(struct sink *s, struct output_config cfg)
{
	strcpy(s->path, "/tmp/dnssnoop_test_XXXXXX");
	s->fd = mkstemp(s->path);
	assert_true(s->fd >= 0);
	cfg.fd = s->fd;
	s->out = output_new(&cfg);
	assert_non_null(s->out);
}

static inline char *sink_read(struct sink *s, size_t *len)
{
	static char data[1 << 20];
	ssize_t n = pread(s->fd, data, sizeof(data) - 1, 0);

	assert_true(n >= 0);
	data[n] = '\0';
	*len = (size_t)n;
	return data;
}

static inline void sink_close(struct sink *s)
{
	output_free(s->out);
	close(s->fd);
	unlink(s->path);
}

/*
 * Runs a Python body with `recs` = every line parsed by json.loads; the
 * file must be strict UTF-8 and end in a newline. Non-zero exit fails.
 */
static inline void check_py(struct sink *s, const char *body)
{
	static const char prelude[] =
		"import json, sys, ipaddress, datetime\n"
		"data = open(sys.argv[1], 'rb').read()\n"
		"assert data.endswith(b'\\n'), 'output does not end in a newline'\n"
		"text = data.decode('utf-8')\n"
		"recs = [json.loads(l) for l in text.split('\\n')[:-1]]\n"
		"def eq(a, b):\n"
		"    assert a == b, (a, b)\n";
	char script[] = "/tmp/dnssnoop_test_py_XXXXXX";
	char cmd[256];
	int fd, rc;
	FILE *f;

	assert_int_equal(output_flush(s->out), 0);
	fd = mkstemp(script);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(prelude, f);
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 %s %s", script, s->path);
	rc = system(cmd);
	unlink(script);
	assert_int_equal(rc, 0);
}

struct fixture {
	uint8_t buf[4096];
	size_t len;
};

/* A message from tests/fixtures/dns (run from the top of the tree). */
static inline struct fixture load_fixture(const char *name)
{
	struct fixture f = {.len = 0};
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "tests/fixtures/dns/%s.bin", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	f.len = fread(f.buf, 1, sizeof(f.buf), fp);
	fclose(fp);
	assert_true(f.len >= 12);
	return f;
}

#endif
