# SPDX-License-Identifier: Apache-2.0
# Connection tracking (bpf/include/cubebus/ct.bpf.h, cube-services/lib/ct.c):
# tests/bpf/test_ct.c runs packet tables through a probe built for both hooks.
$(OBJ)/bpf/ct_probe_tc.bpf.o: tests/bpf/ct_probe.bpf.c tests/bpf/ct_probe.h $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_TC -c $< -o $@
$(OBJ)/bpf/ct_probe_xdp.bpf.o: tests/bpf/ct_probe.bpf.c tests/bpf/ct_probe.h $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_XDP -c $< -o $@
$(TB)/bpf/test_ct: tests/bpf/test_ct.c cube-services/lib/ct.c cube-services/lib/ct.h bpf/include/cubebus/ct.bpf.h tests/bpf/ct_probe.h \
		$(OBJ)/bpf/ct_probe_tc.bpf.o $(OBJ)/bpf/ct_probe_xdp.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/bpf/test_ct.c cube-services/lib/ct.c $(LDLIBS)
tests-build: $(TB)/bpf/test_ct
