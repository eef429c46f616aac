// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for DNS-over-TCP reassembly (tcpreasm), driven as the
 * pipeline drives it: segments of several connections, both directions,
 * IPv4 and IPv6, fed in packet time order with tcp_reasm_expire() run on
 * the pipeline's 100 ms tick with its 60 s idle time.
 *
 * Input: one byte of configuration (bits 0-4: max_flows - 1), then
 * segments, each a header and its captured payload:
 *   h[0]    bits 0-1: connection; bit 2: server to client; bit 3: IPv6;
 *           bit 4: SYN; bit 5: FIN; bit 6: RST; bit 7: absolute sequence
 *   h[1]    packet time step: 500 ms units; 255 steps 1 s back
 *   seq     bit 7 set: 4 bytes, the sequence number; else 2 bytes, a
 *           signed step from where the flow's previous segment ended
 *           (0: in order, < 0: retransmission, > 0: gap)
 *   len     2 bytes: payload length on the wire
 *   cut     1 byte: bytes of the capture cut off (snap length)
 *   data    min(len, what is left) - cut bytes
 *
 * Invariants: every message lies in readable memory, len <= wire_len <=
 * 65535 and truncated == (len < wire_len); flows stay within max_flows.
 * And a model: while no flow was evicted and time never went back, a flow
 * fed only in order and fully captured since it began (SYN, or the first
 * segment seen) must deliver exactly the messages its byte stream holds,
 * and the number of flows tracked is the model's. A segment that comes
 * early (a hole before it) may be held by tcpreasm for as long as the
 * hole stays open, a FIN with it: the model does not follow that, so such
 * a flow is never checked again in this run ("reordered"), nor is the
 * number of flows once any flow was. Out-of-order delivery itself is
 * checked by tests/unit/test_tcpreasm.c; here the bounds on what is held
 * are.
 * Seed corpus: tests/fuzz/corpus/tcpreasm (tests/fuzz/gen-seeds).
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/tcpreasm.h"
#include "fuzz_check.h"

#define NFLOWS	     16 /* connection x direction x family */
#define MAX_SEGMENTS 4096
#define NS_PER_MSEC  1000000ull
#define TICK_NS	     (100 * NS_PER_MSEC)
#define IDLE_NS	     (60000 * NS_PER_MSEC)
#define MODEL_BUF    (2 * 65536 + 2)
#define STALE_WINDOW (1u << 24) /* tcpreasm.c's REASM_STALE_WINDOW */

struct model_flow {
	bool exists; /* tcpreasm tracks it */
	bool clean; /* in order and fully captured since it began: buf is its stream */
	bool reordered; /* saw a segment ahead of the stream: tcpreasm may hold it */
	uint32_t next_seq; /* where the previous segment ended */
	uint64_t last_ns;
	uint32_t len, pos; /* bytes in buf; bytes of them delivered */
	uint8_t buf[MODEL_BUF];
};

static struct model_flow model[NFLOWS];

struct run {
	bool valid; /* no eviction, no time going back: the model holds */
	bool reordered; /* some flow was: the number of flows is not the model's */
	struct model_flow *cur; /* the flow of the segment being fed */
	const struct pkt_meta *meta;
	const uint8_t *payload;
	size_t caplen;
	uint64_t messages;
};

/* The next message of the model's stream, skipping empty ones; false if incomplete. */
static bool model_next(struct model_flow *m, const uint8_t **msg, uint32_t *len)
{
	for (;;) {
		uint32_t left = m->len - m->pos, l;

		if (left < 2)
			return false;
		l = (uint32_t)m->buf[m->pos] << 8 | m->buf[m->pos + 1];
		if (l == 0) {
			m->pos += 2;
			continue;
		}
		if (left - 2 < l)
			return false;
		*msg = m->buf + m->pos + 2;
		*len = l;
		m->pos += 2 + l;
		return true;
	}
}

