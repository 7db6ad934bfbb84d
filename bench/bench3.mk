# SPDX-License-Identifier: Apache-2.0
# restlat: REST gateway latency (GETs on one keep-alive connection); its own
# minimal HTTP client, so no library beyond libc.
$(BENCH)/restlat: bench/restlat.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<
bench-build: $(BENCH)/restlat
