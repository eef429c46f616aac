// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The offline capture source: libpcap reads a pcap file (any timestamp
 * precision, "-" for stdin) and applies the optional BPF filter; a pcapng
 * file is read by capture/pcapng.c (its interfaces may differ in link
 * type, which libpcap refuses) and filtered with a program compiled for
 * each link type met; netparse takes each frame apart, ipfrag rebuilds fragmented
 * datagrams, and every UDP/TCP packet to or from a DNS port goes to the
 * callback as pkt_meta + payload, just as the live source delivers it.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture_pcap.h"
#include "lib/errmsg.h"
#include "capture/ipfrag.h"
#include "capture/netparse.h"
#include "capture/pcapng.h"
#include "lib/units.h"

/* Not a netparse_rc: a fragment kept until its datagram is complete. */
#define FRAGMENT_PENDING (-1)

/* A pcapng file's filter, compiled for one link type. */
struct link_filter {
	int dlt;
	struct bpf_program prog;
};

#define MAX_LINK_FILTERS 16

/* One record of the file, from libpcap or the pcapng reader. */
struct record {
	uint64_t ts_ns;
	int dlt;
	uint32_t caplen, len;
	const uint8_t *data;
};

struct pcap_source {
	pcap_t *pcap; /* a pcap file */
	struct pcapng_reader *ng; /* a pcapng file */
	int dlt; /* a pcap file's link type */
	char *filter; /* pcapng: the expression, compiled per link type */
	struct link_filter filters[MAX_LINK_FILTERS];
	int nfilters;
	uint16_t ports[DNSSNOOP_MAX_PORTS];
	int nports;
	struct ipfrag *frag;
	struct pcap_source_stats st;
	bool ended; /* end of file or damage seen: nothing more to read */
	volatile sig_atomic_t *stop; /* the session is ending: read no more */
	struct pkt_meta meta; /* the packet pcap_source_next() returned last */
	char name[256]; /* the file as messages name it */
};

/* libpcap often starts its message with the path: do not say it twice. */
static const char *without_path(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (!strncmp(msg, path, n) && !strncmp(msg + n, ": ", 2))
		return msg + n + 2;
	return msg;
}

