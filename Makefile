# dnssnoop — build, test and install. See README.md.
#
#   make            build build/dnssnoop
#   make deps       install missing Debian packages (apt-get)
#   sudo make run   short live trace of this host
#   sudo make test  unit tests (ASan/UBSan) + integration tests (real BPF)
#   make test-kernels  the live smoke suite on Debian's 5.10, 6.1 and 6.12
#                   kernels, booted in qemu (tests/kernels/run.py)
#   make fuzz-smoke run the decoder fuzzer briefly

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
FUZZ_SECONDS ?= 30

# Debian packages the build, the tests and the lab need.
BUILD_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev libpcap-dev libjson-c-dev pkg-config libpsl-dev
TEST_PKGS  := nsd dnsutils iproute2 python3 libclang-rt-14-dev tshark tcpdump publicsuffix tzdata
# tools/bench-overhead's load generator and peers (tcpdump and tshark are above).
BENCH_PKGS := dnsperf dnstop
# make test-kernels: qemu boots the kernels; the guest's initramfs is busybox,
# the tracer, nsd, dig and bpftool (cpio packs it, xz unpacks kernel modules).
KERNEL_PKGS := qemu-system-x86 busybox-static cpio xz-utils
DEPS_STAMP := $(BUILD)/.deps

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wno-unused-parameter
# Headers are named from the repository root ("bpf/dnssnoop.h") and from
# user/ with their stage ("proto/dns.h"); -MMD -MP writes each object's
# header dependencies next to it.
CPPFLAGS  += -D_GNU_SOURCE -I. -Iuser -I$(BUILD)
DEPFLAGS  := -MMD -MP
LDLIBS    := -lbpf -lelf -lz -lpcap -ljson-c -lpsl -lm
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

VMLINUX   := vmlinux/$(ARCH)/vmlinux.h
BPF_SRC   := bpf/dnssnoop.bpf.c
BPF_OBJ   := $(BUILD)/dnssnoop.bpf.o
SKEL      := $(BUILD)/dnssnoop.skel.h

# user/STAGE/*.c; the live capture is the one object that needs the BPF
# skeleton, and unit tests do without it (so they need no BPF toolchain).
USER_SRCS := $(wildcard user/*/*.c)
MAIN_SRC  := user/app/dnssnoop.c user/app/session.c
LIVE_SRC  := user/capture/capture_live.c
LIB_SRCS  := $(filter-out $(MAIN_SRC) $(LIVE_SRC),$(USER_SRCS))
OBJS      := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
ASAN_OBJS := $(patsubst user/%.c,$(BUILD)/asan/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRCS))
# Tests of the project's own tools (tools/run-tests first of all).
TOOL_TESTS := $(wildcard tests/tools/test_*.py)

.PHONY: all deps run test test-kernels unit integration fuzz-smoke install clean vmlinux format
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:
# Keep the sanitizer objects between test builds (they are otherwise intermediate).
.SECONDARY: $(ASAN_OBJS)

all: $(DEPS_STAMP) $(BUILD)/dnssnoop

# Install what is missing, once (apt-get update first: a fresh machine's lists may be absent).
$(DEPS_STAMP):
	@mkdir -p $(BUILD)
	@missing=$$(for p in $(BUILD_PKGS) $(TEST_PKGS) $(BENCH_PKGS) $(KERNEL_PKGS); do \
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

# User side.
$(BUILD)/obj/capture/capture_live.o: $(SKEL)

$(BUILD)/obj/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/dnssnoop: $(OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Unit tests: every tests/unit/test_X.c is one cmocka binary linked with
# all user objects but main, the session and the live capture (which needs the
# BPF skeleton), built with ASan and UBSan.
$(BUILD)/asan/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) $(DEPFLAGS) -c $< -o $@

$(BUILD)/asan/test_%: tests/unit/test_%.c $(ASAN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) $(DEPFLAGS) $< $(ASAN_OBJS) -lcmocka $(LDLIBS) -o $@

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/asan/*/*.d $(BUILD)/asan/*.d $(BUILD)/fuzz/*.d)

# tools/check-layers: includes run only downwards through user/'s stages.
unit: $(DEPS_STAMP) $(UNIT_BINS)
	@tools/check-layers
	@tools/run-tests unit $(TOOL_TESTS) $(UNIT_BINS)

integration: $(DEPS_STAMP) $(BUILD)/dnssnoop
	@tools/run-tests integration tests/integration/test_*.py

test: $(DEPS_STAMP) $(BUILD)/dnssnoop $(UNIT_BINS)
	@tools/check-layers
	@tools/run-tests all $(TOOL_TESTS) $(UNIT_BINS) tests/integration/test_*.py

# Debian's kernels (downloaded once into build/kernels) booted in qemu.
test-kernels: $(DEPS_STAMP) $(BUILD)/dnssnoop
	@tools/run-tests kernels tests/kernels/run.py

run: $(DEPS_STAMP) $(BUILD)/dnssnoop
	$(BUILD)/dnssnoop -d 10

# Fuzzing (clang's libFuzzer).
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/fuzz_dns: tests/fuzz/fuzz_dns.c user/proto/dns.c user/proto/dns_text.c user/lib/fmt.c user/lib/json.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) $(DEPFLAGS) tests/fuzz/fuzz_dns.c user/proto/dns.c user/proto/dns_text.c user/lib/fmt.c user/lib/json.c -o $@

fuzz-smoke: $(DEPS_STAMP) $(BUILD)/fuzz/fuzz_dns
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_dns -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(BUILD)/fuzz/corpus tests/fixtures/dns

install: $(BUILD)/dnssnoop
	install -D -m 0755 $(BUILD)/dnssnoop $(DESTDIR)$(PREFIX)/sbin/dnssnoop

format:
	clang-format -i user/*/*.c user/*/*.h bpf/*.c bpf/*.h tests/unit/*.c tests/fuzz/*.c

clean:
	rm -rf $(BUILD)
