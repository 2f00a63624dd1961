# kmswatch - build, test and run.
#
#   make          build build/kmswatch
#   make deps     install the Debian packages the build and tests need
#   make run      deps + build, then serve on 127.0.0.1:8080
#   make test     deps + build, then every unit, browser and black-box test
#   make bench    ingest and lookup figures (see bench/)
#
# CI=true (as .ci/run sets it) turns warnings into errors.

CC      ?= cc
PKGS    := libprotobuf-c sqlite3 libmicrohttpd jansson inih zlib
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
            python3 python3-pytest sqlite3 prometheus prometheus-alertmanager
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

.PHONY: all deps run test unit browser blackbox bench clean

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

build/tests/%: tests/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

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

bench: deps
	$(MAKE) build/kmswatch
	/usr/bin/python3 bench/bench.py

clean:
	rm -rf build
