# SPDX-License-Identifier: Apache-2.0
# BPF packet tables: test programs that load the objects of build/obj/bpf/
# and run packets through them with BPF_PROG_TEST_RUN. Built by `make`,
# run by tests/run.sh.

# The objects test_fastpath loads (it finds them at ../../obj/bpf/ from
# itself, or in $CUBEBUS_BPF_OBJ_DIR).
TEST_BPF_OBJS := $(OBJ)/bpf/cubebus.bpf.o $(OBJ)/bpf/parse_probe.bpf.o \
	$(foreach s,$(SERVICES),$(OBJ)/bpf/$(s)_tc.bpf.o $(OBJ)/bpf/$(s)_xdp.bpf.o)
TEST_BPF_HDRS := tests/bpf/cbrig.h $(wildcard cube-services/*/*_shared.h) \
	bpf/include/cubebus/cubebus_shared.h bpf/include/cubebus/portstats.h

$(TB)/bpf/test_fastpath: tests/bpf/test_fastpath.c tests/bpf/cbrig.c $(TEST_BPF_HDRS) \
		$(TEST_BPF_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/bpf/test_fastpath.c tests/bpf/cbrig.c $(LDLIBS)

tests-build: $(TB)/bpf/test_fastpath
