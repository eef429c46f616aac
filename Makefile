# dnssnoop — build, test and install. See README.md.
#
#   make            build build/dnssnoop
#   make deps       install missing Debian packages (apt-get)
#   sudo make run   short live trace of this host
#   sudo make test  unit tests (ASan/UBSan) + integration tests (real BPF)
#   make test-kernels  the live smoke suite on Debian's 5.10, 6.1 and 6.12
#                   kernels, booted in qemu (tests/kernels/run.py)
#   make fuzz-smoke run each parser's fuzzer briefly (tests/fuzz; FUZZ_SECONDS each,
#                   default 10) from the seed corpora in tests/fuzz/corpus
#   make fuzz       the same for longer (default 300 s each), keeping the grown
#                   corpora in build/fuzz/work (see docs/testing.md)

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# FUZZ_SECONDS (per fuzz target) is unset: fuzz-smoke and fuzz have their own defaults.

# Debian packages the build, the tests and the lab need (podman, runc and
# busybox-static: the container of tests/integration/test_identity.py; man-db
# and groff-base: test_manpage.py renders build/dnssnoop.8; bash-completion:
# the completion's helpers, which test_manpage.py runs; clickhouse-server:
# the --clickhouse sink's servers, tests/integration/clickhouse.py).
BUILD_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev libpcap-dev libjson-c-dev pkg-config libpsl-dev libseccomp-dev libzstd-dev liblzma-dev liblz4-dev libsqlite3-dev \
	      libfstrm-dev libprotobuf-c-dev protobuf-c-compiler libncurses-dev libcurl4-openssl-dev
TEST_PKGS  := nsd dnsutils bind9-utils iptables zstd lz4 iproute2 python3 gdb util-linux binutils libclang-rt-14-dev tshark tcpdump publicsuffix tzdata time prometheus \
	      unbound fstrm-bin dnstap-ldns tmux podman runc busybox-static man-db groff-base bash-completion \
	      clickhouse-server clickhouse-client
# tools/bench-overhead's load generator and peers (tcpdump and tshark are above).
BENCH_PKGS := dnsperf dnstop
# make deb: debhelper and dpkg-dev build the package, lintian checks it;
# tests/integration/test_package.py checks the unit with systemd-analyze
# (systemd) and the system calls of its sandbox with strace.
DEB_PKGS   := debhelper dpkg-dev lintian systemd strace
# make test-kernels: qemu boots the kernels; the guest's initramfs is busybox,
# the tracer, nsd, dig and bpftool (cpio packs it, xz unpacks kernel modules).
KERNEL_PKGS := qemu-system-x86 busybox-static cpio xz-utils
DEPS_STAMP := $(BUILD)/.deps

# The version is the top entry of debian/changelog ("dnssnoop (0.1.0) ..."):
# one place, read by --version and by the Debian package (make deb).
VERSION   := $(shell sed -n '1s/^dnssnoop (\([0-9A-Za-z.+~-]*\)) .*/\1/p' debian/changelog)
ifeq ($(VERSION),)
$(error no version: debian/changelog must start with "dnssnoop (VERSION) ...")
endif

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wno-unused-parameter
# Headers are named from the repository root ("bpf/dnssnoop.h") and from
# user/ with their stage ("proto/dns.h"); -MMD -MP writes each object's
# header dependencies next to it.
CPPFLAGS  += -D_GNU_SOURCE -I. -Iuser -I$(BUILD) -I$(BUILD)/gen
DEPFLAGS  := -MMD -MP
LDLIBS    := -lbpf -lelf -lz -lzstd -llzma -llz4 -lpcap -ljson-c -lpsl -lseccomp -lsqlite3 -lfstrm -lprotobuf-c -lncursesw -lcurl -lm
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

VMLINUX   := vmlinux/$(ARCH)/vmlinux.h
BPF_SRC   := bpf/dnssnoop.bpf.c
BPF_OBJ   := $(BUILD)/dnssnoop.bpf.o
SKEL      := $(BUILD)/dnssnoop.skel.h

