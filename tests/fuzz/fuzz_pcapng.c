// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the pcapng reader (capture/pcapng.c) over one file,
 * the input itself. Every packet it returns must lie inside the block it
 * read, have a known interface, and the reader must end (0 or -1 with a
 * message) without reading past anything.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "capture/pcapng.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapng_reader *r;
	struct pcapng_packet p;
	char err[256];
	uint64_t n = 0;
	int rc;
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	CHECK(f != NULL);
	r = pcapng_open(f);
	CHECK(r != NULL);
	while ((rc = pcapng_next(r, &p, err, sizeof(err))) == 1) {
		CHECK(p.caplen <= PCAPNG_MAX_BLOCK);
		CHECK(p.caplen == 0 || p.data != NULL);
		fuzz_touch(p.data, p.caplen);
		CHECK(++n == pcapng_packets(r));
	}
	CHECK(rc == 0 || (rc == -1 && err[0]));
	pcapng_close(r);
	return 0;
}
