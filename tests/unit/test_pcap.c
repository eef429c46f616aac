// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The offline source (capture_pcap) and the pcap writer (pcap_writer):
 * packets written by the writer read back by the source with the same
 * metadata and bytes; the writer's headers checked byte by byte (lengths,
 * checksums, flags, nanosecond magic); files of several link types made
 * with libpcap; damaged files (wrong magic, truncated last record);
 * snap-length cuts; BPF filters; fragments; the stop flag; write errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include "capture/capture_pcap.h"
#include "report/pcap_writer.h"
#include "testutil.h"

#define SEC 1000000000ULL
#define T0  (1767225600ULL * SEC)

static const uint16_t port53[] = {53};

struct got {
	int n;
	struct pkt_meta meta[16];
	uint8_t payload[16][2048];
	size_t caplen[16];
	volatile sig_atomic_t *stop; /* set after stop_after packets */
	int stop_after;
};

static void collect(void *ctx, const struct pkt_meta *meta, const uint8_t *payload, size_t caplen)
{
	struct got *g = ctx;

	assert_true(g->n < 16);
	assert_true(caplen <= sizeof(g->payload[0]));
	g->meta[g->n] = *meta;
	memcpy(g->payload[g->n], payload, caplen);
	g->caplen[g->n] = caplen;
	g->n++;
	if (g->stop && g->n == g->stop_after)
		*g->stop = 1;
}

static void temp_path(char *path, const char *name)
{
	snprintf(path, 128, "/tmp/dnssnoop_test_pcap_%d_%s", (int)getpid(), name);
}

/* Read path with the given filter; returns pcap_source_run's result. */
static int read_file(const char *path, const char *filter, struct got *g,
		     struct pcap_source_stats *st, char *err)
{
	struct pcap_source *ps = pcap_source_open(path, filter, port53, 1, err, 512);
	int rc;

	assert_non_null(ps);
	rc = pcap_source_run(ps, collect, g, g->stop, err, 512);
	pcap_source_get_stats(ps, st);
	pcap_source_close(ps);
	return rc;
}

static struct pkt_meta meta6(uint64_t ts, const char *src, uint16_t sport, const char *dst,
			     uint16_t dport, uint8_t proto, uint32_t orig_len)
{
	struct pkt_meta m;

	memset(&m, 0, sizeof(m));
	m.ts_ns = ts;
	m.family = AF_INET6;
	m.proto = proto;
	m.sport = sport;
	m.dport = dport;
	m.orig_len = orig_len;
	assert_int_equal(inet_pton(AF_INET6, src, m.saddr), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, m.daddr), 1);
	return m;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* Sum over pseudo-header and segment: a correct checksum folds to 0xffff. */