# user/STAGE/*.c; the live capture is the one object that needs the BPF
# skeleton, and unit tests do without it (so they need no BPF toolchain).
# protoc-c's code for the dnstap schema, generated into $(BUILD)/gen and
# compiled with the stage objects (as gen/capture/dnstap.pb-c).
PROTO     := user/capture/dnstap.proto
GEN_C     := $(BUILD)/gen/capture/dnstap.pb-c.c
GEN_H     := $(BUILD)/gen/capture/dnstap.pb-c.h
USER_SRCS := $(wildcard user/*/*.c) $(GEN_C)
MAIN_SRC  := user/app/dnssnoop.c user/app/session.c
LIVE_SRC  := user/capture/capture_live.c
LIB_SRCS  := $(filter-out $(MAIN_SRC) $(LIVE_SRC),$(USER_SRCS))
OBJS      := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS)))
ASAN_OBJS := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/asan/gen/%.o,$(patsubst user/%.c,$(BUILD)/asan/%.o,$(LIB_SRCS)))
# The tracer built with ASan and UBSan: what the integration tests run, so
# that a memory error on live or hostile input is reported, not silent. Built
# by clang: gcc's UBSan, linked with its ASan, ignores log_path, and the
# tests collect every report through log_path (tests/integration/runner.py).
SAN_BIN   := $(BUILD)/san/dnssnoop
SAN_OBJS  := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/san/gen/%.o,$(patsubst user/%.c,$(BUILD)/san/%.o,$(USER_SRCS)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRCS))
# What tools/cli-doc makes from the option table.
CLI_DOC    := $(BUILD)/cli-doc
MAN_PAGE   := $(BUILD)/dnssnoop.8
COMPLETION := $(BUILD)/completion/dnssnoop
DOCS_GEN   := $(MAN_PAGE) $(COMPLETION)
# Tests of the project's own tools (tools/run-tests first of all).
TOOL_TESTS := $(wildcard tests/tools/test_*.py)

.PHONY: all deps run test test-kernels unit integration asan fuzz-smoke install clean vmlinux format
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:
# Keep the sanitizer objects between test builds (they are otherwise intermediate).
.SECONDARY: $(ASAN_OBJS) $(SAN_OBJS)

all: $(DEPS_STAMP) $(BUILD)/dnssnoop $(DOCS_GEN)

# Install what is missing, once (apt-get update first: a fresh machine's lists may be absent).
$(DEPS_STAMP):
	@mkdir -p $(BUILD)
	@missing=$$(for p in $(BUILD_PKGS) $(TEST_PKGS) $(BENCH_PKGS) $(KERNEL_PKGS) $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to apt-get install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@touch $@
deps: $(DEPS_STAMP)

# Kernel side: BPF object and its skeleton (vmlinux.h of the target architecture).
$(BPF_OBJ): $(BPF_SRC) bpf/dnssnoop.h $(VMLINUX)
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -I$(dir $(VMLINUX)) -Ibpf \
		-c $< -o $@
	llvm-strip -g $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< > $@

# Regenerate vmlinux.h from the running kernel's BTF.
vmlinux:
	@mkdir -p $(dir $(VMLINUX))
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

# User side. Every object waits for the generated header (order only: the
# -MMD dependencies say which ones include it).
$(GEN_C) $(GEN_H) &: $(PROTO)
	@mkdir -p $(@D)
	protoc-c --proto_path=$(dir $(PROTO)) --c_out=$(BUILD)/gen/capture $(PROTO)

$(BUILD)/obj/capture/capture_live.o: $(SKEL)

# --version's build facts: the version (VERSION), the git revision
# ("unknown" outside a git tree; -dirty with uncommitted changes) and libbpf's
# full version. Looked at on every make, rewritten only when they change: a
# new commit rebuilds app/version.o and nothing else.
BUILDINFO := $(BUILD)/gen/app/buildinfo.h
.PHONY: FORCE
$(BUILDINFO): FORCE
	@mkdir -p $(@D)
	@rev=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	if [ "$$rev" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then rev=$$rev-dirty; fi; \
	bpf=$$(pkg-config --modversion libbpf 2>/dev/null); \
	{ echo "/* Generated by the Makefile for app/version.c. */"; \
	  echo "#define DNSSNOOP_VERSION \"$(VERSION)\""; \
	  echo "#define DNSSNOOP_GIT \"$$rev\""; \
	  if [ -n "$$bpf" ]; then echo "#define DNSSNOOP_LIBBPF \"$$bpf\""; fi; } > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/app/version.o $(BUILD)/asan/app/version.o $(BUILD)/san/app/version.o: $(BUILDINFO)

