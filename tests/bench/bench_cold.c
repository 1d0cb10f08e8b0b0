/* ---- cold start (issue 13): one object in a fresh process ---------------------------------------
 *
 * What a tool pays: it starts, opens ONE object (and loads it) and exits. The
 * warm sections above load many objects in one process, where bpfl reads the
 * kernel's BTF once; here every run pays for it again, and for the library's
 * own start. build/bench/cold_bpfl and cold_libbpf (tests/bench/cold_*.c, both
 * statically linked) are spawned alternately, COLD_REPS times each, for two
 * CO-RE objects of libbpf-tools and one object without CO-RE; the figures are
 * the children's user, system and total CPU (wait4) and peak RSS (VmHWM, which
 * each child prints as it exits). #included by bench.c. */

static int COLD_REPS = 15;

struct cold_run {
	double user, sys, total, peak, own;
};

/* Runs DIR/cold_IMPL MODE OBJ PIN_ROOT once; 0 on success. */
static int cold_spawn(const char *dir, const char *impl, const char *mode, const char *obj, struct cold_run *out)
{
	char prog[700], *root = strcmp(impl, "bpfl") ? pin_lib : pin_bpfl;
	snprintf(prog, sizeof(prog), "%s/cold_%s", dir, impl);
	char *args[] = { prog, (char *)mode, (char *)obj, root, NULL };
	char buf[64];
	int status, e = 0;
	struct rusage ru;
	ssize_t n = spawn_capture(prog, args, buf, sizeof(buf), &status, &ru, &e);
	if (n < 0 && e) {
		detail("\ncold start: cannot run %s: %s (make bench-build builds it)\n", prog, strerror(e));
		return -1;
	}
	rm_pins(root);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n <= 0) {
		detail("\ncold start: %s %s %s failed (status %#x)\n", prog, mode, obj, status);
		return -1;
	}
	out->user = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3;
	out->sys = ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	out->total = out->user + out->sys;
	long hwm = 0;
	double work = 0, in_bpf = 0;
	if (sscanf(buf, "%ld %lf %lf", &hwm, &work, &in_bpf) != 3) {
		detail("\ncold start: %s printed '%s', not 'RSS CPU BPF_CPU'\n", prog, buf);
		return -1;
	}
	out->peak = hwm / 1024.0;
	out->own = (work - in_bpf) / 1e6;
	return 0;
}

static double cold_mean(const double *v, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++) s += v[i];
	return n ? s / n : 0;
}

/* One object, one mode: rows for user, system, total CPU, peak RSS and the
 * library's own CPU (cold_common.h says why that one); the ratios go to
 * *ratio: user (of means: see below), total, peak and own (of medians). */