/* filter compiled for link type dlt (snap length 65535) into prog. */
static int compile_for(int dlt, const char *filter, struct bpf_program *prog, char *err,
		       size_t errlen)
{
	pcap_t *dead = pcap_open_dead(dlt, 65535);
	int rc;

	if (!dead) {
		set_err(err, errlen, "dnssnoop: out of memory compiling '%s'", filter);
		return -1;
	}
	rc = pcap_compile(dead, prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		set_err(err, errlen, "dnssnoop: bad filter expression '%s' for link type %s: %s",
			filter, pcap_datalink_val_to_name(dlt) ?: "unknown", pcap_geterr(dead));
	pcap_close(dead);
	return rc < 0 ? -1 : 0;
}

/* pcapng: the filter's program for link type dlt, compiled the first time. */
static const struct bpf_program *link_filter(struct pcap_source *ps, int dlt, char *err,
					     size_t errlen)
{
	struct link_filter *lf;

	for (int i = 0; i < ps->nfilters; i++)
		if (ps->filters[i].dlt == dlt)
			return &ps->filters[i].prog;
	if (ps->nfilters == MAX_LINK_FILTERS) {
		set_err(err, errlen, "dnssnoop: %s: more than %d link types to filter", ps->name,
			MAX_LINK_FILTERS);
		return NULL;
	}
	lf = &ps->filters[ps->nfilters];
	if (compile_for(dlt, ps->filter, &lf->prog, err, errlen) < 0)
		return NULL;
	lf->dlt = dlt;
	ps->nfilters++;
	return &lf->prog;
}

static int install_filter(struct pcap_source *ps, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	int rc;

	if (ps->ng) { /* checked now for Ethernet, compiled per link type as met */
		ps->filter = strdup(filter);
		return ps->filter ? link_filter(ps, NETPARSE_DLT_EN10MB, err, errlen) ? 0 : -1 : -1;
	}

	if (pcap_compile(ps->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		set_err(err, errlen, "dnssnoop: bad filter expression '%s': %s", filter,
			pcap_geterr(ps->pcap));
		return -1;
	}
	rc = pcap_setfilter(ps->pcap, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		set_err(err, errlen, "dnssnoop: cannot apply filter expression '%s': %s", filter,
			pcap_geterr(ps->pcap));
		return -1;
	}
	return 0;
}

/* A pcapng file starts with a Section Header Block, whose type begins 0x0a. */
static bool is_pcapng(FILE *f)
{
	int c = getc(f);

	if (c == EOF)
		return false;
	ungetc(c, f);
	return c == (unsigned char)PCAPNG_MAGIC[0];
}

/* f is closed here on failure; on success libpcap (or the pcapng reader) owns it. */
static int open_stream(struct pcap_source *ps, FILE *f, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	const char *why;

	if (is_pcapng(f)) {
		ps->ng = pcapng_open(f);
		if (!ps->ng)
			set_err(err, errlen, "dnssnoop: out of memory opening %s", ps->name);
		return ps->ng ? 0 : -1;
	}
	ps->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!ps->pcap) {
		if (f != stdin)
			fclose(f);
		why = without_path(ebuf, ps->name);
		set_err(err, errlen, "dnssnoop: cannot read %s: %s%s", ps->name, why,
			strstr(why, "unknown file format") ? " (not a pcap or pcapng file)" : "");
		return -1;
	}
	ps->dlt = pcap_datalink(ps->pcap);
	if (!netparse_link_supported(ps->dlt)) {
		const char *lt = pcap_datalink_val_to_name(ps->dlt);

		set_err(err, errlen,
			"dnssnoop: %s: link type %s (%d) is not supported (Ethernet, Linux "
			"cooked v1/v2, raw IP, BSD loopback, NFLOG, IPoIB and PKTAP are)",
			ps->name, lt ? lt : "unknown", ps->dlt);
		return -1;
	}
	return 0;
}

struct pcap_source *pcap_source_fopen(FILE *f, const char *name, const char *filter,
				      const uint16_t *ports, int nports, char *err, size_t errlen)
{
	struct pcap_source *ps;

	if (!f || !name || nports < 1 || nports > DNSSNOOP_MAX_PORTS) {
		set_err(err, errlen, "dnssnoop: between 1 and %d ports can be selected, not %d",
			DNSSNOOP_MAX_PORTS, nports);
		if (f && f != stdin)
			fclose(f);
		return NULL;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		set_err(err, errlen, "dnssnoop: out of memory opening %s", name);
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	snprintf(ps->name, sizeof(ps->name), "%s", name);
	memcpy(ps->ports, ports, nports * sizeof(*ports));
	ps->nports = nports;
	if (open_stream(ps, f, err, errlen) < 0 ||
	    (filter && install_filter(ps, filter, err, errlen) < 0)) {
		pcap_source_close(ps);
		return NULL;
	}
	ps->frag = ipfrag_new(NULL);
	if (!ps->frag) {
		set_err(err, errlen, "dnssnoop: out of memory opening %s", ps->name);
		pcap_source_close(ps);
		return NULL;
	}
	return ps;
}

struct pcap_source *pcap_source_open(const char *path, const char *filter, const uint16_t *ports,
				     int nports, char *err, size_t errlen)
{
	bool is_stdin = path && !strcmp(path, "-");
	FILE *f;

	if (!path) {
		set_err(err, errlen, "dnssnoop: no file to read");
		return NULL;
	}
	f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "dnssnoop: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	return pcap_source_fopen(f, is_stdin ? "standard input" : path, filter, ports, nports, err,
				 errlen);
}

/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
static uint64_t record_ts_ns(const struct pcap_pkthdr *hdr)
{
	if (hdr->ts.tv_sec < 0)
		return 0;
	return (uint64_t)hdr->ts.tv_sec * NS_PER_SEC + (uint64_t)hdr->ts.tv_usec;
}

/* A fragment: keep it, and parse the datagram once it is complete. */
static int reassemble(struct pcap_source *ps, struct netparse_ip *ip, uint64_t ts_ns)
{
	struct ipfrag_datagram dg;

	ps->st.fragments++;
	if (ipfrag_add(ps->frag, ip, ts_ns, &dg) != IPFRAG_DONE)
		return FRAGMENT_PENDING;
	ps->st.reassembled++;
	ip->proto = dg.proto;
	return netparse_reassembled(ip, dg.data, dg.caplen, dg.len);
}

/*
 * The IP datagram of a frame, reassembled from fragments and taken out of
 * its tunnels (the outermost described in *tun) as far as they go.
 */
static int parse_ip(struct pcap_source *ps, const struct record *rec, struct netparse_ip *ip,
		    struct pkt_tunnel *tun)
{
	uint64_t ts_ns = rec->ts_ns;
	int rc = netparse_frame(rec->dlt, rec->data, rec->caplen, ip);

	tun->type = PKT_TUNNEL_NONE;
	for (int depth = 0;; depth++) {
		struct netparse_ip inner;
		struct pkt_tunnel t;
		int inner_rc;

		if (rc == NETPARSE_FRAGMENT)
			rc = reassemble(ps, ip, ts_ns);
		if (rc != NETPARSE_OK || depth == NETPARSE_MAX_TUNNELS ||
		    !netparse_may_be_tunnel(ip))
			return rc;
		inner_rc = netparse_decap(ip, ps->ports, ps->nports, &inner, &t);
		if (inner_rc == NETPARSE_SKIP)
			return rc; /* no tunnel: this is the datagram */
		if (!tun->type)
			*tun = t;
		*ip = inner;
		rc = inner_rc;
	}
}

/* One record of the file: true when it was (or completed) a DNS packet, now in ps->meta. */
static bool handle_record(struct pcap_source *ps, const struct record *rec, const uint8_t **payload,
			  size_t *caplen)
{
	uint64_t ts_ns = rec->ts_ns;
	struct netparse_ip ip;
	struct pkt_tunnel tun;
	struct pkt_meta *meta = &ps->meta;
	int rc;

	ps->st.packets++;
	if (rec->caplen < rec->len)
		ps->st.truncated++;
	rc = parse_ip(ps, rec, &ip, &tun);
	if (rc == NETPARSE_OK) {
		memset(meta, 0, sizeof(*meta));
		rc = netparse_l4(&ip, ps->ports, ps->nports, meta, payload, caplen);
		if (tun.type)
			meta->tunnel = tun;
	}
	switch (rc) {
	case NETPARSE_OK:
		meta->ts_ns = ts_ns;
		meta->dir = ip.dir; /* known from Linux cooked headers only */
		meta->ifindex = ip.ifindex;
		ps->st.dns_packets++;
		return true;
	case NETPARSE_MALFORMED:
		ps->st.malformed++;
		break;
	case FRAGMENT_PENDING:
		break;
	default: /* NETPARSE_SKIP, NETPARSE_SHORT (counted in truncated) */
		ps->st.skipped++;
		break;
	}
	return false;
}

void pcap_source_set_stop(struct pcap_source *ps, volatile sig_atomic_t *stop)
{
	ps->stop = stop;
}

static bool stop_requested(const struct pcap_source *ps)
{
	return ps->stop && *ps->stop;
}

/* libpcap's next record. 1, 0 at the end, -1 on damage (err set). */
static int next_pcap_record(struct pcap_source *ps, struct record *rec, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;

	for (;;) {
		int rc = pcap_next_ex(ps->pcap, &hdr, &data);

		if (rc == 1) {
			*rec = (struct record){record_ts_ns(hdr), ps->dlt, hdr->caplen, hdr->len,
					       data};
			return 1;
		}
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc != 0) {
			set_err(err, errlen, "%s", pcap_geterr(ps->pcap));
			return -1;
		}
	}
}