static void on_message(void *ctx, const struct pkt_meta *meta, const uint8_t *msg, size_t len,
		       size_t wire_len, bool truncated)
{
	struct run *run = ctx;
	struct model_flow *m = run->cur;

	run->messages++;
	CHECK(meta == run->meta);
	CHECK(len <= wire_len);
	CHECK(wire_len >= 1 && wire_len <= 65535);
	CHECK(truncated == (len < wire_len));
	CHECK(msg != NULL || len == 0);
	fuzz_touch(msg, len);
	if (run->valid && m->clean) {
		const uint8_t *want;
		uint32_t want_len;

		CHECK(model_next(m, &want, &want_len));
		CHECK(!truncated);
		CHECK(len == want_len);
		CHECK(memcmp(msg, want, len) == 0);
	}
}

static uint32_t be(const uint8_t *p, int n)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void fill_meta(struct pkt_meta *meta, int conn, bool reverse, bool v6)
{
	uint8_t client[16] = {0}, server[16] = {0};

	memset(meta, 0, sizeof(*meta));
	meta->family = v6 ? AF_INET6 : AF_INET;
	meta->proto = IPPROTO_TCP;
	meta->dir = DNSSNOOP_DIR_UNKNOWN;
	client[0] = server[0] = v6 ? 0xfd : 10;
	client[v6 ? 15 : 3] = (uint8_t)(1 + conn);
	server[v6 ? 15 : 3] = 53;
	memcpy(reverse ? meta->daddr : meta->saddr, client, 16);
	memcpy(reverse ? meta->saddr : meta->daddr, server, 16);
	meta->sport = reverse ? 53 : (uint16_t)(40000 + conn);
	meta->dport = reverse ? (uint16_t)(40000 + conn) : 53;
}

static void model_reset(struct model_flow *m, uint32_t next_seq)
{
	m->exists = true;
	m->clean = !m->reordered;
	m->next_seq = next_seq;
	m->len = m->pos = 0;
}

/* The model's view of the segment before it is fed: what tcpreasm will do with the flow. */
static void model_before(struct model_flow *m, const struct pkt_meta *meta, const uint8_t *payload,
			 uint32_t cap, uint32_t wire)
{
	uint8_t fl = meta->tcp_flags;
	uint32_t data_seq = meta->tcp_seq + !!(fl & DNSSNOOP_TCP_SYN);
	uint32_t ahead, behind;

	if (fl & DNSSNOOP_TCP_RST) {
		m->exists = false;
		return;
	}
	if (fl & DNSSNOOP_TCP_SYN) {
		if (!m->exists || m->next_seq != data_seq)
			model_reset(m, data_seq);
	} else if (!m->exists) {
		if (wire == 0)
			return;
		model_reset(m, data_seq);
	}
	if (!wire)
		return;
	if (data_seq != m->next_seq || cap < wire)
		m->clean = false;
	/* tcpreasm's next sequence number: unchanged by a pure retransmission. */
	ahead = data_seq - m->next_seq;
	behind = m->next_seq - data_seq;
	if (ahead != 0 && ahead < 0x80000000u)
		m->reordered = true;
	if (ahead == 0 || ahead < 0x80000000u || behind > STALE_WINDOW || behind < wire)
		m->next_seq = data_seq + wire;
	if (!m->clean)
		return;
	/* Keep only the undelivered tail, then append. */
	memmove(m->buf, m->buf + m->pos, m->len - m->pos);
	m->len -= m->pos;
	m->pos = 0;
	memcpy(m->buf + m->len, payload, cap);
	m->len += cap;
}

