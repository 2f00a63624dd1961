# kmswatch - build, test and run.
#
#   make          build build/kmswatch
#   make deps     install the Debian packages the build and tests need
#   make run      deps + build, then serve on 127.0.0.1:8080
#   make test     deps + build, then every unit, browser and black-box test
#   make bench    kmswatch against its peers: ingest, follow, queries at
#                 1M/10M/100M records, HTTP, memory, size (see bench/;
#                 BENCH_ARGS="--quick" for a short check)
#   make soak     minutes of mixed load (SOAK_SECONDS, default 300); not
#                 part of make test
#
# CI=true (as .ci/run sets it) turns warnings into errors.

CC      ?= cc
PKGS    := libprotobuf-c sqlite3 libmicrohttpd jansson inih zlib libcurl
OPT     ?= -O2 -g
WERROR  := $(if $(CI),-Werror,)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra $(WERROR) \
           -Ibuild -Iparsers -Idaemon
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lpthread -lm

# Debian packages, for the build and for the tests.
DEB_PKGS := pkg-config protobuf-c-compiler libprotobuf-c-dev \
            libsqlite3-dev libmicrohttpd-dev libjansson-dev libcmocka-dev \
            libinih-dev zlib1g-dev libjs-dygraphs \
            python3 python3-pytest sqlite3 prometheus prometheus-alertmanager \
            libcurl4-openssl-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

