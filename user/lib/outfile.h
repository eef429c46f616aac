/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output files (-o, -w) opened so that a privileged run cannot be turned
 * against another file: the last path component is never followed as a
 * symbolic link, a file of another user or with other hard links is
 * refused, and nothing is created in a directory anyone may write to
 * unless it is sticky. New files get mode 0600. Opening never truncates:
 * the caller truncates when the session is sure to start, so a failed
 * start leaves an existing file as it was. "-" is standard output.
 */
#ifndef DNSSNOOP_OUTFILE_H
#define DNSSNOOP_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OUTFILE_MODE 0600

/* How messages name path: "standard output" for "-". */
const char *outfile_name(const char *path);

/*
 * A descriptor to write path with (standard output duplicated for "-",
 * after checking it is open for writing), or -1 with one line naming
 * the file in err.
 */
int outfile_open(const char *path, char *err, size_t errlen);

/*
 * Cut fd back to len bytes when it is a regular file (a device, pipe or
 * socket is left alone). Returns 0 or -errno.
 */
int outfile_truncate(int fd, off_t len);

/*
 * Whether fd is a pipe or a socket: there EPIPE only says that the reader
 * went away, a quiet end as for other Unix tools.
 */
bool outfile_is_pipe(int fd);

#endif
