# lmstore: the C side of the build. The Rust core is built by cargo; this file packages the
# libraries (SONAME liblmstore.so.0, set by build.rs), runs the demo and the C tests, installs,
# and runs every test suite in order.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
DESTDIR    ?=

CC      ?= cc
CXX     ?= c++
CARGO   ?= cargo
VALGRIND ?= valgrind

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := liblmstore.so.$(SOMAJOR)
SOREAL  := liblmstore.so.$(VERSION)

BUILD   := build
RELEASE := target/release
# What a program linking liblmstore.a also needs (Rust's std on glibc). The unwinder (libgcc_s,
# or libgcc_eh under -static) comes from the compiler driver; naming -lgcc_s would break -static.
NATIVE_LIBS := -lutil -lrt -lpthread -lm -ldl -lc

CWARN := -Wall -Wextra -Werror -pedantic
CSTD  := -std=c99
DEMO_DIR ?= $(BUILD)/demo-store

C_TESTS := $(BUILD)/test_lmstore_so $(BUILD)/test_lmstore_a $(BUILD)/headertest_c $(BUILD)/headertest_cpp \
           $(BUILD)/test_import $(BUILD)/test_bind
TEST_SRC := tests/c/test_lmstore.c tests/c/test_recovery.c tests/c/test_consistency.c tests/c/test_render.h tests/c/test_util.h tests/c/mp.h include/lmstore.h

.PHONY: all lib cli demo install uninstall test test-c test-c-valgrind test-c-install clean

all: lib

# cargo decides what is stale; the copies below only change when its outputs do.
lib:
	$(CARGO) build --release
	@$(MAKE) --no-print-directory $(BUILD)/$(SOREAL) $(BUILD)/liblmstore.a

