# segue build. `make` builds build/segue and the library (libsegue.a, and
# libsegue.so exporting the public API only); `make check` installs what is
# missing, then runs every test (plain and under ASan+UBSan); `make demo`
# runs the live demo; `make install` (PREFIX, DESTDIR) and `make uninstall`.
# SAN=1 builds into build-asan with sanitizers.

CC      ?= cc
SAN     ?=
ifeq ($(SAN),1)
BUILD   ?= build-asan
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     ?= -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPT     ?= -O2 -g
endif

PG_INC  := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
CPPFLAGS += -Iinclude -I$(PG_INC) -D_GNU_SOURCE
CFLAGS  += -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -pthread -fPIC $(OPT) $(SANFLAGS) -MMD -MP
LDFLAGS += -pthread $(SANFLAGS)
LIBS     = -lsqlite3 -lpq -lyaml -ljansson -lxxhash -lpg_query -lcurl -lm

LIB_SRC  = $(shell find src/lib -name '*.c' | sort)
CLI_SRC  = $(wildcard src/cli/*.c) $(wildcard src/http/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
TOOL_SRC = $(wildcard tests/tools/*.c)
BENCH_SRC= $(wildcard bench/*.c)

LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_BIN= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# the version from the public header; the soname's number is its major
VERSION := $(shell sed -n 's/^\#define SEGUE_VERSION "\(.*\)"/\1/p' include/segue/segue.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME   = libsegue.so.$(SOMAJOR)

.PHONY: all setup check test demo bench clean install uninstall
all: $(BUILD)/segue $(BUILD)/libsegue.so $(UNIT_BIN) $(TOOL_BIN) $(BENCH_BIN)

$(BUILD)/libsegue.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# the shared library exports what include/segue/ declares, nothing else
$(BUILD)/libsegue.map: $(wildcard include/segue/*.h) scripts/symbols.sh
	@mkdir -p $(dir $@)
	scripts/symbols.sh include/segue/*.h > $@

$(BUILD)/libsegue.so: $(LIB_OBJ) $(BUILD)/libsegue.map
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script=$(BUILD)/libsegue.map \
	  -Wl,--no-undefined -o $@ $(LIB_OBJ) $(LIBS)

$(BUILD)/segue: $(CLI_OBJ) $(BUILD)/libsegue.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsegue.a $(LIBS) -lmicrohttpd

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libsegue.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libsegue.a $(LIBS) -lcmocka

# tools and benchmarks may reuse the CLI's demo writer (src/cli/writer.c)
WRITER_OBJ = $(BUILD)/src/cli/writer.o $(BUILD)/src/cli/ofrep_client.o
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(WRITER_OBJ) $(BUILD)/libsegue.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libsegue.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# (the Makefile too: a changed flag rebuilds every object)
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Isrc/lib -Isrc/cli -Isrc/http -c -o $@ $<

setup:
	@scripts/setup.sh

check: setup
	@scripts/test.sh

test: check

demo: setup
	@$(MAKE) --no-print-directory -s all
	@$(BUILD)/segue demo

bench:
	@scripts/setup.sh --bench
	@$(MAKE) --no-print-directory -s all
	@bench/run.sh
	@bench/pg.sh
	@bench/serve.sh

clean:
	rm -rf build build-asan

include install.mk

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_SRC:%.c=$(BUILD)/%.d) \
  $(TOOL_SRC:%.c=$(BUILD)/%.d) $(BENCH_SRC:%.c=$(BUILD)/%.d)
