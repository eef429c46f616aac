// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS-over-TCP reassembly.
 *
 * Each direction of each connection is one flow, keyed by (family, source,
 * destination, direction, socket cookie): on a host where both ends are
 * local the client's and the server's copy of a segment are separate
 * flows. Flows live in a table that grows as flows appear (up to max_flows
 * entries, one per slot of a slot pool, slots.h, whose hash chains find
 * them), and the pool's age list, touched on every segment, is an LRU
 * list that picks the victim when the table is full.
 *
 * Per flow we keep the next expected sequence number and a small state
 * machine: reading the 2-byte length prefix, reading the body, or lost
 * (the bytes that held a length prefix were not captured, so the next
 * boundary is unknown). A message that lies wholly inside one segment is
 * handed to the callback straight from the segment; only a message that
 * spans segments is copied, into a per-flow buffer that grows on demand
 * (up to 65535 bytes) and is kept for reuse, so the steady state does no
 * allocation per segment.
 *
 * Heuristics, because a tracer sees what it sees:
 *  - A flow first seen without its SYN (the tracer started late) is assumed
 *    to start a message at the first payload byte seen. If that guess is
 *    wrong the decoder rejects what comes out until the stream resyncs
 *    (at the next gap, lost prefix, or new connection).
 *  - After a sequence gap, or after a segment whose uncaptured tail hid a
 *    length prefix, the next segment is likewise assumed to start a
 *    message: DNS implementations write each message (prefix included)
 *    with one send, so segments usually start at message boundaries.
 *  - A segment more than REASM_STALE_WINDOW bytes behind the expected
 *    sequence is not a retransmission but a new connection on the same
 *    addresses whose SYN we missed: resync there (counted as a gap).
 *  - A zero length prefix carries no message and is skipped.
 *  - The payload of an RST is not stream data (RFC 9293 3.5.3): ignored.
 *
 * Out of order: a segment that starts after the next expected byte (a
 * hole before it) is copied and held if it ends within
 * TCP_REASM_HOLD_WINDOW bytes of that byte (one whole DNS-over-TCP frame,
 * prefix included) and the bounds allow: TCP_REASM_HOLD_FLOW_SEGS segments
 * and TCP_REASM_HOLD_FLOW_BYTES bytes per flow, TCP_REASM_HOLD_TOTAL bytes
 * in all flows, bookkeeping counted. Held segments are kept in sequence
 * order and taken as soon as the hole before them is filled, as if they
 * had arrived then (messages they complete carry the packet that filled
 * the hole: it completed them). Overlaps: bytes already taken into the
 * stream win over any later copy; among held segments, the one starting
 * first (on equal starts the one that came first) supplies the bytes, and
 * a segment wholly inside one already held is dropped. A segment that
 * cannot be held gives the oldest hole up (a gap: the stream resyncs at
 * the first held segment), until it can be held or nothing is held, when
 * the stream resyncs at it as it did before holding existed. A flow that
 * ends (FIN, RST, idle, evicted) with a hole never filled counts a gap.
 * Only out-of-order segments are copied: the in-order path costs one
 * pointer test.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/hash.h"
#include "lib/slots.h"
#include "proto/tcpreasm.h"
#include "lib/grow.h"

#define REASM_MAX_MSG	   65535u /* largest body a 2-byte prefix can announce */
#define REASM_MIN_BUF	   512u /* first allocation for a spanning message */
#define REASM_KEEP_BUF	   4096u /* larger buffers are freed with their flow */
#define REASM_STALE_WINDOW (1u << 24)
#define REASM_MAX_SEGMENT  (1u << 30) /* keeps 32-bit sequence arithmetic sane */

enum asm_state {
	ASM_PREFIX, /* reading the 2-byte length prefix */
	ASM_BODY, /* reading msg_len bytes of message */
	ASM_LOST, /* boundary unknown until the next segment */
};

/* Normalised so that equal flows compare equal with memcmp. */
struct flow_key {
	uint64_t cookie;
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport, dport;
	uint8_t family, dir;
	uint8_t pad[2];
};

_Static_assert(sizeof(struct flow_key) == 48, "flow_key must have no padding");

/* An out-of-order segment, copied until the hole before it is filled. */
struct held_seg {
	struct held_seg *next; /* by sequence number, then arrival */
	uint32_t seq; /* of its first byte */
	uint32_t wire; /* bytes on the wire from seq */
	uint32_t caplen; /* captured bytes of them, in data */
	uint8_t data[];
};

