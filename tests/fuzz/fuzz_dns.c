// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the DNS decoder: parse, then turn every RR's owner
 * name and rdata and the EDNS options into text, checking the invariants
 * the rest of dnssnoop relies on:
 *  - everything dns_parse() indexes lies inside the message;
 *  - owner names of indexed RRs always decode (dns_parse validated them);
 *  - every text is NUL-terminated, its length is what was returned, and it
 *    fits in the buffer given;
 *  - a text cut short by a small buffer is the full text's prefix with
 *    "..." over its last three bytes (fewer dots when cap < 4);
 *  - AAAA text equals glibc's inet_ntop.
 * Seed corpus: tests/fixtures/dns.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* Larger than any text one record can produce (4 bytes per rdata byte, plus names). */
#define BIG_TEXT (5 * 65536)

static char full[BIG_TEXT];
static char part[BIG_TEXT];

/* A text of length n written into a buffer of cap bytes. */
static void check_text(const char *s, int n, size_t cap)
{
	CHECK(n >= 0);
	CHECK((size_t)n < cap);
	CHECK(strlen(s) == (size_t)n);
}

/* Writing into cap bytes gives the full text or its prefix plus "...". */
static void check_cut(const char *whole, int whole_len, const char *cut, int cut_len, size_t cap)
{
	check_text(cut, cut_len, cap);
	if ((size_t)whole_len < cap) {
		CHECK(cut_len == whole_len);
		CHECK(memcmp(cut, whole, (size_t)whole_len) == 0);
		return;
	}
	size_t dots = cap - 1 < 3 ? cap - 1 : 3;

	CHECK((size_t)cut_len == cap - 1);
	CHECK(memcmp(cut, whole, cap - 1 - dots) == 0);
	CHECK(memcmp(cut + cap - 1 - dots, "...", dots) == 0);
}

static void check_rr(const struct dns_msg *m, const struct dns_rr *rr, size_t small_cap)
{
	char name[DNS_MAX_NAME_TEXT], tb[16], cb[16];
	int n = dns_rr_name(m, rr, name);

	CHECK(rr->name_off >= DNS_HEADER_LEN && rr->name_off < m->len);
	CHECK((size_t)rr->rdata_off + rr->rdlen <= m->len);
	CHECK(rr->section >= DNS_SEC_ANSWER && rr->section <= DNS_SEC_ADDITIONAL);
	CHECK(n > 0); /* validated by dns_parse */
	check_text(name, n, sizeof(name));
	CHECK(strlen(dns_type_str(rr->type, tb)) < 16);
	CHECK(strlen(dns_class_str(rr->rclass, cb)) < 16);

	int fl = dns_rr_data(m, rr, full, sizeof(full));

	if (fl < 0) {
		CHECK(full[0] == '\0');
		CHECK(dns_rr_data(m, rr, part, small_cap) == -1 || small_cap == 0);
		return;
	}
	check_text(full, fl, sizeof(full));
	CHECK((size_t)fl < sizeof(full) - 1); /* never cut at this size */

	int pl = dns_rr_data(m, rr, part, small_cap);

	if (small_cap)
		check_cut(full, fl, part, pl, small_cap);

	if (rr->rdlen == 0 && (rr->rclass == 254 || rr->rclass == 255)) {
		CHECK(fl == 0); /* UPDATE's records without rdata: empty text */
		return;
	}
	if (rr->type == 28) { /* AAAA */
		char ref[INET6_ADDRSTRLEN];

		CHECK(inet_ntop(AF_INET6, m->buf + rr->rdata_off, ref, sizeof(ref)) != NULL);
		CHECK(strcmp(ref, full) == 0);
	} else if (rr->type == 1) {
		char ref[INET_ADDRSTRLEN];

		CHECK(inet_ntop(AF_INET, m->buf + rr->rdata_off, ref, sizeof(ref)) != NULL);
		CHECK(strcmp(ref, full) == 0);
	}
}

static void check_msg(const struct dns_msg *m, int rc, size_t size, size_t small_cap)
{
	char b[16];
	unsigned int walked = 0;

	CHECK(rc == DNS_OK || rc == DNS_ERR_SHORT || rc == DNS_ERR_QUESTION);
	CHECK(m->len == (size > 65535 ? 65535 : size));
	CHECK(strlen(m->qname) == m->qname_len);
	CHECK(m->qname_len < DNS_MAX_NAME_TEXT);
	CHECK(m->has_question == (rc == DNS_OK && m->section_count[0] > 0));
	CHECK(m->nrrs <= DNS_MAX_RRS);
	CHECK(m->nrrs <= m->rrs_seen);
	CHECK(m->rcode < 4096);
	CHECK(strlen(dns_rcode_str(m->rcode, b)) < 16);
	CHECK(strlen(dns_opcode_str(m->opcode, b)) < 16);
	for (int s = DNS_SEC_ANSWER; s <= DNS_SEC_ADDITIONAL; s++)
		walked += m->section_count[s];
	CHECK(walked >= m->rrs_seen);
	CHECK(m->section_count[0] <= m->qdcount);
	CHECK(m->section_count[DNS_SEC_ANSWER] <= m->ancount);
	if (rc == DNS_ERR_SHORT)
		CHECK(size < DNS_HEADER_LEN);

	for (unsigned int i = 0; i < m->nrrs; i++)
		check_rr(m, &m->rrs[i], small_cap);

	if (m->edns.present) {
		CHECK((size_t)m->edns.rdata_off + m->edns.rdlen <= m->len);
		if (m->edns.has_ecs)
			CHECK(m->edns.ecs.family == 1 || m->edns.ecs.family == 2);
	}
	int fl = dns_edns_options_text(m, full, sizeof(full));

	if (fl >= 0) {
		check_text(full, fl, sizeof(full));
		if (small_cap)
			check_cut(full, fl, part, dns_edns_options_text(m, part, small_cap),
				  small_cap);
	} else {
		CHECK(m->status & DNS_F_BAD_OPT);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_msg msg;
	/* The last byte, when there is one, also picks a small output buffer. */
	size_t small_cap = size ? data[size - 1] % 64 : 0;
	int rc = dns_parse(data, size, &msg);

	check_msg(&msg, rc, size, small_cap);

	/* Names at arbitrary offsets must decode or fail cleanly. */
	if (size > DNS_HEADER_LEN) {
		char name[DNS_MAX_NAME_TEXT];
		size_t off = DNS_HEADER_LEN + data[0] % (size - DNS_HEADER_LEN);
		int n = dns_name_text(&msg, off, name);

		if (n >= 0)
			check_text(name, n, sizeof(name));
		else
			CHECK(name[0] == '\0');
	}
	return 0;
}
