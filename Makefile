# SPDX-License-Identifier: Apache-2.0
# cubebus - `make` builds everything into build/; see README.md.
.DEFAULT_GOAL := all
SHELL := /bin/bash

B        := build
GEN      := $(B)/gen
OBJ      := $(B)/obj
BIN      := $(B)/bin
SHARE    := $(B)/share/cubebus
PREFIX   ?= /usr/local

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

PKG_CONFIG ?= pkg-config
PKGS     := libczmq libzmq libbpf libprotobuf-c libyang sqlite3 json-c libmicrohttpd
# The entry points that install packages (demo, test, deps) never build in the
# make that ran the install: this Makefile is parsed before the packages exist,
# so they run `make deps` and then a new make for the build (see below).
# PKG_OK is empty when a package is missing; building then stops with a
# sentence instead of a link error.
PKG_OK   := $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo yes)
PKG_CFLAGS := $(if $(PKG_OK),$(shell $(PKG_CONFIG) --cflags $(PKGS)))
PKG_LIBS := $(if $(PKG_OK),$(shell $(PKG_CONFIG) --libs $(PKGS)))
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation \
            -D_GNU_SOURCE -Iproto -I$(GEN) -Ibpf/include -Istate -Icube-services/lib -Icli -Ibroker \
            $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lelf -lz -lpthread
BPFCFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf/include -I$(GEN) \
             -I/usr/include/$(shell uname -m)-linux-gnu -Wall -Wno-unused-function