static int cold_case(const char *dir, const char *obj, const char *label, int load, double ratio[4])
{
	const char *mode = load ? "load" : "open";
	double v[2][5][MAXREPS];
	for (int r = 0; r < COLD_REPS; r++)
		for (int k = 0; k < 2; k++) {
			int impl = (r + k) % 2; /* alternate which goes first */
			struct cold_run c;
			if (cold_spawn(dir, impl ? "libbpf" : "bpfl", mode, obj, &c) < 0) return -1;
			v[impl][0][r] = c.user, v[impl][1][r] = c.sys, v[impl][2][r] = c.total, v[impl][3][r] = c.peak;
			v[impl][4][r] = c.own;
		}
	static const char *what[5] = { "user CPU (tick-sampled)", "system CPU", "total CPU", "peak RSS",
				       "library's own CPU (outside bpf(), exact)" };
	char bench[200], rt[96];
	for (int m = 0; m < 5; m++) {
		struct st b = stats(v[0][m], COLD_REPS), l = stats(v[1][m], COLD_REPS);
		double q = l.med > 0 ? b.med / l.med : (b.med > 0 ? 1e9 : 1);
		if (m >= 2) ratio[m - 1] = q; /* ratio: [1] total CPU, [2] peak RSS, [3] own CPU */
		snprintf(bench, sizeof(bench), "C cold %s %s: %s", load ? "open+load" : "open", label, what[m]);
		if (l.med > 0)
			snprintf(rt, sizeof(rt), "%.2fx libbpf", q);
		else
			snprintf(rt, sizeof(rt), "libbpf's median is 0");
		add_row(bench, "bpfl", m == 3 ? "MiB" : "ms", b, rt);
		add_row(bench, "libbpf", m == 3 ? "MiB" : "ms", l, "1 (baseline)");
	}
	/* The kernel charges CPU time by ticks and splits a short process's total
	 * (which is exact) into user and system by the ticks each caught: the
	 * split of one run is coarse, its mean over the runs less so. */
	double mu = cold_mean(v[1][0], COLD_REPS);
	ratio[0] = mu > 0 ? cold_mean(v[0][0], COLD_REPS) / mu : 1;
	detail("\ncold %s %s: means over %d runs: user %.2f / %.2f ms (%.2fx), system %.2f / %.2f ms, total %.2f / %.2f ms (bpfl / libbpf)\n", mode,
	       label, COLD_REPS, cold_mean(v[0][0], COLD_REPS), cold_mean(v[1][0], COLD_REPS),
	       cold_mean(v[0][0], COLD_REPS) / (cold_mean(v[1][0], COLD_REPS) + 1e-9), cold_mean(v[0][1], COLD_REPS),
	       cold_mean(v[1][1], COLD_REPS), cold_mean(v[0][2], COLD_REPS), cold_mean(v[1][2], COLD_REPS));
	return 0;
}

static void bench_cold(const char *bpf_dir, const char *tools_dir)
{
	if (quick) COLD_REPS = 3;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", iter_obj); /* build/bench/iter_dump.o: the cold_* programs are beside it */
	char *slash = strrchr(dir, '/');
	if (slash) *slash = 0; else snprintf(dir, sizeof(dir), ".");
	progress("C cold start: a fresh process per run, %d runs each\n", COLD_REPS);
	struct { const char *dir, *file; int core; } objs3[] = {
		{ tools_dir, "execsnoop.o", 1 }, { tools_dir, "opensnoop.o", 1 }, { bpf_dir, "syscount.o", 0 },
	};
	for (size_t i = 0; i < sizeof(objs3) / sizeof(objs3[0]); i++) {
		char path[700], label[96];
		snprintf(path, sizeof(path), "%s/%s", objs3[i].dir, objs3[i].file);
		snprintf(label, sizeof(label), "%s%s", objs3[i].file, objs3[i].core ? " (CO-RE)" : " (no CO-RE)");
		if (access(path, R_OK) < 0) {
			detail("\ncold start: %s is missing (make bench-objs, make bpf): not run\n", path);
			continue;
		}
		double load[4] = { 0 }, open[4] = { 0 };
		if (cold_case(dir, path, label, 1, load) < 0 || cold_case(dir, path, label, 0, open) < 0) continue;
		if (objs3[i].core) {
			/* "user-space CPU" of the issue: the exact figure decides; the
			 * tick-sampled user CPU (load[0]) is in the table and the detail. */
			add_target("C cold open+load, CO-RE: library's own CPU (outside bpf())", "<= 0.5x libbpf", load[3] <= 0.5, "%.2fx (%s)", load[3],
				   objs3[i].file);
			add_target("C cold open+load, CO-RE: total CPU", "<= 1.0x libbpf", load[1] <= 1.0, "%.2fx (%s)", load[1], objs3[i].file);
			add_target("C cold open+load, CO-RE: peak RSS", "<= 1.0x libbpf", load[2] <= 1.0, "%.2fx (%s)", load[2], objs3[i].file);
		}
		add_target("C cold open only: peak RSS", "<= 1.0x libbpf", open[2] <= 1.0, "%.2fx (%s)", open[2], objs3[i].file);
	}
}
