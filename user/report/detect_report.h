/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Writing the detectors' findings (records of type "finding", or text lines). */
#ifndef DNSSNOOP_DETECT_REPORT_H
#define DNSSNOOP_DETECT_REPORT_H

#include "analysis/detect.h"
#include "report/output.h"

/*
 * Judge and write every finding (the end of a session). Returns the
 * number written or -errno. d NULL or out NULL: nothing, 0.
 */
int detect_report(struct detect *d, struct output *out);
/*
 * At an --interval close: judge and write only the findings not written
 * at an earlier close, each marked as an interval finding. Returns the
 * number written or -errno.
 */
int detect_report_new(struct detect *d, struct output *out);

#endif
