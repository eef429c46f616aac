// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes captured DNS packets as a LINKTYPE_RAW pcap with nanosecond
 * timestamps. The live source has the L4 payload and its metadata only,
 * so each record gets a rebuilt IPv4 or IPv6 header and a UDP or TCP
 * header in front: lengths as on the wire, checksums computed (over the
 * payload when the whole of it was captured; else the L4 checksum is 0),
 * fixed TTL and window.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/pcap_writer.h"
#include "lib/units.h"

#define SNAPLEN	     65535u
#define IPV4_HLEN    20u
#define IPV6_HLEN    40u
#define UDP_HLEN     8u
#define TCP_HLEN     20u
#define SLL2_HLEN    20u
#define MAX_HDRS     (SLL2_HLEN + IPV6_HLEN + TCP_HLEN)
#define TTL	     64
#define TCP_WINDOW   65535
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define IPV4_FLAG_DF 0x4000
/* Linux cooked v2 (LINKTYPE_LINUX_SLL2) fields. */
#define SLL2_ARPHRD_NONE     0xfffe
#define SLL2_PACKET_HOST     0 /* to this host: ingress */
#define SLL2_PACKET_OUTGOING 4 /* from this host: egress */

struct pcap_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	int error; /* first write error (-errno), reported again by close */
	uint16_t ip_id; /* IPv4 identification, counted up per packet */
	uint8_t buf[MAX_HDRS + SNAPLEN]; /* one record being built */
};

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

/* One's-complement sum of 16-bit big-endian words (RFC 1071). */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct pcap_writer *pcap_writer_open(const char *path, char *err, size_t errlen)
{
	struct pcap_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "dnssnoop: out of memory opening %s", path);
		return NULL;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_LINUX_SLL2, SNAPLEN,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		snprintf(err, errlen, "dnssnoop: out of memory opening %s", path);
		free(w);
		return NULL;
	}
	w->dumper = pcap_dump_open(w->dead, path);
	if (!w->dumper) {
		snprintf(err, errlen, "dnssnoop: cannot write pcap file %s: %s", path,
			 pcap_geterr(w->dead));
		pcap_close(w->dead);
		free(w);
		return NULL;
	}
	return w;
}

/* Sum of the L4 pseudo-header (RFC 768, RFC 8200 8.1). */
static uint64_t pseudo_header_sum(const struct pkt_meta *m, uint32_t l4_len)
{
	uint8_t tail[8] = {0};
	size_t alen = m->family == AF_INET ? 4 : 16;
	uint64_t sum = csum_add(csum_add(0, m->saddr, alen), m->daddr, alen);

	put_be32(tail, l4_len);
	tail[7] = m->proto;
	return csum_add(sum, tail, sizeof(tail));
}

/*
 * The cooked header keeps what a raw IP record would lose: the direction
 * (the live source sees both copies of a local exchange, which differ
 * only in it) and the interface.
 */
static void build_sll2(uint8_t *h, const struct pkt_meta *m)
{
	memset(h, 0, SLL2_HLEN);
	put_be16(h, m->family == AF_INET ? 0x0800 : 0x86dd);
	put_be32(h + 4, m->ifindex);
	put_be16(h + 8, SLL2_ARPHRD_NONE);
	h[10] = m->dir == DNSSNOOP_EGRESS ? SLL2_PACKET_OUTGOING : SLL2_PACKET_HOST;
}

static uint32_t build_ip(uint8_t *h, const struct pkt_meta *m, uint32_t l4_len, uint16_t ip_id)
{
	if (m->family == AF_INET) {
		memset(h, 0, IPV4_HLEN);
		h[0] = 0x45;
		put_be16(h + 2, IPV4_HLEN + l4_len);
		put_be16(h + 4, ip_id);
		put_be16(h + 6, IPV4_FLAG_DF);
		h[8] = TTL;
		h[9] = m->proto;
		memcpy(h + 12, m->saddr, 4);
		memcpy(h + 16, m->daddr, 4);
		put_be16(h + 10, csum_fold(csum_add(0, h, IPV4_HLEN)));
		return IPV4_HLEN;
	}
	memset(h, 0, IPV6_HLEN);
	h[0] = 0x60;
	put_be16(h + 4, l4_len);
	h[6] = m->proto;
	h[7] = TTL;
	memcpy(h + 8, m->saddr, 16);
	memcpy(h + 24, m->daddr, 16);
	return IPV6_HLEN;
}

