# SPDX-License-Identifier: Apache-2.0
# Benchmarks: built by `make` (through tests-build), never run by the tests.
# See bench/README.md for how to run them.

BENCH := $(B)/bench

# hops loads these objects from ../obj/bpf/ next to itself (or from
# $CUBEBUS_BPF_OBJ_DIR); it shares the test rig with tests/bpf/.
BENCH_HOPS_OBJS := $(OBJ)/bpf/bench_baseline.bpf.o $(OBJ)/bpf/bench_floor_tc.bpf.o $(OBJ)/bpf/bench_floor_xdp.bpf.o $(OBJ)/bpf/cubebus.bpf.o \
	$(OBJ)/bpf/simplebridge_tc.bpf.o $(OBJ)/bpf/simplebridge_xdp.bpf.o \
	$(OBJ)/bpf/simpleforwarder_tc.bpf.o $(OBJ)/bpf/simpleforwarder_xdp.bpf.o \
	$(OBJ)/bpf/transparenthelloworld_tc.bpf.o $(OBJ)/bpf/transparenthelloworld_xdp.bpf.o

$(OBJ)/bpf/bench_floor_tc.bpf.o: bench/floor.bpf.c | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_TC -c $< -o $@
$(OBJ)/bpf/bench_floor_xdp.bpf.o: bench/floor.bpf.c | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_XDP -c $< -o $@
$(BENCH)/hops: bench/hops.c tests/bpf/cbrig.c tests/bpf/cbrig.h \
		cube-services/simplebridge/simplebridge_shared.h \
		cube-services/simpleforwarder/simpleforwarder_shared.h \
		bpf/include/cubebus/cubebus_shared.h $(BENCH_HOPS_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bpf -o $@ bench/hops.c tests/bpf/cbrig.c $(LDLIBS)

# hopprof.sh's JIT image dumper
$(BENCH)/jitdump: bench/jitdump.c | check-pkgs
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/jitdump.c $(LDLIBS)

# Throughput on veth (bench/throughput.sh): a generator, a sink and the
# hand-written redirect baseline, each a libbpf program with its BPF object
# embedded as a skeleton (build/gen/bench_<name>.skel.h).
BENCH_NET := pktgen xdpsink redirect
define BENCH_NET_BIN
$$(BENCH)/$(1): bench/$(1).c bench/benchnet.h $$(GEN)/bench_$(1).skel.h
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ bench/$(1).c $$(LDLIBS)
endef
$(foreach b,$(BENCH_NET),$(eval $(call BENCH_NET_BIN,$(b))))

bench-build: $(BENCH)/hops $(BENCH)/jitdump $(foreach b,$(BENCH_NET),$(BENCH)/$(b))
tests-build: bench-build

.PHONY: bench-build

bench: all
	bash bench/run.sh
.PHONY: bench

$(BENCH)/buslat: bench/buslat.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
bench-build: $(BENCH)/buslat
-include bench/bench2.mk
-include bench/bench3.mk

# Issue 4's figures (about 9 minutes; QUICK=1 about 2): docs/RESILIENCE.md
bench-resilience: all
	{ echo "# Resilience under traffic"; echo; \
	  echo "Regenerate with \`make bench-resilience\` (as root). Date: $$(date -u +%Y-%m-%dT%H:%MZ), kernel $$(uname -r), $$(nproc) CPUs."; \
	  echo; bash bench/resilience.sh; } > docs/RESILIENCE.md.tmp && mv docs/RESILIENCE.md.tmp docs/RESILIENCE.md
.PHONY: bench-resilience
-include bench/bench4.mk
