/* Shared by soak.c and stress.c: process and kernel object counts. */
#include <dirent.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct counts {
	int fds, bpf_fds;   /* this process: every fd, and those that are BPF objects */
	long rss_kb;        /* VmRSS */
	int progs, maps;    /* the whole system's BPF programs and maps (other processes too) */
};

static int count_ids(int cmd)
{
	union bpf_attr attr;
	uint32_t id = 0;
	int n = 0;
	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (syscall(SYS_bpf, cmd, &attr, sizeof(attr)) != 0)
			return n;
		id = attr.next_id;
		n++;
	}
}

static struct counts counts_now(void)
{
	struct counts c = { 0 };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char p[300], target[128];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		c.fds++;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			c.bpf_fds += strncmp(target, "anon_inode:bpf", 14) == 0;
		}
	}
	if (d) {
		closedir(d);
		c.fds--; /* the directory's own fd */
	}
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &c.rss_kb) == 1)
			break;
	if (f)
		fclose(f);
	c.progs = count_ids(BPF_PROG_GET_NEXT_ID);
	c.maps = count_ids(BPF_MAP_GET_NEXT_ID);
	return c;
}

static void print_counts(const char *what, long n, struct counts c)
{
	printf("%-10s %6ld  fds %3d  bpf fds %3d  RSS %6ld kB  system progs %4d maps %4d\n", what, n, c.fds, c.bpf_fds, c.rss_kb, c.progs, c.maps);
	fflush(stdout);
}