struct flow {
	struct flow_key key;
	uint64_t last_ns; /* newest packet time seen on this flow */
	uint32_t next_seq; /* sequence number of the next byte expected */
	uint8_t state; /* enum asm_state */
	uint8_t prefix[2];
	uint8_t prefix_have;
	bool holed; /* some body bytes were not captured: buf stops there */
	uint32_t msg_len; /* body length the prefix announced */
	uint32_t msg_have; /* body bytes consumed, captured or not */
	uint32_t buf_len; /* captured body bytes in buf, contiguous from 0 */
	uint32_t buf_cap;
	uint8_t *buf;
	struct held_seg *held; /* out-of-order segments, NULL on the in-order path */
	uint32_t held_bytes; /* their cost: data and bookkeeping */
	uint32_t held_segs;
	bool fin_seen; /* ends when nothing is held any more */
};

struct tcp_reasm {
	struct flow *flows; /* one per slot, owned by slots */
	struct slots slots; /* age list: least recently used first */
	uint64_t seed;
	uint64_t held_total; /* held_bytes of every flow */
	struct tcp_reasm_stats stats;
};

/* One segment's payload as the state machine sees it. */
struct segment {
	const struct pkt_meta *meta;
	const uint8_t *data; /* captured bytes */
	size_t avail; /* captured bytes left */
	size_t missing; /* uncaptured bytes after them */
};

static void make_key(const struct pkt_meta *m, struct flow_key *k)
{
	/* IPv4 uses the first 4 bytes only; ignore whatever follows them. */
	size_t alen = m->family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->cookie = m->cookie;
	memcpy(k->saddr, m->saddr, alen);
	memcpy(k->daddr, m->daddr, alen);
	k->sport = m->sport;
	k->dport = m->dport;
	k->family = m->family;
	k->dir = m->dir;
}

/* What a held segment costs: its bytes and the allocator's bookkeeping. */
static uint32_t held_cost(uint32_t caplen)
{
	return (uint32_t)sizeof(struct held_seg) + 16 + caplen;
}

static void drop_held(struct tcp_reasm *r, struct flow *f)
{
	while (f->held) {
		struct held_seg *h = f->held;

		f->held = h->next;
		r->stats.held_segments--;
		free(h);
	}
	r->held_total -= f->held_bytes;
	f->held_bytes = 0;
	f->held_segs = 0;
}

/* Only flows in use hold segments (a released flow dropped its own). */
static void drop_all_held(struct tcp_reasm *r)
{
	for (uint32_t i = r ? slots_oldest(&r->slots) : SLOTS_NIL; i != SLOTS_NIL;
	     i = r->slots.link[i].newer)
		drop_held(r, &r->flows[i]);
}

struct tcp_reasm *tcp_reasm_new(size_t max_flows)
{
	struct tcp_reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->flows = slots_init(&r->slots, max_flows, sizeof(*r->flows));
	if (!r->flows) {
		free(r);
		return NULL;
	}
	r->seed = hash_random_seed(r);
	return r;
}

void tcp_reasm_free(struct tcp_reasm *r)
{
	drop_all_held(r);
	if (!r)
		return;
	for (uint32_t i = 0; i < r->slots.fresh; i++)
		free(r->flows[i].buf);
	slots_destroy(&r->slots);
	free(r);
}

void tcp_reasm_get_stats(const struct tcp_reasm *r, struct tcp_reasm_stats *st)
{
	if (!st)
		return;
	if (!r) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = r->stats;
	st->held_bytes = r->held_total;
}

/* ---- flow table ---- */

static struct flow *flow_lookup(struct tcp_reasm *r, const struct flow_key *k, uint64_t h)
{
	for (uint32_t i = slots_first(&r->slots, h); i != SLOTS_NIL; i = slots_next(&r->slots, i)) {
		struct flow *f = &r->flows[i];

		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	}
	return NULL;
}

static void flow_touch(struct tcp_reasm *r, struct flow *f, uint64_t ts_ns)
{
	slots_touch(&r->slots, (uint32_t)(f - r->flows));
	/* Time may step backwards; idleness is measured from the newest packet. */
	if (ts_ns > f->last_ns)
		f->last_ns = ts_ns;
}

