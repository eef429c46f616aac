// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --version. The version number, the git revision and libbpf's full
 * version come from the Makefile through app/buildinfo.h, generated at
 * build time and rewritten only when they change, so that only this object
 * is rebuilt for a new commit. The number is the top entry of
 * debian/changelog, so that the binary and its Debian package cannot
 * disagree.
 */
/* libbpf.h and pcap.h both define struct bpf_insn: only the version macros. */
#include <bpf/libbpf_version.h>
#include <json-c/json_c_version.h>
#include <libpsl.h>
#include <lz4.h>
#include <lzma.h>
#include <ncurses.h>
#include <pcap/pcap.h>
#include <protobuf-c/protobuf-c.h>
#include <seccomp.h>
#include <sqlite3.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "app/buildinfo.h"
#include "app/version.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

#ifndef DNSSNOOP_VERSION
#error "app/buildinfo.h has no DNSSNOOP_VERSION: build with the Makefile"
#endif
#ifndef DNSSNOOP_GIT
#define DNSSNOOP_GIT "unknown"
#endif
/* Without pkg-config: the header's major.minor (it has no patch level). */
#ifndef DNSSNOOP_LIBBPF
#define DNSSNOOP_LIBBPF STR(LIBBPF_MAJOR_VERSION) "." STR(LIBBPF_MINOR_VERSION)
#endif

/*
 * Some libraries say more than their number ("libpcap version 1.10.3
 * (with TPACKET_V3)", "ncurses 6.4.20221231"): the first word that starts
 * with a digit.
 */
static void print_number(FILE *f, const char *lib, const char *text)
{
	const char *v = text ? strpbrk(text, "0123456789") : NULL;

	if (v)
		fprintf(f, "%s %.*s\n", lib, (int)strcspn(v, " "), v);
}

static void print_seccomp(FILE *f)
{
	const struct scmp_version *v = seccomp_version();

	if (v)
		fprintf(f, "libseccomp %u.%u.%u\n", v->major, v->minor, v->micro);
}

const char *version_name(void)
{
	return "dnssnoop " DNSSNOOP_VERSION;
}

void version_print(FILE *f)
{
	fprintf(f, "dnssnoop %s (git %s)\n", DNSSNOOP_VERSION, DNSSNOOP_GIT);
	fprintf(f, "libbpf %s\n", DNSSNOOP_LIBBPF);
	print_number(f, "libpcap", pcap_lib_version());
	fprintf(f, "json-c %s\n", json_c_version());
	fprintf(f, "sqlite %s\n", sqlite3_libversion());
	fprintf(f, "protobuf-c %s\n", protobuf_c_version());
	fprintf(f, "zlib %s\n", zlibVersion());
	fprintf(f, "zstd %s\n", ZSTD_versionString());
	fprintf(f, "xz %s\n", lzma_version_string());
	fprintf(f, "lz4 %s\n", LZ4_versionString());
	print_seccomp(f);
	print_number(f, "libpsl", psl_get_version());
	print_number(f, "ncurses", curses_version());
}
