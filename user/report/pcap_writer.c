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
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/outfile.h"
#include "lib/units.h"
#include "report/pcap_writer.h"

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

/* Records written between explicit flushes: a failed write is cut back to one of their ends. */
#define PENDING_RECORDS 256
#define PCAP_HDR_LEN	24u /* the file header */
#define PCAP_REC_HLEN	16u /* each record's header */

struct pcap_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	int fd;
	int error; /* first write error (-errno), reported again by close */
	uint16_t ip_id; /* IPv4 identification, counted up per packet */
	off_t base; /* the file offset the pcap begins at */
	uint64_t flushed; /* bytes from base known on disk, at a record's end */
	uint64_t end; /* bytes from base handed to stdio */
	uint64_t pending[PENDING_RECORDS]; /* ends of the records since flushed */
	int npending;
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

static struct pcap_writer *open_failed(struct pcap_writer *w, int fd)
{
	if (w && w->dead)
		pcap_close(w->dead);
	free(w);
	if (fd >= 0)
		close(fd);
	return NULL;
}

struct pcap_writer *pcap_writer_fdopen(int fd, const char *name, char *err, size_t errlen)
{
	struct pcap_writer *w = calloc(1, sizeof(*w));
	FILE *f;

	if (!w) {
		snprintf(err, errlen, "dnssnoop: out of memory opening %s", name);
		return open_failed(w, fd);
	}
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_LINUX_SLL2, SNAPLEN,
						       PCAP_TSTAMP_PRECISION_NANO);
	f = w->dead ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "dnssnoop: out of memory opening %s", name);
		return open_failed(w, fd);
	}
	w->fd = fd;
	w->base = lseek(fd, 0, SEEK_CUR);
	w->dumper = pcap_dump_fopen(w->dead, f);
	if (!w->dumper) {
		snprintf(err, errlen, "dnssnoop: cannot write pcap file %s: %s", name,
			 pcap_geterr(w->dead));
		fclose(f);
		return open_failed(w, -1);
	}
	w->end = PCAP_HDR_LEN;
	w->pending[w->npending++] = w->end;
	return w;
}

struct pcap_writer *pcap_writer_open(const char *path, char *err, size_t errlen)
{
	int fd = outfile_open(path, err, errlen);

	if (fd < 0)
		return NULL;
	if (strcmp(path, "-") && outfile_truncate(fd, 0) < 0) {
		snprintf(err, errlen, "dnssnoop: cannot write pcap file %s: %s", path,
			 strerror(errno));
		close(fd);
		return NULL;
	}
	return pcap_writer_fdopen(fd, outfile_name(path), err, errlen);
}

/*
 * A write failed: drop what stdio still holds (a later flush must not add
 * it after the cut), then cut the file back to the end of the last record
 * that reached it whole.
 */
static void cut_back(struct pcap_writer *w)
{
	off_t at = lseek(w->fd, 0, SEEK_CUR);
	uint64_t out = at >= w->base ? (uint64_t)(at - w->base) : 0, keep = w->flushed;

	__fpurge(pcap_dump_file(w->dumper));
	for (int i = 0; i < w->npending; i++)
		if (w->pending[i] <= out)
			keep = w->pending[i];
	outfile_truncate(w->fd, w->base + (off_t)keep);
	w->flushed = keep;
	w->npending = 0;
}

static void note_error(struct pcap_writer *w)
{
	if (w->error)
		return;
	w->error = errno ? -errno : -EIO;
	cut_back(w);
}

/* Push everything out; from then on, a cut goes back no further than here. */
static int flush(struct pcap_writer *w)
{
	errno = 0;
	if (pcap_dump_flush(w->dumper) < 0 || ferror(pcap_dump_file(w->dumper))) {
		note_error(w);
		return w->error;
	}
	w->flushed = w->end;
	w->npending = 0;
	return 0;
}

/* The record of caplen bytes just handed to stdio: where it ends, or the error. */
static int account(struct pcap_writer *w, uint32_t caplen)
{
	w->end += PCAP_REC_HLEN + caplen;
	if (ferror(pcap_dump_file(w->dumper))) {
		note_error(w);
		return w->error;
	}
	w->pending[w->npending++] = w->end;
	return w->npending == PENDING_RECORDS ? flush(w) : 0;
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

	if (w && w->error)
		return w->error; /* the file ends at its last whole record: nothing more */
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
	errno = 0;
	pcap_dump((u_char *)w->dumper, &ph, w->buf);
	return account(w, ph.caplen);
}

int pcap_writer_write_message(struct pcap_writer *w, const struct pkt_meta *meta,
			      const uint8_t *msg, size_t len, size_t wire_len)
{
	uint8_t seg[2 + 65535];
	struct pkt_meta m;

	if (meta->proto != IPPROTO_TCP)
		return pcap_writer_write(w, meta, msg, len);
	if (wire_len > 65535 || len > wire_len)
		return -EINVAL;
	m = *meta;
	m.tcp_flags = DNSSNOOP_TCP_FIN;
	m.orig_len = (uint32_t)(2 + wire_len);
	put_be16(seg, (uint32_t)wire_len);
	memcpy(seg + 2, msg, len);
	return pcap_writer_write(w, &m, seg, 2 + len);
}

int pcap_writer_close(struct pcap_writer *w)
{
	int rc;

	if (!w)
		return 0;
	rc = w->error ? w->error : flush(w);
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w);
	return rc;
}
