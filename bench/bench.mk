# SPDX-License-Identifier: Apache-2.0
# Benchmarks: built by `make` (through tests-build), never run by the tests.
# See bench/README.md for how to run them.

BENCH := $(B)/bench

# hops loads these objects from ../obj/bpf/ next to itself (or from
# $CUBEBUS_BPF_OBJ_DIR); it shares the test rig with tests/bpf/.
BENCH_HOPS_OBJS := $(OBJ)/bpf/bench_baseline.bpf.o $(OBJ)/bpf/cubebus.bpf.o \
	$(OBJ)/bpf/simplebridge_tc.bpf.o $(OBJ)/bpf/simplebridge_xdp.bpf.o \
	$(OBJ)/bpf/simpleforwarder_tc.bpf.o $(OBJ)/bpf/simpleforwarder_xdp.bpf.o

$(BENCH)/hops: bench/hops.c tests/bpf/cbrig.c tests/bpf/cbrig.h \
		cube-services/simplebridge/simplebridge_shared.h \
		cube-services/simpleforwarder/simpleforwarder_shared.h \
		bpf/include/cubebus/cubebus_shared.h $(BENCH_HOPS_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bpf -o $@ bench/hops.c tests/bpf/cbrig.c $(LDLIBS)

bench-build: $(BENCH)/hops
tests-build: bench-build

.PHONY: bench-build

bench: all
	bash bench/run.sh
.PHONY: bench

$(BENCH)/buslat: bench/buslat.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
bench-build: $(BENCH)/buslat