static void asm_reset(struct flow *f)
{
	f->state = ASM_PREFIX;
	f->prefix_have = 0;
	f->msg_len = 0;
	f->msg_have = 0;
	f->buf_len = 0;
	f->holed = false;
}

static void flow_release(struct tcp_reasm *r, struct flow *f)
{
	if (f->held) {
		r->stats.gaps++; /* a hole that was never filled */
		drop_held(r, f);
	}
	slots_release(&r->slots, (uint32_t)(f - r->flows));
	/* Keep small buffers for the next flow in this slot; return big ones. */
	if (f->buf_cap > REASM_KEEP_BUF) {
		free(f->buf);
		f->buf = NULL;
		f->buf_cap = 0;
	}
	r->stats.active--;
}

static struct flow *flow_create(struct tcp_reasm *r, const struct flow_key *k, uint64_t h,
				uint32_t next_seq, uint64_t ts_ns)
{
	struct flow *f;

	if (slots_full(&r->slots)) {
		flow_release(r, &r->flows[slots_oldest(&r->slots)]);
		r->stats.evicted++;
	}
	r->flows = slots_entries(&r->slots); /* moved if the pool grew */
	f = &r->flows[slots_take(&r->slots, h)];
	f->key = *k;
	f->last_ns = ts_ns;
	f->next_seq = next_seq;
	f->fin_seen = false;
	asm_reset(f);
	r->stats.active++;
	return f;
}

/* ---- message assembly ---- */

static void deliver(struct tcp_reasm *r, const struct segment *s, const uint8_t *msg, size_t len,
		    size_t wire_len, tcp_msg_fn fn, void *ctx)
{
	r->stats.messages++;
	if (fn)
		fn(ctx, s->meta, msg, len, wire_len, len < wire_len);
}

static bool buf_reserve(struct flow *f, uint32_t need)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= f->buf_cap)
		return true;
	cap = grow_capacity(f->buf_cap, REASM_MIN_BUF, need, REASM_MAX_MSG);
	nb = realloc(f->buf, cap);
	if (!nb)
		return false;
	f->buf = nb;
	f->buf_cap = cap;
	return true;
}

/* Append captured body bytes; after a hole (or without memory) keep none. */
static void buf_append(struct flow *f, const uint8_t *data, uint32_t n)
{
	if (f->holed || n == 0)
		return;
	if (!buf_reserve(f, f->buf_len + n)) {
		f->holed = true; /* delivered truncated, as if not captured */
		return;
	}
	memcpy(f->buf + f->buf_len, data, n);
	f->buf_len += n;
}

static void take_prefix_byte(struct flow *f, struct segment *s)
{
	f->prefix[f->prefix_have++] = *s->data++;
	s->avail--;
	if (f->prefix_have < 2)
		return;
	f->prefix_have = 0;
	f->msg_len = (uint32_t)f->prefix[0] << 8 | f->prefix[1];
	f->msg_have = 0;
	f->buf_len = 0;
	f->holed = false;
	f->state = f->msg_len ? ASM_BODY : ASM_PREFIX;
}

/* Consume body bytes from s; deliver the message if it ends in s. */
static void take_body(struct tcp_reasm *r, struct flow *f, struct segment *s, tcp_msg_fn fn,
		      void *ctx)
{
	size_t need = f->msg_len - f->msg_have;
	size_t cap = need < s->avail ? need : s->avail;
	size_t gone;

	if (f->msg_have == 0 && need <= s->avail + s->missing) {
		/* Starts and ends in this segment: no copy. */
		const uint8_t *msg = s->data;

		s->data += cap;
		s->avail -= cap;
		s->missing -= need - cap;
		asm_reset(f);
		deliver(r, s, msg, cap, need, fn, ctx);
		return;
	}
	buf_append(f, s->data, (uint32_t)cap);
	s->data += cap;
	s->avail -= cap;
	f->msg_have += (uint32_t)cap;
	need -= cap;
	gone = need < s->missing ? need : s->missing;
	if (gone) {
		s->missing -= gone;
		f->msg_have += (uint32_t)gone;
		f->holed = true;
	}
	if (f->msg_have < f->msg_len)
		return;
	deliver(r, s, f->buf, f->buf_len, f->msg_len, fn, ctx);
	asm_reset(f);
}

