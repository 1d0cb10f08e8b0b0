/* C ABI check of bpfl_query_programs_ifindex (issue 11): what TCX has
 * attached to lo of a network namespace of the test's own, in run order,
 * with link ids and revision; nothing once the links are destroyed.
 * Included by test_net2.h. */
#include <pthread.h>
#include <sched.h>

static void *query_if_thread(void *arg)
{
	struct bpfl_object o = *(struct bpfl_object *)arg;
	struct bpfl_program p1, p2;
	struct bpfl_link l1, l2;
	struct bpfl_link_info i1 = { .sz = sizeof i1 }, i2 = { .sz = sizeof i2 };
	uint32_t ids[4] = { 0 }, links[4] = { 0 };
	uint64_t rev0 = 0, rev = 0, rev2 = 0;
	size_t n = 99;

	if (unshare(CLONE_NEWNET) != 0) {
		CHECK(0, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return NULL;
	}
	OK(bpfl_query_programs_ifindex(1, 46 /* BPF_TCX_INGRESS */, ids, links, 4, &n, &rev0));
	CHECK(n == 0, "a fresh lo has no TCX program: %zu", n);
	OK(bpfl_object_find_program(o, "tcx_count", &p1));
	OK(bpfl_object_find_program(o, "tc_count", &p2));
	OK(bpfl_program_attach_tcx(p1, 1, NULL, &l1));
	OK(bpfl_program_attach_tcx(p2, 1, NULL, &l2));
	OK(bpfl_link_get_info(l1, &i1));
	OK(bpfl_link_get_info(l2, &i2));
	OK(bpfl_query_programs_ifindex(1, 46, ids, links, 4, &n, &rev));
	CHECK(n == 2 && ids[0] == i1.prog_id && ids[1] == i2.prog_id, "both in order: %zu [%u %u] want [%u %u]", n, ids[0], ids[1], i1.prog_id, i2.prog_id);
	CHECK(links[0] == i1.id && links[1] == i2.id, "their links: [%u %u] want [%u %u]", links[0], links[1], i1.id, i2.id);
	CHECK(rev > rev0, "two attaches moved the revision: %llu then %llu", (unsigned long long)rev0, (unsigned long long)rev);
	/* Room for one: the first id, and the count of all. */
	memset(ids, 0, sizeof ids);
	OK(bpfl_query_programs_ifindex(1, 46, ids, NULL, 1, &n, NULL));
	CHECK(n == 2 && ids[0] == i1.prog_id && ids[1] == 0, "capacity 1: %zu [%u %u]", n, ids[0], ids[1]);
	OK(bpfl_query_programs_ifindex(1, 47 /* BPF_TCX_EGRESS */, NULL, NULL, 0, &n, NULL));
	CHECK(n == 0, "egress has none: %zu", n);
	OK(bpfl_link_destroy(l1));
	OK(bpfl_query_programs_ifindex(1, 46, ids, links, 4, &n, &rev2));
	CHECK(n == 1 && ids[0] == i2.prog_id && links[0] == i2.id && rev2 > rev, "the second left: %zu [%u], revision %llu",
	      n, ids[0], (unsigned long long)rev2);
	OK(bpfl_link_destroy(l2));
	OK(bpfl_query_programs_ifindex(1, 46, ids, links, 4, &n, NULL));
	CHECK(n == 0, "none after destroy: %zu", n);
	CHECK(bpfl_query_programs_ifindex(999999, 46, ids, links, 4, &n, NULL) == -ENOENT &&
		      strstr(bpfl_last_error(), "no such interface"), "unknown interface: %s", bpfl_last_error());
	CHECK(bpfl_query_programs_ifindex(1, 0, ids, links, 4, &n, NULL) == -EINVAL &&
		      strstr(bpfl_last_error(), "only TCX and netkit"), "a cgroup type by ifindex: %s", bpfl_last_error());
	CHECK(bpfl_query_programs_ifindex(1, 46, ids, links, 4, NULL, NULL) == -EINVAL, "NULL out_count");
	CHECK(bpfl_query_programs_ifindex(1, 46, NULL, links, 4, &n, NULL) == -EINVAL, "NULL prog_ids with room");
	return NULL;
}

static void test_query_ifindex(void)
{
	struct bpfl_object o;
	pthread_t t;

	OK(bpfl_object_open_file(path("net.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	size_t n;
	int r = bpfl_query_programs_ifindex(1, 46, NULL, NULL, 0, &n, NULL);
	if (r == -EOPNOTSUPP) {
		CHECK(strstr(bpfl_last_error(), "needs Linux 6.6") != NULL, "%s", bpfl_last_error());
		printf("SKIPPED: bpfl_query_programs_ifindex: %s\n", bpfl_last_error());
	} else {
		pthread_create(&t, NULL, query_if_thread, &o);
		pthread_join(t, NULL);
	}
	OK(bpfl_object_close(o));
}
