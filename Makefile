# SPDX-License-Identifier: MIT
# libpercpu build.  Plain GNU make.
#   make              libraries and percpu-info in build/
#   make demo         build and run the demonstration (examples/demo.c)
#   make check        build and run the test suite: plain, then ASan+UBSan, then TSan
#   make check-cross  the plain suite for aarch64 and riscv64 under qemu-user
#   make bench        build and run the benchmarks: one table of ratios (not in CI)
#   make bench-peer   libpercpu against librseq (../shared/peers) in the same process
#   make mutate       mutation score of the suite (tools/mutate.sh, tests/mutants.txt)
#   make install      PREFIX, LIBDIR, INCLUDEDIR, BINDIR, MANDIR and DESTDIR as packagers expect
#   make uninstall    removes what make install put there (same variables)
#   make fuzz         run each libFuzzer target in fuzz/ for FUZZ_SECONDS (needs clang)
# CC=clang works the same.  B=dir chooses the build folder; SAN=asan|tsan|fuzz adds sanitizers;
# WERROR=1 turns warnings into errors (make check sets it; a plain make does not, so a newer
# compiler's new warning never breaks a user's or a distribution's build).
# CPPFLAGS, CFLAGS, CXXFLAGS and LDFLAGS (command line or environment) belong to the user:
# they are added after what the build needs (PCPU_*), never in place of it.
# make check also runs check-install (staged install, pkg-config and CMake clients, man
# pages, uninstall), check-headers (strict C and C++) and check-cxx (the C++ twins).

CC      ?= cc
AR      ?= ar
B       ?= build
SAN     ?=
WERROR  ?=
# The version is written once, in include/percpu.h (PCPU_VERSION_*); the date of the man
# pages is that of the version's entry at the top of NEWS.
VERSION := $(shell sed -n 's/^\#define PCPU_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' \
		include/percpu.h | paste -sd.)
MANDATE := $(shell sed -n '1s/.*(\([0-9-]*\)).*/\1/p' NEWS)
SOVER   := $(firstword $(subst ., ,$(VERSION)))

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CMAKEDIR   ?= $(LIBDIR)/cmake/libpercpu

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CXXFLAGS ?= -O2 -g
PCPU_SAN      :=
PCPU_LDFLAGS  :=
ifeq ($(SAN),asan)
PCPU_SAN      += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PCPU_LDFLAGS  += -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
PCPU_SAN      += -fsanitize=thread -fno-omit-frame-pointer
PCPU_LDFLAGS  += -fsanitize=thread
endif
ifeq ($(SAN),fuzz)
PCPU_SAN      += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=all -fsanitize-coverage-ignorelist=fuzz/coverage-ignore.txt
PCPU_LDFLAGS  += -fsanitize=address,undefined
endif
# -z defs (no undefined symbol left in libpercpu.so) holds for plain builds; clang links
# the sanitizer runtimes into executables only, so a sanitized .so has undefined __asan_*
# or __tsan_* symbols until the program that loads it brings them.
SO_DEFS       := $(if $(SAN),,-Wl,-z,defs)
PCPU_CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc
PCPU_CFLAGS   := -std=gnu11 $(WARN) $(PCPU_SAN)
# The twins compile C tests as C++: C's `= { 0 }` is no missing initializer.
PCPU_CXXFLAGS := -std=c++11 $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(WARN)) \
		 -Wno-missing-field-initializers $(PCPU_SAN)
# What every compile and link line uses: the build's flags first, the user's last (so a
# user's -O0 or -Wno-... wins).
ALL_CFLAGS   = $(PCPU_CPPFLAGS) $(CPPFLAGS) $(PCPU_CFLAGS) $(CFLAGS)
ALL_CXXFLAGS = $(PCPU_CPPFLAGS) $(CPPFLAGS) $(PCPU_CXXFLAGS) $(CXXFLAGS)
ALL_LDFLAGS  = $(PCPU_LDFLAGS) $(LDFLAGS)
# 1- and 2-byte atomics (the this_cpu operations, inline in the headers) are calls into
# libatomic on some targets (riscv64): link it where a program using them needs it.
LIBATOMIC := $(shell printf 'unsigned char c; int main(void) { unsigned char e = 0; \
	return __atomic_fetch_add(&c, 1, 0) + __atomic_compare_exchange_n(&c, &e, 1, 0, 0, 0); }' \
	| $(CC) -x c -o /dev/null - >/dev/null 2>&1 || echo -latomic)
