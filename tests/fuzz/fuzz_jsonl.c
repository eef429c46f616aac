// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the JSON Lines reader (capture_jsonl): the input
 * is read as a file of lines by jsonl_source_next() (through fmemopen, as
 * the reader reads any stream), and the whole input is also given to
 * jsonl_parse_line() as one line from an exactly sized buffer without a
 * terminating NUL, so that ASan sees any read past the line.
 *
 * The stream's line cap comes from the first byte (64 + 16 * byte), so
 * that lines over it, skipped unread, are common.
 *
 * Invariants: an observation's strings are NUL-terminated, fit their
 * buffers and are what its fields point at; its qname is a valid
 * presentation-format name (dns_name_text_check); families, directions,
 * protocols and kinds are ones the later stages know; a bad line comes
 * with a reason; the counters add up.
 * Seed corpus: tests/fuzz/corpus/jsonl (tests/fuzz/gen-seeds); dictionary
 * tests/fuzz/fuzz_jsonl.dict.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/capture_jsonl.h"
#include "fuzz_check.h"

#define MAX_CALLS 100000

static void check_record(const struct jsonl_record *rec)
{
	const struct dns_obs *o = &rec->obs;

	CHECK(o->kind == OBS_QUERY || o->kind == OBS_RESPONSE || o->kind == OBS_UNANSWERED);
	CHECK(o->qname == rec->qname);
	CHECK(strlen(rec->qname) == o->qname_len);
	CHECK(o->qname_len < DNS_MAX_NAME_TEXT);
	CHECK(dns_name_text_check(rec->qname, o->qname_len) == NULL);
	CHECK(o->host == NULL || (o->host == rec->host && strlen(rec->host) <= JSONL_HOST_MAX));
	CHECK(o->cgroup == NULL ||
	      (o->cgroup == rec->cgroup && strlen(rec->cgroup) <= JSONL_CGROUP_MAX));
	CHECK(o->owner == NULL || (o->owner == &rec->owner && rec->owner.tgid != 0));
	if (o->owner)
		CHECK(memchr(rec->owner.comm, '\0', sizeof(rec->owner.comm)) != NULL);
	CHECK(o->family == 0 || o->family == AF_INET || o->family == AF_INET6);
	CHECK(o->dir == DNSSNOOP_EGRESS || o->dir == DNSSNOOP_INGRESS ||
	      o->dir == DNSSNOOP_DIR_UNKNOWN);
	CHECK(o->proto == 0 || o->proto == IPPROTO_UDP || o->proto == IPPROTO_TCP);
	CHECK(rec->order_ns >= o->ts_ns);
	CHECK(o->naddrs >= 0 && o->naddrs <= OBS_MAX_ADDRS);
	for (int i = 0; i < o->naddrs; i++)
		CHECK(o->addrs[i].family == AF_INET || o->addrs[i].family == AF_INET6);
	if (o->kind != OBS_RESPONSE)
		CHECK(!o->tc && !o->has_latency && o->naddrs == 0 && o->rcode == 0);
}

static void check_err(const char *err, size_t cap)
{
	size_t n = strnlen(err, cap);

	CHECK(n > 0 && n < cap);
}

static void one_line(const uint8_t *data, size_t size)
{
	static struct jsonl_parser *p;
	static struct jsonl_record rec;
	char err[256] = "";
	int rc;

	if (!p)
		p = jsonl_parser_new(); /* kept across inputs, as the source keeps it across lines
					 */
	CHECK(p != NULL);
	rc = jsonl_parse_line(p, (const char *)data, size, &rec, err, sizeof(err));
	switch (rc) {
	case JSONL_OBSERVATION:
		check_record(&rec);
		break;
	case JSONL_BAD:
		check_err(err, sizeof(err));
		break;
	default:
		CHECK(rc == JSONL_OTHER_TYPE || rc == JSONL_NO_QUESTION || rc == JSONL_BLANK);
		break;
	}
}

static void stream(const uint8_t *data, size_t size)
{
	struct jsonl_source_stats st;
	const struct jsonl_record *rec;
	struct jsonl_source *js;
	uint64_t records = 0;
	char err[1024];
	FILE *f;

	if (size == 0)
		return;
	f = fmemopen((void *)data, size, "r");
	CHECK(f != NULL);
	js = jsonl_source_fopen(f, "fuzz.jsonl", err, sizeof(err));
	CHECK(js != NULL);
	jsonl_source_set_max_line(js, 64 + 16 * (size_t)data[0]);
	for (int n = 0; n < MAX_CALLS; n++) {
		int rc = jsonl_source_next(js, &rec, err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0) {
			check_err(err, sizeof(err));
			continue;
		}
		CHECK(rc == 1);
		records++;
		check_record(rec);
	}
	jsonl_source_get_stats(js, &st);
	CHECK(st.observations == records);
	CHECK(st.observations + st.other_types + st.no_question + st.errors <= st.lines);
	jsonl_source_close(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one_line(data, size);
	stream(data, size);
	return 0;
}
