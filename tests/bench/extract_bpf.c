/*
 * extract_bpf: cut the embedded BPF ELF objects out of executables (libbpf
 * skeletons embed their object as a byte array). For every "\x7fELF" found
 * in a file: parse the 64-bit little-endian ELF header, keep it only if
 * e_machine is EM_BPF (247), compute the image size as
 * e_shoff + e_shnum * e_shentsize (section headers come last in objects
 * written by LLVM), and write the image to OUTDIR/<binary>[.N].o.
 *
 *   extract_bpf OUTDIR BINARY...
 *
 * Prints one line per object written and a count; identical images (the same
 * tool under two names) are written once.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EM_BPF
#define EM_BPF 247
#endif

struct seen { uint64_t hash; size_t len; };
static struct seen *seen;
static size_t nseen, capseen;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
	return h;
}

static int already_seen(const unsigned char *p, size_t n)
{
	uint64_t h = fnv1a(p, n);
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].hash == h && seen[i].len == n) return 1;
	if (nseen == capseen) {
		capseen = capseen ? capseen * 2 : 64;
		seen = realloc(seen, capseen * sizeof(*seen));
		if (!seen) { perror("realloc"); exit(1); }
	}
	seen[nseen++] = (struct seen){ h, n };
	return 0;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "extract_bpf: write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR BINARY...\n", argv[0]);
		return 2;
	}
	const char *outdir = argv[1];
	int total = 0;
	for (int a = 2; a < argc; a++) {
		int fd = open(argv[a], O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) { fprintf(stderr, "extract_bpf: %s: %s\n", argv[a], strerror(errno)); return 1; }
		if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) { close(fd); continue; }
		size_t fsz = (size_t)st.st_size;
		const unsigned char *m = mmap(NULL, fsz, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (m == MAP_FAILED) { perror("mmap"); return 1; }
		char *tmp = strdup(argv[a]);
		const char *base = basename(tmp);
		int n = 0;
		/* Offset 0 is the executable's own header (x86-64): the search starts after it. */
		for (size_t off = 1; off + sizeof(Elf64_Ehdr) <= fsz; off++) {
			const unsigned char *p = memmem(m + off, fsz - off, ELFMAG, SELFMAG);
			if (!p) break;
			off = (size_t)(p - m);
			if (off + sizeof(Elf64_Ehdr) > fsz) break;
			Elf64_Ehdr eh;
			memcpy(&eh, p, sizeof(eh));
			if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
			    eh.e_machine != EM_BPF || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0)
				continue;
			uint64_t size = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
			if (eh.e_shoff < sizeof(Elf64_Ehdr) || size > fsz - off) continue;
			if (already_seen(p, size)) { off += size - 1; continue; }
			char path[4096];
			if (n == 0) snprintf(path, sizeof(path), "%s/%s.o", outdir, base);
			else snprintf(path, sizeof(path), "%s/%s.%d.o", outdir, base, n);
			if (write_file(path, p, size) < 0) return 1;
			printf("%s: %llu bytes at offset %zu of %s\n", path, (unsigned long long)size, off, argv[a]);
			n++, total++;
			off += size - 1;
		}
		free(tmp);
		munmap((void *)m, fsz);
	}
	printf("extract_bpf: %d BPF objects from %d binaries\n", total, argc - 2);
	return 0;
}
