/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How fields look as text, in one place for every writer (records,
 * statistics, findings) and for the JSON Lines reader that parses them
 * back: time units, RFC 3339 time, addresses, protocol names, and the
 * escaping that keeps a text line one line. docs/output.md describes the
 * formats.
 */
#ifndef DNSSNOOP_FMT_H
#define DNSSNOOP_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "lib/units.h"

#define FMT_RFC3339_LEN 27 /* "2026-11-27T14:05:01.123456Z", no NUL */
#define FMT_ADDR_MAX	48 /* INET6_ADDRSTRLEN + slack (fmt.c writes 3 bytes past an IPv4 text) */

/* v as width decimal digits at p (most significant first); returns p + width. */
char *fmt_digits(char *p, unsigned int v, int width);
/* "HH:MM:SS.uuuuuu" (UTC) at p; returns the end. */
char *fmt_hms(char *p, uint64_t ts_ns);
/* RFC 3339 UTC with microseconds into out[FMT_RFC3339_LEN] (not terminated). */
void fmt_time(char *out, uint64_t ts_ns);
/* The same as a JSON string value. */
void fmt_json_time(struct jbuf *j, uint64_t ts_ns);
/*
 * The text of the last whole second written, so that the records of one
 * second (timestamps mostly rise) format only their microseconds.
 * Zero-initialised it holds nothing.
 */
struct fmt_time_memo {
	uint64_t sec_plus1; /* 0: empty */
	char text[20]; /* "2026-11-27T14:05:01." */
};

/* fmt_time() as a JSON string value at p (FMT_RFC3339_LEN + 2 bytes). */
char *fmt_put_json_time(char *p, struct fmt_time_memo *memo, uint64_t ts_ns);
/*
 * RFC 3339 text (any offset, any fraction; finer than ns is cut) to ns
 * since the epoch; false unless it is exactly that, on or after 1970.
 */
bool fmt_parse_time(const char *s, size_t len, uint64_t *ns);

/* IPv4 dotted quad or RFC 5952 IPv6 into out[FMT_ADDR_MAX] (not
 * terminated); returns the length, 0 for an unknown family. */
size_t fmt_addr(char *out, uint8_t family, const uint8_t *addr);
/*
 * An IPv6 address as dig and inet_ntop print it (AAAA rdata): the same,
 * but the deprecated IPv4-compatible form in mixed notation too (::a.b.c.d).
 */
size_t fmt_ipv6_as_dig(char *out, const uint8_t *addr);
/* The same as a JSON string value, null for an unknown family. */
void fmt_json_addr(struct jbuf *j, uint8_t family, const uint8_t *addr);
/* The same at p (FMT_ADDR_MAX + 2 bytes); returns the end. */
char *fmt_put_json_addr(char *p, uint8_t family, const uint8_t *addr);
/* "udp", "tcp", or NULL for another protocol. */
const char *fmt_proto_name(uint8_t proto);

/* Which bytes a text line may carry as they are; the others are written \DDD. */
enum fmt_keep {
	FMT_KEEP_PRINTABLE, /* printable ASCII (decoder text: escapes its own '\\') */
	FMT_KEEP_PRINTABLE_NO_BACKSLASH, /* raw strings: '\\' escaped so \DDD is unambiguous */
	FMT_KEEP_ALL_BUT_CONTROLS, /* finished text lines: UTF-8 kept, no line breaks */
};

void fmt_text_escape(struct jbuf *j, const char *s, size_t n, enum fmt_keep keep);
/*
 * Bytes for a terminal: printable ASCII as is, everything else as \DDD.
 * raw: the bytes are not presentation-format text (comm, cgroup, host), so
 * '\' is written \092 too; decoder names already escape their own.
 */
void fmt_text_safe(struct jbuf *j, const char *s, size_t n, bool raw);

#endif
