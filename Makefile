# hr: hand-written Makefile. Works with no configuration step on Debian 12;
# ./configure (from configure.ac) only writes config.mk to override the defaults.

-include config.mk

VERSION     := 0.2.0
SOVERSION   := 1
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
DATADIR     ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR     ?=

CC          ?= cc
CUDA_HOME   ?= /usr/local/cuda
# auto: use CUDA when $(CUDA_HOME) has cuBLAS; yes: require it; no: leave it out.
WITH_CUDA   ?= auto

ifeq ($(WITH_CUDA),auto)
  HAVE_CUDA := $(shell test -f $(CUDA_HOME)/include/cublas_v2.h && echo 1)
else ifeq ($(WITH_CUDA),yes)
  HAVE_CUDA := 1
else
  HAVE_CUDA :=
endif

WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wpointer-arith -Wformat=2 -Wvla
OPT         ?= -O2
CFLAGS      ?= $(OPT) -g
HR_CFLAGS   := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -fPIC \
               -fvisibility=hidden -Iinclude -Ilib -DHR_VERSION='"$(VERSION)"'
LDLIBS      := -lyaml -lz -lopenblas -lm -lpthread
# The fuzz targets (make fuzz) are libFuzzer's, so clang's: libhr is compiled
# again for them, instrumented, into build/fuzz; the other targets never need
# clang. Taken here, before SANITIZE and CUDA add to HR_CFLAGS.
FUZZ_CC     ?= clang
FUZZ_CFLAGS := $(HR_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all

# SANITIZE=1 builds everything under ASan+UBSan into its own folder.
ifeq ($(SANITIZE),1)
  VARIANT   := asan
  HR_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS   += -fsanitize=address,undefined
else
  VARIANT   := release
endif
ifeq ($(HAVE_CUDA),1)
  HR_CFLAGS += -DHR_HAVE_CUDA=1
  CUDA_PLUGIN = $(B)/kompress-cuda.so
endif
NVCC        ?= $(CUDA_HOME)/bin/nvcc
# Turing to Hopper as machine code, and Hopper's PTX for newer GPUs to compile at load.
CUDA_ARCHS  ?= 75 80 86 89 90
NVCC_FLAGS  := -std=c++17 -O2 -Iinclude -Ilib -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Werror \
               $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) \
               -gencode arch=compute_90,code=compute_90

B           := build/$(VARIANT)
GEN         := build/gen

