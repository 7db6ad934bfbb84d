# SPDX-License-Identifier: Apache-2.0
# BPF packet tables of the ddosmitigator (LPM matches, passes, counters,
# specialisation): tests/bpf/test_ddos.c, run by tests/run.sh.
$(TB)/bpf/test_ddos: tests/bpf/test_ddos.c tests/bpf/cbrig.c tests/bpf/cbrig.h \
		cube-services/ddosmitigator/ddosmitigator_shared.h bpf/include/cubebus/cubebus_shared.h \
		$(OBJ)/bpf/ddosmitigator_tc.bpf.o $(OBJ)/bpf/ddosmitigator_xdp.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/bpf/test_ddos.c tests/bpf/cbrig.c $(LDLIBS)

tests-build: $(TB)/bpf/test_ddos