/*
 * The pcapng reader's next record that passes the filter. A record of a
 * link type netparse does not know is passed on, to be counted as skipped.
 */
static int next_pcapng_record(struct pcap_source *ps, struct record *rec, char *err, size_t errlen)
{
	struct pcapng_packet p;

	for (;;) {
		const struct bpf_program *prog = NULL;
		struct pcap_pkthdr hdr;
		int rc = pcapng_next(ps->ng, &p, err, errlen);

		if (rc <= 0)
			return rc;
		*rec = (struct record){p.ts_ns, p.dlt, p.caplen, p.len, p.data};
		if (!ps->filter)
			return 1;
		prog = link_filter(ps, p.dlt, err, errlen);
		if (!prog)
			return -1;
		hdr.caplen = p.caplen;
		hdr.len = p.len;
		if (pcap_offline_filter(prog, &hdr, p.data))
			return 1;
		ps->st.packets++; /* read, and left out by the filter */
		ps->st.skipped++;
	}
}

int pcap_source_next(struct pcap_source *ps, const struct pkt_meta **meta, const uint8_t **payload,
		     size_t *caplen, char *err, size_t errlen)
{
	struct record rec;
	char why[256] = "";

	while (!ps->ended && !stop_requested(ps)) {
		int rc = ps->ng ? next_pcapng_record(ps, &rec, why, sizeof(why))
				: next_pcap_record(ps, &rec, why, sizeof(why));

		if (rc == 1) {
			if (handle_record(ps, &rec, payload, caplen)) {
				*meta = &ps->meta;
				return 1;
			}
			continue;
		}
		if (rc < 0 && !why[0])
			continue; /* a read interrupted by a signal: nothing lost */
		ps->ended = true;
		if (rc == 0 || stop_requested(ps))
			break; /* the end, or a read that gave up mid-record: not damage */
		set_err(err, errlen, "dnssnoop: %s: damaged at packet %llu: %s", ps->name,
			(unsigned long long)ps->st.packets + 1, why);
		return -1;
	}
	return 0;
}

int pcap_source_run(struct pcap_source *ps, packet_fn fn, void *ctx, volatile sig_atomic_t *stop,
		    char *err, size_t errlen)
{
	const struct pkt_meta *meta;
	const uint8_t *payload;
	size_t caplen;
	int rc;

	while (!stop || !*stop) {
		rc = pcap_source_next(ps, &meta, &payload, &caplen, err, errlen);
		if (rc <= 0)
			return rc;
		fn(ctx, meta, payload, caplen);
	}
	return 0;
}

void pcap_source_get_stats(const struct pcap_source *ps, struct pcap_source_stats *st)
{
	struct ipfrag_stats fs = {0};

	*st = ps->st;
	if (ps->frag)
		ipfrag_get_stats(ps->frag, &fs);
	/* Fragments still waiting for the rest of their datagram are lost too. */
	st->fragments_dropped = fs.dropped + fs.held;
}

void pcap_source_close(struct pcap_source *ps)
{
	if (!ps)
		return;
	if (ps->pcap)
		pcap_close(ps->pcap);
	pcapng_close(ps->ng);
	for (int i = 0; i < ps->nfilters; i++)
		pcap_freecode(&ps->filters[i].prog);
	free(ps->filter);
	ipfrag_free(ps->frag);
	free(ps);
}
