// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcapng reading (see pcapng.h). A block is read whole into one buffer:
 * type, total length, body, the total length again; the byte order is the
 * one the section's header says. Reading keeps its place across a signal,
 * so an interrupted read loses nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcapng.h"
#include "lib/errmsg.h"

#define BT_SHB 0x0a0d0d0a
#define BT_IDB 1
#define BT_OPB 2 /* obsolete Packet Block */
#define BT_SPB 3
#define BT_EPB 6
#define BOM    0x1a2b3c4d

#define OPT_END	     0
#define OPT_TSRESOL  9
#define OPT_TSOFFSET 14

#define MAX_IFACES 4096 /* per section: a bound for garbage */

struct iface {
	int dlt;
	uint32_t snaplen;
	uint64_t units; /* timestamp units per second */
	int64_t offset_s;
};

struct pcapng_reader {
	FILE *f;
	uint8_t *buf;
	size_t cap, have; /* the block being read: have bytes of it so far */
	bool swap; /* the section's byte order is not ours */
	bool in_section;
	struct iface *ifaces;
	uint32_t nifaces, ifaces_cap;
	uint64_t packets;
};

static uint32_t u32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t u16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static uint64_t u64(const struct pcapng_reader *r, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return r->swap ? __builtin_bswap64(v) : v;
}

struct pcapng_reader *pcapng_open(FILE *f)
{
	struct pcapng_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		fclose(f);
		return NULL;
	}
	r->f = f;
	return r;
}

void pcapng_close(struct pcapng_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->buf);
	free(r->ifaces);
	free(r);
}

uint64_t pcapng_packets(const struct pcapng_reader *r)
{
	return r->packets;
}

/* Bytes of the block up to want; 1 when there, 0 at a clean end, -1 otherwise. */
static int read_upto(struct pcapng_reader *r, size_t want, char *err, size_t errlen)
{
	if (want > r->cap) {
		uint8_t *b = realloc(r->buf, want);

		if (!b) {
			set_err(err, errlen, "out of memory for a block of %zu bytes", want);
			return -1;
		}
		r->buf = b;
		r->cap = want;
	}
	while (r->have < want) {
		size_t got = fread(r->buf + r->have, 1, want - r->have, r->f);

		r->have += got;
		if (got)
			continue;
		if (ferror(r->f)) {
			int e = errno;

			clearerr(r->f);
			if (e == EINTR) {
				err[0] = '\0';
				errno = EINTR;
				return -1;
			}
			set_err(err, errlen, "read error: %s", strerror(e));
			return -1;
		}
		if (r->have == 0)
			return 0;
		set_err(err, errlen, "the file ends inside a block");
		return -1;
	}
	return 1;
}

/* A Section Header Block starts a new section: its byte order, no interfaces. */
static int section_header(struct pcapng_reader *r, const uint8_t *b, uint32_t len, char *err,
			  size_t errlen)
{
	uint32_t bom;

	memcpy(&bom, b + 8, 4);
	if (bom != BOM && bom != __builtin_bswap32(BOM)) {
		set_err(err, errlen, "bad byte-order magic in a section header");
		return -1;
	}
	r->swap = bom != BOM;
	if (u16(r, b + 12) != 1) {
		set_err(err, errlen, "pcapng version %u.%u is not 1.x", u16(r, b + 12),
			u16(r, b + 14));
		return -1;
	}
	r->in_section = true;
	r->nifaces = 0;
	(void)len;
	return 0;
}

/* 10^n or 2^n units per second, as if_tsresol says; 0 when out of range. */
static uint64_t tsresol_units(uint8_t v)
{
	uint64_t u = 1;

	if (v & 0x80)
		return (v & 0x7f) < 64 ? 1ull << (v & 0x7f) : 0;
	if (v > 19)
		return 0;
	while (v--)
		u *= 10;
	return u;
}

