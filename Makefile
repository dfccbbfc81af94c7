# libpercpu build.  Plain GNU make.
#   make              libraries and percpu-info in build/
#   make demo         build and run the demonstration (examples/demo.c)
#   make check        build and run the test suite: plain, then ASan+UBSan, then TSan
#   make bench        build and run the benchmarks
#   make install PREFIX=/usr/local
# CC=clang works the same.  B=dir chooses the build folder; SAN=asan|tsan adds sanitizers.

CC      ?= cc
PREFIX  ?= /usr/local
B       ?= build
SAN     ?=
VERSION := 0.1.0
SOVER   := 0

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc
ifeq ($(SAN),asan)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
endif
LIBS    := -lpthread -ldl

LIB_SRCS := $(sort $(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRCS))
HEADERS  := $(wildcard include/*.h include/percpu/*.h include/percpu/arch/*.h src/*.h)

SO       := $(B)/libpercpu.so
SONAME   := libpercpu.so.$(SOVER)
AR_LIB   := $(B)/libpercpu.a
INFO     := $(B)/percpu-info

all: $(SO) $(AR_LIB) $(INFO)

$(B)/obj/%.o: src/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(SO): $(LIB_OBJS) src/libpercpu.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libpercpu.map -Wl,-z,defs \
		$(LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)
	ln -sf libpercpu.so $(B)/$(SONAME)

$(AR_LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(INFO): tools/percpu-info.c $(AR_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

# ---- tests -------------------------------------------------------------------------
# tests/test_*.c link the static library (they may use internal interfaces);
# tests/dso_*.c link the shared library, with the helper libraries tests/lib*.c.
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
DSO_SRCS  := $(sort $(wildcard tests/dso_*.c))
EX_SRCS   := $(sort $(wildcard examples/*.c))
TESTS     := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS)) \
             $(patsubst tests/%.c,$(B)/tests/%,$(DSO_SRCS)) \
             $(patsubst examples/%.c,$(B)/examples/%,$(EX_SRCS))

$(B)/tests/test_%: tests/test_%.c tests/testutil.h $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

$(B)/tests/libpcpu_linked.so: tests/lib_linked.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -L$(B) -lpercpu

$(B)/tests/libpcpu_plugin.so: tests/lib_plugin.c $(B)/tests/libpcpu_linked.so $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -L$(B)/tests -lpcpu_linked -L$(B) -lpercpu

$(B)/tests/dso_%: tests/dso_%.c tests/testutil.h $(SO) $(B)/tests/libpcpu_linked.so $(B)/tests/libpcpu_plugin.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(B)/tests -lpcpu_linked -L$(B) -lpercpu \
		-Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

$(B)/examples/%: examples/%.c $(SO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(B) -lpercpu -Wl,-rpath,'$$ORIGIN/..' $(LIBS)

tests: all $(TESTS)

# One pass of the suite in the current configuration.
check-one: tests
	B=$(B) sh tests/run.sh $(TESTS)

# Installs into a scratch prefix and builds an example the way a user would, with
# pkg-config, against the installed headers and library only.
check-install: all
	rm -rf $(B)/prefix && $(MAKE) install PREFIX=$(CURDIR)/$(B)/prefix >/dev/null
	PKG_CONFIG_PATH=$(B)/prefix/lib/pkgconfig $(CC) -Wall -Wextra -Werror -o $(B)/installed-demo \
		examples/demo.c $$(PKG_CONFIG_PATH=$(B)/prefix/lib/pkgconfig pkg-config --cflags --libs libpercpu) -lpthread
	$(B)/installed-demo >/dev/null && $(B)/prefix/bin/percpu-info >/dev/null
	@echo "install: headers, libraries, pkg-config, percpu-info and man pages work"

# The full suite: plain build, then ASan+UBSan, then TSan (shorter runs under the
# sanitizers), then everything compiled again with clang -Werror.
check:
	$(MAKE) check-one
	$(MAKE) check-install
	PCPU_TEST_SCALE=0.2 $(MAKE) check-one B=build-asan SAN=asan
	PCPU_TEST_SCALE=0.1 $(MAKE) check-one B=build-tsan SAN=tsan
	@if command -v clang >/dev/null; then $(MAKE) tests B=build-clang CC=clang; \
	else echo "clang not installed: clang build skipped"; fi

demo: $(B)/examples/demo
	$(B)/examples/demo

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCHES    := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))
$(B)/bench/%: bench/%.c tests/testutil.h $(AR_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(AR_LIB) $(LIBS)

bench: $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

# Each name documented on a group page gets a page that points to it.
MAN_LINKS := pcpu_alloc_gfp:pcpu_alloc pcpu_alloc_type:pcpu_alloc pcpu_free:pcpu_alloc \
	pcpu_balance:pcpu_alloc pcpu_this_ptr:pcpu_ptr pcpu_var:pcpu_ptr \
	pcpu_current_cpu:pcpu_ptr pcpu_cpu_source:pcpu_ptr PCPU_DECLARE:PCPU_DEFINE \
	pcpu_get_stats:pcpu_stats pcpu_dump_stats:pcpu_stats pcpu_dump_layout:pcpu_stats \
	pcpu_init:pcpu_cpus pcpu_nr_cpu_ids:pcpu_cpus pcpu_num_possible_cpus:pcpu_cpus \
	pcpu_num_online_cpus:pcpu_cpus pcpu_cpu_possible:pcpu_cpus pcpu_cpu_online:pcpu_cpus \
	pcpu_cpu_to_node:pcpu_cpus pcpu_next_possible_cpu:pcpu_cpus \
	pcpu_next_online_cpu:pcpu_cpus pcpu_for_each_possible_cpu:pcpu_cpus \
	pcpu_for_each_online_cpu:pcpu_cpus pcpu_this_read:pcpu_this_cpu \
	pcpu_this_write:pcpu_this_cpu pcpu_this_add:pcpu_this_cpu pcpu_this_sub:pcpu_this_cpu \
	pcpu_this_inc:pcpu_this_cpu pcpu_this_dec:pcpu_this_cpu pcpu_this_and:pcpu_this_cpu \
	pcpu_this_or:pcpu_this_cpu pcpu_this_add_return:pcpu_this_cpu \
	pcpu_this_xchg:pcpu_this_cpu pcpu_this_cmpxchg:pcpu_this_cpu \
	pcpu_this_try_cmpxchg:pcpu_this_cpu pcpu_this_cmpxchg_double:pcpu_this_cpu \
	pcpu_put_cpu:pcpu_get_cpu pcpu_get_cpu_var:pcpu_get_cpu pcpu_put_cpu_var:pcpu_get_cpu \
	pcpu_get_cpu_ptr:pcpu_get_cpu pcpu_put_cpu_ptr:pcpu_get_cpu \
	pcpu_counter_init:pcpu_counter pcpu_counter_destroy:pcpu_counter \
	pcpu_counter_add:pcpu_counter pcpu_counter_add_batch:pcpu_counter \
	pcpu_counter_sum:pcpu_counter pcpu_counter_read:pcpu_counter \
	pcpu_counter_set:pcpu_counter pcpu_counter_compare:pcpu_counter

install: all
	install -d $(DESTDIR)$(PREFIX)/include/percpu $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/percpu.h $(DESTDIR)$(PREFIX)/include/percpu.h
	install -d $(DESTDIR)$(PREFIX)/include/percpu/arch
	install -m 644 include/percpu/*.h $(DESTDIR)$(PREFIX)/include/percpu/
	install -m 644 include/percpu/arch/*.h $(DESTDIR)$(PREFIX)/include/percpu/arch/
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/libpercpu.so.$(VERSION)
	ln -sf libpercpu.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libpercpu.so
	install -m 644 $(AR_LIB) $(DESTDIR)$(PREFIX)/lib/libpercpu.a
	install -m 755 $(INFO) $(DESTDIR)$(PREFIX)/bin/percpu-info
	install -m 644 man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for l in $(MAN_LINKS); do \
		echo ".so man3/$${l#*:}.3" > $(DESTDIR)$(PREFIX)/share/man/man3/$${l%%:*}.3; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' libpercpu.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libpercpu.pc

clean:
	rm -rf build build-asan build-tsan build-clang

.PHONY: all tests check check-one check-install demo bench install clean
.DELETE_ON_ERROR:
