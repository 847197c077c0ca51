# Copyright (C) 2026 Seed 79e7e746 maintainers

# ngx_http_cli_gateway_module
#
#   make                 build the dynamic module against NGINX_SRC
#   make test            every suite (t/run-tests); TEST_SKIP="browser package"
#                        leaves those out
#   make browser-test    examples/console in headless Chromium (in test too)
#   make run             nginx in the foreground with examples/ on :8080
#   make soak            10,000 runs of every kind, then the books (not in test)
#   make valgrind        runs of every kind under valgrind memcheck
#   make fuzz            libFuzzer on the parser, JWT, SSE and the replay ring (FUZZ_SECONDS each,
#                        default 300)
#   make package-test    build the Debian package, install it, run a request
#                        through the system nginx, purge it (root)
#   make bench           the module against Node, fcgiwrap and the floor, into
#                        build/bench/results (BENCH_RESULTS; not in test)
#   make deps            install the Debian packages that are missing (root)
#   make test-nginx-src  the suites against plain nginx trees (NGINX_SUITES)
#
# NGINX_SRC is Debian's nginx-dev tree by default; any nginx source tree
# works (configured with --with-compat), e.g. NGINX_SRC=~/nginx-1.22.1.

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
BUILD       ?= $(CURDIR)/build
MODULE      := $(BUILD)/ngx_http_cli_gateway_module.so
NGX_BUILD   := $(BUILD)/nginx

CXX         ?= g++
UNIT_FLAGS  := -std=gnu++17 -O1 -g -Wall -Wextra -Werror -Isrc
PURE_SRCS   := $(wildcard src/cligw/*.cpp)
PURE_HDRS   := $(wildcard src/cligw/*.hpp)
UNIT_TESTS  := $(patsubst t/unit/%.cpp,$(BUILD)/unit/%,$(wildcard t/unit/test_*.cpp))
FUZZERS     := $(patsubst t/fuzz/%.cpp,$(BUILD)/fuzz/%,$(wildcard t/fuzz/fuzz_*.cpp))
FUZZ_SECONDS ?= 300
CLANGXX     ?= clang++

# upstream Test::Nginx when installed, else the runner shipped in t/runner
PROVE_INC   := $(shell perl -MTest::Nginx::Socket -e 1 2>/dev/null || echo -I t/runner)

.PHONY: all module test unit unit-build fuzz fuzz-build nginx-tests run soak \
        valgrind bench deps clean browser-test package-test test-nginx-src \
        nginx-src-fetch

all: module

module: $(NGX_BUILD)/Makefile
	$(MAKE) -f $(NGX_BUILD)/Makefile -C $(NGINX_SRC) modules
	@# a new inode: a running nginx keeps its mapping of the old file
	cp $(NGX_BUILD)/ngx_http_cli_gateway_module.so $(MODULE).tmp
	mv $(MODULE).tmp $(MODULE)

# Debian's nginx-dev ships the configure flags of its nginx in conf_flags:
# building with them keeps the module's binary signature equal to nginx's.
$(NGX_BUILD)/Makefile: config
	mkdir -p $(NGX_BUILD)
	cd $(NGINX_SRC) && bash -c ' \
	    flags=(--with-compat); \
	    if [ -f conf_flags ]; then . ./conf_flags; flags=("$${NGX_CONF_FLAGS[@]}"); fi; \
	    ./configure "$${flags[@]}" --add-dynamic-module=$(CURDIR) \
	        --builddir=$(NGX_BUILD)' > $(BUILD)/configure.log \
	    || { cat $(BUILD)/configure.log; exit 1; }

test: module unit-build fuzz-build
	@FUZZERS="$(FUZZERS)" t/run-tests $(BUILD) "$(NGINX_BIN)" "$(MODULE)" \
	    "$(PROVE_INC)" $(UNIT_TESTS)

unit: unit-build
	@for t in $(UNIT_TESTS); do $$t || exit 1; done

unit-build: $(UNIT_TESTS)

$(BUILD)/unit/%: t/unit/%.cpp $(PURE_SRCS) $(PURE_HDRS) $(wildcard t/unit/*.hpp)
	@mkdir -p $(BUILD)/unit
	$(CXX) $(UNIT_FLAGS) -o $@ $< $(PURE_SRCS) -lcrypto -lcmocka

fuzz-build: $(FUZZERS)

$(BUILD)/fuzz/%: t/fuzz/%.cpp $(PURE_SRCS) $(PURE_HDRS) $(wildcard t/unit/*.hpp)
	@mkdir -p $(BUILD)/fuzz
	$(CLANGXX) -std=gnu++17 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -Isrc -o $@ $< $(PURE_SRCS) -lcrypto

fuzz: fuzz-build
	@for f in $(FUZZERS); do mkdir -p $(BUILD)/corpus/$$(basename $$f); \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(BUILD)/corpus/$$(basename $$f) || exit 1; done

nginx-tests: module
	TEST_NGINX_BINARY=$(NGINX_BIN) TEST_NGINX_LOAD_MODULES=$(MODULE) \
	    prove $(PROVE_INC) -r t/

browser-test: module
	t/browser/run $(BUILD) "$(NGINX_BIN)" "$(MODULE)"

soak: module
	python3 t/soak/soak.py $(NGINX_BIN) $(MODULE) 10000 64

valgrind: module
	python3 t/soak/valgrind.py $(NGINX_BIN) $(MODULE) 1000 16

# the Debian package (debian/) end to end; fails with the reason when this
# machine cannot run it (not root, no dpkg-buildpackage, a system nginx up)
package-test:
	@why=$$(sh t/package/preflight) || { echo "package-test: $$why"; exit 1; }
	prove --exec sh t/package/test.sh

# writes into BENCH_RESULTS; BENCH_RESULTS=bench/results renews the committed run
BENCH_RESULTS ?= $(BUILD)/bench/results

bench: module $(BUILD)/bench/floor
	BENCH_RESULTS=$(BENCH_RESULTS) python3 bench/run.py $(BUILD) "$(NGINX_BIN)" "$(MODULE)" $(BUILD)/bench/floor

$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(BUILD)/bench
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# Debian suites whose upstream nginx tarball (the .orig.tar.gz) is built and
# tested; bookworm has 1.22.1, trixie 1.26.3
NGINX_SUITES ?= bookworm trixie

test-nginx-src:
	t/against-nginx-src $(BUILD)/nginx-src "$(PROVE_INC)" $(NGINX_SUITES)

# only the downloads, for a test machine that has no network later
nginx-src-fetch:
	t/against-nginx-src --fetch-only $(BUILD)/nginx-src "" $(NGINX_SUITES)

run: module
	examples/run $(BUILD) "$(NGINX_BIN)" "$(MODULE)"

# only what is missing: no upgrade of installed packages, no service started
deps:
	.ci/install-deps .ci/packages bench/packages

clean:
	rm -rf $(BUILD) t/servroot