static uint16_t l4_sum(int family, const uint8_t *ip, const uint8_t *l4, size_t len, int proto)
{
	uint32_t sum = 0;
	size_t alen = family == AF_INET ? 4 : 16;
	const uint8_t *src = ip + (family == AF_INET ? 12 : 8);

	for (size_t i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]);
	sum += proto + (uint32_t)len;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | (i + 1 < len ? l4[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The Linux cooked v2 header: protocol, interface, packet type (4 = outgoing). */
static void check_sll2(const u_char *d, uint16_t proto, uint32_t ifindex, uint8_t pkttype)
{
	assert_int_equal(d[0] << 8 | d[1], proto);
	assert_int_equal((uint32_t)d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7], ifindex);
	assert_int_equal(d[10], pkttype);
}

static void test_writer_round_trip(void **state)
{
	char path[128], err[512] = "";
	uint8_t big[1500];
	struct pkt_meta m[5];
	struct pcap_writer *w;
	struct pcap_source_stats st;
	struct got *g = calloc(1, sizeof(*g));

	fill(big, sizeof(big), 7);
	temp_path(path, "rt.pcap");
	m[0] = meta_v4(T0 + 123456789, DNSSNOOP_EGRESS, "10.1.0.5", 40000, "10.0.0.1", 53, 40);
	m[1] = meta6(T0 + 123556790, "fd00::53", 53, "fd00::5", 40000, IPPROTO_UDP, 1200);
	m[2] = meta_v4(T0 + 2 * SEC + 1, DNSSNOOP_INGRESS, "10.1.0.5", 40001, "10.0.0.1", 53, 0);
	m[2].proto = IPPROTO_TCP;
	m[2].tcp_seq = 0xfffffff0;
	m[2].tcp_flags = DNSSNOOP_TCP_SYN;
	m[3] = meta6(T0 + 3 * SEC, "fd00::5", 40002, "fd00::53", 53, IPPROTO_TCP, 60);
	m[3].tcp_seq = 77;
	m[3].tcp_flags = 0x18;
	/* Captured 100 bytes of a 1400-byte message (snap length). */
	m[4] = meta_v4(T0 + 4 * SEC, DNSSNOOP_INGRESS, "10.0.0.1", 53, "10.1.0.5", 40000, 1400);

	w = pcap_writer_open(path, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(pcap_writer_write(w, &m[0], big, 40), 0);
	assert_int_equal(pcap_writer_write(w, &m[1], big, 1200), 0);
	assert_int_equal(pcap_writer_write(w, &m[2], NULL, 0), 0);
	assert_int_equal(pcap_writer_write(w, &m[3], big + 5, 60), 0);
	assert_int_equal(pcap_writer_write(w, &m[4], big + 9, 100), 0);
	assert_int_equal(pcap_writer_close(w), 0);

	assert_int_equal(read_file(path, NULL, g, &st, err), 0);
	assert_int_equal(g->n, 5);
	assert_int_equal(st.packets, 5);
	assert_int_equal(st.dns_packets, 5);
	assert_int_equal(st.truncated, 1);
	for (int i = 0; i < 5; i++) {
		const struct pkt_meta *r = &g->meta[i];

		assert_int_equal(r->ts_ns, m[i].ts_ns); /* to the nanosecond */
		assert_int_equal(r->family, m[i].family);
		assert_int_equal(r->proto, m[i].proto);
		assert_memory_equal(r->saddr, m[i].saddr, 16);
		assert_memory_equal(r->daddr, m[i].daddr, 16);
		assert_int_equal(r->sport, m[i].sport);
		assert_int_equal(r->dport, m[i].dport);
		assert_int_equal(r->orig_len, m[i].orig_len);
		/* Linux cooked v2 keeps the direction and the interface. */
		assert_int_equal(r->dir, m[i].dir);
		assert_int_equal(r->ifindex, m[i].ifindex);
		assert_int_equal(r->cookie, 0);
		assert_int_equal(r->owner.tgid, 0);
	}
	assert_int_equal(g->caplen[0], 40);
	assert_memory_equal(g->payload[0], big, 40);
	assert_int_equal(g->caplen[1], 1200);
	assert_memory_equal(g->payload[1], big, 1200);
	assert_int_equal(g->meta[2].tcp_seq, 0xfffffff0);
	assert_int_equal(g->meta[2].tcp_flags & 0x3f, DNSSNOOP_TCP_SYN); /* no ACK on a bare SYN */
	assert_int_equal(g->caplen[2], 0);
	assert_int_equal(g->meta[3].tcp_seq, 77);
	assert_int_equal(g->meta[3].tcp_flags & 0x3f, 0x18); /* PSH|ACK */
	assert_memory_equal(g->payload[3], big + 5, 60);
	assert_int_equal(g->caplen[4], 100);
	assert_int_equal(g->meta[4].orig_len, 1400);
	assert_memory_equal(g->payload[4], big + 9, 100);
	unlink(path);
	free(g);
}

/* The bytes the writer puts in the file, read back with plain libpcap. */
static void test_writer_headers(void **state)
{
	char path[128], err[512] = "", ebuf[PCAP_ERRBUF_SIZE];
	uint8_t payload[33];
	struct pkt_meta u4, t6;
	struct pcap_writer *w;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;
	FILE *f;
	uint32_t magic;

	fill(payload, sizeof(payload), 1);
	temp_path(path, "hdr.pcap");
	u4 = meta_v4(T0 + 999999999, DNSSNOOP_EGRESS, "192.0.2.1", 1234, "192.0.2.53", 53, 33);
	t6 = meta6(T0 + 5, "2001:db8::1", 5000, "2001:db8::53", 53, IPPROTO_TCP, 33);
	t6.tcp_seq = 0x11223344;
	t6.tcp_flags = DNSSNOOP_TCP_FIN | 0x10;
	w = pcap_writer_open(path, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(pcap_writer_write(w, &u4, payload, 33), 0);
	assert_int_equal(pcap_writer_write(w, &t6, payload, 20), 0); /* 20 of 33 captured */
	assert_int_equal(pcap_writer_close(w), 0);

	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(&magic, 4, 1, f), 1);
	fclose(f);
	assert_int_equal(magic, 0xa1b23c4d); /* nanosecond pcap */

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_LINUX_SLL2);
	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	assert_int_equal(h->ts.tv_sec, 1767225600);
	assert_int_equal(h->ts.tv_usec, 999999999);
	assert_int_equal(h->caplen, 20 + 20 + 8 + 33);
	assert_int_equal(h->len, 20 + 61);
	check_sll2(d, 0x0800, 2, 4); /* IPv4, interface 2, outgoing (egress) */
	d += 20;
	assert_int_equal(d[0], 0x45);
	assert_int_equal(d[2] << 8 | d[3], 61); /* total length */
	assert_int_equal(d[9], IPPROTO_UDP);
	{
		uint32_t sum = 0;

		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(d[i] << 8 | d[i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		assert_int_equal(sum, 0xffff); /* IPv4 header checksum */
	}
	assert_int_equal(d[20] << 8 | d[21], 1234);
	assert_int_equal(d[24] << 8 | d[25], 41); /* UDP length */
	assert_int_not_equal(d[26] << 8 | d[27], 0);
	assert_int_equal(l4_sum(AF_INET, d, d + 20, 41, IPPROTO_UDP), 0xffff);
	assert_memory_equal(d + 28, payload, 33);

	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	assert_int_equal(h->ts.tv_usec, 5);
	assert_int_equal(h->caplen, 20 + 40 + 20 + 20);
	assert_int_equal(h->len, 20 + 40 + 20 + 33);
	check_sll2(d, 0x86dd, 0, 4);
	d += 20;
	assert_int_equal(d[0] >> 4, 6);
	assert_int_equal(d[4] << 8 | d[5], 53); /* payload length */
	assert_int_equal(d[6], IPPROTO_TCP);
	assert_int_equal(d[40 + 4] << 24 | d[41 + 4] << 16 | d[42 + 4] << 8 | d[43 + 4],
			 0x11223344);
	assert_int_equal(d[40 + 12], 0x50); /* data offset 5 */
	assert_int_equal(d[40 + 13], 0x19); /* FIN, PSH, ACK */
	assert_int_equal(d[40 + 16] << 8 | d[40 + 17], 0); /* not all captured: no checksum */
	assert_int_equal(pcap_next_ex(p, &h, &d), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
}

static void test_writer_errors(void **state)
{
	char err[512] = "";
	struct pkt_meta m = meta_v4(T0, 0, "10.0.0.1", 53, "10.0.0.2", 5000, 10);
	struct pcap_writer *w;
	uint8_t payload[10] = {0};

	assert_null(pcap_writer_open("/nonexistent-dir/x.pcap", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));

	/* /dev/full takes the open, then fails every write with ENOSPC. */
	w = pcap_writer_open("/dev/full", err, sizeof(err));
	assert_non_null(w);
	m.family = 99;
	assert_int_equal(pcap_writer_write(w, &m, payload, 10), -EINVAL);
	m.family = AF_INET;
	for (int i = 0; i < 10000; i++)
		if (pcap_writer_write(w, &m, payload, 10) < 0)
			break;
	assert_int_equal(pcap_writer_close(w), -ENOSPC);
}

/*
 * A file that fills up (RLIMIT_FSIZE) in the middle of a record: the error
 * is reported, and the file is cut back to its last whole record, which
 * reads back without error.
 */
static void test_writer_cut_back(void **state)
{
	/* pcap record header, cooked v2, IPv4, UDP, payload; the file header */
	enum { LIMIT = 2000, CAP = 100, REC = 16 + 20 + 20 + 8 + CAP, HDR = 24 };
	char path[128], err[512] = "";
	struct pkt_meta m = meta_v4(T0, DNSSNOOP_EGRESS, "10.0.0.1", 5000, "10.0.0.2", 53, CAP);
	struct pcap_source_stats st;
	struct got *g = calloc(1, sizeof(*g));
	struct pcap_writer *w;
	uint8_t payload[CAP];
	struct rlimit old;
	struct stat sb;
	int rc = 0, again, closed, i;

	fill(payload, sizeof(payload), 3);
	temp_path(path, "cut.pcap");
	w = pcap_writer_open(path, err, sizeof(err));
	assert_non_null(w);
	old = limit_file_size(LIMIT);
	for (i = 0; i < 1000 && !rc; i++)
		rc = pcap_writer_write(w, &m, payload, CAP);
	again = pcap_writer_write(w, &m, payload, CAP);
	closed = pcap_writer_close(w);
	setrlimit(RLIMIT_FSIZE, &old); /* before any assertion can end the test */
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(again, -EFBIG);
	assert_int_equal(closed, -EFBIG);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, HDR + (LIMIT - HDR) / REC * REC);
	assert_int_equal(read_file(path, NULL, g, &st, err), 0);
	assert_int_equal(g->n, (LIMIT - HDR) / REC);
	unlink(path);
	free(g);
}

/* A one-packet file of link type dlt holding frame. */
static void write_frames(const char *path, int dlt, int snaplen, const uint8_t *const *frames,
			 const size_t *lens, const size_t *caps, int n)
{
	pcap_t *p = pcap_open_dead(dlt, snaplen);
	pcap_dumper_t *d;

	assert_non_null(p);
	d = pcap_dump_open(p, path);
	assert_non_null(d);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = {.ts = {.tv_sec = 1767225600 + i, .tv_usec = 250000},
					.caplen = (bpf_u_int32)caps[i],
					.len = (bpf_u_int32)lens[i]};

		pcap_dump((u_char *)d, &h, frames[i]);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

/* 10.1.0.5:40000 -> 10.0.0.1:53, 12 bytes of DNS, as a raw IPv4 packet. */
// clang-format off
static const uint8_t ipv4_dns[] = {
	0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 1, 0, 5, 10, 0, 0, 1, /* IPv4 */
	0x9c, 0x40, 0, 53, 0, 20, 0, 0, /* UDP 40000 -> 53, length 20 */
	0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, /* DNS header */
};
// clang-format on

static void test_link_types(void **state)
{
	static const struct {
		int dlt;
		uint8_t hdr[24];
		size_t hlen;
	} links[] = {
		{DLT_EN10MB, {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0, 0, 100, 0x08, 0}, 18},
		{DLT_LINUX_SLL, {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0}, 16},
		{276, {0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0}, 20},
		{DLT_RAW, {0}, 0},
		{228, {0}, 0}, /* LINKTYPE_IPV4 */
		{DLT_NULL, {2, 0, 0, 0}, 4},
		{DLT_LOOP, {0, 0, 0, 2}, 4},
	};
	char path[128], err[512];

	temp_path(path, "link.pcap");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		uint8_t frame[128];
		const uint8_t *frames[] = {frame};
		size_t len = links[i].hlen + sizeof(ipv4_dns);
		struct pcap_source_stats st;
		struct got g = {0};

		memcpy(frame, links[i].hdr, links[i].hlen);
		memcpy(frame + links[i].hlen, ipv4_dns, sizeof(ipv4_dns));
		write_frames(path, links[i].dlt, 65535, frames, &len, &len, 1);
		assert_int_equal(read_file(path, NULL, &g, &st, err), 0);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.meta[0].ts_ns, T0 + 250000000); /* µs file, ns meta */
		assert_int_equal(g.meta[0].sport, 40000);
		assert_int_equal(g.meta[0].orig_len, 12);
		assert_int_equal(g.caplen[0], 12);
		assert_int_equal(g.payload[0][0], 0xab);
	}
	/* A link type we do not take apart is refused at open, by name. */
	{
		uint8_t frame[64] = {0};
		const uint8_t *frames[] = {frame};
		size_t len = sizeof(frame);

		write_frames(path, DLT_IEEE802_11, 65535, frames, &len, &len, 1);
		assert_null(pcap_source_open(path, NULL, port53, 1, err, sizeof(err)));
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "IEEE802_11"));
	}
	unlink(path);
}

static void test_wrong_magic(void **state)
{
	char path[128], err[512] = "";
	FILE *f;

	temp_path(path, "magic.pcap");
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("this is not a capture file, just some text long enough", f);
	fclose(f);
	assert_null(pcap_source_open(path, NULL, port53, 1, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a pcap or pcapng file"));
	unlink(path);
	assert_null(pcap_source_open(path, NULL, port53, 1, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
}

static void test_truncated_last_record(void **state)
{
	const uint8_t *frames[] = {ipv4_dns, ipv4_dns, ipv4_dns};
	size_t lens[] = {sizeof(ipv4_dns), sizeof(ipv4_dns), sizeof(ipv4_dns)};
	char path[128], err[512] = "";
	struct pcap_source_stats st;
	struct got g = {0};
	struct stat sb;

	temp_path(path, "cut.pcap");
	write_frames(path, DLT_RAW, 65535, frames, lens, lens, 3);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 24 + 3 * (16 + 40));
	assert_int_equal(truncate(path, sb.st_size - 10), 0);
	assert_int_equal(read_file(path, NULL, &g, &st, err), -1);
	assert_int_equal(g.n, 2); /* everything before the damage */
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "packet 3"));
	/* Cut inside the third record's header. */
	assert_int_equal(truncate(path, 24 + 2 * 56 + 5), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(read_file(path, NULL, &g, &st, err), -1);
	assert_int_equal(g.n, 2);
	assert_non_null(strstr(err, "packet 3"));
	/* Cut exactly between records: a clean end. */
	assert_int_equal(truncate(path, 24 + 2 * 56), 0);
	memset(&g, 0, sizeof(g));
	assert_int_equal(read_file(path, NULL, &g, &st, err), 0);
	assert_int_equal(g.n, 2);
	unlink(path);
}

static void test_snaplen_shorter_than_packet(void **state)
{
	const uint8_t *frames[] = {ipv4_dns, ipv4_dns};
	size_t lens[] = {sizeof(ipv4_dns), sizeof(ipv4_dns)};
	size_t caps[] = {33, 20}; /* 5 payload bytes; only the IP header */
	char path[128], err[512];
	struct pcap_source_stats st;
	struct got g = {0};

	temp_path(path, "snap.pcap");
	write_frames(path, DLT_RAW, 33, frames, lens, caps, 2);
	assert_int_equal(read_file(path, NULL, &g, &st, err), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.caplen[0], 5);
	assert_int_equal(g.meta[0].orig_len, 12);
	assert_int_equal(st.truncated, 2);
	assert_int_equal(st.skipped, 1); /* the UDP header was not captured */
	unlink(path);
}

static void test_filter(void **state)
{
	uint8_t other[sizeof(ipv4_dns)], arp[42] = {0};
	const uint8_t *frames[] = {ipv4_dns, other, ipv4_dns};
	size_t lens[] = {sizeof(ipv4_dns), sizeof(other), sizeof(ipv4_dns)};
	char path[128], err[512] = "";
	struct pcap_source_stats st;
	struct got g = {0};

	memcpy(other, ipv4_dns, sizeof(other));
	other[19] = 2; /* to 10.0.0.2 */
	temp_path(path, "filter.pcap");
	write_frames(path, DLT_RAW, 65535, frames, lens, lens, 3);
	assert_int_equal(read_file(path, "host 10.0.0.2", &g, &st, err), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.meta[0].daddr[3], 2);
	assert_int_equal(st.packets, 1); /* the filter runs before us */
	memset(&g, 0, sizeof(g));
	assert_int_equal(read_file(path, "udp and not host 10.0.0.2", &g, &st, err), 0);
	assert_int_equal(g.n, 2);

	assert_null(
		pcap_source_open(path, "host 10.0.0.2 andd port 53", port53, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "'host 10.0.0.2 andd port 53'"));
	assert_non_null(strstr(err, "filter"));
	(void)arp;
	unlink(path);
}

static void test_ports_and_counters(void **state)
{
	static const uint16_t ports[] = {5353, 40000};
	uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
	uint8_t eth[14 + sizeof(ipv4_dns)] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0};
	uint8_t bad[14 + sizeof(ipv4_dns)];
	const uint8_t *frames[] = {arp, eth, bad};
	size_t lens[] = {sizeof(arp), sizeof(eth), sizeof(bad)};
	char path[128], err[512];
	struct pcap_source_stats st;
	struct pcap_source *ps;
	struct got g = {0};

	memcpy(eth + 14, ipv4_dns, sizeof(ipv4_dns));
	memcpy(bad, eth, sizeof(bad));
	bad[14 + 25] = 99; /* UDP length 99 > 20 */
	temp_path(path, "ports.pcap");
	write_frames(path, DLT_EN10MB, 65535, frames, lens, lens, 3);
	assert_int_equal(read_file(path, NULL, &g, &st, err), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.dns_packets, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.malformed, 1);

	/* Other ports: 40000 is the client's, so the packet is selected. */
	ps = pcap_source_open(path, NULL, ports, 2, err, sizeof(err));
	assert_non_null(ps);
	memset(&g, 0, sizeof(g));
	assert_int_equal(pcap_source_run(ps, collect, &g, NULL, err, sizeof(err)), 0);
	assert_int_equal(g.n, 1);
	pcap_source_close(ps);
	assert_null(pcap_source_open(path, NULL, ports, 0, err, sizeof(err)));
	assert_null(pcap_source_open(path, NULL, ports, 9, err, sizeof(err)));
	unlink(path);
}

static void test_fragments_through_the_source(void **state)
{
	/* A 1000-byte UDP payload (1008 with the header) in fragments of 512 + 496,
	 * sent last first. */
	uint8_t f1[20 + 512], f2[20 + 496];
	const uint8_t *frames[] = {f2, f1};
	size_t lens[] = {sizeof(f2), sizeof(f1)};
	static const uint8_t ip1[20] = {0x45, 0, 0x02, 0x14, 0, 9, 0x20, 0, 64, 17,
					0,    0, 10,   0,    0, 1, 10,	 1, 0,	5};
	static const uint8_t ip2[20] = {0x45, 0, 0x02, 0x04, 0, 9, 0,  64, 64, 17,
					0,    0, 10,   0,    0, 1, 10, 1,  0,  5};
	uint8_t udp[1008];
	char path[128], err[512];
	struct pcap_source_stats st;
	struct got *g = calloc(1, sizeof(*g));

	fill(udp, sizeof(udp), 3);
	udp[0] = 0;
	udp[1] = 53;
	udp[2] = 0x9c;
	udp[3] = 0x40;
	udp[4] = 1008 >> 8;
	udp[5] = 1008 & 0xff;
	memcpy(f1, ip1, 20);
	memcpy(f1 + 20, udp, 512);
	memcpy(f2, ip2, 20);
	memcpy(f2 + 20, udp + 512, 496);
	temp_path(path, "frag.pcap");
	write_frames(path, DLT_RAW, 65535, frames, lens, lens, 2);
	assert_int_equal(read_file(path, NULL, g, &st, err), 0);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->meta[0].orig_len, 1000);
	assert_int_equal(g->caplen[0], 1000);
	assert_memory_equal(g->payload[0], udp + 8, 1000);
	assert_int_equal(g->meta[0].ts_ns, T0 + SEC + 250000000); /* the completing one */
	assert_int_equal(st.fragments, 2);
	assert_int_equal(st.reassembled, 1);
	assert_int_equal(st.fragments_dropped, 0);
	/* Only the second half: nothing delivered, the held fragment counts as lost. */
	write_frames(path, DLT_RAW, 65535, frames, lens, lens, 1);
	memset(g, 0, sizeof(*g));
	assert_int_equal(read_file(path, NULL, g, &st, err), 0);
	assert_int_equal(g->n, 0);
	assert_int_equal(st.fragments_dropped, 1);
	unlink(path);
	free(g);
}

static void test_stop_flag(void **state)
{
	const uint8_t *frames[] = {ipv4_dns, ipv4_dns, ipv4_dns};
	size_t lens[] = {sizeof(ipv4_dns), sizeof(ipv4_dns), sizeof(ipv4_dns)};
	volatile sig_atomic_t stop = 0;
	char path[128], err[512];
	struct pcap_source_stats st;
	struct got g = {.stop = &stop, .stop_after = 2};

	temp_path(path, "stop.pcap");
	write_frames(path, DLT_RAW, 65535, frames, lens, lens, 3);
	assert_int_equal(read_file(path, NULL, &g, &st, err), 0);
	assert_int_equal(g.n, 2);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_round_trip),
		cmocka_unit_test(test_writer_headers),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_writer_cut_back),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_truncated_last_record),
		cmocka_unit_test(test_snaplen_shorter_than_packet),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_ports_and_counters),
		cmocka_unit_test(test_fragments_through_the_source),
		cmocka_unit_test(test_stop_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
