# SPDX-License-Identifier: Apache-2.0
# sockvx: one entry point for building, testing and running the demo.
# `make help` lists the targets. V=1 prints full commands.

OUTPUT ?= .output
PREFIX ?= /usr/local
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_INCLUDES := -I$(OUTPUT) -Ibpf/include -Ibpf/sockops -Ibpf/tc
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Wno-unused-function $(BPF_INCLUDES)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE \
	-I$(OUTPUT) -Ibpf/include -Ibpf/sockops -Iloader
# SANITIZE=1 builds with ASan and UBSan (`make sanitize` does, in $(OUTPUT)/asan).
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# ASan needs the shared C library: the plugin is linked dynamically then.
CNI_LDFLAGS :=
else
CNI_LDFLAGS := -static
endif
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null || echo -I/usr/include/libnl3)
CFLAGS += $(NL_CFLAGS)
LDLIBS_BPF := -lbpf -lelf -lz -lcjson -lnl-route-3 -lnl-3

BPF_OBJS := $(OUTPUT)/sockops.bpf.o $(OUTPUT)/drain.bpf.o $(OUTPUT)/dataplane.bpf.o
SKELS := $(patsubst %.bpf.o,%.skel.h,$(BPF_OBJS))

LOADER_SRCS := $(wildcard loader/*.c)
LOADER_OBJS := $(patsubst loader/%.c,$(OUTPUT)/loader/%.o,$(LOADER_SRCS))
LOADER_LIB_OBJS := $(filter-out $(OUTPUT)/loader/main.o,$(LOADER_OBJS))

# The CNI plugin is copied onto hosts with other libc versions: it is static.
# It links the loader's objects through an archive, so it takes only what it
# calls, and jansson, as Debian ships no static cJSON.
CNI_SRCS := $(wildcard cni/*.c)
CNI_OBJS := $(patsubst cni/%.c,$(OUTPUT)/cni/%.o,$(CNI_SRCS))
CNI_LIB_OBJS := $(filter-out $(OUTPUT)/cni/main.o,$(CNI_OBJS))
LDLIBS_CNI := -ljansson -lnl-route-3 -lnl-3 -lbpf -lelf -lz -lpthread -lm
# glibc warns that name lookups need its shared NSS modules at run time; the
# plugin resolves no names (libnl's lookup helpers are linked in, never called).
LINK_NOISE := -e 'statically linked applications requires at runtime' -e 'in function `'

TEST_UNIT_SRCS := $(wildcard test/unit/*.c)
TEST_UNIT_BINS := $(patsubst test/unit/%.c,$(OUTPUT)/test/%,$(TEST_UNIT_SRCS))
# BPF program tests (BPF_PROG_RUN): test/bpf/test_*.c, with harness objects test/bpf/*.bpf.c.
TEST_BPF_SRCS := $(wildcard test/bpf/test_*.c)
TEST_BPF_BINS := $(patsubst test/bpf/%.c,$(OUTPUT)/test/%,$(TEST_BPF_SRCS))
TEST_BPF_OBJS := $(patsubst test/bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(wildcard test/bpf/*.bpf.c))
TEST_BPF_SKELS := $(patsubst %.bpf.o,%.skel.h,$(TEST_BPF_OBJS))
TEST_TOOL_SRCS := $(wildcard test/tools/*.c)
TEST_TOOL_BINS := $(patsubst test/tools/%.c,$(OUTPUT)/tools/%,$(TEST_TOOL_SRCS))

.DEFAULT_GOAL := all
# The objects are inputs of the skeletons and of the loader: keep them.
.SECONDARY: $(BPF_OBJS) $(TEST_BPF_OBJS)
.PHONY: all help deps test test-unit test-e2e soak sanitize install uninstall demo bench bench-cni check format clean

all: $(OUTPUT)/sockvxctl $(OUTPUT)/sockvx $(TEST_TOOL_BINS) ## build everything (default)

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install build and test dependencies (apt; idempotent; root)
	$(Q)scripts/install-deps.sh

$(OUTPUT) $(OUTPUT)/loader $(OUTPUT)/cni $(OUTPUT)/test $(OUTPUT)/tools:
	$(Q)mkdir -p $@

# vmlinux.h describes the running kernel's types (CO-RE relocates at load).
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# BPF sources live by dataplane in bpf/sockops/ and bpf/tc/.
vpath %.bpf.c bpf/sockops bpf/tc test/bpf

$(OUTPUT)/%.bpf.o: %.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MT $@ -MF $@.d -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/loader/%.o: loader/%.c $(SKELS) | $(OUTPUT)/loader
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/sockvxctl: $(LOADER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS_BPF) -o $@

$(OUTPUT)/libsockvx.a: $(LOADER_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUTPUT)/cni/%.o: cni/%.c $(SKELS) | $(OUTPUT)/cni
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Icni -MMD -MP -c $< -o $@

$(OUTPUT)/sockvx: $(CNI_OBJS) $(OUTPUT)/libsockvx.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(CNI_LDFLAGS) $^ $(LDLIBS_CNI) -o $@ 2>$@.log || { cat $@.log >&2; exit 1; }
	$(Q)grep -v $(LINK_NOISE) $@.log >&2 || true

$(OUTPUT)/test/%: test/unit/%.c test/unit/unit_helpers.h $(LOADER_LIB_OBJS) | $(OUTPUT)/test
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< $(LOADER_LIB_OBJS) -lcmocka $(LDLIBS_BPF) -o $@

$(OUTPUT)/test/%: test/bpf/%.c test/unit/unit_helpers.h $(SKELS) $(TEST_BPF_SKELS) $(LOADER_LIB_OBJS) | $(OUTPUT)/test
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itest/unit -MMD -MP $< $(LOADER_LIB_OBJS) -lcmocka $(LDLIBS_BPF) -o $@

$(OUTPUT)/tools/%: test/tools/%.c | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -lpthread -lcrypto -o $@

test: deps ## install deps, build, run every test (unit, BPF, fuzz, e2e, sanitized e2e)
	$(Q)$(MAKE) --no-print-directory all $(TEST_UNIT_BINS) $(TEST_BPF_BINS)
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan SANITIZE=1 all
	$(Q)OUTPUT=$(OUTPUT) test/run.sh

test-unit: all $(TEST_UNIT_BINS) $(TEST_BPF_BINS) ## run unit and BPF program tests only
	$(Q)OUTPUT=$(OUTPUT) test/run.sh unit

test-e2e: all ## run end-to-end tests only (E2E=name filters)
	$(Q)OUTPUT=$(OUTPUT) test/run.sh e2e $(E2E)

# ---- install (docs/operations.md) ----
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
CNI_BIN_DIR ?= /opt/cni/bin
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share/sockvx
DOCDIR ?= $(PREFIX)/share/doc/sockvx
INSTALLED := $(SBINDIR)/sockvxctl $(CNI_BIN_DIR)/sockvx $(SYSTEMD_UNIT_DIR)/sockvx.service \
	$(addprefix $(DATADIR)/examples/,$(notdir $(wildcard cni/examples/*.conflist))) \
	$(DOCDIR)/operations.md $(DOCDIR)/cni.md

install: all ## install sockvxctl, the CNI plugin, sockvx.service and examples (PREFIX, DESTDIR)
	$(Q)install -D -m 0755 $(OUTPUT)/sockvxctl $(DESTDIR)$(SBINDIR)/sockvxctl
	$(Q)install -D -m 0755 $(OUTPUT)/sockvx $(DESTDIR)$(CNI_BIN_DIR)/sockvx
	$(Q)mkdir -p $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' deploy/systemd/sockvx.service \
		>$(DESTDIR)$(SYSTEMD_UNIT_DIR)/sockvx.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/sockvx.service
	@# The settings are the operator's: an existing file is kept.
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/sockvx/sockvx.env ] || \
		install -D -m 0644 deploy/systemd/sockvx.env $(DESTDIR)$(SYSCONFDIR)/sockvx/sockvx.env
	$(Q)install -D -m 0644 -t $(DESTDIR)$(DATADIR)/examples cni/examples/*.conflist
	$(Q)install -D -m 0644 -t $(DESTDIR)$(DOCDIR) docs/operations.md docs/cni.md
	@echo "installed; next: edit $(SYSCONFDIR)/sockvx/sockvx.env, then systemctl enable --now sockvx"

uninstall: ## remove what install put in place (a changed sockvx.env is kept)
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)if cmp -s deploy/systemd/sockvx.env $(DESTDIR)$(SYSCONFDIR)/sockvx/sockvx.env; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/sockvx/sockvx.env; fi
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/sockvx $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || true

# sockvxctl, the plugin and the test tools with ASan and UBSan, driven by the
# end-to-end suite: any report fails (test/run.sh sanitize). `make test` runs it.
sanitize: ## run the e2e suite with ASan/UBSan builds of sockvxctl and sockvx (E2E=name filters)
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan SANITIZE=1 all
	$(Q)OUTPUT=$(OUTPUT) test/run.sh sanitize $(E2E)

# The reliability scenarios five times longer than in `make test`
# (docs/reliability.md): about 8 minutes on 2 cores.
SOAK_ENV := TORTURE_CONNS=50000 TORTURE_RELOADS=100 TORTURE_UNLOADS=25 \
	CHURN_ROUNDS=10 KILL_PODS=200
soak: all ## long reliability runs: 50,000 checked connections per run, reload storms, CNI churn
	$(Q)OUTPUT=$(OUTPUT) $(SOAK_ENV) test/run.sh e2e torture,reliability

demo: deps ## install deps, build, run the two-pod sandbox demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)OUTPUT=$(OUTPUT) e2e/demo.sh

bench-cni: all ## benchmark pod set-up: sockvx vs ptp (BENCH_CNI_ARGS="--reps 50 --out DIR")
	$(Q)OUTPUT=$(OUTPUT) bench/cni.sh $(BENCH_CNI_ARGS)

bench: all ## run the benchmark (BENCH_ARGS="--reps 7 --len 5 --out DIR")
	$(Q)OUTPUT=$(OUTPUT) bench/bench.sh $(BENCH_ARGS)

check: $(SKELS) ## static analysis (clang-tidy, cppcheck, shellcheck if present)
	@# Findings count in our sources only; generated skeletons are libbpf's.
	$(Q)clang-tidy --quiet $(LOADER_SRCS) $(TEST_UNIT_SRCS) $(TEST_BPF_SRCS) $(TEST_TOOL_SRCS) $(FUZZ_SRCS) -- $(CFLAGS) -Itest/unit -Icni \
		2>/dev/null | tee $(OUTPUT)/clang-tidy.log | grep -E '^[^ ]*(loader|test|bpf|cni)/[^:]+:[0-9]+:[0-9]+: warning' \
		&& { echo "clang-tidy: findings above" >&2; exit 1; } || true
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -I bpf/include -I loader -I cni \
		-D'LIBBPF_OPTS(T,N,...)=struct T N = {0}' \
		-D'DECLARE_LIBBPF_OPTS(T,N,...)=struct T N = {0}' \
		$(LOADER_SRCS) $(TEST_TOOL_SRCS) $(CNI_TEST_SRCS) $(FUZZ_SRCS)
	$(Q)if command -v shellcheck >/dev/null; then \
		shellcheck -x -P SCRIPTDIR -S warning scripts/*.sh test/*.sh test/fuzz/*.sh e2e/*.sh bench/*.sh deploy/kubernetes/*.sh; fi

format: ## format C sources with the kernel's .clang-format
	$(Q)clang-format -i $(shell find bpf loader test cni -name '*.[ch]' 2>/dev/null)

clean: ## remove generated files
	$(Q)rm -rf $(OUTPUT)

# ---- CNI unit tests and fuzzing (test/unit/test_cni_*.c, test/fuzz/) ----
# CNI unit tests link the plugin's objects (all but main.o) and jansson as
# well; this rule is more specific than $(OUTPUT)/test/%, so it wins.
CNI_TEST_SRCS := $(wildcard test/unit/test_cni_*.c)
FUZZ_SRCS := $(wildcard test/fuzz/*.c)
$(OUTPUT)/test/test_cni_%: test/unit/test_cni_%.c test/unit/unit_helpers.h $(CNI_LIB_OBJS) $(LOADER_LIB_OBJS) | $(OUTPUT)/test
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Icni -MMD -MP $< $(CNI_LIB_OBJS) $(LOADER_LIB_OBJS) -lcmocka -ljansson $(LDLIBS_BPF) -o $@

# libFuzzer harnesses: only the parsers' sources, instrumented (clang).
# `make fuzz` runs each for FUZZ_SECONDS; `make test` for 20 s (test/run.sh).
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes \
	-D_GNU_SOURCE -Ibpf/include -Iloader -Icni
FUZZ_CNI_SRCS := cni/conf.c cni/result.c cni/version.c cni/error.c cni/env.c \
	loader/parse.c loader/log.c
FUZZ_NODELIST_SRCS := loader/nodelist.c loader/parse.c loader/log.c
FUZZ_BINS := $(OUTPUT)/fuzz/fuzz_cni_conf $(OUTPUT)/fuzz/fuzz_nodelist
.PHONY: fuzz

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/fuzz_cni_conf: test/fuzz/fuzz_cni_conf.c test/fuzz/fuzz.h $(FUZZ_CNI_SRCS) $(wildcard cni/*.h loader/*.h) | $(OUTPUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_CNI_SRCS) -ljansson -lbpf -o $@

$(OUTPUT)/fuzz/fuzz_nodelist: test/fuzz/fuzz_nodelist.c test/fuzz/fuzz.h $(FUZZ_NODELIST_SRCS) $(wildcard loader/*.h) | $(OUTPUT)/fuzz
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_NODELIST_SRCS) -lcjson -lbpf -o $@

fuzz: $(FUZZ_BINS) ## fuzz the CNI configuration and NodeList parsers (FUZZ_SECONDS=30 each)
	$(Q)for f in $(patsubst $(OUTPUT)/fuzz/fuzz_%,%,$(FUZZ_BINS)); do \
		OUTPUT=$(OUTPUT) test/fuzz/run.sh $$f $(FUZZ_SECONDS) || exit 1; done

test: $(FUZZ_BINS)
# ---- end of CNI unit tests and fuzzing ----

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d)
