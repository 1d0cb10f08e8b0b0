/* ---- 8. writing and draining a hash map in batches (issue 13) -------------------------
 *
 * A BIG_N-entry hash map (1M; 100k with --quick), u32 keys and u64 values, is
 * written and then drained (every entry read and deleted) by:
 *   (a) bpfl per key:    bpfl_map_update, then bpfl_map_lookup + bpfl_map_delete
 *   (b) bpfl batches:    bpfl_map_update_batch, bpfl_map_lookup_and_delete_batch
 *   (c) libbpf batches:  bpf_map_update_batch, bpf_map_lookup_and_delete_batch
 *   (c') the same as (c) again, as if it were another library: an A/A pair
 *        whose spread is the noise floor (the kernel does nearly all the
 *        work, and its run-to-run spread is several percent)
 * in chunks of BATCH_CHUNK entries for (b), (c) and (c'). Each run is checked: the
 * map holds every entry after the write, the drain returns each key once with
 * its value, and the map is empty afterwards. Included by bench.c. */

#define BATCH_CHUNK 8192u

enum bimpl { B_PERKEY, B_BPFL, B_LIB, B_LIB2, B_NIMPL };
static const char *bimpl_name[] = { "(a) bpfl per key: update; lookup + delete", "(b) bpfl_map_update_batch / _lookup_and_delete_batch",
				    "(c) libbpf bpf_map_update_batch / _lookup_and_delete_batch", "(c') the same as (c) again (A/A)" };

static void batch_write(enum bimpl im, struct bmap *m, const uint32_t *keys, const uint64_t *vals, uint32_t n)
{
	if (im == B_PERKEY) {
		for (uint32_t i = 0; i < n; i++)
			if (bpfl_map_update(m->h, &keys[i], 4, &vals[i], 8, BPFL_ANY) < 0) die("bpfl_map_update: %s", bpfl_last_error());
		return;
	}
	for (uint32_t off = 0; off < n; off += BATCH_CHUNK) {
		uint32_t c = n - off < BATCH_CHUNK ? n - off : BATCH_CHUNK;
		if (im == B_BPFL) {
			size_t cnt = c;
			if (bpfl_map_update_batch(m->h, keys + off, c * 4ul, vals + off, c * 8ul, &cnt, NULL) < 0 || cnt != c)
				die("bpfl_map_update_batch: %s", bpfl_last_error());
		} else {
			uint32_t cnt = c;
			LIBBPF_OPTS(bpf_map_batch_opts, o);
			if (bpf_map_update_batch(m->fd, keys + off, vals + off, &cnt, &o) < 0 || cnt != c)
				die("bpf_map_update_batch: %s", strerror(errno));
		}
	}
}

/* Drain the map into okeys/ovals; returns the number of entries drained. */
static uint32_t batch_drain(enum bimpl im, struct bmap *m, const uint32_t *keys, uint32_t n, uint32_t *okeys, uint64_t *ovals)
{
	uint32_t got = 0;
	if (im == B_PERKEY) {
		/* Per key, the keys are known (as a program that wrote them knows them). */
		for (uint32_t i = 0; i < n; i++) {
			if (bpfl_map_lookup(m->h, &keys[i], 4, &ovals[got], 8) < 0) die("bpfl_map_lookup: %s", bpfl_last_error());
			if (bpfl_map_delete(m->h, &keys[i], 4) < 0) die("bpfl_map_delete: %s", bpfl_last_error());
			okeys[got++] = keys[i];
		}
		return got;
	}
	uint32_t cur = 0;
	int first = 1;
	for (;;) {
		uint32_t room = n - got < BATCH_CHUNK ? n - got : BATCH_CHUNK;
		if (room == 0) room = 1; /* one more call to see the end */
		int e;
		uint32_t did;
		if (im == B_BPFL) {
			size_t cnt = room;
			e = bpfl_map_lookup_and_delete_batch(m->h, first ? NULL : &cur, &cur, 4, okeys + got, (size_t)(n - got + 1) * 4,
							     ovals + got, (size_t)(n - got + 1) * 8, &cnt, NULL);
			did = (uint32_t)cnt;
			if (e < 0 && e != -ENOENT) die("bpfl_map_lookup_and_delete_batch: %s", bpfl_last_error());
		} else {
			uint32_t cnt = room;
			LIBBPF_OPTS(bpf_map_batch_opts, o);
			e = bpf_map_lookup_and_delete_batch(m->fd, first ? NULL : &cur, &cur, okeys + got, ovals + got, &cnt, &o);
			if (e < 0) e = -errno;
			did = cnt;
			if (e < 0 && e != -ENOENT) die("bpf_map_lookup_and_delete_batch: %s", strerror(-e));
		}
		got += did;
		first = 0;
		if (e == -ENOENT) return got;
		if (got > n) die("drained more than written");
	}
}

static void bench_batch(void)
{
	uint32_t n = BIG_N;
	progress("8 batch: write and drain a %u-entry hash map, %d reps\n", n, BIG_REPS);
	struct bmap m = make_map(BPF_MAP_TYPE_HASH, n, "bench_batch");
	uint32_t *keys = malloc(n * 4ul), *okeys = malloc((n + 1) * 4ul);
	uint64_t *vals = malloc(n * 8ul), *ovals = malloc((n + 1) * 8ul);
	unsigned char *seen = malloc(n);
	if (!keys || !okeys || !vals || !ovals || !seen) die("out of memory");
	for (uint32_t k = 0; k < n; k++) keys[k] = k * 2654435761u, vals[k] = k * 7ull + 1; /* spread keys */
	double tw[B_NIMPL][MAXREPS], td[B_NIMPL][MAXREPS];
	for (int r = -1; r < BIG_REPS; r++) { /* r = -1: warm-up, not recorded */
		int ord[B_NIMPL];
		run_order(r + 1, B_NIMPL, ord);
		for (int j = 0; j < B_NIMPL; j++) {
			enum bimpl im = (enum bimpl)ord[j];
			double t0 = now_ns();
			batch_write(im, &m, keys, vals, n);
			double t1 = now_ns();
			uint32_t k0;
			uint64_t probe;
			if (raw_lookup(m.fd, &keys[n - 1], &probe) < 0 || probe != vals[n - 1]) die("%s: last key not written", bimpl_name[im]);
			double t2 = now_ns();
			uint32_t got = batch_drain(im, &m, keys, n, okeys, ovals);
			double t3 = now_ns();
			/* Checked, untimed: each key once with its value, the map empty. */
			if (got != n) die("%s: drained %u of %u entries", bimpl_name[im], got, n);
			memset(seen, 0, n);
			for (uint32_t i = 0; i < got; i++) {
				uint32_t idx = okeys[i] * 244002641u; /* 2654435761^-1 mod 2^32 */
				if (idx >= n || seen[idx] || ovals[i] != idx * 7ull + 1) die("%s: entry %u wrong (key %u)", bimpl_name[im], i, okeys[i]);
				seen[idx] = 1;
			}
			union bpf_attr a;
			memset(&a, 0, sizeof(a));
			a.map_fd = m.fd, a.next_key = (uintptr_t)&k0;
			if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a, sizeof(a)) == 0 || errno != ENOENT) die("%s: map not empty after the drain", bimpl_name[im]);
			if (r >= 0) tw[im][r] = (t1 - t0) / 1e6, td[im][r] = (t3 - t2) / 1e6;
		}
	}
	struct st sw[B_NIMPL], sd[B_NIMPL], sb[B_NIMPL];
	double tb[B_NIMPL][MAXREPS];
	for (int i = 0; i < B_NIMPL; i++) {
		for (int r = 0; r < BIG_REPS; r++) tb[i][r] = tw[i][r] + td[i][r];
		sw[i] = stats(tw[i], BIG_REPS), sd[i] = stats(td[i], BIG_REPS), sb[i] = stats(tb[i], BIG_REPS);
	}
	const char *what[3] = { "write", "drain (lookup + delete every entry)", "write + drain" };
	struct st *s3[3] = { sw, sd, sb };
	for (int w = 0; w < 3; w++) {
		char bench[200], ratio[96];
		snprintf(bench, sizeof(bench), "8 %s: %u-entry hash, chunks of %u", what[w], n, BATCH_CHUNK);
		struct st *s = s3[w];
		snprintf(ratio, sizeof(ratio), "%.3fx libbpf batch", s[B_BPFL].med / s[B_LIB].med);
		add_row(bench, "bpfl batch", "ms", s[B_BPFL], ratio);
		add_row(bench, "libbpf batch", "ms", s[B_LIB], "1 (baseline)");
		snprintf(ratio, sizeof(ratio), "%.3fx libbpf batch (identical code: noise)", s[B_LIB2].med / s[B_LIB].med);
		add_row(bench, "libbpf batch again (A/A)", "ms", s[B_LIB2], ratio);
		snprintf(ratio, sizeof(ratio), "%.2fx bpfl batch", s[B_PERKEY].med / s[B_BPFL].med);
		add_row(bench, "bpfl per key", "ms", s[B_PERKEY], ratio);
	}
	/* Met when bpfl's batches are no further from libbpf's than libbpf's are
	 * from themselves (the A/A spread, either way), as in section 3. */
	double q = sb[B_BPFL].med / sb[B_LIB].med, aa = sb[B_LIB2].med / sb[B_LIB].med;
	double noise = aa > 1 ? aa : 1 / aa;
	add_target("8 batch write+drain: bpfl / libbpf batch", "<= 1.00 + A/A noise", q <= noise,
		   "%.3f (noise floor %.3f; per key: %.1fx bpfl batch)", q, noise, sb[B_PERKEY].med / sb[B_BPFL].med);
	drop_map(&m);
	free(keys), free(okeys), free(vals), free(ovals), free(seen);
}
