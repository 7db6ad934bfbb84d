# SPDX-License-Identifier: Apache-2.0
# The data-plane SDK's parsers and checksums (tests/bpf/test_sdk.c), on a
# probe built for both hooks like a service.
$(OBJ)/bpf/sdk_probe_tc.bpf.o: tests/bpf/sdk_probe.bpf.c $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_TC -c $< -o $@
$(OBJ)/bpf/sdk_probe_xdp.bpf.o: tests/bpf/sdk_probe.bpf.c $(BPF_HDRS) | check-pkgs
	@mkdir -p $(@D)
	$(CLANG) $(BPFCFLAGS) -DCUBE_XDP -c $< -o $@
$(TB)/bpf/test_sdk: tests/bpf/test_sdk.c tests/bpf/cbrig.c $(TEST_BPF_HDRS) \
		$(OBJ)/bpf/sdk_probe_tc.bpf.o $(OBJ)/bpf/sdk_probe_xdp.bpf.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/bpf/test_sdk.c tests/bpf/cbrig.c $(LDLIBS)
tests-build: $(TB)/bpf/test_sdk
