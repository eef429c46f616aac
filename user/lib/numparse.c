// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Strict decimal numbers: see numparse.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/numparse.h"
#include "lib/units.h"

#define DECIMAL_MAX_TEXT 64

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The number of digits at the start of s[0..len). */
static size_t digit_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_digit(s[n]))
		n++;
	return n;
}

bool num_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!s || len == 0 || digit_run(s, len) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > max || x > (max - d) / 10)
			return false; /* x * 10 + d > max, without overflowing */
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* DIGITS[.DIGITS]: the length of the whole part, or 0 when s is not that. */
static size_t decimal_syntax(const char *s, size_t len)
{
	size_t whole = s ? digit_run(s, len) : 0;

	if (whole == 0)
		return 0;
	if (whole == len)
		return whole;
	if (s[whole] != '.' || whole + 1 == len ||
	    digit_run(s + whole + 1, len - whole - 1) != len - whole - 1)
		return 0;
	return whole;
}

bool num_parse_seconds_ns(const char *s, size_t len, uint64_t max_ns, uint64_t *ns)
{
	size_t whole = decimal_syntax(s, len), frac_digits;
	uint64_t secs, frac = 0;

	if (whole == 0)
		return false;
	frac_digits = whole < len ? len - whole - 1 : 0;
	if (frac_digits > 9)
		return false; /* finer than a nanosecond */
	if (!num_parse_uint(s, whole, max_ns / NS_PER_SEC, &secs))
		return false;
	if (frac_digits && !num_parse_uint(s + whole + 1, frac_digits, UINT64_MAX, &frac))
		return false;
	for (size_t i = frac_digits; i < 9; i++)
		frac *= 10;
	if (frac > max_ns - secs * NS_PER_SEC)
		return false;
	*ns = secs * NS_PER_SEC + frac;
	return true;
}

bool num_parse_decimal(const char *s, size_t len, double *v)
{
	char text[DECIMAL_MAX_TEXT + 1];

	if (len > DECIMAL_MAX_TEXT || decimal_syntax(s, len) == 0)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	*v = strtod(text, NULL); /* the syntax is checked: strtod only converts */
	return true;
}