static void consume(struct tcp_reasm *r, struct flow *f, struct segment *s, tcp_msg_fn fn,
		    void *ctx)
{
	while (s->avail || s->missing) {
		switch (f->state) {
		case ASM_PREFIX:
			if (!s->avail) {
				/* The prefix was not captured: next boundary unknown. */
				f->state = ASM_LOST;
				return;
			}
			take_prefix_byte(f, s);
			break;
		case ASM_BODY:
			take_body(r, f, s, fn, ctx);
			break;
		default:
			return;
		}
	}
}

/*
 * Hold s (data_seq > next_seq): true when it is held, or dropped because a
 * held segment has all of it; false when the bounds do not allow it.
 */
static bool hold(struct tcp_reasm *r, struct flow *f, uint32_t data_seq, const struct segment *s)
{
	uint32_t off = data_seq - f->next_seq, wire = (uint32_t)(s->avail + s->missing);
	uint32_t cost = held_cost((uint32_t)s->avail);
	struct held_seg **at = &f->held, *h;

	if (wire > TCP_REASM_HOLD_WINDOW || off > TCP_REASM_HOLD_WINDOW - wire)
		return false;
	for (h = f->held; h; h = h->next) {
		uint32_t hoff = h->seq - f->next_seq;

		if (hoff <= off && off + wire <= hoff + h->wire)
			return true; /* a copy of what is held: the first one wins */
	}
	if (f->held_segs >= TCP_REASM_HOLD_FLOW_SEGS ||
	    f->held_bytes + cost > TCP_REASM_HOLD_FLOW_BYTES ||
	    r->held_total + cost > TCP_REASM_HOLD_TOTAL)
		return false;
	h = malloc(sizeof(*h) + s->avail);
	if (!h)
		return false;
	*h = (struct held_seg){.seq = data_seq, .wire = wire, .caplen = (uint32_t)s->avail};
	memcpy(h->data, s->data, s->avail);
	while (*at && (*at)->seq - f->next_seq <= off)
		at = &(*at)->next;
	h->next = *at;
	*at = h;
	f->held_segs++;
	f->held_bytes += cost;
	r->held_total += cost;
	r->stats.held_segments++;
	return true;
}

/*
 * A segment that starts at or before next_seq: drop what was taken
 * already, then consume the rest.
 */
static void take_in_order(struct tcp_reasm *r, struct flow *f, uint32_t data_seq, struct segment *s,
			  tcp_msg_fn fn, void *ctx)
{
	uint32_t wire = (uint32_t)(s->avail + s->missing);
	uint32_t behind = f->next_seq - data_seq;

	if (behind >= wire && behind != 0)
		return; /* pure retransmission */
	if (behind <= s->avail) {
		s->data += behind;
		s->avail -= behind;
	} else {
		s->missing -= behind - s->avail;
		s->data += s->avail;
		s->avail = 0;
	}
	if (f->state == ASM_LOST)
		asm_reset(f); /* heuristic: a segment starts a message */
	f->next_seq = data_seq + wire;
	consume(r, f, s, fn, ctx);
}

/* Held segments whose hole is filled now, in order, as if they came with meta. */
static void take_held(struct tcp_reasm *r, struct flow *f, const struct pkt_meta *meta,
		      tcp_msg_fn fn, void *ctx)
{
	while (f->held && (int32_t)(f->held->seq - f->next_seq) <= 0) {
		struct held_seg *h = f->held;
		struct segment s = {
			.meta = meta,
			.data = h->data,
			.avail = h->caplen,
			.missing = h->wire - h->caplen,
		};

		f->held = h->next;
		f->held_segs--;
		f->held_bytes -= held_cost(h->caplen);
		r->held_total -= held_cost(h->caplen);
		r->stats.held_segments--;
		take_in_order(r, f, h->seq, &s, fn, ctx);
		free(h);
	}
}

/* The stream lost bytes: forget the message under way and what was held. */
static void gap(struct tcp_reasm *r, struct flow *f, uint32_t resync_seq)
{
	r->stats.gaps++;
	asm_reset(f);
	drop_held(r, f);
	f->next_seq = resync_seq;
}

/*
 * Give up on the hole before the first held segment: resync there (a
 * gap) and take it and what follows it without a hole.
 */
