/* Issue 13, included by test_capi.c: global variables and an mmapable
 * array read and written in place through bpfl_object_find_variable and
 * bpfl_map_mmap, with the pointer given before load reaching the live map
 * after it; misuse, and the pointers' end at close. */

static void *find_var(struct bpfl_object o, const char *name, size_t want)
{
	void *p = NULL;
	size_t sz = 0;
	CHECK(bpfl_object_find_variable(o, name, &p, &sz) == 0 && p, "find %s", name);
	CHECK(sz == want, "%s is %zu bytes, want %zu", name, sz, want);
	return p;
}

/* A child calls getppid n times: another tgid, not counted. */
static void getppid_in_child(int n)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < n; i++)
			syscall(SYS_getppid);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, NULL, 0) == pid, "child");
}

static void test_globals(void)
{
	struct bpfl_object o, stale;
	struct bpfl_map counts, plain, data, pinned;
	struct bpfl_program prog;
	struct bpfl_link link;
	void *p = NULL, *mm = NULL;
	size_t sz = 0, len = 0;
	char pin[128];

	OK(bpfl_object_open_file(path("globals_mmap.o"), NULL, &o));
	volatile uint32_t *tgid = find_var(o, "target_tgid", 4);
	volatile uint64_t *in = find_var(o, "value_in", 8);
	volatile uint64_t *hits = find_var(o, "hits", 8);
	CHECK(*tgid == 0 && *in == 0x1111 && *hits == 0, "initial values %u %llu %llu", *tgid, (unsigned long long)*in, (unsigned long long)*hits);
	*tgid = getpid();
	*in = 42;
	CHECK(find_var(o, "value_in", 8) == in, "stable before load");

	/* Misuse before load. */
	CHECK(bpfl_object_find_variable(o, "nope", &p, &sz) == -ENOENT, "unknown variable");
	CHECK(strstr(bpfl_last_error(), "'nope'") && strstr(bpfl_last_error(), "'globals_mmap'"), "%s", bpfl_last_error());
	CHECK(bpfl_object_find_variable(o, NULL, &p, &sz) == -EINVAL, "NULL name");
	CHECK(bpfl_object_find_variable(o, "hits", NULL, &sz) == -EINVAL, "NULL ptr");
	CHECK(bpfl_object_find_variable(o, "hits", &p, NULL) == -EINVAL, "NULL size");
	OK(bpfl_object_find_map(o, "counts", &counts));
	OK(bpfl_object_find_map(o, "plain", &plain));
	OK(bpfl_object_find_map(o, ".data", &data));
	CHECK(bpfl_map_mmap(counts, &mm, &len) == -EINVAL, "mmap before load");
	CHECK(strstr(bpfl_last_error(), "load the object first"), "%s", bpfl_last_error());
	CHECK(bpfl_map_set_value_size(data, 64) == -EBUSY, "resize after find_variable");

	/* A failed load leaves the image as it was. */
	OK(bpfl_map_set_max_entries(plain, 0));
	CHECK(bpfl_object_load(o, NULL) < 0, "load with a zero-sized map fails");
	CHECK(find_var(o, "value_in", 8) == in && *in == 42, "image kept: %llu", (unsigned long long)*in);
	OK(bpfl_map_set_max_entries(plain, 2));
	OK(bpfl_object_load(o, NULL));

	/* The same pointers, now the live maps. */
	CHECK(find_var(o, "target_tgid", 4) == tgid && *tgid == (uint32_t)getpid(), "rodata after load");
	CHECK(find_var(o, "hits", 8) == hits, "bss pointer stable");
	volatile uint64_t *out = find_var(o, "value_out", 8);
	int err;
	uint32_t zero = 0;
	CHECK(lookup_u64(data, &zero, 4, &err) == 42 && err == 0, "the image's value became the map's");
	OK(bpfl_object_find_program(o, "count_getppid", &prog));
	OK(bpfl_program_attach(prog, &link));
	getppid_in_child(5);
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getppid);
	CHECK(*hits == 1000, "hits %llu, want 1000 (the child's 5 filtered out by .rodata)", (unsigned long long)*hits);
	CHECK(*out == 42, "value_out %llu", (unsigned long long)*out);
	*in = 7;
	CHECK(lookup_u64(data, &zero, 4, &err) == 7, "a write through the pointer is the map's");
	syscall(SYS_getppid);
	CHECK(*out == 7 && *hits == 1001, "copied %llu, hits %llu", (unsigned long long)*out, (unsigned long long)*hits);

	/* The mmapable array: slot 1 counts calls, slot 2 holds value_in * 2. */
	OK(bpfl_map_mmap(counts, &mm, &len));
	volatile uint64_t *slots = mm;
	CHECK(len == 64 && slots[1] == 1001 && slots[2] == 14, "len %zu slots %llu %llu", len, (unsigned long long)slots[1], (unsigned long long)slots[2]);
	slots[5] = 0xabcd;
	uint32_t five = 5;
	CHECK(lookup_u64(counts, &five, 4, &err) == 0xabcd, "a write through the mapping is the map's");
	void *again = NULL;
	OK(bpfl_map_mmap(counts, &again, &len));
	CHECK(again == mm, "one mapping per map");
	CHECK(bpfl_map_mmap(plain, &p, &len) == -EINVAL, "not mmapable");
	CHECK(strstr(bpfl_last_error(), "map 'plain' cannot be mmap'd") && strstr(bpfl_last_error(), "BPF_F_MMAPABLE"), "%s", bpfl_last_error());
	CHECK(bpfl_map_mmap(counts, NULL, &len) == -EINVAL && bpfl_map_mmap(counts, &p, NULL) == -EINVAL, "NULL out");

	/* A handle from open_pinned has its own mapping, until it closes. */
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/bpfl-capi-globals-%d", getpid());
	OK(bpfl_map_pin(counts, pin));
	OK(bpfl_map_open_pinned(pin, &pinned));
	unlink(pin);
	OK(bpfl_map_mmap(pinned, &p, &len));
	CHECK(len == 64 && ((volatile uint64_t *)p)[5] == 0xabcd, "the pinned map's mapping");
	OK(bpfl_map_close(pinned));
	CHECK(bpfl_map_mmap(pinned, &p, &len) == -EBADF, "closed pinned handle");

	OK(bpfl_link_destroy(link));
	stale = o;
	OK(bpfl_object_close(o));
	CHECK(bpfl_object_find_variable(stale, "hits", &p, &sz) == -EBADF, "stale object");
	CHECK(bpfl_map_mmap(counts, &p, &len) == -EBADF, "stale map");
}
