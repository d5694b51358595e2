# stutterfuzz: a TCP stress fuzzer that cuts protocol samples at random
# packet boundaries.
#
#   make                 build ./stutterfuzz
#   make check           install what tests need (if missing), run every test
#   make demo            install what the build needs (if missing), fuzz the
#                        bundled example server for about 10 seconds
#   make bench           throughput and boundary-fidelity benchmark
#   make install         PREFIX=/usr/local DESTDIR= (binary and man page)
#   make SANITIZE=1 ...  build with AddressSanitizer and UBSan
#
# CFLAGS is yours: the warnings live in WARNINGS and are always added.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
PKG_CONFIG ?= pkg-config
CFLAGS	?= -O2 -g
WERROR	?=

WARNINGS = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wundef \
	-Wno-missing-field-initializers $(WERROR)
HARDEN	= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ifeq ($(SANITIZE),1)
# -fPIE as in the normal build: the link below is always -pie.
HARDEN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -fPIE
SANLDFLAGS = -fsanitize=address,undefined
BUILD	?= build-san
endif
BUILD	?= build

# Recursive (=) on purpose: pkg-config runs only when a recipe needs it,
# so "make check" can install libevent and Check before anything asks.
EVENT_CFLAGS = $(shell $(PKG_CONFIG) --cflags libevent)
EVENT_LIBS   = $(shell $(PKG_CONFIG) --libs libevent)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS   = $(shell $(PKG_CONFIG) --libs check)
JSON_CFLAGS  = $(shell $(PKG_CONFIG) --cflags jansson)
JSON_LIBS    = $(shell $(PKG_CONFIG) --libs jansson)

ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(HARDEN) -MMD -MP $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANLDFLAGS) $(LDFLAGS)
# Test servers, the example server and benchmark programs are not under
# test: they build without sanitizers even in a SANITIZE=1 build.
TOOL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -MMD -MP $(CFLAGS)

SRCS	= $(wildcard src/*.c)
# main.c and the main run's files beside it (run_*.c) are not linked into
# the unit tests: they hold the run's wiring and messages.
MAIN_SRCS = src/main.c $(wildcard src/run_*.c)
LIB_OBJS = $(patsubst src/%.c,$(BUILD)/%.o,$(filter-out $(MAIN_SRCS),$(SRCS)))
MAIN_OBJ = $(patsubst src/%.c,$(BUILD)/%.o,$(MAIN_SRCS))
TEST_SRCS = $(wildcard tests/check_*.c)
TEST_OBJS = $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_SRCS))
# tests/servers/serve.c is the servers' shared part, linked into each.
SERVE_SRC = tests/servers/serve.c
SERVERS	= $(patsubst tests/servers/%.c,$(BUILD)/servers/%,$(filter-out $(SERVE_SRC),$(wildcard tests/servers/*.c)))
EXAMPLES = $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
BENCHES	= $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all check check-run check-unit check-integration demo demo-run \
	bench bench-run deps deps-check deps-bench install uninstall clean \
	lint-man FORCE

# A sanitizer build stays in build-san/: ./stutterfuzz (and make install)
# is always the plain build.
ifeq ($(SANITIZE),1)
all: $(BUILD)/stutterfuzz

stutterfuzz:
	@$(MAKE) --no-print-directory SANITIZE= stutterfuzz
else
all: stutterfuzz

stutterfuzz: $(BUILD)/stutterfuzz
	cp $< $@
endif

$(BUILD)/stutterfuzz: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(EVENT_LIBS) $(JSON_LIBS) -lm

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(EVENT_CFLAGS) $(JSON_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c $(BUILD)/tests/check_suites.inc | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -I$(BUILD)/tests $(CHECK_CFLAGS) $(EVENT_CFLAGS) $(JSON_CFLAGS) -c -o $@ $<

# Every "NAME_suite(void)" that starts a line of a tests/check_*.c. Made
# each time and replaced only when it changed, so a removed suite goes too.
$(BUILD)/tests/check_suites.inc: FORCE | $(BUILD)/tests
	@sed -n 's/^\([a-z0-9_]*_suite\)(void)$$/SUITE(\1)/p' $(TEST_SRCS) >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

FORCE:

$(BUILD)/check_units: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.o,$^) $(ALL_LDFLAGS) $(CHECK_LIBS) $(EVENT_LIBS) $(JSON_LIBS) -lm

$(BUILD)/servers/%: tests/servers/%.c $(SERVE_SRC) | $(BUILD)/servers
	$(CC) $(TOOL_CFLAGS) -o $@ $(filter %.c,$^) $(LDFLAGS)

$(BUILD)/examples/%: examples/%.c | $(BUILD)/examples
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(LDFLAGS)

$(BUILD)/bench/%: bench/%.c | $(BUILD)/bench
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(LDFLAGS)

# plancost measures the real planning code: it links the library objects.
$(BUILD)/bench/plancost: bench/plancost.c $(LIB_OBJS) | $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) $(EVENT_LIBS) $(JSON_LIBS) -lm

$(BUILD) $(BUILD)/tests $(BUILD)/servers $(BUILD)/examples $(BUILD)/bench:
	mkdir -p $@

deps:
	@./scripts/install-deps.sh build

deps-check:
	@./scripts/install-deps.sh check

deps-bench:
	@./scripts/install-deps.sh bench

# The two commands of the README's quick start.
check: deps-check
	@$(MAKE) --no-print-directory check-run

check-run: check-unit check-integration lint-man

check-unit: $(BUILD)/check_units
	$(BUILD)/check_units

check-integration: $(BUILD)/stutterfuzz $(SERVERS) $(EXAMPLES)
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) ./tests/integration.sh

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: stutterfuzz $(EXAMPLES)
	BUILD=$(BUILD) ./examples/demo.sh

bench: deps-bench
	@$(MAKE) --no-print-directory bench-run

bench-run: stutterfuzz $(BENCHES) $(SERVERS) $(EXAMPLES)
	BUILD=$(BUILD) ./bench/run.sh

# mandoc -Tlint where mandoc exists; groff's warnings otherwise.
lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
		mandoc -Tlint -Wwarning man/stutterfuzz.1 && echo "man page: mandoc -Tlint clean"; \
	elif command -v groff >/dev/null 2>&1; then \
		out=$$(groff -mdoc -Tutf8 -ww -z man/stutterfuzz.1 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
		echo "man page: groff -ww clean"; \
	else echo "man page: no mandoc or groff, not checked"; fi

install: stutterfuzz
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 stutterfuzz $(DESTDIR)$(BINDIR)/stutterfuzz
	install -m 0644 man/stutterfuzz.1 $(DESTDIR)$(MANDIR)/man1/stutterfuzz.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/stutterfuzz $(DESTDIR)$(MANDIR)/man1/stutterfuzz.1

clean:
	rm -rf build build-san stutterfuzz

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d $(BUILD)/servers/*.d \
	$(BUILD)/examples/*.d $(BUILD)/bench/*.d)
