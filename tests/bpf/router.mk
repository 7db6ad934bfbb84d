# SPDX-License-Identifier: Apache-2.0
# BPF packet tables of the router (LPM, TTL and checksum, slow path, local
# answers): tests/bpf/test_router.c, run by tests/run.sh.
$(TB)/bpf/test_router: tests/bpf/test_router.c tests/bpf/cbrig.c tests/bpf/cbrig.h \
		cube-services/router/router_shared.h bpf/include/cubebus/cubebus_shared.h \
		$(OBJ)/bpf/router_tc.bpf.o $(OBJ)/bpf/router_xdp.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/bpf/test_router.c tests/bpf/cbrig.c $(LDLIBS)

tests-build: $(TB)/bpf/test_router
