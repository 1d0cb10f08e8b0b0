/*
 * pinned: open a map pinned on a bpffs and print every entry.
 *
 *   sudo ./pinned /sys/fs/bpf/pinned_counts
 *
 * Keys and values of 1, 2, 4 or 8 bytes print as unsigned decimal numbers
 * (host byte order), others as hex bytes. Per-CPU maps print one value per
 * CPU and their sum. Output:
 *   map 'pinned_counts': type 1, key 4 B, value 8 B, max_entries 16
 *   0 => 7
 *   1 => 3
 *   entries: 2
 */
#define _DEFAULT_SOURCE
#include <bpfl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_int_size(size_t n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

static uint64_t as_u64(const unsigned char *p, size_t n)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	switch (n) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	default: memcpy(&u64, p, 8); return u64;
	}
}

static void print_bytes(const unsigned char *p, size_t n)
{
	if (is_int_size(n)) {
		printf("%" PRIu64, as_u64(p, n));
		return;
	}
	printf("0x");
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s /sys/fs/bpf/PATH\n", argv[0]);
		return 2;
	}
	bpfl_map map;
	int rc = bpfl_map_open_pinned(argv[1], &map);
	if (rc < 0) {
		fprintf(stderr, "pinned: %s\n", *bpfl_last_error() ? bpfl_last_error() : strerror(-rc));
		return 1;
	}
	BPFL_OPTS(bpfl_map_info, info);
	size_t vbuf = 0;
	if ((rc = bpfl_map_get_info(map, &info)) < 0 || (rc = bpfl_map_value_buf_size(map, &vbuf)) < 0) {
		fprintf(stderr, "pinned: %s\n", *bpfl_last_error() ? bpfl_last_error() : strerror(-rc));
		bpfl_map_close(map);
		return 1;
	}
	printf("map '%s': type %u, key %u B, value %u B, max_entries %u\n", info.name, info.map_type,
	       info.key_size, info.value_size, info.max_entries);

	/* Per-CPU maps: vbuf holds one 8-byte aligned slot per possible CPU. */
	size_t stride = ((size_t)info.value_size + 7) / 8 * 8;
	int percpu = vbuf != info.value_size;
	size_t ncpu = percpu ? vbuf / stride : 1;

	unsigned char *key = calloc(1, info.key_size ? info.key_size : 1);
	unsigned char *next = calloc(1, info.key_size ? info.key_size : 1);
	unsigned char *val = calloc(1, vbuf ? vbuf : 1);
	if (!key || !next || !val) {
		fprintf(stderr, "pinned: out of memory\n");
		return 1;
	}
	size_t entries = 0;
	const void *prev = NULL; /* NULL: start with the first key */
	for (;;) {
		rc = bpfl_map_next_key(map, prev, next, info.key_size);
		if (rc == -ENOENT)
			break;
		if (rc < 0)
			goto fail;
		memcpy(key, next, info.key_size);
		prev = key;
		rc = bpfl_map_lookup(map, key, info.key_size, val, vbuf);
		if (rc == -ENOENT) /* deleted while we were walking */
			continue;
		if (rc < 0)
			goto fail;
		print_bytes(key, info.key_size);
		printf(" => ");
		if (!percpu) {
			print_bytes(val, info.value_size);
		} else {
			uint64_t sum = 0;
			printf("[");
			for (size_t c = 0; c < ncpu; c++) {
				printf("%s", c ? " " : "");
				print_bytes(val + c * stride, info.value_size);
				if (is_int_size(info.value_size))
					sum += as_u64(val + c * stride, info.value_size);
			}
			printf("]");
			if (is_int_size(info.value_size))
				printf(" sum=%" PRIu64, sum);
		}
		printf("\n");
		entries++;
	}
	printf("entries: %zu\n", entries);
	free(key);
	free(next);
	free(val);
	bpfl_map_close(map);
	return 0;
fail:
	fprintf(stderr, "pinned: %s\n", *bpfl_last_error() ? bpfl_last_error() : strerror(-rc));
	free(key);
	free(next);
	free(val);
	bpfl_map_close(map);
	return 1;
}
