/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jitdump - writes the JIT image of a loaded BPF program (its x86 code as
 * the CPU runs it) to a file, for objdump; bpftool needs libbfd for that,
 * which Debian's bpftool is built without. Used by bench/hopprof.sh.
 *
 * Usage: jitdump PROG_ID FILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), size;
	unsigned char *buf;
	char *end;
	unsigned long id;
	FILE *f;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: jitdump PROG_ID FILE\n");
		return 2;
	}
	id = strtoul(argv[1], &end, 10);
	if (*end || !id) {
		fprintf(stderr, "jitdump: not a program id: %s\n", argv[1]);
		return 2;
	}
	fd = bpf_prog_get_fd_by_id((__u32)id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitdump: program %lu: %s\n", id, strerror(errno));
		return 1;
	}
	size = info.jited_prog_len;
	if (!size) {
		fprintf(stderr, "jitdump: program %lu has no JIT image (bpf_jit_enable?)\n", id);
		return 1;
	}
	buf = malloc(size);
	if (!buf)
		return 1;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = size;
	info.jited_prog_insns = (__u64)(unsigned long)buf;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitdump: program %lu: %s\n", id, strerror(errno));
		return 1;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "jitdump: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	free(buf);
	close(fd);
	return 0;
}