PROTO_C := build/proto/kms_error.pb-c.c
PROTO_H := build/proto/kms_error.pb-c.h
SRCS    := $(wildcard parsers/*.c) $(wildcard daemon/*.c)
LIBSRCS := $(filter-out daemon/main.c,$(SRCS))
GENOBJS := build/obj/proto/kms_error.pb-c.o build/obj/schema_sql.o \
           build/obj/assets_data.o
OBJS    := $(SRCS:%.c=build/obj/%.o) $(GENOBJS)
LIBOBJS := $(LIBSRCS:%.c=build/obj/%.o) $(GENOBJS)
TESTS   := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))

.PHONY: all deps run test unit browser blackbox bench bench-deps soak \
        soak-deps clean

all: build/kmswatch

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	        $$missing >/dev/null || exit 1; \
	fi

# One protoc-c run writes both files; the header rides on the source.
$(PROTO_C): proto/kms_error.proto
	@mkdir -p build
	protoc-c --c_out=build $<

$(PROTO_H): $(PROTO_C)

# Migrations are compiled in, so the binary needs no files beside it.
build/schema_sql.c: schema/embed.sh $(sort $(wildcard schema/*.sql))
	@mkdir -p build
	sh schema/embed.sh $(sort $(wildcard schema/*.sql)) > $@

build/obj/schema_sql.o: build/schema_sql.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The dashboard is compiled in too: dashboards/web/ and Debian's Dygraph.
DYGRAPHS   := /usr/share/javascript/dygraphs
WEB_FILES  := $(sort $(wildcard dashboards/web/*))
WEB_VENDOR := $(DYGRAPHS)/dygraph.min.js $(DYGRAPHS)/dygraph.min.css

build/assets_data.c: dashboards/embed.sh $(WEB_FILES) $(WEB_VENDOR)
	@mkdir -p build
	sh dashboards/embed.sh dashboards/web/index.html \
	    --prefix /static/ $(filter-out %/index.html,$(WEB_FILES)) \
	    --prefix /static/vendor/ $(WEB_VENDOR) > $@.tmp
	mv $@.tmp $@

$(WEB_VENDOR):
	@echo "$@ is missing: run make deps (Debian's libjs-dygraphs)" >&2
	@exit 1

build/obj/assets_data.o: build/assets_data.c daemon/assets.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

build/obj/proto/%.o: build/proto/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Wno-unused-parameter -c -o $@ $<

build/obj/%.o: %.c $(PROTO_H) $(wildcard parsers/*.h daemon/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/kmswatch: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/tests/%: tests/%.c $(LIBOBJS) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) \
	    -lcmocka

# The sample captures are dated 2026-12-03: keep them whatever their age.
run: deps
	$(MAKE) build/kmswatch
	build/kmswatch serve --db kmswatch.db --listen 127.0.0.1:8080 \
	    --retention 0

unit: $(TESTS)
	@rc=0; for t in $(TESTS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

blackbox: build/kmswatch
	/usr/bin/python3 -m pytest -q tests

browser: build/kmswatch
	sh tests/browser/run.sh

# pytest runs last, so that its closing line ends the output.
test: deps
	$(MAKE) unit browser blackbox

# The bench's peers: wrk and nginx for HTTP, python3-protobuf for the
# script a user would write, and the raw SQLite ceiling in C.
bench-deps:
	@$(MAKE) --no-print-directory deps \
	    DEB_PKGS="wrk nginx-light python3-protobuf"

build/bench/raw_ceiling: bench/peers/raw_ceiling.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra $(WERROR) -o $@ $< \
	    -lsqlite3

# BENCH_ARGS passes options to bench/bench.py (see its --help).
bench: deps bench-deps
	$(MAKE) build/kmswatch build/bench/raw_ceiling
	/usr/bin/python3 bench/bench.py $(BENCH_ARGS)

# wrk drives the soak's HTTP load; only this target needs it.
soak-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="wrk"

soak: deps soak-deps
	$(MAKE) build/kmswatch
	/usr/bin/python3 bench/soak.py \
	    $(if $(SOAK_SECONDS),--seconds $(SOAK_SECONDS))

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# Sanitizers, fuzzing and installing.  Nothing above depends on this part.
#
#   make test-asan     every cmocka test and pytest against an
#                      ASan+UBSan build in build-asan/; reports go to
#                      build-asan/logs/ and are printed at the end
#   make fuzz          builds the libFuzzer targets in build/fuzz/ and
#                      runs each for FUZZ_SECONDS (default 60); choose
#                      targets with FUZZ_TARGETS="pb http"
#   make fuzz-regress  replays tests/fuzz/corpus and tests/fuzz/regressions
#                      through each target once
#   make install       PREFIX (/usr/local), DESTDIR, SYSCONFDIR (/etc)
#
# The sanitized builds compile the same sources into folders of their
# own; the generated sources (proto, schema, assets) stay in build/.

SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
# Warnings stay warnings here: CI=true's -Werror belongs to the gcc build,
# and clang warns of things gcc does not.
SAN_CFLAGS  = -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra \
              -Ibuild -Iparsers -Idaemon $(PKG_CFLAGS)
GEN_SRCS   := $(PROTO_C) build/schema_sql.c build/assets_data.c
SAN_LIBSRCS = $(LIBSRCS) $(GEN_SRCS)
SAN_DEB_PKGS := clang libclang-rt-14-dev

san-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(SAN_DEB_PKGS)"

# Objects of a sanitized build: $(1) its folder, $(2) the compiler, $(3)
# flags of its own.  protoc-c's output has unused parameters.
define SAN_OBJECTS
$(1)/obj/%.o: %.c $$(PROTO_H) $$(wildcard parsers/*.h daemon/*.h)
	@mkdir -p $$(dir $$@)
	$(2) $$(SAN_CFLAGS) $$(SAN_FLAGS) $(3) $$(SAN_WARN) -c -o $$@ $$<

$(1)/obj/build/proto/%.o: SAN_WARN := -Wno-unused-parameter
endef

# -- make test-asan ---------------------------------------------------------

# clang: gcc 12's UBSan ignores log_path and prints to stderr instead.
ASAN_CC      ?= clang
ASAN_DIR     ?= build-asan
ASAN_LIBOBJS  = $(SAN_LIBSRCS:%.c=$(ASAN_DIR)/obj/%.o)
ASAN_TESTS   := $(patsubst tests/%.c,$(ASAN_DIR)/tests/%,\
                $(wildcard tests/test_*.c))
ASAN_LOGS    := $(abspath $(ASAN_DIR))/logs
ASAN_ENV     := \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$(ASAN_LOGS)/asan \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_LOGS)/ubsan

$(eval $(call SAN_OBJECTS,$(ASAN_DIR),$(ASAN_CC),))

$(ASAN_DIR)/kmswatch: $(ASAN_LIBOBJS) $(ASAN_DIR)/obj/daemon/main.o
	$(ASAN_CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(ASAN_DIR)/tests/%: tests/%.c $(ASAN_LIBOBJS)
	@mkdir -p $(dir $@)
	$(ASAN_CC) $(SAN_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Every test runs even after a failure; sanitizer reports are printed
# last, and any report fails the target.
test-asan: deps san-deps
	@start=$$(date +%s); \
	$(MAKE) $(ASAN_DIR)/kmswatch $(ASAN_TESTS) || exit 1; \
	rm -rf $(ASAN_LOGS); mkdir -p $(ASAN_LOGS); rc=0; \
	for t in $(ASAN_TESTS); do echo "== $$t"; \
	    $(ASAN_ENV) $$t || rc=1; done; \
	$(ASAN_ENV) KMSWATCH_BIN=$(abspath $(ASAN_DIR))/kmswatch \
	    /usr/bin/python3 -m pytest -q tests || rc=1; \
	for f in $(ASAN_LOGS)/*; do [ -f "$$f" ] || continue; \
	    echo "== sanitizer report $$f"; cat "$$f"; rc=1; done; \
	echo "test-asan: $$(ls $(ASAN_LOGS) | wc -l) sanitizer reports," \
	    "$$(( $$(date +%s) - start )) s"; \
	exit $$rc

# -- make fuzz, make fuzz-regress -------------------------------------------

FUZZ_CC       ?= clang
FUZZ_DIR      ?= build/fuzz
FUZZ_SECONDS  ?= 60
FUZZ_NAMES    := pb http har jsonl jsonldiff sdklog gzip api
FUZZ_TARGETS  ?= $(FUZZ_NAMES)
FUZZ_LIBOBJS   = $(SAN_LIBSRCS:%.c=$(FUZZ_DIR)/obj/%.o)

$(eval $(call SAN_OBJECTS,$(FUZZ_DIR),$(FUZZ_CC),-fsanitize=fuzzer-no-link))

# An archive, so that each target links only the objects it needs.
$(FUZZ_DIR)/libkmswatch.a: $(FUZZ_LIBOBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_parse.c \
    tests/fuzz/fuzz_parse.h $(FUZZ_DIR)/libkmswatch.a
	$(FUZZ_CC) $(SAN_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -Itests/fuzz \
	    -o $@ tests/fuzz/fuzz_$*.c tests/fuzz/fuzz_parse.c \
	    $(FUZZ_DIR)/libkmswatch.a $(LDLIBS)

fuzz-build: san-deps
	$(MAKE) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	sh tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	sh tests/fuzz/run.sh regress 0 $(FUZZ_TARGETS)

# -- make install -----------------------------------------------------------

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/kmswatch
SYSCONFDIR ?= /etc
# systemd reads units from /usr/local/lib/systemd/system as well.
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install
SHARE_FILES = packaging/captures.conf.example \
              $(wildcard dashboards/grafana-kmswatch.json \
                         dashboards/prometheus-rules.yml)

# The unit names /usr/local/bin and /etc; they follow BINDIR and
# SYSCONFDIR.  An existing config is never overwritten.
install: build/kmswatch
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/kmswatch
	$(INSTALL) -m 0755 build/kmswatch $(DESTDIR)$(BINDIR)/kmswatch
	$(INSTALL) -m 0644 examples/kmswatch.ini \
	    $(DESTDIR)$(DATADIR)/kmswatch.ini.example
	$(INSTALL) -m 0644 $(SHARE_FILES) $(DESTDIR)$(DATADIR)/
	sed -e 's|/usr/local/bin/|$(BINDIR)/|g' \
	    -e 's|/etc/kmswatch/|$(SYSCONFDIR)/kmswatch/|g' \
	    packaging/kmswatch.service > $(DESTDIR)$(UNITDIR)/kmswatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/kmswatch.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/kmswatch/kmswatch.ini ] || \
	    $(INSTALL) -m 0644 examples/kmswatch.ini \
	    $(DESTDIR)$(SYSCONFDIR)/kmswatch/kmswatch.ini

# Leaves the config in SYSCONFDIR and the database in /var/lib.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kmswatch \
	    $(DESTDIR)$(UNITDIR)/kmswatch.service
	rm -rf $(DESTDIR)$(DATADIR)

clean-san:
	rm -rf $(ASAN_DIR) $(FUZZ_DIR)

.PHONY: san-deps test-asan fuzz fuzz-build fuzz-regress install uninstall \
        clean-san