/* The options of a block from off to the block's trailing length. */
static int iface_options(struct pcapng_reader *r, struct iface *in, const uint8_t *b, uint32_t off,
			 uint32_t end, char *err, size_t errlen)
{
	while (off + 4 <= end) {
		uint16_t code = u16(r, b + off), olen = u16(r, b + off + 2);

		if (code == OPT_END)
			break;
		if (off + 4 + olen > end) {
			set_err(err, errlen, "an interface option runs past its block");
			return -1;
		}
		if (code == OPT_TSRESOL && olen >= 1) {
			in->units = tsresol_units(b[off + 4]);
			if (!in->units) {
				set_err(err, errlen, "interface %u: timestamp resolution %#x",
					r->nifaces, b[off + 4]);
				return -1;
			}
		} else if (code == OPT_TSOFFSET && olen >= 8) {
			in->offset_s = (int64_t)u64(r, b + off + 4);
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
	return 0;
}

static int iface_description(struct pcapng_reader *r, const uint8_t *b, uint32_t len, char *err,
			     size_t errlen)
{
	struct iface in = {.units = 1000000};

	if (len < 20) {
		set_err(err, errlen, "an interface description block of %u bytes", len);
		return -1;
	}
	if (r->nifaces == MAX_IFACES) {
		set_err(err, errlen, "more than %d interfaces in a section", MAX_IFACES);
		return -1;
	}
	in.dlt = u16(r, b + 8);
	in.snaplen = u32(r, b + 12);
	if (iface_options(r, &in, b, 16, len - 4, err, errlen) < 0)
		return -1;
	if (r->nifaces == r->ifaces_cap) {
		uint32_t cap = r->ifaces_cap ? 2 * r->ifaces_cap : 8;
		struct iface *n = realloc(r->ifaces, cap * sizeof(*n));

		if (!n) {
			set_err(err, errlen, "out of memory for an interface");
			return -1;
		}
		r->ifaces = n;
		r->ifaces_cap = cap;
	}
	r->ifaces[r->nifaces++] = in;
	return 0;
}

/* Timestamp units of an interface since the epoch, in ns (0 when before it). */
static uint64_t to_ns(const struct iface *in, uint64_t ts)
{
	unsigned __int128 ns = (unsigned __int128)ts * 1000000000u / in->units;
	__int128 with_offset = (__int128)ns + (__int128)in->offset_s * 1000000000;

	if (with_offset < 0)
		return 0;
	return with_offset > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)with_offset;
}

/* An Enhanced (or obsolete) Packet Block: interface, time, lengths, data. */
static int packet_block(struct pcapng_reader *r, uint32_t type, const uint8_t *b, uint32_t len,
			struct pcapng_packet *pkt, char *err, size_t errlen)
{
	uint32_t id = type == BT_EPB ? u32(r, b + 8) : u16(r, b + 8);
	uint32_t caplen = u32(r, b + 20);
	const struct iface *in;

	if (len < 32 || caplen > len - 32) {
		set_err(err, errlen, "a packet block of %u bytes says it holds %u", len, caplen);
		return -1;
	}
	if (id >= r->nifaces) {
		set_err(err, errlen, "a packet of interface %u, of %u described", id, r->nifaces);
		return -1;
	}
	in = &r->ifaces[id];
	pkt->iface = id;
	pkt->dlt = in->dlt;
	pkt->ts_ns = to_ns(in, (uint64_t)u32(r, b + 12) << 32 | u32(r, b + 16));
	pkt->caplen = caplen;
	pkt->len = u32(r, b + 24);
	pkt->data = b + 28;
	return 1;
}

/* A Simple Packet Block: interface 0, no time, data up to the snap length. */
static int simple_packet(struct pcapng_reader *r, const uint8_t *b, uint32_t len,
			 struct pcapng_packet *pkt, char *err, size_t errlen)
{
	uint32_t orig;

	if (len < 16 || r->nifaces == 0) {
		set_err(err, errlen, "a simple packet block without an interface");
		return -1;
	}
	orig = u32(r, b + 8);
	pkt->iface = 0;
	pkt->dlt = r->ifaces[0].dlt;
	pkt->ts_ns = 0;
	pkt->len = orig;
	pkt->caplen = orig < len - 16 ? orig : len - 16;
	if (r->ifaces[0].snaplen && pkt->caplen > r->ifaces[0].snaplen)
		pkt->caplen = r->ifaces[0].snaplen;
	pkt->data = b + 12;
	return 1;
}

/* One whole block in r->buf: a packet (1), something else (0), damage (-1). */
static int block(struct pcapng_reader *r, struct pcapng_packet *pkt, char *err, size_t errlen)
{
	const uint8_t *b = r->buf;
	uint32_t type = u32(r, b), len = u32(r, b + 4);

	if (u32(r, b + len - 4) != len) {
		set_err(err, errlen, "a block's two lengths differ");
		return -1;
	}
	switch (type) {
	case BT_SHB:
		return section_header(r, b, len, err, errlen);
	case BT_IDB:
		return iface_description(r, b, len, err, errlen);
	case BT_EPB:
	case BT_OPB:
		return packet_block(r, type, b, len, pkt, err, errlen);
	case BT_SPB:
		return simple_packet(r, b, len, pkt, err, errlen);
	default:
		return 0; /* name resolution, statistics, secrets, custom, ... */
	}
}

/* The next block's header: its length checked (and the byte order learned at an SHB). */
static int block_length(struct pcapng_reader *r, uint32_t *len, char *err, size_t errlen)
{
	uint32_t type;

	memcpy(&type, r->buf, 4);
	if (type == BT_SHB) {
		uint32_t bom;

		memcpy(&bom, r->buf + 8, 4);
		r->swap = bom != BOM;
	} else if (!r->in_section) {
		set_err(err, errlen, "not a pcapng file (no section header first)");
		return -1;
	}
	*len = u32(r, r->buf + 4);
	if (*len < 12 || *len % 4 || *len > PCAPNG_MAX_BLOCK) {
		set_err(err, errlen, "a block of %u bytes", *len);
		return -1;
	}
	return 0;
}

int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt, char *err, size_t errlen)
{
	for (;;) {
		uint32_t len;
		int rc = read_upto(r, 12, err, errlen); /* type, length, and an SHB's magic */

		if (rc <= 0)
			return rc;
		if (block_length(r, &len, err, errlen) < 0)
			return -1;
		rc = read_upto(r, len, err, errlen);
		if (rc == 0)
			set_err(err, errlen, "the file ends inside a block");
		if (rc <= 0)
			return -1;
		r->have = 0; /* the next call reads the next block */
		rc = block(r, pkt, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			r->packets++;
			return 1;
		}
	}
}
