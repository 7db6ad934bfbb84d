# SPDX-License-Identifier: Apache-2.0
# The firewall's fast path against a linear reference, with its rule
# compiler (tests/bpf/test_firewall.c), run by tests/run.sh.
$(TB)/bpf/test_firewall: tests/bpf/test_firewall.c tests/bpf/cbrig.c tests/bpf/cbrig.h \
		cube-services/firewall/fwc.c cube-services/firewall/fwc.h cube-services/firewall/firewall_shared.h \
		bpf/include/cubebus/cubebus_shared.h $(OBJ)/bpf/firewall_tc.bpf.o $(OBJ)/bpf/firewall_xdp.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icube-services/firewall -o $@ tests/bpf/test_firewall.c tests/bpf/cbrig.c \
		cube-services/firewall/fwc.c $(LDLIBS)

tests-build: $(TB)/bpf/test_firewall