$(BUILD)/obj/%.o: user/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) -c $< -o $@

# Generated code: compiled without our warnings (it is not ours to fix).
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/dnssnoop: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# tools/bench-clickhouse's driver of the ClickHouse sink alone, optimised
# like the tracer and linked with the same objects but main's; built by
# make test so that it keeps compiling.
LIB_OBJS := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS)))
$(BUILD)/bench-sink: tools/bench-sink.c $(LIB_OBJS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $< $(LIB_OBJS) $(LDLIBS) -o $@

# Unit tests: every tests/unit/test_X.c is one cmocka binary linked with
# all user objects but main, the session and the live capture (which needs the
# BPF skeleton), built with ASan and UBSan.
$(BUILD)/asan/%.o: user/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/san/capture/capture_live.o: $(SKEL)

$(BUILD)/san/%.o: user/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/asan/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SAN) -c $< -o $@

$(BUILD)/san/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -O1 -g $(SAN) -c $< -o $@

$(SAN_BIN): $(SAN_OBJS)
	$(CLANG) -O1 -g $(SAN) $^ $(LDLIBS) -o $@
asan: $(DEPS_STAMP) $(SAN_BIN)

$(BUILD)/asan/test_%: tests/unit/test_%.c $(ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) $(DEPFLAGS) $< $(ASAN_OBJS) -lcmocka $(LDLIBS) -o $@

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/san/*/*.d $(BUILD)/asan/*/*.d $(BUILD)/asan/*.d $(BUILD)/fuzz/*.d)

# tools/check-layers: includes run only downwards through user/'s stages.
# The man page and the bash completion, made from the option table
# (user/app/cli_options.c) by tools/cli-doc, so that neither keeps a flag
# list by hand.
# The page's version is --version's, from the build facts (buildinfo.h,
# rewritten when VERSION changes).
$(CLI_DOC): tools/cli-doc.c $(BUILD)/obj/app/cli_options.o $(BUILDINFO)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $(filter-out %.h,$^)
$(MAN_PAGE): man/dnssnoop.8.in $(CLI_DOC)
	$(CLI_DOC) man $< > $@
$(COMPLETION): $(CLI_DOC)
	@mkdir -p $(@D)
	$(CLI_DOC) bash > $@

unit: $(DEPS_STAMP) $(UNIT_BINS)
	@tools/check-layers
	@tools/run-tests unit $(TOOL_TESTS) $(UNIT_BINS)

# Integration tests run the sanitizer build of the tracer.
integration: $(DEPS_STAMP) $(DOCS_GEN) $(SAN_BIN)
	@DNSSNOOP_BIN=$(abspath $(SAN_BIN)) tools/run-tests integration tests/integration/test_*.py

test: $(DEPS_STAMP) $(BUILD)/dnssnoop $(BUILD)/bench-sink $(DOCS_GEN) $(SAN_BIN) $(UNIT_BINS)
	@tools/check-layers
	@DNSSNOOP_BIN=$(abspath $(SAN_BIN)) tools/run-tests all $(TOOL_TESTS) $(UNIT_BINS) \
		tests/integration/test_*.py

# Debian's kernels (downloaded once into build/kernels) booted in qemu.
test-kernels: $(DEPS_STAMP) $(BUILD)/dnssnoop
	@tools/run-tests kernels tests/kernels/run.py

run: $(DEPS_STAMP) $(BUILD)/dnssnoop
	$(BUILD)/dnssnoop -d 10

# Fuzzing (clang's libFuzzer): one target per parser of untrusted input,
# tests/fuzz/fuzz_T.c, linked with the objects of user/ that FUZZ_OBJS_T
# names (built with coverage instrumentation in $(BUILD)/fuzz/obj) and the
# libraries of FUZZ_LIBS_T. tests/fuzz/run runs them; crashes are kept in
# $(BUILD)/fuzz/crashes/T and fail the make target.
FUZZ_TARGETS := dns netparse ipfrag tcpreasm pcap jsonl pcapng dnstap
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer $(FUZZ_SAN)
FUZZ_OBJS_dns      := proto/dns proto/dns_text proto/dns_rdata proto/dns_textbuf lib/fmt lib/json \
		      lib/numparse
FUZZ_OBJS_netparse := capture/netparse
FUZZ_OBJS_ipfrag   := capture/ipfrag capture/netparse
FUZZ_OBJS_tcpreasm := proto/tcpreasm lib/slots
FUZZ_OBJS_pcapng   := capture/pcapng
FUZZ_OBJS_jsonl    := capture/capture_jsonl proto/dns proto/dns_text proto/dns_rdata \
		      proto/dns_textbuf lib/fmt lib/json lib/numparse
FUZZ_LIBS_jsonl    := -ljson-c
FUZZ_OBJS_dnstap   := capture/capture_dnstap capture/framestream gen/capture/dnstap.pb-c
FUZZ_LIBS_dnstap   := -lfstrm -lprotobuf-c
FUZZ_OBJS_pcap     := capture/merge capture/capture_pcap capture/pcapng capture/decompress \
		      capture/ipfrag capture/netparse \
		      capture/dnstap_socket $(FUZZ_OBJS_jsonl) $(FUZZ_OBJS_dnstap)
FUZZ_LIBS_pcap     := -lpcap -ljson-c -lz -lzstd -llzma -llz4 $(FUZZ_LIBS_dnstap)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz
-include $(wildcard $(BUILD)/fuzz/obj/*/*.d)

$(BUILD)/fuzz/obj/%.o: user/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(WARN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

# One rule for every target: $$* is T, so the prerequisites are T's objects.
.SECONDEXPANSION:
$(FUZZ_BINS): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
		$$(addprefix $(BUILD)/fuzz/obj/,$$(addsuffix .o,$$(FUZZ_OBJS_$$*)))
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) $(WARN) $(DEPFLAGS) $< $(filter %.o,$^) $(FUZZ_LIBS_$*) -o $@

# Smoke: each target from the repository's seeds, new units in a temporary
# directory, so every run starts from the same place.
fuzz-smoke: $(DEPS_STAMP) $(FUZZ_BINS)
	@tests/fuzz/run smoke $(or $(FUZZ_SECONDS),10) $(BUILD) $(FUZZ_TARGETS)

# Longer: new units go to $(BUILD)/fuzz/work/T, where the next `make fuzz`
# goes on from (rm -rf it to start over), to be merged into the seeds on
# purpose: $(BUILD)/fuzz/fuzz_T -merge=1 tests/fuzz/corpus/T $(BUILD)/fuzz/work/T
fuzz: $(DEPS_STAMP) $(FUZZ_BINS)
	@tests/fuzz/run long $(or $(FUZZ_SECONDS),300) $(BUILD) $(FUZZ_TARGETS)

# Mutation testing: tools/mutate applies each one-line bug of
# tools/mutations.txt to a private copy of the tree and checks that the test
# named for it fails (docs/testing.md). Not part of `make test`.
.PHONY: mutate
mutate:
	@tools/mutate $(MUTATE_ARGS)

install: $(BUILD)/dnssnoop $(DOCS_GEN)
	install -D -m 0755 $(BUILD)/dnssnoop $(DESTDIR)$(PREFIX)/sbin/dnssnoop
	install -D -m 0644 $(MAN_PAGE) $(DESTDIR)$(PREFIX)/share/man/man8/dnssnoop.8
	install -D -m 0644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dnssnoop

# The Debian package (debian/): debian/rules builds it with this Makefile in
# build/pkg and writes it to build/deb, both inside the tree (the .changes
# and .buildinfo of dpkg-buildpackage would go to the parent directory).
# The build stamp goes first, or dh would package the binary of the last
# build. lintian must report no error and no warning (the overrides, each
# with its reason, are in debian/dnssnoop.lintian-overrides).
DEB = build/deb/dnssnoop_$(VERSION)_$(shell dpkg --print-architecture).deb
.PHONY: deb
deb: $(DEPS_STAMP)
	dpkg-checkbuilddeps
	rm -f debian/debhelper-build-stamp
	env -u MAKEFLAGS -u MAKELEVEL DEB_BUILD_OPTIONS="parallel=$$(nproc) $$DEB_BUILD_OPTIONS" \
		debian/rules binary
	lintian --fail-on error,warning --tag-display-limit 0 $(DEB)

format:
	clang-format -i user/*/*.c user/*/*.h bpf/*.c bpf/*.h tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD)
