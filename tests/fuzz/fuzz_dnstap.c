// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the dnstap file reader (capture/capture_dnstap.c, with
 * the Frame Streams splitter of capture/framestream.c and protobuf-c) over
 * one file, the input itself. Every message it returns must lie inside a
 * frame's bounds, carry a vantage with a known type, and the reader must
 * end (0, or -1 with a message) without reading past anything.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture_dnstap.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dnstap_packet *p;
	struct dnstap_source *ds;
	struct dnstap_stats st;
	char err[256];
	int rc, rounds = 0;
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	CHECK(f != NULL);
	ds = dnstap_source_fopen(f, "fuzz", err, sizeof(err));
	CHECK(ds != NULL);
	/* A bad frame is reported and skipped: go on until the end, as merge.c does. */
	while ((rc = dnstap_source_next(ds, &p, err, sizeof(err))) != 0 && rounds++ < 100000) {
		if (rc < 0) {
			CHECK(err[0]);
			continue;
		}
		CHECK(p->len > 0 && p->len <= DNSTAP_MAX_FRAME);
		fuzz_touch(p->msg, p->len);
		CHECK(p->meta.vantage && p->meta.vantage->type);
		CHECK(dnstap_type_name(1) && !dnstap_type_name(0));
		CHECK(p->meta.family == 2 || p->meta.family == 10);
	}
	dnstap_source_get_stats(ds, &st);
	CHECK(st.messages + st.no_message + st.bad == st.frames);
	dnstap_source_close(ds);
	return 0;
}
