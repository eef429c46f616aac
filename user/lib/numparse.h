/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Numbers from text (flags, and numbers inside JSON strings), in one
 * strict syntax: plain decimal digits, optionally (where a fraction makes
 * sense) a '.' and more digits. Nothing else is a number here: no sign,
 * no white space, no 0x or leading-zero octal, no exponent, no "inf" or
 * "nan", nothing after the digits; values past the bound are refused,
 * never clamped or wrapped. strtoul and strtod accept all of those, which
 * is why they are not used on input directly.
 */
#ifndef DNSSNOOP_NUMPARSE_H
#define DNSSNOOP_NUMPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* s[0..len) is DIGITS with a value <= max: true with *v. */
bool num_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v);

/*
 * s[0..len) is seconds as DIGITS[.DIGITS], with at most 9 digits after
 * the point (a nanosecond is the unit of every time here): true with *ns
 * when the value is <= max_ns. "0.0000000001" is refused, not rounded to 0.
 */
bool num_parse_seconds_ns(const char *s, size_t len, uint64_t max_ns, uint64_t *ns);

/* s[0..len) is DIGITS[.DIGITS] (at most 64 characters): true with *v. */
bool num_parse_decimal(const char *s, size_t len, double *v);

#endif
