/* ---- 7. reading a global variable (issue 13) -------------------------------------------
 * Included by bench.c (one unit: it uses its helpers). A .bss counter of
 * build/bpf/globals_mmap.o, which its program increments, read four ways:
 *   - through the pointer bpfl_object_find_variable gives (the map mmap'd: no syscall);
 *   - through libbpf's mmap'd data (its skeleton API: bpf_object__load_skeleton's pointer);
 *   - with bpfl_map_lookup on the .bss map (one syscall per read);
 *   - with the raw BPF_MAP_LOOKUP_ELEM syscall.
 * Each figure is ns per read; the syscall readers do fewer reads per repetition.
 * A repetition's figure is its fastest of GBATCHES batches: on a shared machine
 * one preemption (milliseconds) would otherwise swamp 0.3 ns reads. */

#define GBATCHES 10

static const struct object *find_object(const char *name)
{
	for (int i = 0; i < nobjs; i++)
		if (!strcmp(objs[i].name, name)) return &objs[i];
	return NULL;
}

enum greader { G_BPFL_PTR, G_LIB_PTR, G_BPFL_LOOKUP, G_RAW, G_N };
static const char *greader_name[G_N] = {
	"bpfl find_variable pointer", "libbpf mmap'd data (skeleton)", "bpfl_map_lookup", "raw BPF_MAP_LOOKUP_ELEM",
};

/* n reads of a counter, by the same machine code for both pointers: two
 * inlined copies of this loop differed by a cycle a read with their alignment,
 * which the comparison would have charged to the pointer. */
static __attribute__((noinline)) uint64_t read_counter(volatile uint64_t *p, int n)
{
	uint64_t s = 0;
	for (int i = 0; i < n; i++) s += *p;
	return s;
}

static void bench_globals(void)
{
	const struct object *o = find_object("bpf/globals_mmap.o");
	if (!o) {
		detail("7 globals: build/bpf/globals_mmap.o is missing: not run\n");
		return;
	}
	const int mm_n = quick ? 1000000 : 20000000, sys_n = OPS_N;
	progress("7 globals: %d pointer reads, %d lookups x %d reps per figure\n", mm_n, sys_n, REPS);
	uint32_t me = (uint32_t)getpid();

	/* bpfl: the target pid set through the pointer, the counter read through another. */
	struct bpfl_open_opts oo = { .sz = sizeof(oo), .object_name = "globals_mmap" };
	struct bpfl_object bo;
	struct bpfl_map bss;
	struct bpfl_program bp;
	struct bpfl_link bl;
	void *p;
	size_t sz;
	if (bpfl_object_open_mem(o->buf, o->len, &oo, &bo) || bpfl_object_find_variable(bo, "target_tgid", &p, &sz))
		die("7 globals: bpfl open: %s", bpfl_last_error());
	*(volatile uint32_t *)p = me;
	if (bpfl_object_load(bo, NULL) || bpfl_object_find_variable(bo, "hits", &p, &sz) || bpfl_object_find_map(bo, ".bss", &bss) ||
	    bpfl_object_find_program(bo, "count_getppid", &bp) || bpfl_program_attach(bp, &bl))
		die("7 globals: bpfl load: %s", bpfl_last_error());
	volatile uint64_t *bpfl_hits = p;
	void *bss_base;
	size_t bss_len;
	struct bpfl_map_info mi = { .sz = sizeof(mi) };
	if (bpfl_map_mmap(bss, &bss_base, &bss_len) || bpfl_map_get_info(bss, &mi)) die("7 globals: %s", bpfl_last_error());
	size_t off = (size_t)((char *)p - (char *)bss_base);
	uint32_t vs = mi.value_size;

	/* libbpf: the same object through its skeleton API, as bpftool gen
	 * skeleton's code calls it (.rodata set through its mmaped pointer
	 * before load; after load_skeleton the .bss pointer is the live map). */
	struct bpf_object *lobj = NULL;
	struct bpf_map *lro_m = NULL, *lbss_m = NULL;
	void *lro_p = NULL, *lbss_p = NULL;
	struct bpf_map_skeleton ms[2] = { { ".rodata", &lro_m, &lro_p }, { ".bss", &lbss_m, &lbss_p } };
	struct bpf_object_skeleton sk = { .sz = sizeof(sk), .name = "globals_mmap", .data = o->buf, .data_sz = o->len,
					  .obj = &lobj, .map_cnt = 2, .map_skel_sz = sizeof(ms[0]), .maps = ms };
	if (bpf_object__open_skeleton(&sk, NULL) || !lro_p) die("7 globals: libbpf open_skeleton: %s", libbpf_msg);
	*(volatile uint32_t *)lro_p = me;
	if (bpf_object__load_skeleton(&sk) || !lbss_p) die("7 globals: libbpf load_skeleton: %s", libbpf_msg);
	struct bpf_link *ll = bpf_program__attach(bpf_object__find_program_by_name(lobj, "count_getppid"));
	if (!ll) die("7 globals: libbpf attach: %s", libbpf_msg);
	volatile uint64_t *lib_hits = (volatile uint64_t *)((char *)lbss_p + off);

	/* Both programs count these; all four readers must agree on the value. */
	for (int i = 0; i < 37; i++) syscall(SYS_getppid);
	uint8_t val[256];
	uint32_t zero = 0;
	if (vs > sizeof(val) || off + 8 > vs) die("7 globals: .bss is %u bytes", vs);
	int fd = mi.fd;
	uint64_t want = 37, got[G_N];
	got[G_BPFL_PTR] = *bpfl_hits, got[G_LIB_PTR] = *lib_hits;
	bpfl_map_lookup(bss, &zero, 4, val, vs), memcpy(&got[G_BPFL_LOOKUP], val + off, 8);
	raw_lookup(fd, &zero, val), memcpy(&got[G_RAW], val + off, 8);
	for (int g = 0; g < G_N; g++)
		if (got[g] != want) die("7 globals: %s read %llu, want %llu", greader_name[g], (unsigned long long)got[g], (unsigned long long)want);

	double t[G_N][MAXREPS];
	uint64_t sink = 0;
	for (int r = -1; r < REPS; r++) { /* r = -1: warm-up */
		int ord[G_N];
		run_order(r + 1, G_N, ord);
		for (int j = 0; j < G_N; j++) {
			int g = ord[j], n = (g <= G_LIB_PTR ? mm_n : sys_n) / GBATCHES;
			double best = 1e300;
			for (int b = 0; b < GBATCHES; b++) {
				double t0 = now_ns();
				switch (g) {
				case G_BPFL_PTR:
					sink += read_counter(bpfl_hits, n);
					break;
				case G_LIB_PTR:
					sink += read_counter(lib_hits, n);
					break;
				case G_BPFL_LOOKUP:
					for (int i = 0; i < n; i++) {
						if (bpfl_map_lookup(bss, &zero, 4, val, vs)) die("7 globals: %s", bpfl_last_error());
						sink += val[off];
					}
					break;
				case G_RAW:
					for (int i = 0; i < n; i++) {
						if (raw_lookup(fd, &zero, val)) die("7 globals: raw lookup: %s", strerror(errno));
						sink += val[off];
					}
					break;
				}
				double dt = (now_ns() - t0) / n;
				if (dt < best) best = dt;
			}
			if (r >= 0) t[g][r] = best;
		}
	}
	struct st s[G_N];
	for (int g = 0; g < G_N; g++) s[g] = stats(t[g], REPS);
	const char *bench = "7 read a .bss counter (ns per read)";
	char ratio[96];
	snprintf(ratio, sizeof(ratio), "%.2fx libbpf's pointer", s[G_BPFL_PTR].med / s[G_LIB_PTR].med);
	add_row(bench, greader_name[G_BPFL_PTR], "ns/read", s[G_BPFL_PTR], ratio);
	add_row(bench, greader_name[G_LIB_PTR], "ns/read", s[G_LIB_PTR], "1 (baseline)");
	snprintf(ratio, sizeof(ratio), "%.0fx bpfl's pointer", s[G_BPFL_LOOKUP].med / s[G_BPFL_PTR].med);
	add_row(bench, greader_name[G_BPFL_LOOKUP], "ns/read", s[G_BPFL_LOOKUP], ratio);
	snprintf(ratio, sizeof(ratio), "%.0fx bpfl's pointer", s[G_RAW].med / s[G_BPFL_PTR].med);
	add_row(bench, greader_name[G_RAW], "ns/read", s[G_RAW], ratio);
	double q = s[G_RAW].med / s[G_BPFL_PTR].med;
	add_target("7 globals: lookup syscall time / mmap read time", ">= 50", q >= 50, "%.0f (%.1f ns vs %.2f ns)", q, s[G_RAW].med, s[G_BPFL_PTR].med);
	detail("7 globals: %llu (a sum, so the reads are not optimised away)\n", (unsigned long long)sink);

	bpf_link__destroy(ll);
	bpf_object__close(lobj);
	bpfl_link_destroy(bl);
	bpfl_object_close(bo);
}