LIBS    := -lpthread -ldl $(LIBATOMIC)

LIB_SRCS := $(sort $(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRCS))
HEADERS  := $(wildcard include/*.h include/percpu/*.h include/percpu/arch/*.h src/*.h)

SO       := $(B)/libpercpu.so
SONAME   := libpercpu.so.$(SOVER)
AR_LIB   := $(B)/libpercpu.a
INFO     := $(B)/percpu-info

all: $(SO) $(AR_LIB) $(INFO)

# __PCPU_LIBRARY_BUILD: the library is one ELF object with one section-registration
# constructor, which only src/sections.c emits (percpu.h), not one per file.
$(B)/obj/%.o: src/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DPCPU_RSEQ_UNLOADABLE=0 -D__PCPU_LIBRARY_BUILD \
		-c $< -o $@

$(SO): $(LIB_OBJS) src/libpercpu.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libpercpu.map $(SO_DEFS) -Wl,-z,nodelete \
		$(ALL_LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)
	ln -sf libpercpu.so $(B)/$(SONAME)

$(AR_LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

INFO_SRCS := tools/percpu-info.c tools/remote.c tools/map.c
$(INFO): $(INFO_SRCS) tools/remote.h tools/map.h $(AR_LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itools -o $@ $(INFO_SRCS) $(AR_LIB) $(LIBS)

# ---- tests -------------------------------------------------------------------------
# tests/test_*.c link the static library (they may use internal interfaces);
# tests/test_*.cpp are their C++ twins (a C test's body compiled as C++, or a C++ test of
# the same API: the headers' inline code as C++ compiles it);
# tests/dso_*.c link the shared library, with the helper libraries tests/lib*.c.
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
CXX_SRCS  := $(sort $(wildcard tests/test_*.cpp))
DSO_SRCS  := $(sort $(wildcard tests/dso_*.c))
TEST_HDRS := $(wildcard tests/*.h)
EX_SRCS   := $(sort $(wildcard examples/*.c))
CXX_TESTS := $(patsubst tests/%.cpp,$(B)/tests/%,$(CXX_SRCS))
TESTS     := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS)) $(CXX_TESTS) \
             $(patsubst tests/%.c,$(B)/tests/%,$(DSO_SRCS)) \
             $(patsubst examples/%.c,$(B)/examples/%,$(EX_SRCS))

$(B)/tests/test_%: tests/test_%.c $(TEST_HDRS) $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

# A twin includes the C test it mirrors: any of them may be a prerequisite.
$(B)/tests/test_%: tests/test_%.cpp tests/testutil.h $(TEST_SRCS) $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) $(ALL_LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

# test_this_cpu_norseq is test_this_cpu built as a user's -DPCPU_NO_RSEQ_OPS build is.
$(B)/tests/test_this_cpu_norseq: tests/test_this_cpu.c

# tests/test_fuzz_NAME.c replay inputs through the fuzz target they include.
$(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_fuzz_*.c)): \
	$(B)/tests/test_fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h)

$(B)/tests/libpcpu_linked.so: tests/lib_linked.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(ALL_LDFLAGS) -o $@ $< -L$(B) -lpercpu

$(B)/tests/libpcpu_plugin.so: tests/lib_plugin.c $(B)/tests/libpcpu_linked.so $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(ALL_LDFLAGS) -o $@ $< -L$(B)/tests -lpcpu_linked -L$(B) -lpercpu

# A plugin that the dso_ tests load and unload over and over; built as any shared
# object is (-fPIC, not -fPIE), so its rseq sections are the unloadable kind.
$(B)/tests/libpcpu_unload.so: tests/lib_unload.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(ALL_LDFLAGS) -o $@ $< -L$(B) -lpercpu -Wl,-rpath,'$$ORIGIN/..'

$(B)/tests/dso_%: tests/dso_%.c tests/testutil.h $(SO) $(B)/tests/libpcpu_linked.so $(B)/tests/libpcpu_plugin.so \
		$(B)/tests/libpcpu_unload.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -L$(B)/tests -lpcpu_linked -L$(B) -lpercpu \
		-Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

# Not linked with libpercpu: it reaches the library only through a dlopen'd plugin.
$(B)/tests/dso_nodelete: tests/dso_nodelete.c tests/testutil.h $(B)/tests/libpcpu_unload.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

$(B)/examples/%: examples/%.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -L$(B) -lpercpu -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

# A user's program linked with the plain shared library, built with -fsanitize=address
# and without (for valgrind): test_sanitizers runs them.  Plain builds only: a sanitized
# build has no plain library to link.
ifeq ($(SAN),)
SAN_CLIENTS := $(B)/tests/san_client_asan $(B)/tests/san_client
endif
$(B)/tests/test_sanitizers: $(SAN_CLIENTS)

$(B)/tests/san_client_asan: tests/san_client.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=address -fno-omit-frame-pointer $(ALL_LDFLAGS) -o $@ $< \
		-L$(B) -lpercpu -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

$(B)/tests/san_client: tests/san_client.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -L$(B) -lpercpu -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

tests: all $(TESTS)

# One pass of the suite in the current configuration.
check-one: tests
	B=$(B) sh tests/run.sh $(TESTS)

# The C++ twins alone (make check runs them again built with clang++).
check-cxx: $(CXX_TESTS)
	B=$(B) sh tests/run.sh $(CXX_TESTS)

# The public headers in users' strictest builds: tests/header_client.c expands every
# macro of <percpu/kernel.h>, compiled as C99 and C11 with -pedantic by gcc and clang,
# as C++11 to C++20 by g++ and clang++ (-Wshadow too: operations nest in each other's
# arguments), each with and without -DPCPU_NO_RSEQ_OPS (whose
# objects must then hold no rseq section: every operation takes the atomic path); then
# at every other optimization level (gcc -O0 gives each memory operand of an asm a
# register of its own: a section with too many operands does not compile there).
HEADER_CC  := gcc clang
HEADER_CXX := g++ clang++
check-headers:
	@mkdir -p $(B)
	@for d in "" -DPCPU_NO_RSEQ_OPS; do \
	for cc in $(HEADER_CC); do for std in c99 c11; do \
		command -v $$cc >/dev/null || { echo "$$cc not installed: skipped"; continue; }; \
		echo "  $$cc -std=$$std -pedantic $$d"; \
		$$cc -std=$$std -pedantic -Wall -Wextra -Wshadow -Wcast-qual -Werror -O2 $$d -Iinclude \
			-c tests/header_client.c -o $(B)/header_client.o || exit 1; \
		if [ -n "$$d" ] && readelf -S $(B)/header_client.o | grep -q rseq; then \
			echo "-DPCPU_NO_RSEQ_OPS left rseq sections in the object"; exit 1; fi; \
	done; done; \
	for cxx in $(HEADER_CXX); do for std in c++11 c++14 c++17 c++20; do \
		command -v $$cxx >/dev/null || { echo "$$cxx not installed: skipped"; continue; }; \
		echo "  $$cxx -std=$$std -pedantic $$d"; \
		$$cxx -x c++ -std=$$std -pedantic -Wall -Wextra -Wshadow -Wcast-qual -Werror -O2 $$d -Iinclude \
			-c tests/header_client.c -o $(B)/header_client.o || exit 1; \
	done; done; done
	@for cc in $(HEADER_CC); do for o in -O0 -O1 -Os -O3; do \
		command -v $$cc >/dev/null || continue; \
		echo "  $$cc -std=c11 -pedantic $$o"; \
		$$cc -std=c11 -pedantic -Wall -Wextra -Wshadow -Wcast-qual -Werror $$o -Iinclude \
			-c tests/header_client.c -o $(B)/header_client.o || exit 1; \
	done; done
	@echo "headers: clean as C99, C11, C++11, C++14, C++17, C++20, with and without rseq operations, at -O0 to -O3"

# Installs the way a distribution package does (DESTDIR staging, PREFIX=/usr, a multiarch
# LIBDIR), then as a user would: builds the demo against the staged tree only, once with
# pkg-config and once with CMake (find_package, both imported targets), runs them, checks
# that the .pc, the CMake package, percpu-info --version and the man pages carry the one
# version, that every documented name opens a page and that the pages are lint-clean;
# then uninstalls and checks that nothing but empty directories is left.
STAGE     = $(abspath $(B))/stage
STAGE_LIB = /usr/lib/$(shell $(CC) -print-multiarch 2>/dev/null | grep . || $(CC) -dumpmachine)
STAGE_VARS = DESTDIR=$(STAGE) PREFIX=/usr LIBDIR=$(STAGE_LIB)
check-install: all
	rm -rf $(STAGE) $(B)/cmake-client && $(MAKE) install $(STAGE_VARS) >/dev/null
	PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_LIBDIR=$(STAGE)$(STAGE_LIB)/pkgconfig; \
	export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR; \
	test "$$(pkg-config --modversion libpercpu)" = $(VERSION) && \
	$(CC) -Wall -Wextra -Werror -o $(B)/installed-demo examples/demo.c \
		$$(pkg-config --cflags libpercpu) $$(pkg-config --libs libpercpu)
	LD_LIBRARY_PATH=$(STAGE)$(STAGE_LIB) $(B)/installed-demo >/dev/null
	! grep -n rpath $(STAGE)$(STAGE_LIB)/pkgconfig/libpercpu.pc
	cmake -S tests/cmake -B $(B)/cmake-client -DCMAKE_PREFIX_PATH=$(STAGE)/usr \
		-DCMAKE_C_COMPILER=$(CC) -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" >$(B)/cmake-client.log
	grep -q "libpercpu $(VERSION) from $(STAGE)$(STAGE_LIB)/cmake/libpercpu" $(B)/cmake-client.log
	cmake --build $(B)/cmake-client >>$(B)/cmake-client.log
	$(B)/cmake-client/demo >/dev/null && $(B)/cmake-client/kernel_style_static >/dev/null
	test "$$($(STAGE)/usr/bin/percpu-info --version)" = "percpu-info (libpercpu) $(VERSION)"
	$(STAGE)/usr/bin/percpu-info >/dev/null
	sh tests/check-man.sh $(STAGE)/usr/share/man $(VERSION) $(MANDATE)
	$(MAKE) uninstall $(STAGE_VARS) >/dev/null
	@left=$$(find $(STAGE) ! -type d); if [ -n "$$left" ]; then \
		echo "make uninstall left:"; echo "$$left"; exit 1; fi
	@echo "install: headers, libraries, pkg-config, CMake, percpu-info and man pages work; uninstall removes them"

# The full suite: the license lines, the this_cpu operations inline (gcc, clang), the
# plain build (with the system's and with 64 KiB pages), what the structure promises
# (tests/check-source.sh), the install check, the headers in strict C and C++, then
# ASan+UBSan, then TSan
# (shorter runs under the sanitizers), then everything compiled again with clang -Werror and the C++ twins run built by clang++.
check:
	sh tests/check-license.sh
	sh tests/check-inline.sh
	$(MAKE) check-one WERROR=1
	sh tests/check-source.sh $(B)
	@echo "== the plain suite again with 64 KiB pages, as on arm64 kernels that use them"
	LIBPERCPU_PAGE_SIZE=65536 $(MAKE) check-one WERROR=1
	$(MAKE) check-install WERROR=1
	$(MAKE) check-headers
	PCPU_TEST_SCALE=0.2 $(MAKE) check-one B=build-asan SAN=asan WERROR=1
	PCPU_TEST_SCALE=0.1 $(MAKE) check-one B=build-tsan SAN=tsan WERROR=1
	@if command -v clang >/dev/null; then $(MAKE) tests check-cxx B=build-clang CC=clang CXX=clang++ WERROR=1 && \
		$(MAKE) build-clang-asan/libpercpu.so B=build-clang-asan CC=clang SAN=asan WERROR=1; \
	else echo "clang not installed: clang build skipped"; fi
	$(MAKE) -j2 fuzz FUZZ_SECONDS=30 WERROR=1

# The plain suite built for aarch64 and riscv64 and run under qemu-user, which has no
# rseq: the sched_getcpu fallback runs (tests that expect rseq say they skip).  Sanitizer
# builds are not cross-built.  qemu-user (7.2) keeps flags for every page of a guest
# mapping, so the 1 TiB address-space reservation stalls it: ulimit -v shrinks it.
CROSS_ARCHS := aarch64 riscv64
check-cross:
	@for a in $(CROSS_ARCHS); do \
		command -v $$a-linux-gnu-g++ >/dev/null && command -v qemu-$$a >/dev/null || { \
			echo "check-cross: needs $$a-linux-gnu-gcc, -g++ and qemu-$$a (apt-get install" \
			     "gcc-$$a-linux-gnu g++-$$a-linux-gnu qemu-user)"; exit 1; }; \
	done
	@fail=0; for a in $(CROSS_ARCHS); do \
		echo "== $$a under qemu-$$a (plain build only: sanitizers are not cross-built)"; \
		$(MAKE) -s tests B=build-$$a CC=$$a-linux-gnu-gcc CXX=$$a-linux-gnu-g++ WERROR=1 || exit 1; \
		( ulimit -v 32000000; QEMU_LD_PREFIX=/usr/$$a-linux-gnu PCPU_TEST_RUNNER=qemu-$$a \
		  PCPU_TEST_SCALE=$${PCPU_TEST_SCALE:-0.05} $(MAKE) -s check-one B=build-$$a \
		  CC=$$a-linux-gnu-gcc CXX=$$a-linux-gnu-g++ WERROR=1 ) > build-$$a/check-cross.log 2>&1 || fail=1; \
		grep -v '^PASS' build-$$a/check-cross.log | sed "s/^\([0-9]* passed\)/$$a: \1/"; \
	done; exit $$fail

# Not part of check: applies each mutant of tests/mutants.txt to a scratch copy of the
# tree and runs the tests it names.  MUTATE_ARGS="-k NAME" runs some of them only.
mutate:
	bash tools/mutate.sh $(MUTATE_ARGS)

demo: $(B)/examples/demo
	$(B)/examples/demo

# Benchmarks (not part of check, nor of CI): each bench/bench_*.c prints rows of one table
# (bench/bench.h: figure, libpercpu, baseline, ratio); make bench prints the header once.
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCHES    := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))
$(B)/bench/%: bench/%.c bench/bench.h tests/testutil.h $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

# bench_this_cpu also runs its loop from a shared object (unloadable rseq sections);
# the object finds libpercpu in the executable, which exports it (-rdynamic).
$(B)/bench/libbench_this_cpu.so: bench/lib_this_cpu.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $(ALL_LDFLAGS) -o $@ $<

$(B)/bench/bench_this_cpu: bench/bench_this_cpu.c bench/bench.h bench/this_cpu_loops.h tests/testutil.h $(AR_LIB) $(B)/bench/libbench_this_cpu.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) -rdynamic -o $@ $< $(AR_LIB) -L$(B)/bench -lbench_this_cpu \
		-Wl,-rpath,'$$ORIGIN' $(LIBS)

bench: $(BENCHES)
	@h=0; for b in $(BENCHES); do BENCH_NO_HEADER=$$h $$b || exit 1; h=1; done

# make bench-peer: libpercpu against librseq (../shared/peers, MIT, for benchmarking
# only) in the same process.  librseq's three sources are compiled straight into
# $(B)/peer/librseq.a (no autotools, nothing installed); only the bench/peer_*.c
# programs link it, never libpercpu, its tests or its install.
# (From a worktree one level deeper, ../../shared/peers is found too.)
PEER_TARBALL ?= $(firstword $(wildcard ../shared/peers/librseq.tar.gz ../../shared/peers/librseq.tar.gz) \
		  ../shared/peers/librseq.tar.gz)
PEER_DIR     := $(B)/peer
PEER_SRCS    := $(sort $(wildcard bench/peer_*.c))
PEER_BENCHES := $(patsubst bench/%.c,$(PEER_DIR)/%,$(PEER_SRCS))
$(PEER_DIR)/librseq.a: $(PEER_TARBALL)
	@rm -rf $(PEER_DIR)/librseq $(PEER_DIR)/obj && mkdir -p $(PEER_DIR)/obj
	tar -xzf $(PEER_TARBALL) -C $(PEER_DIR)
	for f in rseq rseq-mempool smp; do \
		$(CC) -O2 -g -D_GNU_SOURCE -I$(PEER_DIR)/librseq/include \
			-c $(PEER_DIR)/librseq/src/$$f.c -o $(PEER_DIR)/obj/$$f.o || exit 1; \
	done
	$(AR) rcs $@ $(PEER_DIR)/obj/*.o

$(PEER_DIR)/%: bench/%.c bench/bench.h bench/this_cpu_loops.h tests/testutil.h $(AR_LIB) $(PEER_DIR)/librseq.a
	$(CC) $(ALL_CFLAGS) -Itests -I$(PEER_DIR)/librseq/include $(ALL_LDFLAGS) -o $@ $< $(AR_LIB) \
		$(PEER_DIR)/librseq.a $(LIBS)

# peer_alloc.c is bench_alloc.c built against librseq
$(PEER_DIR)/peer_alloc: bench/bench_alloc.c

bench-peer: $(PEER_BENCHES)
	@h=0; for b in $(PEER_BENCHES); do BENCH_NO_HEADER=$$h $$b || exit 1; h=1; done

# Every documented name, the kernel names included, gets a .so link to its page: the
# list comes from the pages' NAME sections and <percpu/kernel.h> (man/links.sh).
MAN_LINKS = $(shell sh man/links.sh | tr ' ' :)

# Every page's .TH line takes the date and version from the one place they are kept.
MAN_TH_SED = /^\.TH /s/ [0-9][0-9-]* "libpercpu [0-9.]*"/ $(MANDATE) "libpercpu $(VERSION)"/
INST_HEADERS := $(wildcard include/percpu.h include/percpu/*.h include/percpu/arch/*.h)
MAN3 := $(wildcard man/*.3)
MAN1 := $(wildcard man/*.1)

install: all
	install -d $(DESTDIR)$(INCLUDEDIR)/percpu/arch $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(CMAKEDIR)
	for h in $(INST_HEADERS); do install -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/$${h#include/}; done
	install -m 755 $(SO) $(DESTDIR)$(LIBDIR)/libpercpu.so.$(VERSION)
	ln -sf libpercpu.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpercpu.so
	install -m 644 $(AR_LIB) $(DESTDIR)$(LIBDIR)/libpercpu.a
	install -m 755 $(INFO) $(DESTDIR)$(BINDIR)/percpu-info
	for m in $(MAN3) $(MAN1); do sed -e '$(MAN_TH_SED)' $$m > \
		$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/} && \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/} || exit 1; done
	for l in $(MAN_LINKS); do \
		echo ".so man3/$${l#*:}" > $(DESTDIR)$(MANDIR)/man3/$${l%%:*}.3 || exit 1; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@LIBATOMIC@|$(LIBATOMIC)|g' libpercpu.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/libpercpu.pc
	for f in libpercpu-config libpercpu-config-version; do \
		sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SOVER@|$(SOVER)|g' -e 's|@LIBATOMIC@|$(LIBATOMIC)|g' \
		    -e "s|@CMAKE_TO_LIBDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(LIBDIR))|g" \
		    -e "s|@CMAKE_TO_INCLUDEDIR@|$$(realpath -m --relative-to=$(CMAKEDIR) $(INCLUDEDIR))|g" \
		    cmake/$$f.cmake.in > $(DESTDIR)$(CMAKEDIR)/$$f.cmake || exit 1; done

# Removes exactly what install put there, and the directories that are libpercpu's own.
uninstall:
	for h in $(INST_HEADERS); do rm -f $(DESTDIR)$(INCLUDEDIR)/$${h#include/}; done
	-rmdir $(DESTDIR)$(INCLUDEDIR)/percpu/arch $(DESTDIR)$(INCLUDEDIR)/percpu
	rm -f $(DESTDIR)$(LIBDIR)/libpercpu.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libpercpu.so $(DESTDIR)$(LIBDIR)/libpercpu.a \
		$(DESTDIR)$(PKGCONFIGDIR)/libpercpu.pc $(DESTDIR)$(BINDIR)/percpu-info
	for m in $(notdir $(MAN3)) $(foreach l,$(MAN_LINKS),$(firstword $(subst :, ,$(l))).3); do \
		rm -f $(DESTDIR)$(MANDIR)/man3/$$m; done
	for m in $(notdir $(MAN1)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$m; done
	rm -f $(DESTDIR)$(CMAKEDIR)/libpercpu-config.cmake \
		$(DESTDIR)$(CMAKEDIR)/libpercpu-config-version.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR)

# ---- fuzzing ------------------------------------------------------------------------
# fuzz/fuzz_NAME.c is a libFuzzer target; fuzz/corpus/NAME/ its seed corpus, kept small.
# Each runs for FUZZ_SECONDS under ASan+UBSan, two at a time with -j2; new inputs go to
# build-fuzz/fuzz/corpus-NAME/ and a failing input to build-fuzz/fuzz/crash-NAME-*.
# Without clang's fuzzer runtime (Debian: libclang-rt-14-dev) it says so and skips.
# Replay a saved input with build-fuzz/fuzz/fuzz_NAME FILE; once fixed, add it to the
# cases[] of tests/test_fuzz_NAME.c, which replays them and the seeds in the plain suite.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZERS      := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_NAMES))

$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(TEST_HDRS) $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

fuzz:
	@if printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }\n' | \
		$(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1; then \
		$(MAKE) fuzz-run B=build-fuzz CC=$(FUZZ_CC) SAN=fuzz; \
	else echo "fuzz: $(FUZZ_CC) -fsanitize=fuzzer,address,undefined does not link (install clang and" \
		"libclang-rt-14-dev): fuzzing skipped"; fi

fuzz-run: $(patsubst %,fuzz-run-%,$(FUZZ_NAMES))

fuzz-run-%: $(B)/fuzz/fuzz_%
	@mkdir -p $(B)/fuzz/corpus-$*
	@echo "fuzz: $* for $(FUZZ_SECONDS) s"
	@$< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
		-artifact_prefix=$(B)/fuzz/crash-$*- $(B)/fuzz/corpus-$* fuzz/corpus/$* \
		>$(B)/fuzz/$*.log 2>&1 || { tail -n 60 $(B)/fuzz/$*.log; \
		echo "fuzz: $* FAILED: input saved as $(B)/fuzz/crash-$*-*"; exit 1; }
	@sed -n 's/^Done \(.*\)/fuzz: $*: \1, nothing found/p' $(B)/fuzz/$*.log

.PRECIOUS: $(B)/fuzz/fuzz_%

clean:
	rm -rf build build-asan build-tsan build-clang build-clang-asan build-fuzz $(CROSS_ARCHS:%=build-%)

.PHONY: all tests check check-one check-cxx check-headers check-install check-cross demo bench bench-peer install uninstall clean fuzz fuzz-run mutate
.DELETE_ON_ERROR:
