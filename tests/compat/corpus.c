/* The corpus check (issue 10): every program of every BPF object embedded in
 * Debian's libbpf-tools, loaded ALONE (autoload off for the others) with the
 * run-time set-up the tools apply, by libbpf and by bpfl side by side.
 * libbpf is linked into this test binary only, never into bpfl.
 *
 *   corpus TOOLS_DIR [KNOWN_FILE]
 *
 * Prints the table (programs, loaded by libbpf, by bpfl, both, libbpf only
 * with bpfl's error, bpfl only). Exit 1 when a program loads with libbpf and
 * not with bpfl, unless it is listed in KNOWN_FILE ("object/program  why"
 * lines: causes another part of issue 10 fixes), 77 without root. */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <bpfl.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PROGS 64

/* The run-time sizes tools give maps their source leaves at 0. */
static unsigned fix_max_entries(unsigned type, unsigned max)
{
	if (max)
		return 0;
	if (type == BPF_MAP_TYPE_RINGBUF)
		return 256 * 1024;
	if (type == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return 0; /* both loaders size it by CPUs */
	return 10240;
}
static unsigned fix_value_size(unsigned type, unsigned vs)
{
	/* stack traces: perf_max_stack_depth (127) * sizeof(u64) */
	return type == BPF_MAP_TYPE_STACK_TRACE && vs == 0 ? 127 * 8 : 0;
}
/* fsdist/fsslower's placeholder targets, retargeted to ext4's functions as the tools do for -t ext4. */
static const char *retarget(const char *section)
{
	static const char *map[][2] = {
		{"dummy_file_read", "ext4_file_read_iter"}, {"dummy_file_write", "ext4_file_write_iter"},
		{"dummy_file_open", "ext4_file_open"},      {"dummy_file_sync", "ext4_sync_file"},
		{"dummy_getattr", "ext4_file_getattr"},
	};
	const char *t = strchr(section, '/');
	/* only the fentry/fexit variants: the kprobe ones attach by name at run time */
	if (!t || (strncmp(section, "fentry/", 7) && strncmp(section, "fexit/", 6)))
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(t + 1, map[i][0]))
			return map[i][1];
	return NULL;
}

static int quiet(enum libbpf_print_level l, const char *f, va_list a)
{
	(void)l, (void)f, (void)a;
	return 0;
}
static void quiet_bpfl(int level, const char *msg, void *ctx)
{
	(void)level, (void)msg, (void)ctx;
}

/* libbpf: program `idx` alone; 0 or a negative errno. */
static int libbpf_load(const char *path, int idx)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	struct bpf_map *m;
	int i = 0, err;
	if (!o)
		return -errno;
	bpf_object__for_each_program(p, o) {
		bpf_program__set_autoload(p, i == idx);
		const char *t = retarget(bpf_program__section_name(p));
		if (i == idx && t)
			bpf_program__set_attach_target(p, 0, t);
		i++;
	}
	bpf_object__for_each_map(m, o) {
		unsigned me = fix_max_entries(bpf_map__type(m), bpf_map__max_entries(m));
		unsigned vs = fix_value_size(bpf_map__type(m), bpf_map__value_size(m));
		if (me)
			bpf_map__set_max_entries(m, me);
		if (vs)
			bpf_map__set_value_size(m, vs);
	}
	err = bpf_object__load(o);
	bpf_object__close(o);
	return err;
}

