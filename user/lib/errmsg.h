/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Modules report what went wrong as one line in a buffer the caller
 * passes down (err, errlen); only the main program prints. This is the
 * one way to fill such a buffer.
 */
#ifndef DNSSNOOP_ERRMSG_H
#define DNSSNOOP_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void set_err(char *err, size_t errlen,
								 const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
