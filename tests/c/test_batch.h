/* C ABI checks of the batch map calls (issue 13), included by test_capi.c,
 * on bpf/batch.bpf.c: 10,000 entries written in one call into a hash, a
 * per-CPU hash and an array, each checked with single lookups; the map
 * walked in chunks; part drained with lookup-and-delete; the rest deleted;
 * partial failures report the count done. */

#define BATCH_N 10000u

static uint64_t batch_val(uint32_t k) { return (uint64_t)k * 1000003u + 7; }

/* Walk `m` in chunks of `chunk` (lookup, or lookup-and-delete when `del`),
 * at most `limit` entries: keys into seen[] (counted), values checked by `check`. */
static size_t batch_walk(struct bpfl_map m, size_t chunk, int del, size_t limit, unsigned char *seen,
			 int (*check)(uint32_t k, const unsigned char *v, size_t vs))
{
	size_t vs = 0, cs = 0, total = 0;
	OK(bpfl_map_value_buf_size(m, &vs));
	OK(bpfl_map_batch_cursor_size(m, &cs));
	CHECK(cs == 4, "cursor size %zu", cs);
	uint32_t *keys = calloc(chunk, 4);
	unsigned char *vals = calloc(chunk, vs);
	unsigned char cur[8];
	int first = 1, err = 0, calls = 0;
	struct bpfl_map_batch_opts opts = { .sz = sizeof(opts) };
	while (err == 0 && total < limit && calls++ < 100000) {
		size_t n = chunk;
		/* One cursor buffer for in and out: allowed. */
		err = del ? bpfl_map_lookup_and_delete_batch(m, first ? NULL : cur, cur, sizeof(cur), keys, chunk * 4, vals, chunk * vs, &n, &opts)
			  : bpfl_map_lookup_batch(m, first ? NULL : cur, cur, sizeof(cur), keys, chunk * 4, vals, chunk * vs, &n, NULL);
		CHECK(err == 0 || err == -ENOENT, "walk: %d", err);
		CHECK(n <= chunk, "n %zu", n);
		for (size_t i = 0; i < n && i < chunk; i++) {
			CHECK(keys[i] < BATCH_N && !seen[keys[i]], "key %u read twice or out of range", keys[i]);
			if (keys[i] < BATCH_N) seen[keys[i]] = 1;
			CHECK(check(keys[i], vals + i * vs, vs), "value of key %u", keys[i]);
		}
		total += n;
		first = 0;
	}
	free(keys);
	free(vals);
	return total;
}

static int check_u64(uint32_t k, const unsigned char *v, size_t vs)
{
	uint64_t x;
	memcpy(&x, v, 8);
	return vs == 8 && x == batch_val(k);
}

static int ncpus_of(size_t vs) { return (int)(vs / 8); }

static int check_percpu(uint32_t k, const unsigned char *v, size_t vs)
{
	for (int c = 0; c < ncpus_of(vs); c++) {
		uint32_t x;
		memcpy(&x, v + c * 8, 4);
		if (x != k * 16 + (uint32_t)c) return 0;
	}
	return 1;
}

static size_t batch_count_keys(struct bpfl_map m)
{
	uint32_t k, next;
	size_t n = 0;
	int first = 1;
	while (bpfl_map_next_key(m, first ? NULL : &k, &next, 4) == 0 && n < 100000) k = next, first = 0, n++;
	return n;
}