$(BUILD)/$(SOREAL): $(RELEASE)/liblmstore.so
	@mkdir -p $(BUILD)
	cp $< $@
	@soname=$$(readelf -d $@ 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p'); \
	if [ "$$soname" != "$(SONAME)" ]; then \
	  if command -v patchelf >/dev/null 2>&1; then patchelf --set-soname $(SONAME) $@; \
	  else echo "warning: $@ has SONAME '$$soname', expected $(SONAME) (build.rs sets it)" >&2; fi; \
	fi
	ln -sf $(SOREAL) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/liblmstore.so

# One object whose only global symbols are lms_*, so programs can link their own LMDB too.
$(BUILD)/liblmstore.a: $(RELEASE)/liblmstore.a scripts/localize-static.sh
	@mkdir -p $(BUILD)
	scripts/localize-static.sh $< $@

$(RELEASE)/liblmstore.so $(RELEASE)/liblmstore.a:
	$(CARGO) build --release

$(BUILD)/lmstore.pc: lmstore.pc.in Cargo.toml
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' $< > $@

# The prefix is baked into the .pc file, so regenerate it on every install.
.PHONY: $(BUILD)/lmstore.pc

# ---- demo ----

$(BUILD)/demo: examples/demo.c include/lmstore.h $(BUILD)/liblmstore.a
	$(CC) $(CSTD) $(CWARN) -O2 -Iinclude -o $@ examples/demo.c $(BUILD)/liblmstore.a $(NATIVE_LIBS)

demo: lib
	@$(MAKE) --no-print-directory $(BUILD)/demo
	@mkdir -p $(dir $(DEMO_DIR))
	./$(BUILD)/demo $(DEMO_DIR)

# ---- install ----

# The command-line tool (cli/, its own crate so clap and friends never reach the library).
cli:
	$(CARGO) build --release -p lmstore-cli

install: lib cli $(BUILD)/lmstore.pc
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(BINDIR)
	install -m 755 $(RELEASE)/lmstore $(DESTDIR)$(BINDIR)/lmstore
	install -m 644 include/lmstore.h $(DESTDIR)$(INCLUDEDIR)/lmstore.h
	install -m 644 $(BUILD)/liblmstore.a $(DESTDIR)$(LIBDIR)/liblmstore.a
	install -m 755 $(BUILD)/$(SOREAL) $(DESTDIR)$(LIBDIR)/$(SOREAL)
	ln -sf $(SOREAL) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/liblmstore.so
	install -m 644 $(BUILD)/lmstore.pc $(DESTDIR)$(LIBDIR)/pkgconfig/lmstore.pc
	@echo "lmstore installed into $(DESTDIR)$(PREFIX)."
	@echo "  Build:  export PKG_CONFIG_PATH=$(LIBDIR)/pkgconfig; cc app.c \$$(pkg-config --cflags --libs lmstore)"
	@echo "  Run:    if $(LIBDIR) is not a directory the runtime linker searches, such a program fails to"
	@echo "          start (liblmstore.so.$(SOMAJOR) not found). Either run ldconfig (system prefixes), or set"
	@echo "          LD_LIBRARY_PATH=$(LIBDIR), or link with -Wl,-rpath,$(LIBDIR), or link statically:"
	@echo "          cc -static app.c \$$(pkg-config --cflags --static --libs lmstore)"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/lmstore $(DESTDIR)$(INCLUDEDIR)/lmstore.h $(DESTDIR)$(LIBDIR)/liblmstore.a \
	      $(DESTDIR)$(LIBDIR)/$(SOREAL) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/liblmstore.so $(DESTDIR)$(LIBDIR)/pkgconfig/lmstore.pc

# ---- C tests ----

# Linked against build/ (not target/release) because the SONAME names liblmstore.so.0,
# which only exists as the symlink made by `lib`.
$(BUILD)/test_lmstore_so: $(TEST_SRC) $(BUILD)/$(SOREAL)
	$(CC) $(CSTD) $(CWARN) -g -O1 -Iinclude -o $@ tests/c/test_lmstore.c \
	  -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -llmstore -lpthread

$(BUILD)/test_lmstore_a: $(TEST_SRC) $(BUILD)/liblmstore.a
	$(CC) $(CSTD) $(CWARN) -g -O1 -Iinclude -o $@ tests/c/test_lmstore.c \
	  $(BUILD)/liblmstore.a $(NATIVE_LIBS)

# The binding-facing ABI (lms_write_batch, the _into reads, the list decoders).
$(BUILD)/test_bind: tests/c/test_bind.c tests/c/test_util.h tests/c/mp.h include/lmstore.h $(BUILD)/$(SOREAL)
	$(CC) $(CSTD) $(CWARN) -g -O1 -Iinclude -o $@ tests/c/test_bind.c \
	  -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -llmstore -lpthread

# The shared test headers define static helpers this file does not all use.
$(BUILD)/test_import: tests/c/test_import.c tests/c/test_util.h tests/c/mp.h include/lmstore.h $(BUILD)/$(SOREAL)
	$(CC) $(CSTD) $(CWARN) -Wno-unused-function -Wno-unused-variable -g -O1 -Iinclude -o $@ tests/c/test_import.c \
	  -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -llmstore -lpthread

# Linked too, so every declaration must resolve to a symbol the library really exports.
$(BUILD)/headertest_c: tests/c/headertest.c include/lmstore.h $(BUILD)/$(SOREAL)
	$(CC) $(CSTD) $(CWARN) -Iinclude -o $@ $< -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -llmstore

$(BUILD)/headertest_cpp: tests/c/headertest.c include/lmstore.h $(BUILD)/$(SOREAL)
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -o $@ $< \
	  -L$(BUILD) -Wl,-rpath,'$$ORIGIN' -llmstore

test-c: lib
	@$(MAKE) --no-print-directory $(C_TESTS)
	tests/c/check-exports.sh $(BUILD)/$(SOREAL) include/lmstore.h tests/c/test_lmstore.c tests/c/test_recovery.c tests/c/test_import.c tests/c/test_consistency.c tests/c/test_render.h tests/c/test_bind.c
	./$(BUILD)/headertest_c
	./$(BUILD)/headertest_cpp
	./$(BUILD)/test_lmstore_so
	./$(BUILD)/test_lmstore_a
	$(VALGRIND) $(VALGRIND_FLAGS) ./$(BUILD)/test_bind
	./$(BUILD)/test_import
	@$(MAKE) --no-print-directory test-c-valgrind
	@$(MAKE) --no-print-directory test-c-install

# The suite under memcheck on the shared-library build. By default the groups that exercise every
# ABI entry point once; the fork, thread and corruption groups repeat the same calls thousands of
# times and take most of an hour under memcheck on two cores, so they run only with
# `make test-c-valgrind VALGRIND_GROUPS=` (empty: every group).
VALGRIND_GROUPS ?= basics templates messages sessions backup stat readonly shared limits render dictionaries
VALGRIND_FLAGS := -q --leak-check=full --show-leak-kinds=definite,indirect --error-exitcode=1 \
  --errors-for-leak-kinds=definite,indirect
test-c-valgrind: $(BUILD)/test_lmstore_so
	$(VALGRIND) $(VALGRIND_FLAGS) ./$(BUILD)/test_lmstore_so $(VALGRIND_GROUPS)

test-c-install:
	tests/c/install-test.sh

# ---- everything ----

# Each step prints its wall time, so a slow CI run shows where the time went.
test:
	scripts/timed.sh rust scripts/test-rust.sh
	scripts/timed.sh render-diff scripts/render-diff.sh
	scripts/timed.sh cli scripts/test-cli.sh
	scripts/timed.sh c $(MAKE) test-c
	scripts/timed.sh beside-lmdb tests/c/beside-lmdb.sh
	scripts/timed.sh go bindings/go/test.sh
	scripts/timed.sh node bindings/node/test.sh
	scripts/timed.sh bench-smoke scripts/bench-smoke.sh
	scripts/timed.sh postgres scripts/pg-server.sh test

clean:
	rm -rf $(BUILD)