static uint8_t tcp_flags_for(const struct pkt_meta *m, size_t orig)
{
	uint8_t flags = m->tcp_flags & (DNSSNOOP_TCP_FIN | DNSSNOOP_TCP_SYN | DNSSNOOP_TCP_RST);

	/* A bare SYN opens a connection: it acknowledges nothing yet. */
	if (!(flags & DNSSNOOP_TCP_SYN) || (m->tcp_flags & TCP_FLAG_ACK))
		flags |= TCP_FLAG_ACK;
	if (orig)
		flags |= TCP_FLAG_PSH;
	return flags;
}

static void build_l4(uint8_t *h, const struct pkt_meta *m, uint32_t l4_len, size_t orig)
{
	if (m->proto == IPPROTO_UDP) {
		put_be16(h, m->sport);
		put_be16(h + 2, m->dport);
		put_be16(h + 4, l4_len);
		put_be16(h + 6, 0);
		return;
	}
	memset(h, 0, TCP_HLEN);
	put_be16(h, m->sport);
	put_be16(h + 2, m->dport);
	put_be32(h + 4, m->tcp_seq);
	h[12] = (TCP_HLEN / 4) << 4;
	h[13] = tcp_flags_for(m, orig);
	put_be16(h + 14, TCP_WINDOW);
}

int pcap_writer_write(struct pcap_writer *w, const struct pkt_meta *meta, const uint8_t *payload,
		      size_t caplen)
{
	uint32_t ip_hlen = meta->family == AF_INET ? IPV4_HLEN : IPV6_HLEN;
	uint32_t l4_hlen = meta->proto == IPPROTO_UDP ? UDP_HLEN : TCP_HLEN;
	size_t orig = meta->orig_len > caplen ? meta->orig_len : caplen;
	size_t room = SNAPLEN - IPV4_HLEN - l4_hlen; /* what the length fields can say */
	struct pcap_pkthdr ph;
	uint8_t *l4;
	uint32_t l4_len;
	FILE *f;

	if (!w || (meta->family != AF_INET && meta->family != AF_INET6) ||
	    (meta->proto != IPPROTO_UDP && meta->proto != IPPROTO_TCP) || (caplen && !payload))
		return -EINVAL;
	if (orig > room)
		orig = room;
	if (caplen > orig)
		caplen = orig;
	if (caplen > SNAPLEN - SLL2_HLEN - ip_hlen - l4_hlen)
		caplen = SNAPLEN - SLL2_HLEN - ip_hlen -
			 l4_hlen; /* a record holds at most the snap length */
	l4_len = l4_hlen + (uint32_t)orig;
	build_sll2(w->buf, meta);
	build_ip(w->buf + SLL2_HLEN, meta, l4_len, w->ip_id++);
	l4 = w->buf + SLL2_HLEN + ip_hlen;
	build_l4(l4, meta, l4_len, orig);
	if (caplen)
		memcpy(l4 + l4_hlen, payload, caplen);
	if (caplen == orig) {
		uint16_t sum = csum_fold(csum_add(pseudo_header_sum(meta, l4_len), l4, l4_len));

		/* In UDP, 0 means "no checksum": a computed 0 is sent as 0xffff. */
		if (meta->proto == IPPROTO_UDP && sum == 0)
			sum = 0xffff;
		put_be16(l4 + (meta->proto == IPPROTO_UDP ? 6 : 16), sum);
	}

	ph.ts.tv_sec = (time_t)(meta->ts_ns / NS_PER_SEC);
	ph.ts.tv_usec = (suseconds_t)(meta->ts_ns % NS_PER_SEC); /* ns: a nanosecond pcap */
	ph.caplen = SLL2_HLEN + ip_hlen + l4_hlen + (uint32_t)caplen;
	ph.len = SLL2_HLEN + ip_hlen + l4_len;
	f = pcap_dump_file(w->dumper);
	errno = 0;
	pcap_dump((u_char *)w->dumper, &ph, w->buf);
	if (ferror(f) && !w->error)
		w->error = errno ? -errno : -EIO;
	return w->error;
}

int pcap_writer_close(struct pcap_writer *w)
{
	int rc;

	if (!w)
		return 0;
	errno = 0;
	rc = w->error;
	if ((pcap_dump_flush(w->dumper) < 0 || ferror(pcap_dump_file(w->dumper))) && !rc)
		rc = errno ? -errno : -EIO;
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w);
	return rc;
}