/* bpfl: the same; on failure `why` holds bpfl's message. */
static int bpfl_load(const char *path, int idx, char *why, size_t len)
{
	struct bpfl_object o;
	size_t n = 0;
	int err = bpfl_object_open_file(path, NULL, &o);
	if (err) {
		snprintf(why, len, "%s", bpfl_last_error());
		return err;
	}
	bpfl_object_program_count(o, &n);
	for (size_t i = 0; i < n; i++) {
		struct bpfl_program p;
		struct bpfl_program_info pi = {.sz = sizeof(pi)};
		bpfl_object_program_at(o, i, &p);
		bpfl_program_set_autoload(p, (int)i == idx);
		bpfl_program_get_info(p, &pi);
		const char *t = retarget(pi.section);
		if ((int)i == idx && t)
			bpfl_program_set_attach_target(p, 0, t);
	}
	bpfl_object_map_count(o, &n);
	for (size_t i = 0; i < n; i++) {
		struct bpfl_map m;
		struct bpfl_map_info mi = {.sz = sizeof(mi)};
		bpfl_object_map_at(o, i, &m);
		bpfl_map_get_info(m, &mi);
		unsigned me = fix_max_entries(mi.map_type, mi.max_entries);
		unsigned vs = fix_value_size(mi.map_type, mi.value_size);
		if (me)
			bpfl_map_set_max_entries(m, me);
		if (vs)
			bpfl_map_set_value_size(m, vs);
	}
	err = bpfl_object_load(o, NULL);
	if (err) {
		/* the first line of the message, without the verifier log */
		snprintf(why, len, "%s", bpfl_last_error());
		char *nl = strstr(why, "; verifier log");
		if (nl)
			*nl = 0;
		if ((nl = strchr(why, '\n')))
			*nl = 0;
	}
	bpfl_object_close(o);
	return err;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *known_why(char *known, const char *key)
{
	size_t kl = strlen(key);
	for (char *l = known; l && *l;) {
		char *e = strchr(l, '\n');
		if (!strncmp(l, key, kl) && (l[kl] == ' ' || l[kl] == '\t'))
			return l + kl;
		l = e ? e + 1 : NULL;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: corpus TOOLS_DIR [KNOWN_FILE]\n");
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIPPED: the corpus check loads BPF programs (needs root)\n");
		return 77;
	}
	char *known = NULL;
	if (argc > 2) {
		FILE *f = fopen(argv[2], "r");
		size_t cap = 0;
		if (f) {
			getdelim(&known, &cap, 0, f);
			fclose(f);
		}
	}
	libbpf_set_print(quiet);
	bpfl_set_log_callback(quiet_bpfl, NULL, 0);
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 2;
	}
	char *names[512];
	int nn = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nn < 512)
		if (strstr(e->d_name, ".o"))
			names[nn++] = strdup(e->d_name);
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp);

	int total = 0, by_libbpf = 0, by_bpfl = 0, both = 0, libbpf_only = 0, bpfl_only = 0, known_n = 0, objs = 0;
	char lines[16384] = "", bpfl_lines[4096] = "";
	for (int k = 0; k < nn; k++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", argv[1], names[k]);
		struct bpf_object *o = bpf_object__open_file(path, NULL);
		if (!o)
			continue;
		const char *pn[MAX_PROGS];
		int np = 0;
		struct bpf_program *p;
		bpf_object__for_each_program(p, o) if (np < MAX_PROGS) pn[np++] = strdup(bpf_program__name(p));
		bpf_object__close(o);
		objs++;
		for (int i = 0; i < np; i++) {
			char why[512] = "";
			int lerr = libbpf_load(path, i);
			int l = lerr == 0;
			int b = bpfl_load(path, i, why, sizeof(why)) == 0;
			total++;
			by_libbpf += l, by_bpfl += b, both += l && b;
			char key[256], obj[128];
			snprintf(obj, sizeof(obj), "%.*s", (int)(strlen(names[k]) - 2), names[k]);
			snprintf(key, sizeof(key), "%s/%s", obj, pn[i]);
			if (l && !b) {
				char *kw = known_why(known, key);
				size_t used = strlen(lines);
				if (kw) {
					known_n++;
					char *eol = strchr(kw, '\n');
					snprintf(lines + used, sizeof(lines) - used, "| %s | known:%.*s | %s |\n", key, eol ? (int)(eol - kw) : (int)strlen(kw), kw, why);
				} else {
					libbpf_only++;
					snprintf(lines + used, sizeof(lines) - used, "| %s | **bpfl fails** | %s |\n", key, why);
				}
			}
			if (!b && !l && getenv("CORPUS_VERBOSE"))
				fprintf(stderr, "neither: %s (libbpf %d): %s\n", key, lerr, why);
			if (b && !l) {
				bpfl_only++;
				size_t used = strlen(bpfl_lines);
				snprintf(bpfl_lines + used, sizeof(bpfl_lines) - used, "%s%s", used ? ", " : "", key);
			}
		}
	}
	printf("| objects | programs | loaded by libbpf | loaded by bpfl | both | libbpf only (known) | libbpf only (failing) | bpfl only |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	printf("| %d | %d | %d | %d | %d | %d | %d | %d |\n\n", objs, total, by_libbpf, by_bpfl, both, known_n, libbpf_only, bpfl_only);
	if (lines[0]) {
		printf("Loaded by libbpf, not by bpfl:\n\n| program | status | bpfl's error |\n|---|---|---|\n%s\n", lines);
	}
	if (bpfl_lines[0])
		printf("Loaded by bpfl, not by libbpf: %s\n", bpfl_lines);
	printf("corpus: %s\n", libbpf_only ? "FAIL: programs libbpf loads and bpfl does not (above)" : "ok: bpfl loads every program libbpf loads (known exceptions listed)");
	return libbpf_only ? 1 : 0;
}
