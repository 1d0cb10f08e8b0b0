/* C ABI checks of cgroup and socket attachments and prog-array slots (issue
 * 11), included by test_capi.c: the kernel's behaviour itself is checked in
 * depth by tests/kernel/cgroup.rs; here, that each call does it through the
 * C ABI and that destroying a link leaves nothing attached. */
#include <sys/socket.h>

/* Datagrams waiting on `fd`, without blocking; the first byte of each into `first`. */
static int drain(int fd, char *first, int cap)
{
	char buf[64];
	int n = 0;
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		if (n < cap)
			first[n++] = buf[0];
	return n;
}

static void test_cgroup_sock(void)
{
	struct bpfl_object o;
	struct bpfl_program drop_x, dispatch, target, egress, sk_msg;
	struct bpfl_map jump, counts, socks;
	struct bpfl_link l;
	int sv[2], err;
	char got[8];
	uint32_t zero = 0;

	OK(bpfl_object_open_file(path("cgroup_sock.o"), NULL, &o));
	OK(bpfl_object_load(o, NULL));
	OK(bpfl_object_find_program(o, "drop_x", &drop_x));
	OK(bpfl_object_find_program(o, "dispatch", &dispatch));
	OK(bpfl_object_find_program(o, "target_drop", &target));
	OK(bpfl_object_find_program(o, "egress_count", &egress));
	OK(bpfl_object_find_program(o, "msg_redirect", &sk_msg));
	OK(bpfl_object_find_map(o, "jump", &jump));
	OK(bpfl_object_find_map(o, "counts", &counts));
	OK(bpfl_object_find_map(o, "socks", &socks));

	/* A socket filter on a socketpair drops the 'x' datagrams, then is gone. */
	OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	OK(bpfl_program_attach_socket(drop_x, sv[1], NULL, &l));
	CHECK(send(sv[0], "xa", 2, 0) == 2 && send(sv[0], "ok", 2, 0) == 2, "send");
	CHECK(drain(sv[1], got, 8) == 1 && got[0] == 'o', "only 'ok' arrived");
	uint32_t k = 3;
	CHECK(lookup_u64(counts, &k, 4, &err) == 1, "one drop counted");
	OK(bpfl_link_destroy(l));
	CHECK(send(sv[0], "xb", 2, 0) == 2 && drain(sv[1], got, 8) == 1 && got[0] == 'x', "after destroy, 'x' arrives");
	CHECK(bpfl_program_attach_socket(drop_x, -1, NULL, &l) == -EBADF, "bad socket fd");
	CHECK(bpfl_program_attach_socket(egress, sv[1], NULL, &l) == -EINVAL, "a cgroup program on a socket");
	CHECK(strstr(bpfl_last_error(), "egress_count") != NULL, "%s", bpfl_last_error());

	/* A dispatcher: the tail call lands once the slot is set, not after it is cleared. */
	OK(bpfl_program_attach_socket(dispatch, sv[1], NULL, &l));
	OK(bpfl_map_set_prog(jump, 0, target));
	CHECK(send(sv[0], "1", 1, 0) == 1 && drain(sv[1], got, 8) == 0, "slot set: dropped by the target");
	OK(bpfl_map_clear_slot(jump, 0));
	CHECK(bpfl_map_clear_slot(jump, 0) == -ENOENT, "clearing an empty slot");
	CHECK(send(sv[0], "2", 1, 0) == 1 && drain(sv[1], got, 8) == 1, "slot cleared: passes");
	k = 5;
	CHECK(lookup_u64(counts, &k, 4, &err) == 1, "target ran once");
	CHECK(bpfl_map_set_prog(counts, 0, target) == -EINVAL, "not a prog array");
	OK(bpfl_link_destroy(l));
	close(sv[0]);
	close(sv[1]);

	/* A cgroup of our own: link and BPF_PROG_ATTACH, each gone on destroy. */
	char cg[256] = "", line[512];
	FILE *m = fopen("/proc/mounts", "r");
	while (m && fgets(line, sizeof line, m)) {
		char dev[128], mnt[200], type[32];
		if (sscanf(line, "%127s %199s %31s", dev, mnt, type) == 3 && strcmp(type, "cgroup2") == 0) {
			snprintf(cg, sizeof cg, "%s/bpfl-capi-%d", mnt, (int)getpid());
			break;
		}
	}
	if (m)
		fclose(m);
	if (!cg[0] || mkdir(cg, 0755) != 0) {
		printf("SKIPPED: C ABI cgroup checks: no cgroup2 mount\n");
	} else {
		int cfd = open(cg, O_RDONLY | O_DIRECTORY);
		size_t n = 9;
		uint32_t ids[4];
		for (uint32_t via = BPFL_VIA_AUTO; via <= BPFL_VIA_PROG_ATTACH; via++) {
			BPFL_OPTS(bpfl_cgroup_opts, co, .via = via);
			OK(bpfl_program_attach_cgroup_path(egress, cg, &co, &l));
			OK(bpfl_query_programs(cfd, 1 /* BPF_CGROUP_INET_EGRESS */, ids, 4, &n));
			CHECK(n == 1, "one program attached (via %u): %zu", via, n);
			OK(bpfl_link_destroy(l));
			OK(bpfl_query_programs(cfd, 1, NULL, 0, &n));
			CHECK(n == 0, "none after destroy (via %u): %zu", via, n);
		}
		OK(bpfl_program_attach_cgroup(egress, cfd, NULL, &l));
		OK(bpfl_object_close(o)); /* closing the object detaches its links */
		OK(bpfl_query_programs(cfd, 1, NULL, 0, &n));
		CHECK(n == 0, "none after the object closed: %zu", n);
		close(cfd);
		rmdir(cg);
		OK(bpfl_object_open_file(path("cgroup_sock.o"), NULL, &o));
		OK(bpfl_object_load(o, NULL));
		OK(bpfl_object_find_program(o, "egress_count", &egress));
	}
	BPFL_OPTS(bpfl_cgroup_opts, bad, .via = 7);
	CHECK(bpfl_program_attach_cgroup_path(egress, "/sys/fs/cgroup", &bad, &l) == -EINVAL, "bad via");
	CHECK(bpfl_program_attach_cgroup_path(egress, "/nonexistent/cg", NULL, &l) == -ENOENT, "missing cgroup");
	CHECK(bpfl_program_attach(egress, &l) < 0 && strstr(bpfl_last_error(), "attach_cgroup") != NULL, "no auto attach: %s", bpfl_last_error());
	OK(bpfl_object_find_program(o, "msg_redirect", &sk_msg));
	OK(bpfl_object_find_map(o, "jump", &jump));
	CHECK(bpfl_program_attach_sockmap(sk_msg, jump, NULL, &l) == -EINVAL, "a prog array is no sockmap");
	(void)zero;
	(void)socks;
	OK(bpfl_object_close(o));
}
