// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Field text shared by every writer and by the JSON Lines reader: RFC 3339
 * time (written and parsed), addresses, protocol names, escaping for text
 * lines. Pure functions; see fmt.h.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "lib/fmt.h"

/* ---- time, written ---- */

/* Fixed-width decimal, most significant digit first. */
char *fmt_digits(char *p, unsigned int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/*
 * Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil
 * inverse). Pure arithmetic: no gmtime_r, no locale, no cache to keep.
 */
static void civil_from_days(uint64_t days, unsigned int *y, unsigned int *m, unsigned int *d)
{
	uint64_t z = days + 719468; /* days since 0000-03-01 */
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097; /* [0, 146096] */
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;

	*d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (unsigned int)(yoe + era * 400 + (*m <= 2));
}

/* "HH:MM:SS.uuuuuu" (UTC). */
char *fmt_hms(char *p, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / NS_PER_SEC;
	unsigned int sod = (unsigned int)(sec % SECS_PER_DAY);

	p = fmt_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = fmt_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = fmt_digits(p, sod % 60, 2);
	*p++ = '.';
	return fmt_digits(p, (unsigned int)(ts_ns % NS_PER_SEC / 1000), 6);
}

void fmt_time(char *out, uint64_t ts_ns)
{
	unsigned int y, m, d;
	char *p = out;

	civil_from_days(ts_ns / NS_PER_SEC / SECS_PER_DAY, &y, &m, &d);
	p = fmt_digits(p, y, 4);
	*p++ = '-';
	p = fmt_digits(p, m, 2);
	*p++ = '-';
	p = fmt_digits(p, d, 2);
	*p++ = 'T';
	p = fmt_hms(p, ts_ns);
	*p = 'Z';
}

void fmt_json_time(struct jbuf *j, uint64_t ts_ns)
{
	char t[FMT_RFC3339_LEN + 2];

	t[0] = '"';
	fmt_time(t + 1, ts_ns);
	t[FMT_RFC3339_LEN + 1] = '"';
	jbuf_raw(j, t, sizeof(t));
}

char *fmt_put_json_time(char *p, struct fmt_time_memo *memo, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / NS_PER_SEC;
	unsigned int us = (unsigned int)(ts_ns % NS_PER_SEC / 1000);

	if (memo->sec_plus1 != sec + 1) {
		char t[FMT_RFC3339_LEN];

		fmt_time(t, ts_ns);
		memcpy(memo->text, t, sizeof(memo->text));
		memo->sec_plus1 = sec + 1;
	}
	*p = '"';
	p = jput(p + 1, memo->text, sizeof(memo->text));
	p = jput(p, &jbuf_digit_pairs[2 * (us / 10000)], 2);
	p = jput(p, &jbuf_digit_pairs[2 * (us / 100 % 100)], 2);
	p = jput(p, &jbuf_digit_pairs[2 * (us % 100)], 2);
	return JPUT(p, "Z\"");
}

/* ---- time, parsed ---- */

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap_year(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int days_in_month(unsigned int y, unsigned int m)
{
	static const unsigned char days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* n decimal digits at s into *v; false if any is not a digit. */
static bool digits(const char *s, int n, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned int)(s[i] - '0');
	}
	return true;
}

/* "Z", or "+HH:MM" / "-HH:MM" into seconds east of UTC; the rest of s must be just that. */
static bool parse_offset(const char *s, size_t len, int64_t *east)
{
	unsigned int hh, mm;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*east = 0;
		return true;
	}
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s + 1, 2, &hh) ||
	    !digits(s + 4, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*east = (s[0] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
	return true;
}

bool fmt_parse_time(const char *s, size_t len, uint64_t *ns)
{
	unsigned int y, mo, d, h, mi, sec, frac = 0;
	size_t i = 19;
	int64_t secs, east;
	int fdigits = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60) /* 60: a leap second */
		return false;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, fdigits++)
			if (fdigits < 9) /* finer than ns: cut */
				frac = frac * 10 + (unsigned int)(s[i] - '0');
		if (!fdigits)
			return false;
		for (int k = fdigits; k < 9; k++)
			frac *= 10;
	}
	if (!parse_offset(s + i, len - i, &east))
		return false;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - east;
	/* Before 1970 or past 2554-07-21T23:34:33Z: not a time in 64-bit ns. */
	if (secs < 0 || (uint64_t)secs > (UINT64_MAX - frac) / NS_PER_SEC)
		return false;
	*ns = (uint64_t)secs * NS_PER_SEC + frac;
	return true;
}

/* ---- addresses ---- */

/* Every byte value's digits, and their count in the last of the four. */
#define DEC_DIGIT(n, i) ((n) >= 100 ? (n) / (i == 0 ? 100 : i == 1 ? 10 : 1) % 10 + '0' \
			 : (n) >= 10 && i < 2 ? (n) / (i == 0 ? 10 : 1) % 10 + '0'        \
			 : i == 0	       ? (n) % 10 + '0'                             \
					       : 0)
