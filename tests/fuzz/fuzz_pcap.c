// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the offline input path of `dnssnoop -r FILE`: the
 * input is the file (held in a memfd, opened by its /proc/self/fd path),
 * which merge_add() tells apart by its first bytes and hands to the pcap
 * source (libpcap reading pcap or pcapng; netparse, ipfrag), to the dnstap
 * source (Frame Streams, protobuf-c) or, when it looks like JSON Lines, to
 * the JSON Lines source; merge_next() then
 * pulls every packet or observation, going on after errors as the
 * pipeline's reader does. Ports 53 and 15353 (that of the captures in
 * tests/fixtures/pcap) are the DNS ports.
 *
 * Invariants: each packet handed on is UDP or TCP to or from a DNS port,
 * its payload is readable and no longer than on the wire, and items carry
 * their own time.
 * Seed corpus: tests/fuzz/corpus/pcap (tests/fuzz/gen-seeds).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/merge.h"
#include "fuzz_check.h"

#define MAX_ITEMS 200000 /* far more than any input of libFuzzer's sizes holds */

static const uint16_t ports[] = {53, 15353};

static int memfd = -1;
static char path[64];

static void check_item(const struct merge_item *it)
{
	CHECK(it->input == 0);
	if (it->kind == MERGE_PCAP) {
		const struct pkt_meta *m = it->meta;

		CHECK(m != NULL);
		CHECK(it->ts_ns == m->ts_ns);
		CHECK(m->proto == IPPROTO_UDP || m->proto == IPPROTO_TCP);
		CHECK(m->family == AF_INET || m->family == AF_INET6);
		CHECK(m->sport == 53 || m->dport == 53 || m->sport == 15353 || m->dport == 15353);
		CHECK(it->caplen <= m->orig_len);
		CHECK(it->payload != NULL || it->caplen == 0);
		fuzz_touch(it->payload, it->caplen);
	} else if (it->kind == MERGE_DNSTAP) {
		/* A server's log: a whole message, any ports, the vantage said. */
		CHECK(it->meta != NULL && it->meta->vantage != NULL);
		CHECK(it->ts_ns == it->meta->ts_ns);
		CHECK(it->caplen > 0 && it->caplen == it->meta->orig_len);
		fuzz_touch(it->payload, it->caplen);
	} else {
		CHECK(it->kind == MERGE_JSONL);
		CHECK(it->obs != NULL);
		CHECK(it->obs->qname != NULL);
		CHECK(strlen(it->obs->qname) == it->obs->qname_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct merge_config cfg = {.filter = NULL, .ports = ports, .nports = 2};
	struct merge_item item;
	char err[1024], line[1024];
	struct merge *m;
	int kind;

	if (memfd < 0) {
		memfd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
		CHECK(memfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0);
	CHECK(size == 0 || pwrite(memfd, data, size, 0) == (ssize_t)size);

	m = merge_new(&cfg);
	CHECK(m != NULL);
	kind = merge_add(m, path, err, sizeof(err));
	if (kind < 0) {
		CHECK(merge_inputs(m) == 0);
		merge_free(m);
		return 0;
	}
	CHECK(kind == MERGE_PCAP || kind == MERGE_JSONL || kind == MERGE_DNSTAP);
	CHECK(merge_has(m, kind));
	for (int n = 0; n < MAX_ITEMS; n++) {
		int rc = merge_next(m, &item, err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0) {
			CHECK(strlen(err) < sizeof(err));
			continue; /* a damaged pcap ends there, JSON Lines go on */
		}
		CHECK(rc == 1);
		CHECK(item.kind == (enum merge_input_kind)kind);
		check_item(&item);
	}
	merge_describe(m, 0, line, sizeof(line));
	CHECK(strlen(line) < sizeof(line));
	merge_free(m);
	return 0;
}
