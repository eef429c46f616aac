// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Output files opened safely; see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/outfile.h"

const char *outfile_name(const char *path)
{
	return strcmp(path, "-") ? path : "standard output";
}

/* One line for a system call that failed with errnum; returns -1. */
static int cannot_open(const char *path, int errnum, char *err, size_t errlen)
{
	snprintf(err, errlen, "dnssnoop: cannot open output file %s: %s", path, strerror(errnum));
	return -1;
}

/* Standard output, duplicated, if it is open for writing. */
static int open_stdout(char *err, size_t errlen)
{
	int flags = fcntl(STDOUT_FILENO, F_GETFL);
	int fd;

	if (flags < 0) {
		snprintf(err, errlen, "dnssnoop: cannot write standard output: it is closed");
		return -1;
	}
	if ((flags & O_ACCMODE) == O_RDONLY) {
		snprintf(err, errlen,
			 "dnssnoop: cannot write standard output: it is open for reading only");
		return -1;
	}
	fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		snprintf(err, errlen, "dnssnoop: cannot write standard output: %s",
			 strerror(errno));
	return fd;
}

/*
 * What may be written to: never a symbolic link (it could point anywhere);
 * a regular file only if it is ours and has no other name, so that no
 * file of someone else's choosing is truncated. Devices and pipes are
 * written as they are.
 */
static int check_target(const struct stat *st, const char *path, char *err, size_t errlen)
{
	if (S_ISLNK(st->st_mode)) {
		snprintf(err, errlen,
			 "dnssnoop: refusing to write %s: it is a symbolic link (not followed)",
			 path);
		return -1;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_uid != geteuid()) {
		snprintf(err, errlen,
			 "dnssnoop: refusing to write %s: it belongs to another user (uid %u)",
			 path, (unsigned int)st->st_uid);
		return -1;
	}
	if (st->st_nlink > 1) {
		snprintf(err, errlen,
			 "dnssnoop: refusing to write %s: it has %lu hard links, so it is "
			 "also another file",
			 path, (unsigned long)st->st_nlink);
		return -1;
	}
	return 0;
}

/*
 * The directory path is in, opened to look its last component up in
 * (*base). Refused when anyone may write to it and it is not sticky:
 * anyone could put a link or a file of theirs under the name.
 */
static int open_parent(const char *path, const char **base, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;
	int dfd;

	*base = slash ? slash + 1 : path;
	if (!**base)
		return cannot_open(path, EISDIR, err, errlen);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return cannot_open(path, ENAMETOOLONG, err, errlen);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cannot_open(path, errno, err, errlen);
	if (fstat(dfd, &st) < 0) {
		cannot_open(path, errno, err, errlen);
		close(dfd);
		return -1;
	}
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "dnssnoop: refusing to write %s: its directory is writable by everyone "
			 "and not sticky, so anyone could replace the file",
			 path);
		close(dfd);
		return -1;
	}
	return dfd;
}

/* A name that exists already is checked before it is opened, for a clear message. */
static int check_existing(int dfd, const char *base, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return check_target(&st, path, err, errlen);
	return errno == ENOENT ? 0 : cannot_open(path, errno, err, errlen);
}

/* Open base in dfd without following a link or truncating; checked again once open. */
static int open_checked(int dfd, const char *base, const char *path, char *err, size_t errlen)
{
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			OUTFILE_MODE);
	struct stat st;

	if (fd < 0) {
		if (errno == ELOOP) /* replaced by a link since it was checked */
			snprintf(err, errlen,
				 "dnssnoop: refusing to write %s: it is a symbolic link (not "
				 "followed)",
				 path);
		else
			cannot_open(path, errno, err, errlen);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		cannot_open(path, errno, err, errlen);
		close(fd);
		return -1;
	}
	if (check_target(&st, path, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int outfile_open(const char *path, char *err, size_t errlen)
{
	const char *base;
	int dfd, fd = -1;

	if (!strcmp(path, "-"))
		return open_stdout(err, errlen);
	dfd = open_parent(path, &base, err, errlen);
	if (dfd < 0)
		return -1;
	if (check_existing(dfd, base, path, err, errlen) == 0)
		fd = open_checked(dfd, base, path, err, errlen);
	close(dfd);
	return fd;
}

int outfile_truncate(int fd, off_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

bool outfile_is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}
