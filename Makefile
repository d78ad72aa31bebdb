# tracingplane: top-level build.
#
#   make            build the module, libtpctl, tpctl, unit tests and selftests
#   make check      install what is missing, build, run every test (VM included:
#                   distribution kernel, and a subset on the debug kernel)
#   make check-debug every VM test on the debug kernel (KASAN, lockdep, kmemleak)
#   make debug-kernel build the debug kernel once per machine (cached)
#   make demo       boot a VM, load the module, show baggage travelling
#   make unit       host-side unit and property tests
#   make fuzz       libFuzzer over the shared core (FUZZ_SECONDS, default 60)
#   make bench-core host-side atom-layer benchmark
#   make bench      in-VM benchmark of the module
#   make bench-floor the same for empty hooks: what hooking alone costs
#   make install    PREFIX=/usr/local DESTDIR=
#   make checkpatch kernel style check of kmod/ and tests/bench/floor/
#   tools/prof/profile  instructions per function of a command in the VM

B        := build
KVER      = $(shell tools/kver)
KDIR      = /usr/src/linux-headers-$(KVER)
LINUX_SRC = /usr/src/linux-source-6.1.tar.xz

CC       ?= cc
CLANG    ?= clang
WARN     := -Wall -Wextra -Werror
CPPFLAGS := -D_GNU_SOURCE -Iinclude/uapi -iquote kmod -Ilibtpctl -I$(B)/kselftest
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fPIC -fvisibility=hidden
LDLIBS   := -lmnl

LIB_SRCS := kmod/atom.c $(wildcard libtpctl/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/lib/%.o,$(LIB_SRCS))
LIB_SOVER := 1
LIB_VER   := 1.0.0
LIB_A    := libtpctl/libtpctl.a
LIB_SO   := libtpctl/libtpctl.so.$(LIB_VER)

UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
SELF_SRCS := $(wildcard selftests/*.c)
SELF_BINS := $(patsubst selftests/%.c,$(B)/selftests/%,$(SELF_SRCS))
HARNESS   := $(B)/kselftest/kselftest_harness.h

PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
FUZZ_SECONDS ?= 60

.PHONY: all deps lib tpctl kmod floor-kmod bench-floor unit unit-build selftests vmbench-build prof-build fuzz bench-core bench check \
	check-debug debug-kernel demo install checkpatch clean

all: lib tpctl kmod unit-build selftests vmbench-build prof-build

deps:
	@tools/deps

# ---- userspace: libtpctl and tpctl -----------------------------------
lib: $(LIB_A) $(LIB_SO) libtpctl/libtpctl.pc

$(B)/lib/%.o: %.c $(wildcard kmod/*.h libtpctl/*.h include/uapi/linux/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS) libtpctl/libtpctl.map
	$(CC) -shared -Wl,-soname,libtpctl.so.$(LIB_SOVER) \
		-Wl,--version-script=libtpctl/libtpctl.map -o $@ $(LIB_OBJS) $(LDLIBS)
	ln -sf libtpctl.so.$(LIB_VER) libtpctl/libtpctl.so.$(LIB_SOVER)
	ln -sf libtpctl.so.$(LIB_SOVER) libtpctl/libtpctl.so

libtpctl/libtpctl.pc: libtpctl/libtpctl.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@VERSION@|$(LIB_VER)|' $< > $@

# tpctl links the archive so that ./tools/tpctl runs from the tree.
tpctl: tools/tpctl
tools/tpctl: tools/tpctl.c $(LIB_A)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# ---- instruction profiles in the VM: tools/prof/profile ------------------
prof-build: $(B)/tools/tbcount.so $(B)/tools/prof-mark
$(B)/tools/tbcount.so: tools/prof/tbcount.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $<
$(B)/tools/prof-mark: tools/prof/mark.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

# ---- kernel module ------------------------------------------------------
kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

# ---- kselftest harness, taken from the distribution's kernel source ------
$(HARNESS):
	@mkdir -p $(B)/kselftest
	tar -xJf $(LINUX_SRC) -C $(B)/kselftest --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	touch $@

# ---- host-side tests -------------------------------------------------------
unit-build: $(UNIT_BINS)
$(B)/unit/%: tests/unit/%.c $(LIB_A) $(HARNESS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(LIB_A) $(LDLIBS) -lpthread

unit: unit-build
	@tools/run-suites $(UNIT_BINS)

FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# The fuzzer also runs the TCP option parser, which only the module links.
FUZZ_SRCS := $(LIB_SRCS) kmod/tcp_opt.c
$(B)/fuzz/fuzz_core: tests/fuzz/fuzz_core.c $(FUZZ_SRCS) $(wildcard kmod/*.h libtpctl/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 $(WARN) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS) $(LDLIBS)

fuzz: $(B)/fuzz/fuzz_core
	@tools/fuzz $(B)/fuzz/fuzz_core $(FUZZ_SECONDS)

$(B)/bench/bench_core: tests/bench/bench_core.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=gnu11 $(WARN) -O2 -g -o $@ $< $(LIB_A) $(LDLIBS)

bench-core: $(B)/bench/bench_core
	$(B)/bench/bench_core

# In-VM benchmark programs (tests/bench/vm_*.c), run by tools/bench.
VMBENCH_SRCS := $(wildcard tests/bench/vm_*.c)
VMBENCH_BINS := $(patsubst tests/bench/%.c,$(B)/bench/%,$(VMBENCH_SRCS))
vmbench-build: $(VMBENCH_BINS)
$(B)/bench/vm_%: tests/bench/vm_%.c $(LIB_A) $(wildcard tests/bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS) -lpthread

# ---- in-VM tests -------------------------------------------------------------
selftests: $(SELF_BINS)
$(B)/selftests/%: selftests/%.c $(LIB_A) $(HARNESS) $(wildcard selftests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-unused-parameter -o $@ $< $(LIB_A) $(LDLIBS) -lpthread

check:
	@tools/check

# Every VM selftest on the debug kernel (make check runs a subset there).
check-debug:
	@tools/check --debug

# The debug kernel (KASAN, lockdep, kmemleak, fault injection), built once
# per machine into a cache outside the clone: tools/debug-kernel.
debug-kernel: deps
	@tools/debug-kernel

demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@tools/vm/run --timeout 600 -- tools/demo

bench: deps all vmbench-build
	@tools/vm/run --icount --timeout 3600 -- tools/bench

# The floors (tests/bench/floor/tp_floor.c): pipes under each way of
# hooking a function, TCP under empty netfilter hooks.
FLOOR_ROUNDS ?= 3
floor-kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/bench/floor modules

bench-floor: deps all vmbench-build floor-kmod
	@tools/vm/run --icount --timeout 3600 -- sh -c 'for m in kretprobe kprobe ftrace wrap unix; do \
		BENCH_PROGS=vm_pipe tools/bench --rounds $(FLOOR_ROUNDS) --floor $$m || exit; done; \
		BENCH_PROGS=vm_tcp tools/bench --rounds $(FLOOR_ROUNDS) --floor netfilter'

checkpatch:
	@tools/checkpatch

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)/lib/modules/$(KVER)/extra
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libtpctl.so.$(LIB_VER) $(DESTDIR)$(LIBDIR)/libtpctl.so.$(LIB_SOVER)
	ln -sf libtpctl.so.$(LIB_SOVER) $(DESTDIR)$(LIBDIR)/libtpctl.so
	install -m 0644 libtpctl/libtpctl.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 libtpctl/tpctl.h $(DESTDIR)$(PREFIX)/include/
	install -m 0755 tools/tpctl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 tools/tpctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 kmod/tracingplane.ko $(DESTDIR)/lib/modules/$(KVER)/extra/

clean:
	rm -rf $(B)/lib $(B)/unit $(B)/selftests $(B)/fuzz $(B)/bench
	rm -f $(LIB_A) libtpctl/libtpctl.so* libtpctl/libtpctl.pc tools/tpctl
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/tests/bench/floor clean