#define DEC8(n)	 {DEC_DIGIT(n, 0), DEC_DIGIT(n, 1), DEC_DIGIT(n, 2), 1 + ((n) >= 10) + ((n) >= 100)}
#define DEC8_4(n)  DEC8(n), DEC8((n) + 1), DEC8((n) + 2), DEC8((n) + 3)
#define DEC8_16(n) DEC8_4(n), DEC8_4((n) + 4), DEC8_4((n) + 8), DEC8_4((n) + 12)
#define DEC8_64(n) DEC8_16(n), DEC8_16((n) + 16), DEC8_16((n) + 32), DEC8_16((n) + 48)
static const char dec8[256][4] = {DEC8_64(0), DEC8_64(64), DEC8_64(128), DEC8_64(192)};

/* v's digits; writes four bytes (every caller's buffer has the slack). */
static char *put_dec8(char *p, unsigned int v)
{
	memcpy(p, dec8[v], 4);
	return p + dec8[v][3];
}

static char *put_ipv4(char *p, const uint8_t a[4])
{
	p = put_dec8(p, a[0]);
	*p++ = '.';
	p = put_dec8(p, a[1]);
	*p++ = '.';
	p = put_dec8(p, a[2]);
	*p++ = '.';
	return put_dec8(p, a[3]);
}

/* v's hex digits, no leading zeros. */
static char *put_hex16(char *p, unsigned int v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = v ? (31 - __builtin_clz(v)) & ~3 : 0;

	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 0xf];
	return p;
}

/*
 * RFC 5952 text (lower case, leading zeros dropped, the first longest run
 * of two or more zero groups as "::"), IPv4-mapped addresses in mixed
 * notation (::ffff:a.b.c.d); v4compat: the deprecated IPv4-compatible ones
 * too (::a.b.c.d), as glibc's inet_ntop and dig print them.
 */
static char *put_ipv6(char *p, const uint8_t a[16], bool v4compat)
{
	unsigned int w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 &&
		    ((best_len == 6 && v4compat) || (best_len == 5 && w[5] == 0xffff)))
			return put_ipv4(p, a + 12);
		p = put_hex16(p, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

size_t fmt_addr(char *out, uint8_t family, const uint8_t *addr)
{
	if (family == AF_INET)
		return (size_t)(put_ipv4(out, addr) - out);
	if (family == AF_INET6)
		return (size_t)(put_ipv6(out, addr, false) - out);
	return 0;
}

size_t fmt_ipv6_as_dig(char *out, const uint8_t *addr)
{
	return (size_t)(put_ipv6(out, addr, true) - out);
}

void fmt_json_addr(struct jbuf *j, uint8_t family, const uint8_t *addr)
{
	char text[FMT_ADDR_MAX];
	size_t n = fmt_addr(text, family, addr);

	if (n)
		jbuf_word(j, text, n);
	else
		jbuf_null(j);
}

char *fmt_put_json_addr(char *p, uint8_t family, const uint8_t *addr)
{
	if (family == AF_INET) {
		*p = '"';
		p = put_ipv4(p + 1, addr);
	} else if (family == AF_INET6) {
		*p = '"';
		p = put_ipv6(p + 1, addr, false);
	} else {
		return JPUT(p, "null");
	}
	*p = '"';
	return p + 1;
}

/* ---- protocols and text lines ---- */

const char *fmt_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_TCP:
		return "tcp";
	default:
		return NULL;
	}
}

/* Which bytes a line may carry as they are; the others are written \DDD. */
static bool keeps(unsigned char c, enum fmt_keep keep)
{
	if (c < 0x20 || c == 0x7f)
		return false;
	if (keep == FMT_KEEP_ALL_BUT_CONTROLS)
		return true;
	return c < 0x7f && !(keep == FMT_KEEP_PRINTABLE_NO_BACKSLASH && c == '\\');
}

void fmt_text_escape(struct jbuf *j, const char *s, size_t n, enum fmt_keep keep)
{
	if (!jbuf_reserve(j, 4 * n))
		return;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *p = j->buf + j->len;

		if (keeps(c, keep)) {
			*p = (char)c;
			j->len++;
			continue;
		}
		p[0] = '\\';
		fmt_digits(p + 1, c, 3);
		j->len += 4;
	}
}

/*
 * Bytes for a terminal: printable ASCII as is, everything else as \DDD
 * (the RFC 1035 convention the names already use), so a line stays one
 * line whatever the kernel or the wire sent. Backslashes are doubled only
 * for raw strings (comm, host); decoder text already escapes its own.
 */
void fmt_text_safe(struct jbuf *j, const char *s, size_t n, bool raw)
{
	fmt_text_escape(j, s, n, raw ? FMT_KEEP_PRINTABLE_NO_BACKSLASH : FMT_KEEP_PRINTABLE);
}