static void skip_hole(struct tcp_reasm *r, struct flow *f, const struct pkt_meta *meta,
		      tcp_msg_fn fn, void *ctx)
{
	r->stats.gaps++;
	asm_reset(f);
	f->next_seq = f->held->seq;
	take_held(r, f, meta, fn, ctx);
}

/*
 * Place a segment's payload (data_seq .. data_seq + wire) in the flow's
 * stream: hold it when it comes early; when it cannot be held, the
 * oldest hole is given up (a gap) until it can, or nothing is held and
 * the stream resyncs at it; drop what was seen already; then consume it
 * and whatever it lets through.
 */
static void accept_segment(struct tcp_reasm *r, struct flow *f, uint32_t data_seq,
			   struct segment *s, tcp_msg_fn fn, void *ctx)
{
	uint32_t ahead = data_seq - f->next_seq;

	while (ahead != 0 && ahead < 0x80000000u) {
		if (hold(r, f, data_seq, s))
			return;
		if (!f->held) {
			gap(r, f, data_seq);
			break;
		}
		skip_hole(r, f, s->meta, fn, ctx);
		ahead = data_seq - f->next_seq;
	}
	if (ahead != 0 && f->next_seq - data_seq > REASM_STALE_WINDOW)
		gap(r, f, data_seq); /* a new connection whose SYN was missed */
	take_in_order(r, f, data_seq, s, fn, ctx);
	if (f->held)
		take_held(r, f, s->meta, fn, ctx);
}

void tcp_reasm_feed(struct tcp_reasm *r, const struct pkt_meta *meta, const uint8_t *payload,
		    size_t caplen, tcp_msg_fn fn, void *ctx)
{
	struct flow_key key;
	struct segment seg;
	struct flow *f;
	uint32_t data_seq;
	size_t wire;
	uint64_t h;

	if (!r || !meta || meta->proto != IPPROTO_TCP)
		return;
	if (!payload)
		caplen = 0;
	/* Trust whichever length is larger: captured bytes certainly exist. */
	wire = meta->orig_len > caplen ? meta->orig_len : caplen;
	if (wire > REASM_MAX_SEGMENT)
		wire = REASM_MAX_SEGMENT;
	if (caplen > wire)
		caplen = wire;

	make_key(meta, &key);
	h = hash_bytes(&key, sizeof(key), r->seed);
	f = flow_lookup(r, &key, h);

	if (meta->tcp_flags & DNSSNOOP_TCP_RST) {
		if (f)
			flow_release(r, f);
		return;
	}
	/* The SYN occupies one sequence number; its data (TFO) follows it. */
	data_seq = meta->tcp_seq + !!(meta->tcp_flags & DNSSNOOP_TCP_SYN);
	if (meta->tcp_flags & DNSSNOOP_TCP_SYN) {
		if (!f)
			f = flow_create(r, &key, h, data_seq, meta->ts_ns);
		else if (f->next_seq != data_seq) {
			/* Same addresses, new connection. */
			asm_reset(f);
			drop_held(r, f);
			f->fin_seen = false;
			f->next_seq = data_seq;
		}
	} else if (!f) {
		if (wire == 0)
			return; /* nothing to track */
		/* Heuristic: the first segment seen starts a message. */
		f = flow_create(r, &key, h, data_seq, meta->ts_ns);
	}
	flow_touch(r, f, meta->ts_ns);

	if (wire) {
		seg.meta = meta;
		seg.data = payload ? payload : (const uint8_t *)""; /* never NULL + n */
		seg.avail = caplen;
		seg.missing = wire - caplen;
		accept_segment(r, f, data_seq, &seg, fn, ctx);
	}
	/* After a FIN that came early, the flow ends once the hole before it is filled. */
	if (meta->tcp_flags & DNSSNOOP_TCP_FIN)
		f->fin_seen = true;
	if (f->fin_seen && !f->held)
		flow_release(r, f);
}

void tcp_reasm_expire(struct tcp_reasm *r, uint64_t now_ns, uint64_t idle_ns)
{
	/*
	 * Oldest first; stop at the first flow still active. Packet times
	 * that go backwards can only delay an expiry, never cause one early.
	 */
	while (r && slots_oldest(&r->slots) != SLOTS_NIL) {
		struct flow *f = &r->flows[slots_oldest(&r->slots)];

		if (now_ns <= f->last_ns || now_ns - f->last_ns <= idle_ns)
			break;
		flow_release(r, f);
	}
}