# libhr by layer, one folder each (lib/README); lib/test holds the unit tests
LIB_LAYERS  := $(filter-out lib/test/ lib/data/,$(wildcard lib/*/))
LIB_SRCS    := $(foreach d,$(LIB_LAYERS),$(wildcard $(d)*.c))
LIB_OBJS    := $(LIB_SRCS:lib/%.c=$(B)/lib/%.o) $(B)/lib/tokenizer/vocab_blobs.o
CMDS        := hr-count hr-compress hr-proxy hr-patch-auth hr-verify
CMD_BINS    := $(CMDS:%=$(B)/%)
# cmd/common: what every program links (exit statuses, error lines, JSON strings)
CMD_COMMON  := $(patsubst cmd/%.c,$(B)/cmd/%.o,$(wildcard cmd/common/*.c))
UNIT_SRCS   := $(wildcard lib/test/test_*.c)
UNIT_BINS   := $(UNIT_SRCS:lib/test/%.c=$(B)/test/%)
VOCABS      := cl100k_base o200k_base
VOCAB_BLOBS := $(VOCABS:%=$(GEN)/%.bin)
MANPAGES    := $(wildcard man/*.1 man/*.7 man/*.8)

FUZZ_B      := build/fuzz
FUZZ_NAMES  := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_OBJS   := $(LIB_SRCS:lib/%.c=$(FUZZ_B)/lib/%.o) $(FUZZ_B)/lib/tokenizer/vocab_blobs.o

.PHONY: all lib cmds check unit-tests fuzz bench install uninstall run deps clean distclean lint-man FORCE

all: lib cmds

lib: $(B)/libhr.a $(B)/libhr.so $(CUDA_PLUGIN)
cmds: $(CMD_BINS)

# --- generated rank tables -------------------------------------------------
# mkvocab runs at build time on the build machine, so it is never sanitized.
$(GEN)/mkvocab: scripts/mkvocab.c lib/tokenizer/vocab_format.h | $(GEN)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 $(WARN) -Iinclude -Ilib -o $@ $< -lz

$(GEN)/%.bin: lib/data/%.tiktoken.gz lib/data/SHA256SUMS $(GEN)/mkvocab
	@want=$$(grep ' $*.tiktoken$$' lib/data/SHA256SUMS | cut -c1-64); \
	 got=$$(gzip -dc $< | sha256sum | cut -c1-64); \
	 if [ "$$want" != "$$got" ]; then echo "$<: sha256 $$got, expected $$want" >&2; exit 1; fi
	$(GEN)/mkvocab $< $@

$(B)/lib/tokenizer/vocab_blobs.o: lib/tokenizer/vocab_blobs.S $(VOCAB_BLOBS)
	@mkdir -p $(dir $@)
	$(CC) -c -Wa,-I,$(GEN) -o $@ $<

# --- library -----------------------------------------------------------------
$(B)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HR_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libhr.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# exports only what lib/libhr.map lists: the HR_API functions of include/hr.h
$(B)/libhr.so: $(LIB_OBJS) lib/libhr.map
	$(CC) -shared -Wl,-soname,libhr.so.$(SOVERSION) -Wl,--version-script=lib/libhr.map $(LDFLAGS) \
	    -o $(B)/libhr.so.$(VERSION) $(LIB_OBJS) $(LDLIBS)
	ln -sf libhr.so.$(VERSION) $(B)/libhr.so.$(SOVERSION)
	ln -sf libhr.so.$(VERSION) $@

# the CUDA backend, a plugin libhr opens at run time (lib/kompress/kompress_cuda_load.c)
$(B)/kompress-cuda.so: lib/kompress/kompress_cuda.cu lib/kompress/kompress.h include/hr.h lib/kompress/safetensors.h \
                       lib/tokenizer/tokenizer_internal.h lib/settings/route_settings.h | $(B)
	$(NVCC) $(NVCC_FLAGS) -shared -o $@ $< -L$(CUDA_HOME)/lib64 -lcublas -lcudart \
	    -Xlinker -rpath,$(CUDA_HOME)/lib64
$(B)/lib/kompress/kompress_cuda_load.o: HR_CFLAGS += -DHR_PKGLIBDIR='"$(LIBDIR)/hr"'
$(B)/lib/kompress/kompress_cuda_load.o: $(B)/HR-PATHS
# the scorer's exp and erf loops are written to be vectorized (lib/kompress/kompress_math.c)
$(B)/lib/kompress/kompress_math.o: HR_CFLAGS += -ftree-vectorize -fvect-cost-model=dynamic

# --- programs (linked statically against libhr, so they run from the tree) --
# The programs written against include/hr.h alone compile without -Ilib, so
# that a use of an internal header breaks their build at once; they would
# link against libhr.so just as well (scripts/abi-test.sh builds them so).
PUBLIC_API_CMDS := hr-patch-auth hr-verify
cmd_of = $(firstword $(subst /, ,$*))
CMD_CFLAGS = $(if $(filter $(cmd_of),$(PUBLIC_API_CMDS)),$(filter-out -Ilib,$(HR_CFLAGS)) -Icmd/$(cmd_of),$(HR_CFLAGS))
$(B)/cmd/%.o: cmd/%.c | $(B)/cmd
	@mkdir -p $(dir $@)
	$(CC) $(CMD_CFLAGS) -Icmd/common $(CFLAGS) -MMD -MP -c -o $@ $<

# each program links the objects of its own folder and cmd/common's
define cmd_rule
$(B)/$(1): $(patsubst cmd/%.c,$(B)/cmd/%.o,$(wildcard cmd/$(1)/*.c)) $(CMD_COMMON) $(B)/libhr.a
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach c,$(CMDS),$(eval $(call cmd_rule,$(c))))
# the proxy's server side
$(B)/hr-proxy: LDLIBS += -levent -lcurl
# hr-verify asks the proxy for /health
$(B)/hr-verify: LDLIBS += -lcurl
# where make install puts the headroom-route plugin that hr-patch-auth installs,
# and the programs, from which it finds the plugin relative to itself
$(B)/cmd/hr-patch-auth/main.o: HR_CFLAGS += -DHR_BINDIR='"$(BINDIR)"' -DHR_DATADIR='"$(DATADIR)"'
$(B)/cmd/hr-patch-auth/main.o: $(B)/HR-PATHS

# The install paths built into files, one per line, rewritten only when they
# differ: what depends on it is rebuilt when PREFIX, BINDIR, DATADIR, LIBDIR
# or INCLUDEDIR changes, so that "make && make install PREFIX=/opt/hr" installs
# programs that know /opt/hr (as git's GIT-PREFIX does).
$(B)/HR-PATHS: FORCE | $(B)
	@printf 'PREFIX=%s\nBINDIR=%s\nDATADIR=%s\nLIBDIR=%s\nINCLUDEDIR=%s\n' '$(PREFIX)' '$(BINDIR)' \
	    '$(DATADIR)' '$(LIBDIR)' '$(INCLUDEDIR)' > $@.new; \
	 if cmp -s $@.new $@; then rm -f $@.new; \
	 else [ ! -f $@ ] || echo "install paths changed: PREFIX=$(PREFIX), rebuilding what holds them"; mv $@.new $@; fi
FORCE:

# --- tests -------------------------------------------------------------------
$(B)/test/%: lib/test/%.c lib/test/unit.h $(B)/libhr.a | $(B)/test
	$(CC) $(HR_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libhr.a $(LDLIBS)

unit-tests: $(UNIT_BINS)

deps:
	@scripts/install-deps --if-missing

# The fuzz targets run in the plain check only: they carry ASan and UBSan
# already, and a second run under SANITIZE=1 would only double its time.
# They are built once deps has had the chance to install clang. The suites
# are t/*; make check HR_TEST_STRICT=1 fails every skip that installing
# something would turn into a run (scripts/run-tests).
check: deps all unit-tests
	@$(if $(filter 1,$(SANITIZE)),:,if command -v $(FUZZ_CC) >/dev/null 2>&1; then $(MAKE) --no-print-directory fuzz; fi)
	@HR_BUILD=$(B) $(if $(filter 1,$(SANITIZE)),HR_FUZZ_SECONDS=0) scripts/run-tests

# --- fuzz targets (fuzz/fuzz_NAME.c, corpus in testdata/fuzz/NAME/) -----------
fuzz: $(FUZZ_BINS)

$(FUZZ_B)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_B)/cmd/%.o: cmd/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Icmd/common -MMD -MP -c -o $@ $<
$(FUZZ_B)/lib/tokenizer/vocab_blobs.o: lib/tokenizer/vocab_blobs.S $(VOCAB_BLOBS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -c -Wa,-I,$(GEN) -o $@ $<

$(FUZZ_B)/libhr.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_B)/libhr.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(FUZZ_B)/libhr.a $(LDLIBS)
# the proxy's request framing, on bytes alone
$(FUZZ_B)/fuzz_http: $(FUZZ_B)/cmd/hr-proxy/framing.o

lint-man:
	mandoc -Tlint -W warning $(MANPAGES)

bench: deps all
	@HR_BUILD=$(B) scripts/bench-count
	@HR_BUILD=$(B) scripts/bench-session
	@HR_BUILD=$(B) scripts/bench-compress
	@HR_BUILD=$(B) scripts/bench-proxy
	@HR_BUILD=$(B) scripts/bench-kompress

# the main job: hr-proxy in the foreground with the built-in defaults; its
# first lines say how to route Hermes through it and how to check
run: deps all
	@echo "from this tree: $(B)/hr-patch-auth --apply routes Hermes, $(B)/hr-verify checks; Ctrl-C stops"
	@$(B)/hr-proxy

# --- install -----------------------------------------------------------------
$(B)/libhr.pc: lib/libhr.pc.in $(B)/HR-PATHS | $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

install: all $(B)/libhr.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/hr/headroom-route
	install -m 755 $(CMD_BINS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(B)/libhr.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libhr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libhr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhr.so.$(SOVERSION)
	ln -sf libhr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libhr.so
	$(if $(CUDA_PLUGIN),install -d $(DESTDIR)$(LIBDIR)/hr && install -m 755 $(CUDA_PLUGIN) $(DESTDIR)$(LIBDIR)/hr/)
	install -m 644 include/hr.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(B)/libhr.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.7,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man7/
	install -m 644 $(filter %.8,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|@BINDIR@|$(BINDIR)|' scripts/hr-proxy.service.in > $(DESTDIR)$(DATADIR)/hr/hr-proxy.service
	install -m 644 scripts/hermes-plugin/headroom-route/plugin.yaml \
	    scripts/hermes-plugin/headroom-route/__init__.py $(DESTDIR)$(DATADIR)/hr/headroom-route/

uninstall:
	rm -f $(CMDS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(LIBDIR)/libhr.* \
	    $(DESTDIR)$(INCLUDEDIR)/hr.h $(DESTDIR)$(PKGCONFIGDIR)/libhr.pc \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(filter %.1,$(MANPAGES))) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(filter %.7,$(MANPAGES))) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man8/%,$(filter %.8,$(MANPAGES))) \
	    $(DESTDIR)$(DATADIR)/hr/hr-proxy.service
	rm -rf $(DESTDIR)$(DATADIR)/hr/headroom-route $(DESTDIR)$(LIBDIR)/hr

$(B) $(B)/cmd $(B)/test $(GEN):
	mkdir -p $@

clean:
	rm -rf build

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache node_modules

-include $(LIB_OBJS:.o=.d) $(wildcard $(B)/cmd/*/*.d) $(wildcard $(FUZZ_B)/lib/*/*.d $(FUZZ_B)/cmd/*/*.d)