static void test_batch_map(struct bpfl_map m, int percpu, int is_array)
{
	size_t vs = 0;
	OK(bpfl_map_value_buf_size(m, &vs));
	uint32_t *keys = malloc(BATCH_N * 4);
	unsigned char *vals = calloc(BATCH_N, vs);
	for (uint32_t k = 0; k < BATCH_N; k++) {
		keys[k] = k;
		if (percpu)
			for (int c = 0; c < ncpus_of(vs); c++) {
				uint32_t x = k * 16 + (uint32_t)c;
				memcpy(vals + k * vs + c * 8, &x, 4);
			}
		else {
			uint64_t x = batch_val(k);
			memcpy(vals + k * vs, &x, 8);
		}
	}
	size_t n = BATCH_N;
	OK(bpfl_map_update_batch(m, keys, BATCH_N * 4, vals, BATCH_N * vs, &n, NULL));
	CHECK(n == BATCH_N, "updated %zu", n);
	unsigned char *v = malloc(vs);
	int bad = 0;
	for (uint32_t k = 0; k < BATCH_N; k++) {
		if (bpfl_map_lookup(m, &k, 4, v, vs) != 0) bad++;
		else if (!(percpu ? check_percpu(k, v, vs) : check_u64(k, v, vs))) bad++;
	}
	CHECK(bad == 0, "%d of %u entries wrong after update_batch", bad, BATCH_N);

	unsigned char *seen = calloc(BATCH_N, 1);
	size_t got = batch_walk(m, 777, 0, SIZE_MAX, seen, percpu ? check_percpu : check_u64);
	CHECK(got == BATCH_N, "lookup_batch walk read %zu", got);
	if (!is_array) {
		memset(seen, 0, BATCH_N);
		size_t gone = batch_walk(m, 1000, 1, 3000, seen, percpu ? check_percpu : check_u64);
		CHECK(gone >= 3000 && gone < BATCH_N, "drained %zu", gone);
		size_t nrest = 0;
		bad = 0;
		for (uint32_t k = 0; k < BATCH_N; k++) {
			int there = bpfl_map_lookup(m, &k, 4, v, vs) == 0;
			if (there == seen[k]) bad++;
			if (!seen[k]) keys[nrest++] = k;
		}
		CHECK(bad == 0, "%d keys wrong after lookup_and_delete_batch", bad);
		CHECK(batch_count_keys(m) == nrest, "%zu keys left, want %zu", batch_count_keys(m), nrest);
		n = nrest;
		OK(bpfl_map_delete_batch(m, keys, nrest * 4, &n, NULL));
		CHECK(n == nrest, "deleted %zu of %zu", n, nrest);
		CHECK(batch_count_keys(m) == 0, "map empty: %zu keys", batch_count_keys(m));
		/* An empty map: the walk ends at once. */
		uint32_t k1;
		unsigned char cur[4];
		n = 1;
		CHECK(bpfl_map_lookup_batch(m, NULL, cur, 4, &k1, 4, v, vs, &n, NULL) == -ENOENT && n == 0, "empty walk n %zu", n);
	} else {
		n = 10;
		CHECK(bpfl_map_delete_batch(m, keys, 40, &n, NULL) == -EOPNOTSUPP && n == 0, "array delete_batch n %zu", n);
		CHECK(strstr(bpfl_last_error(), "BPF_MAP_TYPE_ARRAY") != NULL, "%s", bpfl_last_error());
	}
	free(seen);
	free(v);
	free(keys);
	free(vals);
}

static void test_batch(void)
{
	struct bpfl_object o;
	struct bpfl_map hash, pch, arr, progs, rb;
	OK(bpfl_object_open_file(path("batch.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_map(o, "hash", &hash));
	OK(bpfl_object_find_map(o, "percpu_hash", &pch));
	OK(bpfl_object_find_map(o, "array", &arr));
	OK(bpfl_object_find_map(o, "progs", &progs));
	OK(bpfl_object_find_map(o, "rb", &rb));
	test_batch_map(hash, 0, 0);
	test_batch_map(pch, 1, 0);
	test_batch_map(arr, 0, 1);

	/* Partial failure: the map (12,000 entries) full after 5 of 10 new keys. */
	static uint32_t keys[12000];
	static uint64_t vals[12000];
	for (uint32_t i = 0; i < 12000; i++) keys[i] = i, vals[i] = i;
	size_t n = 11995;
	OK(bpfl_map_update_batch(hash, keys, sizeof(keys), vals, sizeof(vals), &n, NULL));
	CHECK(n == 11995, "n %zu", n);
	for (uint32_t i = 0; i < 10; i++) keys[i] = 20000 + i;
	n = 10;
	CHECK(bpfl_map_update_batch(hash, keys, 40, vals, 80, &n, NULL) == -E2BIG, "full map");
	CHECK(n == 5, "5 written before the map was full: %zu", n);
	CHECK(strstr(bpfl_last_error(), "stopped at entry 5 of 10") != NULL, "%s", bpfl_last_error());
	/* Delete: a missing key stops it after the ones before. */
	uint32_t dk[4] = { 20000, 20001, 99999, 20002 };
	n = 4;
	CHECK(bpfl_map_delete_batch(hash, dk, sizeof(dk), &n, NULL) == -ENOENT && n == 2, "delete stops at the missing key: n %zu", n);
	CHECK(batch_count_keys(hash) == 11998, "%zu keys", batch_count_keys(hash));
	/* The kernel takes no BPFL_NOEXIST in a batch: said so, nothing done. */
	struct bpfl_map_batch_opts noexist = { .sz = sizeof(noexist), .elem_flags = BPFL_NOEXIST };
	n = 2;
	CHECK(bpfl_map_update_batch(hash, dk, 8, vals, 16, &n, &noexist) == -EINVAL && n == 0, "NOEXIST n %zu", n);
	CHECK(strstr(bpfl_last_error(), "only BPF_F_LOCK") != NULL, "%s", bpfl_last_error());

	/* Sizes checked before any syscall, count reset to 0. */
	n = 4;
	CHECK(bpfl_map_update_batch(hash, keys, 15, vals, 32, &n, NULL) == -EINVAL && n == 0, "short keys");
	CHECK(strstr(bpfl_last_error(), "keys buffer is 15 bytes") != NULL, "%s", bpfl_last_error());
	n = 4;
	CHECK(bpfl_map_update_batch(hash, keys, 16, vals, 31, &n, NULL) == -EINVAL && n == 0, "short values");
	n = SIZE_MAX / 2;
	CHECK(bpfl_map_update_batch(hash, keys, 16, vals, 32, &n, NULL) == -EINVAL && n == 0, "huge count");
	unsigned char cur[4];
	n = 1;
	CHECK(bpfl_map_lookup_batch(hash, NULL, cur, 3, keys, 4, vals, 8, &n, NULL) == -EINVAL, "short cursor");
	CHECK(strstr(bpfl_last_error(), "cursor is 3 bytes") != NULL, "%s", bpfl_last_error());
	n = 1;
	size_t pvs = 0;
	OK(bpfl_map_value_buf_size(pch, &pvs));
	CHECK(bpfl_map_lookup_batch(pch, NULL, cur, 4, keys, 4, vals, pvs - 1, &n, NULL) == -EINVAL, "per-CPU values short by one");
	CHECK(strstr(bpfl_last_error(), "per-CPU") != NULL, "%s", bpfl_last_error());
	struct { struct bpfl_map_batch_opts o; uint64_t extra; } big = { { .sz = sizeof(big) }, 1 };
	n = 1;
	CHECK(bpfl_map_update_batch(hash, keys, 4, vals, 8, &n, &big.o) == -E2BIG, "unknown opts fields");

	/* Map types the kernel does not batch: said with the type. */
	n = 1;
	CHECK(bpfl_map_lookup_batch(progs, NULL, cur, 4, keys, 4, vals, 4, &n, NULL) == -EOPNOTSUPP, "prog array");
	CHECK(strstr(bpfl_last_error(), "BPF_MAP_TYPE_PROG_ARRAY") != NULL, "%s", bpfl_last_error());
	n = 1;
	CHECK(bpfl_map_update_batch(rb, keys, 4, vals, 8, &n, NULL) == -EOPNOTSUPP, "ring buffer");
	CHECK(strstr(bpfl_last_error(), "BPF_MAP_TYPE_RINGBUF") != NULL, "%s", bpfl_last_error());
	OK(bpfl_object_close(o));
	/* The handles are gone with their object. */
	n = 1;
	CHECK(bpfl_map_update_batch(hash, keys, 4, vals, 8, &n, NULL) == -EBADF, "closed object's map");
}