# A service is a folder of cube-services/ with its YANG model: adding one is
# adding a folder (DESIGN §4.2).
SERVICES := $(sort $(patsubst cube-services/%/,%,$(dir $(wildcard cube-services/*/*.yang))))
SERVICES := $(filter-out lib,$(SERVICES))

all: $(BIN)/cubebusd $(BIN)/cubectl $(BIN)/polycubectl $(BIN)/cubebus-cube \
     $(foreach s,$(SERVICES),$(BIN)/cube-$(s) $(SHARE)/yang/$(s).yang) \
     $(SHARE)/yang/cubebus-base.yang $(foreach s,$(SERVICES),$(OBJ)/cfg/lib$(s)_cfg.a) tests-build

# ---- generated code -------------------------------------------------------
$(GEN)/cubebus.pb-c.c $(GEN)/cubebus.pb-c.h: proto/cubebus.proto | check-pkgs
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $<

# Typed configuration from each model (cube-services/lib/cubecfg.h). Every
# service's model is generated and compiled at build time, so a model the
# generator cannot map stops the build with an error naming the node.
$(BIN)/cubebus-gen: cube-services/lib/gen/cubebus-gen.c | check-pkgs
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)
$(GEN)/cfg/%_cfg.c $(GEN)/cfg/%_cfg.h $(GEN)/cfg/%_act.c: $(SHARE)/yang/%.yang $(SHARE)/yang/cubebus-base.yang $(BIN)/cubebus-gen
	@mkdir -p $(@D)
	$(BIN)/cubebus-gen -p $(SHARE)/yang $< $(GEN)/cfg
$(OBJ)/cfg/%_cfg.o: $(GEN)/cfg/%_cfg.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icube-services/lib -I$(GEN)/cfg -c $< -o $@
$(OBJ)/cfg/%_act.o: $(GEN)/cfg/%_act.c $(GEN)/cfg/%_cfg.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icube-services/lib -I$(GEN)/cfg -c $< -o $@
# An archive: the linker takes the action table (and with it the action
# handlers it names) only into a service whose cube_ops name <svc>_actions.
$(OBJ)/cfg/lib%_cfg.a: $(OBJ)/cfg/%_cfg.o $(OBJ)/cfg/%_act.o
	rm -f $@
	$(AR) rcs $@ $^

# BPF objects: each service builds once for TC and once for XDP.
BPF_HDRS := $(wildcard bpf/include/cubebus/*.h)
$(OBJ)/bpf/cubebus.bpf.o: bpf/cubebus.bpf.c $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -c $< -o $@
define SERVICE_BPF
$(OBJ)/bpf/$(1)_tc.bpf.o: cube-services/$(1)/$(1).bpf.c $(wildcard cube-services/$(1)/*.h) $(BPF_HDRS) | check-pkgs
	@mkdir -p $$(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_TC -c $$< -o $$@
$(OBJ)/bpf/$(1)_xdp.bpf.o: cube-services/$(1)/$(1).bpf.c $(wildcard cube-services/$(1)/*.h) $(BPF_HDRS) | check-pkgs
	@mkdir -p $$(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_XDP -c $$< -o $$@
endef
$(foreach s,$(SERVICES),$(eval $(call SERVICE_BPF,$(s))))
$(OBJ)/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -c $< -o $@
$(OBJ)/bpf/bench_%.bpf.o: bench/%.bpf.c $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -c $< -o $@
$(GEN)/%.skel.h: $(OBJ)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name $(subst .,_,$*) > $@

# ---- libraries ------------------------------------------------------------
check-pkgs:
	@[ -n "$(PKG_OK)" ] || { echo "cubebus: missing packages ($$($(PKG_CONFIG) --print-errors --exists $(PKGS) 2>&1 | head -1)); run 'make deps' (as root) first, or 'make demo' / 'make test', which do" >&2; exit 1; }
$(OBJ)/%.o: %.c $(GEN)/cubebus.pb-c.h | check-pkgs
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
$(OBJ)/gen/cubebus.pb-c.o: $(GEN)/cubebus.pb-c.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

COMMON_OBJS := $(OBJ)/gen/cubebus.pb-c.o $(OBJ)/proto/bus.o
STATE_OBJS  := $(OBJ)/state/store.o
CLI_OBJS    := $(OBJ)/cli/cliparse.o $(OBJ)/cli/output.o
LIBCUBE_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(wildcard cube-services/lib/*.c))
BROKER_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(wildcard broker/*.c))

# Objects whose sources include skeletons depend on them.
$(OBJ)/broker/dataplane.o: $(GEN)/cubebus.skel.h
# A service's process is every .c of its folder but the fast path's.
SERVICE_OBJS = $(patsubst %.c,$(OBJ)/%.o,$(filter-out %.bpf.c,$(wildcard cube-services/$(1)/*.c)))
$(foreach s,$(SERVICES),$(eval $(call SERVICE_OBJS,$(s)): $(GEN)/$(s)_tc.skel.h $(GEN)/$(s)_xdp.skel.h $(GEN)/cfg/$(s)_cfg.h))
CFLAGS += -I$(GEN)/cfg

$(BIN)/cubebusd: $(BROKER_OBJS) $(STATE_OBJS) $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/cubectl: $(OBJ)/cli/cubectl.o $(CLI_OBJS) $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/cubebus-cube: dist/cubebus-cube
	@mkdir -p $(@D)
	install -m 0755 $< $@
$(BIN)/polycubectl: $(BIN)/cubectl
	ln -sf cubectl $@
# A service on typed configuration includes its <svc>_cfg.h: its binary links
# the generated code, and a handler the model needs and the service lacks is
# an undefined symbol here (an action handler too, once its cube_ops name
# <svc>_actions).
TYPED_SERVICES := $(foreach s,$(SERVICES),$(if $(shell grep -l '"$(s)_cfg.h"' cube-services/$(s)/*.c 2>/dev/null),$(s)))
define SERVICE_BIN
$(BIN)/cube-$(1): $(call SERVICE_OBJS,$(1)) $(if $(filter $(1),$(TYPED_SERVICES)),$(OBJ)/cfg/lib$(1)_cfg.a) $(LIBCUBE_OBJS) $(COMMON_OBJS)
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call SERVICE_BIN,$(s))))
define SERVICE_YANG
$(SHARE)/yang/$(1).yang: cube-services/$(1)/$(1).yang
	@mkdir -p $$(@D)
	cp $$< $$@
endef
$(foreach s,$(SERVICES),$(eval $(call SERVICE_YANG,$(s))))
$(SHARE)/yang/cubebus-base.yang: cube-services/lib/cubebus-base.yang
	@mkdir -p $(@D)
	cp $< $@

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
-include tests/tests.mk
-include bench/bench.mk

# ---- entry points ---------------------------------------------------------
# `make demo` and `make test` work in one run on a machine without the
# packages: deps first, then a new make (which reads this file, and asks
# pkg-config, only now that the packages are there), then the run.
# tests/style/test_freshmake.sh keeps it so.
DEPS       ?= bash scripts/deps.sh
BUILD_GOAL ?= all
deps:
	$(DEPS)

build-after-deps: deps
	$(MAKE) --no-print-directory $(BUILD_GOAL)

test: build-after-deps
	bash tests/run.sh

demo: build-after-deps
	bash scripts/demo.sh

demo-clean:
	bash scripts/demo.sh clean

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/cubebus/yang
	install -m 0755 $(BIN)/cubebusd $(BIN)/cubectl $(foreach s,$(SERVICES),$(BIN)/cube-$(s)) $(DESTDIR)$(PREFIX)/bin/
	ln -sf cubectl $(DESTDIR)$(PREFIX)/bin/polycubectl
	install -m 0644 $(SHARE)/yang/*.yang $(DESTDIR)$(PREFIX)/share/cubebus/yang/
	install -d $(DESTDIR)$(PREFIX)/share/cubebus/bpf $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 $(OBJ)/bpf/cubebus.bpf.o $(foreach s,$(SERVICES),$(OBJ)/bpf/$(s)_tc.bpf.o $(OBJ)/bpf/$(s)_xdp.bpf.o) \
		$(DESTDIR)$(PREFIX)/share/cubebus/bpf/
	install -m 0644 cli/cubectl.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/cubectl
	ln -sf cubectl $(DESTDIR)$(PREFIX)/share/bash-completion/completions/polycubectl
	install -m 0755 dist/cubebus-cube $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local|$(PREFIX)|g' dist/systemd/cubebusd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/cubebusd.service
	sed 's|/usr/local|$(PREFIX)|g' dist/systemd/cubebus-cube@.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/cubebus-cube@.service

docs: all
	$(BIN)/cubebusd --describe > docs/SERVICES.md

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

.PHONY: all deps build-after-deps check-pkgs test demo demo-clean install format clean tests-build docs
.SECONDARY:
