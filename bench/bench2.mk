# SPDX-License-Identifier: Apache-2.0
# More benchmarks, included at the end of bench/bench.mk.

# hops' router rows: the hand-written router (and the prologue that restores
# the frame) and the router cube's objects.
$(BENCH)/hops: $(OBJ)/bpf/bench_router_baseline.bpf.o $(OBJ)/bpf/router_tc.bpf.o \
	$(OBJ)/bpf/router_xdp.bpf.o cube-services/router/router_shared.h

# bench/slowpath.sh: the paced sender of the slow-path round trip.
$(BENCH)/slowpath_send: bench/slowpath_send.c bench/benchnet.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/slowpath_send.c

bench-build: $(BENCH)/slowpath_send
