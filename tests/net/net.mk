# SPDX-License-Identifier: Apache-2.0
# Tools of the netns scenarios (tests/net/), built by `make` (tests-build).
$(B)/tests/tools/busjunk: tests/tools/busjunk.c $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

tests-build: $(B)/tests/tools/busjunk