static void model_after(struct run *run, struct model_flow *m, const struct pkt_meta *meta)
{
	const uint8_t *msg;
	uint32_t len;

	if (run->valid && m->exists && m->clean)
		CHECK(!model_next(m, &msg, &len)); /* nothing complete left behind */
	if (meta->tcp_flags & DNSSNOOP_TCP_FIN)
		m->exists = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run run = {.valid = true};
	struct tcp_reasm_stats st;
	struct tcp_reasm *r;
	uint64_t now = 1700000000ull * 1000000000ull, next_tick = 0, evicted = 0;
	size_t max_flows, pos = 1;

	if (size < 1)
		return 0;
	max_flows = 1 + (data[0] & 31);
	r = tcp_reasm_new(max_flows);
	if (!r)
		return 0;
	for (int i = 0; i < NFLOWS; i++)
		model[i].exists = model[i].reordered = false;

	for (int n = 0; n < MAX_SEGMENTS; n++) {
		const uint8_t *h = data + pos;
		bool abs_seq;
		int seq_len, idx;
		struct pkt_meta meta;
		struct model_flow *m;
		uint32_t wire, cap, cut, seq;
		uint8_t *copy;

		if (size - pos < 2)
			break;
		abs_seq = h[0] & 0x80;
		seq_len = abs_seq ? 4 : 2;
		if (size - pos < (size_t)(2 + seq_len + 3))
			break;
		idx = h[0] & 15;
		m = &model[idx];
		fill_meta(&meta, h[0] & 3, h[0] & 4, h[0] & 8);
		meta.tcp_flags = (uint8_t)(((h[0] & 0x10) ? DNSSNOOP_TCP_SYN : 0) |
					   ((h[0] & 0x20) ? DNSSNOOP_TCP_FIN : 0) |
					   ((h[0] & 0x40) ? DNSSNOOP_TCP_RST : 0));
		if (h[1] == 255) {
			now -= 1000 * NS_PER_MSEC;
			run.valid = false; /* LRU order is no longer time order */
		} else {
			now += h[1] * 500 * NS_PER_MSEC;
		}
		seq = be(h + 2, seq_len);
		if (!abs_seq)
			seq = m->next_seq + (uint32_t)(int32_t)(int16_t)seq -
			      !!(meta.tcp_flags & DNSSNOOP_TCP_SYN);
		wire = be(h + 2 + seq_len, 2);
		cut = h[2 + seq_len + 2];
		pos += 2 + seq_len + 3;
		cap = wire;
		if (cap > size - pos)
			cap = (uint32_t)(size - pos);
		copy = malloc(cap ? cap : 1); /* exactly sized: ASan sees reads past it */
		if (!copy)
			break;
		memcpy(copy, data + pos, cap);
		pos += cap;
		cap -= cut < cap ? cut : cap;
		meta.ts_ns = now;
		meta.tcp_seq = seq;
		meta.orig_len = wire;

		/* The pipeline's tick. */
		if (now >= next_tick) {
			next_tick = now + TICK_NS;
			tcp_reasm_expire(r, now, IDLE_NS);
			for (int i = 0; i < NFLOWS; i++)
				if (model[i].exists && now > model[i].last_ns &&
				    now - model[i].last_ns > IDLE_NS)
					model[i].exists = false;
		}

		model_before(m, &meta, copy, cap, wire);
		if (m->exists)
			m->last_ns = now;
		run.cur = m;
		run.meta = &meta;
		tcp_reasm_feed(r, &meta, cap ? copy : NULL, cap, on_message, &run);
		tcp_reasm_get_stats(r, &st);
		if (st.evicted != evicted) {
			evicted = st.evicted;
			run.valid = false;
		}
		model_after(&run, m, &meta);
		CHECK(st.messages == run.messages);
		CHECK(st.active <= max_flows);
		CHECK(st.held_bytes <= TCP_REASM_HOLD_TOTAL);
		CHECK(st.held_bytes <= st.active * TCP_REASM_HOLD_FLOW_BYTES);
		CHECK(st.held_segments <= st.active * TCP_REASM_HOLD_FLOW_SEGS);
		run.reordered |= m->reordered;
		if (run.valid && !run.reordered) {
			uint64_t active = 0;

			for (int i = 0; i < NFLOWS; i++)
				active += model[i].exists;
			CHECK(st.active == active);
		}
		free(copy);
	}
	tcp_reasm_free(r);
	return 0;
}
