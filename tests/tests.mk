# SPDX-License-Identifier: Apache-2.0
# Test programs: built by `make`, run by tests/run.sh (`make test`).
TB := $(B)/tests

$(TB)/unit/test_store: tests/unit/test_store.c $(STATE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(TB)/unit/test_cliparse: tests/unit/test_cliparse.c $(CLI_OBJS) $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(TB)/unit/test_output: tests/unit/test_output.c $(CLI_OBJS) $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(TB)/unit/test_bus: tests/unit/test_bus.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# the generator's test model, and the test that compiles its output
$(GEN)/cfg/cfgtest_cfg.c $(GEN)/cfg/cfgtest_cfg.h $(GEN)/cfg/cfgtest_act.c &: tests/unit/models/cfgtest.yang $(SHARE)/yang/cubebus-base.yang $(BIN)/cubebus-gen
	@mkdir -p $(@D)
	$(BIN)/cubebus-gen -p $(SHARE)/yang $< $(GEN)/cfg
$(TB)/unit/test_cubecfg: tests/unit/test_cubecfg.c $(GEN)/cfg/cfgtest_cfg.c $(GEN)/cfg/cfgtest_act.c cube-services/lib/cubecfg.c \
		cube-services/lib/cubeop.c $(GEN)/cfg/cfgtest_cfg.h tests/unit/models/cfgbad.yang
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$(GEN)/cfg -DCUBEBUS_GEN='"$(abspath $(BIN)/cubebus-gen)"' \
		-DCFGTEST_BASE_DIR='"$(abspath $(SHARE)/yang)"' -DCFGTEST_MODELS='"$(abspath tests/unit/models)"' \
		-o $@ $(filter %.c,$^) $(LDLIBS)

$(TB)/unit/test_pktbuild: tests/unit/test_pktbuild.c cube-services/lib/pktbuild.c cube-services/lib/pktbuild.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(TB)/unit/%,$(wildcard tests/unit/test_*.c))
tests-build: $(UNIT_TESTS)

-include tests/bpf/bpf.mk
-include tests/net/net.mk

$(TB)/tools/probe: tests/tools/probe.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<
tests-build: $(TB)/tools/probe
-include tests/bpf/router.mk
-include tests/bpf/sdk.mk
-include tests/bpf/firewall.mk
-include tests/bpf/ct.mk
