/* The kernel-wide listing through the C ABI: the program, map and link this
 * test made are found by walking the ids, with the right type and name. */
#include <stddef.h>

/* The `key` number of /proc/self/fdinfo/FD (prog_id:, map_id:, link_id:). */
static uint32_t fdinfo_id(int fd, const char *key)
{
	char p[64], line[256];
	uint32_t v = 0;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = (uint32_t)strtoul(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/* Whether `want` is among the ids `next` walks from 0. */
static bool walk_finds(int (*next)(uint32_t, uint32_t *), uint32_t want)
{
	uint32_t id = 0;
	int rc;
	while ((rc = next(id, &id)) == 1)
		if (id == want)
			return true;
	CHECK(rc == 0, "walk ends with 0, not %d (%s)", rc, bpfl_last_error());
	return false;
}

static void test_loaded_listing(void)
{
	struct bpfl_object o = {0};
	struct bpfl_program p;
	struct bpfl_map m;
	struct bpfl_link l;
	int pfd = -1, mfd = -1, lfd = -1;
	OK(bpfl_object_open_file(path("seed_tp.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "enter_getppid", &p));
	OK(bpfl_program_attach(p, &l));
	OK(bpfl_program_fd(p, &pfd));
	OK(bpfl_object_find_map(o, "per_pid", &m));
	struct bpfl_map_info minfo = {.sz = sizeof(minfo)};
	OK(bpfl_map_get_info(m, &minfo));
	mfd = minfo.fd;
	OK(bpfl_link_fd(l, &lfd));
	uint32_t pid = fdinfo_id(pfd, "prog_id:"), mid = fdinfo_id(mfd, "map_id:"), lid = fdinfo_id(lfd, "link_id:");
	CHECK(pid && mid && lid, "ids from fdinfo %u %u %u", pid, mid, lid);

	CHECK(walk_finds(bpfl_loaded_program_next_id, pid), "program %u listed", pid);
	struct bpfl_loaded_program pi = {.sz = sizeof(pi)};
	OK(bpfl_loaded_program_info(pid, &pi));
	CHECK(pi.id == pid && pi.prog_type == BPF_PROG_TYPE_TRACEPOINT && strcmp(pi.name, "enter_getppid") == 0,
	      "program %u type %u name %s", pi.id, pi.prog_type, pi.name);
	CHECK(pi.xlated_len > 0 && pi.nr_map_ids >= 1 && pi.sz == sizeof(pi), "xlated %u maps %u", pi.xlated_len, pi.nr_map_ids);

	CHECK(walk_finds(bpfl_loaded_map_next_id, mid), "map %u listed", mid);
	struct bpfl_loaded_map mi = {.sz = sizeof(mi)};
	OK(bpfl_loaded_map_info(mid, &mi));
	CHECK(mi.id == mid && mi.map_type == BPF_MAP_TYPE_HASH && strcmp(mi.name, "per_pid") == 0 && mi.key_size == 4 &&
		      mi.value_size == 8 && mi.max_entries == 1024,
	      "map %u type %u name %s %u/%u/%u", mi.id, mi.map_type, mi.name, mi.key_size, mi.value_size, mi.max_entries);

	CHECK(walk_finds(bpfl_loaded_link_next_id, lid), "link %u listed", lid);
	struct bpfl_loaded_link li = {.sz = sizeof(li)};
	OK(bpfl_loaded_link_info(lid, &li));
	CHECK(li.id == lid && li.link_type == BPF_LINK_TYPE_PERF_EVENT && li.prog_id == pid, "link %u type %u prog %u", li.id, li.link_type, li.prog_id);

	/* An older caller's smaller struct gets only what it knows. */
	struct bpfl_loaded_link small = {.sz = offsetof(struct bpfl_loaded_link, prog_id)};
	small.prog_id = 77;
	OK(bpfl_loaded_link_info(lid, &small));
	CHECK(small.id == lid && small.prog_id == 77, "sized write: prog_id untouched (%u)", small.prog_id);
	CHECK(bpfl_loaded_program_info(pid, NULL) == -EINVAL, "NULL info");
	CHECK(bpfl_loaded_program_next_id(0, NULL) == -EINVAL, "NULL next_id");
	uint32_t next = 0;
	CHECK(bpfl_loaded_map_next_id(UINT32_MAX, &next) == 0, "no id after the last");
	OK(bpfl_link_destroy(l));
	CHECK(bpfl_loaded_link_info(lid, &li) == -ENOENT, "a destroyed link is gone");
	CHECK(strstr(bpfl_last_error(), "no BPF link with id") != NULL, "%s", bpfl_last_error());
	OK(bpfl_object_close(o));
}
